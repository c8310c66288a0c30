#!/usr/bin/env python3
"""bench.py: kanca's throughput benchmark (started by bench/run.sh; Python 3 stdlib only).

Drives the real stack -- wrk -> lighttpd (mod_fastcgi, "bin-path" kanca) -> kanca -> store -- on
127.0.0.1 with pre-generated, unique, correctly signed supplier requests, at 4 and 64 connections,
for a throwaway PostgreSQL 15 cluster and a fresh SQLite file, and measures in the same run the
two ceilings: the same single-row INSERT through pgbench on the same cluster, and a static file
from the same lighttpd. Prints figures (req/s, p50, p99, ratios, peak RSS per kanca process, CPU
per request by component) and checks that every 2xx answer is exactly one stored row.

It is a benchmark, not a test: it prints numbers and whether the targets were met; the exit code
is non-zero only when the stack could not be run or the row check failed.
"""
import argparse
import json
import os
import resource
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import hashlib
import hmac
import http.client
import platform

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(HERE)
MIB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")
ACCOUNT = "bench"
ROUTE = "/api/suppliers/%s/webhook" % ACCOUNT

OUT = []


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


def note(line):
    """progress on stderr, not part of the results"""
    print("  .. %s %s" % (time.strftime("%H:%M:%S"), line), file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- locating things

def find_builddir():
    env = os.environ.get("KANCA_BUILDDIR")
    cands = [env] if env else [os.path.join(SRCDIR, "_build"), SRCDIR]
    for d in cands:
        if d and os.access(os.path.join(d, "kanca"), os.X_OK) and os.access(os.path.join(d, "kancactl"), os.X_OK):
            return os.path.abspath(d)
    raise BenchError("no kanca/kancactl binaries in %s (build first, or set KANCA_BUILDDIR)" % " or ".join(c for c in cands if c))


def need_tool(name, path=None):
    p = path if path else shutil.which(name)
    if not p or not os.access(p, os.X_OK):
        raise BenchError("required tool not found: %s" % name)
    return p


def pg_bindir():
    pgc = shutil.which("pg_config")
    if pgc:
        d = subprocess.run([pgc, "--bindir"], capture_output=True, text=True).stdout.strip()
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    for d in ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    raise BenchError("PostgreSQL server binaries (initdb) not found; pg_config --bindir gave nothing usable")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- /proc helpers

def proc_stat(pid):
    """(ppid, utime+stime ticks) or None"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[11]) + int(rest[12])


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        return None
    return out


def smaps_rollup(pid):
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Shared_Clean", "Shared_Dirty"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def rss_by_mapping(pid):
    """resident bytes per mapped file ([anon] for anonymous memory), largest first"""
    tot = {}
    name = None
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                first = line.split(None, 1)[0]
                if "-" in first and not first.endswith(":"):
                    parts = line.split()
                    name = os.path.basename(parts[5]) if len(parts) > 5 else "[anon]"
                elif first == "Rss:":
                    tot[name] = tot.get(name, 0) + int(line.split()[1]) * 1024
    except OSError:
        return []
    return sorted(tot.items(), key=lambda kv: -kv[1])


def memory_detail(stack, pids=None):
    """per kanca process (or per process of PIDS): VmHWM, VmRSS, RssAnon, RssFile, Pss, private; and where the
    largest one's pages are"""
    if pids is None:
        pids = stack.kanca_pids()
    procs = []
    for pid in pids:
        st = proc_status(pid) or {}
        st.update(smaps_rollup(pid))
        st["pid"] = pid
        procs.append(st)
    top = max(procs, key=lambda x: x.get("VmRSS", 0)) if procs else None
    return {"procs": procs, "maps": rss_by_mapping(top["pid"]) if top else [], "top": top["pid"] if top else 0}


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children_of(ppid, exe=None):
    res = []
    for pid in all_pids():
        st = proc_stat(pid)
        if not st or st[0] != ppid:
            continue
        if exe:
            try:
                if os.path.realpath("/proc/%d/exe" % pid) != exe:
                    continue
            except OSError:
                continue
        res.append(pid)
    return res


def descendants_of(root):
    parent = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            parent[pid] = st[0]
    res = []
    for pid in parent:
        p = parent.get(pid)
        seen = 0
        while p and seen < 64:
            if p == root:
                res.append(pid)
                break
            p = parent.get(p)
            seen += 1
    return res


def cpu_ticks(pids):
    t = 0
    for pid in pids:
        st = proc_stat(pid)
        if st:
            t += st[1]
    return t


def system_busy_ticks():
    """user + nice + system + irq + softirq of all CPUs (idle, iowait and steal left out)"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]] + [0] * 8
    return v[0] + v[1] + v[2] + v[5] + v[6]


def system_irq_ticks():
    """irq + softirq of all CPUs: part of system_busy_ticks, charged to no process (loopback TCP and unix
    socket traffic is largely softirq work), so it lands in "other" """
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]] + [0] * 8
    return v[5] + v[6]


class RssSampler(threading.Thread):
    """Samples VmHWM/VmRSS of every kanca process lighttpd runs, every 0.2 s."""

    def __init__(self, get_pids):
        super().__init__(daemon=True)
        self.get_pids = get_pids
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.peak = {}  # pid -> dict of maxima

    def sample(self):
        for pid in self.get_pids():
            st = proc_status(pid)
            if not st:
                continue
            with self.lock:
                p = self.peak.setdefault(pid, {})
                for k, v in st.items():
                    p[k] = max(p.get(k, 0), v)

    def run(self):
        while not self.stop_ev.wait(0.2):
            self.sample()

    def snapshot(self):
        self.sample()
        with self.lock:
            return {pid: dict(v) for pid, v in self.peak.items()}

    def stop(self):
        self.stop_ev.set()
        self.join(2)


# ---------------------------------------------------------------- the stack

def spawn_lighttpd(stack, name, fastcgi_server, ready=None, what=""):
    """lighttpd -D on an ephemeral 127.0.0.1 port with a small static file and FASTCGI_SERVER (the
    fastcgi.server block); returns (Popen, port, errlog) once the port answers and ready(Popen) is true"""
    www = os.path.join(stack.tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "static.json"), "w") as f:
        f.write('{"success":true,"message":"Event received","event":"stock.updated"}')
    port = free_port()
    conf = os.path.join(stack.tmp, "lighttpd-%s.conf" % name)
    errlog = os.path.join(stack.tmp, "lighttpd-%s.log" % name)
    with open(conf, "w") as f:
        f.write('''server.modules += ("mod_fastcgi")
server.document-root = "%(www)s"
server.bind = "127.0.0.1"
server.port = %(port)d
server.errorlog = "%(errlog)s"
server.max-connections = 1024
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
mimetype.assign = (".json" => "application/json")
''' % dict(www=www, port=port, errlog=errlog) + fastcgi_server)
    stack.run([stack.lighttpd, "-tt", "-f", conf])
    light = subprocess.Popen([stack.lighttpd, "-D", "-f", conf], stdout=subprocess.DEVNULL,
                             stderr=open(errlog + ".stderr", "w"))
    stack.procs.append(light)
    deadline = time.time() + 15
    while time.time() < deadline:
        if light.poll() is not None:
            raise BenchError("lighttpd exited: %s" % (open(errlog).read()[-2000:] if os.path.exists(errlog) else "?"))
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            if ready is None or ready(light):
                return light, port, errlog
        except OSError:
            pass
        time.sleep(0.05)
    light.kill()
    light.wait(5)
    raise BenchError("lighttpd did not start on port %d %s" % (port, what))


class Stack:
    def __init__(self, args):
        self.args = args
        self.builddir = find_builddir()
        self.kanca = os.path.realpath(os.path.join(self.builddir, "kanca"))
        self.kancactl = os.path.join(self.builddir, "kancactl")
        self.pgbin = pg_bindir()
        self.wrk = need_tool("wrk")
        self.lighttpd = need_tool("lighttpd", shutil.which("lighttpd") or "/usr/sbin/lighttpd")
        self.pgbench = need_tool("pgbench", os.path.join(self.pgbin, "pgbench")
                                 if os.access(os.path.join(self.pgbin, "pgbench"), os.X_OK) else None)
        self.psql_bin = need_tool("psql", os.path.join(self.pgbin, "psql"))
        self.tmp = tempfile.mkdtemp(prefix="kanca-bench-")
        os.chmod(self.tmp, 0o755)
        self.root = os.geteuid() == 0
        self.pgdata = os.path.join(self.tmp, "pgdata")
        self.pgsock = os.path.join(self.tmp, "pgsock")
        self.pg_started = False
        self.light = None  # Popen
        self.light_port = None
        self.procs = []
        self.secret = secrets.token_hex(32)
        self.sink = None

    # -- processes

    def as_pg_owner(self, argv):
        return (["runuser", "-u", "nobody", "--"] + argv) if self.root else argv

    def run(self, argv, check=True, timeout=120, **kw):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise BenchError("%s failed (%d): %s%s" % (" ".join(argv[:4]), r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
        return r

    def cleanup(self):
        self.stop_lighttpd()
        if self.pg_started:
            subprocess.run(self.as_pg_owner([os.path.join(self.pgbin, "pg_ctl"), "-D", self.pgdata, "-m", "immediate",
                                             "-w", "-t", "20", "stop"]), capture_output=True, timeout=30)
            self.pg_started = False
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept %s" % self.tmp, file=sys.stderr)

    # -- PostgreSQL

    def start_pg(self):
        os.mkdir(self.pgdata, 0o700)
        os.mkdir(self.pgsock, 0o755)
        if self.root:
            import pwd
            nb = pwd.getpwnam("nobody")
            os.chown(self.pgdata, nb.pw_uid, nb.pw_gid)
            os.chown(self.pgsock, nb.pw_uid, nb.pw_gid)
        self.run(self.as_pg_owner([os.path.join(self.pgbin, "initdb"), "-D", self.pgdata, "-U", "kanca", "-A", "trust",
                                   "-E", "UTF8", "--no-sync", "--no-instructions"]), timeout=120)
        with open(os.path.join(self.pgdata, "postgresql.conf"), "a") as f:
            f.write("\n# kanca bench\nlisten_addresses = ''\nunix_socket_directories = '%s'\n"
                    "max_connections = 200\n" % self.pgsock)
            if self.args.pg_sync == "off":
                f.write("synchronous_commit = off\n")
        self.pg_started = True
        self.run(self.as_pg_owner([os.path.join(self.pgbin, "pg_ctl"), "-D", self.pgdata, "-l",
                                   os.path.join(self.pgsock, "server.log"), "-w", "-t", "60", "start"]), timeout=90)
        self.psql("CREATE DATABASE bench", db="postgres")
        with open(os.path.join(self.pgdata, "postmaster.pid")) as f:
            self.postmaster = int(f.readline())

    def psql(self, sql, db="bench"):
        r = self.run([self.psql_bin, "-h", self.pgsock, "-U", "kanca", "-d", db, "-X", "-At", "-v", "ON_ERROR_STOP=1",
                      "-c", sql], timeout=120)
        return r.stdout.strip()

    def pg_uri(self):
        return "postgresql://kanca@/bench?host=%s" % urllib.parse.quote(self.pgsock, safe="")

    # -- kanca configuration

    def kanca_config(self, name, store):
        path = os.path.join(self.tmp, "kanca-%s.conf" % name)
        with open(path, "w") as f:
            f.write("store = %s\n" % store)
            # the ingest path alone (wrk -> lighttpd -> kanca -> store); the forked processors would
            # share the same two cores (their throughput is issue 4's part of this benchmark)
            f.write("processing = off\n")
            if self.args.log_level:
                f.write("log_level = %s\n" % self.args.log_level)
        self.run([self.kancactl, "-c", path, "migrate"])
        self.run([self.kancactl, "-c", path, "source", "add", "supplier", ACCOUNT, "--secret", self.secret])
        return path

    # -- lighttpd

    def start_lighttpd(self, name, kconf, procs):
        fcgi = '''fastcgi.server = (
  "/api/" => ((
    "socket" => "%(tmp)s/kanca-%(name)s.sock",
    "bin-path" => "%(kanca)s",
    "min-procs" => %(procs)d,
    "max-procs" => %(procs)d,
    "bin-environment" => ("KANCA_CONFIG" => "%(kconf)s", "GNUTLS_NO_IMPLICIT_INIT" => "1"),
    "check-local" => "disable"
  ))
)
''' % dict(tmp=self.tmp, name=name, kanca=self.kanca, procs=procs, kconf=kconf)
        self.light, self.light_port, self.light_errlog = spawn_lighttpd(
            self, name, fcgi, lambda light: len(children_of(light.pid, self.kanca)) >= procs,
            "with %d kanca processes" % procs)

    def stop_lighttpd(self):
        if self.light and self.light.poll() is None:
            self.light.terminate()
            try:
                self.light.wait(10)
            except subprocess.TimeoutExpired:
                self.light.kill()
                self.light.wait(5)
        self.light = None

    def kanca_pids(self):
        if not self.light or self.light.poll() is not None:
            return []
        return children_of(self.light.pid, self.kanca)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.light_port, path)


# ---------------------------------------------------------------- requests

def stock_body(prefix, i):
    return ('{"eventId":"%s-%08d","event":"stock.updated","occurredAt":"2026-01-01T00:00:00Z","data":{"sku":"TUR-%06d",'
            '"urunAdi":"\u00dcsk\u00fcdar\u2013Kad\u0131k\u00f6y vapuru","stok":%d,"fiyat":524.27,"paraBirimi":"TRY",'
            '"depo":"Kad\u0131k\u00f6y Depo"}}' % (prefix, i, i % 1000000, i % 500))


def offer_body(prefix, i):
    return ('{"eventId":"%s-%08d","event":"offer.created","timestamp":"2026-01-01T00:00:00Z","data":{'
            '"vendorOfferId":"%s-offer-%08d","title":"Kad\u0131k\u00f6y \u2013 Be\u015fikta\u015f vapur turu",'
            '"price":%d.50,"currency":"TRY","category":"tour","startLocation":"Kad\u0131k\u00f6y",'
            '"endLocation":"Be\u015fikta\u015f","startAt":"2026-02-01T09:00:00+03:00","endAt":"2026-02-01T11:00:00+03:00",'
            '"availableSeats":%d,"description":"Bo\u011faz turu"}}' % (prefix, i, prefix, i, 100 + i % 900, i % 60))


def sign(secret, body_bytes):
    return hmac.new(secret.encode(), body_bytes, hashlib.sha256).hexdigest()


def write_requests(path, secret, prefix, n, kind):
    mk = offer_body if kind == "offer" else stock_body
    key = secret.encode()
    with open(path, "wb") as f:
        for i in range(n):
            b = mk(prefix, i).encode()
            f.write(hmac.new(key, b, hashlib.sha256).hexdigest().encode() + b"\t" + b + b"\n")


def probe(stack, prefix, route=ROUTE):
    """one real signed request; it must be stored and answered 200 "Event received" """
    body = stock_body(prefix, 0).encode()
    c = http.client.HTTPConnection("127.0.0.1", stack.light_port, timeout=10)
    c.request("POST", route, body, {"Content-Type": "application/json", "X-Signature": sign(stack.secret, body)})
    r = c.getresponse()
    data = r.read().decode("utf-8", "replace")
    c.close()
    if r.status != 200 or '"Event received"' not in data:
        raise BenchError("probe request answered %d %s (lighttpd log: %s)" % (r.status, data, stack.light_errlog))
    return data


# ---------------------------------------------------------------- measurements

def percentile(sorted_vals, q):
    if not sorted_vals:
        return 0.0
    k = max(0, min(len(sorted_vals) - 1, int(round(q / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def run_wrk(stack, script, path, conns, duration, extra_args=(), base=None):
    """wrk against lighttpd's PATH, or BASE + PATH (BASE like http://127.0.0.1:PORT)"""
    threads = min(stack.args.wrk_threads, conns)
    argv = [stack.wrk, "-t", str(threads), "-c", str(conns), "-d", "%ds" % duration, "--timeout", "10s",
            "-s", script, base + path if base else stack.url(path)]
    if extra_args:
        argv += ["--"] + list(extra_args) + [str(threads)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    for line in r.stdout.splitlines():
        if line.startswith("KANCA-BENCH "):
            return json.loads(line[len("KANCA-BENCH "):])
    raise BenchError("wrk gave no result (rc %d): %s %s" % (r.returncode, r.stdout[-1500:], r.stderr[-1500:]))


class Cpu(threading.Thread):
    """CPU time of lighttpd, the kanca processes, the postmaster and its backends, the client (wrk or
    pgbench, from the reaped children's rusage) and the whole machine, between start() and stop().
    Processes are re-discovered every 0.2 s, so backends that come and go (pgbench's) are counted up
    to their last sample; "other" is what the machine spent outside these (other load on the host).
    GROUPS, if given, is a function returning {group name: [pids]} to use instead (bench/peers.py)."""

    def __init__(self, stack, groups=None):
        super().__init__(daemon=True)
        self.stack = stack
        if groups:
            self.groups = groups
        self.stop_ev = threading.Event()
        self.first = {}  # group -> pid -> ticks when first seen (0 if born during the run)
        self.last = {}

    def groups(self):
        s = self.stack
        return {"lighttpd": [s.light.pid] if s.light and s.light.poll() is None else [], "kanca": s.kanca_pids(),
                "postgres": descendants_of(s.postmaster) + [s.postmaster] if s.pg_started else []}

    def sample(self, initial=False):
        for k, pids in self.groups().items():
            f = self.first.setdefault(k, {})
            l = self.last.setdefault(k, {})
            for pid in pids:
                t = cpu_ticks([pid])
                if pid not in f:
                    f[pid] = t if initial else 0
                l[pid] = max(l.get(pid, 0), t)

    def start(self):
        self.sample(initial=True)
        self.c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.sys0 = system_busy_ticks()
        self.irq0 = system_irq_ticks()
        self.w0 = time.time()
        super().start()

    def run(self):
        while not self.stop_ev.wait(0.2):
            self.sample()

    def stop(self):
        self.stop_ev.set()
        self.join(2)
        self.sample()
        res = {}
        for k in self.first:
            res[k] = sum(self.last[k][pid] - self.first[k][pid] for pid in self.first[k]) / TICK
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        res["client"] = (c1.ru_utime + c1.ru_stime) - (self.c0.ru_utime + self.c0.ru_stime)
        res["machine"] = (system_busy_ticks() - self.sys0) / TICK
        res["irq"] = (system_irq_ticks() - self.irq0) / TICK
        res["wall"] = time.time() - self.w0
        res["other"] = max(0.0, res["machine"] - res["client"] - sum(res[k] for k in self.first))
        return res


def pg_rows(stack, table, like):
    return int(stack.psql("SELECT count(*) FROM %s WHERE idempotency_key LIKE '%s%%'" % (table, like)))


def sqlite_rows(dbpath, table, like):
    con = sqlite3.connect(dbpath, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM %s WHERE idempotency_key LIKE ?" % table, (like + "%",)).fetchone()[0]
    finally:
        con.close()


def settle(count_fn, limit=10.0):
    """wait until the row count stops moving (requests wrk cut off may still be committing)"""
    last = count_fn()
    deadline = time.time() + limit
    while time.time() < deadline:
        time.sleep(0.3)
        cur = count_fn()
        if cur == last:
            return cur
        last = cur
    return last


# ---------------------------------------------------------------- the runs

class Results:
    def __init__(self):
        self.rows = []  # dicts

    def add(self, **kw):
        self.rows.append(kw)
        return kw

    def get(self, what, conns):
        for r in self.rows:
            if r["what"] == what and r["conns"] == conns:
                return r
        return None


def pgbench_setup(stack, source_id, probe_key):
    """bench_events (LIKE events INCLUDING ALL, and the foreign key to sources) and the pgbench script: kanca's
    event insert (src/store/intake.c EVENT_INSERT: the same columns, the same ON CONFLICT ... DO NOTHING
    RETURNING id) with the content of the probe row PROBE_KEY (body, headers, verification, secret, status,
    decoded), a unique idempotency key from a sequence and a public_id shaped like kanca's ("evt_", 12 hex
    digits of the wall clock in ms, 20 hex digits: here a second sequence, so it is unique without luck and
    grows at the index's right edge as kanca's does). Returns the script's path."""
    row = json.loads(stack.psql(
        "SELECT json_build_object('body', encode(body, 'hex'), 'verification', verification, 'secret_id', secret_id, "
        "'headers', headers, 'status', status, 'decoded', decoded, 'public_id', public_id) FROM events "
        "WHERE idempotency_key = '%s'" % probe_key))
    stack.psql("CREATE TABLE bench_events (LIKE events INCLUDING ALL, FOREIGN KEY (source_id) REFERENCES sources(id)); "
               "CREATE SEQUENCE bench_seq; CREATE SEQUENCE bench_pub_seq")

    def q(v):
        # E'' literals with the colons escaped: pgbench would take ":name" inside a literal for a variable
        if v is None:
            return "NULL"
        return "E'" + str(v).replace("\\", "\\\\").replace("'", "''").replace(":", "\\x3a") + "'"

    script = os.path.join(stack.tmp, "insert.sql")
    with open(script, "w") as f:
        f.write("INSERT INTO bench_events (source_id, idempotency_key, event_type, body, headers, received_at, "
                "verification, secret_id, status, decoded, public_id) VALUES (%d, 'pgb-' || nextval('bench_seq'), "
                "'stock.updated', decode('%s', 'hex'), %s, extract(epoch from now())::bigint, %s, %s, %s, %s, "
                "'evt_' || lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || "
                "lpad(to_hex(nextval('bench_pub_seq')), 20, '0')) "
                "ON CONFLICT (source_id, idempotency_key) DO NOTHING RETURNING id;\n"
                % (source_id, row["body"], q(row["headers"]), q(row["verification"]),
                   "NULL" if row["secret_id"] is None else int(row["secret_id"]), q(row["status"]), q(row["decoded"])))
    return script


def pgbench_check_row(stack, probe_key, script):
    """the first pgbench row carries the probe row's content (a BenchError otherwise)"""
    same = stack.psql("SELECT count(*) FROM (SELECT * FROM bench_events ORDER BY id LIMIT 1) b JOIN events e ON "
                      "e.idempotency_key = '%s' AND e.headers = b.headers AND e.body = b.body AND "
                      "e.verification = b.verification AND e.status = b.status AND "
                      "e.decoded IS NOT DISTINCT FROM b.decoded AND e.secret_id IS NOT DISTINCT FROM b.secret_id AND "
                      "length(e.public_id) = length(b.public_id)" % probe_key)
    if same != "1":
        raise BenchError("the pgbench row differs from kanca's probe row, or pgbench inserted none (script %s)" % script)


def pgbench_run(stack, conns, duration, script, tag):
    logprefix = os.path.join(stack.tmp, "pgblog-%s" % tag)
    before = int(stack.psql("SELECT count(*) FROM bench_events"))
    stack.psql("CHECKPOINT")
    cpu = Cpu(stack)
    cpu.start()
    argv = [stack.pgbench, "-n", "-M", "prepared", "-c", str(conns), "-j", str(min(2, conns)), "-T", str(duration),
            "-f", script, "-l", "--log-prefix", logprefix, "-h", stack.pgsock, "-U", "kanca", "bench"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, cwd=stack.tmp)
    c = cpu.stop()
    if r.returncode != 0:
        raise BenchError("pgbench failed: %s %s" % (r.stdout[-1500:], r.stderr[-1500:]))
    tps = None
    processed = None
    failed = 0
    for line in r.stdout.splitlines():
        if line.startswith("tps = "):
            tps = float(line.split()[2])
        elif line.startswith("number of transactions actually processed:"):
            processed = int(line.split(":")[1].split("/")[0])
        elif line.startswith("number of failed transactions:"):
            failed = int(line.split(":")[1].split()[0])
    lat = []
    d = os.path.dirname(logprefix)
    for fn in os.listdir(d):
        if fn.startswith(os.path.basename(logprefix) + "."):
            with open(os.path.join(d, fn)) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        lat.append(int(parts[2]))
            os.unlink(os.path.join(d, fn))
    lat.sort()
    after = int(stack.psql("SELECT count(*) FROM bench_events"))
    return dict(rps=tps, p50=percentile(lat, 50) / 1000.0, p99=percentile(lat, 99) / 1000.0, n=processed,
                rows=after - before, failed=failed, cpu=c, logged=len(lat))


def start_perf(stack, tag):
    """--perf DIR: perf record of lighttpd, the kanca processes and the PostgreSQL backends during a run"""
    if not stack.args.perf or tag.startswith("warm"):
        return None
    os.makedirs(stack.args.perf, exist_ok=True)
    pids = stack.kanca_pids() + ([stack.light.pid] if stack.light else [])
    if stack.pg_started:
        pids += descendants_of(stack.postmaster)
    data = os.path.join(stack.args.perf, "perf-%s.data" % tag)
    for attempt in range(3):
        live = [x for x in pids if os.path.exists("/proc/%d" % x)]
        p = subprocess.Popen(["perf", "record", "-g", "-q", "-o", data, "-p", ",".join(str(x) for x in live)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.procs.append(p)
        time.sleep(0.5)
        if p.poll() is None:
            return p, data
        # a pid went away between the listing and perf's attach: retry with the long-lived ones
        pids = stack.kanca_pids() + ([stack.light.pid] if stack.light else [])
    note("perf record did not start for %s" % tag)
    return None


def stop_perf(stack, perf, tag):
    if not perf:
        return
    p, data = perf
    p.send_signal(signal.SIGINT)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
    for name, sort in (("comm", "comm"), ("sym", "comm,dso,sym")):
        with open(os.path.join(stack.args.perf, "perf-%s-%s.txt" % (tag, name)), "w") as f:
            subprocess.run(["perf", "report", "--stdio", "--no-children", "-i", data, "--sort", sort, "-g", "none",
                            "--percent-limit", "0.3"], stdout=f, stderr=subprocess.DEVNULL, timeout=300)


def kanca_run(stack, sampler, results, what, store, conns, duration, n, kind, count_fn, tag, extra_check=None,
              base=None, cpu_groups=None):
    """one wrk run of N unique signed requests (a fresh request file) against lighttpd (or BASE: another server
    with the same route, bench/peers.py), and the row check: 2xx <= rows <= 2xx + conns"""
    prefix = "%s-%s" % (tag, secrets.token_hex(4))
    reqfile = os.path.join(stack.tmp, "req-%s.txt" % tag)
    t0 = time.time()
    write_requests(reqfile, stack.secret, prefix, n, kind)
    note("%s: %d signed requests written in %.1f s" % (tag, n, time.time() - t0))
    if store == "pg":
        stack.psql("CHECKPOINT")
    perf = start_perf(stack, tag) if base is None else None
    cpu = Cpu(stack, cpu_groups)
    cpu.start()
    w = run_wrk(stack, os.path.join(HERE, "signed.lua"), ROUTE, conns, duration, [reqfile], base=base)
    c = cpu.stop()
    stop_perf(stack, perf, tag)
    os.unlink(reqfile)
    rows = settle(lambda: count_fn(prefix))
    snap = sampler.snapshot()
    c2 = w["c2xx"]
    ok = c2 <= rows <= c2 + conns
    extra = extra_check(prefix, rows) if extra_check else None
    if extra is not None and not extra[0]:
        ok = False
    secs = w["duration_us"] / 1e6
    r = results.add(what=what, conns=conns, rps=c2 / secs, p50=w["p50_us"] / 1000.0, p99=w["p99_us"] / 1000.0,
                    c2xx=c2, other=w["cother"], statuses=w["statuses"], exhausted=w["exhausted"], rows=rows,
                    check=ok, extra=extra, rss=snap, cpu=c, wrk=w, prefix=prefix)
    note("%s: %.0f req/s p50 %.2f ms p99 %.2f ms, 2xx %d rows %d non-2xx %d exhausted %d" %
         (tag, r["rps"], r["p50"], r["p99"], c2, rows, w["cother"], w["exhausted"]))
    return r


# ---------------------------------------------------------------- processing (issue 4)

SLOW_SECONDS = 2.0


class Sink:
    """bench/sink.py, the forward destination: an asyncio HTTP server on an ephemeral 127.0.0.1 port that
    answers 200 at once (or after SLOW_SECONDS under /slow...) and counts the webhook-id of every POST"""

    def __init__(self, stack):
        self.stack = stack
        self.log = open(os.path.join(stack.tmp, "sink.log"), "w")
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "sink.py"), "--slow", str(SLOW_SECONDS),
                                   "--max-seconds", "14400"], stdout=subprocess.PIPE, stderr=self.log, text=True)
        stack.procs.append(self.p)
        ready, _, _ = select.select([self.p.stdout], [], [], 15)
        line = self.p.stdout.readline() if ready else ""
        if not line.startswith("PORT "):
            raise BenchError("the sink did not start (see %s)" % self.log.name)
        self.port = int(line.split()[1])

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stats(self, prefix):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", "/stats?prefix=" + urllib.parse.quote(prefix, safe="/"))
            r = c.getresponse()
            return json.loads(r.read())
        finally:
            c.close()

    def cpu(self):
        return cpu_ticks([self.p.pid]) / TICK

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


class ProcStore:
    """The store of the processing runs: a fresh database (PostgreSQL: database "proc" in the bench cluster;
    SQLite: proc.db), so that each run's events table holds that run's events and nothing else."""

    def __init__(self, stack, kind):
        self.stack = stack
        self.kind = kind
        if kind == "pg":
            stack.psql("CREATE DATABASE proc", db="postgres")
            self.store = "postgresql://kanca@/proc?host=%s" % urllib.parse.quote(stack.pgsock, safe="")
            self.label = "PostgreSQL"
        else:
            self.path = os.path.join(stack.tmp, "proc.db")
            self.store = "sqlite:" + self.path
            self.label = "SQLite"
        self.conf_off = self.write_conf("off")
        self.conf_fork = self.write_conf("fork")
        stack.run([stack.kancactl, "-c", self.conf_off, "migrate"])

    def write_conf(self, processing):
        path = os.path.join(self.stack.tmp, "kanca-proc-%s-%s.conf" % (self.kind, processing))
        with open(path, "w") as f:
            f.write("store = %s\nprocessing = %s\n" % (self.store, processing))
            if self.stack.args.log_level:
                f.write("log_level = %s\n" % self.stack.args.log_level)
        return path

    def add_source(self, account, forward_url):
        """supplier/ACCOUNT (the bench secret) with one action: forward to forward_url (Standard Webhooks signed)"""
        s = self.stack
        s.run([s.kancactl, "-c", self.conf_off, "source", "add", "supplier", account, "--secret", s.secret])
        s.run([s.kancactl, "-c", self.conf_off, "source", "action", "add", "supplier", account, "forward", forward_url,
               "--generate-secret"])
        return self.scalar("SELECT id FROM sources WHERE provider = 'supplier' AND account = '%s'" % account)

    def sql(self, q):
        if self.kind == "pg":
            return self.stack.psql(q, db="proc")
        con = sqlite3.connect(self.path, timeout=60)
        try:
            cur = con.execute(q)
            rows = cur.fetchall()
            con.commit()
            return "\n".join("|".join("" if v is None else str(v) for v in r) for r in rows)
        finally:
            con.close()

    def scalar(self, q):
        return int(self.sql(q) or 0)

    def statuses(self, source_id):
        out = {}
        for line in self.sql("SELECT status, count(*) FROM events WHERE source_id = %d GROUP BY status"
                             % source_id).splitlines():
            k, _, v = line.partition("|")
            out[k] = int(v)
        return out

    def processed(self, source_id):
        return self.scalar("SELECT count(*) FROM events WHERE source_id = %d AND status = 'processed'" % source_id)

    def columns(self):
        if self.kind == "pg":
            return self.sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'events' "
                            "ORDER BY ordinal_position").split()
        return [line.split("|")[1] for line in self.sql("PRAGMA table_info(events)").splitlines()]

    def keep_template(self, event_id):
        """the probe row kanca stored becomes bench_template (and leaves events)"""
        st = self.sql("SELECT status FROM events WHERE id = %d" % event_id)
        if st != "received":
            raise BenchError("the probe event %d has status %r, not received" % (event_id, st))
        self.sql("CREATE TABLE bench_template AS SELECT * FROM events WHERE id = %d" % event_id)
        self.clear()

    def clear(self):
        """an empty events table (the previous run's events, attempts and audit rows go)"""
        for q in ("DELETE FROM attempts", "DELETE FROM audit_log", "DELETE FROM events"):
            self.sql(q)
        if self.kind == "pg":
            self.sql("VACUUM ANALYZE events")
            self.sql("VACUUM ANALYZE attempts")
        else:
            self.sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def make_stored(self, n, source_id):
        """n processed copies of the probe row under another source: a table that already holds n finished
        events (issue 12, target 8: the drain's cost must not grow with them)"""
        cols = [c for c in self.columns() if c not in ("id", "idempotency_key", "public_id", "status", "source_id")]
        cl = ", ".join(cols)
        if self.kind == "pg":
            self.sql("INSERT INTO events (idempotency_key, public_id, status, source_id, %s) SELECT 'stored-' || i, "
                     "'evt_' || md5('stored-' || i), 'processed', %d, %s FROM bench_template, "
                     "generate_series(1, %d) AS i" % (cl, source_id, cl, n))
            self.sql("VACUUM ANALYZE events")
            self.sql("CHECKPOINT")
        else:
            self.sql("INSERT INTO events (idempotency_key, public_id, status, source_id, %s) WITH RECURSIVE seq(i) AS "
                     "(SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) SELECT 'stored-' || i, "
                     "'evt_' || lower(hex(randomblob(16))), 'processed', %d, %s FROM seq, bench_template"
                     % (cl, n, source_id, cl))
            self.sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def make_backlog(self, n, prefix):
        """n copies of kanca's own probe row (every column as stored, status 'received'), each with its own
        idempotency key prefix-00000001 ..."""
        cols = [c for c in self.columns() if c not in ("id", "idempotency_key", "public_id")]
        cl = ", ".join(cols)
        # each its own public id (unique since migration 008): evt_ and 32 hex digits, as kanca's
        if self.kind == "pg":
            self.sql("INSERT INTO events (idempotency_key, public_id, %s) SELECT '%s-' || lpad(i::text, 8, '0'), "
                     "'evt_' || md5('%s-' || i), %s FROM bench_template, generate_series(1, %d) AS i"
                     % (cl, prefix, prefix, cl, n))
            self.sql("VACUUM ANALYZE events")
            self.sql("CHECKPOINT")
        else:
            self.sql("INSERT INTO events (idempotency_key, public_id, %s) WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL "
                     "SELECT i + 1 FROM seq WHERE i < %d) SELECT printf('%s-%%08d', i), "
                     "'evt_' || lower(hex(randomblob(16))), %s FROM seq, bench_template" % (cl, n, prefix, cl))
            self.sql("PRAGMA wal_checkpoint(TRUNCATE)")


def stop_procs(procs, grace=30):
    """SIGTERM (kancactl worker stops after the event in hand), then SIGKILL after grace seconds"""
    for p in procs:
        if p.returncode is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.time() + grace
    for p in procs:
        if p.returncode is None:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def drain_run(stack, ps, sink, source_id, store, n, workers, limit, prefix, stored=0, stored_sid=None):
    """n received events (after `stored` processed ones of another source), then `kancactl worker --drain`
    x workers started together; seconds until the last one exits (every event processed)"""
    ps.clear()
    t = time.time()
    if stored:
        ps.make_stored(stored, stored_sid)
        note("drain %s: %d processed events stored first, in %.1f s" % (store, stored, time.time() - t))
    ps.make_backlog(n, prefix)
    st = ps.statuses(source_id)
    if st != {"received": n}:
        raise BenchError("backlog: expected %d received events, found %s" % (n, st))
    note("drain %s x%d: %d received events made in %.1f s" % (store, workers, n, time.time() - t))
    s0 = sink.stats(prefix)
    cpu = Cpu(stack)
    cpu.start()
    sink0 = sink.cpu()
    t0 = time.time()
    procs = []
    for k in range(workers):
        p = subprocess.Popen([stack.kancactl, "-c", ps.conf_off, "worker", "--drain"], stdout=subprocess.PIPE,
                             stderr=open(os.path.join(stack.tmp, "worker-%s-%d-%d.log" % (store, workers, k)), "w"),
                             text=True)
        procs.append(p)
        stack.procs.append(p)
    peak = {}
    rusage = {}
    ends = {}
    timed_out = False
    next_note = t0 + 30
    while len(ends) < workers:
        for p in procs:
            if p.pid in ends:
                continue
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                ends[p.pid] = time.time()
                rusage[p.pid] = ru.ru_utime + ru.ru_stime
                peak[p.pid] = ru.ru_maxrss / 1024.0  # MiB: the worker's peak resident set over the drain
        if len(ends) == workers:
            break
        now = time.time()
        if now - t0 > limit:
            timed_out = True
            note("drain %s x%d: --drain-limit %d s reached, stopping the workers" % (store, workers, limit))
            stop_procs([p for p in procs if p.pid not in ends])
            for p in procs:
                if p.pid not in ends:
                    ends[p.pid] = time.time()
            break
        if now >= next_note:
            done = ps.processed(source_id)
            note("drain %s x%d: %d/%d processed after %.0f s (%.0f/s)" % (store, workers, done, n, now - t0,
                                                                      done / (now - t0)))
            next_note = now + 30
        time.sleep(0.05)
    wall = max(ends.values()) - t0
    c = cpu.stop()
    sink_cpu = sink.cpu() - sink0
    claimed = 0
    exits = []
    for p in procs:
        out = p.stdout.read() if p.stdout else ""
        exits.append("exit %s: %s" % (p.returncode, out.strip() or "no output"))
        for word in out.split():
            if word.isdigit():
                claimed += int(word)
                break
    st = ps.statuses(source_id)
    s1 = sink.stats(prefix)
    posts = s1["posts"] - s0["posts"]
    distinct = s1["distinct"] - s0["distinct"]
    sconns = s1["connections"] - s0["connections"]
    done = st.get("processed", 0)
    ok = not timed_out and done == n and len(st) == 1 and distinct == n and posts == n and \
        all(p.returncode == 0 for p in procs)
    wcpu = sum(rusage.values())
    r = dict(what="backlog drain", store=ps.label, workers=workers, n=n, done=done, seconds=wall, stored=stored,
             eps=done / wall if wall else 0, check=ok, timed_out=timed_out, statuses=st, posts=posts, distinct=distinct,
             sink_conns=sconns, exits=exits, worker_peak=max(peak.values()) if peak else 0.0,
             claimed=claimed, worker_cpu=wcpu, pg_cpu=c.get("postgres", 0), sink_cpu=sink_cpu, machine=c["machine"],
             wall=c["wall"], other=max(0.0, c["other"] - sink_cpu))
    note("drain %s x%d: %d/%d processed in %.1f s, %.0f events/s; sink %d POSTs, %d distinct webhook-ids: %s"
         % (store, workers, done, n, wall, r["eps"], posts, distinct, "PASS" if ok else "FAIL"))
    if not ok:
        note("drain %s x%d: statuses %s; workers: %s" % (store, workers, json.dumps(st), "; ".join(exits)))
    return r


def wait_processed(ps, source_id, total_fn, limit):
    """seconds until every event of the source is processed (None if not within limit)"""
    t0 = time.time()
    while time.time() - t0 < limit:
        st = ps.statuses(source_id)
        total = total_fn()
        if total and st.get("processed", 0) == total and sum(st.values()) == total:
            return time.time() - t0
        time.sleep(0.25)
    return None


def live_run(stack, ps, sink, source_id, store, conns, duration, nreq, limit, prefix, account):
    """wrk ingest with processing = fork (the responders' processors forward while requests come in)"""
    route = "/api/suppliers/%s/webhook" % account
    reqfile = os.path.join(stack.tmp, "req-live-%s.txt" % store)
    write_requests(reqfile, stack.secret, prefix, nreq, "stock")
    ps.clear()
    sink0 = sink.stats("/live-%s/" % store)
    w = run_wrk(stack, os.path.join(HERE, "signed.lua"), route, conns, duration, [reqfile])
    t_end = time.time()
    at_end = ps.statuses(source_id)
    os.unlink(reqfile)
    secs = w["duration_us"] / 1e6
    c2 = w["c2xx"]
    rows_at_end = sum(at_end.values())
    # every stored event processed: the rows count is final once nothing is left unprocessed and it stops moving
    rows = settle(lambda: ps.scalar("SELECT count(*) FROM events WHERE source_id = %d" % source_id), 10.0)
    settled = wait_processed(ps, source_id, lambda: rows, limit)
    settled_after = (time.time() - t_end) if settled is not None else None
    st = ps.statuses(source_id)
    s1 = sink.stats("/live-%s/" % store)
    posts = s1["posts"] - sink0["posts"]
    distinct = s1["distinct"] - sink0["distinct"]
    ok = c2 <= rows <= c2 + conns and settled is not None and st.get("processed", 0) == rows and \
        distinct == rows and posts == rows
    r = dict(what="live", store=ps.label, conns=conns, rps=c2 / secs, p50=w["p50_us"] / 1000.0,
             p99=w["p99_us"] / 1000.0, c2xx=c2, rows=rows, processed_in_load=at_end.get("processed", 0),
             eps_load=at_end.get("processed", 0) / secs, backlog_end=rows_at_end - at_end.get("processed", 0),
             settled_after=settled_after, eps_total=(rows / (secs + settled_after)) if settled_after is not None else 0,
             posts=posts, distinct=distinct, statuses=st, check=ok, other=w["cother"], exhausted=w["exhausted"])
    note("live %s: ingest %.0f req/s p99 %.2f ms; %d processed during the load (%.0f/s), %d left, all %d processed "
         "%s; sink %d POSTs %d distinct: %s"
         % (store, r["rps"], r["p99"], r["processed_in_load"], r["eps_load"], r["backlog_end"], rows,
            ("%.1f s after the load" % settled_after) if settled_after is not None else "NOT within %d s" % limit,
            posts, distinct, "PASS" if ok else "FAIL"))
    return r


def slow_run(stack, ps, sink, source_id, store, count, prefix, account):
    """count sequential signed requests whose forward destination takes SLOW_SECONDS: the answer must not wait"""
    route = "/api/suppliers/%s/webhook" % account
    ps.clear()
    s0 = sink.stats("/slow-%s/" % store)
    lat = []
    bad = 0
    c = http.client.HTTPConnection("127.0.0.1", stack.light_port, timeout=30)
    key = stack.secret.encode()
    try:
        for i in range(count):
            body = stock_body(prefix, i).encode()
            hdrs = {"Content-Type": "application/json", "X-Signature": hmac.new(key, body, hashlib.sha256).hexdigest()}
            t = time.perf_counter()
            c.request("POST", route, body, hdrs)
            resp = c.getresponse()
            resp.read()
            lat.append((time.perf_counter() - t) * 1000.0)
            if resp.status != 200:
                bad += 1
    finally:
        c.close()
    t_sent = time.time()
    limit = SLOW_SECONDS * count + 60
    settled = wait_processed(ps, source_id, lambda: count, limit)
    st = ps.statuses(source_id)
    s1 = sink.stats("/slow-%s/" % store)
    posts = s1["posts"] - s0["posts"]
    distinct = s1["distinct"] - s0["distinct"]
    slat = sorted(lat)
    ok = bad == 0 and settled is not None and st.get("processed", 0) == count and distinct == count and posts == count
    r = dict(what="slow", store=ps.label, n=count, p50=percentile(slat, 50), p99=percentile(slat, 99), max=slat[-1],
             bad=bad, processed=st.get("processed", 0), settled_after=(time.time() - t_sent) if settled is not None else None,
             posts=posts, distinct=distinct, check=ok)
    note("slow %s: %d answers p50 %.2f ms p99 %.2f ms max %.2f ms (non-200: %d); processed %d/%d %s: %s"
         % (store, count, r["p50"], r["p99"], r["max"], bad, r["processed"], count,
            ("%.1f s after the last answer" % r["settled_after"]) if settled is not None else "NOT within %d s" % limit,
            "PASS" if ok else "FAIL"))
    return r


def processing_runs(stack, store, args, nreq):
    """the processing figures for one store (PostgreSQL cluster running, or the SQLite file)"""
    ps = ProcStore(stack, store)
    sink = stack.sink
    out = []
    drain_sid = ps.add_source("drain", sink.url("/drain-%s-probe/" % store))
    # the template row: a real request stored by kanca (processing = off, so it stays received)
    stack.start_lighttpd("proc-%s-off" % store, ps.conf_off, args.procs)
    probe(stack, "drain-probe", "/api/suppliers/drain/webhook")
    stack.stop_lighttpd()
    ps.keep_template(ps.scalar("SELECT id FROM events WHERE source_id = %d" % drain_sid))
    stored_sid = ps.add_source("stored", sink.url("/stored-%s/" % store)) if args.stored != "0" else None
    for stored in [int(x) for x in args.stored.split(",") if x.strip()]:
        for w in [int(x) for x in args.drain_workers.split(",") if x.strip()]:
            # each run its own sink path: the delivery check counts that run's webhook-ids alone
            path = "/drain-%s-w%d-s%d/" % (store, w, stored)
            for aid in ps.sql("SELECT id FROM actions WHERE source_id = %d" % drain_sid).split():
                stack.run([stack.kancactl, "-c", ps.conf_off, "source", "action", "remove", "supplier", "drain", aid])
            stack.run([stack.kancactl, "-c", ps.conf_off, "source", "action", "add", "supplier", "drain", "forward",
                       sink.url(path), "--generate-secret"])
            out.append(drain_run(stack, ps, sink, drain_sid, store, args.backlog, w, args.drain_limit, path,
                                 stored, stored_sid))
    ps.clear()
    live_sid = ps.add_source("live", sink.url("/live-%s/" % store))
    slow_sid = ps.add_source("slow", sink.url("/slow-%s/" % store))
    stack.start_lighttpd("proc-%s-fork" % store, ps.conf_fork, args.procs)
    try:
        if args.live_duration > 0:
            out.append(live_run(stack, ps, sink, live_sid, store, 64, args.live_duration, nreq, args.drain_limit,
                                "live-%s-%s" % (store, secrets.token_hex(4)), "live"))
        if args.slow_requests > 0:
            out.append(slow_run(stack, ps, sink, slow_sid, store, args.slow_requests,
                                "slow-%s-%s" % (store, secrets.token_hex(4)), "slow"))
    finally:
        stack.stop_lighttpd()
    return out


def report_processing(rows, args):
    say("")
    say("Processing (forward action to a local HTTP sink on 127.0.0.1, bench/sink.py; each run in a fresh store):")
    drains = [r for r in rows if r["what"] == "backlog drain"]
    if drains:
        hdr = "%-36s %-10s %7s %8s %7s %9s %9s %9s %9s %6s %6s  %s" % (
            "backlog drain: kancactl worker --drain", "store", "workers", "stored", "events", "seconds", "events/s",
            "worker us", "pg us", "sink", "other", "check")
        say(hdr)
        say("-" * len(hdr))
        for r in drains:
            n = r["done"] or 1
            chk = "%s (processed %d/%d, sink POSTs %d, distinct webhook-ids %d, connections %d, worker peak RSS " \
                "%.1f MiB%s%s)" % (
                "PASS" if r["check"] else "FAIL", r["done"], r["n"], r["posts"], r["distinct"], r["sink_conns"],
                r.get("worker_peak", 0.0),
                ", NOT DRAINED within --drain-limit %d s" % args.drain_limit if r["timed_out"] else "",
                "" if set(r["statuses"]) <= {"processed"} else ", statuses %s" % json.dumps(r["statuses"]))
            if not r["check"]:
                chk += "; workers: " + "; ".join(r["exits"])
            say("%-36s %-10s %7d %8d %7d %9.1f %9.0f %9.0f %9s %5.0f%% %6.2f  %s" % (
                "", r["store"], r["workers"], r.get("stored", 0), r["n"], r["seconds"], r["eps"], 1e6 * r["worker_cpu"] / n,
                "%.0f" % (1e6 * r["pg_cpu"] / n) if r["store"] == "PostgreSQL" else "-",
                100.0 * r["sink_cpu"] / r["seconds"] if r["seconds"] else 0,
                r["other"] / r["wall"] if r["wall"] else 0, chk))
        say("  worker us / pg us = CPU microseconds per event of the kancactl workers / the PostgreSQL backends;")
        say("  sink = the sink's CPU as a share of one CPU over the drain (well below 100%: not the bottleneck);")
        say("  other = CPUs busy outside the workers, PostgreSQL and the sink (bench.py itself, and other load on the host).")
    lives = [r for r in rows if r["what"] == "live"]
    if lives:
        say("")
        hdr = "%-36s %-10s %5s %9s %8s %8s %10s %8s %9s  %s" % (
            "ingest + processing = fork", "store", "conns", "ingest/s", "p50 ms", "p99 ms", "processed/s",
            "backlog", "settle s", "check")
        say(hdr)
        say("-" * len(hdr))
        for r in lives:
            chk = "%s (2xx %d, rows %d, processed %d, sink POSTs %d, distinct %d%s)" % (
                "PASS" if r["check"] else "FAIL", r["c2xx"], r["rows"], r["statuses"].get("processed", 0), r["posts"],
                r["distinct"], ", non-2xx %d" % r["other"] if r["other"] else "")
            say("%-36s %-10s %5d %9.0f %8.2f %8.2f %10.0f %8d %9s  %s" % (
                "  wrk %d s, %d responders" % (args.live_duration, args.procs), r["store"], r["conns"], r["rps"], r["p50"],
                r["p99"], r["eps_load"], r["backlog_end"],
                "%.1f" % r["settled_after"] if r["settled_after"] is not None else "> %d" % args.drain_limit, chk))
        say("  ingest/s = 2xx per second during the load; processed/s = events processed during the load per second;")
        say("  backlog = events stored but not yet processed when the load stopped; settle s = seconds after the load")
        say("  until every stored event was processed.")
    slows = [r for r in rows if r["what"] == "slow"]
    if slows:
        say("")
        hdr = "%-36s %-10s %8s %8s %8s %8s %10s  %s" % (
            "answer latency, destination %.0f s" % SLOW_SECONDS, "store", "requests", "p50 ms", "p99 ms", "max ms",
            "processed", "check")
        say(hdr)
        say("-" * len(hdr))
        for r in slows:
            chk = "%s (non-200 %d, sink POSTs %d, distinct %d%s)" % (
                "PASS" if r["check"] else "FAIL", r["bad"], r["posts"], r["distinct"],
                ", all processed %.1f s after the last answer" % r["settled_after"] if r["settled_after"] is not None
                else ", NOT all processed")
            say("%-36s %-10s %8d %8.2f %8.2f %8.2f %10s  %s" % (
                "  sequential, processing = fork", r["store"], r["n"], r["p50"], r["p99"], r["max"],
                "%d/%d" % (r["processed"], r["n"]), chk))
        say("  each request is answered before its event is forwarded: the answer does not wait for the destination.")


def fmt_ratio(a, b):
    if not a or not b:
        return "-"
    return "%.0f%%" % (100.0 * a / b)


def rss_text(snap, pids=None):
    if not snap:
        return "-"
    vals = [v.get("VmHWM", 0) for pid, v in sorted(snap.items()) if pids is None or pid in pids]
    return "/".join("%.1f" % (x / MIB) for x in vals)


def main():
    ap = argparse.ArgumentParser(description="kanca benchmark (prints figures; not a test)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    ap.add_argument("--quick", action="store_true", help="3 s per run")
    ap.add_argument("--procs", type=int, default=int(os.environ.get("KANCA_BENCH_PROCS", "8")),
                    help="lighttpd min-procs = max-procs for kanca (default 8; see bench/README.md)")
    ap.add_argument("--sweep-procs", default="", help="also measure kanca+PostgreSQL at 64 connections with these "
                    "max-procs values, e.g. 2,4,8 (adds runs)")
    ap.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--log-level", default="", help="kanca log_level for the run (default: kanca's default)")
    ap.add_argument("--pg-sync", default="on", choices=("on", "off"), help="synchronous_commit of the cluster")
    ap.add_argument("--no-offer", action="store_true", help="skip the offer.created run")
    ap.add_argument("--perf", default="", metavar="DIR", help="perf record the stack during each kanca run; "
                    "data and reports go to DIR")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--no-processing", action="store_true", help="skip the processing runs (backlog drain, ingest "
                    "with processing = fork, answer latency with a slow destination)")
    ap.add_argument("--backlog", type=int, default=None, help="received events the drain runs start from "
                    "(default 100000; 10000 with --quick)")
    ap.add_argument("--drain-workers", default="1", help="kancactl workers started together on the backlog, one "
                    "drain run per value, e.g. 1,2 (default 1)")
    ap.add_argument("--stored", default="0", help="processed events of another source stored before each drain, "
                    "one drain run per value, e.g. 0,1000000 (default 0): the drain's cost against the table's size")
    ap.add_argument("--drain-limit", type=int, default=3600, help="seconds a drain (or the settling after the live "
                    "load) may take before the workers are stopped and the run fails (default 3600)")
    ap.add_argument("--live-duration", type=int, default=None, help="seconds of wrk ingest with processing = fork "
                    "(default: --duration; 0 skips the run)")
    ap.add_argument("--slow-requests", type=int, default=50, help="sequential requests whose forward destination "
                    "takes 2 s (default 50; 0 skips the run)")
    ap.add_argument("--output", default=os.path.join(HERE, "results-latest.txt"))
    args = ap.parse_args()
    if args.quick:
        args.duration = 3
    if args.backlog is None:
        args.backlog = 10000 if args.quick else 100000
    if args.live_duration is None:
        args.live_duration = args.duration
    if not 1 <= args.backlog <= 10000000:
        raise BenchError("--backlog must be 1..10000000")
    if not 0 <= args.live_duration <= 600 or not 0 <= args.slow_requests <= 10000 or args.drain_limit < 1:
        raise BenchError("--live-duration 0..600, --slow-requests 0..10000, --drain-limit >= 1")
    if any(not x.strip().isdigit() or not 1 <= int(x) <= 64 for x in args.drain_workers.split(",")):
        raise BenchError("--drain-workers expects numbers 1..64, e.g. 1,2")
    if args.duration < 1 or args.duration > 600:
        raise BenchError("--duration must be 1..600 seconds")
    D = args.duration
    conns_list = (4, 64)

    stack = Stack(args)
    results = Results()
    started = time.time()

    def on_signal(sig, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_signal)
    try:
        say("kanca benchmark  %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        say("host: %s, %d CPUs, %s; kanca %s" % (platform.node(), os.cpu_count(), platform.release(),
                                                   subprocess.run([stack.kanca, "--version"], capture_output=True,
                                                                  text=True).stdout.strip()))
        say("build dir: %s; load average at start: %s" % (stack.builddir, " ".join(open("/proc/loadavg").read().split()[:3])))
        say("duration %d s per run; lighttpd max-procs %d; wrk -t%d; PostgreSQL %s, synchronous_commit=%s; "
            "kanca log_level %s" % (D, args.procs, args.wrk_threads,
                                    stack.run([stack.psql_bin, "--version"]).stdout.split()[2], args.pg_sync,
                                    args.log_level or "default (info)"))
        if args.no_processing:
            say("processing runs: skipped (--no-processing)")
        else:
            say("processing runs: backlog %d events, drain workers %s, ingest with processing = fork %d s, %d requests "
                "to a %.0f s destination" % (args.backlog, args.drain_workers, args.live_duration, args.slow_requests,
                                             SLOW_SECONDS))
        note("starting PostgreSQL in %s" % stack.tmp)
        stack.start_pg()
        pgconf = stack.kanca_config("pg", stack.pg_uri())
        sqpath = os.path.join(stack.tmp, "bench.db")
        sqconf = stack.kanca_config("sqlite", "sqlite:" + sqpath)
        source_id = int(stack.psql("SELECT id FROM sources WHERE provider = 'supplier' AND account = '%s'" % ACCOUNT))

        # ---- kanca + PostgreSQL stack up; the probe row gives the pgbench row its exact content
        stack.start_lighttpd("pg", pgconf, args.procs)
        probe(stack, "probe-pg")
        script = pgbench_setup(stack, source_id, "probe-pg-00000000")

        # ---- ceiling 1: pgbench
        for c in conns_list:
            note("pgbench, %d connections" % c)
            p = pgbench_run(stack, c, D, script, "c%d" % c)
            results.add(what="pgbench insert", conns=c, rps=p["rps"], p50=p["p50"], p99=p["p99"],
                        check=p["rows"] == p["n"] and p["failed"] == 0, rows=p["rows"], c2xx=p["n"], other=p["failed"],
                        cpu=p["cpu"], statuses={}, exhausted=0, rss=None, extra=None)
            note("pgbench c%d: %.0f tps p50 %.2f p99 %.2f rows %d/%d" % (c, p["rps"], p["p50"], p["p99"], p["rows"], p["n"]))
        pgbench_check_row(stack, "probe-pg-00000000", script)
        ceiling = max(results.get("pgbench insert", c)["rps"] for c in conns_list)
        nreq = int(min(3000000, max(30000, 1.4 * ceiling * D + 5000)))

        # ---- ceiling 2: a static file from the same lighttpd
        for c in conns_list:
            note("static, %d connections" % c)
            cpu = Cpu(stack)
            cpu.start()
            w = run_wrk(stack, os.path.join(HERE, "static.lua"), "/static.json", c, D)
            cc = cpu.stop()
            results.add(what="static lighttpd", conns=c, rps=w["c2xx"] / (w["duration_us"] / 1e6), p50=w["p50_us"] / 1000.0,
                        p99=w["p99_us"] / 1000.0, check=w["cother"] == 0, rows=None, c2xx=w["c2xx"], other=w["cother"],
                        cpu=cc, statuses={}, exhausted=0, rss=None, extra=None)

        # ---- kanca + PostgreSQL
        sampler = RssSampler(stack.kanca_pids)
        sampler.start()
        pgcount = lambda pre: pg_rows(stack, "events", pre)
        kanca_run(stack, sampler, Results(), "warmup", "pg", 64, 1, 20000, "stock", pgcount, "warm-pg")
        for c in conns_list:
            kanca_run(stack, sampler, results, "kanca+PostgreSQL", "pg", c, D, nreq, "stock", pgcount, "pg-c%d" % c)
        if not args.no_offer:
            def offers_check(prefix, rows):
                n = int(stack.psql("SELECT count(*) FROM offers WHERE vendor_offer_id LIKE '%s-offer-%%'" % prefix))
                return (n == rows, "offers rows %d" % n)
            kanca_run(stack, sampler, results, "kanca+PG offer.created", "pg", 64, D, nreq, "offer", pgcount, "pgoffer-c64",
                      extra_check=offers_check)
        mem = {"kanca+PostgreSQL": memory_detail(stack)}
        sampler.stop()
        pg_rss = sampler.snapshot()
        stack.stop_lighttpd()

        # ---- optional max-procs sweep (PostgreSQL, 64 connections)
        sweep = []
        for v in [int(x) for x in args.sweep_procs.split(",") if x.strip()]:
            stack.start_lighttpd("pg%d" % v, pgconf, v)
            sm = RssSampler(stack.kanca_pids)
            sm.start()
            kanca_run(stack, sm, Results(), "warmup", "pg", 64, 1, 20000, "stock", pgcount, "warm-pg%d" % v)
            r = kanca_run(stack, sm, Results(), "kanca+PostgreSQL procs=%d" % v, "pg", 64, D, nreq, "stock", pgcount,
                          "pg%d-c64" % v)
            for c in (4,):
                r4 = kanca_run(stack, sm, Results(), "kanca+PostgreSQL procs=%d" % v, "pg", c, D, nreq, "stock", pgcount,
                               "pg%d-c%d" % (v, c))
                sweep.append((v, r4))
            sweep.append((v, r))
            sm.stop()
            stack.stop_lighttpd()

        # ---- processing on PostgreSQL (issue 4): a fresh database in the same cluster
        proc_rows = []
        nlive = int(min(3000000, max(30000, 1.4 * ceiling * args.live_duration + 5000)))
        if not args.no_processing:
            stack.sink = Sink(stack)
            proc_rows += processing_runs(stack, "pg", args, nlive)

        # ---- kanca + SQLite (the PostgreSQL cluster is stopped first: its background work is not this stack's)
        subprocess.run(stack.as_pg_owner([os.path.join(stack.pgbin, "pg_ctl"), "-D", stack.pgdata, "-m", "fast", "-w",
                                          "-t", "30", "stop"]), capture_output=True, timeout=60)
        stack.pg_started = False
        stack.start_lighttpd("sqlite", sqconf, args.procs)
        probe(stack, "probe-sqlite")
        sampler = RssSampler(stack.kanca_pids)
        sampler.start()
        sqcount = lambda pre: sqlite_rows(sqpath, "events", pre)
        kanca_run(stack, sampler, Results(), "warmup", "sqlite", 64, 1, 20000, "stock", sqcount, "warm-sq")
        for c in conns_list:
            kanca_run(stack, sampler, results, "kanca+SQLite", "sqlite", c, D, nreq, "stock", sqcount, "sq-c%d" % c)
        mem["kanca+SQLite"] = memory_detail(stack)
        sampler.stop()
        stack.stop_lighttpd()

        # ---- processing on SQLite: a fresh file
        if not args.no_processing:
            proc_rows += processing_runs(stack, "sqlite", args, nlive)
            stack.sink.stop()

        report(stack, results, sweep, mem, args, time.time() - started, proc_rows)
        with open(args.output, "w") as f:
            f.write("\n".join(OUT) + "\n")
        ok = all(r["check"] for r in results.rows) and all(r["check"] for r in proc_rows)
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stack.cleanup()


def report(stack, results, sweep, mem, args, elapsed, proc_rows):
    say("")
    hdr = "%-24s %5s %10s %8s %8s %9s %9s %11s  %s" % ("", "conns", "req/s", "p50 ms", "p99 ms", "vs pgbench",
                                                       "vs static", "peak RSS MiB", "rows check")
    say(hdr)
    say("-" * len(hdr))
    order = ["static lighttpd", "pgbench insert", "kanca+PostgreSQL", "kanca+SQLite", "kanca+PG offer.created"]
    for what in order:
        for r in [x for x in results.rows if x["what"] == what]:
            pg = results.get("pgbench insert", r["conns"])
            st = results.get("static lighttpd", r["conns"])
            vs_pg = fmt_ratio(r["rps"], pg["rps"]) if what.startswith("kanca+P") else "-"
            vs_st = fmt_ratio(r["rps"], st["rps"]) if what.startswith("kanca") else "-"
            rss = rss_text(r["rss"]) if r["rss"] is not None else "-"
            if what.startswith("kanca"):
                chk = "%s (2xx %d, rows %d%s%s%s)" % ("PASS" if r["check"] else "FAIL", r["c2xx"], r["rows"],
                                                    ", non-2xx %d %s" % (r["other"], json.dumps(r["statuses"]))
                                                    if r["other"] else "",
                                                    ", EXHAUSTED %d" % r["exhausted"] if r["exhausted"] else "",
                                                    ", " + r["extra"][1] if r["extra"] else "")
            elif what == "pgbench insert":
                chk = "%s (transactions %d, rows %d%s)" % ("PASS" if r["check"] else "FAIL", r["c2xx"], r["rows"],
                                                         ", failed %d" % r["other"] if r["other"] else "")
            else:
                chk = "%s (2xx %d, non-2xx %d)" % ("PASS" if r["check"] else "FAIL", r["c2xx"], r["other"])
            say("%-24s %5d %10.0f %8.2f %8.2f %9s %9s %11s  %s" % (what, r["conns"], r["rps"], r["p50"], r["p99"], vs_pg,
                                                                 vs_st, rss, chk))
    for v, r in sweep:
        pg = results.get("pgbench insert", r["conns"])
        say("%-24s %5d %10.0f %8.2f %8.2f %9s %9s %11s  %s" % ("  max-procs %d" % v, r["conns"], r["rps"], r["p50"],
                                                             r["p99"], fmt_ratio(r["rps"], pg["rps"]), "-",
                                                             rss_text(r["rss"]), "PASS" if r["check"] else "FAIL"))
    say("")
    say("peak RSS = VmHWM of each kanca process (one figure per process; file-backed pages of shared")
    say("libraries included). rows check: every request is unique, so each 2xx must be one stored row;")
    say("wrk abandons the requests in flight when the time is up and kanca may still commit them, so")
    say("PASS means 2xx <= rows <= 2xx + connections (rows counted after the count stops moving).")
    if proc_rows:
        report_processing(proc_rows, args)
    say("")
    say("Memory of each kanca process after its runs, MiB (peak = VmHWM; anon = RssAnon, the process's own")
    say("heap and stacks; file = RssFile, pages of mapped shared libraries, shared with the other kanca")
    say("processes; pss = proportional set size; private = pages no other process maps):")
    for what, m in mem.items():
        for p in m["procs"]:
            g = lambda k: p.get(k, 0) / MIB
            say("  %-20s pid %-7d peak %5.2f  rss %5.2f  anon %5.2f  file %5.2f  pss %5.2f  private %5.2f" %
                (what, p["pid"], g("VmHWM"), g("VmRSS"), g("RssAnon"), g("RssFile"), g("Pss"),
                 g("Private_Clean") + g("Private_Dirty")))
        say("  %-20s resident by mapping (pid %d): %s" % (what, m["top"], ", ".join(
            "%s %.2f" % (k, v / MIB) for k, v in m["maps"][:10])))
    say("")
    say("CPU per answered request, microseconds (client = wrk or pgbench; other = CPU the machine spent")
    say("outside these processes, i.e. unrelated load on the host; util = machine busy / all CPUs):")
    say("%-24s %5s %8s %8s %8s %8s %8s %8s %6s %11s" % ("", "conns", "client", "lighttpd", "kanca", "postgres", "other",
                                                      "machine", "util", "other load"))
    for r in results.rows:
        c = r["cpu"]
        n = r["c2xx"] or 1
        us = lambda k: "%.0f" % (1e6 * c.get(k, 0) / n)
        say("%-24s %5d %8s %8s %8s %8s %8s %8s %5.0f%% %6.2f CPUs" % (
            r["what"], r["conns"], us("client"), us("lighttpd"), us("kanca"), us("postgres"), us("other"),
            us("machine"), 100.0 * c["machine"] / c["wall"] / os.cpu_count(), c["other"] / c["wall"]))
    say("")
    pg64 = results.get("kanca+PostgreSQL", 64)
    b64 = results.get("pgbench insert", 64)
    ratio = pg64["rps"] / b64["rps"] if b64["rps"] else 0
    dp99 = pg64["p99"] - b64["p99"]
    peaks = {}
    for r in results.rows:
        for pid, v in (r["rss"] or {}).items():
            peaks[pid] = max(peaks.get(pid, 0), v.get("VmHWM", 0))
    rss_all = list(peaks.values())
    rss_max = max(rss_all) if rss_all else 0
    t1 = ratio >= 0.90
    t2 = dp99 <= 2.0
    t3 = rss_max < 8 * MIB
    say("TARGET kanca+PostgreSQL >= 90%% of the pgbench ceiling at 64 connections: %s (%.0f%%: %.0f vs %.0f req/s)"
        % ("MET" if t1 else "NOT MET", 100 * ratio, pg64["rps"], b64["rps"]))
    say("TARGET kanca+PostgreSQL p99 within 2 ms of pgbench's at 64 connections: %s (%.2f vs %.2f ms, %+.2f ms)"
        % ("MET" if t2 else "NOT MET", pg64["p99"], b64["p99"], dp99))
    say("TARGET peak RSS < 8 MiB per kanca process: %s (largest %.2f MiB over %d processes)"
        % ("MET" if t3 else "NOT MET", rss_max / MIB, len(rss_all)))
    say("ROW CHECK (every 2xx is exactly one stored row): %s" % ("PASS" if all(r["check"] for r in results.rows) else "FAIL"))
    if proc_rows:
        say("PROCESSING CHECK (every event processed, and forwarded to the sink exactly once): %s"
            % ("PASS" if all(r["check"] for r in proc_rows) else "FAIL"))
    say("total time %.0f s" % elapsed)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(2)
