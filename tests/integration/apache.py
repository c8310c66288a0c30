#!/usr/bin/env python3
"""apache.py: the shipped Apache configurations (apache/) run for real: Debian's apache2 on an ephemeral
127.0.0.1 port with an httpd.conf built around each shipped file (tests/lib/apache.py), in the four modes
fcgid, proxy_fcgi (spawn-fcgi on a unix socket), cgi (mod_cgi, prefork) and cgid (mod_cgid, event), each
on a fresh SQLite store, and fcgid + cgid once more on a throwaway PostgreSQL cluster. Per mode: one valid
and one invalid vector per HMAC provider, a Trendyol basic-auth delivery (the Authorization header
arrives) and a wrong password, a 900 KiB body stored whole, a body over max_body_bytes (kanca's own 413),
GET /healthz; the answers are byte-identical across the four modes. On SQLite, kanca.conf has no
spool_dir (the store is in a directory of its own, as /var/lib/kanca or ~/kanca, and the spool is the
default spool/ beside it): last in each mode, with another process holding the database's write lock
(BEGIN IMMEDIATE), a signed delivery is answered 2xx "Event queued" within answer_deadline (2 s) + 1 s,
its record is in <db dir>/spool/new/, made by the user kanca runs as (as root: Apache's User nobody,
which is also spawn-fcgi's -u), and after the lock kancactl worker --drain as that user stores it once
and empties the spool; the queued answer is the same in the four modes. Then the broken variants the
shipped comments warn about: no CGIPassAuth (401 "missing Authorization header"), FcgidMaxRequestLen
131072 (a 900 KiB delivery gets Apache's 500 and never reaches kanca), LimitRequestBody under mod_fcgid
(kanca gets an empty body), a host without AllowOverride AuthConfig (500) and the two commented
fallbacks that fix it."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
import apache  # noqa: E402
import trouble as tr  # noqa: E402
from apache import ApacheTransport  # noqa: E402

tap = kt.Tap()
for m in apache.MODES:
    apache.require(tap, m)
kt.require_pg(tap)
ROOT = os.geteuid() == 0
if ROOT:
    kt.require_tool(tap, "runuser")
T0 = time.monotonic()

# HMAC providers: every provider of the vectors but apple (an ES256 JWS with an X.509 chain)
VECTORS = kt.load_vectors()
PICKED = []
for _v in VECTORS:
    if _v["provider"] != "apple" and not any(p["provider"] == _v["provider"] and p["expect"] == _v["expect"]
                                             for p in PICKED):
        PICKED.append(_v)
PROVIDERS = sorted(set(v["provider"] for v in PICKED))
BASIC_OK = [v for v in kt.load_vectors("trendyol") if v["name"] == "basic_auth_valid"][0]
BASIC_BAD = [v for v in kt.load_vectors("trendyol") if v["name"] == "basic_auth_wrong_password_invalid"][0]
# the rejection status each provider answers (as in vectors.py)
REJECT = {"stripe": {400}, "shopify": {400, 401}, "apple": {400, 401}}
MAX_BODY = "1M"
BIG = 900 * 1024
OVER = 1536 * 1024  # above max_body_bytes, below the shipped FcgidMaxRequestLen / LimitRequestBody (2 MiB)
SECRET = "b" * 64
DEADLINE = 2.0  # answer_deadline's default: the SQLite passes' kanca.conf leaves it out, as it does spool_dir
MARGIN = 1.0


def key(v):
    return "%s/%s" % (v["provider"], v["name"])


def padded(size, eid):
    head = b'{"eventId":"%s","event":"stock.updated","pad":"' % eid.encode()
    return head + b"x" * (size - len(head) - 2) + b'"}'


def supplier_post(t, account, body):
    return t.send("POST", "/api/suppliers/%s/webhook" % account,
                  {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)


def audit_max(store):
    return int(store.query("SELECT coalesce(max(id), 0) FROM audit_log")[0][0])


def events_of(env, provider, account):
    sid = env.source_id(provider, account)
    return env.store.query("SELECT id, event_type, idempotency_key, headers FROM events WHERE source_id = ? "
                           "ORDER BY id", (sid,))


class Pass:
    """One mode on one store: its sources (accounts tagged so that passes can share a store)."""

    def __init__(self, env, tmp, mode, tag):
        self.env, self.tmp, self.mode, self.tag = env, tmp, mode, tag
        self.L = "[%s/%s]" % (mode, env.store.name)
        self.paths = {}
        for i, v in enumerate(PICKED + [BASIC_OK, BASIC_BAD]):
            acc = "v%02d-%s" % (i, tag)
            self.paths[key(v)] = kt.configure_vector_source(env, tmp, 0, v, account=acc)
        self.big = "big-" + tag
        env.add_source("supplier", self.big, SECRET)

    def vectors(self, t):
        answers = {}
        for v in PICKED:
            path, acc = self.paths[key(v)]
            L = "%s %s/%s:" % (self.L, v["provider"], v["name"])
            method, _, headers, body = kt.vector_request(v)
            r = t.send(method, path, headers, body)
            answers[key(v)] = (r.status, r.headers.get("content-type"), r.body)
            rows = events_of(self.env, v["provider"], acc)
            if v["expect"] == "valid":
                tap.ok(200 <= r.status < 300, "%s valid -> 2xx (got %d %r)" % (L, r.status, r.body[:120]))
                tap.eq([(x[1], x[2]) for x in rows], [(v["event_type"], v["idempotency_key"])],
                       "%s one event with the vector's type and key" % L)
                if rows:
                    tap.ok(self.env.store.body_of(rows[0][0]) == body,
                           "%s the raw body stored byte for byte (%d bytes)" % (L, len(body)))
            else:
                want = REJECT.get(v["provider"], {401})
                tap.ok(r.status in want, "%s invalid -> %s (got %d %r)" % (L, sorted(want), r.status, r.body[:120]))
                tap.eq(len(rows), 0, "%s nothing stored" % L)
            if r.status == 0 or r.status >= 500:
                tap.diag(r.stderr.decode(errors="replace") + "\n" + t.error_log_tail(10))
        return answers

    def basic_auth(self, t):
        answers = {}
        for v, status, error in ((BASIC_OK, 200, None), (BASIC_BAD, 401, "Basic credentials do not match")):
            path, acc = self.paths[key(v)]
            L = "%s trendyol %s:" % (self.L, v["name"])
            method, _, headers, body = kt.vector_request(v)
            tap.ok(headers.get("Authorization", "").startswith("Basic "), "%s the vector sends Basic auth" % L)
            r = t.send(method, path, headers, body)
            answers[key(v)] = (r.status, r.headers.get("content-type"), r.body)
            rows = events_of(self.env, "trendyol", acc)
            if status == 200:
                tap.eq(r.status, 200, "%s the Authorization header arrives: 200 (%r)" % (L, r.body[:120]))
                stored = json.loads(rows[0][3]) if rows and rows[0][3] else {}
                tap.eq((len(rows), stored.get("authorization")), (1, "[redacted]"),
                       "%s stored once, with the header seen (and redacted)" % L)
            else:
                tap.eq((r.status, r.json()), (401, {"success": False, "error": error}),
                       "%s wrong password -> 401 %s (the header arrived)" % (L, error))
                tap.eq(len(rows), 0, "%s nothing stored" % L)
        return answers

    def bodies(self, t):
        store = self.env.store
        body = padded(BIG, "big-%s" % self.tag)
        r = supplier_post(t, self.big, body)
        tap.eq((r.status, r.json()), (200, {"success": True, "message": "Event received", "event": "stock.updated"}),
               "%s a 900 KiB body -> 200" % self.L)
        rows = events_of(self.env, "supplier", self.big)
        tap.ok(len(rows) == 1 and store.body_of(rows[0][0]) == body,
               "%s ... stored whole, byte for byte (%d bytes)" % (self.L, len(body)))
        before = audit_max(store)
        r = supplier_post(t, self.big, padded(OVER, "over-%s" % self.tag))
        tap.eq((r.status, r.json()), (413, {"success": False, "error": "body larger than max_body_bytes"}),
               "%s a 1.5 MiB body (over max_body_bytes) -> kanca's own 413 JSON" % self.L)
        # a rejection's audit row is written after its answer (it never delays it): wait for it, bounded

        def audit():
            rows = store.query("SELECT action, status_code FROM audit_log WHERE id > ?", (before,))
            return [tuple(map(str, a)) for a in rows]
        kt.wait_for(audit, 5)
        tap.eq(audit(), [("rejected", "413")], "%s ... with kanca's audit row (written after the answer)" % self.L)
        tap.eq(len(events_of(self.env, "supplier", self.big)), 1, "%s ... and nothing stored" % self.L)

    def chunked(self, t):
        """A 64 KiB body without Content-Length (chunked): mod_fcgid reads it first and mod_proxy_fcgi
        spools it (the shipped proxy-sendcl), both then send its length; CGI gets none: kanca's 411."""
        body = padded(64 * 1024, "chunked-%s" % self.tag)
        r = t.send("POST", "/api/suppliers/%s/webhook" % self.big,
                   {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body,
                   content_length=False)
        rows = [x for x in events_of(self.env, "supplier", self.big) if x[2] == "chunked-%s" % self.tag]
        if self.mode in ("fcgid", "proxy_fcgi"):
            tap.eq(r.status, 200, "%s a chunked 64 KiB body (no Content-Length) -> 200" % self.L)
            tap.ok(len(rows) == 1 and self.env.store.body_of(rows[0][0]) == body, "%s ... stored whole" % self.L)
        else:
            tap.eq((r.status, r.json()), (411, {"success": False, "error": "no Content-Length"}),
                   "%s a chunked 64 KiB body (no Content-Length) -> kanca's 411" % self.L)
            tap.eq(rows, [], "%s ... nothing stored" % self.L)

    def healthz(self, t):
        r = t.send("GET", "/healthz")
        tap.eq((r.status, kt.health(r.json()), r.headers.get("content-type")),
               (200, {"status": "ok", "store": self.env.store.name}, "application/json"), "%s GET /healthz" % self.L)

    def spool(self, t):
        """The default spool in this setup: kanca.conf without spool_dir, so the spool is spool/ beside the
        SQLite file. With another process holding the database's write lock (BEGIN IMMEDIATE), one signed
        delivery is answered 2xx within answer_deadline (2 s) + 1 s as queued, and its record is in
        <db dir>/spool/new/, written by the user kanca runs as (Apache's User; spawn-fcgi's -u); after the
        lock is gone, kancactl worker --drain run as that user stores it exactly once, byte for byte, and
        empties the spool. -> the answer (status, Content-Type, body)."""
        env, store, L = self.env, self.env.store, self.L
        spool = os.path.join(os.path.dirname(store.path), "spool")
        user = apache.RUN_USER if ROOT else None
        uid = apache._ids()[0] if ROOT else os.geteuid()
        who = user or "the test's user"
        key = "spooled-%s" % self.tag
        body = b'{"eventId":"%s","event":"stock.updated","data":{"n":1}}' % key.encode()
        with open(env.config) as f:
            conf = f.read()
        rc, out = kancactl_as(user, env, "spool", "status", "--json")
        st = json.loads(out) if rc == 0 and out.startswith("{") else {}
        tap.ok("spool_dir" not in conf and st.get("directory") == spool and not os.path.exists(spool),
               "%s kanca.conf has no spool_dir: the spool in effect is the default %s, not made yet (%s)"
               % (L, spool, st.get("directory") or out.strip()))
        lock = tr.SqliteWriteLock(store.path, limit=30).hold()
        try:
            t0 = time.monotonic()
            r = supplier_post(t, self.big, body)
            secs = time.monotonic() - t0
            records = tr.spool_records(spool)
            owners = [os.stat(os.path.join(spool, "new", x)).st_uid for x in records]
            dirs = [(os.stat(d).st_uid, oct(os.stat(d).st_mode & 0o777))
                    for d in (spool, os.path.join(spool, "new")) if os.path.isdir(d)]
            during = store.count("events", "idempotency_key = ?", (key,))
        finally:
            lock.release()
        tap.ok(200 <= r.status < 300 and secs <= DEADLINE + MARGIN,
               "%s the SQLite write lock held by another process (BEGIN IMMEDIATE): a signed delivery -> %d in "
               "%.2f s (answer_deadline %.0f s + %.0f s)" % (L, r.status, secs, DEADLINE, MARGIN))
        tap.eq((r.json() or {}).get("message"), "Event queued", "%s ... answered as queued (%r)" % (L, r.body[:100]))
        tap.eq((len(records), owners, during), (1, [uid], 0),
               "%s ... its record is in %s/new/, written by %s (uid %d), and not in the store yet"
               % (L, spool, who, uid))
        tap.eq(dirs, [(uid, "0o700")] * 2, "%s ... the spool and new/ were made by %s, mode 0700" % (L, who))
        if self.mode != "proxy_fcgi":  # spawn-fcgi sends kanca's stderr to /dev/null
            tap.ok(kt.wait_for(lambda: "delivery queued in the spool (the store is locked)" in
                               t.error_log_tail(200), 5),
                   "%s ... kanca's log says: delivery queued in the spool (the store is locked)" % L)
        rc, out = kancactl_as(user, env, "worker", "--drain")
        tap.eq(rc, 0, "%s after the lock: kancactl worker --drain as %s -> exit 0 (%s)" % (L, who, out.strip()[-160:]))
        rows = store.query("SELECT id FROM events WHERE idempotency_key = ?", (key,))
        tap.ok(len(rows) == 1 and store.body_of(rows[0][0]) == body,
               "%s ... the delivery is in the store exactly once (%d), byte for byte" % (L, len(rows)))
        tap.eq(tr.spool_records(spool), [], "%s ... and the spool is empty" % L)
        return (r.status, r.headers.get("content-type"), r.body)


def kancactl_as(user, env, *args):
    """kancactl run as user, as the READMEs say to (runuser -u www-data -- kancactl ...)."""
    cmd = [kt.binary("kancactl"), "-c", env.config] + list(args)
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, env=env.environ(), timeout=30)
    return p.returncode, p.stdout + p.stderr


def new_env(kind, cluster=None):
    """SQLite: the store in a directory of its own (/var/lib/kanca/kanca.db, ~/kanca/kanca.db in the READMEs),
    and kanca.conf without spool_dir, so the spool is the default, spool/ beside the file. PostgreSQL: the
    spool in the test's directory (its default, /var/lib/kanca/spool, is the host's)."""
    tmp = kt.make_tempdir("kanca-apache-%s-" % kind)
    if kind == "sqlite":
        storedir = os.path.join(tmp, "kanca")
        os.mkdir(storedir)
        store = kt.make_store(kind, storedir)
        env = kt.Kanca(store, tmp, max_body_bytes=MAX_BODY, spool_dir=None)
    else:
        store = kt.make_store(kind, tmp, cluster)
        env = kt.Kanca(store, tmp, max_body_bytes=MAX_BODY)
    env.migrate()
    return env, tmp


def run_pass(env, tmp, mode, tag):
    p = Pass(env, tmp, mode, tag)
    t = ApacheTransport(env, tmp, mode).start()
    spooled = None
    try:
        answers = p.vectors(t)
        answers.update(p.basic_auth(t))
        p.bodies(t)
        p.chunked(t)
        p.healthz(t)
        if env.store.kind == "sqlite":
            spooled = p.spool(t)  # last: a responder that met the lock sends to the spool for a while
    finally:
        t.stop()
    tap.eq(t.pids(), [], "%s Apache and kanca are gone after stop()" % p.L)
    return p, answers, spooled


# -- the four modes on SQLite
passes, answers, spooled = {}, {}, {}
for mode in apache.MODES:
    env, tmp = new_env("sqlite")
    passes[mode], answers[mode], spooled[mode] = run_pass(env, tmp, mode, mode)
tap.eq([m for m in apache.MODES if spooled[m] != spooled["fcgid"]], [],
       "the queued answer is the same in the four modes, byte for byte: %r" % (spooled["fcgid"],))

ref = answers["fcgid"]
for mode in apache.MODES[1:]:
    same = [k for k in ref if answers[mode].get(k) == ref[k]]
    tap.eq(len(same), len(ref), "[%s] the same %d answers as fcgid, byte for byte (status, Content-Type, body)"
           % (mode, len(ref)))
    for k in ref:
        if answers[mode].get(k) != ref[k]:
            tap.diag("%s: fcgid %r, %s %r" % (k, ref[k], mode, answers[mode].get(k)))
tap.ok(len(ref) == 2 * len(PROVIDERS) + 2 and len(PROVIDERS) >= 9,
       "%d HMAC providers with a valid and an invalid vector each, plus Trendyol basic auth: %s"
       % (len(PROVIDERS), ", ".join(PROVIDERS)))


# -- the broken variants


def missing_auth(mode, edit, **kw):
    """Without CGIPassAuth kanca never sees the Authorization header."""
    p = passes[mode]
    t = ApacheTransport(p.env, p.tmp, mode, edit=edit, **kw).start()
    try:
        path, acc = p.paths[key(BASIC_OK)]
        L = "[%s without CGIPassAuth]" % mode
        method, _, headers, body = kt.vector_request(BASIC_OK)
        before = len(events_of(p.env, "trendyol", acc))
        r = t.send(method, path, headers, body)
        tap.eq((r.status, r.json()), (401, {"success": False, "error": "missing Authorization header"}),
               "%s a correct Trendyol basic-auth delivery -> 401 missing Authorization header" % L)
        tap.eq(len(events_of(p.env, "trendyol", acc)), before, "%s ... nothing stored" % L)
        if mode != "proxy_fcgi":  # spawn-fcgi sends kanca's stderr to /dev/null
            tap.ok(kt.wait_for(lambda: "missing Authorization header" in t.error_log_tail(50), 5),
                   "%s ... kanca's log line is in Apache's error log" % L)
    finally:
        t.stop()


missing_auth("fcgid", apache.without_line("CGIPassAuth On"))
missing_auth("proxy_fcgi", apache.without_line("CGIPassAuth On"))
missing_auth("cgid", apache.without_line("CGIPassAuth On"))

# mod_proxy_fcgi without proxy-sendcl streams a chunked body of 16 KiB or more without CONTENT_LENGTH
p = passes["proxy_fcgi"]
L = "[proxy_fcgi without SetEnv proxy-sendcl]"
t = ApacheTransport(p.env, p.tmp, "proxy_fcgi", edit=apache.without_line("SetEnv proxy-sendcl 1")).start()
try:
    body = padded(64 * 1024, "chunked-nosendcl")
    r = t.send("POST", "/api/suppliers/%s/webhook" % p.big,
               {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body,
               content_length=False)
    tap.eq((r.status, r.json()), (411, {"success": False, "error": "no Content-Length"}),
           "%s a chunked 64 KiB body -> 411 (kanca got no length)" % L)
finally:
    t.stop()

# mod_fcgid's default FcgidMaxRequestLen: a 900 KiB delivery gets Apache's 500 and never reaches kanca
p = passes["fcgid"]
L = "[fcgid with FcgidMaxRequestLen 131072]"
t = ApacheTransport(p.env, p.tmp, "fcgid",
                    edit=apache.replacing("FcgidMaxRequestLen ${KANCA_MAX_REQUEST}", "FcgidMaxRequestLen 131072"))
t.start()
try:
    r = supplier_post(t, p.big, padded(100 * 1024, "small-maxreq"))
    tap.eq(r.status, 200, "%s a 100 KiB delivery still passes" % L)
    before_audit, before_events = audit_max(p.env.store), len(events_of(p.env, "supplier", p.big))
    r = supplier_post(t, p.big, padded(BIG, "big-maxreq"))
    tap.eq((r.status, r.json(), r.headers.get("content-type", "").split(";")[0]), (500, None, "text/html"),
           "%s a 900 KiB delivery -> Apache's own 500 page" % L)
    time.sleep(1.0)  # kanca writes a rejection's audit row after its answer: time for one to appear, if any
    tap.eq((audit_max(p.env.store), len(events_of(p.env, "supplier", p.big))), (before_audit, before_events),
           "%s ... kanca never saw it (no audit row, no event)" % L)
    tap.ok("exceeds MaxRequestLen (131072)" in t.error_log_tail(50),
           "%s ... the error log says 'exceeds MaxRequestLen (131072)'" % L)
finally:
    t.stop()

# LimitRequestBody under mod_fcgid (what the shipped comment warns against): kanca gets an empty body
L = "[fcgid with LimitRequestBody 1048576]"
t = ApacheTransport(p.env, p.tmp, "fcgid", edit=apache.replacing("  CGIPassAuth On\n",
                                                                  "  CGIPassAuth On\n  LimitRequestBody 1048576\n"))
t.start()
try:
    before_audit = audit_max(p.env.store)
    r = supplier_post(t, p.big, padded(OVER, "over-limit"))
    tap.eq((r.status, r.json()), (401, {"success": False, "error": "Invalid signature"}),
           "%s a 1.5 MiB delivery reaches kanca empty: 401 Invalid signature, not 413" % L)
    tap.ok("AH01588" in t.error_log_tail(50), "%s ... Apache logged its limit (AH01588) and went on" % L)
finally:
    t.stop()

# shared hosting that refuses AllowOverride AuthConfig: the shipped .htaccess gets 500 everywhere
p = passes["cgi"]
L = "[cgi, host without AuthConfig]"
t = ApacheTransport(p.env, p.tmp, "cgi", authconfig=False).start()
try:
    r = t.send("GET", "/healthz")
    tap.eq(r.status, 500, "%s GET /healthz -> 500" % L)
    tap.ok("CGIPassAuth not allowed here" in t.error_log_tail(20),
           "%s ... the error log says 'CGIPassAuth not allowed here'" % L)
finally:
    t.stop()

# ... and the two fallbacks the shipped .htaccess carries, commented: CGIPassAuth out, one fallback in


def fallback(commented):
    def edit(text):
        text = apache.without_line("CGIPassAuth On")(text)
        return apache.replacing("# " + commented, commented)(text)
    return edit


FALLBACKS = (("cgi", "SetEnvIf", 'SetEnvIf Authorization "(.+)" HTTP_AUTHORIZATION=$1'),
             ("cgid", "RewriteRule [E=...]", "RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]"))
for mode, fname, line in FALLBACKS:
    p = passes[mode]
    L = "[%s, host without AuthConfig, fallback %s]" % (mode, fname)
    t = ApacheTransport(p.env, p.tmp, mode, authconfig=False, edit=fallback(line)).start()
    try:
        for v, status in ((BASIC_OK, 200), (BASIC_BAD, 401)):
            path, acc = p.paths[key(v)]
            method, _, headers, body = kt.vector_request(v)
            r = t.send(method, path, headers, body)
            tap.eq((r.status, r.body), (status, answers[mode][key(v)][2]),
                   "%s %s -> %d, the answer of the CGIPassAuth setup (the header arrives)" % (L, v["name"], status))
    finally:
        t.stop()


# -- PostgreSQL: fcgid and cgid on one throwaway cluster
env, tmp = new_env("pg")
pg_answers = {}
for mode in ("fcgid", "cgid"):
    p, pg_answers[mode], _ = run_pass(env, tmp, mode, "pg-" + mode)
tap.eq(pg_answers["cgid"], pg_answers["fcgid"], "[pg] cgid and fcgid give byte-identical answers")
tap.eq(pg_answers["fcgid"], ref, "[pg] the answers equal those on SQLite")
env.store.close()

tap.diag("apache.py took %.1f s" % (time.monotonic() - T0))
tap.done()
