-- S9: a reseller manager's view of the Leads API: a random page (size 50, newest first) of the
-- newest BENCH_LEAD_PAGES, with the key and company of the manager.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_LEAD_KEY")
local pages = tonumber(os.getenv("BENCH_LEAD_PAGES") or "1")
local company = os.getenv("BENCH_LEAD_COMPANY")
request = function()
  seed_random()
  local page = math.random(pages) - 1
  return wrk.format("GET", "/api/lead/v2/leads?context=RESELLER_MANAGER&companyId=" .. company .. "&size=50&page=" .. page)
end
