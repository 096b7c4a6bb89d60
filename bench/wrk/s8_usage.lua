-- S8: the operator's usage ingestion. Each request is one batch of BENCH_USAGE_BATCH new
-- records (unique ids per thread) over the seeded customers: mostly messages on every channel,
-- some API requests with errors, workflow executions and storage samples.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_OPERATOR_KEY")
wrk.headers["Content-Type"] = "application/json"
wrk.method = "POST"
wrk.path = "/api/v1/partners/usage/records"
local batch = tonumber(os.getenv("BENCH_USAGE_BATCH") or "100")
local customers = read_lines(os.getenv("BENCH_CUSTOMER_IDS"))
local channels = { "email", "sms", "whatsapp", "voice", "push", "in_app", "slack" }
local tag = nil
local counter = 0

request = function()
  seed_random()
  if not tag then tag = string.format("%08x", math.random(0, 0x7fffffff)) end
  local at = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    local id = tag .. "-" .. counter
    local c = customers[math.random(#customers)]
    local k = counter % 10
    local r
    if k < 7 then
      r = string.format('{"id":"%s","customer_id":"%s","metric":"messages","channel":"%s","quantity":%d,"occurred_at":"%s"}',
        id, c, channels[math.random(#channels)], math.random(1, 20), at)
    elseif k == 7 then
      r = string.format('{"id":"%s","customer_id":"%s","metric":"api_requests","quantity":100,"errors":%d,"occurred_at":"%s"}',
        id, c, math.random(0, 5), at)
    elseif k == 8 then
      r = string.format('{"id":"%s","customer_id":"%s","metric":"workflow_executions","quantity":%d,"occurred_at":"%s"}',
        id, c, math.random(1, 5), at)
    else
      r = string.format('{"id":"%s","customer_id":"%s","metric":"storage_bytes","quantity":%d,"occurred_at":"%s"}',
        id, c, math.random(1000000, 9000000), at)
    end
    parts[i] = r
  end
  return wrk.format(nil, nil, nil, '{"records":[' .. table.concat(parts, ",") .. ']}')
end
