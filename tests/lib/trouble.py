"""trouble: what the store-trouble tests share (trouble_sqlite.py, trouble_pg.py, trouble_disk.py,
crash_spool.py): signed supplier deliveries, bounded load from several connections while the store is in
trouble, and the checks that every delivery answered 2xx is stored exactly once and processed once.
Everything on 127.0.0.1."""

import fcntl
import os
import sqlite3
import subprocess
import threading
import time

import kancatest as kt

SECRET = "trouble-secret-0123456789abcdef"


def run_checked(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(args), p.stderr.strip()))


def run_quiet(args):
    return subprocess.run(args, capture_output=True, timeout=30).returncode


def require_mount(tap):
    """These tests mount small tmpfs file systems (a disk that fills, a read-only store): root is needed.
    Without it: a failure under CI=true, else the test is skipped."""
    if os.geteuid() == 0:
        return
    if kt.in_ci():
        tap.ok(False, "running as root to mount a tmpfs (CI=true: this is a failure)")
        tap.done()
    tap.skip_all("needs root to mount a tmpfs")


def body_of(key, n=0):
    return ('{"eventId":"%s","event":"stock.updated","data":{"n":%d}}' % (key, n)).encode()


def deliver(t, account, key, secret=SECRET, signed=True):
    """One delivery -> (status, seconds, response)."""
    body = body_of(key)
    sig = kt.sign_hex(secret, body) if signed else "0" * 64
    t0 = time.monotonic()
    try:
        r = t.send("POST", "/api/suppliers/%s/webhook" % account,
                   {"Content-Type": "application/json", "X-Signature": sig}, body)
    except OSError as e:  # a connection cut (a killed responder): no answer
        return None, time.monotonic() - t0, e
    return r.status, time.monotonic() - t0, r


class Load:
    """Deliveries from `conns` threads, each sending one after another, until stop() or `seconds` or
    `per_conn` deliveries each (all bounded). results: [(key, status, seconds, response)]."""

    def __init__(self, t, account, prefix, conns=8, seconds=20.0, per_conn=200, pause=0.0):
        self.t, self.account, self.prefix, self.pause = t, account, prefix, pause
        self.conns, self.seconds, self.per_conn = conns, seconds, per_conn
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []

    def _run(self, c):
        end = time.monotonic() + self.seconds
        for i in range(self.per_conn):
            if self._stop.is_set() or time.monotonic() >= end:
                return
            key = "%s-%d-%d" % (self.prefix, c, i)
            status, secs, r = deliver(self.t, self.account, key)
            with self._lock:
                self.results.append((key, status, secs, r))
            if self.pause:
                self._stop.wait(self.pause)

    def start(self):
        for c in range(self.conns):
            th = threading.Thread(target=self._run, args=(c,), daemon=True)
            th.start()
            self._threads.append(th)
        return self

    def stop(self):
        self._stop.set()
        for th in self._threads:
            th.join(60)
        return self.results


def statuses(results):
    out = {}
    for _, status, _, _ in results:
        out[status] = out.get(status, 0) + 1
    return out


def slowest(results):
    return max((secs for _, _, secs, _ in results), default=0.0)


def keys_answered_2xx(results):
    return [key for key, status, _, _ in results if status is not None and 200 <= status < 300]


def stored_counts(store, keys):
    """key -> how many events rows carry it (0 missing, 1 stored once, 2+ twice)."""
    counts = {}
    for k, n in store.query("SELECT idempotency_key, count(*) FROM events GROUP BY idempotency_key"):
        counts[k] = int(n)
    return {k: counts.get(k, 0) for k in keys}


def wait_stored(store, keys, timeout):
    """Waits until every key is stored (bounded) -> seconds it took, or None."""
    t0 = time.monotonic()
    ok = kt.wait_for(lambda: all(n >= 1 for n in stored_counts(store, keys).values()), timeout, 0.2)
    return time.monotonic() - t0 if ok else None


def wait_processed(store, keys, timeout):
    """Waits until every key's event is processed (bounded) -> True or False."""
    def done():
        rows = store.query("SELECT idempotency_key, status FROM events")
        st = {k: s for k, s in rows}
        return all(st.get(k) == "processed" for k in keys)
    return bool(kt.wait_for(done, timeout, 0.2))


def sink_ids(sink, path):
    """webhook-id -> how many requests the sink got with it on path."""
    out = {}
    for r in sink.requests():
        if r.path == path:
            i = r.header("webhook-id")
            out[i] = out.get(i, 0) + 1
    return out


class SqliteWriteLock:
    """Another process's write lock on a SQLite file: BEGIN IMMEDIATE through the sqlite3 library, held
    until release() (at most `limit` seconds, then it lets go by itself)."""

    def __init__(self, path, limit=60.0):
        self.path, self.limit = path, limit
        self._go = threading.Event()
        self._held = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        self._held.set()
        self._go.wait(self.limit)
        con.execute("ROLLBACK")
        con.close()

    def hold(self):
        self._thread.start()
        if not self._held.wait(30):
            raise RuntimeError("could not take the SQLite write lock")
        return self

    def release(self):
        self._go.set()
        self._thread.join(30)


class FileLock:
    """An exclusive flock on a file (kanca's writer queue, <db>.lock, or a spool's drain.lock)."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def hold(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def release(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def spool_records(spool_dir):
    d = os.path.join(spool_dir, "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


class Tmpfs:
    """A small tmpfs mounted on a new directory (a disk that fills, or that turns read-only)."""

    def __init__(self, path, size="4m"):
        self.path, self.size = path, size
        os.makedirs(path, exist_ok=True)

    def mount(self):
        run_checked(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % self.size, "tmpfs", self.path])
        return self

    def readonly(self, ro=True):
        run_checked(["mount", "-o", "remount,%s" % ("ro" if ro else "rw"), self.path])

    def fill(self):
        """Fills the file system to the last byte; the filler's path (remove it to free the space)."""
        filler = os.path.join(self.path, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1 << 20, 65536, 4096, 512, 1):
                for _ in range(100000):  # bounded: the file system is small
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError:
                        break
        finally:
            os.close(fd)
        return filler

    def umount(self):
        for _ in range(20):
            if run_quiet(["umount", self.path]) == 0:
                return
            time.sleep(0.25)
