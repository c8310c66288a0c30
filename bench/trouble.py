#!/usr/bin/env python3
"""trouble.py: kanca under trouble (issue 10's benchmark; started by bench/trouble.sh; Python 3 stdlib only).

    bench/trouble.sh [--new DIR] [--old DIR] [--duration S] [--pairs N] [--conns 8,64] [--hold S]
                     [--outage S] [--fill N] [--keep]

In one run, on 127.0.0.1 only, it prints:

1. Ingest without trouble, before and after the trouble phases: wrk -> lighttpd (mod_fastcgi, 8
   responders) -> kanca -> SQLite / PostgreSQL with processing = off, the same short load as
   bench/run.sh (unique signed supplier requests, bench/signed.lua). When --old names a build of the
   code before issue 10 (bench/trouble.sh builds the parent of "Issue 10 (part 1)"), that build is
   measured in the same blocks, in interleaved pairs (old, new, new, old, ...), and the ratio
   new/old of the median req/s is printed per store and connection count and overall ("hot path").
2. Answer latency while another process holds the SQLite write lock (python sqlite3, BEGIN IMMEDIATE
   on the same file) for --hold seconds, under load from 8 connections, processing = fork; then the
   spool drain after the release: the time until every delivery answered 2xx is in the store.
3. The same while the PostgreSQL cluster is stopped (pg_ctl stop -m fast) for --outage seconds.
   For both: every delivery answered 2xx must be in the store exactly once ("missing: 0,
   duplicates: 0"); a missing one is printed loudly.
4. kancactl spool drain: the spool filled with deliveries while the store cannot take them
   (processing = off, so only the command drains), then `kancactl spool drain` timed, per store.

A benchmark, not a test: figures only, never a pass/fail verdict (the exit status is non-zero only
when the stack could not be run). The printout is also written to bench/results-trouble.txt.
"""
import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import bench as B  # noqa: E402  (stock_body, write_requests, percentile, pg_bindir, free_port)
from kancatest import PsqlSession  # noqa: E402  (one long-lived psql on a pipe)

ACCOUNT = "bench"
ROUTE = "/api/suppliers/%s/webhook" % ACCOUNT
OUT = []


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


def note(line):
    """progress on stderr, not part of the results"""
    print("  .. %s %s" % (time.strftime("%H:%M:%S"), line), file=sys.stderr, flush=True)


class TroubleError(Exception):
    pass


def ms(s):
    return s * 1000.0


def pct(vals, q):
    return B.percentile(sorted(vals), q)


# ---------------------------------------------------------------- the environment

class Env:
    """The temporary directory, the throwaway PostgreSQL cluster (as bench.py makes it: initdb as nobody
    when run as root, unix socket only, fsync and synchronous_commit on, max_connections 200) and every
    process this run starts."""

    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="kanca-trouble-")
        os.chmod(self.tmp, 0o755)
        self.root = os.geteuid() == 0
        self.pgbin = B.pg_bindir()
        self.psql_bin = os.path.join(self.pgbin, "psql")
        self.pgdata = os.path.join(self.tmp, "pgdata")
        self.pgsock = os.path.join(self.tmp, "pgsock")
        self.pg_running = False
        self.stacks = []
        self.sessions = []
        self.secret = secrets.token_hex(32)

    def as_pg_owner(self, argv):
        return (["runuser", "-u", "nobody", "--"] + argv) if self.root else argv

    def run(self, argv, timeout=120, check=True, **kw):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise TroubleError("%s failed (%d): %s%s" % (" ".join(argv[:4]), r.returncode, r.stdout[-1500:],
                                                          r.stderr[-1500:]))
        return r

    def start_pg(self):
        os.mkdir(self.pgdata, 0o700)
        os.mkdir(self.pgsock, 0o755)
        if self.root:
            import pwd
            nb = pwd.getpwnam("nobody")
            os.chown(self.pgdata, nb.pw_uid, nb.pw_gid)
            os.chown(self.pgsock, nb.pw_uid, nb.pw_gid)
        self.run(self.as_pg_owner([os.path.join(self.pgbin, "initdb"), "-D", self.pgdata, "-U", "kanca", "-A",
                                   "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]))
        with open(os.path.join(self.pgdata, "postgresql.conf"), "a") as f:
            f.write("\n# kanca trouble bench\nlisten_addresses = ''\nunix_socket_directories = '%s'\n"
                    "max_connections = 200\n" % self.pgsock)
        self.pg_start()

    def pg_ctl(self, *words, timeout=60):
        return self.run(self.as_pg_owner([os.path.join(self.pgbin, "pg_ctl"), "-D", self.pgdata] + list(words)),
                        timeout=timeout + 30)

    def pg_start(self):
        self.pg_ctl("-l", os.path.join(self.pgsock, "server.log"), "-w", "-t", "60", "start")
        self.pg_running = True

    def pg_stop(self, mode="fast"):
        self.pg_ctl("-m", mode, "-w", "-t", "60", "stop")
        self.pg_running = False

    def psql(self, sql, db="postgres"):
        return self.run([self.psql_bin, "-h", self.pgsock, "-U", "kanca", "-d", db, "-X", "-At", "-v",
                         "ON_ERROR_STOP=1", "-c", sql]).stdout.strip()

    def postmaster(self):
        try:
            with open(os.path.join(self.pgdata, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return -1

    def pg_uri(self, db):
        return "postgresql://kanca@/%s?host=%s" % (db, urllib.parse.quote(self.pgsock, safe=""))

    def cleanup(self):
        for st in list(self.stacks):
            st.stop()
        for s in self.sessions:
            s.close()
        if self.pg_running:
            try:
                self.pg_stop("immediate")
            except Exception:
                pass
        if self.args.keep:
            print("kept %s" % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class SqliteDB:
    kind = "sqlite"

    def __init__(self, env, name):
        self.env = env
        self.path = os.path.join(env.tmp, "%s.db" % name)
        self.uri = "sqlite:" + self.path

    def _q(self, sql, params=()):
        con = sqlite3.connect(self.path, timeout=30)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def count(self, prefix):
        return self._q("SELECT count(*) FROM events WHERE idempotency_key LIKE ?", (prefix + "%",))[0][0]

    def keys(self, prefix):
        """idempotency key -> number of events rows with it"""
        return dict(self._q("SELECT idempotency_key, count(*) FROM events WHERE idempotency_key LIKE ? GROUP BY 1",
                            (prefix + "%",)))

    def statuses(self, prefix):
        return dict(self._q("SELECT status, count(*) FROM events WHERE idempotency_key LIKE ? GROUP BY 1",
                            (prefix + "%",)))

    def checkpoint(self):
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            con.close()


class PgDB:
    kind = "pg"

    def __init__(self, env, name):
        self.env = env
        self.name = name
        env.psql("CREATE DATABASE %s" % name)
        self.uri = env.pg_uri(name)
        self.session = PsqlSession(self.uri, os.path.join(env.tmp, "psql-%s.log" % name))
        env.sessions.append(self.session)

    def _q(self, sql, timeout=30):
        return self.session.query(sql, timeout=timeout)

    def count(self, prefix):
        return int(self._q("SELECT count(*) FROM events WHERE idempotency_key LIKE '%s%%'" % prefix)[0][0])

    def keys(self, prefix):
        return {k: int(n) for k, n in self._q("SELECT idempotency_key, count(*) FROM events "
                                              "WHERE idempotency_key LIKE '%s%%' GROUP BY 1" % prefix)}

    def statuses(self, prefix):
        return {k: int(n) for k, n in self._q("SELECT status, count(*) FROM events "
                                              "WHERE idempotency_key LIKE '%s%%' GROUP BY 1" % prefix)}

    def checkpoint(self):
        self._q("CHECKPOINT", timeout=120)

    def drop_session(self):
        """before the server is stopped: the session would only fail"""
        self.session.close()


# ---------------------------------------------------------------- lighttpd + kanca

class Stack:
    """lighttpd on an ephemeral 127.0.0.1 port with `procs` kanca responders (bin-path) of one build,
    over one store, with its own kanca configuration."""

    def __init__(self, env, name, builddir, db, settings, procs=8):
        self.env = env
        self.name = name
        self.builddir = builddir
        self.kanca = os.path.realpath(os.path.join(builddir, "kanca"))
        self.kancactl = os.path.join(builddir, "kancactl")
        self.db = db
        self.procs = procs
        self.settings = dict(settings)
        self.conf = os.path.join(env.tmp, "kanca-%s.conf" % name)
        self.proc = None
        self.port = None
        with open(self.conf, "w") as f:
            f.write("store = %s\n" % db.uri)
            for k, v in self.settings.items():
                f.write("%s = %s\n" % (k, v))
        self.ctl("migrate")
        r = self.ctl("source", "list", check=False)
        if ("supplier" not in r.stdout) or (ACCOUNT not in r.stdout):
            self.ctl("source", "add", "supplier", ACCOUNT, "--secret", env.secret)

    def ctl(self, *words, check=True, timeout=120):
        return self.env.run([self.kancactl, "-c", self.conf] + list(words), timeout=timeout, check=check)

    def start(self):
        www = os.path.join(self.env.tmp, "www")
        os.makedirs(www, exist_ok=True)
        self.port = B.free_port()
        lconf = os.path.join(self.env.tmp, "lighttpd-%s.conf" % self.name)
        self.errlog = os.path.join(self.env.tmp, "lighttpd-%s.log" % self.name)
        with open(lconf, "w") as f:
            f.write('''server.modules += ("mod_fastcgi")
server.document-root = "%(www)s"
server.bind = "127.0.0.1"
server.port = %(port)d
server.errorlog = "%(errlog)s"
server.max-connections = 1024
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
$HTTP["url"] =~ "^/(api/|healthz$)" {
  fastcgi.server = (
    "/" => ((
      "socket" => "%(tmp)s/kanca-%(name)s.sock",
      "bin-path" => "%(kanca)s",
      "min-procs" => %(procs)d,
      "max-procs" => %(procs)d,
      "bin-environment" => ("KANCA_CONFIG" => "%(kconf)s", "GNUTLS_NO_IMPLICIT_INIT" => "1"),
      "check-local" => "disable"
    ))
  )
}
''' % dict(www=www, port=self.port, errlog=self.errlog, tmp=self.env.tmp, name=self.name, kanca=self.kanca,
           procs=self.procs, kconf=self.conf))
        lighttpd = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
        self.env.run([lighttpd, "-tt", "-f", lconf])
        # its own process group: lighttpd, its responders and their processors are stopped together
        self.proc = subprocess.Popen([lighttpd, "-D", "-f", lconf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.errlog + ".stderr", "w"),
                                     start_new_session=True)
        self.env.stacks.append(self)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise TroubleError("lighttpd %s exited: %s" % (self.name, self.log_tail()))
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                if len(B.children_of(self.proc.pid, self.kanca)) >= self.procs:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise TroubleError("lighttpd %s did not start with %d responders" % (self.name, self.procs))

    def log_tail(self, n=15):
        out = []
        for p in (self.errlog, self.errlog + ".stderr"):
            try:
                with open(p, errors="replace") as f:
                    out += f.readlines()[-n:]
            except OSError:
                pass
        return "".join(out)

    def stop(self):
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        # responders and processors left behind in the group this run made
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None
        if self in self.env.stacks:
            self.env.stacks.remove(self)

    def healthz(self, timeout=10):
        t0 = time.monotonic()
        c = socket.create_connection(("127.0.0.1", self.port), timeout)
        try:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                b = c.recv(65536)
                if not b:
                    break
                data += b
        finally:
            c.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        try:
            j = json.loads(body.decode("utf-8", "replace"))
        except ValueError:
            j = {"raw": body[:200].decode("utf-8", "replace")}
        return status, time.monotonic() - t0, j


def spool_records(stack):
    try:
        st, _, j = stack.healthz()
        return ((j.get("spool") or {}).get("records"), st)
    except OSError:
        return None, 0


# ---------------------------------------------------------------- load: wrk (ingest) and an asyncio client (trouble)

def run_wrk(stack, conns, duration, prefix):
    n = max(30000, 6000 * duration * (2 if conns > 8 else 1))
    reqfile = os.path.join(stack.env.tmp, "req-%s.txt" % prefix)
    B.write_requests(reqfile, stack.env.secret, prefix, n, "stock")
    threads = min(2, conns)
    argv = ["wrk", "-t", str(threads), "-c", str(conns), "-d", "%ds" % duration, "--timeout", "10s",
            "-s", os.path.join(HERE, "signed.lua"), "http://127.0.0.1:%d%s" % (stack.port, ROUTE), "--", reqfile,
            str(threads)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    os.unlink(reqfile)
    for line in r.stdout.splitlines():
        if line.startswith("KANCA-BENCH "):
            return json.loads(line[len("KANCA-BENCH "):])
    raise TroubleError("wrk gave no result (rc %d): %s %s" % (r.returncode, r.stdout[-800:], r.stderr[-800:]))


def kanca_ticks(stack):
    """CPU ticks of a stack's kanca processes (its lighttpd's process group but lighttpd itself)"""
    lt = stack.proc.pid
    return sum(t for pid, t in group_ticks(lt).items() if pid != lt)


def group_ticks(pgid):
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        if int(rest[2]) == pgid:
            out[int(d)] = int(rest[11]) + int(rest[12])
    return out


def ticks_by_pid(pgids, parents):
    """pid -> CPU ticks of the processes in the process groups pgids (a lighttpd, its responders, their
    processors), of the children of the pids in parents (the postmaster's backends) and of those pids"""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        pid, ppid, pgrp = int(d), int(rest[1]), int(rest[2])
        if pgrp in pgids or ppid in parents or pid in parents:
            out[pid] = int(rest[11]) + int(rest[12])
    return out


def disk_io_ms(path):
    """milliseconds the block device holding path has spent doing I/O (/proc/diskstats io_ticks), or None"""
    dev = os.stat(path).st_dev
    try:
        with open("/proc/diskstats") as f:
            for line in f:
                v = line.split()
                if int(v[0]) == os.major(dev) and int(v[1]) == os.minor(dev):
                    return int(v[12])
    except (OSError, ValueError, IndexError):
        pass
    return None


class OtherLoad(threading.Thread):
    """What the machine spent outside this benchmark between start and stop, in CPUs: all CPUs' busy time less
    that of lighttpd + kanca (the stacks' process groups), PostgreSQL (the postmaster and its children), this
    script (its threads and its reaped children: wrk, kancactl, pg_ctl). The processes are sampled every 0.25 s,
    so that those which end (a stopped PostgreSQL's) are counted up to their last sample. A large figure means
    something else ran on the host and every figure is depressed. Also how busy the disk holding the
    temporary directory was (its I/O time over the wall time, whoever did the I/O)."""

    def __init__(self, env):
        super().__init__(daemon=True)
        self.env = env
        self.halt = threading.Event()
        self.first, self.last = {}, {}

    def sample(self, initial=False):
        pgids = set(st.proc.pid for st in list(self.env.stacks) if st.proc)
        for pid, t in ticks_by_pid(pgids, set([self.env.postmaster()] if self.env.pg_running else [])).items():
            if pid not in self.first:
                self.first[pid] = t if initial else 0
            self.last[pid] = max(self.last.get(pid, 0), t)

    def start(self):
        self.w0, self.m0 = time.monotonic(), B.system_busy_ticks()
        self.d0 = disk_io_ms(self.env.tmp)
        self.c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.s0 = resource.getrusage(resource.RUSAGE_SELF)
        self.sample(initial=True)
        super().start()
        return self

    def run(self):
        while not self.halt.wait(0.25):
            self.sample()

    def stop(self):
        """-> (other load in CPUs, disk busy share 0..1 or None)"""
        self.halt.set()
        self.join(5)
        self.sample()
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        s1 = resource.getrusage(resource.RUSAGE_SELF)
        wall = max(1e-6, time.monotonic() - self.w0)
        mine = (c1.ru_utime + c1.ru_stime - self.c0.ru_utime - self.c0.ru_stime +
                s1.ru_utime + s1.ru_stime - self.s0.ru_utime - self.s0.ru_stime)
        ours = sum(self.last[p] - self.first[p] for p in self.last) / B.TICK
        busy = (B.system_busy_ticks() - self.m0) / B.TICK - ours - mine
        d1 = disk_io_ms(self.env.tmp)
        disk = (d1 - self.d0) / 1000.0 / wall if d1 is not None and self.d0 is not None else None
        return max(0.0, busy) / wall, disk


def machine_note(label, res):
    other, disk = res
    return "%s: other load %.2f CPUs, disk busy %s" % (label, other, "%.0f%%" % (100 * disk) if disk is not None
                                                        else "?")


def settle(count_fn, limit=10.0):
    """the row count once it stopped moving (requests wrk cut off may still be committing)"""
    last = count_fn()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        time.sleep(0.3)
        cur = count_fn()
        if cur == last:
            return cur
        last = cur
    return last


class Answer:
    __slots__ = ("i", "key", "sent", "took", "status", "queued")

    def __init__(self, i, key, sent, took, status, queued):
        self.i, self.key, self.sent, self.took, self.status, self.queued = i, key, sent, took, status, queued


async def _read_answer(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    if "content-length" in hdrs:
        body = await reader.readexactly(int(hdrs["content-length"]))
    elif hdrs.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            n = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if n == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(n)
            await reader.readexactly(2)
    else:
        body = await reader.read()
        hdrs["connection"] = "close"
    return status, hdrs, body


class Load:
    """`conns` keep-alive connections, each sending unique signed supplier deliveries one after the other
    (the next as soon as the answer is in), until `seconds` have passed or `limit` requests were sent.
    Every answer is kept: idempotency key, send time, answer time, status (0: no answer: connection
    error or 30 s without one), and whether the body says queued (spooled)."""

    def __init__(self, port, secret, prefix, conns=8, seconds=10.0, limit=100000, timeout=30.0):
        self.port, self.key, self.prefix = port, secret.encode(), prefix
        self.conns, self.seconds, self.limit, self.timeout = conns, seconds, limit, timeout
        self.next = 0
        self.answers = []
        self.side = []  # (label, at, result) of side tasks (healthz samples, pg_ctl)

    def request(self, i):
        body = B.stock_body(self.prefix, i).encode()
        sig = hmac.new(self.key, body, hashlib.sha256).hexdigest()
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Signature: %s\r\n"
                "Content-Length: %d\r\n\r\n" % (ROUTE, sig, len(body)))
        return "%s-%08d" % (self.prefix, i), head.encode() + body

    async def worker(self, end):
        reader = writer = None
        while time.monotonic() < end and self.next < self.limit:
            i = self.next
            self.next += 1
            key, data = self.request(i)
            t0 = time.monotonic()
            status, queued = 0, False
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 5)
                writer.write(data)
                await writer.drain()
                status, hdrs, body = await asyncio.wait_for(_read_answer(reader), self.timeout)
                queued = b'"queued":true' in body
                if hdrs.get("connection", "").lower() == "close":
                    writer.close()
                    writer = None
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
                status = 0
                if writer is not None:
                    writer.close()
                writer = None
            self.answers.append(Answer(i, key, t0, time.monotonic() - t0, status, queued))
        if writer is not None:
            writer.close()

    async def _main(self, side):
        self.t0 = time.monotonic()
        end = self.t0 + self.seconds
        tasks = [asyncio.create_task(self.worker(end)) for _ in range(self.conns)]
        for at, label, fn in side:
            tasks.append(asyncio.create_task(self._side(at, label, fn)))
        await asyncio.gather(*tasks)
        self.t1 = time.monotonic()

    async def _side(self, at, label, fn):
        await asyncio.sleep(max(0.0, self.t0 + at - time.monotonic()))
        t = time.monotonic()
        try:
            res = await asyncio.get_running_loop().run_in_executor(None, fn)
        except Exception as e:  # a side task's failure is printed, not fatal
            res = e
        self.side.append((label, t, time.monotonic(), res))

    def run(self, side=()):
        """side: (seconds after the start, label, function run in a thread) -- pg_ctl, /healthz samples"""
        asyncio.run(self._main(side))
        return self


def summarize(answers, deadline):
    st = {}
    for a in answers:
        st[a.status] = st.get(a.status, 0) + 1
    lat = [a.took for a in answers if a.status]
    n2 = sum(1 for a in answers if 200 <= a.status < 300)
    return dict(n=len(answers), n2xx=n2, n503=st.get(503, 0), noanswer=st.get(0, 0),
                other={k: v for k, v in st.items() if k and not 200 <= k < 300 and k != 503},
                queued=sum(1 for a in answers if a.queued), p50=pct(lat, 50), p99=pct(lat, 99),
                max=max(lat) if lat else 0.0, late=sum(1 for x in lat if x > deadline),
                late_margin=sum(1 for x in lat if x > deadline + 0.5), statuses=st)


def say_latency(label, s, deadline):
    say("  %s: %d requests; answered 2xx %d (queued in the spool %d), 503 %d, other %s, no answer %d"
        % (label, s["n"], s["n2xx"], s["queued"], s["n503"],
           ", ".join("%s: %d" % kv for kv in sorted(s["other"].items())) or "0", s["noanswer"]))
    say("  %s: answer time p50 %.1f ms, p99 %.1f ms, max %.1f ms; slower than the deadline (%.1f s): %d, "
        "than the deadline + 0.5 s: %d" % (label, ms(s["p50"]), ms(s["p99"]), ms(s["max"]), deadline, s["late"],
                                            s["late_margin"]))
    if s["late"]:
        say("  !! %d answers took longer than answer_deadline (%.1f s)" % (s["late"], deadline))


def wait_stored(db, prefix, want, limit, t0):
    """polls until every key in `want` is in the store (or limit seconds); -> (seconds since t0 or None, keys)"""
    end = time.monotonic() + limit
    while True:
        n = db.count(prefix)
        if n >= len(want):
            keys = db.keys(prefix)
            if all(k in keys for k in want):
                return time.monotonic() - t0, keys
        if time.monotonic() >= end:
            return None, db.keys(prefix)
        time.sleep(0.05 if db.kind == "sqlite" else 0.1)


def exactly_once(label, want, keys, answers):
    missing = [k for k in want if k not in keys]
    dups = [k for k, n in keys.items() if n > 1]
    answered = set(a.key for a in answers)
    not2xx_stored = sum(1 for a in answers if not 200 <= a.status < 300 and a.key in keys)
    say("  %s: every delivery answered 2xx in the store exactly once? missing: %d, duplicates: %d "
        "(2xx answers %d, rows %d; stored although not answered 2xx: %d; rows never sent: %d)"
        % (label, len(missing), len(dups), len(want), sum(keys.values()), not2xx_stored,
           sum(1 for k in keys if k not in answered)))
    if missing:
        say("  !! LOST: %d deliveries answered 2xx are not in the store, e.g. %s" % (len(missing), missing[:5]))
    if dups:
        say("  !! DUPLICATED: %d keys stored more than once, e.g. %s" % (len(dups), dups[:5]))
    return len(missing), len(dups)


def wait_processed(db, prefix, limit):
    """events by status once none is waiting to be processed any more (or limit seconds)"""
    t0 = time.monotonic()
    while True:
        st = db.statuses(prefix)
        if not any(st.get(k) for k in ("received", "retry", "processing")) or time.monotonic() - t0 >= limit:
            return st, time.monotonic() - t0
        time.sleep(0.2)


# ---------------------------------------------------------------- 1. ingest without trouble

def ingest_block(env, args, builds, dbs, label, rows):
    """for each store: the builds' stacks started, then for each connection count a 1 s warm-up of each
    and `pairs` interleaved measured runs (old, new, then new, old, ...)"""
    for kind in args.stores:
        stacks = {}
        try:
            for b, bdir in builds.items():
                settings = {"processing": "off"}
                if b == "new":
                    settings["spool_dir"] = os.path.join(env.tmp, "spool-ingest-%s" % kind)
                stacks[b] = Stack(env, "ingest-%s-%s-%s" % (label, kind, b), bdir, dbs[(kind, b)], settings,
                                  args.procs).start()
            for conns in args.conns:
                for b, st in stacks.items():
                    run_wrk(st, conns, 1, "warm-%s-%s-%d-%s" % (label, b, conns, secrets.token_hex(3)))
                order = list(stacks)
                for p in range(args.pairs):
                    for b in (order if p % 2 == 0 else order[::-1]):
                        st = stacks[b]
                        db = st.db
                        prefix = "%s-%s-%s-%d-%d-%s" % (label, kind, b, conns, p, secrets.token_hex(3))
                        db.checkpoint()
                        ol = OtherLoad(env).start()
                        k0 = kanca_ticks(st)
                        w = run_wrk(st, conns, args.duration, prefix)
                        kcpu = (kanca_ticks(st) - k0) / B.TICK
                        other = ol.stop()[0]
                        stored = settle(lambda: db.count(prefix))
                        secs = w["duration_us"] / 1e6
                        r = dict(when=label, store=kind, build=b, conns=conns, rps=w["c2xx"] / secs,
                                 p50=w["p50_us"] / 1000.0, p99=w["p99_us"] / 1000.0, c2xx=w["c2xx"],
                                 other=w["cother"], statuses=w["statuses"], exhausted=w["exhausted"], rows=stored,
                                 check=w["c2xx"] <= stored <= w["c2xx"] + conns, load=other,
                                 cpu_us=1e6 * kcpu / w["c2xx"] if w["c2xx"] else 0)
                        rows.append(r)
                        note("%s %s %s c%d: %.0f req/s p99 %.2f ms 2xx %d rows %d non-2xx %d, kanca %.0f us CPU/req, "
                             "other load %.2f CPUs" % (label, kind, b, conns, r["rps"], r["p99"], r["c2xx"], stored,
                                                      r["other"], r["cpu_us"], other))
        finally:
            for st in stacks.values():
                st.stop()


def med(rows, **kw):
    v = [r["rps"] for r in rows if all(r[k] == x for k, x in kw.items())]
    return statistics.median(v) if v else None


def med_of(rows, field, **kw):
    v = [r[field] for r in rows if all(r[k] == x for k, x in kw.items())]
    return statistics.median(v) if v else None


def med_p99(rows, **kw):
    v = [r["p99"] for r in rows if all(r[k] == x for k, x in kw.items())]
    return statistics.median(v) if v else None


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def print_ingest(args, rows, have_old):
    say()
    say("== 1. Ingest without trouble (wrk -t2 -c C, unique signed supplier stock.updated, %d s per run, %d runs "
        "per build, store, C and block; median req/s of 2xx answers; %d responders, processing = off)"
        % (args.duration, args.pairs, args.procs))
    if have_old:
        say("   old = the code before issue 10 (%s), new = the build under test; in each block the runs of the two"
            % args.old_desc)
        say("   builds are interleaved (old new, new old, ...) on the same machine; before = before the trouble"
            " phases, after = after them")
    names = {"sqlite": "SQLite", "pg": "PgSQL"}
    if have_old:
        say("   %-6s %5s | %-27s | %-27s | %-12s | %-16s | %s" % (
            "store", "C", "before: old / new  new/old", "after: old / new  new/old", "new aft/bef",
            "new p99 ms b / a", "other load CPUs b / a"))
    else:
        say("   %-6s %5s | %-10s | %-10s | %-12s | %-16s | %s" % ("store", "C", "before", "after", "aft/bef",
                                                                "p99 ms b / a", "other load CPUs b / a"))
    ratios = []
    for kind in args.stores:
        for c in args.conns:
            cells = []
            for when in ("before", "after"):
                n = med(rows, when=when, store=kind, build="new", conns=c)
                if have_old:
                    o = med(rows, when=when, store=kind, build="old", conns=c)
                    ratios.append(n / o if n and o else None)
                    cells.append("%6.0f / %6.0f  %6.3f" % (o or 0, n or 0, n / o if n and o else 0))
                else:
                    cells.append("%6.0f" % (n or 0))
            nb = med(rows, when="before", store=kind, build="new", conns=c)
            na = med(rows, when="after", store=kind, build="new", conns=c)
            lb = [r["load"] for r in rows if r["when"] == "before" and r["store"] == kind and r["conns"] == c]
            la = [r["load"] for r in rows if r["when"] == "after" and r["store"] == kind and r["conns"] == c]
            say("   %-6s %5d | %-27s | %-27s | %-12s | %6.2f / %6.2f  | %.2f / %.2f" % (
                names[kind], c, cells[0], cells[1], "%.3f" % (na / nb) if na and nb else "-",
                med_p99(rows, when="before", store=kind, build="new", conns=c) or 0,
                med_p99(rows, when="after", store=kind, build="new", conns=c) or 0,
                statistics.median(lb) if lb else 0, statistics.median(la) if la else 0))
    say("   kanca's CPU time per 2xx answer (all responders, from /proc; median us; it depends far less on other"
        " load than req/s):")
    cratios = []
    for kind in args.stores:
        for c in args.conns:
            cells = []
            for when in ("before", "after"):
                n = med_of(rows, "cpu_us", when=when, store=kind, build="new", conns=c)
                if have_old:
                    o = med_of(rows, "cpu_us", when=when, store=kind, build="old", conns=c)
                    cratios.append(n / o if n and o else None)
                    cells.append("%s: old %4.0f / new %4.0f us  %6.3f" % (when, o or 0, n or 0, n / o if n and o else 0))
                else:
                    cells.append("%s: %4.0f us" % (when, n or 0))
            say("   %-6s %5d | %s" % (names[kind], c, " | ".join(cells)))
    say("   each run in order, req/s (o = old, n = new):")
    for kind in args.stores:
        for c in args.conns:
            for when in ("before", "after"):
                rr = [r for r in rows if r["when"] == when and r["store"] == kind and r["conns"] == c]
                say("     %-6s %3d %-6s %s" % (names[kind], c, when, "  ".join(
                    "%s%.0f" % (r["build"][0], r["rps"]) for r in rr)))
    bad = [r for r in rows if not r["check"] or r["other"] or r["exhausted"]]
    for r in bad:
        say("   !! %s %s %s c%d: 2xx %d, rows %d (row check %s), non-2xx %d %s%s" % (
            r["when"], r["store"], r["build"], r["conns"], r["c2xx"], r["rows"], "ok" if r["check"] else "FAILED",
            r["other"], r["statuses"], ", EXHAUSTED" if r["exhausted"] else ""))
    say("   row check (every 2xx one stored row: 2xx <= rows <= 2xx + connections), every run: %s"
        % ("ok" if all(r["check"] for r in rows) else "FAILED in %d runs" % sum(1 for r in rows if not r["check"])))
    loads = [r["load"] for r in rows]
    if loads and max(loads) > 0.2:
        say("   !! other load on the machine during the ingest runs: median %.2f, max %.2f CPUs (of %d): the figures"
            " are depressed and noisy; the old/new pairs shared it" % (statistics.median(loads), max(loads),
                                                                      os.cpu_count()))
    if have_old:
        g = geomean(ratios)
        say("   hot path: new/old = %.3f (req/s; geometric mean of the %d median ratios above, before and after)"
            % (g or 0, len([x for x in ratios if x])))
        g = geomean(cratios)
        say("   hot path CPU: new/old = %.3f (kanca CPU per answer; geometric mean of the %d median ratios; below 1:"
            " new is cheaper)" % (g or 0, len([x for x in cratios if x])))
    nb = geomean([med(rows, when="after", store=k, build="new", conns=c) / med(rows, when="before", store=k,
                                                                                  build="new", conns=c)
                  for k in args.stores for c in args.conns
                  if med(rows, when="before", store=k, build="new", conns=c)
                  and med(rows, when="after", store=k, build="new", conns=c)])
    say("   new build, after / before the trouble phases = %.3f (geometric mean)" % (nb or 0))


# ---------------------------------------------------------------- 2./3. trouble under load

def warm_up(st, args, prefix):
    """1 s of load from twice as many connections as responders: every responder serves deliveries and
    caches the source (a responder that never saw it cannot verify a delivery while the store is down)"""
    return Load(st.port, st.env.secret, prefix + secrets.token_hex(3), 2 * args.procs, 1.0).run()


def trouble_settings(env, kind, name, processing):
    return {"processing": processing, "answer_deadline": env.args.deadline,
            "spool_dir": os.path.join(env.tmp, "spool-%s" % name)}


def sqlite_hold(env, args, new):
    say()
    say("== 2. SQLite write lock held by another process (python sqlite3 BEGIN IMMEDIATE on the same file) for "
        "%.0f s; load: %d connections during the hold; answer_deadline %s s, processing = fork, %d responders"
        % (args.hold, args.load_conns, args.deadline, args.procs))
    db = SqliteDB(env, "trouble-sqlite")
    st = Stack(env, "trouble-sqlite", new, db, trouble_settings(env, "sqlite", "trouble-sqlite", "fork"),
               args.procs).start()
    try:
        warm = warm_up(st, args, "warm-sq-")
        prefix = "hold-sq-" + secrets.token_hex(3)
        holder = sqlite3.connect(db.path, timeout=30, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        t_hold = time.monotonic()
        marks = {}

        def release():
            holder.execute("ROLLBACK")
            marks["rel"] = time.monotonic()
        # the load sends for the hold's length; the lock is let go at its end, whatever is in flight
        load = Load(st.port, env.secret, prefix, args.load_conns, args.hold, args.limit)
        m = OtherLoad(env).start()
        load.run(side=[(args.hold / 2, "healthz", st.healthz), (args.hold, "release", release)])
        machine = m.stop()
        if "rel" not in marks:
            release()
        holder.close()
        t_rel = marks["rel"]
        during = [a for a in load.answers if a.sent < t_rel]
        s = summarize(during, float(args.deadline))
        say("  the lock was held %.1f s; %d warm-up requests before it (%d answered 2xx); %d requests sent after "
            "the release are left out of the figures below (but not out of the check)"
            % (t_rel - t_hold, len(warm.answers), sum(1 for a in warm.answers if 200 <= a.status < 300),
               len(load.answers) - len(during)))
        say_latency("during the hold", s, float(args.deadline))
        say("  " + machine_note("the machine during the load", machine))
        report_side(load)
        drain_report(st, db, prefix, load, "after the release", t_rel, args)
    finally:
        st.stop()


def report_side(load):
    for label, t, t1, res in load.side:
        if label == "healthz":
            if isinstance(res, Exception):
                say("  /healthz at %.1f s: no answer (%s)" % (t - load.t0, res))
            else:
                code, took, j = res
                say("  /healthz at %.1f s: %d in %.0f ms, spool records %s, reason: %s" % (
                    t - load.t0, code, ms(took), (j.get("spool") or {}).get("records"),
                    " ".join(str(j.get("reason", "-")).split())))
        elif label != "release":
            say("  %s at %.1f s: %s (took %.1f s)" % (label, t - load.t0, "failed: %s" % res
                                                      if isinstance(res, Exception) else "done", t1 - t))


def drain_report(st, db, prefix, load, since, t_rel, args):
    want = [a.key for a in load.answers if 200 <= a.status < 300]
    queued = sum(1 for a in load.answers if a.queued)
    m = OtherLoad(st.env).start()
    took, keys = wait_stored(db, prefix, want, args.drain_limit, t_rel)
    machine = m.stop()
    code, _, j = (0, 0, {})
    try:
        code, _, j = st.healthz()
    except OSError:
        pass
    if took is None:
        say("  !! drain: not every 2xx delivery was in the store %.0f s %s (%d of %d)"
            % (args.drain_limit, since, sum(1 for k in want if k in keys), len(want)))
    else:
        say("  drain %s: every delivery answered 2xx in the store %.2f s later: %d spooled deliveries, %.0f "
            "events/s (processing = fork: the processors drain the spool)" % (since, took, queued,
                                                                             queued / took if took else 0))
    say("  " + machine_note("the machine during the drain", machine))
    say("  /healthz after the drain: %d, spool records %s, backlog events %s" % (
        code, (j.get("spool") or {}).get("records"), (j.get("backlog") or {}).get("events")))
    exactly_once("check", want, keys, load.answers)
    sts, waited = wait_processed(db, prefix, 30)
    say("  events by status %.1f s later: %s" % (waited, ", ".join("%s %d" % kv for kv in sorted(sts.items()))))


def pg_outage(env, args, new):
    say()
    say("== 3. PostgreSQL stopped (pg_ctl stop -m fast) for %.0f s, then started; load: %d connections from 1 s "
        "before the stop until the start; answer_deadline %s s, processing = fork, %d responders"
        % (args.outage, args.load_conns, args.deadline, args.procs))
    db = PgDB(env, "trouble")
    st = Stack(env, "trouble-pg", new, db, trouble_settings(env, "pg", "trouble-pg", "fork"), args.procs).start()
    try:
        warm_up(st, args, "warm-pg-")
        prefix = "down-pg-" + secrets.token_hex(3)
        db.drop_session()
        marks = {}

        def stop():
            marks["stop0"] = time.monotonic()
            env.pg_stop("fast")
            marks["stop1"] = time.monotonic()
            return None
        load = Load(st.port, env.secret, prefix, args.load_conns, 1.0 + args.outage, args.limit)
        m = OtherLoad(env).start()
        load.run(side=[(1.0, "pg_ctl stop -m fast", stop), (1.0 + args.outage / 2, "healthz", st.healthz)])
        machine = m.stop()
        t_start0 = time.monotonic()
        env.pg_start()
        t_rel = time.monotonic()
        during = [a for a in load.answers if a.sent >= marks.get("stop0", 0)]
        before = [a for a in load.answers if a.sent < marks.get("stop0", 0)]
        s = summarize(during, float(args.deadline))
        say("  PostgreSQL was down %.1f s (stop issued until the start returned; pg_ctl stop took %.2f s, "
            "pg_ctl start %.2f s)" % (t_rel - marks.get("stop0", t_start0), marks.get("stop1", 0) - marks.get("stop0", 0),
                                      t_rel - t_start0))
        sb = summarize(before, float(args.deadline))
        say("  before the stop: %d requests, 2xx %d, p50 %.1f ms, p99 %.1f ms" % (sb["n"], sb["n2xx"], ms(sb["p50"]),
                                                                                ms(sb["p99"])))
        say_latency("from the stop on", s, float(args.deadline))
        say("  " + machine_note("the machine during the load", machine))
        report_side(load)
        drain_report(st, db, prefix, load, "after the start", t_rel, args)
    finally:
        st.stop()
        if not env.pg_running:
            env.pg_start()


# ---------------------------------------------------------------- 4. kancactl spool drain

def ctl_drain(env, args, new):
    say()
    say("== 4. kancactl spool drain: the spool filled by deliveries the store could not take (SQLite: write lock "
        "held; PostgreSQL: stopped), processing = off, lighttpd stopped; then `kancactl spool drain` timed")
    for kind in ("sqlite", "pg"):
        name = "fill-%s" % kind
        db = SqliteDB(env, name) if kind == "sqlite" else PgDB(env, "fill")
        st = Stack(env, name, new, db, trouble_settings(env, kind, name, "off"), args.procs).start()
        prefix = "fill-%s-%s" % (kind, secrets.token_hex(3))
        holder = None
        try:
            warm_up(st, args, "warm-" + prefix)
            if kind == "sqlite":
                holder = sqlite3.connect(db.path, timeout=30, isolation_level=None)
                holder.execute("BEGIN IMMEDIATE")
            else:
                db.drop_session()
                env.pg_stop("fast")
            t0 = time.monotonic()
            load = Load(st.port, env.secret, prefix, args.load_conns, args.fill_limit, args.fill)
            m = OtherLoad(env).start()
            load.run()
            m_fill = m.stop()
            fill_s = time.monotonic() - t0
            recs, _ = spool_records(st)
            st.stop()
            if holder:
                holder.execute("ROLLBACK")
                holder.close()
                holder = None
            else:
                env.pg_start()
            s = summarize(load.answers, float(args.deadline))
            want = [a.key for a in load.answers if 200 <= a.status < 300]
            say("  %s fill: %d requests in %.1f s from %d connections (%.0f deliveries/s into the spool): 2xx %d "
                "(queued %d), 503 %d, other %s; p50 %.1f ms p99 %.1f ms max %.1f ms; spool records (/healthz) %s" % (
                    {"sqlite": "SQLite", "pg": "PostgreSQL"}[kind], s["n"], fill_s, args.load_conns,
                    s["queued"] / fill_s if fill_s else 0, s["n2xx"], s["queued"], s["n503"], s["other"] or 0,
                    ms(s["p50"]), ms(s["p99"]), ms(s["max"]), recs))
            stored_before = db.count(prefix)
            m = OtherLoad(env).start()
            t1 = time.monotonic()
            r = st.ctl("spool", "drain", check=False, timeout=args.drain_limit)
            took = time.monotonic() - t1
            m_drain = m.stop()
            # its log names every event it stored (info); the last line sums the drain up
            lines = [x for x in (r.stdout.strip() + "\n" + r.stderr.strip()).splitlines() if x.strip()]
            out = lines[-1][-300:] if lines else ""
            keys = db.keys(prefix)
            drained = sum(keys.values()) - stored_before
            if r.returncode != 0:
                say("  !! kancactl spool drain exited %d: %s" % (r.returncode, out))
            say("  %s: kancactl spool drain took %.2f s for %d deliveries: %.0f events/s (exit %d; it said: %s)" % (
                {"sqlite": "SQLite", "pg": "PostgreSQL"}[kind], took, drained, drained / took if took else 0,
                r.returncode, out or "nothing"))
            say("  " + machine_note("the machine during the fill", m_fill) + "; " +
                machine_note("during the drain", m_drain))
            exactly_once("check", want, keys, load.answers)
        finally:
            if holder:
                holder.execute("ROLLBACK")
                holder.close()
            st.stop()
            if not env.pg_running:
                env.pg_start()


# ---------------------------------------------------------------- main

def tree_state():
    """HEAD of the source tree, and how many tracked files differ from it (what the new build was made of)"""
    try:
        head = subprocess.run(["git", "-C", TOP, "log", "-1", "--format=%h %s"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", TOP, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return "%s...%s" % (head[:60], ", with uncommitted changes in %d files" % len(dirty) if dirty else "")


def have_build(d):
    return d and os.access(os.path.join(d, "kanca"), os.X_OK) and os.access(os.path.join(d, "kancactl"), os.X_OK)


def main():
    ap = argparse.ArgumentParser(description="kanca under trouble (prints figures; not a test)")
    ap.add_argument("--new", default=os.environ.get("KANCA_BUILDDIR") or os.path.join(TOP, "_build"),
                    help="build directory of the code under test")
    ap.add_argument("--old", default="", help="build directory of the code before issue 10 (optional)")
    ap.add_argument("--old-desc", default="", help="what --old is (for the printout)")
    ap.add_argument("--new-desc", default="", help="what --new is (default: the work tree's HEAD and changes)")
    ap.add_argument("--duration", type=int, default=4, help="seconds per measured ingest run")
    ap.add_argument("--pairs", type=int, default=3, help="measured ingest runs per build, store, connections, block")
    ap.add_argument("--conns", default="8,64", help="ingest connection counts")
    ap.add_argument("--stores", default="sqlite,pg", help="stores of the ingest runs")
    ap.add_argument("--procs", type=int, default=8, help="kanca responders (lighttpd min-procs = max-procs)")
    ap.add_argument("--load-conns", type=int, default=8, help="connections of the load during trouble")
    ap.add_argument("--hold", type=float, default=10.0, help="seconds the SQLite write lock is held")
    ap.add_argument("--outage", type=float, default=15.0, help="seconds PostgreSQL is stopped")
    ap.add_argument("--deadline", default="2", help="answer_deadline for the trouble phases (kanca's default 2)")
    ap.add_argument("--limit", type=int, default=60000, help="most requests one trouble load sends")
    ap.add_argument("--fill", type=int, default=4000, help="deliveries sent to fill the spool for kancactl spool drain")
    ap.add_argument("--fill-limit", type=float, default=40.0, help="most seconds the spool fill may take")
    ap.add_argument("--drain-limit", type=float, default=180.0, help="most seconds a drain may take")
    ap.add_argument("--skip", default="", help="comma list of phases to leave out: ingest,sqlite,pg,ctl")
    ap.add_argument("--output", default=os.path.join(HERE, "results-trouble.txt"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    args.conns = [int(c) for c in args.conns.split(",") if c]
    args.stores = [x for x in args.stores.split(",") if x in ("sqlite", "pg")]
    skip = set(x for x in args.skip.split(",") if x)
    if not have_build(args.new):
        raise TroubleError("no kanca/kancactl in %s (bench/trouble.sh builds them)" % args.new)
    if args.old and not have_build(args.old):
        raise TroubleError("no kanca/kancactl in --old %s" % args.old)
    for tool in ("wrk", "lighttpd"):
        if not shutil.which(tool) and not os.access("/usr/sbin/" + tool, os.X_OK):
            raise TroubleError("%s is missing (scripts/deps.sh bench installs it)" % tool)
    if not args.old_desc:
        args.old_desc = args.old
    started = time.time()
    env = Env(args)
    try:
        env.start_pg()
        builds = {"old": args.old, "new": args.new} if args.old else {"new": args.new}
        say("kanca under trouble (bench/trouble.sh), %s, %d CPUs, %s; PostgreSQL %s (fsync on, synchronous_commit "
            "on, unix socket), SQLite WAL; lighttpd %s; everything on 127.0.0.1 / unix sockets"
            % (time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), platform.platform(),
               env.psql("SHOW server_version"), env.run([shutil.which("lighttpd") or "/usr/sbin/lighttpd", "-v"])
               .stdout.split()[0]))
        say("new build: %s (%s); %s" % (args.new, args.new_desc or "tree " + tree_state(),
                                        "old build: %s" % args.old_desc if args.old else "no old build"))
        dbs = {}
        for b in builds:
            dbs[("sqlite", b)] = SqliteDB(env, "ingest-%s" % b)
            dbs[("pg", b)] = PgDB(env, "ingest_%s" % b)
        rows = []
        if "ingest" not in skip:
            note("ingest, before")
            ingest_block(env, args, builds, dbs, "before", rows)
        if "sqlite" not in skip:
            note("SQLite lock hold")
            sqlite_hold(env, args, args.new)
        if "pg" not in skip:
            note("PostgreSQL outage")
            pg_outage(env, args, args.new)
        if "ctl" not in skip:
            note("kancactl spool drain")
            ctl_drain(env, args, args.new)
        if "ingest" not in skip:
            note("ingest, after")
            ingest_block(env, args, builds, dbs, "after", rows)
            print_ingest(args, rows, bool(args.old))
    finally:
        env.cleanup()
    say()
    say("total time %.0f s" % (time.time() - started))
    with open(args.output, "w") as f:
        f.write("\n".join(OUT) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TroubleError as e:
        print("trouble: %s" % e, file=sys.stderr)
        sys.exit(2)
