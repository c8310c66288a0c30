#!/usr/bin/env python3
"""url_check.py: one check of a forward URL, in kancactl and in the forwarder (src/url.c). kancactl source
action add refuses, with exit 2 and the reason, every URL the forwarder could never deliver to (no host,
a space, port 0 or 99999, another scheme), a URL with credentials (user:pass@, never echoed), and a
link-local, metadata or unspecified address unless forward_allow_link_local = yes; action list never
prints credentials (a row stored with them by hand, as an older kanca could have, is shown masked) and
the forwarder refuses that row: a failed attempt (retried, like every forward that cannot be sent, until
the event is dead). At connect time (test-hooks builds, where
KANCA_TEST_RESOLVE pins a name to an address without any resolver) a name that resolves to 0.0.0.0 or to
169.254.169.254 is not connected to. A 127.0.0.1 sink still gets its delivery end to end. On SQLite and
PostgreSQL.

Nothing here connects anywhere but 127.0.0.1: the refused literal addresses are refused before any
connection (the add is all that is asserted, and the one action added with forward_allow_link_local = yes
has no event and is removed at once); the connect-time probe is a name pinned to 0.0.0.0, which a
connection reaches as this host's loopback, where the sink would record it were the check missing; the
name pinned to 169.254.169.254 is tried only after that probe was refused."""
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
SECRET = "url-check-source-secret"
HOOKS = kt.test_hooks_built()


def run(kind):
    tmp = kt.make_tempdir("kanca-url-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real")
    env.migrate()
    # no proxy may take the loopback requests (through one, the address checked would be the proxy's)
    base = {k: v for k, v in env.environ().items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    base["no_proxy"] = "*"
    sink = Sink()
    sink.start()
    L = "[url/%s]" % kind
    cgi = kt.CgiTransport(env)

    def ctl(*args, extra=None):
        e = dict(base, **(extra or {}))
        p = subprocess.run([kt.binary("kancactl"), "-c", env.config] + [str(a) for a in args], capture_output=True,
                           env=e, timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def actions(account):
        sid = env.source_id("supplier", account)
        return int(store.query("SELECT count(*) FROM actions WHERE source_id = ?", (sid,))[0][0])

    def deliver(account, n=1):
        body = ('{"eventId":"%s-%d","event":"stock.updated","data":{"n":%d}}' % (account, n, n)).encode()
        r = cgi.send("POST", "/api/suppliers/%s/webhook" % account,
                     {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
        row = store.query("SELECT id FROM events WHERE idempotency_key = ?", ("%s-%d" % (account, n),))
        return r.status, (str(row[0][0]) if row else None)

    def attempts(eid):
        return [(a[0], a[1]) for a in
                store.query("SELECT outcome, error FROM attempts WHERE event_id = ? ORDER BY id", (eid,))]

    def write(sql, params):
        """A row written by hand (kancatest's SQLite query() does not commit)."""
        if kind != "sqlite":
            return store.query(sql, params)
        con = sqlite3.connect(store.path, timeout=10)
        try:
            with con:
                con.execute(sql, params)
        finally:
            con.close()

    def status(eid):
        return store.query("SELECT status FROM events WHERE id = ?", (eid,))[0][0]

    try:
        # ---- kancactl source action add: the URL check ----
        env.add_source("supplier", "refused", SECRET)
        cases = [
            ("http:///etc/passwd", "no host"),
            (sink.url("/ok/a b"), "space"),
            ("http://127.0.0.1:0/ok", "port"),
            ("http://127.0.0.1:99999/ok", "port"),
            ("ftp://127.0.0.1/ok", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("127.0.0.1:%d/ok" % sink.port, "not absolute"),
            ("http://user:s3cret-pw@127.0.0.1:%d/ok" % sink.port, "credentials"),
            ("http://169.254.169.254/latest/meta-data/", "cloud metadata service address"),
            ("http://2852039166/latest/meta-data/", "169.254.169.254 is a cloud metadata"),
            ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata service address"),
            ("http://100.100.100.200/latest/meta-data/", "cloud metadata service address"),
            ("http://169.254.10.20:%d/ok" % sink.port, "link-local"),
            ("http://[fe80::1]:%d/ok" % sink.port, "link-local"),
            ("http://0.0.0.0:%d/ok" % sink.port, "unspecified"),
        ]
        for url, why in cases:
            rc, out, err = ctl("source", "action", "add", "supplier", "refused", "forward", url)
            tap.ok(rc == 2 and "forward URL refused" in err and why in err,
                   "%s action add %r: exit 2 and the reason (%d: %s)" % (L, url, rc, err.strip()[:200]))
            if "169.254" in url or "100.100" in url or "fd00" in url or "0.0.0.0" in url:
                tap.ok("forward_allow_link_local" in err, "%s %r: the reason names the key that allows it" % (L, url))
        rc, out, err = ctl("source", "action", "add", "supplier", "refused", "forward",
                           "http://user:s3cret-pw@127.0.0.1:%d/ok" % sink.port)
        tap.ok("s3cret-pw" not in out + err, "%s the refusal of a URL with credentials does not echo them" % L)
        tap.eq(actions("refused"), 0, "%s nothing refused was stored" % L)
        rc, out, err = ctl("source", "action", "add", "supplier", "refused", "forward", sink.url("/ok/control"))
        tap.eq(rc, 0, "%s control: a 127.0.0.1 URL on the same source is accepted (%s)" % (L, err.strip()))
        tap.eq(actions("refused"), 1, "%s and stored" % L)

        # ---- forward_allow_link_local = yes: the add is accepted (never delivered: no event, removed) ----
        env.add_source("supplier", "linklocal", SECRET)
        env.write_config(forward_allow_link_local="yes")
        rc, out, err = ctl("source", "action", "add", "supplier", "linklocal", "forward",
                           "http://169.254.169.254/latest/meta-data/")
        tap.eq(rc, 0, "%s forward_allow_link_local = yes: http://169.254.169.254/ is accepted (%s)" % (L, err.strip()))
        rc2, out2, err2 = ctl("source", "action", "add", "supplier", "linklocal", "forward",
                              "http://0.0.0.0:%d/ok" % sink.port)
        tap.eq(rc2, 0, "%s forward_allow_link_local = yes: 0.0.0.0 is accepted (%s)" % (L, err2.strip()))
        rc3, out3, err3 = ctl("source", "action", "add", "supplier", "linklocal", "forward",
                              "http://user:s3cret-pw@127.0.0.1:%d/ok" % sink.port)
        tap.ok(rc3 == 2 and "credentials" in err3,
               "%s forward_allow_link_local = yes does not let credentials through (%d)" % (L, rc3))
        sid = env.source_id("supplier", "linklocal")
        for (aid,) in store.query("SELECT id FROM actions WHERE source_id = ?", (sid,)):
            ctl("source", "action", "remove", "supplier", "linklocal", aid)
        tap.eq(actions("linklocal"), 0, "%s (those actions removed again, never run)" % L)
        env.write_config(forward_allow_link_local="no")
        rc, out, err = ctl("config", "check")
        tap.eq(rc, 0, "%s forward_allow_link_local = no again (%s)" % (L, err.strip()))

        # ---- a good 127.0.0.1 destination: delivered end to end ----
        env.add_source("supplier", "good", SECRET)
        rc, out, err = ctl("source", "action", "add", "supplier", "good", "forward", sink.url("/ok/good"))
        tap.eq(rc, 0, "%s action add of the sink's URL (%s)" % (L, err.strip()))
        st, eid = deliver("good")
        tap.eq(st, 200, "%s a delivery to the good source is stored" % L)
        ctl("worker", "--drain")
        got = sink.requests("/ok/good")
        tap.eq(len(got), 1, "%s worker --drain delivers it to the 127.0.0.1 sink once" % L)
        tap.eq(status(eid), "processed", "%s and the event is processed" % L)
        tap.eq(attempts(eid), [("ok", None)], "%s one attempt, ok" % L)

        # ---- credentials stored by hand (an older kanca accepted them): masked, and refused when sent ----
        env.add_source("supplier", "legacy", SECRET, {"retry_attempts": 1})
        sid = env.source_id("supplier", "legacy")
        write("INSERT INTO actions (source_id, position, kind, target, options, created_at) "
                    "VALUES (?, 1, 'forward', ?, '', 1767225600)",
                    (sid, "http://olduser:s3cret-pw@127.0.0.1:%d/ok/legacy" % sink.port))
        rc, out, err = ctl("source", "action", "list", "supplier", "legacy")
        tap.ok(rc == 0 and ("http://***@127.0.0.1:%d/ok/legacy" % sink.port) in out,
               "%s action list shows the stored URL with its credentials masked: %s" % (L, out.strip()[-120:]))
        tap.ok("s3cret-pw" not in out and "olduser" not in out, "%s and never prints them" % L)
        st, eid = deliver("legacy")
        rc, out, err = ctl("worker", "--drain")
        att = attempts(eid)
        tap.ok(len(att) == 1 and att[0][0] == "failed" and "credentials" in (att[0][1] or ""),
               "%s the forwarder refuses it with the same check: a failed attempt (%s)" % (L, att))
        tap.ok("s3cret-pw" not in repr(att) + out + err, "%s neither the attempt nor the worker prints them" % L)
        tap.eq(len(sink.requests("/ok/legacy")), 0, "%s and nothing reached the sink" % L)
        tap.eq(status(eid), "dead", "%s the event ends (retry_attempts = 1): dead" % L)

        # ---- a name that resolves to a refused address: not connected to ----
        if not HOOKS:
            tap.skip("this build has no test hooks (KANCA_TEST_RESOLVE)",
                     "%s a name that resolves to 0.0.0.0 or 169.254.169.254 is refused at connect time" % L)
            return
        env.add_source("supplier", "byname", SECRET, {"retry_attempts": 1})
        name_url = "http://zero.kanca.test:%d/ok/zero" % sink.port
        rc, out, err = ctl("source", "action", "add", "supplier", "byname", "forward", name_url)
        tap.eq(rc, 0, "%s action add of a name is accepted (its addresses are checked when it connects)" % L)
        st, eid = deliver("byname")
        pin = {"KANCA_TEST_RESOLVE": "zero.kanca.test:%d:0.0.0.0" % sink.port}
        rc, out, err = ctl("worker", "--drain", extra=pin)
        att = attempts(eid)
        refused = (len(att) == 1 and att[0][0] == "failed" and
                   (att[0][1] or "").startswith("not connecting: 0.0.0.0 is the unspecified address"))
        tap.ok(refused, "%s a name resolving to 0.0.0.0: a failed attempt, not connected (%s)" % (L, att))
        none_arrived = len(sink.requests("/ok/zero")) == 0
        tap.ok(none_arrived, "%s nothing reached the sink (0.0.0.0 would have reached it)" % L)
        tap.eq(status(eid), "dead", "%s (retry_attempts = 1) the event is dead after that attempt" % L)

        # the same name with forward_allow_link_local = yes: delivered, so the refusal above was the check
        env.write_config(forward_allow_link_local="yes")
        rc, out, err = ctl("replay", eid)
        rc, out, err = ctl("worker", "--drain", extra=pin)
        tap.eq(len(sink.requests("/ok/zero")), 1,
               "%s with forward_allow_link_local = yes the same name is connected to (the sink got it)" % L)
        env.write_config(forward_allow_link_local="no")

        # the metadata service's address, by name: only once the probe above was refused
        if refused and none_arrived and ctl("config", "check")[0] == 0 and \
                env.settings.get("forward_allow_link_local") == "no":
            env.add_source("supplier", "meta", SECRET, {"retry_attempts": 1})
            rc, out, err = ctl("source", "action", "add", "supplier", "meta", "forward",
                               "http://metadata.kanca.test/latest/meta-data/")
            tap.eq(rc, 0, "%s action add of http://metadata.kanca.test/ is accepted (a name)" % L)
            st, eid = deliver("meta")
            rc, out, err = ctl("worker", "--drain",
                               extra={"KANCA_TEST_RESOLVE": "metadata.kanca.test:80:169.254.169.254"})
            att = attempts(eid)
            tap.ok(len(att) == 1 and att[0][0] == "failed" and
                   "not connecting: 169.254.169.254 is a cloud metadata service address" in (att[0][1] or ""),
                   "%s a name resolving to 169.254.169.254: a failed attempt, not connected (%s)" % (L, att))
            tap.eq(status(eid), "dead", "%s (retry_attempts = 1) the event is dead after that attempt" % L)
        else:
            tap.ok(False, "%s the 0.0.0.0 probe was not refused: the metadata address is not tried" % L)
    finally:
        sink.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
