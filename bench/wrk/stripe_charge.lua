-- POST /stripe/v1/charges, each on its own chargeable source (the ids stripe_source.lua wrote), as
-- stripe-python sends it. wrk ... -- NONCE IDS_FILE FIRST   (FIRST: the 1-based line to start from)
dofile("common.lua")

wrk.method = "POST"
wrk.path = "/stripe/v1/charges"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Stripe-Version"] = "2026-10-28.endive"  -- what stripe-python 16.1.0 sends

local sources = {}
local next_source
function init(args)
  nonce = args[1] or "run"
  for line in io.lines(args[2]) do
    sources[#sources + 1] = line
  end
  next_source = tonumber(args[3] or "1")
end

function request()
  -- Past the last source, a charge reuses a consumed one: Stripe's 400, counted as an error.
  local source = sources[next_source] or sources[#sources]
  next_source = next_source + 1
  wrk.headers["Idempotency-Key"] = idempotency_key()
  wrk.body = "amount=1000&currency=eur&source=" .. source
  return wrk.format()
end
