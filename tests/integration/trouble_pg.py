#!/usr/bin/env python3
"""trouble_pg.py: PostgreSQL stopped for 20 s under load loses nothing that was answered 2xx.

kanca under a real lighttpd (FastCGI, two responders, processing = fork, answer_deadline = 2 s), a
throwaway PostgreSQL cluster, a forward action to a sink on 127.0.0.1. 8 connections send deliveries
while the cluster is stopped for 20 s and then started: every delivery answered 2xx is in the store
exactly once after the drain and forwarded once, none answered 2xx is missing, and every answer came
within the deadline plus a margin. Then the spool is made unwritable (a read-only mount) and the
cluster stopped again: no delivery is answered 2xx while both the store and the spool are unavailable
(503 with Retry-After), and none of those is stored later."""
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
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
tr.require_mount(tap)
DEADLINE = 2.0
MARGIN = 1.0
OUTAGE = 20.0

tmp = kt.make_tempdir("kanca-trouble-pg-")
store = kt.make_store("pg", tmp)
spool_mnt = tr.Tmpfs(os.path.join(tmp, "spoolfs"), "64m").mount()
spool = os.path.join(spool_mnt.path, "spool")
env = kt.Kanca(store, tmp, now="real", processing="fork", answer_deadline=str(DEADLINE), processing_lease="30",
               spool_dir=spool)
env.migrate()
env.add_source("supplier", "tp", tr.SECRET)
sink = Sink().start()
rc, out, err = env.kancactl("source", "action", "add", "supplier", "tp", "forward", sink.url("/ok"),
                            "--generate-secret")
tap.eq(rc, 0, "a forward action to the sink on 127.0.0.1")
t = kt.LighttpdTransport(env, tmp, max_procs=2)
t.start()

try:
    warm = [tr.deliver(t, "tp", "warm-%d" % i)[0] for i in range(8)]
    tap.eq(warm, [200] * 8, "deliveries before the outage -> 200 (both responders know the source)")

    load = tr.Load(t, "tp", "outage", conns=8, seconds=OUTAGE + 10, per_conn=250, pause=0.1).start()
    time.sleep(2)
    store.stop_server()
    stopped_at = time.monotonic()
    time.sleep(OUTAGE / 2)
    h = t.send("GET", "/healthz")
    tap.eq((h.status, h.headers.get("retry-after")), (503, "30"), "GET /healthz during the outage -> 503, Retry-After")
    reason = (h.json() or {}).get("reason", "")
    tap.ok("down" in reason or "timed out" in reason, "... the reason names the cause: %s" % reason)
    tap.ok(((h.json() or {}).get("spool") or {}).get("records", 0) > 0,
           "... and the spool holds deliveries (%s)" % (h.json() or {}).get("spool"))
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - stopped_at)))
    store.start_server()
    started_at = time.monotonic()
    time.sleep(5)
    results = load.stop()
    st = tr.statuses(results)
    tap.ok(len(results) >= 200, "%d deliveries sent from 8 connections around a %.0f s outage" % (len(results), OUTAGE))
    tap.eq(st, {200: len(results)}, "every delivery answered 200 (stored, or spooled while the cluster was down)")
    worst = tr.slowest(results)
    tap.ok(worst <= DEADLINE + MARGIN, "the slowest answer took %.2f s (deadline %.1f s + %.1f s)" %
           (worst, DEADLINE, MARGIN))
    keys = tr.keys_answered_2xx(results)
    took = tr.wait_stored(store, keys, 90)
    tap.ok(took is not None, "after the start every delivery answered 2xx is in the store (%s s after the start)"
           % ("%.1f" % (time.monotonic() - started_at) if took is not None else "not within 90"))
    counts = tr.stored_counts(store, keys)
    tap.eq([k for k, n in counts.items() if n == 0], [], "none answered 2xx is missing")
    tap.eq([k for k, n in counts.items() if n > 1], [], "none is stored twice")
    tap.ok(kt.wait_for(lambda: tr.spool_records(spool) == [], 30, 0.2), "the spool is empty again")
    tap.ok(tr.wait_processed(store, keys, 90), "every one is processed")
    ids = {row[0] for row in store.query("SELECT public_id FROM events WHERE idempotency_key LIKE 'outage-%'")}
    got = tr.sink_ids(sink, "/ok")
    tap.eq(sorted(i for i in ids if got.get(i) != 1), [], "... and forwarded exactly once each (%d events)" % len(ids))

    # both unavailable: no 2xx
    spool_mnt.readonly()
    store.stop_server()
    try:
        got = [tr.deliver(t, "tp", "both-down-%d" % i) for i in range(10)]
        tap.eq([g[0] for g in got], [503] * 10, "store down and spool read-only: every delivery -> 503")
        tap.eq({g[2].headers.get("retry-after") for g in got if g[2] is not None and hasattr(g[2], "headers")},
               {"30"}, "... each with Retry-After: 30")
        worst = max(g[1] for g in got)
        tap.ok(worst <= DEADLINE + MARGIN, "... within the deadline (%.2f s)" % worst)
    finally:
        store.start_server()
        spool_mnt.readonly(False)
    time.sleep(3)
    tap.eq(store.count("events", "idempotency_key LIKE 'both-down-%'"), 0, "none of the 503s was stored later")
    log = t.log_tail(100000)
    tap.ok("cannot keep deliveries" in log and "read-only file system" in log.lower(),
           "the log names why the spool failed (read-only file system)")
    tap.ok(log.count("cannot keep deliveries") <= 4, "... once per responder, not once per delivery (%d lines)"
           % log.count("cannot keep deliveries"))
    tap.ok(tr.SECRET not in log, "no secret in the log")
finally:
    t.stop()
    sink.stop()
    spool_mnt.umount()
    store.close()
tap.done()
