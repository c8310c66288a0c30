#!/usr/bin/env python3
"""fastcgi.py: the HTTP suite through ./kanca as a FastCGI application on a unix socket (started with
cgi-fcgi -start, each request through cgi-fcgi -bind), on a fresh SQLite file and on a throwaway
PostgreSQL cluster; then once more on PostgreSQL with the app started directly on the socket with
stdout and stderr open (as spawn-fcgi or a web server starts it)."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "cgi-fcgi")
kt.require_pg(tap)


def first_answer(t, store, env):
    # cgi-fcgi -start leaves the app's stdout and stderr closed: kanca must still answer well-formed
    # (a request that kanca logs at level info: the log line must not reach the FastCGI connection)
    for _ in range(2):
        r = t.send("POST", "/api/suppliers/first-request/webhook", {"Content-Type": "application/json"}, b"{}")
        if not tap.eq((r.status, r.json()), (404, {"success": False, "error": "Supplier not found"}),
                      "[%s/%s] kanca started by cgi-fcgi -start (stdout and stderr closed) answers a logged request"
                      % (t.name, store.name)):
            tap.diag("cgi-fcgi output %r; %s" % (r.raw[:300], r.stderr.decode(errors="replace")[-600:]))


def gone_after_stop(kind):
    def check(t, store, env):
        pids = t.pids()
        tap.ok(len(pids) == 1, "[%s/%s] one long-lived responder served the whole suite (%r)" % (t.name, kind, pids))
    return check


for kind, spawn in (("sqlite", "cgi-fcgi"), ("pg", "cgi-fcgi"), ("pg", "direct")):
    t, store, env = kt.run_one(tap, kind, lambda env, tmp: kt.FcgiTransport(env, tmp, spawn=spawn),
                               before=first_answer if spawn == "cgi-fcgi" else None, after=gone_after_stop(kind))
    tap.eq(t.pids(), [], "[%s/%s] the FastCGI app is gone after stop()" % (t.name, store.name))

tap.done()
