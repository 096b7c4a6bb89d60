dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
-- Keyset pages of the active listings: each request starts after one of BENCH_CURSORS, cursors
-- the seed took every few pages on a walk over all of them (so from the newest to the oldest).
local cursors = read_lines(os.getenv("BENCH_CURSORS"))
request = function()
  seed_random()
  return wrk.format("GET", "/api/v1/partners/listings?status=active&cursor=" .. cursors[math.random(#cursors)])
end
