-- POST /api/v1/payments with a unique Idempotency-Key on every request, as real SDKs send.
-- wrk ... -- NONCE   (NONCE keeps keys unique across runs against the same database)
dofile("common.lua")

wrk.method = "POST"
wrk.path = "/api/v1/payments"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"amount":1000,"currency":"EUR","method":"sofort","country":"DE","return_url":"https://shop.example/r"}'

function init(args)
  nonce = args[1] or "run"
end

function request()
  wrk.headers["Idempotency-Key"] = idempotency_key()
  return wrk.format()
end
