#!/usr/bin/env python3
"""fork.py: the default configuration's cost (issue 12, target 3). The same ingest as bench.py (wrk ->
lighttpd -> 8 kanca responders -> store, unique signed stock.updated requests, every 2xx checked to be
exactly one row), with processing = off beside processing = fork and no action, on PostgreSQL and on
SQLite, at 4 and 64 connections, the two modes alternating run by run (3 runs each, medians), so
that both see the same machine. Printed: req/s and p99 of each, fork/off ratios, the processing
backlog at the end of each fork run (events not yet processed) and the processors' CPU per request.

    bench/fork.sh [--duration S] [--runs N] [--quick] [--procs N]

Everything listens on 127.0.0.1 or unix sockets in a temporary directory; every run is bounded in
time (wrk -d) and in count (the request file)."""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402


_groups = B.Cpu.groups


def groups_with_processors(self):
    """bench.py's CPU groups plus the processors (the responders' children)"""
    g = _groups(self)
    s = self.stack
    resp = set(g["kanca"])
    g["processors"] = ([p for p in B.descendants_of(s.light.pid) if p not in resp and p != s.light.pid]
                       if s.light and s.light.poll() is None else [])
    return g


B.Cpu.groups = groups_with_processors


def cpu_us(r, k):
    return 1e6 * r["cpu"].get(k, 0.0) / max(1, r["c2xx"])


def fork_conf(stack, conf_off, name):
    """conf_off's configuration with processing = fork (the default), same store and source"""
    path = os.path.join(stack.tmp, "kanca-%s-fork.conf" % name)
    with open(conf_off) as f:
        text = f.read().replace("processing = off\n", "processing = fork\n")
    with open(path, "w") as f:
        f.write(text)
    return path


def unprocessed(stack, store, sqpath, prefix):
    sql = ("SELECT count(*) FROM events WHERE idempotency_key LIKE '%s-%%' AND status <> 'processed'" % prefix)
    if store == "pg":
        return int(stack.psql(sql))
    import sqlite3
    db = sqlite3.connect(sqpath, timeout=30)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def measure(stack, store, conf, mode, conns, D, n, count_fn, tag, sqpath):
    stack.start_lighttpd("%s-%s-%s" % (store, mode, tag), conf, stack.args.procs)
    try:
        sampler = B.RssSampler(stack.kanca_pids)
        sampler.start()
        B.kanca_run(stack, sampler, B.Results(), "warmup", store, conns, 1, 5000, "stock", count_fn, "w" + tag)
        r = B.kanca_run(stack, sampler, B.Results(), mode, store, conns, D, n, "stock", count_fn, tag)
        sampler.stop()
        r["backlog"] = unprocessed(stack, store, sqpath, r["prefix"]) if mode == "fork" else 0
        procs = [p for p in B.descendants_of(stack.light.pid) if p not in stack.kanca_pids()]
        r["nprocessors"] = len(procs)
        r["cpu"]["other"] = max(0.0, r["cpu"]["other"] - r["cpu"].get("processors", 0.0))
    finally:
        stack.stop_lighttpd()
    return r


def main():
    ap = argparse.ArgumentParser(description="processing = fork against processing = off (figures, not a test)")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="3 s runs, 1 of each")
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--stores", default="pg,sqlite")
    ap.add_argument("--output", default=os.path.join(HERE, "results-fork.txt"))
    args = ap.parse_args()
    if args.quick:
        args.duration, args.runs = 3, 1
    if not 1 <= args.duration <= 120 or not 1 <= args.runs <= 9:
        raise B.BenchError("--duration 1..120, --runs 1..9")
    args.log_level, args.pg_sync, args.keep, args.perf, args.wrk_threads = "", "on", False, "", 2
    stack = B.Stack(args)
    D = args.duration
    rows = {}
    try:
        B.say("kanca fork-vs-off benchmark  %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        B.say("%d CPUs; %d s per run, %d runs per cell (medians), lighttpd max-procs %d, no action on the source"
              % (os.cpu_count(), D, args.runs, args.procs))
        stack.start_pg()
        sqpath = os.path.join(stack.tmp, "fork.db")
        n = 60000 + 9000 * D
        for store in args.stores.split(","):
            if store == "pg":
                off = stack.kanca_config("pg", stack.pg_uri())
                count_fn = lambda pre: B.pg_rows(stack, "events", pre)
            else:
                off = stack.kanca_config("sqlite", "sqlite:" + sqpath)
                count_fn = lambda pre: B.sqlite_rows(sqpath, "events", pre)
            fork = fork_conf(stack, off, store)
            for conns in (4, 64):
                for i in range(args.runs):
                    for mode, conf in (("off", off), ("fork", fork)):
                        tag = "%s-%s-c%d-%d" % (store, mode, conns, i)
                        r = measure(stack, store, conf, mode, conns, D, n, count_fn, tag, sqpath)
                        rows.setdefault((store, mode, conns), []).append(r)
        B.say("")
        B.say("%-7s %-5s %5s %10s %9s %9s %8s %8s   %s   %s" % (
            "store", "mode", "conns", "req/s", "p50 ms", "p99 ms", "check", "backlog",
            "CPU us/req: lighttpd responders processors postgres other", "runs (req/s)"))
        for (store, mode, conns), rs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1] != "off")):
            B.say("%-7s %-5s %5d %10.0f %9.2f %9.2f %8s %8d   %8.0f %10.0f %10.0f %8.0f %5.0f   %s" % (
                store, mode, conns, statistics.median(r["rps"] for r in rs), statistics.median(r["p50"] for r in rs),
                statistics.median(r["p99"] for r in rs), "ok" if all(r["check"] for r in rs) else "FAIL",
                max(r["backlog"] for r in rs),
                *[statistics.median(cpu_us(r, k) for r in rs) for k in ("lighttpd", "kanca", "processors", "postgres",
                                                                         "other")],
                " ".join("%.0f" % r["rps"] for r in rs)))
        B.say("")
        B.say("target 3: fork >= 0.8 x off in req/s, fork p99 <= 1.5 x off p99, at 4 and 64 connections")
        ok_all = True
        for store in args.stores.split(","):
            for conns in (4, 64):
                o, f = rows[(store, "off", conns)], rows[(store, "fork", conns)]
                ro = statistics.median(r["rps"] for r in o)
                rf = statistics.median(r["rps"] for r in f)
                po = statistics.median(r["p99"] for r in o)
                pf = statistics.median(r["p99"] for r in f)
                met = rf >= 0.8 * ro and pf <= 1.5 * po
                ok_all = ok_all and all(r["check"] for r in o + f)
                B.say("  %-7s %2d conns: req/s fork/off %.2f, p99 fork/off %.2f: %s" % (
                    store, conns, rf / ro, pf / po, "met" if met else "NOT met"))
        with open(args.output, "w") as fh:
            fh.write("\n".join(B.OUT) + "\n")
        return 0 if ok_all else 1
    except KeyboardInterrupt:
        return 130
    finally:
        stack.cleanup()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except B.BenchError as e:
        print("fork.py: %s" % e, file=sys.stderr)
        sys.exit(2)
