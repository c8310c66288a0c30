#!/usr/bin/env python3
"""crash_server.py: kill -9 of the whole web server under load: lighttpd, its FastCGI responders and
their processors all at once, while 8 clients send unique deliveries. After lighttpd is started again
on the same store (and nothing else: no new request, no kancactl worker), every delivery that was
answered 2xx is stored once and reaches processed, and the sink has seen each of those events'
webhook-ids; a delivery that got no answer may or may not be stored, but is never half-written.
SQLite's file passes integrity_check. On SQLite and PostgreSQL. The load is bounded: 8 clients, at most
400 requests each and 20 s."""
import json
import os
import signal
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
kt.require_tool(tap, "lighttpd")
SECRET = "crash-server-secret"
CLIENTS = 8
PER_CLIENT = 400
LEASE = 3


def run(kind):
    tmp = kt.make_tempdir("kanca-crashsrv-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real", processing="fork", processing_lease=str(LEASE))
    env.migrate()
    env.add_source("supplier", "load", SECRET)
    sink = Sink()
    sink.start()
    env.kancactl("source", "action", "add", "supplier", "load", "forward", sink.url("/ok/load"))
    L = "[%s]" % kind
    t = kt.LighttpdTransport(env, tmp, max_procs=4)
    t.start()
    answered = {}  # key -> status (None: no answer)
    lock = threading.Lock()
    stop = threading.Event()
    deadline = time.time() + 20

    def client(c):
        for n in range(PER_CLIENT):
            if stop.is_set() or time.time() > deadline:
                return
            key = "load-%d-%d" % (c, n)
            body = json.dumps({"eventId": key, "event": "stock.updated", "data": {"n": n}}).encode()
            try:
                r = t.send("POST", "/api/suppliers/load/webhook",
                           {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
                status = r.status
            except Exception:  # noqa: BLE001 -- the server is killed under the client
                status = None
            with lock:
                answered[key] = status

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    try:
        for th in threads:
            th.start()
        # kill once the load is well under way
        kt.wait_for(lambda: sum(1 for s in list(answered.values()) if s == 200) >= 150, 15)
        pgid = t.proc.pid
        os.killpg(pgid, signal.SIGKILL)
        killed = time.time()
        t.proc.wait(timeout=10)
        t.proc = None
        time.sleep(0.5)
        stop.set()
        for th in threads:
            th.join(30)
        left = kt.pids_in_group(pgid)
        tap.eq(left, [], "%s lighttpd, every responder and every processor are gone" % L)
        ok_keys = sorted(k for k, s in answered.items() if s is not None and 200 <= s < 300)
        other = sorted(k for k, s in answered.items() if s is None or not 200 <= s < 300)
        tap.ok(len(ok_keys) >= 150, "%s %d deliveries answered 2xx before the kill, %d without one"
               % (L, len(ok_keys), len(other)))
        tap.diag("%s at the kill: %d events stored, %d of them processed"
                 % (L, store.count("events"), store.count("events", "status = 'processed'")))
        if kind == "sqlite":
            tap.eq([str(r[0]) for r in store.query("PRAGMA integrity_check")], ["ok"],
                   "%s the SQLite file passes integrity_check after kill -9" % L)
        # the same web server and store, started again; nothing else is sent
        t.start()
        since = time.time()

        def unprocessed():
            return store.count("events", "status <> 'processed'")

        done = kt.wait_for(lambda: unprocessed() == 0, 60, interval=0.5)
        tap.ok(done, "%s after the restart every stored event reaches processed (%.1f s; %d left)"
               % (L, time.time() - since, unprocessed()))
        stored = {str(r[0]): r[1] for r in store.query("SELECT idempotency_key, public_id FROM events")}
        missing = [k for k in ok_keys if k not in stored]
        tap.eq(missing, [], "%s every delivery answered 2xx is stored" % L)
        tap.eq(store.count("events"), len(stored), "%s once each" % L)
        tap.ok(set(stored) <= set(answered), "%s and nothing stored that was not sent" % L)
        seen = {r.header("webhook-id") for r in sink.requests("/ok/load")}
        unseen = [k for k in ok_keys if k in stored and stored[k] not in seen]
        tap.eq(unseen, [], "%s the sink saw the webhook-id of every event answered 2xx" % L)
        interrupted = store.count("attempts", "outcome = 'interrupted'")
        tap.diag("%s %d attempts were interrupted by the kill; the restart came %.1f s after it"
                 % (L, interrupted, since - killed))
        tap.eq(store.count("attempts", "ended_at IS NULL"), 0, "%s no attempt is left open" % L)
    finally:
        stop.set()
        for th in threads:
            th.join(30)
        t.stop()
        sink.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
