#!/usr/bin/env python3
"""race.py: dedup under a race. 1,000 unique offer.created deliveries, each sent twice, from 8
concurrent keep-alive connections through a real lighttpd + kanca: 2,000 answers 200, exactly 1,000
events and 1,000 offers, and both deliveries of a key get the same answer. On SQLite and PostgreSQL."""
import http.client
import json
import os
import queue
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

UNIQUE = 1000
CONNECTIONS = 8
DEADLINE = 240  # seconds for the whole load of one store; the loop stops at the deadline

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
SECRET = "9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c"


def body_for(i, run):
    return json.dumps({
        "eventId": "race-%s-%04d" % (run, i), "event": "offer.created", "timestamp": "2026-01-01T00:00:00Z",
        "data": {"vendorOfferId": "RACE-%04d" % i, "title": "Tur %d" % i, "price": 100 + i, "currency": "TRY",
                 "category": "tours"}}, separators=(",", ":")).encode()


def worker(port, jobs, results, stop_at):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.time() < stop_at:
        try:
            i, body, sig = jobs.get_nowait()
        except queue.Empty:
            break
        try:
            conn.request("POST", "/api/suppliers/race/webhook", body=body,
                         headers={"Content-Type": "application/json", "X-Signature": sig})
            r = conn.getresponse()
            results.append((i, r.status, r.read()))
        except (OSError, http.client.HTTPException) as e:
            results.append((i, 0, str(e).encode()))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def race(kind, cluster=None):
    tmp = kt.make_tempdir("kanca-race-%s-" % kind)
    store = kt.make_store(kind, tmp, cluster)
    env = kt.Kanca(store, tmp)
    env.migrate()
    env.add_source("supplier", "race", SECRET)
    t = kt.LighttpdTransport(env, tmp, max_procs=2)
    t.start()
    label = "[race/%s]" % kind
    try:
        jobs = queue.Queue()
        # each delivery twice, the copies close together so they race each other
        for i in range(UNIQUE):
            body = body_for(i, kind)
            sig = kt.sign_hex(SECRET, body)
            jobs.put((i, body, sig))
            jobs.put((i, body, sig))
        results = []
        stop_at = time.time() + DEADLINE
        threads = [threading.Thread(target=worker, args=(t.port, jobs, results, stop_at)) for _ in range(CONNECTIONS)]
        started = time.time()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        took = time.time() - started
        tap.diag("%s %d answers in %.1f s" % (label, len(results), took))
        tap.eq(len(results), 2 * UNIQUE, "%s every delivery got an answer" % label)
        statuses = {}
        for _, st, _ in results:
            statuses[st] = statuses.get(st, 0) + 1
        tap.eq(statuses, {200: 2 * UNIQUE}, "%s all %d answers are 200" % (label, 2 * UNIQUE))
        sid = env.source_id("supplier", "race")
        tap.eq(store.count("events", "source_id = ?", (sid,)), UNIQUE, "%s exactly %d events" % (label, UNIQUE))
        tap.eq(store.count("offers", "source_id = ?", (sid,)), UNIQUE, "%s exactly %d offers" % (label, UNIQUE))
        tap.eq(store.count("audit_log", "action = 'received' AND source_id = ?", (sid,)), UNIQUE,
               "%s one 'received' audit row per event" % label)
        by_key = {}
        for i, st, body in results:
            by_key.setdefault(i, []).append(body)
        same = sum(1 for bodies in by_key.values() if len(bodies) == 2 and bodies[0] == bodies[1])
        tap.eq(same, UNIQUE, "%s both deliveries of each key got the same answer" % label)
        inserted = sum(1 for bodies in by_key.values()
                       if bodies and json.loads(bodies[0]).get("result") == {"inserted": 1})
        tap.eq(inserted, UNIQUE, "%s every answer reports the one insert of its offer" % label)
        log = open(t.errorlog, "rb").read()
        tap.ok(SECRET.encode() not in log, "%s the secret never appears in the error log" % label)
        sigs_logged = sum(1 for i in range(0, UNIQUE, 50) if kt.sign_hex(SECRET, body_for(i, kind)).encode() in log)
        tap.eq(sigs_logged, 0, "%s no signature value appears in the error log" % label)
    finally:
        t.stop()
        store.close()


race("sqlite")
race("pg")
tap.done()
