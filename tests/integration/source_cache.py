#!/usr/bin/env python3
"""source_cache.py: a responder reuses a source for source_cache_seconds, then asks the store again:
a disable takes effect within that time and no later; with 0 it takes effect at once."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "lighttpd")
SECRET = "cache-secret"


def deliver(t, n):
    body = ('{"eventId":"cache-%d","event":"stock.updated"}' % n).encode()
    return t.send("POST", "/api/suppliers/c/webhook",
                  {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body).status


for ttl in (3, 0):
    tmp = kt.make_tempdir("kanca-cache-")
    store = kt.make_store("sqlite", tmp)
    env = kt.Kanca(store, tmp, source_cache_seconds=ttl)
    env.migrate()
    env.add_source("supplier", "c", SECRET)
    t = kt.LighttpdTransport(env, tmp, max_procs=1)
    t.start()
    try:
        fetched = time.monotonic()
        tap.eq(deliver(t, 1), 200, "[ttl %d] a delivery is accepted (the source is now cached)" % ttl)
        env.kancactl("source", "disable", "supplier", "c")
        if ttl:
            st = deliver(t, 2)
            if time.monotonic() - fetched < ttl:
                tap.eq(st, 200, "[ttl %d] within the cache time the responder still uses the enabled source" % ttl)
            else:
                tap.skip("the machine was too slow to send within %d s" % ttl, "[ttl %d] within the cache time" % ttl)
            time.sleep(max(0, ttl + 0.3 - (time.monotonic() - fetched)))
        tap.eq(deliver(t, 3), 403, "[ttl %d] after the cache time the disable is in effect" % ttl)
        tap.eq(store.count("events", "idempotency_key = 'cache-3'"), 0, "[ttl %d] nothing stored for it" % ttl)
    finally:
        t.stop()
        store.close()
tap.done()
