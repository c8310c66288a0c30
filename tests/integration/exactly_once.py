#!/usr/bin/env python3
"""exactly_once.py: exactly once, in effect, for every reader (issue 11), on both stores.

- ids are never reused: purge the only event, send a new one: the sink gets a new webhook-id (the event's
  public id, "evt_" + 32 hex digits), never the old one; a removed action's id is not given to the next;
- an action's history belongs to it: remove an action that delivered an event, add a new one, replay the
  event: the new destination gets it; `replay ID --force` runs every action again and says so in the
  attempts; `source action disable|enable` turns an action off and on;
- processing cannot be stopped by one event: `kancactl worker` survives an exec that does not read its
  200 KB input, a script that closes its stdout, a script that leaves a daemon holding its pipes, and a
  destination that resets the connection; each is an attempt with an outcome;
- same key, different body: the first answer again, and a `conflict` audit row with the new body's SHA-256;
- a 10 s unauthenticated flood leaves a bounded number of audit rows (counted per source, reason, minute);
- the CLI tells the truth: replay --status and events --status refuse unknown values (exit 2, naming the
  allowed ones), worker --drain says how many were processed, retried, dead; audit rows name their source."""
import hashlib
import os
import re
import socket
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
SECRET = "exactly-once-secret-0123456789ab"
PUBLIC_ID = re.compile(r"^evt_[0-9a-f]{32}$")


def resetting_server():
    """A destination on 127.0.0.1 that accepts and resets every connection (SO_LINGER 0). -> (port, stop)."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    done = threading.Event()

    def run():
        while not done.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            try:
                c.recv(100)
            except OSError:
                pass
            c.close()
        srv.close()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1], done.set


def run(kind):
    L = "[%s]" % kind
    tmp = kt.make_tempdir("kanca-exactly-once-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real", max_body_bytes="1M")
    env.migrate()
    cgi = kt.CgiTransport(env)
    sink = Sink().start()
    ctl = env.kancactl

    def deliver(account, key, body=None):
        body = body or ('{"eventId":"%s","event":"stock.updated","data":{"k":"%s"}}' % (key, key)).encode()
        return cgi.send("POST", "/api/suppliers/%s/webhook" % account,
                        {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)

    def eid(account, key):
        rows = store.query("SELECT e.id FROM events e JOIN sources s ON s.id = e.source_id WHERE s.account = ? "
                           "AND e.idempotency_key = ?", (account, key))
        return int(rows[0][0]) if rows else None

    def add_forward(account, path):
        rc, out, err = ctl("source", "action", "add", "supplier", account, "forward", sink.url(path),
                           "--generate-secret")
        m = re.search(r"added action (\d+)", out)
        return int(m.group(1)) if m else None

    def at_sink(path):
        return [r.header("webhook-id") for r in sink.requests() if r.path == path]

    try:
        # ---- ids are never reused: purge, then a new event
        env.add_source("supplier", "ids", SECRET)
        add_forward("ids", "/ok/ids")
        tap.eq(deliver("ids", "first").status, 200, "%s first event -> 200" % L)
        tap.eq(ctl("worker", "--drain")[0], 0, "%s worker --drain" % L)
        time.sleep(2.1)
        rc, out, err = ctl("purge", "--older-than", "1s")
        tap.eq((rc, store.count("events")), (0, 0), "%s purge --older-than 1s removes the processed event" % L)
        tap.eq(deliver("ids", "second").status, 200, "%s second event -> 200" % L)
        ctl("worker", "--drain")
        got = at_sink("/ok/ids")
        tap.eq(len(got), 2, "%s the sink got two deliveries" % L)
        tap.ok(len(set(got)) == 2 and all(PUBLIC_ID.match(g or "") for g in got),
               "%s ... with two different webhook-ids, each evt_ + 32 hex digits: %s" % (L, got))
        second = eid("ids", "second")
        tap.eq(got[-1], kt.public_id(store, second), "%s ... the webhook-id is the event's public id" % L)
        rc, out, err = ctl("event", "show", got[-1])
        tap.ok(rc == 0 and "idempotency_key: second" in out, "%s kancactl event show takes the public id" % L)
        rc, out, err = ctl("events")
        tap.ok(got[-1] in out, "%s kancactl events shows the public id" % L)

        # ---- an action's history belongs to it
        env.add_source("supplier", "act", SECRET)
        a1 = add_forward("act", "/ok/old")
        tap.eq(deliver("act", "h-1").status, 200, "%s an event for the history checks" % L)
        ctl("worker", "--drain")
        tap.eq(len(at_sink("/ok/old")), 1, "%s the first action delivered it" % L)
        rc, out, err = ctl("source", "action", "remove", "supplier", "act", str(a1))
        tap.eq(rc, 0, "%s remove the (highest-numbered) action" % L)
        a2 = add_forward("act", "/ok/new")
        tap.ok(a2 is not None and a2 != a1, "%s the new action gets a new id (%s, not %s)" % (L, a2, a1))
        rc, out, err = ctl("replay", str(eid("act", "h-1")))
        tap.eq(rc, 0, "%s replay the event" % L)
        ctl("worker", "--drain")
        tap.eq(len(at_sink("/ok/new")), 1, "%s the new destination receives the replayed event" % L)
        rc, out, err = ctl("replay", str(eid("act", "h-1")))
        ctl("worker", "--drain")
        tap.eq(len(at_sink("/ok/new")), 1, "%s a plain replay does not repeat what succeeded" % L)
        rc, out, err = ctl("replay", str(eid("act", "h-1")), "--force")
        tap.ok(rc == 0 and "--force" in out, "%s replay ID --force: %s" % (L, out.strip()))
        ctl("worker", "--drain")
        tap.eq(len(at_sink("/ok/new")), 2, "%s ... runs the action again" % L)
        rc, out, err = ctl("event", "show", str(eid("act", "h-1")))
        tap.ok("outcome=forced" in out, "%s ... and the attempts say so" % L)
        rc, out, err = ctl("source", "action", "disable", "supplier", "act", str(a2))
        tap.eq(rc, 0, "%s source action disable" % L)
        tap.eq(deliver("act", "h-2").status, 200, "%s an event while the action is off" % L)
        ctl("worker", "--drain")
        tap.eq(len(at_sink("/ok/new")), 2, "%s ... a disabled action gets nothing" % L)
        rc, out, err = ctl("source", "action", "enable", "supplier", "act", str(a2))
        tap.eq(rc, 0, "%s source action enable" % L)
        ctl("replay", str(eid("act", "h-2")))
        ctl("worker", "--drain")
        tap.eq(len(at_sink("/ok/new")), 3, "%s ... enabled again, a replay reaches it" % L)
        rc, out, err = ctl("source", "action", "enable", "supplier", "act", "999999")
        tap.ok(rc != 0 and "no action" in (out + err), "%s enable of an unknown action fails" % L)

        # ---- processing cannot be stopped by one event
        env.add_source("supplier", "sig", SECRET)
        scripts = {
            "no-read": "#!/bin/sh\nexit 0\n",
            "close-stdout": "#!/bin/sh\nexec 1>&- 0<&-\nexit 0\n",
            "daemon": "#!/bin/sh\n( setsid sleep 30 & ) \nexit 0\n",
        }
        for name, text in scripts.items():
            path = os.path.join(tmp, name + ".sh")
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
            ctl("source", "action", "add", "supplier", "sig", "exec", path, "--timeout", "5")
        port, stop_reset = resetting_server()
        ctl("source", "action", "add", "supplier", "sig", "forward", "http://127.0.0.1:%d/reset" % port,
            "--generate-secret", "--timeout", "5")
        big = ('{"eventId":"big-1","event":"stock.updated","data":{"pad":"%s"}}' % ("x" * 200000)).encode()
        tap.eq(deliver("sig", "big-1", big).status, 200, "%s a 200 KB event for the exec actions" % L)
        t0 = time.monotonic()
        rc, out, err = ctl("worker", "--drain", timeout=60)
        stop_reset()
        tap.eq(rc, 0, "%s kancactl worker survives them all (exit %d; SIGPIPE would be 141)" % (L, rc))
        tap.ok(time.monotonic() - t0 < 30, "%s ... without waiting out the daemon that holds the pipes" % L)
        status = store.query("SELECT status FROM events WHERE id = ?", (eid("sig", "big-1"),))[0][0]
        tap.eq(status, "retry", "%s the event is set to retry (the resetting destination failed)" % L)
        outcomes = store.query("SELECT action, outcome FROM attempts WHERE event_id = ? ORDER BY id",
                               (eid("sig", "big-1"),))
        tap.eq([o for _, o in outcomes], ["ok", "ok", "ok", "retry"],
               "%s one attempt each: the three scripts ok, the reset connection retry" % L)
        err_text = store.query("SELECT error FROM attempts WHERE event_id = ? AND outcome = 'retry'",
                               (eid("sig", "big-1"),))
        tap.ok(err_text and err_text[0][0], "%s ... with a reason: %s" % (L, err_text[0][0] if err_text else None))
        tap.ok(re.search(r"^1 event: 0 processed, 1 to retry, 0 dead", out, re.M) is not None,
               "%s worker --drain reports processed / retry / dead: %s" % (L, out.strip()))

        # ---- same key, different body
        env.add_source("supplier", "dup", SECRET)
        r1 = deliver("dup", "same")
        other = b'{"eventId":"same","event":"stock.updated","data":{"k":"DIFFERENT"}}'
        snap = store.query("SELECT coalesce(max(id), 0) FROM audit_log")[0][0]
        r2 = deliver("dup", "same", other)
        tap.eq((r2.status, r2.body), (r1.status, r1.body), "%s same key, different body: the first answer again" % L)
        tap.eq(store.count("events", "idempotency_key = 'same'"), 1, "%s ... nothing new stored" % L)
        rows = store.query("SELECT action, reason FROM audit_log WHERE id > ? AND action = 'conflict'", (snap,))
        want = hashlib.sha256(other).hexdigest()
        tap.ok(len(rows) == 1 and want in (rows[0][1] or ""),
               "%s ... and one conflict audit row with the new body's SHA-256: %s" % (L, rows))
        r3 = deliver("dup", "same")
        tap.eq(store.count("audit_log", "action = 'conflict' AND id > ?", (snap,)), 1,
               "%s a plain duplicate (same body) is no conflict" % L)

        # ---- an authentic delivery without the id header kanca dedups on: kept, keyed by its body
        env.add_source("github", "org", SECRET)
        env.add_source("sosyalkopru", "acc", SECRET)
        for prov, acc, sig_header, extra in (("github", "org", "X-Hub-Signature-256", {"X-GitHub-Event": "push"}),
                                             ("sosyalkopru", "acc", "X-SosyalKopru-Signature", {})):
            body = ('{"event":"post.published","ref":"%s-no-id"}' % prov).encode()
            h = dict(extra, **{"Content-Type": "application/json", sig_header: "sha256=" + kt.sign_hex(SECRET, body)})
            r = cgi.send("POST", "/webhook/%s/%s" % (prov, acc), h, body)
            r2 = cgi.send("POST", "/webhook/%s/%s" % (prov, acc), h, body)
            key = hashlib.sha256(body).hexdigest()
            tap.eq((r.status, r2.status), (200, 200), "%s %s without its delivery id header -> 200 (twice)" % (L, prov))
            tap.eq(store.count("events", "idempotency_key = ?", (key,)), 1,
                   "%s ... stored once, keyed by the body's SHA-256" % L)
            tap.ok(b"idempotency key is the body's SHA-256" in (r.stderr or b""),
                   "%s ... and the log says so" % L)

        # ---- an unauthenticated flood: bounded audit rows
        before_rows = store.count("audit_log")
        lt = kt.LighttpdTransport(env, tmp, max_procs=2)
        lt.start()
        sent = [0]

        def flood():
            end = time.monotonic() + 10
            n = 0
            while time.monotonic() < end and n < 20000:
                body = b'{"eventId":"f","event":"stock.updated","data":{}}'
                lt.send("POST", "/api/suppliers/dup/webhook", {"Content-Type": "application/json",
                                                               "X-Signature": "0" * 64}, body)
                n += 1
            sent[0] += n
        ths = [threading.Thread(target=flood) for _ in range(4)]
        for th in ths:
            th.start()
        for th in ths:
            th.join(60)
        lt.stop()
        added = store.count("audit_log") - before_rows
        counted = int(store.query("SELECT coalesce(sum(count), 0) FROM audit_log WHERE action = 'rejected' AND "
                                  "account = 'dup'")[0][0])
        tap.ok(sent[0] > 200, "%s a 10 s flood of %d forged deliveries from 4 connections" % (L, sent[0]))
        tap.ok(added <= 4, "%s ... leaves %d audit rows (one per source, reason and minute), not one per request"
               % (L, added))
        tap.ok(counted >= sent[0] * 0.9, "%s ... whose counts add up to the requests (%d of %d)" % (L, counted, sent[0]))

        # ---- the CLI tells the truth
        for args, word in ((("replay", "--status", "processing"), "dead or processed"),
                           (("replay", "--status", "bogus"), "dead or processed"),
                           (("events", "--status", "bogus"), "known: received")):
            rc, out, err = ctl(*args)
            tap.ok(rc == 2 and word in err, "%s kancactl %s -> exit 2 naming the allowed: %s" % (L, " ".join(args),
                                                                                               err.strip()[:120]))
        rc, out, err = ctl("replay", "--status", "processed", "--source", "supplier/act")
        tap.eq(rc, 0, "%s replay --status processed is accepted (documented)" % L)
        rc, out, err = ctl("audit", "--limit", "200")
        proc = [line for line in out.splitlines() if " processed " in line]
        tap.ok(proc and all("-/-" not in line for line in proc),
               "%s kancactl audit names the source of processing rows: %s" % (L, proc[:1]))
    finally:
        sink.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
