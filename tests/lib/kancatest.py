"""kancatest: the shared library of kanca's integration tests (Python 3, standard library only).

TAP output, paths, a throwaway PostgreSQL cluster, SQLite/PostgreSQL store helpers, the kanca
environment (config file, kancactl), request builders from tests/vectors.json, three transports
(CGI, FastCGI through cgi-fcgi, a real lighttpd) and the HTTP suite that every transport runs.
"""

import atexit
import glob
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

# --------------------------------------------------------------------------------------------
# TAP


_current_tap = None  # the test's Tap, for require_test_hooks


class Tap:
    """A TAP producer: ok/eq/skip, the plan at the end; an uncaught exception is a failure."""

    def __init__(self):
        global _current_tap
        self.n = 0
        self.failed = 0
        self.finished = False
        _current_tap = self
        sys.excepthook = self._excepthook
        # a harness timeout (SIGTERM) or ^C still reports and cleans up (atexit)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _raise_interrupted)

    @staticmethod
    def _emit(line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            self._emit("# " + line)

    def ok(self, cond, desc):
        self.n += 1
        desc = " ".join(str(desc).split())
        if cond:
            self._emit("ok %d - %s" % (self.n, desc))
        else:
            self.failed += 1
            self._emit("not ok %d - %s" % (self.n, desc))
        return bool(cond)

    def eq(self, got, expected, desc):
        good = got == expected
        self.ok(good, desc)
        if not good:
            self.diag("     got: %s" % _short(got))
            self.diag("expected: %s" % _short(expected))
        return good

    def todo(self, cond, desc, reason):
        """A check of a known bug: reported with "# TODO reason", so that a failure is an expected one
        (XFAIL) and a pass (the bug fixed) is an XPASS, which the harness reports as an error until
        the TODO is removed."""
        self.n += 1
        self._emit("%s %d - %s # TODO %s" % ("ok" if cond else "not ok", self.n, " ".join(str(desc).split()),
                                            " ".join(str(reason).split())))
        return bool(cond)

    def skip(self, reason, desc=""):
        self.n += 1
        self._emit("ok %d - %s # SKIP %s" % (self.n, " ".join(str(desc).split()), reason))

    def skip_all(self, reason):
        if self.n:
            # tests already ran: a plan of 0 is no longer possible; say it as a failure instead
            self.ok(False, "skip_all after %d tests: %s" % (self.n, reason))
            self.done()
        self._emit("1..0 # SKIP %s" % reason)
        self.finished = True
        sys.exit(0)

    def done(self):
        if not self.finished:
            self.finished = True
            self._emit("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)

    def _excepthook(self, etype, exc, tb):
        for line in traceback.format_exception(etype, exc, tb):
            self.diag(line.rstrip("\n"))
        self.n += 1
        self.failed += 1
        text = " ".join(("%s: %s" % (etype.__name__, exc)).split())
        self._emit("not ok %d - %s" % (self.n, text))
        if not self.finished:
            self.finished = True
            self._emit("1..%d" % self.n)
        # the interpreter exits with status 1 after the hook; atexit cleanups still run


class Interrupted(Exception):
    pass


def _raise_interrupted(signum, frame):
    raise Interrupted("interrupted by signal %d" % signum)


def _short(v, limit=600):
    s = repr(v)
    return s if len(s) <= limit else s[:limit] + "... (%d chars)" % len(s)


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def require_tool(tap, name, path=None):
    """Returns the tool's path. Missing: a failure when CI=true, else the whole test is skipped."""
    found = path if path is not None else shutil.which(name)
    if found and os.path.exists(found):
        return found
    if in_ci():
        tap.ok(False, "required tool %s is installed (CI=true: a missing tool is a failure)" % name)
        tap.done()
    tap.skip_all("%s not found" % name)
    return None


# --------------------------------------------------------------------------------------------
# paths


def test_hooks_built():
    """Whether this build was configured with --enable-test-hooks. A release build's binaries do not even
    contain the hooks' names (tests/integration/test_hooks.py proves it), so that is what is looked for."""
    with open(binary("kanca"), "rb") as f:
        return b"KANCA_TEST_NOW" in f.read()


def require_test_hooks(what):
    """Skips the whole test, with the reason, when this build has no test hooks; what names the hook the
    test needs and why."""
    if not test_hooks_built():
        _current_tap.skip_all("this build has no test hooks (./configure --enable-test-hooks; scripts/test.sh "
                              "builds with them): the test %s" % what)


def srcdir():
    d = os.environ.get("KANCA_SRCDIR")
    if d:
        return os.path.abspath(d)
    # this file is <src>/tests/lib/kancatest.py
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def builddir():
    d = os.environ.get("KANCA_BUILDDIR")
    if d:
        return os.path.abspath(d)
    for cand in [os.getcwd(), srcdir()] + sorted(glob.glob(os.path.join(srcdir(), "_build*"))):
        if os.access(os.path.join(cand, "kancactl"), os.X_OK):
            return os.path.abspath(cand)
    return os.getcwd()


def binary(name):
    """name: kanca, kancactl or cgi-bin/kanca.cgi"""
    return os.path.join(builddir(), name)


def load_vectors(provider=None):
    with open(os.path.join(srcdir(), "tests", "vectors.json"), encoding="utf-8") as f:
        vs = json.load(f)["vectors"]
    return [v for v in vs if provider is None or v["provider"] == provider]


def vector_now(default=1767225600):
    for v in load_vectors("supplier"):
        return int(v["now"])
    return default


# --------------------------------------------------------------------------------------------
# cleanup: every temp dir and child process goes away at exit, whatever happened

_cleanups = []


def at_cleanup(fn):
    _cleanups.append(fn)
    return fn


def _run_cleanups():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # cleanup must go on
            sys.stdout.write("# cleanup: %s\n" % e)


atexit.register(_run_cleanups)


def make_tempdir(prefix="kanca-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    if os.environ.get("KANCA_KEEP_TMP"):
        sys.stdout.write("# keeping %s\n" % d)
    else:
        at_cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def wait_for(pred, timeout, interval=0.05):
    """Polls pred() until true or timeout seconds pass (bounded). Returns the last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


def pids_in_group(pgid):
    out = []
    for st in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(st) as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rfind(")") + 2:].split()
        # fields: state ppid pgrp ...
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(st.split("/")[2]))
    return out


def raw_http(port, data, timeout=30):
    """Sends raw request bytes to 127.0.0.1:port; reads until the server closes (bounded by timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    chunks = []
    try:
        s.sendall(data)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                c = s.recv(65536)
            except socket.timeout:
                break
            if not c:
                break
            chunks.append(c)
    finally:
        s.close()
    return parse_http_response(b"".join(chunks))


def stop_server_group(proc):
    """Stops a server started with start_new_session: SIGTERM (SIGKILL after 10 s), then whatever is
    left in its process group (the children it spawned)."""
    pgid = proc.pid
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    kill_group(pgid)


def parent_pid(pid):
    """The parent of pid, from /proc; None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
        return int(data[data.rfind(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def kill_group(pgid, timeout=5.0):
    """SIGTERM to a process group this library created, then SIGKILL after timeout."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not wait_for(lambda: not pids_in_group(pgid), timeout):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_for(lambda: not pids_in_group(pgid), 2.0)


# --------------------------------------------------------------------------------------------
# PostgreSQL: a throwaway cluster on a unix socket in a temp dir


def pg_bindir():
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
        d = out.stdout.strip()
        if out.returncode == 0 and os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    except (OSError, subprocess.TimeoutExpired):
        pass
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)],
                    reverse=True):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    return None


def require_pg(tap):
    d = pg_bindir()
    require_tool(tap, "initdb", os.path.join(d, "initdb") if d else "")
    require_tool(tap, "psql")
    if os.geteuid() == 0:
        require_tool(tap, "runuser")


class PgCluster:
    """initdb + pg_ctl in a temp dir; unix socket only, trust auth, superuser and database "kanca"."""

    def __init__(self):
        self.bindir = pg_bindir()
        if not self.bindir:
            raise RuntimeError("PostgreSQL binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin)")
        self.dir = make_tempdir("kanca-pg-")
        self.datadir = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.port = random.randint(20000, 60999)  # only names the socket file: no TCP listener
        self.running = False
        self.initialised = False
        self.as_nobody = os.geteuid() == 0
        if self.as_nobody:
            # initdb refuses root: the cluster belongs to nobody, in a directory only nobody writes
            pw = _getpwnam("nobody")
            os.chown(self.dir, pw[0], pw[1])
            os.chmod(self.dir, 0o700)
        at_cleanup(self._cleanup)

    def _cmd(self, args):
        cmd = [os.path.join(self.bindir, args[0])] + list(args[1:])
        if self.as_nobody:
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        return cmd

    def _run(self, args, timeout=60):
        p = subprocess.run(self._cmd(args), capture_output=True, text=True, timeout=timeout, cwd="/")
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s%s" % (args[0], p.returncode, p.stderr, p.stdout, self.log_tail()))
        return p

    def log_tail(self, n=20):
        try:
            with open(self.logfile, errors="replace") as f:
                return "\n--- postgres.log ---\n" + "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def init(self):
        self._run(["initdb", "-D", self.datadir, "-U", "kanca", "-A", "trust", "-E", "UTF8", "--locale=C",
                   "--no-sync", "--no-instructions"])
        conf = ("\n# kancatest\nlisten_addresses = ''\nport = %d\nunix_socket_directories = '%s'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 50\n"
                "shared_buffers = 16MB\nlog_min_messages = warning\n" % (self.port, self.dir))
        # written through the cluster owner's own file permissions: append as root is fine (root may)
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write(conf)
        self.initialised = True

    def start(self):
        if not self.initialised:
            self.init()
            self._start()
            self.psql("CREATE DATABASE kanca", db="postgres")
        else:
            self._start()
        return self

    def _start(self):
        self._run(["pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w", "-t", "30", "start"])
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._run(["pg_ctl", "-D", self.datadir, "-m", mode, "-w", "-t", "30", "stop"])
            self.running = False

    def restart(self):
        self.stop()
        self._start()

    def uri(self, db="kanca"):
        return "postgresql:///%s?host=%s&port=%d&user=kanca" % (db, self.dir, self.port)

    def psql(self, sql, params=(), db="kanca"):
        """Runs one SQL statement with ? placeholders; returns rows as tuples of str or None."""
        return _psql_rows(self.uri(db), sql, params)

    def _cleanup(self):
        if self.running:
            try:
                self.stop(mode="immediate")
            except Exception:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self._cleanup()
        return False


def _getpwnam(name):
    import pwd
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


_PG_NULL = "\x02NULL\x02"


def _psql_cmd(uri):
    return ["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1e", "-P", "null=" + _PG_NULL, "-d", uri]


def _split_placeholders(sql, params):
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError("placeholders and parameters differ: %r" % sql)
    text = parts[0]
    for i in range(len(params)):
        text += ":'p%d'" % i + parts[i + 1]
    return text


def _parse_psql(out):
    if out == "":
        return []
    if out.endswith("\n"):
        out = out[:-1]
    return [tuple(None if c == _PG_NULL else c for c in rec.split("\x1f")) for rec in out.split("\x1e")]


def _psql_rows(uri, sql, params=()):
    """One psql process per statement; "?" placeholders become psql variables :'pN' (quoted by psql)."""
    args = []
    for i, p in enumerate(params):
        args += ["-v", "p%d=%s" % (i, p)]
    text = _split_placeholders(sql, params)
    p = subprocess.run(_psql_cmd(uri) + ["-v", "ON_ERROR_STOP=1"] + args, input=(text + ";\n").encode(),
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("psql failed: %s\nSQL: %s" % (p.stderr.decode(errors="replace"), sql))
    return _parse_psql(p.stdout.decode("utf-8"))


def _psql_quote(v):
    # a psql meta-command argument in single quotes: '' for ', C-like escapes for \ and line ends
    v = str(v).replace("\\", "\\\\").replace("'", "''").replace("\n", "\\n").replace("\r", "\\r")
    return "'" + v + "'"


class PsqlSession:
    """One long-lived psql on a pipe (a psql per query costs ~0.1 s): statement, then an end marker
    that carries psql's ERROR variable. Restarted after the server went away."""

    END = "@@kancatest-end-%d@@" % os.getpid()

    def __init__(self, uri, logfile):
        self.uri = uri
        self.logfile = logfile
        self.proc = None

    def _spawn(self):
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(_psql_cmd(self.uri), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log, bufsize=0)
        log.close()
        at_cleanup(self.close)

    def close(self):
        p, self.proc = self.proc, None
        if p and p.poll() is None:
            try:
                p.stdin.close()
            except OSError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        if p:
            p.stdout.close()

    def query(self, sql, params=(), timeout=30):
        for attempt in (0, 1):
            if self.proc is None or self.proc.poll() is not None:
                self.close()
                self._spawn()
            try:
                return self._query(sql, params, timeout)
            except (BrokenPipeError, EOFError):
                self.close()
                if attempt:
                    raise
        return None

    def _query(self, sql, params, timeout):
        import select
        script = "".join("\\set p%d %s\n" % (i, _psql_quote(v)) for i, v in enumerate(params))
        script += _split_placeholders(sql, params) + ";\n\\echo " + self.END + " :ERROR :LAST_ERROR_MESSAGE\n"
        self.proc.stdin.write(script.encode())
        fd = self.proc.stdout.fileno()
        buf = b""
        endb = (self.END + " ").encode()
        end = time.monotonic() + timeout
        while True:
            j = buf.rfind(endb)
            if j >= 0 and (j == 0 or buf[j - 1:j] == b"\n") and buf.endswith(b"\n"):
                tail = buf[j + len(endb):-1].decode("utf-8", "replace")
                if tail.startswith("true"):
                    raise RuntimeError("psql: %s\nSQL: %s" % (tail[5:], sql))
                return _parse_psql(buf[:j].decode("utf-8"))
            left = end - time.monotonic()
            if left <= 0:
                self.close()
                raise RuntimeError("psql did not answer within %d s: %s" % (timeout, sql))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                c = os.read(fd, 65536)
                if not c:
                    raise EOFError("psql exited")
                buf += c


# --------------------------------------------------------------------------------------------
# stores: one interface over both backends; values come back as str (or None), bodies as bytes


def _norm(v):
    if v is None or isinstance(v, (bytes, str)):
        return v
    return str(v)


class SqliteStore:
    kind = "sqlite"
    name = "sqlite"  # what kanca calls the backend (/healthz, kancactl migrate)
    can_stop = False

    def __init__(self, tmpdir):
        self.path = os.path.join(tmpdir, "kanca.db")

    def uri(self):
        return "sqlite:" + self.path

    def query(self, sql, params=()):
        con = sqlite3.connect(self.path, timeout=10)
        try:
            return [tuple(_norm(c) for c in row) for row in con.execute(sql, tuple(params)).fetchall()]
        finally:
            con.close()

    def body_of(self, event_id):
        rows = self.query("SELECT body FROM events WHERE id = ?", (event_id,))
        if not rows:
            return None
        b = rows[0][0]
        return b if isinstance(b, bytes) else b.encode()

    def count(self, table, where="", params=()):
        return int(self.query("SELECT count(*) FROM %s%s" % (table, " WHERE " + where if where else ""), params)[0][0])

    def close(self):
        pass


class PgStore:
    kind = "pg"
    name = "postgresql"
    can_stop = True

    def __init__(self, tmpdir, cluster=None):
        self.own = cluster is None
        self.cluster = cluster or PgCluster().start()
        self.session = PsqlSession(self.cluster.uri(), os.path.join(tmpdir, "psql.log"))

    def uri(self):
        return self.cluster.uri()

    def query(self, sql, params=()):
        return self.session.query(sql, params)

    def body_of(self, event_id):
        rows = self.query("SELECT encode(body, 'hex') FROM events WHERE id = ?", (event_id,))
        return bytes.fromhex(rows[0][0]) if rows else None

    def count(self, table, where="", params=()):
        return int(self.query("SELECT count(*) FROM %s%s" % (table, " WHERE " + where if where else ""), params)[0][0])

    def stop_server(self):
        self.session.close()
        self.cluster.stop()

    def start_server(self):
        self.cluster.start()

    def close(self):
        self.session.close()
        if self.own:
            self.cluster._cleanup()


def audit_counts(store):
    """id -> count of the counted (aggregated) audit rows: a rejection adds 1 to its minute's row."""
    return {int(i): int(c) for i, c in store.query("SELECT id, count FROM audit_log WHERE bucket IS NOT NULL")}


def audit_rows_since(store, snap):
    """(action, status_code, provider, account) once per request audited since snap (a snapshot() dict
    with "audit" and "counts"): the rows added, each as many times as its count, and the counted rows
    that grew, as many times as they grew. In row order."""
    out = []
    for i, action, st, prov, acc, count in store.query(
            "SELECT id, action, status_code, provider, account, count FROM audit_log WHERE id > ? OR bucket IS NOT "
            "NULL ORDER BY id", (snap["audit"],)):
        i, count = int(i), int(count)
        times = count if i > snap["audit"] else count - snap.get("counts", {}).get(i, count)
        out.extend([(action, st, prov, acc)] * times)
    return out


def public_id(store, event_id):
    """An event's public id ("evt_" + 32 hex digits): its webhook-id at every destination."""
    rows = store.query("SELECT public_id FROM events WHERE id = ?", (int(event_id),))
    return rows[0][0] if rows else None


def health(answer):
    """The status and store of a /healthz answer (the rest, spool depth and backlog, varies)."""
    return {k: answer.get(k) for k in ("status", "store")} if isinstance(answer, dict) else answer


def make_store(kind, tmpdir, cluster=None):
    if kind == "sqlite":
        return SqliteStore(tmpdir)
    if kind in ("pg", "postgresql"):
        return PgStore(tmpdir, cluster)
    raise ValueError("unknown store kind %r" % kind)


# --------------------------------------------------------------------------------------------
# the kanca environment: config file, kancactl, sources


class Kanca:
    def __init__(self, store, tmpdir, now=None, max_body_bytes="64K", log_level="info", **extra):
        """now: the pinned clock (KANCA_TEST_NOW; default: the vectors' time), or "real" for the moving
        clock that leases and retries need."""
        self.store = store
        self.tmpdir = tmpdir
        self.now = None if now == "real" else int(now if now is not None else vector_now())
        if self.now is not None:
            require_test_hooks("pins kanca's clock to the vectors' signed timestamps (KANCA_TEST_NOW)")
        self.extra_env = {}  # more variables for kanca, e.g. KANCA_TEST_HOLD_FILE
        self.config = os.path.join(tmpdir, "kanca.conf")
        # processing = off: these suites check what the receive path stored; processing after the
        # answer (the forked processor) has its own tests (after_answer.py, processing.py)
        self.settings = {"store": store.uri(), "max_body_bytes": max_body_bytes, "log_level": log_level,
                         "processing": "off", "spool_dir": os.path.join(tmpdir, "spool"),
                         # many tests pin the clock to the vectors' time, months ago: their rows must not be
                         # taken for old ones by a processor on the real clock (retention.py sets its own)
                         "retention": "3650d", "retention_dead": "3650d"}
        self.settings.update(extra)
        self.write_config()

    def write_config(self, **changes):
        self.settings.update(changes)
        with open(self.config, "w") as f:
            f.write("# written by kancatest\n")
            for k, v in self.settings.items():
                if v is not None:
                    f.write("%s = %s\n" % (k, v))

    def kanca_env(self):
        """The variables a web server hands kanca (besides the CGI ones)."""
        env = {"KANCA_CONFIG": self.config}
        if "KANCA_TEST_HOLD_FILE" in self.extra_env:
            require_test_hooks("holds an answer between commit and answer (KANCA_TEST_HOLD_FILE)")
        env.update(self.extra_env)
        if self.now is not None:
            env["KANCA_TEST_NOW"] = str(self.now)
        return env

    def environ(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("HTTP_")}
        env.update(self.kanca_env())
        return env

    def kancactl(self, *args, input=None, timeout=30, raw=False):
        """-> (rc, stdout, stderr); str, or bytes with raw=True (kancactl event show ID --body)."""
        if isinstance(input, str):
            input = input.encode()
        p = subprocess.run([binary("kancactl"), "-c", self.config] + [str(a) for a in args], input=input,
                           capture_output=True, env=self.environ(), timeout=timeout)
        if raw:
            return p.returncode, p.stdout, p.stderr
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def _must(self, *args, input=None):
        rc, out, err = self.kancactl(*args, input=input)
        if rc != 0:
            raise RuntimeError("kancactl %s failed (%d): %s%s" % (" ".join(map(str, args)), rc, err, out))
        return out

    def migrate(self):
        return self._must("migrate")

    def add_source(self, provider, account, secret=None, options=None):
        args = ["source", "add", provider, account]
        if secret is not None:
            args += ["--secret", secret]
        for k, v in (options or {}).items():
            args += ["--set", "%s=%s" % (k, v)]
        return self._must(*args)

    def source_id(self, provider, account):
        rows = self.store.query("SELECT id FROM sources WHERE provider = ? AND account = ?", (provider, account))
        return rows[0][0] if rows else None


# --------------------------------------------------------------------------------------------
# requests


def sign_hex(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def vector_request(v):
    """A vector -> (method, path, headers, body bytes)."""
    import base64
    body = base64.b64decode(v["body_b64"])
    return v.get("method", "POST"), v["path"], dict(v.get("headers") or {}), body


def cgi_env(method, path, headers, body, content_length=True):
    """The CGI/1.1 environment a web server would build for this request."""
    script_path, _, query = path.partition("?")
    env = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "kancatest",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REQUEST_METHOD": method,
        "REQUEST_URI": path,
        "SCRIPT_NAME": "",
        "PATH_INFO": script_path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
    }
    if body is not None and content_length:
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            env["CONTENT_TYPE"] = value
        elif key == "CONTENT_LENGTH":
            continue
        else:
            env["HTTP_" + key] = value
    return env


class Response:
    def __init__(self, status, headers, body, raw=b"", stderr=b""):
        self.status = status
        self.headers = headers
        self.body = body
        self.raw = raw
        self.stderr = stderr

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def __repr__(self):
        return "Response(%r, %r, %s)" % (self.status, self.headers, _short(self.body, 300))


def parse_cgi_output(out, stderr=b""):
    """CGI output ("Status: 200 OK", headers, blank line, body) -> Response; status 0 when unparsable."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = out.find(sep)
        if i >= 0:
            head, body = out[:i], out[i + len(sep):]
            break
    else:
        return Response(0, {}, out, out, stderr)
    headers = {}
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        name, colon, value = line.decode("latin-1").partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    status = 200
    if "status" in headers:
        m = re.match(r"(\d{3})", headers["status"])
        status = int(m.group(1)) if m else 0
    elif "location" in headers:
        status = 302
    return Response(status, headers, body, out, stderr)


def parse_http_response(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/\d\.\d (\d{3})", lines[0] if lines else "")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return Response(int(m.group(1)) if m else 0, headers, body, raw)


# --------------------------------------------------------------------------------------------
# transports: send(method, path, headers, body) -> Response


class CgiTransport:
    """kanca.cgi (or ./kanca, which serves one CGI request when stdin is not a socket)."""

    def __init__(self, kanca, use_kanca_binary=False):
        self.kanca = kanca
        self.prog = binary("kanca") if use_kanca_binary else binary("cgi-bin/kanca.cgi")
        self.name = "cgi(kanca)" if use_kanca_binary else "cgi"
        self.can_omit_length = True

    def start(self):
        return self

    def stop(self):
        pass

    def send_env(self, env, stdin):
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        full.update(self.kanca.kanca_env())
        full.update(env)
        p = subprocess.run([self.prog], input=stdin or b"", capture_output=True, env=full, timeout=30)
        return parse_cgi_output(p.stdout, p.stderr)

    def send(self, method, path, headers=None, body=None, content_length=True):
        return self.send_env(cgi_env(method, path, headers, body, content_length), body)


class FcgiTransport:
    """./kanca as a FastCGI application on a unix socket (cgi-fcgi -start), requests via cgi-fcgi -bind."""

    can_omit_length = True

    def __init__(self, kanca, tmpdir, nservers=1, spawn="cgi-fcgi"):
        """spawn: "cgi-fcgi" (cgi-fcgi -start, which leaves the app's stdout and stderr closed) or
        "direct" (this process binds the socket and starts kanca on it with stdout /dev/null and
        stderr to the log, as spawn-fcgi or a web server would)."""
        self.kanca = kanca
        self.tmpdir = tmpdir
        self.nservers = nservers
        self.spawn = spawn
        self.name = "fastcgi" if spawn == "cgi-fcgi" else "fastcgi-direct"
        self.sock = os.path.join(tmpdir, "kanca-fcgi.sock")
        self.logfile = os.path.join(tmpdir, "kanca-fcgi.log")
        self.pgid = None

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        if self.spawn == "direct":
            self._start_direct()
        else:
            with open(self.logfile, "ab") as log:
                # a new session: the app's processes keep this group after cgi-fcgi exits, so stop()
                # can end exactly them
                p = subprocess.Popen(["cgi-fcgi", "-start", "-connect", self.sock, binary("kanca"),
                                      str(self.nservers)], env=self.kanca.environ(), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, start_new_session=True, cwd=self.tmpdir)
                self.pgid = p.pid
                at_cleanup(self.stop)
                rc = p.wait(timeout=15)
            if rc != 0:
                raise RuntimeError("cgi-fcgi -start exited %d: %s" % (rc, self.log_tail()))
        if not wait_for(self._accepting, 10):
            raise RuntimeError("the FastCGI app does not accept on %s: %s" % (self.sock, self.log_tail()))
        return self

    def _start_direct(self):
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(self.sock)
        lsock.listen(64)
        procs = []
        with open(self.logfile, "ab") as log:
            for i in range(self.nservers):
                p = subprocess.Popen([binary("kanca")], env=self.kanca.environ(), stdin=lsock.fileno(),
                                     stdout=subprocess.DEVNULL, stderr=log, cwd=self.tmpdir,
                                     start_new_session=(i == 0),
                                     preexec_fn=None if i == 0 else _setpgid_fn(procs[0].pid))
                procs.append(p)
                if i == 0:
                    self.pgid = p.pid
                    at_cleanup(self.stop)
        lsock.close()
        self._procs = procs

    def _accepting(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.sock)
            return bool(pids_in_group(self.pgid))
        except OSError:
            return False
        finally:
            s.close()

    def pids(self):
        return pids_in_group(self.pgid) if self.pgid else []

    def log_tail(self, n=20):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.pgid:
            kill_group(self.pgid)
            self.pgid = None
        for p in getattr(self, "_procs", []):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def send_env(self, env, stdin):
        p = subprocess.run(["cgi-fcgi", "-bind", "-connect", self.sock], input=stdin or b"", capture_output=True,
                           env=env, timeout=30)
        r = parse_cgi_output(p.stdout, p.stderr)
        if r.status == 0:
            r.stderr = (p.stderr + b"\n(cgi-fcgi exit %d; app log: %s)" % (
                p.returncode, self.log_tail(5).encode(errors="replace")))
        return r

    def send(self, method, path, headers=None, body=None, content_length=True):
        return self.send_env(cgi_env(method, path, headers, body, content_length), body)


def _setpgid_fn(pgid):
    return lambda: os.setpgid(0, pgid)


def parse_size(text):
    """kanca's size syntax: digits with an optional K or M suffix (and B / iB)."""
    m = re.fullmatch(r"(\d+)([KkMm]?)(i?B)?", str(text).strip())
    if not m:
        raise ValueError("not a size: %r" % text)
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# shipped configuration files (lighttpd/, systemd/): tests start them as shipped, with paths replaced


def derive_shipped(text, replace=None, extra_env=None, what="the shipped file", strict=True):
    """The shipped text with each key of replace (a path the user is told to CHANGE) replaced by its
    value; every key must occur, so that a changed shipped file fails the test instead of being tested
    half-way. extra_env: more variables for kanca (the pinned clock), added after the line that sets
    "KANCA_CONFIG" => ... (lighttpd's bin-environment or setenv.add-environment)."""
    for old, new in (replace or {}).items():
        if old not in text and strict:
            raise RuntimeError("%s does not contain %r any more: update the test" % (what, old))
        text = text.replace(old, new)
    if extra_env:
        m = re.search(r'^([ \t]*)"KANCA_CONFIG"\s*=>\s*"[^"]*",?[^\n]*\n', text, re.M)
        if not m:
            raise RuntimeError("%s sets no \"KANCA_CONFIG\" => ... to add the test's variables to" % what)
        if not m.group(0).split("#")[0].rstrip().endswith(","):
            raise RuntimeError("%s: the KANCA_CONFIG line does not end with a comma" % what)
        add = "".join('%s"%s" => "%s",  # added by kancatest\n' % (m.group(1), k, v) for k, v in extra_env.items())
        text = text[:m.end()] + add + text[m.end():]
    return text


def service_user():
    """(user, group) for what runs as a dedicated user in production (kanca's systemd unit, a web
    server's worker): nobody/nogroup when the tests run as root, None otherwise (then everything runs
    as the test's user)."""
    if os.geteuid() != 0:
        return None
    import grp
    for g in ("nogroup", "nobody"):
        try:
            grp.getgrnam(g)
            return ("nobody", g)
        except KeyError:
            continue
    return ("nobody", str(_getpwnam("nobody")[1]))


def give_to(user, *paths):
    """chown paths (recursively for directories) to user = (user, group) from service_user(); no-op for
    None. What an unprivileged kanca writes (the SQLite store's directory) must belong to it."""
    if not user:
        return
    import grp
    uid = _getpwnam(user[0])[0]
    gid = grp.getgrnam(user[1]).gr_gid if not user[1].isdigit() else int(user[1])
    for p in paths:
        os.chown(p, uid, gid)
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), uid, gid, follow_symlinks=False)


def read_unit(path, replace=None):
    """A systemd unit file -> {section: [(key, value), ...]} in file order (comments, blank lines and
    backslash continuations as systemd reads them); replace as in derive_shipped, except that a key need
    not occur (SystemdService checks that each occurs in one of its units)."""
    with open(path, encoding="utf-8") as f:
        text = derive_shipped(f.read(), replace, None, path, strict=False)
    unit, section, pending = {}, None, ""
    for line in text.split("\n"):
        if pending:
            line = pending + " " + line.lstrip()
            pending = ""
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.endswith("\\"):
            pending = s[:-1]
            continue
        if s.startswith("[") and s.endswith("]"):
            section = s[1:-1]
            unit.setdefault(section, [])
            continue
        key, eq, value = s.partition("=")
        if not eq or section is None:
            raise RuntimeError("%s: cannot read line %r" % (path, line))
        unit[section].append((key.strip(), value.strip()))
    return unit


def unit_get(unit, section, key, default=None):
    """The value of a single-valued setting: the last assignment wins."""
    vals = [v for k, v in unit.get(section, []) if k == key]
    return vals[-1] if vals else default


def unit_all(unit, section, key):
    """Every assignment of a list setting (Environment=, EnvironmentFile=); an empty one resets the list."""
    out = []
    for k, v in unit.get(section, []):
        if k == key:
            out = [] if v == "" else out + [v]
    return out


def _unit_words(text):
    import shlex
    lex = shlex.shlex(text, posix=True, punctuation_chars=False)
    lex.whitespace_split = True
    lex.commenters = ""
    return list(lex)


def unit_environment(value):
    """One Environment= line: space-separated VAR=VALUE assignments, each optionally quoted."""
    out = {}
    for w in _unit_words(value):
        k, eq, v = w.partition("=")
        if not eq:
            raise RuntimeError("Environment=: not an assignment: %r" % w)
        out[k] = v
    return out


def read_environment_file(path):
    """An EnvironmentFile= (KEY=VALUE lines, # comments, optional quotes)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if not s or s[0] in "#;":
                continue
            k, eq, v = s.partition("=")
            if not eq:
                continue
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            out[k.strip()] = v
    return out


def unit_command(value, env):
    """ExecStart= -> argv as systemd builds it: quoting, "${VAR}" replaced inside a word, a word that
    is only "$VAR" split at whitespace (systemd.service(5), "Command lines")."""
    if value[:1] in "@-:+!" or "%" in value:
        raise RuntimeError("ExecStart= prefixes and %%-specifiers are not emulated: %r" % value)
    argv = []
    for w in _unit_words(value):
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", w)
        if m:
            argv += env.get(m.group(1), "").split()
            continue
        argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda x: env.get(x.group(1), ""), w))
    return argv


class SystemdService:
    """Runs a shipped service unit the way systemd does, without systemd: reads ExecStart=, Environment=,
    EnvironmentFile=, User=/Group=, StandardInput=socket and the KillMode=/KillSignal= stop; with
    StandardInput=socket, creates the listening unix socket of the matching .socket unit (ListenStream=,
    SocketMode=, SocketUser=/SocketGroup=, DirectoryMode=) once and hands it to every start as fd 0, as
    systemd keeps it open across restarts. stdout/stderr ("journal") go to a file.
    replace: shipped path -> test path (also for EnvironmentFile=); users, groups: a name in the unit ->
    the local one (only when running as root; otherwise everything runs as the test's user).
    Not emulated: Restart=, the sandboxing settings (NoNewPrivileges=, Protect*=, PrivateTmp=), and the
    second copy of the socket systemd passes as fd 3 with LISTEN_FDS/LISTEN_PID (libfcgi uses fd 0)."""

    def __init__(self, tmpdir, service, socket_unit=None, replace=None, users=None, groups=None):
        self.tmpdir = tmpdir
        self.service_path = service
        self.socket_path_unit = socket_unit
        self.replace = dict(replace or {})
        self.users = dict(users or {})
        self.groups = dict(groups or {})
        self.unit = read_unit(service, self.replace)
        self.socket_unit = read_unit(socket_unit, self.replace) if socket_unit else None
        texts = "".join(open(p, encoding="utf-8").read() for p in (service, socket_unit) if p)
        for old in self.replace:
            if old not in texts:
                raise RuntimeError("%s contains %r nowhere any more: update the test" % (service, old))
        self.journal = os.path.join(tmpdir, "journal-%s.log" % os.path.basename(service))
        self.proc = None
        self.lsock = None
        self.listen_path = None
        self.argv = None
        self.env = None
        at_cleanup(self.close)

    def _local(self, name, group=False):
        if os.geteuid() != 0 or not name:
            return None
        return (self.groups if group else self.users).get(name, name)

    def get(self, key, default=None):
        return unit_get(self.unit, "Service", key, default)

    def environment(self):
        """The environment systemd gives the service: its base PATH, the User='s USER/LOGNAME/HOME/SHELL,
        Environment= in order, then EnvironmentFile= (which overrides Environment=)."""
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        user = self._local(self.get("User")) if self.get("User") else None
        if user:
            import pwd
            pw = pwd.getpwnam(user)
            env.update(USER=pw.pw_name, LOGNAME=pw.pw_name, HOME=pw.pw_dir, SHELL=pw.pw_shell)
        for line in unit_all(self.unit, "Service", "Environment"):
            env.update(unit_environment(line))
        for spec in unit_all(self.unit, "Service", "EnvironmentFile"):
            optional = spec.startswith("-")
            path = spec[1:] if optional else spec
            if os.path.exists(path):
                env.update(read_environment_file(path))
            elif not optional:
                raise RuntimeError("EnvironmentFile=%s does not exist" % path)
        return env

    def _listen(self):
        su = self.socket_unit
        if su is None:
            raise RuntimeError("StandardInput=socket needs the .socket unit")
        path = unit_get(su, "Socket", "ListenStream")
        if not path or not path.startswith("/"):
            raise RuntimeError("ListenStream= is not a unix socket path: %r" % path)
        if unit_get(su, "Socket", "Accept", "no") not in ("no", "false", "0"):
            raise RuntimeError("Accept=yes is not emulated")
        d = os.path.dirname(path)
        if not os.path.isdir(d):
            os.makedirs(d, mode=int(unit_get(su, "Socket", "DirectoryMode", "0755"), 8))
        if os.path.exists(path):
            os.unlink(path)
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(path)
        ls.listen(int(unit_get(su, "Socket", "Backlog", str(socket.SOMAXCONN))))
        os.chmod(path, int(unit_get(su, "Socket", "SocketMode", "0666"), 8))
        owner = self._local(unit_get(su, "Socket", "SocketUser", "root"))
        group = self._local(unit_get(su, "Socket", "SocketGroup", "root"), group=True)
        if owner or group:
            import grp
            os.chown(path, _getpwnam(owner)[0] if owner else -1, grp.getgrnam(group).gr_gid if group else -1)
        self.lsock = ls
        self.listen_path = path

    def start(self, timeout=10):
        if self.get("Type", "simple") != "simple":
            raise RuntimeError("only Type=simple is emulated")
        if self.get("StandardInput") == "socket" and self.lsock is None:
            self._listen()
        self.env = self.environment()
        self.argv = unit_command(self.get("ExecStart"), self.env)
        kw = {}
        user, group = self.get("User"), self.get("Group")
        if user and self._local(user):
            # no Group=: the user's primary group, as systemd does
            kw = {"user": self._local(user), "group": self._local(group, True) if group else
                  _getpwnam(self._local(user))[1], "extra_groups": []}
        out = {"journal": None, "null": subprocess.DEVNULL}
        with open(self.journal, "ab") as log:
            streams = {}
            for name, key in (("stdout", "StandardOutput"), ("stderr", "StandardError")):
                how = self.get(key, "inherit")
                if how not in out:
                    raise RuntimeError("%s=%s is not emulated" % (key, how))
                streams[name] = log if how == "journal" else out[how]
            self.proc = subprocess.Popen(self.argv, stdin=self.lsock.fileno() if self.lsock else subprocess.DEVNULL,
                                         env=self.env, cwd=self.get("WorkingDirectory", "/"),
                                         start_new_session=True, **streams, **kw)
        return self

    @property
    def main_pid(self):
        return self.proc.pid if self.proc else None

    def pids(self):
        return pids_in_group(self.proc.pid) if self.proc else []

    def children(self):
        """The main process's children (multiwatch's responders)."""
        return [p for p in self.pids() if parent_pid(p) == self.proc.pid]

    def log_tail(self, n=30):
        try:
            with open(self.journal, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout=None):
        """systemctl stop: KillSignal= to the main process (KillMode=mixed) or to every process of the
        service (control-group); waits for all to end, at most TimeoutStopSec= (capped at 20 s here), then
        SIGKILL. Returns (main's exit status, seconds, pids that had to be killed)."""
        if self.proc is None:
            return None, 0.0, []
        sig = getattr(signal, self.get("KillSignal", "SIGTERM"))
        mode = self.get("KillMode", "control-group")
        limit = timeout if timeout is not None else min(20.0, float(self.get("TimeoutStopSec", "90").rstrip("s")))
        pgid = self.proc.pid
        t0 = time.monotonic()
        if self.proc.poll() is None:
            if mode == "mixed":
                self.proc.send_signal(sig)
            elif mode == "control-group":
                os.killpg(pgid, sig)
            else:
                raise RuntimeError("KillMode=%s is not emulated" % mode)
        try:
            rc = self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            rc = None
        wait_for(lambda: not pids_in_group(pgid), max(0.0, limit - (time.monotonic() - t0)))
        left = pids_in_group(pgid)
        if left:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_for(lambda: not pids_in_group(pgid), 5)
        if rc is None:
            self.proc.kill()
            rc = self.proc.wait(timeout=5)
        self.proc = None
        return rc, time.monotonic() - t0, left

    def close(self):
        if self.proc is not None:
            self.stop(timeout=10)
        if self.lsock is not None:
            self.lsock.close()
            self.lsock = None
            try:
                os.unlink(self.listen_path)
            except OSError:
                pass


# --------------------------------------------------------------------------------------------
# vectors: the source each vector needs


def configure_vector_source(env, tmp, i, v, account=None):
    """Adds the source the vector describes under its own account (default "v<i>"); returns the request
    path rewritten to that account, and the account (as tests/integration/vectors.py does)."""
    provider = v["provider"]
    parts = v["path"].strip("/").split("/")
    account = account or "v%03d" % i
    if parts[0] == "api":  # /api/suppliers/<id>/webhook
        path = "/api/suppliers/%s/webhook" % account
    else:                  # /webhook/<provider or alias>/<account>
        path = "/webhook/%s/%s" % (parts[1], account)
    args = ["source", "add", provider, account]
    secret = v.get("secret")
    opts = {}
    if provider == "ikas":
        opts = {k: x for k, x in (v.get("ikas") or {}).items() if x}
    elif provider == "trendyol":
        ty = v.get("trendyol") or {}
        opts["auth_mode"] = ty.get("auth_mode", "api_key")
        if opts["auth_mode"] == "api_key":
            secret = ty.get("api_key")
        elif opts["auth_mode"] == "basic_auth":
            opts["username"] = ty.get("username")
            secret = ty.get("password")
    elif provider == "apple":
        opts = {k: x for k, x in (v.get("apple") or {}).items() if x}
        pem = os.path.join(tmp, "root-%03d.pem" % i)
        with open(pem, "w") as f:
            f.write(v["trusted_root_pem"])
        args += ["--root-cert", pem]
    if secret is not None:
        args += ["--secret", secret]
    for k, x in opts.items():
        args += ["--set", "%s=%s" % (k, x)]
    rc, out, err = env.kancactl(*args)
    if rc != 0:
        raise RuntimeError("cannot configure vector %s: %s" % (v["name"], err.strip()))
    return path, account


# the rejection status each provider answers an invalid vector with (doc/providers.md)
VECTOR_REJECT = {"stripe": {400}, "shopify": {400, 401}, "apple": {400, 401}}


class LighttpdTransport:
    """A real lighttpd on an ephemeral 127.0.0.1 port; kanca under mod_fastcgi (bin-path)."""

    name = "lighttpd"
    can_omit_length = False  # lighttpd itself answers a POST without Content-Length

    def __init__(self, kanca, tmpdir, max_procs=2, max_request_kib=None, shipped=None, replace=None, extra_env=None,
                 user=None, server_lines=""):
        """shipped: None (this class writes its own kanca block: bin-path, max_procs responders) or the name
        of a file in lighttpd/ ("kanca.conf", "kanca-spawn-fcgi.conf", "kanca-cgi.conf"), included as
        shipped after derive_shipped(text, replace, extra_env); the server block around it sets only
        bind, port, document root, logs and pid file (and server.username when user is given), plus
        server_lines: settings of the test's "site" around the shipped file."""
        self.kanca = kanca
        self.tmpdir = tmpdir
        self.max_procs = max_procs
        self.shipped = shipped
        self.replace = dict(replace or {})
        self.extra_env = dict(extra_env or {})
        self.user = user
        self.server_lines = server_lines
        if shipped:
            self.name = "lighttpd+" + shipped
        # above kanca's max_body_bytes, so that kanca itself answers 413 (and at least 2 MiB, so that
        # a 1 MiB body reaches it)
        cap = parse_size(kanca.settings.get("max_body_bytes") or "1M")
        self.max_request_kib = max_request_kib or max(2048, 2 * cap // 1024)
        self.port = None
        self.proc = None
        self.docroot = os.path.join(tmpdir, "htdocs")
        self.conf = os.path.join(tmpdir, "lighttpd.conf")
        self.errorlog = os.path.join(tmpdir, "lighttpd-error.log")
        self.sock = os.path.join(tmpdir, "kanca-lighttpd.sock")

    def write_conf(self):
        os.makedirs(self.docroot, exist_ok=True)
        with open(os.path.join(self.docroot, "static.txt"), "w") as f:
            f.write("static file served by lighttpd\n")
        if self.shipped:
            return self._write_shipped_conf()
        env = self.kanca.kanca_env()
        benv = ", ".join('"%s" => "%s"' % (k, v) for k, v in sorted(env.items()))
        backend = ('"socket" => "%s", "check-local" => "disable"' % self.sock)
        conf = f"""# written by kancatest
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = {self.port}
server.document-root = "{self.docroot}"
server.errorlog = "{self.errorlog}"
server.pid-file = "{os.path.join(self.tmpdir, 'lighttpd.pid')}"
server.max-request-size = {self.max_request_kib}
# above kanca's own cap (8192 per value): kanca, not lighttpd, answers 431
server.max-request-field-size = 65535
mimetype.assign = ( ".txt" => "text/plain" )
# one backend for all of kanca's routes: with max-procs > 1 lighttpd names the sockets <socket>-0,
# <socket>-1, ..., so a second fastcgi.server entry pointing at "socket" alone would find nothing
$HTTP["url"] =~ "^/(webhook/|api/|healthz$)" {{
  fastcgi.server = (
    "/" => ((
      "bin-path" => "{binary('kanca')}",
      {backend},
      "max-procs" => {self.max_procs},
      "bin-environment" => ( {benv} ),
    )),
  )
}}
"""
        with open(self.conf, "w") as f:
            f.write(conf)

    def _write_shipped_conf(self):
        path = os.path.join(srcdir(), "lighttpd", self.shipped)
        with open(path, encoding="utf-8") as f:
            text = derive_shipped(f.read(), self.replace, self.extra_env, "lighttpd/" + self.shipped)
        self.snippet = os.path.join(self.tmpdir, "shipped-" + self.shipped)
        with open(self.snippet, "w", encoding="utf-8") as f:
            f.write(text)
        user = ""
        if self.user:
            user = 'server.username = "%s"\nserver.groupname = "%s"\n' % self.user
        conf = f"""# written by kancatest around the shipped lighttpd/{self.shipped}
server.bind = "127.0.0.1"
server.port = {self.port}
server.document-root = "{self.docroot}"
server.errorlog = "{self.errorlog}"
server.pid-file = "{os.path.join(self.tmpdir, 'lighttpd.pid')}"
mimetype.assign = ( ".txt" => "text/plain" )
{user}{self.server_lines}
include "{self.snippet}"
"""
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self):
        at_cleanup(self.stop)
        for attempt in range(3):
            # the port found free may be taken again before lighttpd binds it: then another one
            self.port = free_port()
            self.write_conf()
            # lighttpd -D keeps its stderr, which its FastCGI children inherit: point it at the error
            # log so that lighttpd's and kanca's log lines end up in one file, as in a deployment
            out = open(self.errorlog, "ab")
            if self.user:
                # lighttpd opens server.errorlog after it dropped to server.username
                import grp
                os.chown(self.errorlog, _getpwnam(self.user[0])[0], grp.getgrnam(self.user[1]).gr_gid)
            self.proc = subprocess.Popen(["lighttpd", "-D", "-f", self.conf], stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=out, start_new_session=True, cwd=self.tmpdir)
            out.close()
            state = wait_for(self._up, 15)
            if state == "up":
                return self
            self.stop()
            if state != "exited" or "in use" not in self.log_tail():
                break
        raise RuntimeError("lighttpd did not come up (%s): %s" % (state or "timeout", self.log_tail()))

    def _up(self):
        if self.proc.poll() is not None:
            return "exited"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return "up"
        except OSError:
            return None

    def log_tail(self, n=30):
        try:
            with open(self.errorlog, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def pids(self):
        return pids_in_group(self.proc.pid) if self.proc else []

    def responders(self):
        """The FastCGI responders lighttpd started (its children)."""
        return [p for p in self.pids() if parent_pid(p) == self.proc.pid]

    def processors(self):
        """The processors the responders forked (children of a responder)."""
        group = self.pids()
        return [p for p in group if parent_pid(p) in group and parent_pid(p) != self.proc.pid]

    def stop(self):
        if self.proc is None:
            return
        # the FastCGI children lighttpd spawned are in its process group
        stop_server_group(self.proc)
        self.proc = None

    def send(self, method, path, headers=None, body=None, content_length=True):
        if not content_length:
            return self.raw_send(_raw_request(method, path, headers, body, self.port))
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def send_raw(self, method, path, headers=None, body=b"", timeout=30):
        """One request with Content-Length on its own connection (Connection: close) -> Response whose
        .raw is the answer's bytes exactly as lighttpd sent them."""
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % self.port, "Connection: close",
                 "Content-Length: %d" % len(body or b"")]
        for k, v in (headers or {}).items():
            if k.lower() not in ("host", "connection", "content-length"):
                lines.append("%s: %s" % (k, v))
        return self.raw_send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""), timeout)

    def graceful_restart(self, timeout=15):
        """SIGUSR1: lighttpd's graceful restart (Debian's "systemctl reload lighttpd"): it finishes the
        requests in hand, stops its FastCGI children, reads its configuration again and starts them anew.
        Returns the new responders, or raises when they do not appear within timeout seconds."""
        old = set(self.responders())
        self.proc.send_signal(signal.SIGUSR1)
        want = self.responder_count if self.shipped else self.max_procs

        def fresh():
            now = self.responders()
            return now if len(now) >= want and not (set(now) & old) else None
        new = wait_for(fresh, timeout)
        if not new:
            raise RuntimeError("no fresh responders %ds after SIGUSR1 (before %s, now %s): %s" % (
                timeout, sorted(old), self.responders(), self.log_tail()))
        return new

    @property
    def responder_count(self):
        """How many responders lighttpd starts in bin-path mode: "min-procs" (lighttpd's default 4), at
        most "max-procs" (default 4); more are spawned only under load."""
        if not self.shipped:
            return self.max_procs
        text = open(self.snippet).read()
        lo = re.search(r'"min-procs"\s*=>\s*(\d+)', text)
        hi = re.search(r'"max-procs"\s*=>\s*(\d+)', text)
        return min(int(lo.group(1)) if lo else 4, int(hi.group(1)) if hi else 4)

    def raw_send(self, data, timeout=30):
        return raw_http(self.port, data, timeout)


def _raw_request(method, path, headers, body, port):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port, "Connection: close"]
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


# --------------------------------------------------------------------------------------------
# the HTTP suite: the same assertions on every transport and store

OK_RECEIVED = "Event received"


class Suite:
    def __init__(self, tap, transport, store, env):
        self.tap = tap
        self.t = transport
        self.store = store
        self.env = env
        self.label = "[%s/%s]" % (transport.name, store.name)
        self.n = 0

    # -- helpers
    def d(self, text):
        return "%s %s" % (self.label, text)

    def ok(self, cond, text):
        return self.tap.ok(cond, self.d(text))

    def eq(self, got, expected, text):
        return self.tap.eq(got, expected, self.d(text))

    def uniq(self, prefix):
        self.n += 1
        return "%s-%d" % (prefix, self.n)

    def snapshot(self):
        r = self.store.query("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM offers), "
                             "(SELECT coalesce(max(id), 0) FROM audit_log)")[0]
        return {"events": int(r[0]), "offers": int(r[1]), "audit": int(r[2]), "counts": audit_counts(self.store)}

    def audit_since(self, snap, settle=2.0):
        """The audit rows since snap. A rejection's row is written after its answer (never before it), so
        this waits up to settle seconds for the rows to stop changing (at least one 50 ms apart)."""
        end = time.monotonic() + settle
        rows = audit_rows_since(self.store, snap)
        while time.monotonic() < end:
            time.sleep(0.05)
            again = audit_rows_since(self.store, snap)
            if again == rows and rows:
                break
            rows = again
        return rows

    def post(self, account, body, secret=None, headers=None, sign=True):
        h = {"Content-Type": "application/json"}
        if sign:
            h["X-Signature"] = sign_hex(secret, body)
        h.update(headers or {})
        return self.t.send("POST", "/api/suppliers/%s/webhook" % account, h, body)

    def expect_json(self, r, status, expected, text):
        good = self.eq(r.status, status, "%s -> HTTP %d" % (text, status))
        if not good and r.stderr:
            self.tap.diag("stderr: " + r.stderr.decode(errors="replace")[-800:])
        self.eq(r.json(), expected, "%s -> answer %s" % (text, json.dumps(expected)))
        return good

    def expect_rejected(self, r, status, error, text, before, action="rejected"):
        """A 4xx: the answer, nothing stored, exactly one audit row."""
        exp = error if isinstance(error, dict) else {"success": False, "error": error}
        self.expect_json(r, status, exp, text)
        after = self.snapshot()
        self.eq((after["events"], after["offers"]), (before["events"], before["offers"]),
                "%s stores no event and no offer" % text)
        self.eq([a[:2] for a in self.audit_since(before)], [(action, str(status))],
                "%s leaves one audit_log row (%s, %d)" % (text, action, status))

    def event_rows(self, key, account):
        return self.store.query(
            "SELECT e.id, e.event_type, e.idempotency_key, e.status, e.received_at FROM events e "
            "JOIN sources s ON s.id = e.source_id "
            "WHERE s.provider = 'supplier' AND s.account = ? AND e.idempotency_key = ?", (account, key))

    def offer(self, account, vendor_id):
        rows = self.store.query(
            "SELECT o.title, o.price, o.currency, o.category, o.start_location, o.end_location, o.start_at, "
            "o.end_at, o.available_seats, o.description, o.status, o.revision, o.last_event_id "
            "FROM offers o JOIN sources s ON s.id = o.source_id "
            "WHERE s.provider = 'supplier' AND s.account = ? AND o.vendor_offer_id = ?", (account, vendor_id))
        keys = ("title", "price", "currency", "category", "start_location", "end_location", "start_at", "end_at",
                "available_seats", "description", "status", "revision", "last_event_id")
        return [dict(zip(keys, r)) for r in rows]

    # -- 1. vectors
    def vectors(self):
        added = {}
        for v in load_vectors("supplier"):
            sid = v["supplier_id"]
            if sid not in added:
                self.env.add_source("supplier", sid, v["secret"])
                added[sid] = v["secret"]
            elif added[sid] != v["secret"]:
                raise RuntimeError("vectors give supplier %s two secrets" % sid)
            method, path, headers, body = vector_request(v)
            name = "vector %s" % v["name"]
            before = self.snapshot()
            r = self.t.send(method, path, headers, body)
            if v["expect"] == "valid":
                if self.eq(r.status, 200, "%s -> HTTP 200" % name) is False and r.stderr:
                    self.tap.diag(r.stderr.decode(errors="replace")[-800:])
                if v["event_type"].startswith("offer."):
                    self.eq((r.json() or {}).get("event"), v["event_type"], "%s -> answer names the event" % name)
                else:
                    self.eq(r.json(), {"success": True, "message": OK_RECEIVED, "event": v["event_type"]},
                            "%s -> answer" % name)
                rows = self.event_rows(v["idempotency_key"], sid)
                self.eq(len(rows), 1, "%s -> one event row with its idempotency key" % name)
                if rows:
                    self.eq(rows[0][1:], (v["event_type"], v["idempotency_key"], "received", str(v["now"])),
                            "%s -> event type, key, status and received_at (the pinned clock) stored" % name)
                    self.ok(self.store.body_of(rows[0][0]) == body,
                            "%s -> the raw body is stored byte for byte (%d bytes)" % (name, len(body)))
                    rc, out, err = self.env.kancactl("event", "show", rows[0][0], "--body", raw=True)
                    self.eq((rc, out), (0, body), "%s -> kancactl event show ID --body gives the raw body" % name)
                after = self.snapshot()
                self.eq(after["events"], before["events"] + 1, "%s -> exactly one new event" % name)
                self.eq([a[:2] for a in self.audit_since(before)], [("received", "200")],
                        "%s -> audit_log row received/200" % name)
            else:
                has_sig = any(k.lower() == "x-signature" and val for k, val in headers.items())
                self.expect_rejected(r, 401, "Invalid signature" if has_sig else "Missing signature", name, before)
                self.eq(self.event_rows(v["idempotency_key"], sid), [], "%s -> its key is not stored" % name)

    # -- 2. the status-code table
    def offer_body(self, event, data, event_id=None, raw_data=None):
        head = {"event": event, "timestamp": "2025-10-04T12:00:00Z"}
        if event_id:
            head = {"eventId": event_id, **head}
        if raw_data is not None:
            txt = json.dumps(head, ensure_ascii=False)[:-1] + ', "data": ' + raw_data + "}"
            return txt.encode()
        if data is not None:
            head["data"] = data
        return json.dumps(head, ensure_ascii=False).encode()

    def status_table(self):
        acc = "acme-tours"
        sec = secrets.token_hex(32)
        self.env.add_source("supplier", acc, sec)
        self.acc, self.sec = acc, sec

        def ok_offer(body, message, event, result, text, new_events=1, new_offers=0):
            before = self.snapshot()
            r = self.post(acc, body, sec)
            self.expect_json(r, 200, {"success": True, "message": message, "event": event, "result": result}, text)
            self.eq(r.headers.get("content-type"), "application/json", "%s -> Content-Type" % text)
            after = self.snapshot()
            self.eq((after["events"] - before["events"], after["offers"] - before["offers"]),
                    (new_events, new_offers), "%s -> new events and offers" % text)
            self.eq([a[:2] for a in self.audit_since(before)], [("received", "200")], "%s -> audit received" % text)
            return r

        # offer.created, with the seed's example (price text kept as sent)
        created = ('{"eventId":"evt-c1","event":"offer.created","timestamp":"2025-10-04T12:00:00Z","data":{'
                   '"vendorOfferId":"TOUR-123","title":"İstanbul Boğaz Turu","price":150.00,"currency":"TRY",'
                   '"category":"tours","startLocation":"İstanbul","endLocation":"İstanbul",'
                   '"startAt":"2025-10-05T09:00:00Z","endAt":"2025-10-05T17:00:00Z","availableSeats":20,'
                   '"description":"Boğaz turu deneyimi"}}').encode()
        ok_offer(created, "Offer created", "offer.created", {"inserted": 1}, "offer.created TOUR-123", 1, 1)
        ev = self.event_rows("evt-c1", acc)
        self.eq([e[1:4] for e in ev], [("offer.created", "evt-c1", "received")], "offer.created event row")
        self.eq(self.offer(acc, "TOUR-123"),
                [{"title": "İstanbul Boğaz Turu", "price": "150.00", "currency": "TRY", "category": "tours",
                  "start_location": "İstanbul", "end_location": "İstanbul", "start_at": "2025-10-05T09:00:00Z",
                  "end_at": "2025-10-05T17:00:00Z", "available_seats": "20", "description": "Boğaz turu deneyimi",
                  "status": "active", "revision": "1", "last_event_id": ev[0][0] if ev else None}],
                "offer.created -> offers row with every field")

        # offer.updated of an existing offer: the fields sent change, the others stay
        body = self.offer_body("offer.updated", None, "evt-u1",
                               raw_data='{"vendorOfferId":"TOUR-123","price":120.5,"availableSeats":15}')
        ok_offer(body, "Offer updated", "offer.updated", {"updated": 1}, "offer.updated TOUR-123", 1, 0)
        o = self.offer(acc, "TOUR-123")
        self.eq([(x["title"], x["price"], x["available_seats"], x["status"], x["revision"]) for x in o],
                [("İstanbul Boğaz Turu", "120.5", "15", "active", "2")], "offer.updated -> upserted in place")

        # offer.updated of an unknown offer creates none (doc/providers.md, supplier): the event is kept
        # and the answer says so; no eventId: the key is the body's SHA-256
        body = self.offer_body("offer.updated", {"vendorOfferId": "TOUR-456", "title": "Kapadokya Balon",
                                                 "price": 99, "currency": "EUR", "category": "tours"})
        ok_offer(body, "Offer not found", "offer.updated", {"updated": 0}, "offer.updated unknown TOUR-456", 1, 0)
        self.eq(self.offer(acc, "TOUR-456"), [], "offer.updated of an unknown offer creates no offer")
        key = hashlib.sha256(body).hexdigest()
        self.eq(len(self.event_rows(key, acc)), 1, "without eventId the idempotency key is the body's SHA-256")
        body = self.offer_body("offer.created", {"vendorOfferId": "TOUR-456", "title": "Kapadokya Balon",
                                                 "price": 99, "currency": "EUR", "category": "tours"}, "evt-c3")
        ok_offer(body, "Offer created", "offer.created", {"inserted": 1}, "offer.created TOUR-456", 1, 1)

        # offer.created of an existing vendorOfferId updates it
        body = self.offer_body("offer.created", {"vendorOfferId": "TOUR-123", "title": "Boğaz Turu (yeni)",
                                                 "price": 160, "currency": "TRY", "category": "tours"}, "evt-c2")
        ok_offer(body, "Offer created", "offer.created", {"updated": 1}, "offer.created existing TOUR-123", 1, 0)
        self.eq([(x["title"], x["price"]) for x in self.offer(acc, "TOUR-123")], [("Boğaz Turu (yeni)", "160")],
                "offer.created existing -> same row updated")

        # deleted / expired
        body = self.offer_body("offer.deleted", {"vendorOfferId": "TOUR-123"}, "evt-d1")
        ok_offer(body, "Offer marked as deleted", "offer.deleted", {"updated": 1}, "offer.deleted TOUR-123", 1, 0)
        self.eq([x["status"] for x in self.offer(acc, "TOUR-123")], ["deleted"], "offer.deleted -> status deleted")
        body = self.offer_body("offer.expired", {"vendorOfferId": "TOUR-456"}, "evt-e1")
        ok_offer(body, "Offer marked as expired", "offer.expired", {"updated": 1}, "offer.expired TOUR-456", 1, 0)
        self.eq([x["status"] for x in self.offer(acc, "TOUR-456")], ["expired"], "offer.expired -> status expired")
        body = self.offer_body("offer.deleted", {"vendorOfferId": "NO-SUCH"}, "evt-d2")
        ok_offer(body, "Offer marked as deleted", "offer.deleted", {"updated": 0}, "offer.deleted unknown offer", 1, 0)
        body = self.offer_body("offer.expired", {"vendorOfferId": "NO-SUCH"}, "evt-e2")
        ok_offer(body, "Offer marked as expired", "offer.expired", {"updated": 0}, "offer.expired unknown offer", 1, 0)
        self.eq(self.offer(acc, "NO-SUCH"), [], "deleted/expired of an unknown offer creates no offer")

        # headers stored, credentials redacted
        body = self.offer_body("stock.updated", {"sku": "X"}, "evt-h1")
        r = self.post(acc, body, sec, headers={"Authorization": "Bearer top-secret-token", "X-Trace": "t-1"})
        self.eq(r.status, 200, "request with Authorization -> 200")
        rows = self.store.query("SELECT e.headers FROM events e JOIN sources s ON s.id = e.source_id "
                                "WHERE s.account = ? AND e.idempotency_key = 'evt-h1'", (acc,))
        try:
            hdrs = json.loads(rows[0][0]) if rows else {}
        except ValueError:
            hdrs = {}
        self.eq((hdrs.get("authorization"), hdrs.get("x-trace"), hdrs.get("x-signature")),
                ("[redacted]", "t-1", sign_hex(sec, body)), "stored headers: authorization redacted, others kept")
        self.ok(rows and "top-secret-token" not in rows[0][0], "the credential is not stored anywhere in headers")

        self.bad_requests(acc, sec)
        self.server_error(acc, sec)

    def bad_requests(self, acc, sec):
        def rej(body, status, error, text, secret=sec, account=acc, action="rejected", **kw):
            before = self.snapshot()
            r = self.post(account, body, secret, **kw)
            self.expect_rejected(r, status, error, text, before, action)
            return r

        # 400
        rej(b'{"event":"offer.created","data":{', 400, "Invalid JSON", "400 truncated JSON")
        rej(b'not json at all', 400, "Invalid JSON", "400 not JSON")
        rej(b'{"data":{"vendorOfferId":"A"}}', 400, "Invalid event type",
            "400 no event field")
        rej(b'{"event":5,"data":{"vendorOfferId":"A"}}', 400, "Invalid event type", "400 event not a string")
        rej(self.offer_body("offer.bogus", {"vendorOfferId": "A"}), 400, "Invalid event type", "400 unknown offer.* type")
        lim, limsec = "acme-limited", secrets.token_hex(32)
        self.env.add_source("supplier", lim, limsec, {"events": "offer.created,offer.deleted"})
        rej(self.offer_body("offer.updated", {"vendorOfferId": "L-1", "price": 5}), 400, "Invalid event type",
            "400 type not in the source's events option", secret=limsec, account=lim)
        r = self.post(lim, self.offer_body("offer.deleted", {"vendorOfferId": "L-1"}, "lim-1"), limsec)
        self.eq(r.status, 200, "a type listed in the events option is accepted")

        # 401
        body = self.offer_body("offer.created", {"vendorOfferId": "S-1", "title": "t", "price": 1, "currency": "TRY",
                                                 "category": "c"}, "sig-1")
        rej(body, 401, "Missing signature", "401 no X-Signature", sign=False)
        rej(body, 401, "Invalid signature", "401 wrong X-Signature", sign=False,
            headers={"X-Signature": sign_hex(secrets.token_hex(32), body)})
        rej(body, 401, "Invalid signature", "401 upper-case hex X-Signature", sign=False,
            headers={"X-Signature": sign_hex(sec, body).upper()})
        rej(body, 401, "Invalid signature", "401 sha256= prefixed X-Signature", sign=False,
            headers={"X-Signature": "sha256=" + sign_hex(sec, body)})
        rej(body, 401, "Invalid signature", "401 signature of another body", sign=False,
            headers={"X-Signature": sign_hex(sec, body + b" ")})

        # 403
        dis = "acme-disabled"
        dsec = secrets.token_hex(32)
        self.env.add_source("supplier", dis, dsec)
        rc, out, err = self.env.kancactl("source", "disable", "supplier", dis)
        self.eq(rc, 0, "kancactl source disable")
        rej(self.offer_body("stock.updated", {"sku": "1"}, "dis-1"), 403, "Supplier is disabled", "403 disabled source",
            secret=dsec, account=dis)
        rc, out, err = self.env.kancactl("source", "enable", "supplier", dis)
        self.eq(rc, 0, "kancactl source enable")
        # a responder reuses a source for source_cache_seconds (1 s by default): wait that out
        time.sleep(float(self.env.settings.get("source_cache_seconds", 1)) + 0.2)
        r = self.post(dis, self.offer_body("stock.updated", {"sku": "1"}, "dis-1"), dsec)
        self.eq(r.status, 200, "the same request after source enable -> 200")
        self.env.add_source("supplier", "acme-nosecret")
        rej(self.offer_body("stock.updated", {"sku": "1"}, "ns-1"), 403, "Webhook not configured for supplier",
            "403 source without secret", secret=secrets.token_hex(32), account="acme-nosecret")

        # 404
        rej(self.offer_body("stock.updated", {"sku": "1"}, "nf-1"), 404, "Supplier not found", "404 unknown supplier",
            account="no-such-supplier")

        # 422: each validation rule
        full = {"vendorOfferId": "V-1", "title": "Tur", "price": 10, "currency": "TRY", "category": "tours"}

        def without(k):
            return {x: y for x, y in full.items() if x != k}

        cases = [
            ("offer.created", without("vendorOfferId"), "vendorOfferId", "created without vendorOfferId"),
            ("offer.updated", {"price": 3}, "vendorOfferId", "updated without vendorOfferId"),
            ("offer.deleted", {"vendorOfferId": ""}, "vendorOfferId", "deleted with empty vendorOfferId"),
            ("offer.expired", {"vendorOfferId": 42}, "vendorOfferId", "expired with numeric vendorOfferId"),
            ("offer.created", without("title"), "title", "created without title"),
            ("offer.created", without("price"), "price", "created without price"),
            ("offer.created", without("currency"), "currency", "created without currency"),
            ("offer.created", without("category"), "category", "created without category"),
            ("offer.updated", {"vendorOfferId": "V-1", "price": "150"}, "price", "price as a string"),
            ("offer.created", {**full, "price": True}, "price", "price as a boolean"),
            ("offer.updated", {"vendorOfferId": "V-1", "startAt": "05.10.2025"}, "startAt", "startAt not ISO 8601"),
            ("offer.updated", {"vendorOfferId": "V-1", "endAt": "2025-02-30T10:00:00Z"}, "endAt",
             "endAt not a real date"),
            ("offer.updated", {"vendorOfferId": "V-1", "startAt": "2025-10-05T25:00:00Z"}, "startAt",
             "startAt hour 25"),
            ("offer.updated", {"vendorOfferId": "V-1", "availableSeats": -1}, "availableSeats", "availableSeats -1"),
            ("offer.updated", {"vendorOfferId": "V-1", "availableSeats": 2.5}, "availableSeats", "availableSeats 2.5"),
            ("offer.updated", {"vendorOfferId": "V-1", "availableSeats": "20"}, "availableSeats",
             "availableSeats as a string"),
            ("offer.created", "V-1", "data", "data a string"),
            ("offer.deleted", ["V-1"], "data", "data an array"),
            ("offer.updated", None, "data", "data missing"),
        ]
        for i, (event, data, field, text) in enumerate(cases):
            body = self.offer_body(event, data, "bad-%d" % i)
            before = self.snapshot()
            r = self.post(acc, body, sec)
            self.eq(r.status, 422, "422 %s -> HTTP 422" % text)
            j = r.json() or {}
            self.eq((j.get("success"), j.get("error"), sorted(j)), (False, "Failed to process offer",
                                                                    ["details", "error", "success"]),
                    "422 %s -> answer shape" % text)
            self.ok(isinstance(j.get("details"), str) and field in j.get("details", ""),
                    "422 %s -> details name %s (%r)" % (text, field, j.get("details")))
            after = self.snapshot()
            self.eq((after["events"], after["offers"]), (before["events"], before["offers"]),
                    "422 %s stores no event and no offer" % text)
            self.eq([a[:2] for a in self.audit_since(before)], [("processing_failed", "422")],
                    "422 %s -> audit row processing_failed/422" % text)
        self.eq(self.offer(acc, "V-1"), [], "no 422 request left an offer V-1")

    def server_error(self, acc, sec):
        body = self.offer_body("offer.created", {"vendorOfferId": "DOWN-1", "title": "t", "price": 1,
                                                 "currency": "TRY", "category": "c"}, "down-1")
        if not self.store.can_stop:
            self.tap.skip("SQLite is a file opened in-process: there is no store server to stop",
                          self.d("500 when the store is down"))
            return
        self.store.stop_server()
        try:
            r = self.post(acc, body, sec)
            queued = r.status == 200
            if isinstance(self.t, CgiTransport):
                # a CGI process has no source cache from earlier requests: it cannot verify, so 503
                self.eq(r.status, 503, "503 while PostgreSQL is stopped (CGI: the source cannot be looked up)")
            elif queued:
                self.expect_json(r, 200, {"success": True, "message": "Event queued", "queued": True,
                                          "event": "offer.created"},
                                 "spooled while PostgreSQL is stopped: the queued answer")
            else:  # a responder that has not seen this source yet
                self.eq(r.status, 503, "503 while PostgreSQL is stopped (this responder never saw the source)")
            if r.status == 503:
                self.eq((r.headers.get("retry-after"), r.json().get("success")), ("30", False),
                        "... with Retry-After: 30 and a JSON error")
            h = self.t.send("GET", "/healthz")
            self.eq((h.status, health(h.json()), h.headers.get("retry-after")),
                    (503, {"status": "unavailable", "store": self.store.name}, "30"),
                    "GET /healthz while PostgreSQL is stopped -> 503 with Retry-After")
            self.ok("down" in h.json().get("reason", ""), "... its reason says the store is down: %s"
                    % h.json().get("reason"))
        finally:
            self.store.start_server()
        if queued:
            # processing = off here: the operator's drain (a processor drains it by itself)
            self.eq(self.env.kancactl("spool", "drain")[0], 0, "kancactl spool drain after the restart")
            self.eq(len(self.event_rows("down-1", acc)), 1, "the spooled delivery is stored once the store is back")
            self.ok(self.offer(acc, "DOWN-1") != [], "... and its offer with it (the domain update ran at drain)")
            r = self.post(acc, body, sec)
            self.eq(r.status, 200, "the provider's retry of the spooled delivery -> 200 (a duplicate)")
        else:
            r = self.post(acc, body, sec)
            self.expect_json(r, 200, {"success": True, "message": "Offer created", "event": "offer.created",
                                      "result": {"inserted": 1}},
                             "the same request after PostgreSQL is back (nothing was stored by the 503)")
        self.eq(len(self.event_rows("down-1", acc)), 1, "after the restart the event is stored once")
        h = self.t.send("GET", "/healthz")
        self.eq((h.status, health(h.json())), (200, {"status": "ok", "store": self.store.name}),
                "GET /healthz after PostgreSQL is back")

    # -- 3. dedup
    def dedup(self):
        acc, sec = self.acc, self.sec
        body = self.offer_body("offer.created", {"vendorOfferId": "DUP-1", "title": "Çeşme", "price": 75.25,
                                                 "currency": "TRY", "category": "beach"}, "evt-dup-1")
        before = self.snapshot()
        r1 = self.post(acc, body, sec)
        r2 = self.post(acc, body, sec)
        self.eq((r1.status, r2.status), (200, 200), "dedup: the same signed request twice -> 200 and 200")
        self.eq(r1.json(), {"success": True, "message": "Offer created", "event": "offer.created",
                            "result": {"inserted": 1}}, "dedup: first answer")
        self.eq(r2.body, r1.body, "dedup: the second answer is byte for byte the first")
        after = self.snapshot()
        self.eq((after["events"] - before["events"], after["offers"] - before["offers"]), (1, 1),
                "dedup: one event row and one offer")
        self.eq([(x["revision"], x["price"]) for x in self.offer(acc, "DUP-1")], [("1", "75.25")],
                "dedup: the offer was changed once")
        # same key, different content: still the first answer and nothing applied
        other = self.offer_body("offer.updated", {"vendorOfferId": "DUP-1", "price": 1}, "evt-dup-1")
        r3 = self.post(acc, other, sec)
        self.eq((r3.status, r3.body), (200, r1.body), "dedup: another body with the same eventId -> the first answer")
        self.eq([(x["revision"], x["price"]) for x in self.offer(acc, "DUP-1")], [("1", "75.25")],
                "dedup: ... and the offer is untouched")
        self.eq(self.snapshot()["events"], after["events"], "dedup: ... and no event stored")
        # the key is per source: the same eventId from another supplier is a new event
        lsec = secrets.token_hex(32)
        self.env.add_source("supplier", "acme-other", lsec)
        r4 = self.post("acme-other", body, lsec)
        self.eq((r4.status, r4.json()), (200, {"success": True, "message": "Offer created", "event": "offer.created",
                                                "result": {"inserted": 1}}),
                "dedup: the same eventId from another supplier is its own event")
        # no eventId: the body hash dedups
        plain = b'{"event":"stock.updated","data":{"sku":"P-1","stok":3}}'
        before = self.snapshot()
        r5, r6 = self.post(acc, plain, sec), self.post(acc, plain, sec)
        self.eq((r5.status, r6.status, r6.body == r5.body), (200, 200, True), "dedup by body hash: 200, 200, same answer")
        self.eq(self.snapshot()["events"] - before["events"], 1, "dedup by body hash: one event row")
        self.eq(len(self.event_rows(hashlib.sha256(plain).hexdigest(), acc)), 1, "dedup by body hash: key is SHA-256")

    # -- 4. caps and routes
    def caps(self):
        acc, sec = self.acc, self.sec
        cap = 64 * 1024

        def padded(size, eid):
            head = b'{"eventId":"%s","event":"stock.updated","pad":"' % eid.encode()
            return head + b"x" * (size - len(head) - 2) + b'"}'

        body = padded(cap, "cap-exact")
        self.eq(len(body), cap, "a body of exactly max_body_bytes")
        r = self.post(acc, body, sec)
        self.eq(r.status, 200, "body of exactly max_body_bytes (64K) -> 200")
        rows = self.event_rows("cap-exact", acc)
        self.ok(len(rows) == 1 and self.store.body_of(rows[0][0]) == body, "... and stored byte for byte")

        for size, text in ((cap + 1, "max_body_bytes + 1"), (1024 * 1024, "1 MiB")):
            body = padded(size, "cap-%d" % size)
            before = self.snapshot()
            r = self.post(acc, body, sec)
            self.eq(r.status, 413, "body of %s -> 413" % text)
            j = r.json() or {}
            self.eq((j.get("success"), isinstance(j.get("error"), str)), (False, True),
                    "413 answer is {\"success\":false,\"error\":...}")
            after = self.snapshot()
            self.eq((after["events"], after["offers"]), (before["events"], before["offers"]), "413 stores nothing")
            self.eq([a[:2] for a in self.audit_since(before)], [("rejected", "413")], "413 leaves an audit row")

        # 405
        for path, allow in (("/api/suppliers/%s/webhook" % acc, "POST"), ("/webhook/hmac/some-account", "POST")):
            r = self.t.send("GET", path, {})
            self.eq(r.status, 405, "GET %s -> 405" % path)
            self.eq(r.headers.get("allow"), allow, "GET %s -> Allow: %s" % (path, allow))
            self.eq((r.json() or {}).get("success"), False, "405 answer is JSON with success false")
        r = self.t.send("POST", "/healthz", {"Content-Type": "application/json"}, b"{}")
        self.eq((r.status, r.headers.get("allow")), (405, "GET, HEAD"), "POST /healthz -> 405 Allow: GET, HEAD")

        # 404
        for path in ("/api/suppliers/%s/webhooks" % acc, "/api/nothing-here", "/webhook/supplier",
                     "/webhook/supplier/%s/extra" % acc):
            before = self.snapshot()
            r = self.t.send("POST", path, {"Content-Type": "application/json"}, b"{}")
            self.eq((r.status, (r.json() or {}).get("success")), (404, False), "unknown path %s -> 404 JSON" % path)
        r = self.t.send("POST", "/webhook/no-such-provider/acc-1", {"Content-Type": "application/json"}, b"{}")
        self.eq((r.status, r.json()), (404, {"success": False, "error": "Unknown provider"}),
                "unknown provider -> 404 JSON")

        # 431: one header value over 8192 bytes; exactly 8192 passes
        body = self.offer_body("stock.updated", {"sku": "H"}, "hdr-ok")
        r = self.post(acc, body, sec, headers={"X-Big": "a" * 8192})
        self.eq(r.status, 200, "a header value of exactly 8192 bytes -> 200")
        for text, extra in (("a header value of 8193 bytes", {"X-Big": "a" * 8193}),
                            ("130 headers", {"X-Extra-%d" % i: "v" for i in range(130)})):
            body = self.offer_body("stock.updated", {"sku": "H"}, self.uniq("hdr-big"))
            before = self.snapshot()
            r = self.post(acc, body, sec, headers=extra)
            j = r.json()
            if j is None and self.t.name == "lighttpd":
                # lighttpd refused the request itself before kanca saw it: it must still be a 4xx
                self.tap.diag("lighttpd answered %s itself with %d (kanca did not see it)" % (text, r.status))
                self.ok(400 <= r.status < 500, "%s refused by lighttpd with a 4xx (%d)" % (text, r.status))
            else:
                self.eq((r.status, (j or {}).get("success")), (431, False), "%s -> 431 JSON" % text)
            after = self.snapshot()
            self.eq(after["events"], before["events"], "%s stores nothing" % text)

        # JSON nesting cap (32 nested objects/arrays): the envelope object + 31 arrays pass, + 32 do not
        for depth, status in ((31, 200), (32, 400)):
            eid = self.uniq("deep")
            body = ('{"eventId":"%s","event":"stock.updated","data":%s%s}' % (eid, "[" * depth, "]" * depth)).encode()
            before = self.snapshot()
            r = self.post(acc, body, sec)
            if status == 200:
                self.eq(r.status, 200, "JSON nested 32 levels deep (the cap) -> 200")
            else:
                self.expect_json(r, 400, {"success": False, "error": "Invalid JSON: nested too deeply"},
                                 "JSON nested 33 levels deep -> 400")
                self.eq(self.snapshot()["events"], before["events"], "too deep JSON stores nothing")

        # 414: a path over 1024 bytes
        r = self.t.send("POST", "/api/suppliers/%s/webhook" % ("p" * 1100), {"Content-Type": "application/json"}, b"{}")
        if r.json() is None and self.t.name == "lighttpd":
            self.ok(400 <= r.status < 500, "a 1100-byte path refused by lighttpd with a 4xx (%d)" % r.status)
        else:
            self.eq((r.status, (r.json() or {}).get("success")), (414, False), "a 1100-byte path -> 414 JSON")

        # 411: no Content-Length
        body = self.offer_body("stock.updated", {"sku": "L"}, "no-length")
        before = self.snapshot()
        r = self.t.send("POST", "/api/suppliers/%s/webhook" % acc,
                        {"Content-Type": "application/json", "X-Signature": sign_hex(sec, body)}, body,
                        content_length=False)
        self.eq(r.status, 411, "POST without Content-Length -> 411")
        if self.t.can_omit_length:
            self.eq(r.json(), {"success": False, "error": "no Content-Length"}, "411 answer from kanca")
        self.eq(self.snapshot()["events"], before["events"], "411 stores nothing")

        # /healthz
        r = self.t.send("GET", "/healthz")
        self.eq((r.status, health(r.json())), (200, {"status": "ok", "store": self.store.name}), "GET /healthz")
        self.eq(r.headers.get("content-type"), "application/json", "GET /healthz Content-Type")
        self.eq(sorted(r.json().get("backlog", {})), ["events", "oldest_age"], "GET /healthz reports the backlog")
        self.eq(sorted((r.json().get("spool") or {})), ["bad", "bytes", "oldest_age", "records"],
                "GET /healthz reports the spool")


def run_http_suite(tap, transport, store, env):
    """The same assertions on every transport and store. env: a migrated Kanca; transport started."""
    s = Suite(tap, transport, store, env)
    s.vectors()
    s.status_table()
    s.dedup()
    s.caps()
    return s


def run_one(tap, kind, make_transport, cluster=None, max_body_bytes="64K", before=None, after=None):
    """A fresh store + environment + transport, the suite, then the transport stopped.
    make_transport(env, tmpdir) -> an unstarted transport; before/after(transport, store, env) run
    around the suite (after: while the transport still runs)."""
    tmp = make_tempdir("kanca-%s-" % kind)
    store = make_store(kind, tmp, cluster)
    env = Kanca(store, tmp, vector_now(), max_body_bytes=max_body_bytes)
    env.migrate()
    t = make_transport(env, tmp)
    t.start()
    try:
        if before:
            before(t, store, env)
        run_http_suite(tap, t, store, env)
        if after:
            after(t, store, env)
    finally:
        t.stop()
    return t, store, env
