#!/usr/bin/env python3
"""lighttpd_sqlite.py: the HTTP suite through a real lighttpd on an ephemeral 127.0.0.1 port, kanca
under mod_fastcgi (bin-path, two responders), with a fresh SQLite file; plus lighttpd's own static
file next to kanca's routes."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "lighttpd")


def before(t, store, env):
    r = t.send("GET", "/static.txt")
    tap.eq((r.status, r.body), (200, b"static file served by lighttpd\n"),
           "[lighttpd/sqlite] lighttpd serves its static file")
    r = t.send("GET", "/healthz")
    tap.eq((r.status, kt.health(r.json())), (200, {"status": "ok", "store": "sqlite"}), "[lighttpd/sqlite] GET /healthz")
    tap.eq(len(kt.pids_in_group(t.proc.pid)) - 1, 2, "[lighttpd/sqlite] lighttpd started max-procs = 2 responders")


def after(t, store, env):
    # both responders answered: every request got a well-formed answer, whichever served it
    results = [t.send("GET", "/healthz").status for _ in range(20)]
    tap.eq(results, [200] * 20, "[lighttpd/sqlite] 20 x GET /healthz over both responders")
    log = t.log_tail(100000)  # lighttpd's error log and its stderr (where -D leaves the responders' stderr)
    tap.eq(log.count("FastCGI responder ready"), 2, "[lighttpd/sqlite] both responders logged their start")


t, store, env = kt.run_one(tap, "sqlite", lambda env, tmp: kt.LighttpdTransport(env, tmp), before=before, after=after)
tap.eq(t.pids(), [], "[lighttpd/sqlite] lighttpd and its responders are gone after stop()")
tap.done()
