#!/usr/bin/env python3
"""doctor.py: kancactl doctor [URL], run for real. Local checks on a good SQLite and a good PostgreSQL
store (exit 0), then broken ones, each with its finding and fix (exit 1): a configuration with bad keys,
a store that cannot be opened or does not answer, a schema behind the binary, a clock pinned away from
PostgreSQL's. Then through a real lighttpd: one self-test delivery per source (supplier, Trendyol basic
auth, api key and seed HMAC, Stripe, GitHub, Shopify, Sosyal Köprü, ikas, generic HMAC, Standard Webhooks,
Svix, Apple unsigned), each answered by kanca after verification and never stored, a body of exactly
max_body_bytes and one byte more; a lighttpd whose server.max-request-size is below max_body_bytes, a
wrong route and a closed port. Last through Apache with the shipped configurations (tests/lib/apache.py):
mod_fcgid, mod_proxy_fcgi and mod_cgid all ok; mod_fcgid without CGIPassAuth (the Authorization finding),
with FcgidMaxRequestLen 131072 (the body-limit finding) and with LimitRequestBody (the body arrives
empty). No secret ever appears in doctor's output."""
import os
import re
import secrets
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
import apache  # noqa: E402
from apache import ApacheTransport  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "lighttpd")
kt.require_pg(tap)
APACHE_MODES = ("fcgid", "proxy_fcgi", "cgid")
for _m in APACHE_MODES:
    apache.require(tap, _m)
T0 = time.monotonic()
MAX_BODY = 1024 * 1024
LATEST = len([f for f in os.listdir(os.path.join(kt.srcdir(), "sql", "sqlite")) if f.endswith(".sql")])
LINE = re.compile(r"^(ok|warn|FAIL) +([^:]+): (.*)$")
SUMMARY = re.compile(r"^doctor: (\d+) ok, (\d+) warn, (\d+) FAIL$")


class Run:
    """One kancactl doctor run: exit code, output, and its lines as (level, check, text)."""

    def __init__(self, env, *args, timeout=180, config=None):
        argv = ("doctor",) + args
        if config:
            # kancactl -c PATH doctor: another configuration than env's
            import subprocess
            p = subprocess.run([kt.binary("kancactl"), "-c", config] + list(argv), capture_output=True,
                               env=env.environ(), timeout=timeout)
            self.rc, self.out, self.err = p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(
                errors="replace")
        else:
            self.rc, self.out, self.err = env.kancactl(*argv, timeout=timeout)
        self.lines = []
        self.summary = None
        for line in self.out.splitlines():
            m = LINE.match(line)
            if m:
                self.lines.append(m.groups())
            elif SUMMARY.match(line):
                self.summary = tuple(int(x) for x in SUMMARY.match(line).groups())
            elif line.strip():
                self.lines.append(("?", "?", line))  # a line of another shape: the test below fails on it

    def get(self, check):
        got = [x for x in self.lines if x[1] == check]
        return got[0] if got else (None, check, "")

    def levels(self, level):
        return [x for x in self.lines if x[0] == level]

    def show(self):
        return "rc=%d\n%s%s" % (self.rc, self.out, self.err[-2000:])


def sqlite_write(path, sql, params=()):
    """One committed statement (kt.SqliteStore.query is for reading)."""
    con = sqlite3.connect(path, timeout=10)
    try:
        with con:
            con.execute(sql, params)
    finally:
        con.close()


def well_formed(tag, r):
    """Every line has the doctor's shape, the summary counts them, the exit code follows the FAILs."""
    odd = [x for x in r.lines if x[0] == "?"]
    tap.eq(odd, [], "[%s] every line is 'ok|warn|FAIL check: text'" % tag)
    counts = (len(r.levels("ok")), len(r.levels("warn")), len(r.levels("FAIL")))
    tap.eq(r.summary, counts, "[%s] the summary line counts the lines %s" % (tag, counts))
    tap.eq(r.rc, 1 if counts[2] else 0, "[%s] exit %d with %d FAIL lines" % (tag, 1 if counts[2] else 0, counts[2]))
    for lv, check, text in r.levels("FAIL") + r.levels("warn"):
        if "not checked" in text or "not sent" in text:
            continue
        tap.ok("Fix: " in text, "[%s] %s %s says how to fix it" % (tag, lv, check))


def no_secrets(tag, r, env):
    leaked = [s for s in env.secrets if s in r.out or s in r.err]
    tap.eq(leaked, [], "[%s] no secret appears in doctor's output" % tag)


# --------------------------------------------------------------------------------------------
# sources of every provider that can sign, and an Apple one (unsigned)

def add_sources(env):
    env.secrets = []

    def sec(tag):
        s = "%s-%s" % (tag, secrets.token_hex(12))
        env.secrets.append(s)
        return s
    whsec = "whsec_" + __import__("base64").b64encode(secrets.token_bytes(24)).decode()
    env.secrets.append(whsec)
    whsec2 = "whsec_" + __import__("base64").b64encode(secrets.token_bytes(24)).decode()
    env.secrets.append(whsec2)
    env.add_source("supplier", "demo", sec("supplier"))
    env.add_source("trendyol", "555", sec("tybasic"), {"auth_mode": "basic_auth", "username": "kanca"})
    env.add_source("trendyol", "556", sec("tykey"))
    env.add_source("trendyol", "557", sec("tyseed"), {"auth_mode": "seed_hmac"})
    env.add_source("stripe", "acct", "whsec_" + sec("stripe"))
    env.add_source("github", "org", sec("github"))
    env.add_source("shopify", "shop", sec("shopify"))
    env.add_source("sosyalkopru", "acc", sec("sosyal"))
    env.add_source("ikas", "m1", sec("ikas"), {"merchant_id": "merchant-1"})
    env.add_source("hmac", "h", sec("hmac"), {"header": "X-Sig", "encoding": "base64", "prefix": "v1="})
    env.add_source("standardwebhooks", "sw", whsec)
    env.add_source("svix", "sv", whsec2)
    v = next(x for x in kt.load_vectors("apple") if x.get("trusted_root_pem"))
    root = os.path.join(env.tmpdir, "apple-test-root.pem")
    with open(root, "w") as f:
        f.write(v["trusted_root_pem"])
    env._must("source", "add", "apple", "test-app", "--root-cert", root, "--set", "bundle_id=com.example.webhooktest",
              "--set", "environment=Sandbox")
    # one without a secret and one disabled: warned about, never sent
    env.add_source("supplier", "nosecret")
    env.add_source("github", "off", sec("githuboff"))
    env._must("source", "disable", "github", "off")


DELIVERED = ["supplier/demo", "trendyol/555", "trendyol/556", "trendyol/557", "stripe/acct", "github/org",
             "shopify/shop", "sosyalkopru/acc", "ikas/m1", "hmac/h", "standardwebhooks/sw", "svix/sv",
             "apple/test-app"]


def make_env(kind, now=None, cluster=None):
    tmp = kt.make_tempdir("kanca-doctor-")
    store = kt.make_store(kind, tmp, cluster)
    env = kt.Kanca(store, tmp, now=now, max_body_bytes="1M")
    env.migrate()
    return env


# --------------------------------------------------------------------------------------------
# 1. local checks

def local_sqlite():
    env = make_env("sqlite")
    add_sources(env)
    r = Run(env)
    tag = "sqlite"
    tap.diag("doctor, SQLite, no URL:\n" + r.out)
    well_formed(tag, r)
    tap.eq(r.rc, 0, "[%s] a good store: exit 0 (%s)" % (tag, r.show()[-600:]))
    tap.eq(r.get("config")[0], "ok", "[%s] config loads" % tag)
    tap.ok("max_body_bytes 1048576" in r.get("config")[2], "[%s] the config line names max_body_bytes" % tag)
    tap.eq(r.get("store")[0], "ok", "[%s] the store answers" % tag)
    tap.eq(r.get("migrations"), ("ok", "migrations", "schema version %d is current" % LATEST),
           "[%s] migrations current at %d" % (tag, LATEST))
    tap.ok(r.get("clock")[0] == "warn" and "KANCA_TEST_NOW" in r.get("clock")[2],
           "[%s] a pinned clock is a warning naming KANCA_TEST_NOW: %s" % (tag, r.get("clock")))
    spool = os.path.join(env.tmpdir, "spool")
    tap.ok(r.get("spool")[0] == "ok" and spool in r.get("spool")[2],
           "[%s] the spool directory in effect is named, and kanca's user can make it: %s" % (tag, r.get("spool")))
    tap.eq([r.get(c)[0] for c in ("store files", "store write", "spool space", "spool records")],
           ["ok", "ok", "ok", "ok"], "[%s] store files, store write, spool space and spool records: ok" % tag)
    tap.ok(r.get("store files")[2].startswith(env.store.path + " (owner "),
           "[%s] the store files line names the file with its owner and mode: %s" % (tag, r.get("store files")[2]))
    ns = r.get("source supplier/nosecret")
    tap.ok(ns[0] == "warn" and "no unexpired secret" in ns[2] and "kancactl source secret add supplier nosecret" in ns[2],
           "[%s] a source without a secret: warned, with the command that fixes it: %s" % (tag, ns))
    tap.eq(r.get("sources"), ("ok", "sources", "%d enabled, 1 disabled" % (len(DELIVERED) + 1)),
           "[%s] sources counted" % tag)
    tap.ok(not [x for x in r.lines if x[1].startswith("delivery") or x[1] == "healthz"],
           "[%s] without a URL nothing is sent" % tag)
    no_secrets(tag, r, env)

    # a configuration with problems: every one named, nothing else checked
    bad = os.path.join(env.tmpdir, "bad.conf")
    with open(bad, "w") as f:
        f.write("store = %s\nmax_body_bytes = lots\nno_such_key = 1\n" % env.store.uri())
    r = Run(env, config=bad)
    tag = "bad config"
    well_formed(tag, r)
    fails = r.levels("FAIL")
    tap.ok(len(fails) == 2 and all(x[1] == "config" for x in fails), "[%s] two FAIL config lines: %s" % (tag, fails))
    tap.ok(any("max_body_bytes" in x[2] for x in fails) and any("no_such_key" in x[2] for x in fails),
           "[%s] each bad key is named" % tag)
    tap.ok(all("kancactl config keys" in x[2] for x in fails), "[%s] the fix points at kancactl config keys" % tag)
    tap.eq(len(r.lines), 2, "[%s] nothing else is checked" % tag)

    # no configuration file at all
    r = Run(env, config=os.path.join(env.tmpdir, "missing.conf"))
    tag = "missing config"
    well_formed(tag, r)
    tap.ok(len(r.lines) == 1 and r.lines[0][0] == "FAIL" and "cannot open" in r.lines[0][2]
           and "kancactl -c PATH" in r.lines[0][2] and "KANCA_CONFIG" in r.lines[0][2],
           "[%s] FAIL config: cannot open; the fix names -c and KANCA_CONFIG: %s" % (tag, r.lines))

    # the real clock on SQLite: no server clock, so the kernel's NTP state (ok, or a warning that the check is
    # limited) -- never a failure on a plausible clock
    real = kt.Kanca(env.store, kt.make_tempdir("kanca-doctor-real-"), now="real", max_body_bytes="1M")
    r = Run(real)
    ck = r.get("clock")
    tap.ok((ck[0] == "ok" and "synchronised" in ck[2]) or (ck[0] == "warn" and "limited" in ck[2]),
           "[sqlite real clock] ok when the kernel says synchronised, else a warning that the check is limited: %s"
           % (ck,))
    tap.eq(r.rc, 0, "[sqlite real clock] exit 0")

    # a store that cannot be opened
    nodir = os.path.join(env.tmpdir, "bad-store.conf")
    with open(nodir, "w") as f:
        f.write("store = sqlite:%s/no/such/dir/kanca.db\n" % env.tmpdir)
    r = Run(env, config=nodir)
    tag = "sqlite unopenable"
    well_formed(tag, r)
    st = r.get("store")
    tap.ok(st[0] == "FAIL" and "cannot be opened" in st[2] and "directory" in st[2],
           "[%s] FAIL store, cannot be opened, fix names the directory: %s" % (tag, st))
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)

    # a schema behind the binary: the newest migration row removed
    sqlite_write(env.store.path, "DELETE FROM kanca_migrations WHERE version = (SELECT max(version) FROM kanca_migrations)")
    r = Run(env)
    tag = "sqlite behind"
    well_formed(tag, r)
    mg = r.get("migrations")
    tap.eq(mg[0], "FAIL", "[%s] FAIL migrations" % tag)
    tap.ok("schema version %d, this kanca needs %d" % (LATEST - 1, LATEST) in mg[2] and "run kancactl migrate" in mg[2],
           "[%s] says the versions and 'run kancactl migrate': %s" % (tag, mg[2]))
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)
    sqlite_write(env.store.path, "INSERT INTO kanca_migrations (version, name, applied_at) VALUES (?, 'back', 0)",
                 (LATEST,))
    tap.eq(Run(env).rc, 0, "[sqlite] with the row back: exit 0 again")
    return env


def local_pg():
    cluster = kt.PgCluster().start()
    env = make_env("pg", now="real", cluster=cluster)
    add_sources(env)
    r = Run(env)
    tag = "pg"
    tap.diag("doctor, PostgreSQL, no URL:\n" + r.out)
    well_formed(tag, r)
    tap.eq(r.rc, 0, "[%s] a good store: exit 0 (%s)" % (tag, r.show()[-600:]))
    tap.eq(r.get("store"), ("ok", "store", "PostgreSQL answers"), "[%s] the store answers (no URI shown)" % tag)
    tap.ok(env.store.uri() not in r.out, "[%s] the PostgreSQL URI is not printed" % tag)
    tap.eq(r.get("migrations")[0], "ok", "[%s] migrations current" % tag)
    ck = r.get("clock")
    tap.ok(ck[0] == "ok" and "of PostgreSQL's" in ck[2], "[%s] the clock agrees with PostgreSQL's: %s" % (tag, ck))
    no_secrets(tag, r, env)

    # the same store, kanca's clock pinned an hour away, then 60 s away (warn below timestamp_tolerance/2)
    for off, level in ((-3600, "FAIL"), (60, "warn")):
        tmp = kt.make_tempdir("kanca-doctor-skew-")
        skew = kt.Kanca(env.store, tmp, now=int(time.time()) + off, max_body_bytes="1M")
        skew.secrets = env.secrets
        r = Run(skew)
        tag = "pg skew %+d" % off
        well_formed(tag, r)
        ck = r.get("clock")
        tap.eq(ck[0], level, "[%s] %s clock: %s" % (tag, level, ck[2]))
        way = "behind" if off < 0 else "ahead of"
        m = re.search(r"(\d+) s %s PostgreSQL's" % way, ck[2])
        tap.ok(m and abs(int(m.group(1)) - abs(off)) <= 2, "[%s] says how far (%d s) and which way (%s)"
               % (tag, abs(off), way))
        if level == "FAIL":
            tap.ok("Stripe" in ck[2] and "timestamp_tolerance" in ck[2] and "NTP" in ck[2],
                   "[%s] says why it matters (Stripe, timestamp_tolerance) and how to fix it (NTP)" % tag)
        tap.eq(r.rc, 1 if level == "FAIL" else 0, "[%s] exit %d" % (tag, 1 if level == "FAIL" else 0))

    # the server down: FAIL store with the fix, nothing after it checked
    env.store.stop_server()
    r = Run(env)
    tag = "pg down"
    well_formed(tag, r)
    st = r.get("store")
    tap.ok(st[0] == "FAIL" and "does not answer" in st[2] and "start PostgreSQL" in st[2],
           "[%s] FAIL store: does not answer, start PostgreSQL: %s" % (tag, st))
    tap.ok(env.store.uri() not in r.out, "[%s] the PostgreSQL URI is not printed" % tag)
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)
    env.store.close()


# --------------------------------------------------------------------------------------------
# 2. through a real lighttpd

def all_delivered(tag, r, authorization=True):
    for name in DELIVERED:
        lv, check, text = r.get("delivery " + name)
        if name.startswith("apple/"):
            tap.ok(lv == "ok" and "signature skipped: Apple signs with its own certificates" in text,
                   "[%s] %s: route and body reach kanca, signature skipped (Apple's certificates): %s" % (tag, name, text))
        else:
            tap.ok(lv == "ok" and "kanca verified the self-test" in text and "arrived intact" in text,
                   "[%s] %s: verified, body intact: %s %s" % (tag, name, lv, text[:200]))
    if authorization:
        tap.ok("Authorization arrived" in r.get("delivery trendyol/555")[2],
               "[%s] trendyol basic_auth: the Authorization header arrived" % tag)
    tap.eq(r.get("delivery supplier/nosecret")[0], "warn", "[%s] the source without a secret: not sent" % tag)
    tap.eq(r.get("delivery github/off"), (None, "delivery github/off", ""), "[%s] the disabled source: not sent" % tag)


def lighttpd_runs(env):
    events = env.store.count("events")
    audit = env.store.count("audit_log", "action = 'doctor'")
    t = kt.LighttpdTransport(env, env.tmpdir).start()
    base = "http://127.0.0.1:%d" % t.port
    r = Run(env, base)
    tag = "lighttpd"
    tap.diag("doctor through lighttpd:\n" + r.out)
    well_formed(tag, r)
    tap.eq(r.rc, 0, "[%s] all ok: exit 0" % tag)
    tap.eq(r.levels("FAIL"), [], "[%s] no FAIL" % tag)
    tap.eq(r.get("healthz")[0], "ok", "[%s] GET /healthz reaches kanca" % tag)
    all_delivered(tag, r)
    tap.ok(r.get("body limit")[0] == "ok" and "1048576 bytes" in r.get("body limit")[2],
           "[%s] a body of max_body_bytes reaches kanca whole: %s" % (tag, r.get("body limit")))
    tap.eq(r.get("body over limit"), ("ok", "body over limit", "a body of max_body_bytes + 1 gets kanca's own 413"),
           "[%s] one byte more: kanca's own 413" % tag)
    no_secrets(tag, r, env)
    tap.eq(env.store.count("events"), events, "[%s] no self-test was stored as an event" % tag)
    rows = env.store.query("SELECT provider, account, status_code, reason FROM audit_log WHERE action = 'doctor' "
                           "ORDER BY id")[audit:]
    tap.eq(len(rows), len(DELIVERED) + 1, "[%s] one 'doctor' audit row per delivery and the max_body_bytes one" % tag)
    apple = [x for x in rows if x[0] == "apple"]
    tap.ok(all(x[2] == "200" and x[3] == "self-test verified" for x in rows if x[0] != "apple"),
           "[%s] the signed ones: 200, self-test verified" % tag)
    tap.ok(len(apple) == 1 and apple[0][2] != "200", "[%s] the unsigned Apple one: refused as unverified %s" % (tag, apple))

    # one source (by the route alias), and a self-test is never stored even when sent twice
    r = Run(env, base + "/", "--source", "ty/555")
    tag = "lighttpd --source"
    well_formed(tag, r)
    tap.eq([x[1] for x in r.lines if x[1].startswith("delivery")], ["delivery trendyol/555"],
           "[%s] --source ty/555: only trendyol/555 is sent" % tag)
    tap.eq(r.rc, 0, "[%s] exit 0" % tag)
    tap.eq(env.store.count("events"), events, "[%s] still no event stored" % tag)

    # a route the web server does not send to kanca
    r = Run(env, base + "/elsewhere")
    tag = "lighttpd wrong route"
    well_formed(tag, r)
    sup = r.get("delivery supplier/demo")
    tap.ok(sup[0] == "FAIL" and "wrong route" in sup[2] and "HTTP 404" in sup[2] and '$HTTP["url"]' in sup[2],
           "[%s] FAIL: wrong route, names lighttpd's $HTTP[\"url\"] condition: %s" % (tag, sup[2][:300]))
    tap.eq(r.get("healthz")[0], "warn", "[%s] /healthz not reaching kanca is a warning" % tag)
    tap.ok("not checked" in r.get("body limit")[2], "[%s] the body limit is not checked without a route" % tag)
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)
    t.stop()

    # nothing listens
    r = Run(env, "http://127.0.0.1:%d" % kt.free_port())
    tag = "closed port"
    well_formed(tag, r)
    hz = r.get("healthz")
    tap.ok(hz[0] == "FAIL" and "nothing listens there" in hz[2] and "URL" in hz[2],
           "[%s] FAIL healthz: nothing listens, the URL is wrong or the server is down: %s" % (tag, hz[2][:200]))
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)

    # lighttpd's own body limit below max_body_bytes
    t = kt.LighttpdTransport(env, env.tmpdir, max_request_kib=512).start()
    r = Run(env, "http://127.0.0.1:%d" % t.port)
    tag = "lighttpd 512 KiB"
    tap.diag("doctor through lighttpd with server.max-request-size = 512:\n" + r.out)
    well_formed(tag, r)
    all_delivered(tag, r)
    bl = r.get("body limit")
    tap.ok(bl[0] == "FAIL" and "below max_body_bytes" in bl[2] and "HTTP 413 from lighttpd" in bl[2],
           "[%s] FAIL body limit: lighttpd's 413 below max_body_bytes: %s" % (tag, bl[2][:300]))
    tap.ok("server.max-request-size = 2049" in bl[2] and "FcgidMaxRequestLen" not in bl[2],
           "[%s] the fix names lighttpd's server.max-request-size (2049 KiB), not Apache's directives" % tag)
    tap.eq([x[1] for x in r.levels("FAIL")], ["body limit"], "[%s] the body limit is the only FAIL" % tag)
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)
    no_secrets(tag, r, env)
    t.stop()


# --------------------------------------------------------------------------------------------
# 3. through Apache, the shipped configurations and broken variants

def apache_runs():
    env = make_env("sqlite")
    add_sources(env)
    events = env.store.count("events")
    outputs = {}
    for mode in APACHE_MODES:
        t = ApacheTransport(env, env.tmpdir, mode=mode).start()
        r = Run(env, t.url(""))
        tag = "apache %s" % mode
        outputs[tag] = r.out
        well_formed(tag, r)
        tap.eq(r.levels("FAIL"), [], "[%s] the shipped config: no FAIL (%s)" % (tag, t.error_log_tail(5)[-400:]))
        tap.eq(r.rc, 0, "[%s] exit 0" % tag)
        tap.eq(r.get("healthz")[0], "ok", "[%s] GET /healthz reaches kanca" % tag)
        all_delivered(tag, r)
        tap.eq(r.get("body limit")[0], "ok", "[%s] a body of max_body_bytes reaches kanca whole" % tag)
        tap.eq(r.get("body over limit")[0], "ok", "[%s] one byte more: kanca's own 413" % tag)
        no_secrets(tag, r, env)
        t.stop()

    # CGIPassAuth removed: the Authorization header does not arrive
    t = ApacheTransport(env, env.tmpdir, mode="fcgid", edit=apache.without_line("CGIPassAuth")).start()
    r = Run(env, t.url(""))
    tag = "apache fcgid without CGIPassAuth"
    outputs[tag] = r.out
    well_formed(tag, r)
    ty = r.get("delivery trendyol/555")
    tap.ok(ty[0] == "FAIL" and "HTTP 401" in ty[2] and "missing Authorization header" in ty[2]
           and "Authorization header does not arrive" in ty[2], "[%s] FAIL: Authorization does not arrive: %s"
           % (tag, ty[2][:300]))
    tap.ok("CGIPassAuth On" in ty[2] and "FcgidPassHeader Authorization" in ty[2] and "SetEnvIf" in ty[2],
           "[%s] the fix names CGIPassAuth On (and FcgidPassHeader, SetEnvIf)" % tag)
    tap.eq([x[1] for x in r.levels("FAIL")], ["delivery trendyol/555"], "[%s] the only FAIL" % tag)
    tap.eq(r.get("delivery supplier/demo")[0], "ok", "[%s] signed bodies still verify" % tag)
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)
    t.stop()

    # mod_fcgid's default FcgidMaxRequestLen: a body of max_body_bytes never reaches kanca
    t = ApacheTransport(env, env.tmpdir, mode="fcgid",
                        edit=apache.replacing("FcgidMaxRequestLen ${KANCA_MAX_REQUEST}", "FcgidMaxRequestLen 131072")
                        ).start()
    r = Run(env, t.url(""))
    tag = "apache fcgid FcgidMaxRequestLen 131072"
    outputs[tag] = r.out
    well_formed(tag, r)
    bl = r.get("body limit")
    tap.ok(bl[0] == "FAIL" and "HTTP 500 from Apache" in bl[2] and "below max_body_bytes" in bl[2],
           "[%s] FAIL body limit: Apache's 500 below max_body_bytes: %s" % (tag, bl[2][:300]))
    tap.ok("FcgidMaxRequestLen 2097152" in bl[2] and "131072" in bl[2] and "128 KiB" in bl[2],
           "[%s] the fix names FcgidMaxRequestLen (2097152) and mod_fcgid's 128 KiB default" % tag)
    tap.ok("exceeds MaxRequestLen (131072)" in t.error_log_tail(200), "[%s] Apache's error log agrees" % tag)
    tap.eq([x[1] for x in r.levels("FAIL")], ["body limit"], "[%s] the only FAIL" % tag)
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)
    t.stop()

    # LimitRequestBody on kanca's routes under mod_fcgid: kanca gets an empty body
    t = ApacheTransport(env, env.tmpdir, mode="fcgid",
                        edit=apache.replacing("  CGIPassAuth On\n", "  CGIPassAuth On\n  LimitRequestBody 524288\n")
                        ).start()
    r = Run(env, t.url(""))
    tag = "apache fcgid LimitRequestBody"
    well_formed(tag, r)
    bl = r.get("body limit")
    tap.ok(bl[0] == "FAIL" and "the body changed on the way" in bl[2] and "kanca got 0 bytes" in bl[2]
           and "LimitRequestBody" in bl[2], "[%s] FAIL: the body arrives empty, names LimitRequestBody: %s"
           % (tag, bl[2][:300]))
    tap.eq(r.rc, 1, "[%s] exit 1" % tag)
    t.stop()
    tap.eq(env.store.count("events"), events, "[apache] no self-test was stored as an event")
    return outputs


local_sqlite_env = local_sqlite()
local_pg()
lighttpd_runs(local_sqlite_env)
outs = apache_runs()
for k in ("apache fcgid", "apache fcgid without CGIPassAuth", "apache fcgid FcgidMaxRequestLen 131072"):
    tap.diag("doctor through %s:\n%s" % (k, outs.get(k, "")))
elapsed = time.monotonic() - T0
tap.ok(elapsed < 150, "the whole file ran in %.1f s (bounded)" % elapsed)
tap.done()
