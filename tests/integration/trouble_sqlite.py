#!/usr/bin/env python3
"""trouble_sqlite.py: a held SQLite lock never makes a delivery late, and loses nothing.

kanca under a real lighttpd (FastCGI, two responders, processing = fork, answer_deadline = 2 s), a
SQLite store, a forward action to a sink on 127.0.0.1. Another process holds the database's write lock
for 20 s, first as BEGIN IMMEDIATE through the sqlite3 library, then as kanca's own writer queue
(<db>.lock). During each hold, 8 connections send deliveries: every one is answered 2xx within the
deadline plus a margin (it waits at most the deadline for the lock, then goes to the spool), /healthz
says 503 "locked", a 401 is answered within milliseconds, and after the hold every delivery is in the
store exactly once and processed once (the sink got it once)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
import trouble as tr  # noqa: E402
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "lighttpd")
DEADLINE = 2.0
MARGIN = 1.0  # the web server, the spool's fsync and a busy 2-core machine
HOLD = 20.0

tmp = kt.make_tempdir("kanca-trouble-sqlite-")
store = kt.make_store("sqlite", tmp)
env = kt.Kanca(store, tmp, now="real", processing="fork", answer_deadline=str(DEADLINE), processing_lease="30")
env.migrate()
env.add_source("supplier", "tr", tr.SECRET)
sink = Sink().start()
rc, out, err = env.kancactl("source", "action", "add", "supplier", "tr", "forward", sink.url("/ok"),
                            "--generate-secret")
tap.eq(rc, 0, "a forward action to the sink on 127.0.0.1")
t = kt.LighttpdTransport(env, tmp, max_procs=2)
t.start()
spool = env.settings["spool_dir"]


def phase(name, lock):
    L = "[%s]" % name
    # both responders know the source (and have their store open) before the trouble starts
    warm = [tr.deliver(t, "tr", "%s-warm-%d" % (name, i))[0] for i in range(6)]
    tap.eq(warm, [200] * 6, "%s deliveries before the hold -> 200" % L)
    lock.hold()
    t0 = time.monotonic()
    # a rejection first, alone: its audit row waits for the store, its answer must not
    status, secs, r = tr.deliver(t, "tr", "%s-forged" % name, signed=False)
    tap.eq(status, 401, "%s a forged delivery during the hold -> 401" % L)
    tap.ok(secs < 0.5, "%s ... answered within milliseconds, not after the lock (%.3f s)" % (L, secs))
    h = t.send("GET", "/healthz")
    tap.eq((h.status, h.headers.get("retry-after")), (503, "30"), "%s GET /healthz during the hold -> 503, Retry-After" % L)
    reason = (h.json() or {}).get("reason", "")
    tap.ok("locked" in reason, "%s ... the reason says the store is locked: %s" % (L, reason))
    load = tr.Load(t, "tr", name, conns=8, seconds=HOLD - 4, per_conn=120, pause=0.1).start()
    time.sleep(HOLD / 2)
    h = t.send("GET", "/healthz")
    tap.eq(h.status, 503, "%s GET /healthz in the middle of the hold -> 503" % L)
    results = load.stop()
    during = time.monotonic() - t0
    tap.ok(HOLD / 2 < during < HOLD, "%s the load ran inside the hold (%.1f s of %.0f s)" % (L, during, HOLD))
    records_in_hold = len(tr.spool_records(spool))
    spooled_bodies = (h.json() or {}).get("spool", {}).get("records", -1)
    lock.release()
    tap.ok(len(results) >= 40, "%s %d deliveries sent during the hold from 8 connections" % (L, len(results)))
    tap.eq(tr.statuses(results), {200: len(results)}, "%s every delivery during the hold -> 200" % L)
    worst = tr.slowest(results)
    tap.ok(worst <= DEADLINE + MARGIN, "%s the slowest answer took %.2f s (deadline %.1f s + %.1f s)" %
           (L, worst, DEADLINE, MARGIN))
    tap.ok(records_in_hold > 0 and spooled_bodies > 0,
           "%s deliveries went to the spool during the hold (%d records; /healthz said %d)"
           % (L, records_in_hold, spooled_bodies))
    keys = tr.keys_answered_2xx(results)
    took = tr.wait_stored(store, keys, 60)
    tap.ok(took is not None, "%s after the hold every delivery answered 2xx is in the store (%s s)" %
           (L, "%.1f" % took if took is not None else "not within 60"))
    counts = tr.stored_counts(store, keys)
    tap.eq([k for k, n in counts.items() if n != 1], [], "%s ... each exactly once" % L)
    tap.ok(kt.wait_for(lambda: tr.spool_records(spool) == [], 30, 0.2), "%s the spool is empty again" % L)
    tap.ok(tr.wait_processed(store, keys, 60), "%s every one is processed" % L)
    ids = {row[0] for row in store.query("SELECT public_id FROM events WHERE idempotency_key LIKE ?",
                                         (name + "-%",))}
    got = tr.sink_ids(sink, "/ok")
    tap.eq(sorted(i for i in ids if got.get(i) != 1), [], "%s ... and the sink got each one exactly once" % L)
    attempts = store.query("SELECT e.idempotency_key, count(a.id) FROM events e LEFT JOIN attempts a "
                           "ON a.event_id = e.id WHERE e.idempotency_key LIKE ? GROUP BY e.id", (name + "-%",))
    tap.eq([k for k, n in attempts if int(n) != 1], [], "%s ... in one attempt each" % L)
    h = t.send("GET", "/healthz")
    tap.eq(h.status, 200, "%s GET /healthz after the hold -> 200" % L)


try:
    phase("begin-immediate", tr.SqliteWriteLock(store.path, limit=HOLD + 30))
    phase("writer-queue", tr.FileLock(store.path + ".lock"))
    log = t.log_tail(100000)
    tap.ok(log.count("deliveries go to the spool") <= 8,
           "the store's trouble is logged once per cause per responder, not per delivery (%d lines)"
           % log.count("deliveries go to the spool"))
    tap.ok(tr.SECRET not in log, "no secret in the log")
finally:
    t.stop()
    sink.stop()
    store.close()
tap.done()
