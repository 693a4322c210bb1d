-- Baseline (b): POST a 10-field JSON body that FastAPI parses into a Pydantic model.
dofile("common.lua")

wrk.method = "POST"
wrk.path = "/model"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"amount":1000,"currency":"EUR","method":"sofort","country":"DE","return_url":"https://shop.example/r",' ..
  '"cancel_url":"https://shop.example/c","description":"Order 1001","reference":"1001","capture":"automatic",' ..
  '"expires_in":3600}'
