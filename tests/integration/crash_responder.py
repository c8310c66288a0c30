#!/usr/bin/env python3
"""crash_responder.py: kill -9 of the responder between the commit of an event and its answer. The
provider sees no 2xx and retries the same delivery; the retry is a duplicate (one event row, the same
answer a first delivery gets) and the event is processed exactly once: the sink sees its webhook-id
once. Under lighttpd (FastCGI, the responder respawned by lighttpd) and plain CGI (the duplicate
delivery itself has the processor look), on SQLite and PostgreSQL.

The window between commit and answer is opened with KANCA_TEST_HOLD_FILE: a responder that finds the
file removes it and sleeps before writing the answer (src/app.c app_test_hold)."""
import json
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
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "lighttpd")
SECRET = "crash-responder-secret"


def request(key):
    body = json.dumps({"eventId": key, "event": "stock.updated", "data": {"sku": "ÇAY-1"}},
                      ensure_ascii=False).encode()
    return {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body


def rows(store, key):
    return store.query("SELECT id, status FROM events WHERE idempotency_key = ?", (key,))


def check_after(L, store, sink, key, retry, first_answer):
    tap.eq(retry.status, 200, "%s the provider's retry is answered 200" % L)
    tap.eq(retry.json(), first_answer, "%s with the answer a first delivery gets" % L)
    r = rows(store, key)
    tap.eq(len(r), 1, "%s one event row for the delivery" % L)
    if not r:
        return
    eid = r[0][0]
    done = kt.wait_for(lambda: str(rows(store, key)[0][1]) == "processed", 20)
    tap.ok(done, "%s the event is processed" % L)
    time.sleep(1.5)  # a second processing, if there were one, would have reached the sink by now
    got = [q.header("webhook-id") for q in sink.requests("/ok/" + key)]
    tap.eq(got.count(kt.public_id(store, eid)), 1, "%s and delivered once (webhook-ids at the sink: %s)" % (L, got))
    tap.eq([tuple(str(x) for x in a) for a in store.query("SELECT outcome FROM attempts WHERE event_id = ?", (eid,))],
           [("ok",)], "%s one attempt" % L)


def lighttpd_case(kind, store, env, sink, tmp):
    L = "[fastcgi/%s]" % kind
    key = "fcgi-crash-1"
    env.kancactl("source", "action", "add", "supplier", "r", "forward", sink.url("/ok/" + key))
    hold = os.path.join(tmp, "hold-fcgi")
    env.extra_env["KANCA_TEST_HOLD_FILE"] = hold
    t = kt.LighttpdTransport(env, tmp, max_procs=1)
    t.start()
    try:
        # the answer of a first delivery, for comparison (another event of the same source)
        h, b = request("fcgi-first")
        first = t.send("POST", "/api/suppliers/r/webhook", h, b)
        open(hold, "w").close()
        headers, body = request(key)
        result = {}

        def send():
            try:
                result["r"] = t.send("POST", "/api/suppliers/r/webhook", headers, body)
            except Exception as e:  # noqa: BLE001 -- the connection may be cut
                result["e"] = e

        th = threading.Thread(target=send)
        th.start()
        committed = kt.wait_for(lambda: not os.path.exists(hold) and len(rows(store, key)) == 1, 15)
        tap.ok(committed, "%s the event is committed and the responder holds its answer" % L)
        responders = t.responders()
        tap.eq(len(responders), 1, "%s one responder" % L)
        for p in responders:
            os.kill(p, signal.SIGKILL)
        th.join(30)
        r = result.get("r")
        tap.ok(r is None or not 200 <= r.status < 300,
               "%s the provider got no 2xx (%s)" % (L, r.status if r else result.get("e")))
        # lighttpd starts a new responder; the provider retries the same delivery
        retry = None
        for _ in range(20):
            retry = t.send("POST", "/api/suppliers/r/webhook", headers, body)
            if retry.status == 200:
                break
            time.sleep(0.25)
        check_after(L, store, sink, key, retry, first.json() if first.status == 200 else None)
    finally:
        t.stop()
        env.extra_env.pop("KANCA_TEST_HOLD_FILE", None)


def cgi_case(kind, store, env, sink, tmp):
    L = "[cgi/%s]" % kind
    key = "cgi-crash-1"
    env.kancactl("source", "action", "add", "supplier", "c", "forward", sink.url("/ok/" + key))
    hold = os.path.join(tmp, "hold-cgi")
    cgi = kt.CgiTransport(env)
    h, b = request("cgi-first")
    h_first = dict(h)
    first = cgi.send("POST", "/api/suppliers/c/webhook", h_first, b)
    open(hold, "w").close()
    headers, body = request(key)
    environ = dict(env.environ(), KANCA_TEST_HOLD_FILE=hold,
                   **kt.cgi_env("POST", "/api/suppliers/c/webhook", headers, body))
    p = subprocess.Popen([kt.binary("cgi-bin/kanca.cgi")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=environ)
    p.stdin.write(body)
    p.stdin.close()
    committed = kt.wait_for(lambda: not os.path.exists(hold) and len(rows(store, key)) == 1, 15)
    tap.ok(committed, "%s the event is committed and kanca.cgi holds its answer" % L)
    p.send_signal(signal.SIGKILL)
    out = p.stdout.read()
    p.wait(timeout=10)
    tap.eq(out, b"", "%s killed: the web server got no answer at all" % L)
    retry = cgi.send("POST", "/api/suppliers/c/webhook", headers, body)
    check_after(L, store, sink, key, retry, first.json() if first.status == 200 else None)


def run(kind):
    tmp = kt.make_tempdir("kanca-crashresp-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real", processing="fork")
    env.migrate()
    env.add_source("supplier", "r", SECRET)
    env.add_source("supplier", "c", SECRET)
    sink = Sink()
    sink.start()
    try:
        lighttpd_case(kind, store, env, sink, tmp)
        cgi_case(kind, store, env, sink, tmp)
    finally:
        sink.stop()
        store.close()


run("sqlite")
run("pg")
tap.done()
