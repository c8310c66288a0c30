#!/usr/bin/env python3
"""rotation.py: secret rotation through the whole path (lighttpd + kanca), on both stores. A source
with an old and a new secret accepts both and records which one verified (by id, never its value); an
expired secret is refused; `source secret expire` ends a rotation and `source secret remove` drops a
secret at once."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
OLD, NEW, GONE = "old-secret-aaaaaaaaaaaaaaaa", "new-secret-bbbbbbbbbbbbbbbb", "expired-secret-cccccccccccc"


def run(kind):
    tmp = kt.make_tempdir("kanca-rotation-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, source_cache_seconds=0)  # every change takes effect at once here
    env.migrate()
    env.add_source("supplier", "rot", OLD)
    L = "[rotation/%s]" % kind
    rc, out, err = env.kancactl("source", "secret", "add", "supplier", "rot", "--secret", NEW, "--expires", "30d")
    tap.eq(rc, 0, "%s add a second secret" % L)
    # expired before the (pinned) now
    rc, out, err = env.kancactl("source", "secret", "add", "supplier", "rot", "--secret", GONE,
                                "--expires-at", str(env.now - 60))
    tap.eq(rc, 0, "%s add an already expired secret" % L)
    rc, out, err = env.kancactl("source", "secret", "list", "supplier", "rot")
    tap.ok(rc == 0 and out.count("valid") == 2 and out.count("expired") == 1 and OLD not in out and NEW not in out,
           "%s secret list: two valid, one expired, no values" % L)
    ids = {}
    for line in out.splitlines()[1:]:
        f = line.split()
        ids[f[-1] + ("-never" if "never" in line else "")] = f[0]
    t = kt.LighttpdTransport(env, tmp, max_procs=1)
    t.start()
    try:
        n = [0]

        def send(secret):
            n[0] += 1
            body = ('{"eventId":"rot-%d","event":"stock.updated"}' % n[0]).encode()
            r = t.send("POST", "/api/suppliers/rot/webhook",
                       {"Content-Type": "application/json", "X-Signature": kt.sign_hex(secret, body)}, body)
            row = store.query("SELECT secret_id FROM events WHERE idempotency_key = ?", ("rot-%d" % n[0],))
            return r.status, (str(row[0][0]) if row else None)

        st, used_old = send(OLD)
        tap.eq(st, 200, "%s the old secret is accepted" % L)
        st, used_new = send(NEW)
        tap.eq(st, 200, "%s the new secret is accepted" % L)
        tap.ok(used_old and used_new and used_old != used_new, "%s each event records the secret that verified it "
               "(%s, %s)" % (L, used_old, used_new))
        tap.eq(used_old, ids.get("valid-never"), "%s ... by id: the old secret's id" % L)
        st, _ = send(GONE)
        tap.eq(st, 401, "%s an expired secret is refused" % L)
        rc, out, err = env.kancactl("source", "secret", "expire", "supplier", "rot", used_old, "--expires-at",
                                    str(env.now - 1))
        tap.eq(rc, 0, "%s end the rotation: expire the old secret" % L)
        st, _ = send(OLD)
        tap.eq(st, 401, "%s after its expiry the old secret is refused" % L)
        st, _ = send(NEW)
        tap.eq(st, 200, "%s the new secret still works" % L)
        rc, out, err = env.kancactl("source", "secret", "remove", "supplier", "rot", used_new)
        tap.eq(rc, 0, "%s remove the new secret" % L)
        st, _ = send(NEW)
        tap.eq(st, 403, "%s with no valid secret left the source is refused (fail closed)" % L)
        log = open(t.errorlog, "rb").read()
        tap.ok(not any(s.encode() in log for s in (OLD, NEW, GONE)), "%s no secret in the error log" % L)
    finally:
        t.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
