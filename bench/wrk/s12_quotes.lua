-- S12: the reseller's opportunities as its dashboard pages them
-- (`GET /appReseller/v1/opportunities?number=…&size=10`, newest first, with the total): a random
-- page of the newest 100, after S11 made them.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_STORE_KEY")
request = function()
  seed_random()
  return wrk.format("GET", "/api/appReseller/v1/opportunities?size=10&number=" .. math.random(100))
end
