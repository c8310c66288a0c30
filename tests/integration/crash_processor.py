#!/usr/bin/env python3
"""crash_processor.py: kill -9 of the processor during an action loses nothing and repeats only the
deliveries that were in flight. A processor claims a batch of events: they stay claimed while the
lease (processing_lease) runs, so nothing else takes them early; once the lease expires they are
processed, the sink sees the SAME webhook-id again for the delivery that was cut short, the cut-short
attempt is recorded as interrupted, and every other event is delivered exactly once. The forward has
--concurrency 1, so exactly one delivery is in flight when the processor is killed; with the default
(4) the batch's other deliveries to the sink may be in flight too (case 3), each then repeated with
its own webhook-id, none lost.

1. `kancactl worker` killed mid-forward; another worker respects the lease, then takes the events.
2. The processor child of a FastCGI responder under lighttpd killed mid-forward; the responder starts
   another one (at its next request), which takes the events when the lease expires.
3. `kancactl worker` with the default concurrency killed while one delivery hangs and the others
   were answered: every event processed after the lease, each webhook-id seen once or twice.
On SQLite and PostgreSQL."""
import collections
import json
import os
import signal
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
kt.require_tool(tap, "lighttpd")
SECRET = "crash-processor-secret"
LEASE = 3


def body_of(key):
    return json.dumps({"eventId": key, "event": "stock.updated", "data": {"n": key}}).encode()


def deliver(t, account, key):
    body = body_of(key)
    r = t.send("POST", "/api/suppliers/%s/webhook" % account,
               {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
    return r.status


def ids_of(store, keys):
    return {k: store.query("SELECT id FROM events WHERE idempotency_key = ?", (k,))[0][0] for k in keys}


def status_of(store, eid):
    return str(store.query("SELECT status FROM events WHERE id = ?", (eid,))[0][0])


def deliveries(sink, prefix):
    """webhook-id -> how many requests the sink received for it under prefix."""
    return collections.Counter(r.header("webhook-id") for r in sink.requests(prefix))


def attempts(store, eid):
    return [tuple(str(x) for x in row) for row in store.query(
        "SELECT outcome, CASE WHEN ended_at IS NULL THEN 'open' ELSE 'ended' END FROM attempts "
        "WHERE event_id = ? ORDER BY id", (eid,))]


def worker_case(kind, store, env, sink):
    L = "[worker/%s]" % kind
    env.add_source("supplier", "w", SECRET)
    env.kancactl("source", "action", "add", "supplier", "w", "forward", sink.url("/hang-first/30/w"),
                 "--concurrency", "1")
    cgi = kt.CgiTransport(env)  # processing = off here: only the workers process
    keys = ["w-1", "w-2", "w-3"]
    tap.eq([deliver(cgi, "w", k) for k in keys], [200, 200, 200], "%s three events stored" % L)
    ids = ids_of(store, keys)
    wid = {k: kt.public_id(store, ids[k]) for k in keys}
    w = subprocess.Popen([kt.binary("kancactl"), "-c", env.config, "worker", "--lease", str(LEASE)],
                         env=env.environ(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        tap.ok(sink.wait_for(1, 15, path_prefix="/hang-first/30/w"), "%s the worker is forwarding w-1" % L)
        os.kill(w.pid, signal.SIGKILL)
        killed = time.time()
    finally:
        w.wait(timeout=10)
    tap.eq(status_of(store, ids["w-1"]), "processing", "%s after kill -9, w-1 is still claimed" % L)
    tap.eq(attempts(store, ids["w-1"]), [("None", "open")], "%s its cut-short attempt is on record, open" % L)
    rc = subprocess.run([kt.binary("kancactl"), "-c", env.config, "worker", "--drain", "--lease", str(LEASE)],
                        env=env.environ(), capture_output=True, timeout=60).returncode
    drained_at = time.time()
    tap.eq(rc, 0, "%s a second worker drains what is due" % L)
    if drained_at - killed < LEASE - 0.5:
        tap.eq(status_of(store, ids["w-1"]), "processing", "%s but leaves w-1 alone while its lease runs" % L)
    else:
        tap.skip("the drain took longer than the lease (%.1f s)" % (drained_at - killed),
                 "%s but leaves w-1 alone while its lease runs" % L)
    tap.eq([status_of(store, ids[k]) for k in ("w-2", "w-3")], ["processing", "processing"],
           "%s w-2 and w-3, claimed in w-1's batch, wait with it" % L)
    tap.eq(deliveries(sink, "/hang-first/30/w"), collections.Counter({wid["w-1"]: 1}),
           "%s with --concurrency 1, only w-1 had gone out" % L)
    time.sleep(max(0.0, killed + LEASE + 1.1 - time.time()))
    subprocess.run([kt.binary("kancactl"), "-c", env.config, "worker", "--drain", "--lease", str(LEASE)],
                   env=env.environ(), capture_output=True, timeout=60)
    tap.eq([status_of(store, ids[k]) for k in keys], ["processed"] * 3,
           "%s after the lease expired, w-1, w-2 and w-3 are processed" % L)
    got = deliveries(sink, "/hang-first/30/w")
    tap.eq(got, collections.Counter({wid["w-1"]: 2, wid["w-2"]: 1, wid["w-3"]: 1}),
           "%s the sink saw w-1's webhook-id twice and the others once" % L)
    tap.eq(attempts(store, ids["w-1"]), [("interrupted", "ended"), ("ok", "ended")],
           "%s w-1's attempts: interrupted, then ok" % L)


def lighttpd_case(kind, store, env, sink, tmp):
    L = "[fastcgi/%s]" % kind
    env.add_source("supplier", "f", SECRET)
    env.kancactl("source", "action", "add", "supplier", "f", "forward", sink.url("/hang-first/30/f"),
                 "--concurrency", "1")
    env.write_config(processing="fork", processing_lease=str(LEASE))
    t = kt.LighttpdTransport(env, tmp, max_procs=1)
    t.start()
    try:
        keys = ["f-1", "f-2", "f-3"]
        tap.eq([deliver(t, "f", k) for k in keys], [200, 200, 200], "%s three deliveries answered" % L)
        ids = ids_of(store, keys)
        wid = {k: kt.public_id(store, ids[k]) for k in keys}
        tap.ok(sink.wait_for(1, 15, path_prefix="/hang-first/30/f"), "%s the processor is forwarding f-1" % L)
        procs = t.processors()
        tap.eq(len(procs), 1, "%s one processor child" % L)
        for p in procs:
            os.kill(p, signal.SIGKILL)
        killed = time.time()
        time.sleep(0.3)
        tap.eq(status_of(store, ids["f-1"]), "processing", "%s after kill -9, f-1 is still claimed" % L)
        # the responder notices its processor died when it next serves a request, and starts another
        tap.eq(deliver(t, "f", "f-4"), 200, "%s the next delivery is answered" % L)
        ids.update(ids_of(store, ["f-4"]))
        wid["f-4"] = kt.public_id(store, ids["f-4"])

        def new_processors():
            return [p for p in t.processors() if p not in procs]
        # it is started after the answer is sent
        kt.wait_for(lambda: len(new_processors()) == 1, 5)
        new = new_processors()
        tap.eq(len(new), 1, "%s a new processor child runs (%s)" % (L, new))
        done = kt.wait_for(lambda: all(status_of(store, i) == "processed" for i in ids.values()), 30)
        tap.ok(done, "%s every event processed: %s" % (L, {k: status_of(store, i) for k, i in ids.items()}))
        reqs = sink.requests("/hang-first/30/f")
        again = [r for r in reqs if r.header("webhook-id") == wid["f-1"]]
        # the lease is whole seconds from the claim, which came just before the first delivery
        tap.ok(len(again) == 2 and again[1].time - again[0].time >= LEASE - 1,
               "%s f-1 delivered again only when the %d s lease ran out (%s after the first)"
               % (L, LEASE, ["%.1f s" % (r.time - again[0].time) for r in again]))
        tap.eq(deliveries(sink, "/hang-first/30/f"),
               collections.Counter({wid["f-1"]: 2, wid["f-2"]: 1, wid["f-3"]: 1, wid["f-4"]: 1}),
               "%s the sink saw f-1's webhook-id twice and each other one once" % L)
        tap.eq(attempts(store, ids["f-1"]), [("interrupted", "ended"), ("ok", "ended")],
               "%s f-1's attempts: interrupted, then ok" % L)
    finally:
        t.stop()


def concurrent_case(kind, store, env, sink):
    L = "[worker-concurrent/%s]" % kind
    env.add_source("supplier", "c", SECRET)
    env.kancactl("source", "action", "add", "supplier", "c", "forward", sink.url("/hang-first/30/c"))
    cgi = kt.CgiTransport(env)
    keys = ["c-1", "c-2", "c-3"]
    tap.eq([deliver(cgi, "c", k) for k in keys], [200, 200, 200], "%s three events stored" % L)
    ids = ids_of(store, keys)
    wid = {k: kt.public_id(store, ids[k]) for k in keys}
    w = subprocess.Popen([kt.binary("kancactl"), "-c", env.config, "worker", "--lease", str(LEASE)],
                         env=env.environ(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # the first hangs; the other two, sent beside it, are answered at once
        tap.ok(sink.wait_for(3, 15, path_prefix="/hang-first/30/c"), "%s all three went out side by side" % L)
        os.kill(w.pid, signal.SIGKILL)
        killed = time.time()
    finally:
        w.wait(timeout=10)
    tap.eq([status_of(store, ids[k]) for k in keys], ["processing"] * 3,
           "%s after kill -9 the batch is still claimed (its outcomes were not yet written)" % L)
    time.sleep(max(0.0, killed + LEASE + 1.1 - time.time()))
    rc = subprocess.run([kt.binary("kancactl"), "-c", env.config, "worker", "--drain", "--lease", str(LEASE)],
                        env=env.environ(), capture_output=True, timeout=60).returncode
    tap.eq(rc, 0, "%s a second worker drains them after the lease" % L)
    tap.eq([status_of(store, ids[k]) for k in keys], ["processed"] * 3, "%s every event processed" % L)
    got = deliveries(sink, "/hang-first/30/c")
    tap.eq(sorted(got), sorted(wid.values()), "%s the sink saw only these three webhook-ids" % L)
    tap.ok(all(1 <= n <= 2 for n in got.values()), "%s each once or twice: %s" % (L, sorted(got.values())))


def run(kind):
    tmp = kt.make_tempdir("kanca-crashproc-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real")
    env.migrate()
    sink = Sink()
    sink.start()
    try:
        worker_case(kind, store, env, sink)
        concurrent_case(kind, store, env, sink)
        lighttpd_case(kind, store, env, sink, tmp)
    finally:
        sink.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
