#!/usr/bin/env python3
"""processing.py: after the answer, `kancactl worker` forwards each stored event to a local HTTP sink:
delivered once on success, signed as a Standard Webhooks delivery with the destination's secret and
the same webhook-id on every retry; failures retried with growing delays (the attempts table shows
them); Retry-After respected; 410 disables the destination; dead after the last attempt; replay brings
a dead event back to processed; purge removes processed events only. On SQLite and PostgreSQL."""
import base64
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
SECRET = "processing-source-secret"


def sw_valid(secret, headers, body):
    key = base64.b64decode(secret[len("whsec_"):])
    msg = ("%s.%s." % (headers.get("webhook-id"), headers.get("webhook-timestamp"))).encode() + body
    want = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    return ("v1," + want) in (headers.get("webhook-signature") or "").split(" ")


def run(kind):
    tmp = kt.make_tempdir("kanca-processing-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp)
    env.migrate()
    real = {k: v for k, v in env.environ().items() if k != "KANCA_TEST_NOW"}  # retries need a moving clock
    sink = Sink()
    sink.start()
    L = "[processing/%s]" % kind
    cgi = kt.CgiTransport(env)

    def ctl(*args, timeout=60):
        p = subprocess.run([kt.binary("kancactl"), "-c", env.config] + list(args), capture_output=True, env=real,
                           timeout=timeout)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def source(account, path, **retry):
        opts = {"retry_%s" % k: v for k, v in retry.items()}
        env.add_source("supplier", account, SECRET, opts)
        rc, out, err = ctl("source", "action", "add", "supplier", account, "forward", sink.url(path), "--generate-secret")
        m = re.search(r"^signing secret: (whsec_\S+)$", out, re.M)
        return m.group(1) if m else None

    def deliver(account, n):
        body = ('{"eventId":"%s-%d","event":"stock.updated","data":{"n":%d}}' % (account, n, n)).encode()
        r = cgi.send("POST", "/api/suppliers/%s/webhook" % account,
                     {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
        row = store.query("SELECT id FROM events WHERE idempotency_key = ?", ("%s-%d" % (account, n),))
        return r.status, (row[0][0] if row else None), body

    def status(eid):
        return store.query("SELECT status FROM events WHERE id = ?", (eid,))[0][0]

    def attempts(eid):
        return store.query("SELECT outcome, http_status, started_at FROM attempts WHERE event_id = ? ORDER BY id", (eid,))

    def worker_until(pred, seconds):
        """Runs `kancactl worker` until pred() holds or the time is up; then stops it with SIGTERM."""
        p = subprocess.Popen([kt.binary("kancactl"), "-c", env.config, "worker"], env=real,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok = kt.wait_for(pred, seconds)
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
        return ok, p.returncode

    try:
        # 1. success: delivered once, signed, processed
        sec = source("ok", "/ok")
        tap.ok(sec and sec.startswith("whsec_"), "%s a forward action with a generated signing secret" % L)
        st, eid, body = deliver("ok", 1)
        tap.eq(st, 200, "%s the delivery is answered first" % L)
        tap.eq(status(eid), "received", "%s and waits as received" % L)
        rc, out, err = ctl("worker", "--drain")
        tap.eq(rc, 0, "%s kancactl worker --drain exits 0 (%s)" % (L, out.strip()))
        got = [r for r in sink.requests() if r.path == "/ok"]
        tap.eq(len(got), 1, "%s the sink got the event once" % L)
        if got:
            h = got[0].headers
            tap.eq(got[0].body, body, "%s with the original body byte for byte" % L)
            tap.eq(h.get("webhook-id"), kt.public_id(store, eid), "%s webhook-id is the event id" % L)
            tap.ok(sw_valid(sec, h, got[0].body), "%s it verifies as a Standard Webhooks delivery" % L)
        tap.eq(status(eid), "processed", "%s the event is processed" % L)
        tap.eq([a[0] for a in attempts(eid)], ["ok"], "%s one attempt, ok" % L)
        rc, out, err = ctl("worker", "--drain")
        tap.eq(len([r for r in sink.requests() if r.path == "/ok"]), 1, "%s a second worker run sends nothing" % L)

        # 2. failures retried with growing delays, same webhook-id
        sec2 = source("flaky", "/fail/2", initial=1, max=2, attempts=4)
        st, eid, body = deliver("flaky", 1)
        ok, wrc = worker_until(lambda: status(eid) == "processed", 30)
        tap.ok(ok, "%s two failures, then processed (%s)" % (L, status(eid)))
        at = attempts(eid)
        tap.eq([(a[0], str(a[1])) for a in at], [("retry", "500"), ("retry", "500"), ("ok", "200")],
               "%s the attempts table shows the retries" % L)
        if len(at) == 3:
            g1, g2 = int(at[1][2]) - int(at[0][2]), int(at[2][2]) - int(at[1][2])
            tap.ok(g1 >= 1 and g2 >= 1 and g2 + 1 >= g1, "%s with growing delays (%d s, %d s)" % (L, g1, g2))
        ids = {r.headers.get("webhook-id") for r in sink.requests() if r.path == "/fail/2"}
        tap.eq(ids, {kt.public_id(store, eid)}, "%s the same webhook-id on every retry" % L)
        tap.ok(all(sw_valid(sec2, r.headers, r.body) for r in sink.requests() if r.path == "/fail/2"),
               "%s every retry is signed" % L)

        # 3. Retry-After respected
        source("later", "/retry-after/3", initial=1, max=1, attempts=3)
        st, eid, body = deliver("later", 1)
        ok, _ = worker_until(lambda: status(eid) == "processed", 30)
        at = attempts(eid)
        tap.ok(ok and len(at) == 2 and int(at[1][2]) - int(at[0][2]) >= 3,
               "%s a 429 with Retry-After: 3 waits at least 3 s, not the 1 s back-off (%s)" % (L, at))

        # 4. 410 disables the destination
        source("gone", "/gone")
        st, eid, body = deliver("gone", 1)
        ctl("worker", "--drain")
        rc, out, err = ctl("source", "action", "list", "supplier", "gone")
        tap.ok("disabled" in out, "%s 410 disables the destination" % L)
        tap.eq(store.count("audit_log", "action = 'action_disabled' AND event_id = ?", (eid,)), 1,
               "%s and says so in the audit log" % L)
        st, eid2, body = deliver("gone", 2)
        ctl("worker", "--drain")
        tap.eq(len([r for r in sink.requests() if r.path == "/gone"]), 1, "%s a disabled destination gets nothing more" % L)

        # 5. dead after the last attempt; replay brings it back
        source("dies", "/fail/2", initial=1, max=1, attempts=2)
        st, eid, body = deliver("dies", 1)
        ok, _ = worker_until(lambda: status(eid) == "dead", 30)
        tap.ok(ok, "%s dead after the last attempt (%s)" % (L, status(eid)))
        rc, out, err = ctl("events", "--status", "dead")
        tap.ok(rc == 0 and "dies-1" in out, "%s kancactl events --status dead lists it" % L)
        rc, out, err = ctl("event", "show", str(eid))
        tap.ok(out.count("attempt: ") == 2, "%s kancactl event show lists its attempts" % L)
        rc, out, err = ctl("replay", "--status", "dead", "--source", "supplier/dies")
        tap.ok(rc == 0 and out.startswith("1 event"), "%s replay --status dead puts it back (%s)" % (L, out.strip()))
        rc, out, err = ctl("worker", "--drain")
        tap.eq(status(eid), "processed", "%s and the next worker run processes it" % L)

        # 6. purge: processed events only
        time.sleep(1.1)
        before_dead = store.count("events", "status <> 'processed'")
        rc, out, err = ctl("purge", "--older-than", "1s")
        tap.eq(rc, 0, "%s purge --older-than 1s (%s)" % (L, out.strip()))
        tap.eq(store.count("events", "status = 'processed'"), 0, "%s removes processed events" % L)
        tap.eq(store.count("events", "status <> 'processed'"), before_dead, "%s and keeps the others" % L)
        tap.eq(store.count("attempts", "event_id NOT IN (SELECT id FROM events)"), 0, "%s with their attempts" % L)
        rc, out, err = ctl("purge")
        tap.eq(rc, 2, "%s purge without --older-than is a usage error" % L)
    finally:
        sink.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
