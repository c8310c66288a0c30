#!/usr/bin/env python3
"""cgi.py: the HTTP suite through kanca.cgi (CGI: environment + stdin), on a fresh SQLite file and on a
throwaway PostgreSQL cluster; then the vectors through ./kanca serving one CGI request; then answers
given without reading the body, with the body written whole before the answer is read, over a socket,
as Apache's mod_cgid does: kanca.cgi reads and drops the body, so the write succeeds and the answer
arrives whole."""
import os
import socket
import subprocess
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
suite.eq((r.status, kt.health(r.json())), (200, {"status": "ok", "store": "sqlite"}), "GET /healthz")


def cgid_style(env, path, body, content_length=True):
    """Runs kanca.cgi with a socket for stdin and stdout; writes the whole body, then reads the answer."""
    ours, theirs = socket.socketpair()
    headers = {"Content-Type": "application/json"}
    if not content_length:
        headers["Transfer-Encoding"] = "chunked"
    cenv = dict(env.environ(), **kt.cgi_env("POST", path, headers, body, content_length=content_length))
    p = subprocess.Popen([kt.binary("cgi-bin/kanca.cgi")], stdin=theirs, stdout=theirs, stderr=subprocess.DEVNULL,
                         env=cenv)
    theirs.close()
    ours.settimeout(30)
    try:
        ours.sendall(body)
        ours.shutdown(socket.SHUT_WR)
        wrote = True
    except OSError as e:
        wrote = e
    raw = b""
    try:
        while True:
            chunk = ours.recv(65536)
            if not chunk:
                break
            raw += chunk
    except OSError as e:
        raw = raw or repr(e).encode()
    ours.close()
    p.wait(timeout=30)
    return wrote, raw


for label, path, body, want in (
        ("a body over max_body_bytes (413)", "/api/suppliers/demo/webhook", b"x" * (1536 * 1024), b"413"),
        ("an unknown route (404)", "/webhook/nosuch/x", b"{}", b"404"),
        ("an unknown supplier (404) with a 40 KiB body", "/api/suppliers/nobody/webhook", b"y" * (40 * 1024),
         b"404")):
    wrote, raw = cgid_style(env, path, body)
    tap.eq(wrote, True, "mod_cgid style, %s: the whole body could be written" % label)
    tap.ok(raw.startswith(b"Status: " + want) and raw.endswith(b"}"),
           "mod_cgid style, %s: the answer arrived whole: %r" % (label, raw[:80]))

tap.done()
