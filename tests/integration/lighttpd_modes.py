#!/usr/bin/env python3
"""lighttpd_modes.py: each shipped lighttpd configuration, run for real with a real lighttpd on an
ephemeral 127.0.0.1 port and a fresh SQLite store:

  fastcgi     lighttpd/kanca.conf: mod_fastcgi, bin-path (lighttpd spawns and supervises kanca)
  spawn-fcgi  lighttpd/kanca-spawn-fcgi.conf: mod_fastcgi to the socket of the pool that
              systemd/kanca-fcgi.socket + kanca-fcgi.service start (kt.SystemdService runs the unit's
              ExecStart= as systemd would; as root lighttpd runs as www-data and kanca as nobody, so the
              socket's group and mode are what lets lighttpd in)
  cgi         lighttpd/kanca-cgi.conf: mod_cgi running kanca.cgi

The test's lighttpd.conf sets bind, port, document root, logs and pid file and, as a site might, a
global server.max-request-size of 64 KiB; then it includes the shipped file with only the paths marked
CHANGE replaced (kt.derive_shipped fails if one is gone) and the pinned clock KANCA_TEST_NOW added next
to KANCA_CONFIG (the vectors are signed for that time). The shipped file's own server.max-request-size,
inside its URL condition, must let kanca's large bodies through and leave the site's limit elsewhere.

Each mode must pass: every vector of tests/vectors.json answered as expected, and in detail one valid
and one invalid vector per HMAC provider (valid: 2xx, one event with the vector's type and key, the body
stored byte for byte; invalid: the provider's rejection, nothing stored); Trendyol basic auth (200, so
the Authorization header arrived, stored redacted; a wrong password 401); a 900 KiB body stored whole
(server.max-request-size lets it through); a body over max_body_bytes (1M) answered 413 by kanca
itself; GET /healthz.

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
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
for tool in ("lighttpd", "multiwatch"):
    kt.require_tool(tap, tool)
VECTORS = kt.load_vectors()
USER = kt.service_user()
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
    """A fresh store with a source per vector (account v<i>) and supplier "big"."""
    tmp = kt.make_tempdir("kanca-modes-%s-" % tag)
    os.chmod(tmp, 0o755)
    storedir = os.path.join(tmp, "store")
    os.mkdir(storedir)
    store = kt.make_store("sqlite", storedir)
    env = kt.Kanca(store, tmp, max_body_bytes="1M")
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
    user = None
    if mode == "fastcgi":
        shipped = "kanca.conf"
        replace = {"/usr/local/bin/kanca": kt.binary("kanca"),
                   "/run/lighttpd/kanca.sock": os.path.join(tmp, "kanca.sock"),
                   "/etc/kanca/kanca.conf": env.config}
        extra = now
    elif mode == "cgi":
        shipped = "kanca-cgi.conf"
        replace = {"/usr/local/libexec/kanca/cgi-bin/kanca.cgi": kt.binary("cgi-bin/kanca.cgi"),
                   "/etc/kanca/kanca.conf": env.config}
        extra = now
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
        user = ("www-data", "www-data") if USER else None
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
                uids = [uid_of(t.proc.pid)] + [uid_of(p) for p in svc.children()]
                tap.eq(uids, [pwd.getpwnam("www-data").pw_uid] + [pwd.getpwnam(USER[0]).pw_uid] * 2,
                       "%s lighttpd runs as www-data, kanca as %s: only the socket's group and mode let lighttpd in "
                       "(every answer below depends on it)" % (L, USER[0]))
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
