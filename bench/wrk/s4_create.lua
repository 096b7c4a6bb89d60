dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local partner = os.getenv("BENCH_COSELL_PARTNER")
wrk.method = "POST"
wrk.path = "/api/v1/partners/cosell/opportunities"
wrk.headers["Content-Type"] = "application/json"
request = function()
  seed_random()
  local body = string.format('{"customer_name":"Bench Customer %d","deal_value":%d,"partner_id":"%s","description":"Benchmark deal"}',
    math.random(1000000), 1000 + math.random(100000), partner)
  return wrk.format(nil, nil, nil, body)
end
