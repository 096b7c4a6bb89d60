-- S10: a reseller buys subscriptions (`POST /appReseller/v1/subscriptions`). A company holds one
-- live subscription per edition, so each request buys a (company, edition) pair no request has
-- bought: purchase number BENCH_STORE_FROM + counter × threads + thread, company = number mod
-- companies, edition = number div companies (as `bench/src/subscriptions.rs::pair`).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local targets = read_lines(os.getenv("BENCH_STORE_TARGETS"))
local plans = read_lines(os.getenv("BENCH_STORE_PLANS"))
local from = tonumber(os.getenv("BENCH_STORE_FROM") or "0")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
local counter = 0
wrk.method = "POST"
wrk.path = "/api/appReseller/v1/subscriptions"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_STORE_KEY")
wrk.headers["Content-Type"] = "application/json"

request = function()
  local n = from + counter * nthreads + (tid or 0)
  counter = counter + 1
  local company = n % #targets
  local edition = math.floor(n / #targets)
  local company_id, user_id = targets[company + 1]:match("(%S+) (%S+)")
  local plan = plans[(edition % #plans) + 1]
  local body = string.format(
    '{"paymentPlanId":"%s","targetCompanyId":"%s","targetUserId":"%s","orderLines":[{"quantity":"%d","unit":"USER"}]}',
    plan, company_id, user_id, 1 + n % 20)
  return wrk.format(nil, nil, nil, body)
end
