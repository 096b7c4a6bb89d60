dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local ids = read_lines(os.getenv("BENCH_LISTING_IDS"))
request = function()
  seed_random()
  return wrk.format("GET", "/api/v1/partners/listings/" .. ids[math.random(#ids)])
end
