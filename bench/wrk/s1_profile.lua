dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
wrk.path = "/api/v1/partners/profile"
