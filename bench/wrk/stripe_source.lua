-- POST /stripe/v1/sources as stripe-python sends it (form-encoded, an Idempotency-Key on every POST);
-- the owner's magic email makes each source chargeable 3 s later (the seed's test values).
-- wrk ... -- NONCE IDS_FILE   (each created source's id is appended to IDS_FILE for stripe_charge.lua)
dofile("common.lua")

wrk.method = "POST"
wrk.path = "/stripe/v1/sources"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Stripe-Version"] = "2026-10-28.endive"  -- what stripe-python 16.1.0 sends
wrk.body = "type=sofort&amount=1000&currency=eur&redirect[return_url]=https%3A%2F%2Fshop.example%2Fr"
  .. "&sofort[country]=DE&owner[email]=bench_chargeable%40example.com"

local ids
function init(args)
  nonce = args[1] or "run"
  ids = assert(io.open(args[2], "a"))
end

function request()
  wrk.headers["Idempotency-Key"] = idempotency_key()
  return wrk.format()
end

function response(status, headers, body)
  local id = string.match(body, '"id"%s*:%s*"(src_[^"]+)"')
  if status == 200 and id then
    ids:write(id, "\n")
    ids:flush()
  end
end
