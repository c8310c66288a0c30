#!/usr/bin/env python3
"""peers.py: kanca beside two ordinary implementations of the same webhook route, in one run (issue 12).

    sh bench/peers.sh [--duration S] [--runs N] [--quick] [--conns 4,64] [--procs N] [--php-children N]
                      [--node-workers N] [--node-pool N] [--keep]

On one throwaway PostgreSQL cluster (bench.py's Stack: initdb as nobody when run as root, unix socket only,
fsync and synchronous_commit on) and with one corpus (bench.py's unique, correctly signed stock.updated
deliveries, signed.lua), it measures, at each connection count and --runs times, interleaved:

  pgbench insert   kanca's event insert through pgbench: the ceiling of the store (bench.py's pgbench_run)
  node             bench/peers/node: Express + pg Pool, node's cluster module, one worker per CPU
  php              bench/peers/php/webhook.php: lighttpd mod_fastcgi -> PHP-FPM (pm = static) -> pg_pconnect
  kanca+PostgreSQL wrk -> lighttpd (mod_fastcgi, bin-path) -> kanca (processing = off) -> PostgreSQL

The peers verify X-Signature (HMAC-SHA256 of the raw body, timing-safe compare), parse the JSON and insert one
row into peer_events with ON CONFLICT DO NOTHING, answering 200 after the commit. Every run is checked like
bench.py's: 2xx <= rows <= 2xx + connections, and no answer but 2xx. Printed: median req/s, p50, p99 over the
runs, CPU per answered request per component, the memory of each server's processes, the ratios
kanca/best peer and kanca/pgbench, and target 1 of issue 12 (kanca >= 2 x the best peer) met or not.
Written to bench/results-peers.txt as well. A benchmark, not a test: the exit status is 2 when the stack
could not be run, 1 when a check failed, else 0. Everything listens on 127.0.0.1 or unix sockets.
"""
import argparse
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402
from bench import BenchError, MIB, note, say  # noqa: E402

PEERS = os.path.join(HERE, "peers")
PEER_TABLE = """CREATE TABLE peer_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source           text    NOT NULL,
    idempotency_key  text    NOT NULL,
    event_type       text,
    body             bytea   NOT NULL,
    headers          text    NOT NULL,
    received_at      bigint  NOT NULL,
    UNIQUE (source, idempotency_key)
)"""
KANCA = "kanca+PostgreSQL"
ORDER = ("pgbench insert", "node", "php", KANCA)


def run_user():
    """(uid, gid) of nobody when run as root (the peers run unprivileged), else None"""
    if os.geteuid() != 0:
        return None
    import pwd
    nb = pwd.getpwnam("nobody")
    return nb.pw_uid, nb.pw_gid


def own_dir(path, ids):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)
    if ids:
        os.chown(path, *ids)
    return path


def stop_proc(p, grace=10):
    if p and p.poll() is None:
        p.terminate()
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def user_kw(ids):
    return dict(user=ids[0], group=ids[1], extra_groups=[]) if ids else {}


# ---------------------------------------------------------------- the peers

class NodePeer:
    name = "node"

    def __init__(self, stack, args):
        self.stack = stack
        node = B.need_tool("node")
        server = os.path.join(PEERS, "node", "server.js")
        if not os.path.isdir(os.path.join(PEERS, "node", "node_modules", "express")):
            raise BenchError("bench/peers/node/node_modules is missing: run `npm ci` there (bench/peers.sh does)")
        self.port = B.free_port()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NODE_ENV": "production", "PEER_PORT": str(self.port),
               "PEER_SECRET": stack.secret, "PGHOST": stack.pgsock, "PGUSER": "kanca", "PGDATABASE": "bench",
               "PEER_POOL": str(args.node_pool), "PEER_WORKERS": str(args.node_workers)}
        self.log = open(os.path.join(stack.tmp, "node.log"), "w")
        self.p = subprocess.Popen([node, server], cwd=os.path.join(PEERS, "node"), env=env, stdout=subprocess.PIPE,
                                  stderr=self.log, text=True, **user_kw(run_user()))
        stack.procs.append(self.p)
        ready, _, _ = select.select([self.p.stdout], [], [], 20)
        line = self.p.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            raise BenchError("the node peer did not start (see %s)" % self.log.name)
        self.workers = int(line.split()[1])
        self.base = "http://127.0.0.1:%d" % self.port
        self.web = "-"
        self.app = "node cluster: primary + %d workers, pg Pool max %d each" % (self.workers, args.node_pool)

    def procs_text(self, n):
        return "%d: node primary + %d workers" % (n, n - 1)

    def groups(self):
        return {"web": [], "app": self.pids()}

    def pids(self):
        if self.p.poll() is not None:
            return []
        return [self.p.pid] + B.descendants_of(self.p.pid)

    def stop(self):
        stop_proc(self.p)


class PhpPeer:
    name = "php"

    def __init__(self, stack, args):
        self.stack = stack
        fpm = B.need_tool("php-fpm8.2", shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2")
        ids = run_user()
        d = own_dir(os.path.join(stack.tmp, "php"), ids)
        self.sock = os.path.join(d, "fpm.sock")
        conf = os.path.join(d, "php-fpm.conf")
        self.children = args.php_children
        with open(conf, "w") as f:
            f.write("""[global]
pid = %(d)s/php-fpm.pid
error_log = %(d)s/php-fpm.log
daemonize = no

[peer]
listen = %(sock)s
listen.mode = 0666
listen.backlog = 1024
pm = static
pm.max_children = %(n)d
pm.max_requests = 0
clear_env = no
catch_workers_output = yes
php_admin_flag[log_errors] = on
php_admin_value[error_log] = %(d)s/php-errors.log
""" % dict(d=d, sock=self.sock, n=self.children))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PEER_SECRET": stack.secret,
               "PEER_PG": "host=%s dbname=bench user=kanca" % stack.pgsock}
        self.log = open(os.path.join(stack.tmp, "php-fpm.stderr"), "w")
        # php-fpm as a non-daemon child, its master unprivileged too (nobody when run as root)
        self.fpm = subprocess.Popen([fpm, "-F", "-y", conf, "-p", d], env=env, stdout=self.log, stderr=self.log,
                                    **user_kw(ids))
        stack.procs.append(self.fpm)
        deadline = time.time() + 15
        while not (os.path.exists(self.sock) and len(B.children_of(self.fpm.pid)) >= self.children):
            if self.fpm.poll() is not None or time.time() > deadline:
                raise BenchError("php-fpm did not start (see %s and %s/php-fpm.log)" % (self.log.name, d))
            time.sleep(0.05)
        # lighttpd: every /api/ request rewritten to the one script, mod_fastcgi to php-fpm's unix socket
        # (REQUEST_URI stays the original path, which webhook.php checks)
        fcgi = '''server.modules += ("mod_rewrite")
url.rewrite-once = ("^/api/" => "/webhook.php")
fastcgi.server = (
  "/webhook.php" => ((
    "socket" => "%(sock)s",
    "docroot" => "%(docroot)s",
    "check-local" => "disable"
  ))
)
''' % dict(sock=self.sock, docroot=os.path.join(PEERS, "php"))
        self.light, self.port, self.errlog = B.spawn_lighttpd(stack, "php", fcgi)
        self.base = "http://127.0.0.1:%d" % self.port
        self.web = "lighttpd mod_fastcgi"
        self.app = "php-fpm pm = static, %d children, pg_pconnect" % self.children

    def procs_text(self, n):
        return "%d: lighttpd + fpm master + %d" % (n, n - 2)

    def groups(self):
        return {"web": [self.light.pid] if self.light.poll() is None else [], "app": self.app_pids()}

    def app_pids(self):
        if self.fpm.poll() is not None:
            return []
        return [self.fpm.pid] + B.descendants_of(self.fpm.pid)

    def pids(self):
        return self.groups()["web"] + self.app_pids()

    def stop(self):
        stop_proc(self.light)
        stop_proc(self.fpm)


class KancaSide:
    """kanca on the Stack's lighttpd, in the same shape as the peers"""
    name = KANCA

    def __init__(self, stack, args):
        self.stack = stack
        self.base = None
        self.web = "lighttpd mod_fastcgi"
        self.app = "kanca, %d responders (bin-path), processing = off" % args.procs

    def procs_text(self, n):
        return "%d: lighttpd + %d kanca" % (n, n - 1)

    def groups(self):
        s = self.stack
        return {"web": [s.light.pid] if s.light and s.light.poll() is None else [], "app": s.kanca_pids()}

    def pids(self):
        g = self.groups()
        return g["web"] + g["app"]


def check_answer(base, stack, label):
    """one signed request, answered 200 "Event received"; a wrong signature and 64 non-ASCII bytes 401"""
    import http.client
    body = B.stock_body("probe-%s" % label.replace("+", ""), 0).encode()
    port = int(base.rsplit(":", 1)[1])
    for sig, want in (("0" * 64, 401), ("\u00e9" * 64, 401), (B.sign(stack.secret, body), 200)):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", B.ROUTE, body, {"Content-Type": "application/json", "X-Signature": sig})
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        c.close()
        if r.status != want or (want == 200 and '"Event received"' not in data):
            raise BenchError("%s: the probe with a %s signature was answered %d %s (wanted %d)"
                             % (label, "wrong" if want == 401 else "correct", r.status, data[:300], want))


# ---------------------------------------------------------------- figures

def median(vals):
    return statistics.median(vals) if vals else 0.0


def summarize(runs):
    """(what, conns) -> the median figures over the runs, the summed CPU and 2xx, and the checks"""
    out = {}
    for r in runs:
        out.setdefault((r["what"], r["conns"]), []).append(r)
    res = {}
    for k, rs in out.items():
        cpu = {}
        for r in rs:
            for g, v in r["cpu"].items():
                cpu[g] = cpu.get(g, 0.0) + v
        res[k] = dict(rps=median([r["rps"] for r in rs]), p50=median([r["p50"] for r in rs]),
                      p99=median([r["p99"] for r in rs]), all=[r["rps"] for r in rs], n2xx=sum(r["c2xx"] for r in rs),
                      rows=sum(r["rows"] for r in rs), other=sum(r["other"] for r in rs),
                      exhausted=sum(r.get("exhausted", 0) for r in rs), check=all(r["check"] for r in rs), cpu=cpu,
                      runs=rs)
    return res


def report(summary, sides, mem, args, conns_list, elapsed):
    say("")
    hdr = "%-18s %5s %9s  %-22s %8s %8s %11s %11s  %s" % ("", "conns", "req/s", "runs", "p50 ms", "p99 ms",
                                                           "kanca/this", "this/pgbench", "check")
    say("median of %d run(s) of %d s each (req/s = 2xx answers per second; pgbench: tps)" % (args.runs, args.duration))
    say(hdr)
    say("-" * len(hdr))
    for c in conns_list:
        pgb = summary[("pgbench insert", c)]
        kan = summary[(KANCA, c)]
        for what in ORDER:
            s = summary[(what, c)]
            if what == "pgbench insert":
                chk = "%s (transactions %d, rows %d)" % ("PASS" if s["check"] else "FAIL", s["n2xx"], s["rows"])
            else:
                chk = "%s (2xx %d, rows %d%s%s)" % ("PASS" if s["check"] else "FAIL", s["n2xx"], s["rows"],
                                                   ", non-2xx %d" % s["other"] if s["other"] else "",
                                                   ", EXHAUSTED %d" % s["exhausted"] if s["exhausted"] else "")
            say("%-18s %5d %9.0f  %-22s %8.2f %8.2f %11s %11s  %s" % (
                what, c, s["rps"], "/".join("%.0f" % x for x in s["all"]), s["p50"], s["p99"],
                B.fmt_ratio(kan["rps"], s["rps"]) if what != KANCA else "-",
                B.fmt_ratio(s["rps"], pgb["rps"]) if what != "pgbench insert" else "-", chk))
        say("")
    say("check: every delivery is unique, so each 2xx must be one stored row: 2xx <= rows <= 2xx + connections")
    say("(wrk drops the requests in flight when the time is up; the server may still commit them), summed over")
    say("the runs; and every answer a 2xx. kanca/this = kanca's median req/s over this line's; this/pgbench =")
    say("this line's over pgbench's at the same connection count.")
    say("")
    say("CPU per answered request, microseconds (CPU time of the run over its 2xx answers, all runs summed;")
    say("client = wrk or pgbench; web = lighttpd; app = node / php-fpm / kanca processes; postgres = postmaster and")
    say("every backend; irq = the CPUs' irq + softirq time, charged to no process (loopback and unix socket")
    say("traffic); other = the rest of the machine's busy time outside these processes (this script's sampling")
    say("included); total = all the machine's busy time; util = machine busy / all CPUs):")
    say("%-18s %5s %8s %8s %8s %8s %8s %8s %8s %6s" % ("", "conns", "client", "web", "app", "postgres", "irq", "other",
                                                      "total", "util"))
    for c in conns_list:
        for what in ORDER:
            s = summary[(what, c)]
            cpu = s["cpu"]
            n = s["n2xx"] or 1
            if what == "pgbench insert":
                web, app = "-", "-"
            else:
                web = "-" if what == "node" else "%.0f" % (1e6 * cpu.get("web", 0) / n)
                app = "%.0f" % (1e6 * cpu.get("app", 0) / n)
            us = lambda k: "%.0f" % (1e6 * cpu.get(k, 0) / n)
            other = "%.0f" % (1e6 * max(0.0, cpu.get("other", 0) - cpu.get("irq", 0)) / n)
            say("%-18s %5d %8s %8s %8s %8s %8s %8s %8s %5.0f%%" % (what, c, us("client"), web, app, us("postgres"),
                                                                 us("irq"), other, us("machine"),
                                                             100.0 * cpu["machine"] / cpu["wall"] / os.cpu_count()))
    say("")
    say("Memory of each server's processes after all runs, MiB (peak = VmHWM per process; pss = proportional set")
    say("size, shared pages divided among the processes that map them; anon = RssAnon, which counts the pages a")
    say("forked child still shares copy-on-write with its parent in each of them, so it can exceed pss):")
    say("%-18s %-34s %8s %8s  %s" % ("", "processes", "pss sum", "anon sum", "peak RSS per process"))
    for side in sides:
        procs = mem[side.name]
        say("%-18s %-34s %8.1f %8.1f  %s" % (
            side.name, side.procs_text(len(procs)),
            sum(p.get("Pss", 0) for p in procs) / MIB, sum(p.get("RssAnon", 0) for p in procs) / MIB,
            "/".join("%.1f" % (p.get("VmHWM", 0) / MIB) for p in procs)))
    say("")
    met_all = True
    for c in conns_list:
        kan = summary[(KANCA, c)]["rps"]
        best = max(("node", "php"), key=lambda w: summary[(w, c)]["rps"])
        bp = summary[(best, c)]["rps"]
        pgb = summary[("pgbench insert", c)]["rps"]
        met = bp > 0 and kan >= 2 * bp
        met_all = met_all and met
        say("%3d connections: kanca %.0f req/s; best peer %s %.0f req/s; kanca/best peer %.2fx; kanca/pgbench %.0f%%"
            % (c, kan, best, bp, kan / bp if bp else 0, 100.0 * kan / pgb if pgb else 0))
    for c in conns_list:
        kan = summary[(KANCA, c)]["rps"]
        best = max(("node", "php"), key=lambda w: summary[(w, c)]["rps"])
        bp = summary[(best, c)]["rps"]
        say("TARGET 1 (issue 12) kanca+PostgreSQL >= 2 x the best peer at %d connections: %s (%.0f vs 2 x %.0f = %.0f)"
            % (c, "MET" if bp and kan >= 2 * bp else "NOT MET", kan, bp, 2 * bp))
    loads = [max(0.0, r["cpu"].get("other", 0) - r["cpu"].get("irq", 0)) / r["cpu"]["wall"]
             for s in summary.values() for r in s["runs"]]
    say("other load on the machine during the runs (CPUs busy outside the benchmark's processes): median %.2f, "
        "largest %.2f%s" % (median(loads), max(loads), "  !! another load was running: the figures are depressed "
                            "and uneven; re-run on a quiet machine" if max(loads) > 0.15 else ""))
    ok = all(s["check"] and not s["other"] for s in summary.values())
    say("ROW CHECK (every 2xx exactly one stored row, no other answer, every run): %s" % ("PASS" if ok else "FAIL"))
    say("total time %.0f s" % elapsed)
    return ok


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="kanca beside an Express and a PHP-FPM peer (prints figures; not a test)")
    ap.add_argument("--duration", type=int, default=15, help="seconds per measured run (default 15)")
    ap.add_argument("--runs", type=int, default=None, help="measured runs per server and connection count "
                    "(default 3; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="3 s runs, one of each")
    ap.add_argument("--conns", default="4,64", help="connection counts (default 4,64)")
    ap.add_argument("--procs", type=int, default=int(os.environ.get("KANCA_BENCH_PROCS", "8")),
                    help="kanca responders, lighttpd min-procs = max-procs (default 8, as bench.py)")
    ap.add_argument("--php-children", type=int, default=None, help="php-fpm pm.max_children (default: --procs)")
    ap.add_argument("--node-workers", type=int, default=os.cpu_count(), help="node cluster workers (default: CPUs)")
    ap.add_argument("--node-pool", type=int, default=10, help="pg Pool size per node worker (default 10)")
    ap.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--pg-sync", default="on", choices=("on", "off"), help="synchronous_commit of the cluster")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--output", default=os.path.join(HERE, "results-peers.txt"))
    args = ap.parse_args()
    if args.quick:
        args.duration = 3
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.php_children is None:
        args.php_children = args.procs
    args.log_level = ""
    args.perf = ""
    if not 1 <= args.duration <= 600 or not 1 <= args.runs <= 20:
        raise BenchError("--duration 1..600, --runs 1..20")
    if not 1 <= args.procs <= 64 or not 1 <= args.php_children <= 64 or not 1 <= args.node_workers <= 64 or \
            not 1 <= args.node_pool <= 50:
        raise BenchError("--procs, --php-children, --node-workers 1..64; --node-pool 1..50")
    conns_list = [int(x) for x in args.conns.split(",") if x.strip()]
    if not conns_list or any(not 1 <= c <= 512 for c in conns_list):
        raise BenchError("--conns: numbers 1..512")
    D = args.duration

    stack = B.Stack(args)
    sides = []
    started = time.time()

    def on_signal(sig, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_signal)
    try:
        node_v = subprocess.run([B.need_tool("node"), "--version"], capture_output=True, text=True).stdout.strip()
        php_v = subprocess.run(["php-fpm8.2", "-v"], capture_output=True, text=True).stdout.split("\n")[0].split(" (")[0]
        say("kanca beside its peers  %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        say("host: %s, %d CPUs, %s; kanca %s" % (platform.node(), os.cpu_count(), platform.release(),
                                                   subprocess.run([stack.kanca, "--version"], capture_output=True,
                                                                  text=True).stdout.strip()))
        say("build dir: %s; load average at start: %s" % (stack.builddir,
                                                          " ".join(open("/proc/loadavg").read().split()[:3])))
        say("%d run%s of %d s per server and connection count, interleaved; wrk -t%d; PostgreSQL %s, "
            "synchronous_commit=%s; node %s; %s; lighttpd %s" % (
                args.runs, "s" if args.runs > 1 else "", D, args.wrk_threads, stack.run([stack.psql_bin, "--version"]).stdout.split()[2],
                args.pg_sync, node_v, php_v,
                stack.run([stack.lighttpd, "-v"]).stdout.split()[0].split("/")[-1]))
        note("starting PostgreSQL in %s" % stack.tmp)
        stack.start_pg()
        pgconf = stack.kanca_config("pg", stack.pg_uri())
        source_id = int(stack.psql("SELECT id FROM sources WHERE provider = 'supplier' AND account = '%s'" % B.ACCOUNT))
        stack.start_lighttpd("pg", pgconf, args.procs)
        B.probe(stack, "probe-pg")
        script = B.pgbench_setup(stack, source_id, "probe-pg-00000000")
        stack.psql(PEER_TABLE)

        note("starting the peers")
        kanca = KancaSide(stack, args)
        node = NodePeer(stack, args)
        php = PhpPeer(stack, args)
        sides = [node, php, kanca]
        for side in (node, php):
            check_answer(side.base, stack, side.name)
        n = int(stack.psql("SELECT count(*) FROM peer_events WHERE idempotency_key LIKE 'probe-%'"))
        if n != 2:
            raise BenchError("the peers' probe requests stored %d rows, not 2" % n)
        for side in sides:
            say("%-18s %s" % (side.name, (side.web + " -> " if side.web != "-" else "") + side.app))
        say("%-18s %s" % ("pgbench insert", "pgbench -M prepared -j 2: kanca's event insert (EVENT_INSERT) into "
                          "bench_events"))

        # warm-ups: pgbench also sizes the request files (1.4 x its rate x D, as bench.py does)
        note("warm-up")
        w = B.pgbench_run(stack, max(conns_list), 2, script, "warm")
        B.pgbench_check_row(stack, "probe-pg-00000000", script)
        if w["rows"] != w["n"] or not w["n"]:
            raise BenchError("the pgbench warm-up inserted %d rows for %s transactions" % (w["rows"], w["n"]))
        nreq = int(min(3000000, max(30000, 1.4 * w["rps"] * D + 5000)))
        counts = {KANCA: lambda pre: B.pg_rows(stack, "events", pre),
                  "node": lambda pre: B.pg_rows(stack, "peer_events", pre),
                  "php": lambda pre: B.pg_rows(stack, "peer_events", pre)}
        by_name = {s.name: s for s in sides}
        samplers = {s.name: B.RssSampler(s.pids) for s in sides}

        def http_run(what, c, secs, nr, tag, results):
            side = by_name[what]
            groups = lambda: dict(side.groups(), postgres=B.descendants_of(stack.postmaster) + [stack.postmaster])
            return B.kanca_run(stack, samplers[what], results, what, "pg", c, secs, nr, "stock", counts[what], tag,
                               base=side.base, cpu_groups=groups)

        # (node's JIT, PHP's opcache and connections, kanca's source cache): 3 s each at the largest count
        for what in ("node", "php", KANCA):
            http_run(what, max(conns_list), min(3, D), 40000, "warm-%s" % what.split("+")[0], B.Results())

        results = B.Results()
        runs = []
        order = list(ORDER)
        for rep in range(args.runs):
            for c in conns_list:
                for what in order:
                    note("run %d/%d, %d connections: %s" % (rep + 1, args.runs, c, what))
                    if what == "pgbench insert":
                        p = B.pgbench_run(stack, c, D, script, "r%d-c%d" % (rep, c))
                        cpu = dict(p["cpu"])
                        cpu["web"], cpu["app"] = 0.0, 0.0
                        r = dict(what=what, conns=c, rps=p["rps"], p50=p["p50"], p99=p["p99"], c2xx=p["n"],
                                 rows=p["rows"], other=p["failed"], check=p["rows"] == p["n"] and p["failed"] == 0,
                                 cpu=cpu)
                        note("pgbench c%d: %.0f tps p50 %.2f p99 %.2f rows %d/%d" %
                             (c, p["rps"], p["p50"], p["p99"], p["rows"], p["n"]))
                    else:
                        r = http_run(what, c, D, nreq, "%s-r%d-c%d" % (what.split("+")[0], rep, c), results)
                        r = dict(r, check=r["check"] and r["other"] == 0 and r["exhausted"] == 0)
                    runs.append(r)
                # the next round starts with another server: none of them always goes first
                order = order[1:] + order[:1]
        mem = {s.name: B.memory_detail(stack, s.pids())["procs"] for s in sides}
        for s in sides:
            peak = samplers[s.name].snapshot()
            for p in mem[s.name]:
                p["VmHWM"] = max(p.get("VmHWM", 0), peak.get(p["pid"], {}).get("VmHWM", 0))
        ok = report(summarize(runs), sides, mem, args, conns_list, time.time() - started)
        with open(args.output, "w") as f:
            f.write("\n".join(B.OUT) + "\n")
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for s in sides:
            if hasattr(s, "stop"):
                s.stop()
        stack.cleanup()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("peers: %s" % e, file=sys.stderr)
        sys.exit(2)
