#!/usr/bin/env python3
"""after_answer.py: processing happens after the answer, in a process the responder forked off. With a
forward destination that takes 2 s, the webhook is still answered at once, and the destination is
called only after the answer; the event then reaches processed without any kancactl worker. Through
lighttpd (FastCGI: the responder's long-lived processor child, restarted if it dies) and plain CGI
(a detached child per request), on SQLite and PostgreSQL."""
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
SECRET = "after-answer-secret"


def run(kind, transport):
    tmp = kt.make_tempdir("kanca-after-%s-%s-" % (kind, transport))
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, processing="fork")
    env.migrate()
    env.add_source("supplier", "slow", SECRET)
    sink = Sink()
    sink.start()
    rc, out, err = env.kancactl("source", "action", "add", "supplier", "slow", "forward", sink.url("/hang/2"))
    t = kt.LighttpdTransport(env, tmp, max_procs=1) if transport == "lighttpd" else kt.CgiTransport(env)
    t.start()
    L = "[%s/%s]" % (transport, kind)
    try:
        body = b'{"eventId":"slow-1","event":"stock.updated","data":{}}'
        headers = {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}
        t0 = time.time()
        if transport == "cgi":
            # the answer is complete when kanca.cgi closes its stdout (what a web server waits for)
            p = subprocess.Popen([kt.binary("cgi-bin/kanca.cgi")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL,
                                 env=dict(env.environ(), **kt.cgi_env("POST", "/api/suppliers/slow/webhook", headers, body)))
            p.stdin.write(body)
            p.stdin.close()
            raw = p.stdout.read()
            answered = time.time()
            p.wait(timeout=30)
            r = kt.parse_cgi_output(raw)
        else:
            r = t.send("POST", "/api/suppliers/slow/webhook", headers, body)
            answered = time.time()
        tap.eq(r.status, 200, "%s answered 200" % L)
        tap.ok(answered - t0 < 1.5, "%s in %.0f ms although the destination takes 2 s" % (L, (answered - t0) * 1000))
        ok = sink.wait_for(1, 15, path_prefix="/hang")
        tap.ok(ok, "%s the processor forwarded the event by itself (no kancactl worker)" % L)
        got = sink.requests("/hang")
        if got:
            tap.ok(got[0].time >= answered - 0.05, "%s the destination was called after the answer (%.3f s after)"
                   % (L, got[0].time - answered))
        done = kt.wait_for(lambda: store.query("SELECT status FROM events WHERE idempotency_key = 'slow-1'")[0][0]
                           == "processed", 15)
        tap.ok(done, "%s the event reaches processed" % L)
        if transport == "lighttpd":
            # the processor child dies: the responder starts another after its next request
            procs = t.processors()
            tap.eq(len(procs), 1, "%s the responder runs one processor child" % L)
            for p in procs:
                os.kill(p, signal.SIGKILL)
            time.sleep(0.3)
            body2 = b'{"eventId":"slow-2","event":"stock.updated","data":{}}'
            r = t.send("POST", "/api/suppliers/slow/webhook",
                       {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body2)}, body2)
            tap.eq(r.status, 200, "%s after the processor was killed, the next delivery is answered" % L)
            done = kt.wait_for(lambda: store.query("SELECT status FROM events WHERE idempotency_key = 'slow-2'")[0][0]
                               == "processed", 20)
            tap.ok(done, "%s and processed by a new processor" % L)
    finally:
        t.stop()
        sink.stop()
        store.close()


for kind in ("sqlite", "pg"):
    for transport in ("lighttpd", "cgi"):
        run(kind, transport)
tap.done()
