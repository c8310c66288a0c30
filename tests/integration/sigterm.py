#!/usr/bin/env python3
"""sigterm.py: SIGTERM finishes the request in hand, then the responder exits; an idle responder
exits at once. kanca runs as a FastCGI responder on a unix socket (spawned directly, as spawn-fcgi
would), and requests go through cgi-fcgi."""
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "cgi-fcgi")
SECRET = "sigterm-secret"

tmp = kt.make_tempdir("kanca-sigterm-")
store = kt.make_store("sqlite", tmp)
env = kt.Kanca(store, tmp)
env.migrate()
env.add_source("supplier", "st", SECRET)


def start_responder():
    sock_path = os.path.join(tmp, "kanca-%d.sock" % time.time_ns())
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(sock_path)
    ls.listen(16)
    p = subprocess.Popen([kt.binary("kanca")], stdin=ls.fileno(), stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(tmp, "kanca.log"), "ab"), env=env.environ())
    ls.close()
    kt.at_cleanup(lambda: p.poll() is None and p.kill())
    return p, sock_path


def fcgi(sock_path, body, hold=0.0):
    """Sends a delivery through cgi-fcgi; with hold, the body arrives that many seconds late."""
    envv = kt.cgi_env("POST", "/api/suppliers/st/webhook",
                      {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
    envv.update(env.environ())
    c = subprocess.Popen(["cgi-fcgi", "-bind", "-connect", sock_path], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=envv)
    return c


# 1. idle: SIGTERM ends the responder at once
p, sock_path = start_responder()
time.sleep(0.3)
t0 = time.time()
p.send_signal(signal.SIGTERM)
try:
    rc = p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill()
    rc = None
tap.eq(rc, 0, "an idle responder exits with 0 on SIGTERM")
tap.ok(time.time() - t0 < 2, "and at once (%.2f s)" % (time.time() - t0))

# 2. busy: SIGTERM while the body is still arriving; the request completes, then the process exits
p, sock_path = start_responder()
time.sleep(0.3)
body = b'{"eventId":"sigterm-1","event":"stock.updated","data":{}}'
c = fcgi(sock_path, body)
c.stdin.write(body[:10])
c.stdin.flush()
time.sleep(0.5)  # kanca has accepted and is reading the body
p.send_signal(signal.SIGTERM)
time.sleep(0.3)
tap.ok(p.poll() is None, "the responder is still running while the request is in hand")
c.stdin.write(body[10:])
c.stdin.close()
out = c.stdout.read()
c.wait(timeout=10)
r = kt.parse_cgi_output(out)
tap.eq(r.status, 200, "the request in hand is answered 200 after SIGTERM")
tap.eq(store.count("events", "idempotency_key = ?", ("sigterm-1",)), 1, "and stored")
try:
    rc = p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill()
    rc = None
tap.eq(rc, 0, "then the responder exits with 0 without taking another request")
tap.done()
