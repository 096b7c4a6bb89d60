"""Reproduces the post-write stall: seeds 1k rows, runs S4, S5, then S7 twice on one server,
sampling thread CPU and the WAL size, and takes every thread's stack with gdb as S7 starts
(stacks-during-s7.txt). Run from the repository root after `cargo build --release -p partnerd
-p partnerd-bench`: python3 bench/results/2026-12-02-stall/reproduce.py"""
import sys, os, json, subprocess, tempfile, time, threading
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import run as b

class A: pass
args = A(); args.backend = "sqlite"; args.postgres_url = ""; args.quick = True; args.seconds = 2; args.connections = 64
tmp = tempfile.mkdtemp(prefix="stall-")
n = 1000
database = b.fresh_database("sqlite", "", tmp, n)
config = os.path.join(tmp, "config.toml"); open(config, "w").write(b.CONFIG)
seed_file = os.path.join(tmp, "seed.json")
b.run([os.path.join(b.RELEASE, "partnerd-bench"), "seed", "--database", database, "--config", config,
       "--listings", str(n), "--opportunities", str(n), "--webhooks", "20", "--customers", str(n), "--leads", str(n), "--subscriptions", str(n), "--out", seed_file])
seed = json.load(open(seed_file))
def ids(name, key):
    path = os.path.join(tmp, name); open(path, "w").write("\n".join(seed[key])); return path
env = {**os.environ, "BENCH_KEY": seed["api_key"], "BENCH_LISTING_IDS": ids("l", "listing_ids"),
       "BENCH_OPPORTUNITY_IDS": ids("o", "opportunity_ids"), "BENCH_COSELL_PARTNER": seed["cosell_partner_id"],
       "BENCH_PAGES": "50", "BENCH_CUSTOMER_PAGES": "50", "BENCH_THREADS": "2"}
server = b.Server(database, config, env)
pid = server.proc.pid
print("server pid", pid, flush=True)
stop = False
def sampler():
    t0 = time.time()
    while not stop:
        t = time.time() - t0
        out = subprocess.run(["ps", "-L", "-o", "tid,stat,pcpu,comm", "-p", str(pid)], capture_output=True, text=True).stdout
        busy = [l for l in out.splitlines()[1:] if float(l.split()[2]) > 5]
        wal = os.path.getsize(database[len("sqlite://"):] + "-wal") if os.path.exists(database[len("sqlite://"):] + "-wal") else 0
        print(f"{t:6.2f}s wal={wal/1e6:.1f}MB " + " | ".join(" ".join(l.split()) for l in busy), flush=True)
        time.sleep(0.25)
th = threading.Thread(target=sampler); th.start()
try:
    for name, script in [("S4", "s4_create.lua"), ("S5", "s5_patch.lua"), ("S7", "s7_customers.lua"), ("S7b", "s7_customers.lua")]:
        t = time.time()
        r = b.wrk(script, server.base, 2, 64, env)
        print(f"== {name} {r['rps']:.0f} req/s p50 {r['p50_ms']} max {r['max_ms']} ({time.time()-t:.1f}s)", flush=True)
        if name == "S5":
            # stacks of every thread right as S7 starts
            subprocess.Popen(["bash", "-c", f"sleep 0.6; gdb -p {pid} -batch -ex 'thread apply all bt 12' > stacks.txt 2>&1"])
finally:
    stop = True; th.join(); server.stop()
