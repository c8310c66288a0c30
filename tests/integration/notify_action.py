#!/usr/bin/env python3
"""notify_action.py: the notify action (PostgreSQL store): after the answer the processor calls
pg_notify(channel, event id), which a LISTENing session receives; on SQLite kancactl refuses the action."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
SECRET = "notify-secret"

tmp = kt.make_tempdir("kanca-notify-")
store = kt.make_store("pg", tmp)
env = kt.Kanca(store, tmp)
env.migrate()
env.add_source("supplier", "n", SECRET)
rc, out, err = env.kancactl("source", "action", "add", "supplier", "n", "notify", "kanca_events")
tap.eq(rc, 0, "a notify action on the PostgreSQL store (%s)" % (out.strip() or err.strip()))
rc, out, err = env.kancactl("source", "action", "add", "supplier", "n", "notify", "Bad-Channel")
tap.eq(rc, 2, "a bad channel name is refused")
listener = subprocess.Popen(["psql", "-X", "-q", "-d", store.uri(), "-c", "LISTEN kanca_events", "-c", "SELECT pg_sleep(8)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
time.sleep(1)
body = b'{"eventId":"n-1","event":"stock.updated"}'
r = kt.CgiTransport(env).send("POST", "/api/suppliers/n/webhook",
                              {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
tap.eq(r.status, 200, "the delivery is answered")
eid = store.query("SELECT id FROM events WHERE idempotency_key = 'n-1'")[0][0]
rc, out, err = env.kancactl("worker", "--drain")
tap.eq(rc, 0, "kancactl worker --drain")
lo, le = listener.communicate(timeout=20)
tap.ok(('Asynchronous notification "kanca_events" with payload "%s"' % eid).encode() in lo + le,
       "the LISTENing session got the event id (%s)" % (lo + le).decode(errors="replace").strip()[:160])
tap.eq(store.query("SELECT status FROM events WHERE id = ?", (eid,))[0][0], "processed", "the event is processed")
store.close()

tmp2 = kt.make_tempdir("kanca-notify-sqlite-")
st2 = kt.make_store("sqlite", tmp2)
env2 = kt.Kanca(st2, tmp2)
env2.migrate()
env2.add_source("supplier", "n", SECRET)
rc, out, err = env2.kancactl("source", "action", "add", "supplier", "n", "notify", "kanca_events")
tap.ok(rc == 2 and "PostgreSQL" in err, "on SQLite kancactl refuses a notify action (%s)" % err.strip())
tap.done()
