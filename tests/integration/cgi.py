#!/usr/bin/env python3
"""cgi.py: the HTTP suite through kanca.cgi (CGI: environment + stdin), on a fresh SQLite file and on a
throwaway PostgreSQL cluster; then the vectors through ./kanca serving one CGI request."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)

kt.run_one(tap, "sqlite", lambda env, tmp: kt.CgiTransport(env))
kt.run_one(tap, "pg", lambda env, tmp: kt.CgiTransport(env))

# ./kanca is the same program as kanca.cgi when its stdin is not a listening socket
tmp = kt.make_tempdir("kanca-cgi-bin-")
store = kt.make_store("sqlite", tmp)
env = kt.Kanca(store, tmp)
env.migrate()
suite = kt.Suite(tap, kt.CgiTransport(env, use_kanca_binary=True), store, env)
suite.vectors()
r = suite.t.send("GET", "/healthz")
suite.expect_json(r, 200, {"status": "ok", "store": "sqlite"}, "GET /healthz")

tap.done()
