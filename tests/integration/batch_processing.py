#!/usr/bin/env python3
"""batch_processing.py: the processor takes its events a batch at a time (doc/processing.md,
"Batches, concurrency and order"), on SQLite and PostgreSQL, through `kancactl worker --drain`:

1. 400 events of one source forwarded to one local sink: every event processed, each webhook-id
   delivered once, one attempt row and one 'processed' audit row per event, and the forwards reuse
   their connections: at most one new TCP connection per 100 deliveries (the sink counts them).
2. Per-destination concurrency: with a destination that takes 0.4 s, 8 events with the default
   concurrency are in flight 4 at a time; with `--concurrency 2`, 2 at a time, never more.
3. `ordered=1`: a source that asks for order has one event in flight at a time, in arrival order,
   even with a slow destination; an event whose delivery fails holds the later ones back until it
   succeeds.
4. Bad values are refused with a clear error and nothing added: --concurrency 0 and 65, ordered=2.
5. A source with no action: 100 events processed, each with one 'processed' audit row, one counted
   attempt and no attempt row (after the first batch the claims finish such events themselves).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "cgi-fcgi")
SECRET = "batch-processing-secret"
MANY = 400


def deliver(t, account, key):
    body = json.dumps({"eventId": key, "event": "stock.updated", "data": {"n": key}}).encode()
    r = t.send("POST", "/api/suppliers/%s/webhook" % account,
               {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
    return r.status


def drain(env, timeout=120):
    p = subprocess.run([kt.binary("kancactl"), "-c", env.config, "worker", "--drain"], env=env.environ(),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).strip().splitlines()[-1:] or [""]


def max_in_flight(reqs):
    """the most requests the sink was answering at one moment"""
    edges = sorted([(r.time, 1) for r in reqs] + [(r.answered or r.time, -1) for r in reqs])
    cur = peak = 0
    for _, d in edges:
        cur += d
        peak = max(peak, cur)
    return peak


def events_of(store, account):
    return store.query("SELECT e.id, e.status FROM events e JOIN sources s ON s.id = e.source_id "
                       "WHERE s.account = ? ORDER BY e.id", (account,))


def many_case(L, store, env, sink, fcgi):
    env.add_source("supplier", "many", SECRET)
    rc, _, err = env.kancactl("source", "action", "add", "supplier", "many", "forward", sink.url("/ok/many"))
    tap.eq(rc, 0, "%s a forward action" % L)
    codes = [deliver(fcgi, "many", "many-%04d" % i) for i in range(MANY)]
    tap.eq(codes.count(200), MANY, "%s %d events stored" % (L, MANY))
    before = sink.connections
    t0 = time.monotonic()
    rc, last = drain(env)
    took = time.monotonic() - t0
    tap.eq(rc, 0, "%s kancactl worker --drain (%s, %.1f s)" % (L, last[0], took))
    rows = events_of(store, "many")
    tap.eq(sorted(set(str(s) for _, s in rows)), ["processed"], "%s every event processed" % L)
    reqs = sink.requests("/ok/many")
    wids = [r.header("webhook-id") for r in reqs]
    tap.eq((len(wids), len(set(wids))), (MANY, MANY), "%s each webhook-id delivered once" % L)
    n_att = store.query("SELECT count(*) FROM attempts a JOIN events e ON e.id = a.event_id JOIN sources s ON "
                        "s.id = e.source_id WHERE s.account = 'many' AND a.outcome = 'ok'")[0][0]
    tap.eq(int(n_att), MANY, "%s one ok attempt row per event" % L)
    n_aud = store.query("SELECT count(*), count(DISTINCT event_id) FROM audit_log WHERE action = 'processed' AND "
                        "source_id = (SELECT id FROM sources WHERE account = 'many')")[0]
    tap.eq((int(n_aud[0]), int(n_aud[1])), (MANY, MANY), "%s one 'processed' audit row per event" % L)
    opened = sink.connections - before
    tap.ok(opened * 100 <= MANY, "%s the forwards reused their connections: %d new TCP connections for %d "
           "deliveries (at most 1 per 100)" % (L, opened, MANY))
    tap.ok(len(set(r.connection for r in reqs)) == opened, "%s ... and the deliveries came on those %d" % (L, opened))


def concurrency_case(L, store, env, sink, fcgi):
    for account, extra, want in (("conc4", [], 4), ("conc2", ["--concurrency", "2"], 2)):
        env.add_source("supplier", account, SECRET)
        rc, _, err = env.kancactl("source", "action", "add", "supplier", account, "forward",
                                  sink.url("/hang/0.4/%s" % account), *extra)
        tap.eq(rc, 0, "%s a forward to a destination that takes 0.4 s %s" % (L, " ".join(extra)))
        codes = [deliver(fcgi, account, "%s-%d" % (account, i)) for i in range(8)]
        tap.eq(codes, [200] * 8, "%s 8 events stored" % L)
        t0 = time.monotonic()
        rc, last = drain(env)
        took = time.monotonic() - t0
        reqs = sink.requests("/hang/0.4/%s" % account)
        tap.eq((rc, len(reqs)), (0, 8), "%s all 8 delivered (%s)" % (L, last[0]))
        peak = max_in_flight(reqs)
        tap.eq(peak, want, "%s %d in flight at a time, never more (%.1f s for 8)" % (L, want, took))


def ordered_case(L, store, env, sink, fcgi):
    env.add_source("supplier", "ord", SECRET, {"ordered": "1"})
    rc, _, err = env.kancactl("source", "action", "add", "supplier", "ord", "forward", sink.url("/hang/0.2/ord"))
    tap.eq(rc, 0, "%s an ordered=1 source, a forward that takes 0.2 s" % L)
    keys = ["ord-%d" % i for i in range(5)]
    tap.eq([deliver(fcgi, "ord", k) for k in keys], [200] * 5, "%s 5 events stored" % L)
    rc, last = drain(env)
    reqs = sink.requests("/hang/0.2/ord")
    got = [json.loads(r.body)["eventId"] for r in reqs]
    tap.eq((rc, got), (0, keys), "%s delivered in arrival order (%s)" % (L, last[0]))
    tap.eq(max_in_flight(reqs), 1, "%s one at a time" % L)
    # a failing first event holds the others back
    env.add_source("supplier", "ordfail", SECRET, {"ordered": "1", "retry_initial": "1", "retry_max": "1"})
    rc, _, err = env.kancactl("source", "action", "add", "supplier", "ordfail", "forward",
                              sink.url("/fail/2/ordfail"))
    keys = ["ordfail-%d" % i for i in range(3)]
    tap.eq([deliver(fcgi, "ordfail", k) for k in keys], [200] * 3, "%s a source whose deliveries fail twice" % L)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        drain(env)
        if all(str(s) == "processed" for _, s in events_of(store, "ordfail")):
            break
        time.sleep(0.3)
    reqs = sink.requests("/fail/2/ordfail")
    seq = [json.loads(r.body)["eventId"] for r in reqs]
    tap.eq(sorted(set(str(s) for _, s in events_of(store, "ordfail"))), ["processed"], "%s all processed" % L)
    tap.eq(seq, [k for k in keys for _ in range(3)],
           "%s each event's tries came before the next event's first: %s" % (L, seq))


def refusals(L, env, sink):
    env.add_source("supplier", "bad", SECRET)
    for v in ("0", "65", "x"):
        rc, out, err = env.kancactl("source", "action", "add", "supplier", "bad", "forward", sink.url("/ok/bad"),
                                    "--concurrency", v)
        tap.ok(rc == 2 and "--concurrency" in err, "%s --concurrency %s is refused: %s" % (L, v, err.strip()[-80:]))
    rc, out, _ = env.kancactl("source", "action", "list", "supplier", "bad")
    tap.eq(out.count("forward"), 0, "%s ... and no action was added" % L)
    rc, _, err = env.kancactl("source", "add", "supplier", "bad2", "--secret", SECRET, "--set", "ordered=2")
    tap.ok(rc == 2 and "ordered" in err, "%s ordered=2 is refused: %s" % (L, err.strip()[-80:]))


def actionless_case(L, store, env, fcgi):
    env.add_source("supplier", "none", SECRET)
    codes = [deliver(fcgi, "none", "none-%03d" % i) for i in range(100)]
    tap.eq(codes.count(200), 100, "%s 100 events of a source without actions" % L)
    rc, last = drain(env)
    tap.eq(rc, 0, "%s kancactl worker --drain (%s)" % (L, last[0]))
    rows = store.query("SELECT e.status, e.attempts, (SELECT count(*) FROM attempts a WHERE a.event_id = e.id), "
                       "(SELECT count(*) FROM audit_log l WHERE l.event_id = e.id AND l.action = 'processed') "
                       "FROM events e JOIN sources s ON s.id = e.source_id WHERE s.account = 'none'")
    tap.eq(sorted(set(tuple(str(c) for c in r) for r in rows)), [("processed", "1", "0", "1")],
           "%s each processed, one attempt counted, no attempt row, one 'processed' audit row" % L)


def run(kind):
    L = "[%s]" % kind
    tmp = kt.make_tempdir("kanca-batch-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real")
    env.migrate()
    sink = Sink().start()
    fcgi = kt.FcgiTransport(env, tmp)
    try:
        fcgi.start()
        many_case(L, store, env, sink, fcgi)
        concurrency_case(L, store, env, sink, fcgi)
        ordered_case(L, store, env, sink, fcgi)
        refusals(L, env, sink)
        actionless_case(L, store, env, fcgi)
    finally:
        fcgi.stop()
        sink.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
