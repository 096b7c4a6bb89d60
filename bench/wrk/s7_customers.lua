-- S7: the reseller's customer list, a random page of the newest BENCH_CUSTOMER_PAGES (limit 20).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local pages = tonumber(os.getenv("BENCH_CUSTOMER_PAGES") or "1")
request = function()
  seed_random()
  local offset = (math.random(pages) - 1) * 20
  return wrk.format("GET", "/api/v1/partners/customers?limit=20&offset=" .. offset)
end
