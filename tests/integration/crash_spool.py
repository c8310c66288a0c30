#!/usr/bin/env python3
"""crash_spool.py: kill -9 in the middle of the spool loses nothing answered 2xx, stores nothing twice,
and never drains a partial record.

1. A responder (lighttpd, FastCGI) is killed while it writes a spool record (the SQLite store's write
   lock is held by another process, so the delivery goes to the spool; the test hook
   KANCA_TEST_SPOOL_HOLD_FILE holds it halfway through the record): the sender got no 2xx, the half
   record stays in tmp/ and is never drained (a drain removes it once it is a minute old), and the
   sender's retry is stored once.
2. A drainer (kancactl worker --drain) is killed after it committed a group of spooled deliveries and
   before it removed their records (KANCA_TEST_DRAIN_HOLD_FILE): the next drain finds them all again and
   stores none twice, and each event is forwarded once."""
import os
import signal
import subprocess
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
kt.require_test_hooks("holds a responder mid-spool-write and a drainer mid-drain (KANCA_TEST_*_HOLD_FILE)")

tmp = kt.make_tempdir("kanca-crash-spool-")
store = kt.make_store("sqlite", tmp)
env = kt.Kanca(store, tmp, now="real", processing="off", answer_deadline="1")
env.migrate()
env.add_source("supplier", "cs", tr.SECRET)
sink = Sink().start()
rc, out, err = env.kancactl("source", "action", "add", "supplier", "cs", "forward", sink.url("/ok"),
                            "--generate-secret")
tap.eq(rc, 0, "a forward action to the sink on 127.0.0.1")
spool = env.settings["spool_dir"]
hold = os.path.join(tmp, "hold")
env.extra_env["KANCA_TEST_SPOOL_HOLD_FILE"] = hold
t = kt.LighttpdTransport(env, tmp, max_procs=1)
t.start()


def count(key):
    return store.count("events", "idempotency_key = ?", (key,))


def listing(sub):
    d = os.path.join(spool, sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


try:
    # ---- 1. the responder dies halfway through a spool record
    tap.eq(tr.deliver(t, "cs", "warm")[0], 200, "a delivery while the store is fine -> 200")
    lock = tr.SqliteWriteLock(store.path, limit=90).hold()
    try:
        open(hold, "w").close()
        answer = {}
        th = threading.Thread(target=lambda: answer.update(r=tr.deliver(t, "cs", "cut")), daemon=True)
        th.start()
        tap.ok(kt.wait_for(lambda: not os.path.exists(hold), 15), "the responder holds halfway through the record")
        tap.eq((len(listing("tmp")), listing("new")), (1, []), "... one partial file in tmp/, nothing in new/")
        pids = t.responders()
        for p in pids:
            os.kill(p, signal.SIGKILL)
        th.join(30)
        status = answer.get("r", (None,))[0]
        tap.ok(status is None or status >= 500, "the sender got no 2xx for the cut delivery (%s)" % status)
    finally:
        lock.release()
    tap.eq(listing("new"), [], "no record was completed")
    rc, out, err = env.kancactl("worker", "--drain")
    tap.eq(rc, 0, "kancactl worker --drain")
    tap.eq(count("cut"), 0, "the partial record was never drained into the store")
    partial = listing("tmp")
    tap.eq(len(partial), 1, "a fresh partial file is left alone (it might still be being written)")
    old = time.time() - 120
    for f in partial:
        os.utime(os.path.join(spool, "tmp", f), (old, old))
    # a drain runs only when new/ holds a record: spool one more delivery the normal way
    lock = tr.SqliteWriteLock(store.path, limit=60).hold()
    try:
        del env.extra_env["KANCA_TEST_SPOOL_HOLD_FILE"]
        t.stop()
        t = kt.LighttpdTransport(env, tmp, max_procs=1)
        t.start()
        tap.eq(tr.deliver(t, "cs", "after-cut")[0], 200, "a delivery spooled after the crash -> 200")
    finally:
        lock.release()
    rc, out, err = env.kancactl("worker", "--drain")
    tap.eq((rc, listing("tmp")), (0, []), "a drain removes the minute-old partial file")
    tap.eq((count("cut"), count("after-cut")), (0, 1), "... stores the complete record only")
    tap.eq(tr.deliver(t, "cs", "cut")[0], 200, "the sender's retry of the cut delivery -> 200")
    rc, out, err = env.kancactl("worker", "--drain")  # it may have gone to the spool: the store was in trouble
    tap.eq((rc, count("cut"), listing("new")), (0, 1, []), "... stored once (the spool empty)")

    # ---- 2. the drainer dies after storing the first record, before removing it
    lock = tr.SqliteWriteLock(store.path, limit=60).hold()
    try:
        got = [tr.deliver(t, "cs", "drain-%d" % i)[0] for i in range(3)]
    finally:
        lock.release()
    tap.eq(got, [200] * 3, "three deliveries spooled while the store was locked -> 200")
    tap.eq(len(listing("new")), 3, "... three records in new/")
    dhold = os.path.join(tmp, "drain-hold")
    open(dhold, "w").close()
    p = subprocess.Popen([kt.binary("kancactl"), "-c", env.config, "worker", "--drain"],
                         env=dict(env.environ(), KANCA_TEST_DRAIN_HOLD_FILE=dhold),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        tap.ok(kt.wait_for(lambda: not os.path.exists(dhold), 15), "the drainer holds after storing a record")
        held = [count("drain-%d" % i) for i in range(3)]
        # the three go in one transaction (a drain commits up to 64 records at once): all stored, none removed
        tap.eq(held, [1, 1, 1], "... the group is committed, its records not yet removed")
        p.kill()
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
    tap.eq(len(listing("new")), 3, "killed: all three records are still in new/")
    rc, out, err = env.kancactl("worker", "--drain")
    tap.eq(rc, 0, "the next kancactl worker --drain")
    tap.eq([count("drain-%d" % i) for i in range(3)], [1, 1, 1], "every delivery stored once, none twice")
    tap.eq(listing("new"), [], "the spool is empty")
    ids = {r[0] for r in store.query("SELECT public_id FROM events WHERE idempotency_key LIKE 'drain-%'")}
    got = tr.sink_ids(sink, "/ok")
    tap.eq(sorted(i for i in ids if got.get(i) != 1), [], "each of the three was forwarded exactly once")
    # ---- a spool that cannot be read: worker --drain says so and fails (its deliveries wait)
    broken = os.path.join(tmp, "broken-spool")
    os.makedirs(broken)
    open(os.path.join(broken, "new"), "w").close()  # not a directory: opendir fails
    env.write_config(spool_dir=broken)
    rc, out, err = env.kancactl("worker", "--drain")
    tap.ok(rc == 1 and "spool could not be read" in err, "worker --drain with an unreadable spool exits 1: %s" %
           err.strip()[-160:])
    tap.ok("Not a directory" in err, "... and the log names the cause")
finally:
    t.stop()
    sink.stop()
    store.close()
tap.done()
