#!/usr/bin/env python3
"""lighttpd_pg.py: the HTTP suite through a real lighttpd on an ephemeral 127.0.0.1 port, kanca under
mod_fastcgi (bin-path, two responders), with a throwaway PostgreSQL cluster; plus /healthz while the
cluster is stopped (503) and after it is back (200), and both responders reconnecting."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "lighttpd")
kt.require_pg(tap)
L = "[lighttpd/postgresql]"


def before(t, store, env):
    r = t.send("GET", "/healthz")
    tap.eq((r.status, kt.health(r.json())), (200, {"status": "ok", "store": "postgresql"}), L + " GET /healthz")


def after(t, store, env):
    # enough requests that both responders hold a connection, then the cluster goes away
    tap.eq([t.send("GET", "/healthz").status for _ in range(10)], [200] * 10, L + " 10 x GET /healthz")
    store.stop_server()
    try:
        got = [t.send("GET", "/healthz") for _ in range(6)]
        tap.eq([r.status for r in got], [503] * 6, L + " GET /healthz while the cluster is stopped -> 503 (x6)")
        tap.eq(kt.health(got[0].json()), {"status": "unavailable", "store": "postgresql"},
               L + " 503 answer names the store")
        tap.eq(got[0].headers.get("content-type"), "application/json", L + " 503 answer is JSON")
    finally:
        store.start_server()
    tap.eq([t.send("GET", "/healthz").status for _ in range(6)], [200] * 6,
           L + " GET /healthz after the cluster is back -> 200 (x6)")
    # and deliveries work again on every responder
    sec = env_secret["s"]
    codes = []
    for i in range(8):
        body = b'{"eventId":"after-restart-%d","event":"stock.updated","data":{}}' % i
        codes.append(t.send("POST", "/api/suppliers/after-restart/webhook",
                            {"Content-Type": "application/json", "X-Signature": kt.sign_hex(sec, body)}, body).status)
    tap.eq(codes, [200] * 8, L + " 8 deliveries after the restart -> 200")
    tap.eq(store.count("events", "idempotency_key LIKE 'after-restart-%'"), 8, L + " ... and 8 events stored")
    # a restart (stop + start on the same data dir and port) while lighttpd runs
    store.cluster.restart()
    body = b'{"eventId":"after-restart-x","event":"stock.updated","data":{}}'
    r = t.send("POST", "/api/suppliers/after-restart/webhook",
               {"Content-Type": "application/json", "X-Signature": kt.sign_hex(sec, body)}, body)
    tap.eq(r.status, 200, L + " a delivery right after PgCluster.restart() -> 200")


env_secret = {}


def make(env, tmp):
    env_secret["s"] = "f" * 64
    env.add_source("supplier", "after-restart", env_secret["s"])
    return kt.LighttpdTransport(env, tmp)


t, store, env = kt.run_one(tap, "pg", make, before=before, after=after)
tap.eq(t.pids(), [], L + " lighttpd and its responders are gone after stop()")
tap.done()
