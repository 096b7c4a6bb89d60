#!/usr/bin/env python3
"""Profiles one scenario of the benchmark against an already seeded database.

    python3 bench/profile.py --database sqlite:///tmp/b/bench.db --seed /tmp/b/seed.json S2 [S3 …]

Seed first with the harness's own seeder (`partnerd-bench seed … --out seed.json`, as
bench/run.py does). For each scenario: starts the release server, warms it with wrk for 3 s,
then records the server with `perf record -g` (DWARF unwinding) while wrk drives it, and writes
`<scenario>.svg` (a flamegraph, with inferno), `<scenario>.folded` (the collapsed
stacks, for `bench/shares.py`), `<scenario>.txt` (the top of `perf report`, self time),
`<scenario>.children.txt` (inclusive shares: each frame with what it called) and
`<scenario>.wrk.json` (what wrk measured meanwhile) to --out.

S6 (webhook fan-out) is driven by `partnerd-bench fanout`, as the harness does: a burst, then
changes at 1,000/s. It is recorded machine-wide (`perf record -a`), because on PostgreSQL the
database's own processes share the two cores with the server and the load, and
`S6.processes.txt` splits the samples by process; `S6.fanout.json` is what the fan-out
measured meanwhile.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the harness: its server, wrk driver and config)

SCRIPTS = {"S0": "s0_healthz.lua", "S1": "s1_profile.lua", "S2": "s2_listing.lua", "S3": "s3_page.lua", "S4": "s4_create.lua",
           "S5": "s5_patch.lua", "S7": "s7_customers.lua", "S8": "s8_usage.lua", "S9": "s9_leads.lua",
           "S10": "s10_subscribe.lua", "S11": "s11_quote.lua", "S12": "s12_quotes.lua", "S3-deep": "s3_page.lua"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", required=True)
    p.add_argument("--seed", required=True, help="the seeder's --out file")
    p.add_argument("--out", default=os.path.join(run.ROOT, "bench", "results", "profiles"))
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("scenarios", nargs="+")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    seed = json.load(open(args.seed))
    tmp = tempfile.mkdtemp(prefix="partnerd-profile-")
    files = {}
    for key, name in [("listing_ids", "BENCH_LISTING_IDS"), ("opportunity_ids", "BENCH_OPPORTUNITY_IDS"),
                      ("customer_ids", "BENCH_CUSTOMER_IDS"), ("store_targets", "BENCH_STORE_TARGETS"),
                      ("store_plans", "BENCH_STORE_PLANS")]:
        path = os.path.join(tmp, key + ".txt")
        open(path, "w").write("\n".join(seed.get(key, [])))
        files[name] = path
    config = os.path.join(tmp, "config.toml")
    open(config, "w").write(run.CONFIG)
    active_pages = max(1, seed["active_listings"] // 20)
    env = {**os.environ, **files, "BENCH_KEY": seed["api_key"], "BENCH_COSELL_PARTNER": seed["cosell_partner_id"],
           "BENCH_PAGES": str(min(100, active_pages)), "BENCH_OPERATOR_KEY": seed.get("operator_key") or "",
           "BENCH_USAGE_BATCH": str(run.USAGE_BATCH), "BENCH_LEAD_KEY": seed.get("lead_manager_key", ""),
           "BENCH_LEAD_COMPANY": seed.get("lead_manager_company_id", ""),
           "BENCH_LEAD_PAGES": str(min(100, max(1, seed.get("leads_visible", 50) // 50))),
           "BENCH_CUSTOMER_PAGES": "100", "BENCH_STORE_KEY": seed.get("store_key", ""),
           "BENCH_STORE_FROM": str(seed.get("subscriptions", 0) + int(time.time()) % 100000 * 10), "BENCH_THREADS": "2"}
    server = run.Server(args.database, config, os.environ)
    try:
        for name in args.scenarios:
            if name == "S6":
                profile_fanout(args, seed, server, config, tmp, files["BENCH_LISTING_IDS"])
                continue
            e = dict(env)
            if name == "S3-deep":
                e.update({"BENCH_PAGES": str(active_pages), "BENCH_PAGE_FROM": "1"})
            script = SCRIPTS[name]
            run.wrk(script, server.base, 3, args.connections, e)
            data = os.path.join(tmp, name + ".perf")
            perf = subprocess.Popen(["perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-o", data,
                                     "-p", str(server.proc.pid), "--", "sleep", str(args.seconds)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            measured = run.wrk(script, server.base, args.seconds, args.connections, e)
            perf.wait()
            json.dump(measured, open(os.path.join(args.out, name + ".wrk.json"), "w"), indent=2)
            open(os.path.join(args.out, name + ".txt"), "w").write(
                perf_report(data, "--no-children", "--percent-limit", "0.7", "--sort", "dso,symbol"))
            # Inclusive shares (a frame and everything it called), without inferno: what a
            # flamegraph shows as widths, as text.
            write_children(os.path.join(args.out, name + ".children.txt"),
                           perf_report(data, "--children", "--percent-limit", "2", "--sort", "symbol"))
            if shutil.which("inferno-collapse-perf"):
                script_out = subprocess.run(["perf", "script", "-i", data], capture_output=True).stdout
                folded = subprocess.run(["inferno-collapse-perf"], input=script_out, capture_output=True).stdout
                open(os.path.join(args.out, name + ".folded"), "wb").write(folded)
                svg = subprocess.run(["inferno-flamegraph", "--title", f"partnerd {name}"], input=folded,
                                     capture_output=True).stdout
                open(os.path.join(args.out, name + ".svg"), "wb").write(svg)
            run.log(f"{name}: {measured['rps']:.0f} req/s while profiled; written to {args.out}")
    finally:
        server.stop()
        if not os.environ.get("PROFILE_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            run.log(f"perf data kept in {tmp}")


def perf_report(data, *options):
    """`perf report` of a recording as text, without call chains."""
    return subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none", *options], capture_output=True,
                          text=True).stdout


def write_children(path, report):
    """An inclusive report with its lines cut to a readable width (template symbols run long)."""
    open(path, "w").write("\n".join(line.rstrip()[:240] for line in report.splitlines()) + "\n")


def profile_fanout(args, seed, server, config, tmp, ids_file):
    out = os.path.join(args.out, "S6.fanout.json")
    # A short burst, then the latency phase: the recording covers the latency phase's middle.
    # PROFILE_BURST sets the burst's size (the harness's S6 uses 20,000).
    burst = int(os.environ.get("PROFILE_BURST", "2000"))
    fanout = subprocess.Popen(run.fanout_command(args.database, config, seed, server.base, ids_file, burst,
                                                 args.seconds + 6, out))
    time.sleep(4)
    data = os.path.join(tmp, "S6.perf")
    subprocess.run(["perf", "record", "-q", "-a", "-F", "299", "--call-graph", "dwarf,8192", "-o", data, "--",
                    "sleep", str(args.seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if fanout.wait() != 0:
        raise SystemExit("the fan-out failed")
    processes = perf_report(data, "--no-children", "--percent-limit", "0.5", "--sort", "pid,dso")
    # Threads are named by their runtime (the server's and the load's are both tokio's): say
    # which process is which.
    open(os.path.join(args.out, "S6.processes.txt"), "w").write(
        f"# the server is pid {server.proc.pid}, the load (partnerd-bench fanout) pid {fanout.pid}\n" + processes)
    open(os.path.join(args.out, "S6.txt"), "w").write(
        perf_report(data, "--no-children", "--percent-limit", "0.5", "--sort", "comm,dso,symbol"))
    write_children(os.path.join(args.out, "S6.children.txt"),
                   perf_report(data, "--children", "--percent-limit", "1", "--pid", str(server.proc.pid),
                               "--sort", "symbol"))
    measured = json.load(open(out))
    run.log(f"S6: {measured['deliveries_per_second']:.0f} deliveries/s in the burst, p99 "
            f"{measured['latency_p99_ms']:.1f} ms at 1,000/s; written to {args.out}")


if __name__ == "__main__":
    main()
