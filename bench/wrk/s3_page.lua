dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
-- Pages 1..BENCH_PAGES of the active listings (BENCH_PAGE_FROM shifts the range, for deep pages).
local pages = tonumber(os.getenv("BENCH_PAGES"))
local from = tonumber(os.getenv("BENCH_PAGE_FROM") or "1")
request = function()
  seed_random()
  return wrk.format("GET", "/api/v1/partners/listings?status=active&page=" .. (from + math.random(pages) - 1))
end
