#!/usr/bin/env python3
"""trouble_disk.py: a full disk, a read-only store, a full spool, and a store that cannot be opened.

A SQLite store on a small tmpfs, the spool on another file system:
- the store's disk full: deliveries spooled and answered 200, /healthz 503 "disk full", the log names the
  disk (not "cannot rollback"); once space returns the processor drains them, each stored once;
- a read-only store (a leftover -shm file that kanca, running as www-data, cannot write): /healthz 503
  "read-only", deliveries spooled and answered 200, stored as soon as the operator fixes the file;
- the spool full (spool_max_bytes): 503 with Retry-After, never a 2xx, nothing stored later;
- under CGI, a store that cannot be opened: /healthz and a delivery both get a complete 5xx answer
  (status, Content-Type, Content-Length matching a JSON body, Retry-After)."""
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
import trouble as tr  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "lighttpd")
tr.require_mount(tap)

tmp = kt.make_tempdir("kanca-trouble-disk-")
disk = tr.Tmpfs(os.path.join(tmp, "storefs"), "8m").mount()


class SqliteOn:
    """kancatest's SQLite store, on the tmpfs."""
    def __init__(self, path):
        self.inner = kt.make_store("sqlite", tmp)
        self.inner.path = path
        self.path = path
        self.name = "sqlite"

    def __getattr__(self, k):
        return getattr(self.inner, k)


store = SqliteOn(os.path.join(disk.path, "kanca.db"))
spool = os.path.join(tmp, "spool")
env = kt.Kanca(store, tmp, now="real", processing="fork", answer_deadline="2", spool_dir=spool)
env.migrate()
env.add_source("supplier", "td", tr.SECRET)
t = kt.LighttpdTransport(env, tmp, max_procs=1)
t.start()


def stored(prefix):
    return store.count("events", "idempotency_key LIKE ?", (prefix + "-%",))


try:
    tap.eq([tr.deliver(t, "td", "before-%d" % i)[0] for i in range(3)], [200] * 3, "deliveries before -> 200")

    # ---- the store's disk is full
    filler = disk.fill()
    got = [tr.deliver(t, "td", "full-%d" % i) for i in range(20)]
    tap.eq([g[0] for g in got], [200] * 20, "disk full: 20 deliveries -> 200")
    tap.eq(len(tr.spool_records(spool)) + stored("full"), 20, "... each one in the spool or already in the store")
    tap.ok(len(tr.spool_records(spool)) > 0, "... the spool holds them (%d records)" % len(tr.spool_records(spool)))
    h = t.send("GET", "/healthz")
    tap.eq(h.status, 503, "disk full: GET /healthz -> 503")
    tap.ok("disk full" in (h.json() or {}).get("reason", ""), "... reason: %s" % (h.json() or {}).get("reason"))
    log = t.log_tail(100000)
    tap.ok("disk full" in log, "the log names the disk being full")
    tap.ok("cannot rollback" not in log, "... and never 'cannot rollback' in place of the cause")
    os.unlink(filler)
    tap.ok(kt.wait_for(lambda: tr.spool_records(spool) == [] and stored("full") == 20, 30, 0.2),
           "space back: the processor drains the spool, all 20 stored")
    tap.eq(int(store.query("SELECT count(*) FROM (SELECT idempotency_key FROM events WHERE idempotency_key LIKE "
                           "'full-%' GROUP BY idempotency_key HAVING count(*) > 1)")[0][0]), 0, "... each exactly once")
    tap.eq(t.send("GET", "/healthz").status, 200, "GET /healthz -> 200 again")

finally:
    t.stop()

# ---- the spool full: 503 with Retry-After, never a 2xx
env.write_config(spool_max_bytes="64K", processing="off")
t = kt.LighttpdTransport(env, tmp, max_procs=1)
t.start()
try:
    tap.eq(tr.deliver(t, "td", "warm-cap")[0], 200, "spool cap 64K: a delivery while the store is fine -> 200")
    lock = tr.SqliteWriteLock(store.path, limit=60).hold()
    try:
        got = [tr.deliver(t, "td", "cap-%d" % i) for i in range(200)]
    finally:
        lock.release()
    codes = [g[0] for g in got]
    n_ok = codes.count(200)
    tap.ok(0 < n_ok < 200, "store locked, spool capped at 64K: %d deliveries spooled before it was full" % n_ok)
    tap.eq(set(codes[n_ok:]), {503}, "... then every delivery -> 503 (never a 2xx once full)")
    tap.eq(codes[:n_ok], [200] * n_ok, "... the 200s all came before the first 503")
    last = got[-1][2]
    tap.eq((last.headers.get("retry-after"), (last.json() or {}).get("success")), ("30", False),
           "... the 503 has Retry-After: 30 and a JSON error")
    size = sum(os.path.getsize(os.path.join(spool, "new", f)) for f in tr.spool_records(spool))
    tap.ok(size <= 64 * 1024, "the spool holds %d bytes, within spool_max_bytes (65536)" % size)
    rc, out, err = env.kancactl("worker", "--drain")
    tap.eq(rc, 0, "kancactl worker --drain stores the spool")
    spooled_keys = [g[0] for g in got]
    ok_keys = ["cap-%d" % i for i in range(n_ok)]
    counts = tr.stored_counts(store, ["cap-%d" % i for i in range(200)])
    tap.eq([k for k in ok_keys if counts[k] != 1], [], "every delivery answered 200 is stored once")
    tap.eq([k for k, n in counts.items() if k not in ok_keys and n], [], "none answered 503 is stored")
finally:
    t.stop()
    disk.umount()

# ---- a read-only store: a leftover -shm file kanca cannot write (kanca runs as www-data)
ro_tmp = kt.make_tempdir("kanca-trouble-ro-")
os.chmod(ro_tmp, 0o755)
ro_store = kt.make_store("sqlite", ro_tmp)
ro_env = kt.Kanca(ro_store, ro_tmp, now="real", processing="fork", answer_deadline="2",
                  spool_dir=os.path.join(ro_tmp, "spool"))
ro_env.migrate()
ro_env.add_source("supplier", "tro", tr.SECRET)
os.chmod(ro_env.config, 0o644)
USER = ("www-data", "www-data")
kt.give_to(USER, ro_tmp)


def ro_transport():
    return kt.LighttpdTransport(ro_env, ro_tmp, shipped="kanca.conf", user=USER,
                                replace={"/usr/local/bin/kanca": kt.binary("kanca"),
                                         "/run/lighttpd/kanca.sock": os.path.join(ro_tmp, "kanca.sock"),
                                         "/etc/kanca/kanca.conf": ro_env.config}).start()


def ro_stored(prefix):
    return ro_store.count("events", "idempotency_key LIKE ?", (prefix + "-%",))


t = ro_transport()
try:
    tap.eq([tr.deliver(t, "tro", "ro-before-%d" % i)[0] for i in range(3)], [200] * 3,
           "kanca as www-data: deliveries -> 200")
finally:
    t.stop()
# root opens the file (its -shm stays while this connection lives) and makes the -shm read-only
holder = sqlite3.connect(ro_store.path)
holder.execute("SELECT count(*) FROM events").fetchall()
shm = ro_store.path + "-shm"
os.chown(shm, 0, 0)
os.chmod(shm, 0o444)
t = ro_transport()
try:
    got = [tr.deliver(t, "tro", "shm-%d" % i) for i in range(10)]
    tap.eq([g[0] for g in got], [200] * 10, "a read-only -shm: 10 deliveries -> 200 (spooled)")
    h = t.send("GET", "/healthz")
    tap.eq(h.status, 503, "a read-only -shm: GET /healthz -> 503")
    tap.ok("read-only" in (h.json() or {}).get("reason", ""), "... reason: %s" % (h.json() or {}).get("reason"))
    tap.eq(ro_stored("shm"), 0, "... nothing could be stored")
    tap.eq(len(tr.spool_records(os.path.join(ro_tmp, "spool"))), 10, "... all 10 are in the spool")
    # the operator's fix: the -shm belongs to kanca's user again
    kt.give_to(USER, shm)
    os.chmod(shm, 0o644)
    holder.close()
    tap.ok(kt.wait_for(lambda: ro_stored("shm") == 10, 30, 0.2),
           "fixed while kanca runs: the processor opens the file again and stores all 10 from the spool")
    tap.eq(t.send("GET", "/healthz").status, 200, "GET /healthz -> 200 again")
finally:
    t.stop()

# ---- CGI, a store that cannot be opened: a complete 5xx
class Unopenable:
    name = "sqlite"

    def uri(self):
        return "sqlite:" + os.path.join(tmp, "no-such-dir", "kanca.db")


cgi_tmp = kt.make_tempdir("kanca-trouble-cgi-")
bad = kt.Kanca(Unopenable(), cgi_tmp, now="real", spool_dir=os.path.join(cgi_tmp, "spool"))


def cgi(method, path, body=b"", headers=None):
    envv = dict(bad.environ(), REQUEST_METHOD=method, REQUEST_URI=path, SCRIPT_NAME="", PATH_INFO=path,
                CONTENT_LENGTH=str(len(body)), CONTENT_TYPE="application/json", REMOTE_ADDR="127.0.0.1",
                SERVER_PROTOCOL="HTTP/1.1", GATEWAY_INTERFACE="CGI/1.1")
    for k, v in (headers or {}).items():
        envv["HTTP_" + k.upper().replace("-", "_")] = v
    p = subprocess.run([kt.binary("cgi-bin/kanca.cgi")], input=body, capture_output=True, env=envv, timeout=30)
    return p.stdout


def complete(raw, L):
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdr = {ln.split(":", 1)[0].lower(): ln.split(":", 1)[1].strip() for ln in lines if ":" in ln}
    tap.ok(sep == b"\r\n\r\n" and hdr.get("status", "")[:1] == "5", "%s a 5xx status: %s" % (L, hdr.get("status")))
    tap.eq(hdr.get("content-type"), "application/json", "%s ... Content-Type: application/json" % L)
    tap.eq(hdr.get("content-length"), str(len(body)), "%s ... Content-Length matches the body" % L)
    try:
        j = json.loads(body)
    except ValueError:
        j = None
    tap.ok(isinstance(j, dict), "%s ... a JSON body: %r" % (L, body[:120]))
    tap.eq(hdr.get("retry-after"), "30", "%s ... Retry-After: 30 (a retry can succeed)" % L)


complete(cgi("GET", "/healthz"), "[cgi, store cannot be opened] GET /healthz:")
b = tr.body_of("cgi-1")
complete(cgi("POST", "/api/suppliers/td/webhook", b, {"X-Signature": kt.sign_hex(tr.SECRET, b)}),
         "[cgi, store cannot be opened] a delivery:")
# ---- CGI, a configuration it cannot start with: still a complete answer (500: a retry cannot help)
with open(bad.config, "a") as f:
    f.write("no_such_key = 1\n")
for prog in ("cgi-bin/kanca.cgi", "kanca"):
    envv = dict(bad.environ(), REQUEST_METHOD="GET", REQUEST_URI="/healthz", GATEWAY_INTERFACE="CGI/1.1")
    raw = subprocess.run([kt.binary(prog)], input=b"", capture_output=True, env=envv, timeout=30).stdout
    head, _, body = raw.partition(b"\r\n\r\n")
    tap.ok(head.startswith(b"Status: 500") and b"Content-Length: %d" % len(body) in head and
           json.loads(body or b"null") == {"success": False, "error": "Internal server error"},
           "[%s as CGI, a bad configuration] a complete 500 JSON answer: %r" % (prog, raw[:160]))
store.close()
tap.done()
