-- GET /api/v1/payments/{id} of a random payment among the ids listed in a file, one per line.
-- wrk ... -- IDS_FILE
dofile("common.lua")

local ids = {}
function init(args)
  for line in io.lines(args[1]) do
    ids[#ids + 1] = line
  end
  math.randomseed(os.time() + (tid or 0))
end

function request()
  return wrk.format("GET", "/api/v1/payments/" .. ids[math.random(#ids)])
end
