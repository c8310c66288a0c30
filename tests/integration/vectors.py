#!/usr/bin/env python3
"""vectors.py: every vector of tests/vectors.json (all providers) through the whole HTTP path — a real
lighttpd spawning kanca — on a fresh SQLite file and on a throwaway PostgreSQL cluster, with the clock
pinned to the vector's `now`. valid: the provider's success answer, exactly one stored event with the
vector's event_type and idempotency_key and the exact raw body, and a second delivery is a duplicate
(same answer, nothing stored). invalid: the provider's rejection status and nothing stored."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

# the rejection status each provider answers (doc/providers.md)
REJECT = {"stripe": {400}, "shopify": {400, 401}, "apple": {400, 401}}
DEFAULT_REJECT = {401}

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
vectors = kt.load_vectors()


def walk(kind):
    tmp = kt.make_tempdir("kanca-vectors-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, max_body_bytes="1M")
    env.migrate()
    t = kt.LighttpdTransport(env, tmp)
    t.start()
    try:
        for i, v in enumerate(vectors):
            L = "[%s] %s/%s:" % (kind, v["provider"], v["name"])
            try:
                path, account = kt.configure_vector_source(env, tmp, i, v)
            except RuntimeError as e:
                tap.ok(False, "%s source configured (%s)" % (L, e))
                continue
            method, _, headers, body = kt.vector_request(v)
            sid = env.source_id(v["provider"], account)
            r = t.send(method, path, headers, body)
            rows = store.query("SELECT id, event_type, idempotency_key FROM events WHERE source_id = ?", (sid,))
            if v["expect"] == "valid":
                tap.ok(200 <= r.status < 300, "%s valid -> 2xx (got %d %s)" % (L, r.status, r.body[:120]))
                tap.eq([(x[1], x[2]) for x in rows], [(v["event_type"], v["idempotency_key"])],
                       "%s one event with the vector's type and key" % L)
                if rows:
                    tap.eq(store.body_of(rows[0][0]), body, "%s the raw body stored byte for byte" % L)
                if rows and v["provider"] == "apple":
                    dec = store.query("SELECT decoded, status FROM events WHERE id = ?", (rows[0][0],))[0]
                    doc = json.loads(dec[0]) if dec[0] else {}
                    tap.eq(sorted(doc), ["notification", "renewal", "transaction"],
                           "%s the decoded notification is stored with the event" % L)
                    tap.eq((doc.get("notification") or {}).get("notificationUUID"), v["idempotency_key"],
                           "%s ... and it is the verified payload" % L)
                    tap.eq(dec[1], "test" if v["event_type"] == "TEST" else "received",
                           "%s a TEST notification is recorded as a test" % L)
                r2 = t.send(method, path, headers, body)
                tap.eq((r2.status, r2.body), (r.status, r.body), "%s a second delivery gets the same answer" % L)
                tap.eq(store.count("events", "source_id = ?", (sid,)), len(rows), "%s and stores nothing" % L)
            else:
                want = REJECT.get(v["provider"], DEFAULT_REJECT)
                tap.ok(r.status in want, "%s invalid -> %s (got %d %s)" % (L, sorted(want), r.status, r.body[:120]))
                tap.eq(len(rows), 0, "%s nothing stored" % L)
    finally:
        t.stop()
        store.close()


walk("sqlite")
walk("pg")
tap.done()
