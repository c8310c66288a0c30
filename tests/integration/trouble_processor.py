#!/usr/bin/env python3
"""trouble_processor.py: a store in trouble while a processor holds a claim does not make it do an action
twice. A forward action whose destination takes 3 s (a sink on 127.0.0.1); while it runs, the store goes
away (SQLite: another process holds the write lock for longer than a statement's own 10 s wait;
PostgreSQL: the cluster stops for 6 s). The processor keeps trying the claim's writes while its lease
(40 s) lasts, so the event is processed right after the store is back, in one attempt, and the
destination got it once; the trouble is logged once, not once per try."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
import trouble as tr  # noqa: E402
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "lighttpd")
kt.require_pg(tap)
LEASE = 40


def run(kind):
    L = "[%s]" % kind
    tmp = kt.make_tempdir("kanca-trouble-proc-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real", processing="fork", processing_lease=str(LEASE))
    env.migrate()
    env.add_source("supplier", "tq", tr.SECRET)
    sink = Sink().start()
    rc, out, err = env.kancactl("source", "action", "add", "supplier", "tq", "forward", sink.url("/hang-first/3"),
                                "--generate-secret")
    tap.eq(rc, 0, "%s a forward action to a destination that takes 3 s" % L)
    t = kt.LighttpdTransport(env, tmp, max_procs=1)
    t.start()
    try:
        t0 = time.monotonic()
        tap.eq(tr.deliver(t, "tq", "held")[0], 200, "%s the delivery -> 200 (stored)" % L)
        tap.ok(kt.wait_for(lambda: len(sink.requests()) == 1, 10, 0.05), "%s the destination is being called" % L)
        if kind == "sqlite":
            lock = tr.SqliteWriteLock(store.path, limit=60).hold()
            threading.Timer(13.0, lock.release).start()
            back = t0 + 14
        else:
            store.stop_server()
            time.sleep(6)
            store.start_server()
            back = time.monotonic()
        ok = kt.wait_for(lambda: store.query("SELECT status FROM events WHERE idempotency_key = 'held'") ==
                         [("processed",)], 30, 0.2)
        took = time.monotonic() - max(back, t0)
        tap.ok(ok, "%s the event is processed after the store is back" % L)
        tap.ok(ok and time.monotonic() < t0 + LEASE - 5,
               "%s ... soon after (%.1f s after the store was back), not a lease (%d s) later" % (L, took, LEASE))
        attempts = store.query("SELECT a.outcome FROM attempts a JOIN events e ON e.id = a.event_id "
                               "WHERE e.idempotency_key = 'held'")
        tap.eq(attempts, [("ok",)], "%s ... in one attempt, ok" % L)
        time.sleep(1)
        tap.eq(len(sink.requests()), 1, "%s the destination got the event once" % L)
        audit = store.query("SELECT count(*) FROM audit_log a JOIN events e ON e.id = a.event_id "
                            "WHERE e.idempotency_key = 'held' AND a.action = 'processed'")
        tap.eq(int(audit[0][0]), 1, "%s one 'processed' audit row" % L)
        log = t.log_tail(100000)
        n = log.count("trying again while the claim lasts")
        tap.ok(1 <= n <= 2, "%s the processor said once that it holds on (%d lines)" % (L, n))
        tap.ok(tr.SECRET not in log, "%s no secret in the log" % L)
    finally:
        t.stop()
        sink.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
