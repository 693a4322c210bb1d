-- Baseline (e): POST a native webhook-sized JSON body to the bench receiver (path /baseline, not counted).
dofile("common.lua")

wrk.method = "POST"
wrk.path = "/baseline"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["webhook-id"] = "evt_01JBENCHBASELINE0000000000"
wrk.headers["webhook-timestamp"] = "1700000000"
wrk.headers["webhook-signature"] = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
wrk.body = '{"id":"evt_01JBENCHBASELINE0000000000","object":"event","type":"payment.succeeded","created_at":' ..
  '"2026-01-01T00:00:00Z","data":{"object":{"id":"pay_01JBENCHBASELINE0000000000","object":"payment",' ..
  '"status":"succeeded","amount":1000,"currency":"EUR","method":"sofort","country":"DE"}}}'
