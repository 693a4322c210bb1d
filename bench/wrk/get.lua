-- GET the URL given to wrk (read payment, baseline a), with the sandbox secret key.
dofile("common.lua")
