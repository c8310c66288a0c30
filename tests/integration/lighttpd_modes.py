#!/usr/bin/env python3
"""lighttpd_modes.py: each shipped lighttpd configuration, run for real with a real lighttpd on an
ephemeral 127.0.0.1 port and a fresh SQLite store:

  fastcgi     lighttpd/kanca.conf: mod_fastcgi, bin-path (lighttpd spawns and supervises kanca); as
              root lighttpd runs as www-data (server.username, as Debian's lighttpd does), and so do
              the responders it spawns; their socket is in a directory of www-data's (/run/lighttpd)
  spawn-fcgi  lighttpd/kanca-spawn-fcgi.conf: mod_fastcgi to the socket of the pool that
              systemd/kanca-fcgi.socket + kanca-fcgi.service start (kt.SystemdService runs the unit's
              ExecStart= as systemd would; as root lighttpd runs as www-data and kanca as nobody, so the
              socket's group and mode are what lets lighttpd in)
  cgi         lighttpd/kanca-cgi.conf: mod_cgi running kanca.cgi (as root: lighttpd and kanca.cgi as
              www-data)

The test's lighttpd.conf sets bind, port, document root, logs and pid file and, as a site might, a
global server.max-request-size of 64 KiB; then it includes the shipped file with only the paths marked
CHANGE replaced (kt.derive_shipped fails if one is gone) and the pinned clock KANCA_TEST_NOW added next
to KANCA_CONFIG (the vectors are signed for that time). The shipped file's own server.max-request-size,
inside its URL condition, must let kanca's large bodies through and leave the site's limit elsewhere.
kanca.conf is README step 1's: store and max_body_bytes, no spool_dir and no answer_deadline (their
defaults); the store's directory belongs to kanca's user (step 3: chown -R www-data: /var/lib/kanca).

Each mode must pass: every vector of tests/vectors.json answered as expected, and in detail one valid
and one invalid vector per HMAC provider (valid: 2xx, one event with the vector's type and key, the body
stored byte for byte; invalid: the provider's rejection, nothing stored); Trendyol basic auth (200, so
the Authorization header arrived, stored redacted; a wrong password 401); a 900 KiB body stored whole
(server.max-request-size lets it through); a body over max_body_bytes (1M) answered 413 by kanca
itself; GET /healthz. And the default spool (spool/ beside the SQLite file) works as the user kanca
runs as: with another process holding the database's write lock (BEGIN IMMEDIATE), a signed delivery is
answered 2xx "Event queued" within answer_deadline (2 s) + 1 s, its record is in <store dir>/spool/new/,
the file and the directories made by kanca's user (mode 0700), and kanca logs that it queued it; once
the lock is gone, kancactl worker --drain run as that user (runuser) stores it exactly once, byte for
byte, and leaves the spool empty.

CGI and FastCGI answers are compared byte for byte. For every request above (all vectors, healthz,
the 900 KiB and the oversized body), on identically prepared stores:
  - the raw HTTP answers of the three modes are equal after removing the Date header, the only line
    that differs from one answer to the next: the status line, every other header line in its order
    (kanca's, and those lighttpd adds: Accept-Ranges on a GET, Connection, Server) and the body;
  - what kanca itself produced is there unchanged: kanca.cgi run directly (plain CGI, no web server)
    on another identical store gives its status, its header lines (Content-Type, Content-Length,
    Cache-Control, and e.g. Allow) and its body, and each lighttpd answer has that status, each of
    those header lines verbatim, and the same body bytes."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
import trouble as tr  # noqa: E402

tap = kt.Tap()
for tool in ("lighttpd", "multiwatch"):
    kt.require_tool(tap, tool)
VECTORS = kt.load_vectors()
USER = kt.service_user()  # the systemd unit's User=kanca (as root: nobody)
# Debian's lighttpd runs as www-data (server.username), and kanca with it under bin-path and mod_cgi
WEB = ("www-data", "www-data") if USER else None
if USER:
    kt.require_tool(tap, "runuser")
DEADLINE = 2.0  # answer_deadline's default: kanca.conf here leaves it out, as it does spool_dir
MARGIN = 1.0
SRC = kt.srcdir()
BIG_SECRET = "big-body-secret"
HMAC_PROVIDERS = sorted({v["provider"] for v in VECTORS} - {"apple"})  # apple: JWS with X.509, not HMAC


def first(provider, expect, name=None):
    for v in VECTORS:
        if v["provider"] == provider and v["expect"] == expect and (name is None or v["name"] == name):
            return v
    raise RuntimeError("no %s %s vector%s" % (expect, provider, " " + name if name else ""))


DETAIL = {first(p, e)["name"] for p in HMAC_PROVIDERS for e in ("valid", "invalid")}
# Trendyol's first vectors are seed_hmac: basic auth is checked by name
BASIC_OK, BASIC_BAD = "basic_auth_valid", "basic_auth_wrong_password_invalid"
first("trendyol", "valid", BASIC_OK)
first("trendyol", "invalid", BASIC_BAD)


def padded(size, eid):
    head = b'{"eventId":"%s","event":"stock.updated","pad":"' % eid.encode()
    return head + b"x" * (size - len(head) - 2) + b'"}'


BIG = padded(900 * 1024, "big-900k")
HUGE = padded(1536 * 1024, "huge-1536k")
SITE_LIMIT_KIB = 64


def requests():
    """Every request of a mode, in order: (label, method, path, headers, body, vector or None)."""
    out = [("healthz", "GET", "/healthz", {}, b"", None)]
    for i, v in enumerate(VECTORS):
        method, _, headers, body = kt.vector_request(v)
        out.append(("vector %s/%s" % (v["provider"], v["name"]), method, None, headers, body, (i, v)))
    for label, body in (("900 KiB body", BIG), ("1.5 MiB body", HUGE)):
        out.append((label, "POST", "/api/suppliers/big/webhook",
                    {"Content-Type": "application/json", "X-Signature": kt.sign_hex(BIG_SECRET, body)}, body, None))
    return out


def prepare(tag):
    """A fresh store with a source per vector (account v<i>) and supplier "big"; kanca.conf as the
    README's step 1 writes it, without spool_dir (the spool is then <store>/spool, the default)."""
    tmp = kt.make_tempdir("kanca-modes-%s-" % tag)
    os.chmod(tmp, 0o755)
    storedir = os.path.join(tmp, "store")
    os.mkdir(storedir)
    store = kt.make_store("sqlite", storedir)
    env = kt.Kanca(store, tmp, max_body_bytes="1M", spool_dir=None)
    env.migrate()
    paths = {}
    for i, v in enumerate(VECTORS):
        paths[i] = kt.configure_vector_source(env, tmp, i, v)
    env.add_source("supplier", "big", BIG_SECRET)
    return tmp, storedir, store, env, paths


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def kanca_lines(raw_cgi):
    """kanca's own output (CGI form) -> (status, [header lines except Status], body)."""
    head, _, body = raw_cgi.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("Status:") else 0
    return status, [x for x in lines if not x.startswith("Status:")], body


def http_lines(raw):
    """lighttpd's answer -> (status line, [header lines except Date], body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return lines[0], [x for x in lines[1:] if not x.lower().startswith("date:")], body


def run_mode(mode):
    tmp, storedir, store, env, paths = prepare(mode)
    now = {"KANCA_TEST_NOW": str(env.now)}
    svc = None
    if mode == "fastcgi":
        shipped = "kanca.conf"
        rundir = os.path.join(tmp, "run-lighttpd")  # Debian's /run/lighttpd, which belongs to www-data
        os.mkdir(rundir)
        kt.give_to(WEB, rundir, storedir)  # README step 3: chown -R www-data: /var/lib/kanca
        replace = {"/usr/local/bin/kanca": kt.binary("kanca"),
                   "/run/lighttpd/kanca.sock": os.path.join(rundir, "kanca.sock"),
                   "/etc/kanca/kanca.conf": env.config}
        extra = now
        user = kanca_user = WEB
    elif mode == "cgi":
        shipped = "kanca-cgi.conf"
        kt.give_to(WEB, storedir)
        replace = {"/usr/local/libexec/kanca/cgi-bin/kanca.cgi": kt.binary("cgi-bin/kanca.cgi"),
                   "/etc/kanca/kanca.conf": env.config}
        extra = now
        user = kanca_user = WEB
    else:
        shipped = "kanca-spawn-fcgi.conf"
        kt.give_to(USER, storedir)
        defaults = os.path.join(tmp, "default-kanca")
        with open(defaults, "w") as f:
            f.write("KANCA_PROCS=2\nKANCA_TEST_NOW=%d\n" % env.now)
        sock = os.path.join(tmp, "run", "kanca", "kanca.sock")
        svc = kt.SystemdService(tmp, os.path.join(SRC, "systemd", "kanca-fcgi.service"),
                                os.path.join(SRC, "systemd", "kanca-fcgi.socket"),
                                replace={"/usr/local/bin/kanca": kt.binary("kanca"),
                                         "/etc/kanca/kanca.conf": env.config,
                                         "/etc/default/kanca": defaults, "/run/kanca/kanca.sock": sock},
                                users={"kanca": USER[0]} if USER else None,
                                groups={"kanca": USER[1], "www-data": "www-data"} if USER else None).start()
        replace = {"/run/kanca/kanca.sock": sock}
        extra = None
        user = WEB
        kanca_user = USER
    # the site's own global limit, far below the bodies here: the shipped files set theirs for kanca's routes
    t = kt.LighttpdTransport(env, tmp, shipped=shipped, replace=replace, extra_env=extra, user=user,
                             server_lines="server.max-request-size = %d\n" % SITE_LIMIT_KIB)
    t.start()
    L = "[%s]" % mode
    answers = {}
    try:
        if svc:
            tap.ok(kt.wait_for(lambda: len(svc.children()) == 2, 10),
                   "%s the pool of the systemd unit runs (KANCA_PROCS=2 responders)" % L)
            if user:
                import pwd
                # lighttpd starts as root and drops to www-data once it has bound its port: wait for that
                # (a slow, sanitizer build can be looked at before it has)
                kt.wait_for(lambda: uid_of(t.proc.pid) == pwd.getpwnam("www-data").pw_uid, 10)
                uids = [uid_of(t.proc.pid)] + [uid_of(p) for p in svc.children()]
                tap.eq(uids, [pwd.getpwnam("www-data").pw_uid] + [pwd.getpwnam(USER[0]).pw_uid] * 2,
                       "%s lighttpd runs as www-data, kanca as %s: only the socket's group and mode let lighttpd in "
                       "(every answer below depends on it)" % (L, USER[0]))
        elif mode == "fastcgi" and user:
            import pwd
            want = pwd.getpwnam(WEB[0]).pw_uid
            tap.ok(kt.wait_for(lambda: len(t.responders()) == t.responder_count, 10) and
                   [uid_of(p) for p in [t.proc.pid] + t.responders()] == [want] * (1 + t.responder_count),
                   "%s lighttpd and the %d responders it spawned (bin-path) run as %s" % (L, t.responder_count, WEB[0]))
        bad = []
        for label, method, path, headers, body, vec in requests():
            if vec:
                path = paths[vec[0]][0]
            r = t.send_raw(method, path, headers, body)
            answers[label] = r.raw
            if vec:
                i, v = vec
                sid = env.source_id(v["provider"], paths[i][1])
                rows = store.query("SELECT id, event_type, idempotency_key FROM events WHERE source_id = ?", (sid,))
                want = kt.VECTOR_REJECT.get(v["provider"], {401})
                good = (200 <= r.status < 300 and len(rows) == 1) if v["expect"] == "valid" else \
                       (r.status in want and not rows)
                if not good:
                    bad.append("%s: %d %s" % (label, r.status, r.body[:80]))
                if v["name"] in DETAIL or v["name"] in (BASIC_OK, BASIC_BAD):
                    check_vector(L, label, v, r, rows, store, body, want)
            elif label == "healthz":
                tap.eq((r.status, kt.health(r.json()), r.headers.get("content-type")),
                       (200, {"status": "ok", "store": "sqlite"}, "application/json"), "%s GET /healthz" % L)
            elif label == "900 KiB body":
                rows = store.query("SELECT id FROM events WHERE idempotency_key = 'big-900k'")
                tap.eq((r.status, len(rows)), (200, 1),
                       "%s a 900 KiB body (%d bytes) -> 200, one event" % (L, len(BIG)))
                tap.ok(rows and store.body_of(rows[0][0]) == BIG, "%s ... stored whole, byte for byte" % L)
            else:
                tap.eq((r.status, r.json()), (413, {"success": False, "error": "body larger than max_body_bytes"}),
                       "%s a body over max_body_bytes (1.5 MiB > 1M) -> kanca's own 413" % L)
                tap.eq(store.count("events", "idempotency_key = 'huge-1536k'"), 0, "%s ... and nothing stored" % L)
        r = t.send_raw("POST", "/static.txt", {"Content-Type": "text/plain"}, b"x" * (2 * SITE_LIMIT_KIB * 1024))
        tap.eq(r.status, 413, "%s the site's global server.max-request-size (%d KiB) still holds outside kanca's "
               "routes (and the shipped file's own setting did not clash with it)" % (L, SITE_LIMIT_KIB))
        tap.eq(bad, [], "%s all %d vectors answered as expected (valid: 2xx and stored; invalid: rejected, nothing "
               "stored)" % (L, len(VECTORS)))
        spool_step(L, t, env, storedir, kanca_user, svc.log_tail if svc else t.log_tail)
        log = t.log_tail(100000).splitlines()
        expected = ("server started", "server stopped", " kanca[",
                    "request-size too long: %d -> 413" % (2 * SITE_LIMIT_KIB * 1024))  # the /static.txt check
        own = [x for x in log if not any(e in x for e in expected)]
        tap.eq(own, [], "%s lighttpd logged no error of its own (backend, CGI, request)" % L)
        klog = svc.log_tail(100000).splitlines() if svc else log
        tap.ok(sum(" kanca[" in x for x in klog) >= len(VECTORS),
               "%s kanca's log lines reach %s" % (L, "the journal" if svc else "lighttpd's error log"))
    finally:
        t.stop()
        if svc:
            rc, secs, left = svc.stop()
            tap.eq((rc, left), (0, []), "%s the pool stops on SIGTERM by itself (%.2f s)" % (L, secs))
            svc.close()
    return answers


def kancactl_as(user, env, *args):
    """kancactl run as user (user, group), as the README says to (runuser -u www-data -- kancactl ...)."""
    cmd = [kt.binary("kancactl"), "-c", env.config] + list(args)
    if user:
        cmd = ["runuser", "-u", user[0], "--"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, env=env.environ(), timeout=30)
    return p.returncode, p.stdout + p.stderr


def spool_step(L, t, env, storedir, kanca_user, log_tail):
    """The default spool in this setup: kanca.conf without spool_dir, so the spool is <store dir>/spool.
    With another process holding the database's write lock (BEGIN IMMEDIATE), one signed delivery is
    answered 2xx within answer_deadline (2 s) + 1 s as queued, its record is in <store dir>/spool/new/,
    written by the user kanca runs as; after the lock is gone, kancactl worker --drain run as that user
    stores it exactly once, byte for byte, and empties the spool."""
    import pwd
    store = env.store
    spool = os.path.join(storedir, "spool")
    uid = pwd.getpwnam(kanca_user[0]).pw_uid if kanca_user else os.geteuid()
    who = kanca_user[0] if kanca_user else "the test's user"
    key = "spooled-%s" % L.strip("[]")
    body = b'{"eventId":"%s","event":"stock.updated","data":{"n":1}}' % key.encode()
    with open(env.config) as f:
        conf = f.read()
    rc, out = kancactl_as(kanca_user, env, "spool", "status", "--json")
    st = json.loads(out) if rc == 0 and out.startswith("{") else {}
    tap.ok("spool_dir" not in conf and st.get("directory") == spool and not os.path.exists(spool),
           "%s kanca.conf has no spool_dir: the spool in effect is the default %s, not made yet (%s)"
           % (L, spool, st.get("directory") or out.strip()))
    lock = tr.SqliteWriteLock(store.path, limit=30).hold()
    try:
        t0 = time.monotonic()
        r = t.send("POST", "/api/suppliers/big/webhook",
                   {"Content-Type": "application/json", "X-Signature": kt.sign_hex(BIG_SECRET, body)}, body)
        secs = time.monotonic() - t0
        records = tr.spool_records(spool)
        owners = [os.stat(os.path.join(spool, "new", x)).st_uid for x in records]
        dirs = [(os.stat(d).st_uid, oct(os.stat(d).st_mode & 0o777)) for d in (spool, os.path.join(spool, "new"))
                if os.path.isdir(d)]
        during = store.count("events", "idempotency_key = ?", (key,))
    finally:
        lock.release()
    tap.ok(200 <= r.status < 300 and secs <= DEADLINE + MARGIN,
           "%s the SQLite write lock held by another process (BEGIN IMMEDIATE): a signed delivery -> %d in %.2f s "
           "(answer_deadline %.0f s + %.0f s)" % (L, r.status, secs, DEADLINE, MARGIN))
    tap.eq((r.json() or {}).get("message"), "Event queued", "%s ... answered as queued (%r)" % (L, r.body[:100]))
    tap.eq((len(records), owners, during), (1, [uid], 0),
           "%s ... its record is in %s/new/, written by %s (uid %d), and not in the store yet" % (L, spool, who, uid))
    tap.eq(dirs, [(uid, "0o700")] * 2, "%s ... the spool and new/ were made by %s, mode 0700" % (L, who))
    tap.ok(kt.wait_for(lambda: "delivery queued in the spool (the store is locked)" in log_tail(100000), 5),
           "%s ... kanca's log says: delivery queued in the spool (the store is locked)" % L)
    rc, out = kancactl_as(kanca_user, env, "worker", "--drain")
    tap.eq(rc, 0, "%s after the lock: kancactl worker --drain as %s -> exit 0 (%s)" % (L, who, out.strip()[-200:]))
    rows = store.query("SELECT id FROM events WHERE idempotency_key = ?", (key,))
    tap.ok(len(rows) == 1 and store.body_of(rows[0][0]) == body,
           "%s ... the delivery is in the store exactly once (%d), byte for byte" % (L, len(rows)))
    tap.eq(tr.spool_records(spool), [], "%s ... and the spool is empty" % L)


def check_vector(L, label, v, r, rows, store, body, want):
    if v["expect"] == "valid":
        tap.ok(200 <= r.status < 300, "%s %s -> 2xx (got %d)" % (L, label, r.status))
        tap.eq([(x[1], x[2]) for x in rows], [(v["event_type"], v["idempotency_key"])],
               "%s %s -> one event with the vector's type and key" % (L, label))
        if rows:
            tap.ok(store.body_of(rows[0][0]) == body, "%s %s -> the body stored byte for byte" % (L, label))
    else:
        tap.ok(r.status in want, "%s %s -> %s (got %d %s)" % (L, label, sorted(want), r.status, r.body[:80]))
        tap.eq(len(rows), 0, "%s %s -> nothing stored" % (L, label))
    if v["name"] == BASIC_OK:
        tap.eq(r.status, 200, "%s Trendyol basic auth: the Authorization header reached kanca (200)" % L)
        h = store.query("SELECT headers FROM events WHERE id = ?", (rows[0][0],)) if rows else []
        tap.eq(json.loads(h[0][0]).get("authorization") if h else None, "[redacted]",
               "%s ... and is stored redacted" % L)
    if v["name"] == BASIC_BAD:
        tap.eq(r.status, 401, "%s Trendyol basic auth, wrong password -> 401" % L)


def kanca_reference():
    """What kanca itself writes for each request: kanca.cgi run directly (CGI, no web server)."""
    tmp, storedir, store, env, paths = prepare("reference")
    t = kt.CgiTransport(env)
    out = {}
    for label, method, path, headers, body, vec in requests():
        if vec:
            path = paths[vec[0]][0]
        envv = kt.cgi_env(method, path, headers, body)
        out[label] = t.send_env(envv, body).raw
    return out


answers = {m: run_mode(m) for m in ("fastcgi", "spawn-fcgi", "cgi")}
ref = kanca_reference()
labels = [x[0] for x in requests()]
for label in labels:
    cgi, fcgi, pool = (http_lines(answers[m][label]) for m in ("cgi", "fastcgi", "spawn-fcgi"))
    good = tap.eq(cgi, fcgi, "mod_cgi and mod_fastcgi answers are byte-identical (without Date): %s" % label)
    if not good:
        tap.diag("cgi raw: %r" % answers["cgi"][label][:400])
        tap.diag("fastcgi raw: %r" % answers["fastcgi"][label][:400])
diff = [label for label in labels if http_lines(answers["spawn-fcgi"][label]) != http_lines(answers["fastcgi"][label])]
tap.eq(diff, [], "the spawn-fcgi pool's answers are byte-identical to bin-path's (without Date), all %d" % len(labels))
missing = []
for label in labels:
    status, hdrs, body = kanca_lines(ref[label])
    for m in ("fastcgi", "spawn-fcgi", "cgi"):
        sl, lines, b = http_lines(answers[m][label])
        if int(sl.split()[1]) != status or b != body or [h for h in hdrs if h not in lines]:
            missing.append("%s/%s: kanca %d %s %r, lighttpd %s %s %r" % (m, label, status, hdrs, body[:60], sl, lines,
                                                                       b[:60]))
tap.eq(missing, [], "every lighttpd answer carries kanca's own status, header lines and body unchanged (kanca.cgi run "
       "directly as the reference; %d requests x 3 modes)" % len(labels))
tap.ok(len({kanca_lines(ref[x])[0] for x in labels}) >= 4, "the compared answers span several statuses (%s)" %
       sorted({kanca_lines(ref[x])[0] for x in labels}))
tap.done()
