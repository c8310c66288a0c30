#!/usr/bin/env python3
"""multihost.py: two kanca hosts on one PostgreSQL, measured (started by bench/multihost.sh).

    bench/multihost.sh [--duration S] [--procs N] [--conns C] [--repeat R] [--rows N] [--purge-limit S] [--keep]

A "host" is one lighttpd on its own 127.0.0.1 port with its own N kanca responders, configuration file and
spool directory; both hosts share one throwaway PostgreSQL cluster (bench.py's: fsync and synchronous_commit
on, unix socket). Each host's store URI carries application_name=kanca-a / kanca-b, which is how the
connections per host are counted (pg_stat_activity). Both hosts run on this one machine, so they share its
CPUs: "both" shows that the shared store does not serialise the hosts, not what two machines would reach.

1. Ingest: wrk -c C with bench/signed.lua (unique signed deliveries, each sent once) to host A alone, then
   to A and B at once (one wrk each, the same C), with processing = off and then processing = fork (every
   event forwarded to bench/sink.py); R runs of each, alternated. req/s is 2xx per second (both: the sum),
   p99 wrk's (both: the larger of the two). Row check: 2xx <= rows <= 2xx + connections, per host.
2. Connections: the backends per host with processing = off and fork, and those of `kancactl worker` and
   `kancactl purge`.
3. Retention on a large table: --rows (default 1,000,000) processed events 32 to 42 days old, each with one
   attempt and one 'received' audit row, bulk-loaded with generate_series and shaped like kanca's own rows
   (copies of an event, attempt and audit row kanca stored). Then both hosts take load (processing = off)
   without a purge, and again while `kancactl purge --retention` (retention = 30d: batches of 1000, each
   its own transaction) runs: req/s and p99 during the purge against without, and the rows purged per
   second (events; their attempts go with them, and the audit rows are counted apart), during the load
   and over the whole purge.

Reuses bench/bench.py (its Stack for PostgreSQL and lighttpd, run_wrk, write_requests, settle, the sink)
by import. A benchmark, not a test: figures only; the exit status is 1 when a row check failed, 2 when the
stack could not run. Written to bench/results-multihost.txt too.
"""
import argparse
import os
import platform
import secrets
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402

OUT = []
ALL_HOSTS = []  # both hosts, whichever take the load (for the other-load figure)


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


note = B.note


class Host:
    """One host: a bench Stack of its own (temporary directory, lighttpd) on the shared cluster."""

    def __init__(self, name, stack):
        self.name = name
        self.app = "kanca-" + name
        self.stack = stack

    def conf(self, pg_uri, processing, role=""):
        """the host's configuration file; role: a suffix of the application_name and of the file's name, for
        kancactl runs whose connections are counted apart (kanca-a-worker)"""
        app = self.app + ("-" + role if role else "")
        path = os.path.join(self.stack.tmp, "kanca-%s-%s%s.conf" % (self.name, processing, "-" + role if role else ""))
        with open(path, "w") as f:
            f.write("store = %s&application_name=%s\nprocessing = %s\nspool_dir = %s\nretention = 30d\n"
                    "retention_dead = 90d\n" % (pg_uri, app, processing,
                                                 os.path.join(self.stack.tmp, "spool-" + self.name)))
        return path

    def start(self, conf, procs):
        self.stack.start_lighttpd("%s-%s" % (self.name, os.path.basename(conf)), conf, procs)

    def stop(self):
        self.stack.stop_lighttpd()


class OtherLoad:
    """CPUs the machine spent outside this benchmark's processes (the lighttpds and their kanca processes, the
    cluster, the sink, wrk, this script) between start() and stop(): other load depresses every figure"""

    def __init__(self, main, hosts):
        self.main, self.hosts = main, hosts

    def ours(self):
        pids = [os.getpid()]
        for h in self.hosts:
            if h.stack.light and h.stack.light.poll() is None:
                pids += [h.stack.light.pid] + B.descendants_of(h.stack.light.pid)
        if self.main.pg_started:
            pids += [self.main.postmaster] + B.descendants_of(self.main.postmaster)
        if getattr(self.main, "sink", None):
            pids.append(self.main.sink.p.pid)
        return {p: B.cpu_ticks([p]) for p in pids}

    def start(self):
        self.t0, self.m0, self.w0 = self.ours(), B.system_busy_ticks(), time.time()
        self.c0 = B.resource.getrusage(B.resource.RUSAGE_CHILDREN)

    def stop(self):
        t1 = self.ours()
        c1 = B.resource.getrusage(B.resource.RUSAGE_CHILDREN)
        ours = sum(v - self.t0.get(p, 0) for p, v in t1.items()) / B.TICK
        ours += (c1.ru_utime + c1.ru_stime) - (self.c0.ru_utime + self.c0.ru_stime)
        machine = (B.system_busy_ticks() - self.m0) / B.TICK
        return max(0.0, machine - ours) / max(0.001, time.time() - self.w0)


def conns_by_app(main):
    out = {}
    for line in main.psql("SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = 'bench' "
                          "AND application_name LIKE 'kanca-%' GROUP BY 1 ORDER BY 1").splitlines():
        k, _, v = line.partition("|")
        out[k] = int(v)
    return out


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2.0


def load(main, hosts, route, account, conns, duration, nreq, tag, around=None):
    """one wrk per host at once, each with its own request file; -> dict with the sum of 2xx/s, the largest
    p99 and p50, non-2xx, and the row check per host. around: (before, after) called right before the wrks start
    and right after they end; what they return is kept as out["around"]"""
    files, prefixes = {}, {}
    for h in hosts:
        prefixes[h.name] = "%s-%s-%s" % (tag, h.name, secrets.token_hex(3))
        files[h.name] = os.path.join(main.tmp, "req-%s-%s.txt" % (tag, h.name))
        B.write_requests(files[h.name], main.secret, prefixes[h.name], nreq, "stock")
    res = {}

    def one(h):
        try:
            res[h.name] = B.run_wrk(h.stack, os.path.join(HERE, "signed.lua"), route, conns, duration, [files[h.name]])
        except B.BenchError as e:
            res[h.name] = e

    main.psql("CHECKPOINT")
    t0 = time.time()
    other = OtherLoad(main, ALL_HOSTS)
    mark = around[0]() if around else None
    other.start()
    threads = [threading.Thread(target=one, args=(h,)) for h in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 90)
    wall = time.time() - t0
    other_cpus = other.stop()
    mark = around[1](mark) if around else None
    for h in hosts:
        os.unlink(files[h.name])
        if isinstance(res.get(h.name), Exception) or h.name not in res:
            raise B.BenchError("wrk on host %s: %s" % (h.name, res.get(h.name)))
    out = {"rps": 0.0, "p50": 0.0, "p99": 0.0, "other": 0, "exhausted": 0, "check": True, "checks": [],
           "prefixes": prefixes, "wall": wall, "c2xx": 0, "other_load": other_cpus,
           "around": mark}
    for h in hosts:
        w = res[h.name]
        rows = B.settle(lambda: B.pg_rows(main, "events", prefixes[h.name]))
        ok = w["c2xx"] <= rows <= w["c2xx"] + conns and w["exhausted"] == 0
        out["rps"] += w["c2xx"] / (w["duration_us"] / 1e6)
        out["c2xx"] += w["c2xx"]
        out["p50"] = max(out["p50"], w["p50_us"] / 1000.0)
        out["p99"] = max(out["p99"], w["p99_us"] / 1000.0)
        out["other"] += w["cother"]
        out["exhausted"] += w["exhausted"]
        out["check"] = out["check"] and ok
        out["checks"].append("%s: 2xx %d rows %d %s" % (h.name, w["c2xx"], rows, "ok" if ok else "FAIL"))
    note("%s: %.0f req/s p50 %.1f p99 %.1f ms non-2xx %d other load %.2f CPUs (%s)" % (
        tag, out["rps"], out["p50"], out["p99"], out["other"], other_cpus, "; ".join(out["checks"])))
    return out


def wait_processed(main, prefixes, limit):
    """seconds until every event of these runs is processed (None past limit)"""
    cond = " OR ".join("idempotency_key LIKE '%s%%'" % p for p in prefixes)
    t0 = time.time()
    while time.time() - t0 < limit:
        left = int(main.psql("SELECT count(*) FROM events WHERE (%s) AND status <> 'processed'" % cond))
        if left == 0:
            return time.time() - t0
        time.sleep(0.5)
    return None


def psql_long(main, sql, timeout=1800):
    """bench's Stack.psql with a longer limit (a million-row INSERT ... SELECT)"""
    return main.run([main.psql_bin, "-h", main.pgsock, "-U", "kanca", "-d", "bench", "-X", "-At", "-v",
                     "ON_ERROR_STOP=1", "-c", sql], timeout=timeout).stdout.strip()


def bulk_load(main, n):
    """n processed events 32..42 days old, copies of a processed event kanca stored (with its attempt and its
    'received' audit row): every column as kanca wrote it, a unique idempotency key and public id each"""
    cols = main.psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                     "WHERE table_name = 'events' AND column_name NOT IN ('id', 'idempotency_key', 'public_id', "
                     "'received_at', 'processed_at', 'status')")
    tpl = int(main.psql("SELECT e.id FROM events e WHERE e.status = 'processed' AND EXISTS (SELECT 1 FROM attempts a "
                        "WHERE a.event_id = e.id AND a.outcome = 'ok') AND EXISTS (SELECT 1 FROM audit_log l WHERE "
                        "l.event_id = e.id AND l.action = 'received') ORDER BY e.id LIMIT 1"))
    now = int(time.time())
    t0 = time.time()
    psql_long(main, "INSERT INTO events (idempotency_key, public_id, received_at, processed_at, status, %(c)s) "
              "SELECT 'old-' || lpad(i::text, 8, '0'), 'evt_' || md5('old-' || i), %(r)d + (i %% 864000), "
              "%(r)d + (i %% 864000) + 1, 'processed', %(c)s FROM events, generate_series(1, %(n)d) AS i "
              "WHERE events.id = %(t)d"
              % {"c": cols, "r": now - 42 * 86400, "n": n, "t": tpl})
    acols = main.psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                      "WHERE table_name = 'attempts' AND column_name NOT IN ('id', 'event_id', 'started_at', "
                      "'ended_at')")
    psql_long(main, "INSERT INTO attempts (event_id, started_at, ended_at, %(c)s) SELECT e.id, e.received_at, "
              "e.received_at + 1, %(ac)s FROM events e, (SELECT * FROM attempts WHERE event_id = %(t)d AND outcome = "
              "'ok' ORDER BY id LIMIT 1) a WHERE e.idempotency_key LIKE 'old-%%'"
              % {"c": acols, "ac": ",".join("a." + c for c in acols.split(",")), "t": tpl})
    lcols = main.psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                      "WHERE table_name = 'audit_log' AND column_name NOT IN ('id', 'event_id', 'at')")
    psql_long(main, "INSERT INTO audit_log (event_id, at, %(c)s) SELECT e.id, e.received_at, %(lc)s FROM events e, "
              "(SELECT * FROM audit_log WHERE event_id = %(t)d AND action = 'received' ORDER BY id LIMIT 1) l "
              "WHERE e.idempotency_key LIKE 'old-%%'"
              % {"c": lcols, "lc": ",".join("l." + c for c in lcols.split(",")), "t": tpl})
    loaded = time.time() - t0
    for q in ("VACUUM ANALYZE events", "VACUUM ANALYZE attempts", "VACUUM ANALYZE audit_log", "CHECKPOINT"):
        psql_long(main, q)
    sizes = main.psql("SELECT pg_size_pretty(pg_total_relation_size('events')) || ' events, ' || "
                      "pg_size_pretty(pg_total_relation_size('attempts')) || ' attempts, ' || "
                      "pg_size_pretty(pg_total_relation_size('audit_log')) || ' audit_log'")
    return loaded, time.time() - t0, sizes


def old_rows(main):
    return int(main.psql("SELECT count(*) FROM events WHERE received_at < extract(epoch FROM now())::bigint - "
                         "30 * 86400"))


def main():
    ap = argparse.ArgumentParser(description="two kanca hosts on one PostgreSQL (prints figures; not a test)")
    ap.add_argument("--duration", type=int, default=8, help="seconds per measured run (default 8)")
    ap.add_argument("--procs", type=int, default=8, help="kanca responders per host (default 8, as bench/run.sh)")
    ap.add_argument("--conns", type=int, default=64, help="wrk connections per host (default 64)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each case, alternated (default 3)")
    ap.add_argument("--rows", type=int, default=1000000, help="old processed events bulk-loaded for the purge "
                    "(default 1000000)")
    ap.add_argument("--purge-limit", type=int, default=900, help="seconds the purge may take before it is stopped")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    ap.add_argument("--output", default=os.path.join(HERE, "results-multihost.txt"))
    args = ap.parse_args()
    if not 1 <= args.duration <= 600 or not 1 <= args.procs <= 64 or not 1 <= args.conns <= 1024 or \
            not 1 <= args.repeat <= 10 or not 1000 <= args.rows <= 10000000:
        raise B.BenchError("--duration 1..600, --procs 1..64, --conns 1..1024, --repeat 1..10, --rows 1000..10^7")
    D, C = args.duration, args.conns
    ns = argparse.Namespace(keep=args.keep, pg_sync="on", log_level="", wrk_threads=2, perf="")
    main_stack = B.Stack(ns)
    other = B.Stack(ns)
    stacks = [other, main_stack]  # cleaned up in this order: host B's lighttpd, then the cluster
    purge = None
    started = time.time()

    def on_signal(sig, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_signal)
    ok = True
    try:
        say("kanca: two hosts on one PostgreSQL  %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        say("host: %s, %d CPUs, %s; kanca %s; build dir %s" % (
            platform.node(), os.cpu_count(), platform.release(),
            subprocess.run([main_stack.kanca, "--version"], capture_output=True, text=True).stdout.strip(),
            main_stack.builddir))
        say("load average at start: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
        note("starting PostgreSQL in %s" % main_stack.tmp)
        main_stack.start_pg()
        other.secret = main_stack.secret
        say("PostgreSQL %s (fsync, synchronous_commit on); per host: lighttpd, %d responders; wrk -t2 -c%d per "
            "host, %d s per run, %d runs per case" % (
                main_stack.run([main_stack.psql_bin, "--version"]).stdout.split()[2], args.procs, C, D, args.repeat))
        hosts = [Host("a", main_stack), Host("b", other)]
        ALL_HOSTS.extend(hosts)
        A, Bh = hosts
        uri = main_stack.pg_uri()
        conf = {(h.name, p): h.conf(uri, p) for h in hosts for p in ("off", "fork")}
        main_stack.run([main_stack.kancactl, "-c", conf[("a", "off")], "migrate"])
        main_stack.run([main_stack.kancactl, "-c", conf[("a", "off")], "source", "add", "supplier", B.ACCOUNT,
                        "--secret", main_stack.secret])
        main_stack.sink = B.Sink(main_stack)
        main_stack.run([main_stack.kancactl, "-c", conf[("a", "off")], "source", "add", "supplier", "fwd",
                        "--secret", main_stack.secret])
        main_stack.run([main_stack.kancactl, "-c", conf[("a", "off")], "source", "action", "add", "supplier", "fwd",
                        "forward", main_stack.sink.url("/fwd/"), "--generate-secret"])
        nreq = max(30000, 7000 * D)

        # ---- 1. ingest
        table = []
        connections = {}
        for mode, route, account in (("off", B.ROUTE, B.ACCOUNT), ("fork", "/api/suppliers/fwd/webhook", "fwd")):
            # anything left unprocessed by earlier runs is not this run's work
            main_stack.psql("UPDATE events SET status = 'processed' WHERE status <> 'processed'")
            for h in hosts:
                h.start(conf[(h.name, mode)], args.procs)
            load(main_stack, hosts, route, account, C, 1, 20000, "warm-%s" % mode)
            if mode == "fork":
                wait_processed(main_stack, ["warm-%s" % mode], 120)
            runs = {"one": [], "both": []}
            for r in range(args.repeat):
                order = ("one", "both") if r % 2 == 0 else ("both", "one")
                for case in order:
                    tag = "%s-%s-%d" % (mode, case, r)
                    res = load(main_stack, hosts if case == "both" else [A], route, account, C, D, nreq, tag)
                    if mode == "fork":
                        res["left"] = int(main_stack.psql("SELECT count(*) FROM events WHERE status <> 'processed' "
                                                          "AND (%s)" % " OR ".join(
                                                              "idempotency_key LIKE '%s%%'" % p
                                                              for p in res["prefixes"].values())))
                        res["settle"] = wait_processed(main_stack, list(res["prefixes"].values()), 600)
                        res["proc_rate"] = (res["c2xx"] - res["left"]) / D
                    ok = ok and res["check"]
                    runs[case].append(res)
            connections[mode] = conns_by_app(main_stack)
            table.append((mode, runs))
            for h in hosts:
                h.stop()
        st = main_stack.sink.stats("/fwd/")
        fwd_ok = st["posts"] == st["distinct"]
        say("")
        say("1. Ingest: host A alone, then A and B at once (one wrk -c%d each), %d s per run" % (C, D))
        say("%-16s %-5s %10s %9s %9s %8s %7s  %s" % ("processing", "hosts", "req/s", "p50 ms", "p99 ms", "non-2xx",
                                                      "other", "runs (req/s)"))
        for mode, runs in table:
            for case in ("one", "both"):
                rs = runs[case]
                say("%-16s %-5s %10.0f %9.1f %9.1f %8d %7.2f  %s" % (
                    mode, "A" if case == "one" else "A+B", median([r["rps"] for r in rs]),
                    median([r["p50"] for r in rs]), median([r["p99"] for r in rs]), sum(r["other"] for r in rs),
                    median([r["other_load"] for r in rs]), " ".join("%.0f" % r["rps"] for r in rs)))
        for mode, runs in table:
            if mode != "fork":
                continue
            for case in ("one", "both"):
                for r in runs[case]:
                    say("  fork %-4s: processed during the load %.0f events/s, %d left at its end, all processed "
                        "%s after it" % ("A" if case == "one" else "A+B", r["proc_rate"], r["left"],
                                         "%.1f s" % r["settle"] if r["settle"] is not None else "NOT within 600 s"))
        ratio = {m: median([r["rps"] for r in runs["both"]]) / max(1.0, median([r["rps"] for r in runs["one"]]))
                 for m, runs in table}
        say("  both/one: processing off %.2f, fork %.2f" % (ratio["off"], ratio["fork"]))
        say("  (req/s, p50, p99: medians of the runs; other: CPUs busy outside the benchmark's processes, median)")
        say("  forwards: %d POSTs to the sink, %d distinct webhook-ids (%s)" % (
            st["posts"], st["distinct"], "each once" if fwd_ok else "DUPLICATES"))
        say("  row checks: %s" % ("all ok" if ok else "FAIL: " + "; ".join(
            c for _, runs in table for rs in runs.values() for r in rs for c in r["checks"] if "FAIL" in c)))

        # ---- 2. connections
        say("")
        say("2. PostgreSQL connections (pg_stat_activity by application_name), %d responders per host" % args.procs)
        for mode in ("off", "fork"):
            say("  processing = %-4s after the load: %s" % (mode, ", ".join("%s %d" % kv for kv in
                                                                           sorted(connections[mode].items()))))
        wconf = A.conf(uri, "off", "worker")
        w = subprocess.Popen([main_stack.kancactl, "-c", wconf, "worker"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        main_stack.procs.append(w)
        time.sleep(2)
        wc = conns_by_app(main_stack).get("kanca-a-worker", 0)
        B.stop_procs([w], 10)
        say("  kancactl worker: %d" % wc)

        # ---- 3. retention on a large table, under load
        say("")
        note("bulk-loading %d old processed events (with attempts and audit rows)" % args.rows)
        loaded, total, sizes = bulk_load(main_stack, args.rows)
        say("3. Retention: %d processed events 32-42 days old (+1 attempt and 1 audit row each) bulk-loaded in "
            "%.0f s (%.0f s with VACUUM ANALYZE and CHECKPOINT): %s" % (args.rows, loaded, total, sizes))
        for h in hosts:
            h.start(conf[(h.name, "off")], args.procs)
        load(main_stack, hosts, B.ROUTE, B.ACCOUNT, C, 1, 20000, "warm-big")
        base = [load(main_stack, hosts, B.ROUTE, B.ACCOUNT, C, D, nreq, "big-%d" % r) for r in range(args.repeat)]
        ok = ok and all(r["check"] for r in base)
        pconf = A.conf(uri, "off", "purge")
        before = old_rows(main_stack)
        t_purge = time.time()
        purge = subprocess.Popen([main_stack.kancactl, "-c", pconf, "purge", "--retention"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        main_stack.procs.append(purge)
        time.sleep(1)
        pc = conns_by_app(main_stack).get("kanca-a-purge", 0)
        during = []
        gone_during = 0.0
        for r in range(args.repeat):
            if purge.poll() is not None:
                break
            res = load(main_stack, hosts, B.ROUTE, B.ACCOUNT, C, D, nreq, "purge-%d" % r, around=(
                lambda: (old_rows(main_stack), time.time()),
                lambda m: (m[0] - old_rows(main_stack)) / (time.time() - m[1])))
            res["purged_rate"] = res["around"]
            res["purge_running"] = purge.poll() is None
            during.append(res)
            ok = ok and res["check"]
        # the purge goes kind by kind: the events (with their attempts), then the audit rows
        events_done = None
        while purge.poll() is None and time.time() - t_purge < args.purge_limit:
            if events_done is None and old_rows(main_stack) == 0:
                events_done = time.time() - t_purge
            time.sleep(0.5)
        try:
            pout, perr = purge.communicate(timeout=max(1, args.purge_limit - (time.time() - t_purge)))
        except subprocess.TimeoutExpired:
            purge.terminate()
            pout, perr = purge.communicate(timeout=30)
            perr += " (stopped after %d s)" % args.purge_limit
        purge_time = time.time() - t_purge
        if events_done is None:
            events_done = purge_time
        audit_purged = 0
        for line in pout.splitlines():
            if line.startswith("purged ") and "audit rows" in line:
                audit_purged = int(line.split()[1])
        after = old_rows(main_stack)
        for h in hosts:
            h.stop()
        say("  both hosts, processing off, one wrk -c%d each, %d s per run:" % (C, D))
        say("  %-34s %10s %9s %9s %7s  %s" % ("", "req/s", "p50 ms", "p99 ms", "other", "runs (req/s)"))
        for label, rs in (("%d old rows, no purge" % args.rows, base), ("while kancactl purge --retention", during)):
            if rs:
                say("  %-34s %10.0f %9.1f %9.1f %7.2f  %s" % (
                    label, median([r["rps"] for r in rs]), median([r["p50"] for r in rs]),
                    median([r["p99"] for r in rs]), median([r["other_load"] for r in rs]),
                    " ".join("%.0f" % r["rps"] for r in rs)))
        if during:
            say("  purged during the load: %s events/s%s" % (
                " ".join("%.0f" % r["purged_rate"] for r in during),
                "" if all(r["purge_running"] for r in during) else " (the purge ended within a run)"))
        else:
            say("  the purge ended before a run under load could start")
        say("  kancactl purge --retention: exit %s in %.1f s, %d old events left of %d; it said: %s%s" % (
            purge.returncode, purge_time, after, before, "; ".join(pout.strip().splitlines()),
            (" / " + perr.strip()) if perr.strip() else ""))
        say("    events (with their attempts): %.1f s, %.0f events/s on average (under load for %d s of it); then "
            "audit rows: %.1f s, %.0f rows/s (no load)" % (
                events_done, (before - after) / events_done, D * len(during), purge_time - events_done,
                audit_purged / max(0.001, purge_time - events_done)))
        say("  kancactl purge connections: %d" % pc)
        if purge.returncode != 0 or after != 0:
            ok = False
        if not fwd_ok:
            ok = False
        say("")
        say("total %.0f s; load average at the end: %s" % (time.time() - started,
                                                          " ".join(open("/proc/loadavg").read().split()[:3])))
        with open(args.output, "w") as f:
            f.write("\n".join(OUT) + "\n")
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if purge is not None and purge.poll() is None:
            purge.kill()
            purge.wait(5)
        if getattr(main_stack, "sink", None):
            main_stack.sink.stop()
        for s in stacks:
            s.cleanup()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except B.BenchError as e:
        print("multihost.py: %s" % e, file=sys.stderr)
        sys.exit(2)
