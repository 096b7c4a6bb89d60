dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
-- Moves opportunities to in_progress and changes their value: a write and timeline events each time.
local ids = read_lines(os.getenv("BENCH_OPPORTUNITY_IDS"))
wrk.headers["Content-Type"] = "application/json"
request = function()
  seed_random()
  local body = string.format('{"status":"in_progress","deal_value":%d}', 1000 + math.random(100000))
  return wrk.format("PATCH", "/api/v1/partners/cosell/opportunities/" .. ids[math.random(#ids)], nil, body)
end
