#!/usr/bin/env python3
"""pg_restart.py: the PostgreSQL store survives a server restart between two requests. The same
long-lived kanca responder (lighttpd, one process) answers a delivery, the cluster restarts, and the
next delivery succeeds on a new connection; while the server is down a delivery is spooled (answered
200 "Event queued" from the responder's source cache) and stored once when the server is back."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
SECRET = "restart-secret-0123456789abcdef"

tmp = kt.make_tempdir("kanca-pg-restart-")
store = kt.make_store("pg", tmp)
env = kt.Kanca(store, tmp)
env.migrate()
env.add_source("supplier", "rs", SECRET)
t = kt.LighttpdTransport(env, tmp, max_procs=1)
t.start()


def deliver(n):
    body = ('{"eventId":"restart-%d","event":"stock.updated","data":{"n":%d}}' % (n, n)).encode()
    return t.send("POST", "/api/suppliers/rs/webhook",
                  {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)


try:
    r = deliver(1)
    pids_before = t.pids()  # after a request: lighttpd has spawned its kanca responder by now
    tap.eq(r.status, 200, "first delivery answered 200")
    tap.eq(store.count("events"), 1, "first delivery stored")

    store.cluster.restart()
    r = deliver(2)
    tap.eq(r.status, 200, "after a PostgreSQL restart the next delivery is answered 200 (reconnected)")
    tap.eq(store.count("events", "idempotency_key = ?", ("restart-2",)), 1, "and it is stored")
    tap.eq(t.pids(), pids_before, "by the same kanca process (it reconnected, it was not restarted)")

    store.stop_server()
    r = deliver(3)
    tap.eq((r.status, r.json().get("message") if r.body else None), (200, "Event queued"),
           "while PostgreSQL is down a delivery is spooled: 200 Event queued")
    store.start_server()
    # processing = off: kancactl worker drains the spool before it claims (a processor does the same)
    tap.eq(env.kancactl("worker", "--drain")[0], 0, "kancactl worker --drain after the restart")
    tap.eq(store.count("events", "idempotency_key = ?", ("restart-3",)), 1,
           "once PostgreSQL is back the spooled delivery is stored")
    r = deliver(3)
    tap.eq(r.status, 200, "the sender's retry after PostgreSQL is back is answered 200")
    tap.eq(store.count("events", "idempotency_key = ?", ("restart-3",)), 1, "and it is stored once")
    tap.eq(store.count("events"), 3, "three events in all: nothing was half-written while the server was down")
    r = t.send("GET", "/healthz")
    tap.eq(r.status, 200, "/healthz is 200 again")
finally:
    t.stop()
    store.close()
tap.done()
