-- S11: a reseller makes opportunities (`POST /appReseller/v1/opportunities`): for a user of one
-- of its customer companies (S10's seed), one item of an edition plan, priced from the catalog
-- and written durably with its events (and a lead lookup for the company) in one transaction.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local targets = read_lines(os.getenv("BENCH_STORE_TARGETS"))
local plans = read_lines(os.getenv("BENCH_STORE_PLANS"))
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
local counter = 0
wrk.method = "POST"
wrk.path = "/api/appReseller/v1/opportunities"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_STORE_KEY")
wrk.headers["Content-Type"] = "application/json"

request = function()
  local n = counter * nthreads + (tid or 0)
  counter = counter + 1
  local company_id, user_id = targets[(n % #targets) + 1]:match("(%S+) (%S+)")
  local plan = plans[(n % #plans) + 1]
  local body = string.format(
    '{"customerCompanyId":"%s","customerId":"%s","name":"Bench quote %d","items":[{"pricingPlanId":"%s","units":[{"quantity":"%d","unit":"USER"}]}]}',
    company_id, user_id, n, plan, 1 + n % 20)
  return wrk.format(nil, nil, nil, body)
end
