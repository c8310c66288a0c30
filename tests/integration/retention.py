#!/usr/bin/env python3
"""retention.py: the processors apply `retention` (30 d) and `retention_dead` (90 d) by themselves, in small
batches, removing exactly what they should while deliveries keep arriving; `kancactl purge` does the same
with flags. Both stores.

Old rows are made by kanca itself with its clock pinned in the past (KANCA_TEST_NOW): deliveries stored,
processed or killed, forged ones refused. Then `kancactl worker` runs on the real clock while deliveries
arrive: processed events and audit rows older than 30 days go (with their attempts), dead events older
than 90 days go, a dead event of 40 days and an unfinished event of 100 days stay, and every new delivery
is answered 200 and stored."""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_test_hooks("pins kanca's clock in the past to make old rows (KANCA_TEST_NOW)")
SECRET = "retention-secret-0123456789abcd"
DAY = 86400
OLD_BATCH = 1200  # more than two of the processors' 500-row batches


def run(kind):
    L = "[%s]" % kind
    tmp = kt.make_tempdir("kanca-retention-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real", retention="30d", retention_dead="90d")
    env.migrate()
    env.add_source("supplier", "keep", SECRET)
    env.add_source("supplier", "dies", SECRET, {"retry_attempts": 1})
    env.add_source("supplier", "waits", SECRET, {"retry_attempts": 100, "retry_initial": 86400, "retry_max": 86400})
    for acc, path in (("dies", "/bin/false"), ("waits", "/bin/false")):
        rc, out, err = env.kancactl("source", "action", "add", "supplier", acc, "exec", path)
        tap.eq(rc, 0, "%s an exec action that fails for %s" % (L, acc))
    now = int(time.time())

    def at(days_ago, extra=None):
        e = dict(env.environ(), KANCA_TEST_NOW=str(now - days_ago * DAY))
        e.update(extra or {})
        return e

    def deliver(acc, key, days_ago=0, signed=True):
        body = ('{"eventId":"%s","event":"stock.updated","data":{}}' % key).encode()
        sig = kt.sign_hex(SECRET, body) if signed else "0" * 64
        e = dict(at(days_ago), REQUEST_METHOD="POST", REQUEST_URI="/api/suppliers/%s/webhook" % acc,
                 CONTENT_LENGTH=str(len(body)), CONTENT_TYPE="application/json", HTTP_X_SIGNATURE=sig,
                 REMOTE_ADDR="127.0.0.1", GATEWAY_INTERFACE="CGI/1.1", SERVER_PROTOCOL="HTTP/1.1")
        p = subprocess.run([kt.binary("cgi-bin/kanca.cgi")], input=body, capture_output=True, env=e, timeout=30)
        return int(p.stdout.split(b"\r\n", 1)[0].split()[1]) if p.stdout.startswith(b"Status:") else 0

    def worker_drain(days_ago):
        subprocess.run([kt.binary("kancactl"), "-c", env.config, "worker", "--drain"], env=at(days_ago),
                       capture_output=True, timeout=120)

    # old rows, made by kanca on a pinned clock
    tap.eq(deliver("keep", "proc-40d", 40), 200, "%s a delivery 40 days ago" % L)
    tap.eq(deliver("dies", "dead-40d", 40), 200, "%s a delivery 40 days ago that will die" % L)
    tap.eq(deliver("dies", "dead-100d", 100), 200, "%s a delivery 100 days ago that will die" % L)
    tap.eq(deliver("waits", "waits-100d", 100), 200, "%s a delivery 100 days ago that keeps failing" % L)
    tap.eq(deliver("keep", "forged-40d", 40, signed=False), 401, "%s a forged delivery 40 days ago" % L)
    worker_drain(100)
    worker_drain(40)
    # many more old processed events, to take more than one batch: copies of the one kanca stored
    src = store.query("SELECT source_id, event_type, headers, received_at, verification FROM events "
                      "WHERE idempotency_key = 'proc-40d'")[0]
    bulk = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
            "INSERT INTO events (source_id, idempotency_key, event_type, body, headers, received_at, verification, "
            "status, processed_at, public_id) SELECT %s, 'bulk-' || i, 'stock.updated', %s, '{}', %s, 'copy', "
            "'processed', %s, 'evt_bulk' || i FROM n" % (OLD_BATCH, src[0], "x'7b7d'" if kind == "sqlite" else
                                                         "'\\x7b7d'::bytea", src[3], src[3]))
    if kind == "sqlite":
        import sqlite3
        con = sqlite3.connect(store.path)
        con.execute(bulk)
        con.commit()
        con.close()
    else:
        store.query(bulk)
    st = dict(store.query("SELECT idempotency_key, status FROM events WHERE idempotency_key NOT LIKE 'bulk-%'"))
    tap.eq(st, {"proc-40d": "processed", "dead-40d": "dead", "dead-100d": "dead", "waits-100d": "retry"},
           "%s the old rows are in place" % L)
    tap.eq(store.count("audit_log", "action = 'rejected' AND at < ?", (now - 30 * DAY,)), 1,
           "%s ... with an old rejection in the audit log" % L)
    tap.eq(deliver("keep", "proc-new"), 200, "%s a delivery today" % L)
    tap.eq(deliver("keep", "forged-new", signed=False), 401, "%s a forged delivery today" % L)
    tap.eq(store.count("events", "received_at < ? AND status = 'processed'", (now - 30 * DAY,)), OLD_BATCH + 1,
           "%s nothing is removed before a processor runs on today's clock" % L)

    # the worker on the real clock, deliveries arriving meanwhile
    w = subprocess.Popen([kt.binary("kancactl"), "-c", env.config, "worker"], env=at(0, {}),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    codes = []

    def ingest():
        for i in range(40):
            codes.append(deliver("keep", "live-%d" % i))
    th = threading.Thread(target=ingest)
    th.start()
    try:
        gone = kt.wait_for(lambda: store.count("events", "received_at < ? AND status = 'processed'",
                                               (now - 30 * DAY,)) == 0, 30, 0.2)
        th.join(120)
    finally:
        w.terminate()
        _, err = w.communicate(timeout=30)
    tap.ok(gone, "%s the worker removes every processed event older than 30 days (%d of them)" % (L, OLD_BATCH + 1))
    tap.eq(codes, [200] * 40, "%s every delivery during the retention pass -> 200" % L)
    tap.eq(store.count("events", "idempotency_key LIKE 'live-%'"), 40, "%s ... and stored" % L)
    left = dict(store.query("SELECT idempotency_key, status FROM events WHERE idempotency_key NOT LIKE 'live-%'"))
    tap.eq(left, {"dead-40d": "dead", "waits-100d": "retry", "proc-new": "processed"},
           "%s kept: a dead event of 40 days, an unfinished one of 100 days, today's; gone: the 100-day dead one" % L)
    tap.eq(store.count("attempts", "event_id NOT IN (SELECT id FROM events)"), 0,
           "%s no attempt is left without its event" % L)
    tap.eq(store.count("audit_log", "at < ?", (now - 30 * DAY,)), 0, "%s audit rows older than 30 days are gone" % L)
    tap.eq(store.count("audit_log", "action = 'rejected' AND at >= ?", (now - DAY,)), 1,
           "%s ... today's rejection is kept" % L)
    tap.ok("retention: removed" in err.decode(errors="replace"), "%s the worker logged what it removed" % L)

    # kancactl purge with flags
    rc, out, err = env.kancactl("purge", "--dead", "1d")
    tap.ok(rc == 0 and "purged 1 dead events" in out, "%s purge --dead 1d removes the 40-day dead event: %s" %
           (L, out.strip()))
    tap.eq(store.count("events", "status = 'dead'"), 0, "%s ... no dead event is left" % L)
    rc, out, err = env.kancactl("purge", "--audit", "1s")
    time.sleep(0)
    tap.eq(rc, 0, "%s purge --audit 1s" % L)
    rc, out, err = env.kancactl("purge", "--retention")
    tap.eq(rc, 0, "%s purge --retention applies the configured retention" % L)
    tap.eq(store.count("events", "idempotency_key = 'waits-100d'"), 1, "%s ... and never an unfinished event" % L)
    rc, out, err = env.kancactl("purge", "--dead", "soon")
    tap.eq(rc, 2, "%s purge --dead soon is a usage error" % L)
    store.close()


run("sqlite")
run("pg")
tap.done()
