#!/usr/bin/env python3
"""graceful.py: restarts under load lose no request that was answered 2xx, and store each such request
exactly once. A real lighttpd runs the shipped lighttpd/kanca.conf (mod_fastcgi, bin-path, its 8
responders; only paths replaced), on a fresh SQLite file and on a throwaway PostgreSQL cluster.

(a) SIGTERM to kanca responders: kanca finishes the request in hand (src/main.c on_term), exits, and
    lighttpd spawns a new responder. First deterministically: a responder that stored a delivery holds
    its answer (KANCA_TEST_HOLD_FILE) when the SIGTERM comes, and the sender still gets its 200. Then
    under load: 12 SIGTERMs to random responders, 0.25 s apart.
(b) lighttpd's graceful restart, SIGUSR1 (lighttpd >= 1.4.46: "reload gracefully", what Debian's
    `systemctl reload lighttpd` sends; SIGINT would be a graceful shutdown): lighttpd finishes the
    requests in hand, stops its responders with SIGTERM, reads its configuration again and spawns new
    ones. Three of them under load.

The load: 8 clients, each sending unique signed supplier deliveries (eventId graceful-...) one after
the other on new connections, bounded by count and time. Afterwards every key answered 2xx must be in
the events table exactly once, no key may be stored twice, the restarts must have happened (new
responder pids), requests must have been in flight at the signals, and the server must answer again
after the last one. Connection errors and non-2xx answers during a restart are allowed (the sender
delivers again): they are counted and printed. Under (a) lighttpd answers a few requests 500 with
"response not received, request sent ... closing connection" in its error log: requests it had queued
on the stopping responder's own socket (bin-path gives each responder its own), which kanca closes
without accepting them. None of them is stored, and the sender delivers again."""
import os
import random
import re
import signal
import sys
import threading
import time
import http.client

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_tool(tap, "lighttpd")
kt.require_pg(tap)
SECRET = "graceful-secret-4f1c"
CLIENTS = 8
PER_CLIENT = 3000     # requests per client and scenario, at most (the load stops after the signals)
SCENARIO_S = 40.0     # seconds per scenario, at most


class Load:
    """CLIENTS threads sending deliveries until stop() (or their bound)."""

    def __init__(self, t, tag):
        self.t = t
        self.tag = tag
        self.results = []  # (key, status or None, error text or answer body, t_start, t_end)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(CLIENTS)]
        self.deadline = time.monotonic() + SCENARIO_S

    def client(self, i):
        for n in range(PER_CLIENT):
            if self.stopping.is_set() or time.monotonic() > self.deadline:
                return
            key = "graceful-%s-%d-%d" % (self.tag, i, n)
            body = ('{"eventId":"%s","event":"stock.updated","data":{"client":%d,"n":%d}}' % (key, i, n)).encode()
            t0 = time.monotonic()
            status, err = None, ""
            conn = http.client.HTTPConnection("127.0.0.1", self.t.port, timeout=30)
            try:
                conn.request("POST", "/api/suppliers/gr/webhook", body=body,
                             headers={"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)})
                r = conn.getresponse()
                data = r.read()
                status = r.status
                if not 200 <= status < 300:
                    err = data[:200].decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as e:
                err = "%s: %s" % (type(e).__name__, e)
                time.sleep(0.02)  # the server is restarting: do not spin
            finally:
                conn.close()
            with self.lock:
                self.results.append((key, status, err, t0, time.monotonic()))

    def start(self):
        for th in self.threads:
            th.start()
        return self

    def count(self):
        with self.lock:
            return len(self.results)

    def ok_since(self, when):
        with self.lock:
            return sum(1 for r in self.results if r[1] is not None and 200 <= r[1] < 300 and r[3] > when)

    def stop(self):
        self.stopping.set()
        for th in self.threads:
            th.join(timeout=40)
        return [th for th in self.threads if th.is_alive()]

    def in_flight(self, when):
        with self.lock:
            return sum(1 for r in self.results if r[3] < when < r[4])


def check(L, store, load, signals):
    """The load's results against the events table."""
    ok = [r[0] for r in load.results if r[1] is not None and 200 <= r[1] < 300]
    other = {}
    errors = {}
    samples = {}
    for r in load.results:
        if r[1] is None:
            errors[r[2].split(":")[0]] = errors.get(r[2].split(":")[0], 0) + 1
        elif not 200 <= r[1] < 300:
            other[r[1]] = other.get(r[1], 0) + 1
            samples.setdefault(r[1], " ".join(r[2].split())[:160])
    tap.diag("%s %d requests: %d answered 2xx, other answers %s, connection errors %s" % (
        L, len(load.results), len(ok), other or "none", errors or "none"))
    for status, body in samples.items():
        tap.diag("%s   %d looks like: %s" % (L, status, body))
    stored = {k: int(n) for k, n in store.query(
        "SELECT idempotency_key, count(*) FROM events WHERE idempotency_key LIKE ? GROUP BY idempotency_key",
        ("graceful-%s-%%" % load.tag,))}
    missing = [k for k in ok if stored.get(k) != 1]
    tap.eq(missing, [], "%s every one of the %d requests answered 2xx is stored exactly once" % (L, len(ok)))
    tap.eq([k for k, n in stored.items() if n != 1], [], "%s no key is stored twice" % L)
    extra = sorted(set(stored) - set(ok))
    if extra:
        tap.diag("%s stored but not answered 2xx (the sender retries; a duplicate then): %s" % (L, extra[:10]))
    tap.ok(len(ok) >= 200, "%s the load was real: %d deliveries answered 2xx" % (L, len(ok)))
    spanning = sum(load.in_flight(s) for s in signals)
    tap.ok(spanning >= 1, "%s requests were in flight when the signals came (%d in all)" % (L, spanning))
    tap.ok(load.ok_since(signals[-1] + 0.5) >= 1, "%s the server answered 2xx again after the last signal" % L)


def run(kind):
    tmp = kt.make_tempdir("kanca-graceful-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, max_body_bytes="1M")
    env.migrate()
    env.add_source("supplier", "gr", SECRET)
    hold = os.path.join(tmp, "hold")
    t = kt.LighttpdTransport(env, tmp, shipped="kanca.conf",
                             replace={"/usr/local/bin/kanca": kt.binary("kanca"),
                                      "/run/lighttpd/kanca.sock": os.path.join(tmp, "kanca.sock"),
                                      "/etc/kanca/kanca.conf": env.config},
                             extra_env={"KANCA_TEST_HOLD_FILE": hold})
    t.start()
    L = "[%s]" % kind
    n = t.responder_count
    try:
        first = kt.wait_for(lambda: t.responders() if len(t.responders()) == n else None, 15) or []
        tap.eq(len(first), n, "%s lighttpd spawned the shipped max-procs = %d responders" % (L, n))

        # (a) deterministic: SIGTERM while a responder holds a stored answer
        open(hold, "w").close()
        body = b'{"eventId":"graceful-held","event":"stock.updated","data":{}}'
        box = {}

        def send():
            box["r"] = t.send("POST", "/api/suppliers/gr/webhook",
                              {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
        th = threading.Thread(target=send, daemon=True)
        th.start()
        kt.wait_for(lambda: not os.path.exists(hold), 10)
        holder = kt.wait_for(lambda: held_by(t), 5)
        tap.ok(holder in first, "%s a responder stored a delivery and holds its answer (pid %s)" % (L, holder))
        if holder:
            os.kill(holder, signal.SIGTERM)
        th.join(timeout=20)
        r = box.get("r")
        tap.eq(r.status if r else None, 200, "%s SIGTERM to that responder: the sender still gets 200" % L)
        tap.eq(store.count("events", "idempotency_key = 'graceful-held'"), 1, "%s ... and the delivery is stored" % L)
        back = kt.wait_for(lambda: t.responders() if len(t.responders()) == n and holder not in t.responders()
                           else None, 15)
        tap.ok(back, "%s the responder exited and lighttpd spawned a new one (%d again)" % (L, n))

        # (a) under load: SIGTERM to random responders
        load = Load(t, "%s-term" % kind).start()
        time.sleep(0.5)
        signals, killed = [], []
        for _ in range(12):
            pids = t.responders()
            if pids:
                victim = random.choice(pids)
                signals.append(time.monotonic())
                try:
                    os.kill(victim, signal.SIGTERM)
                    killed.append(victim)
                except ProcessLookupError:
                    pass
            time.sleep(0.25)
        time.sleep(1.0)
        hung = load.stop()
        tap.eq(len(hung), 0, "%s (a) the load's clients finished" % L)
        now = kt.wait_for(lambda: t.responders() if len(t.responders()) == n else None, 15) or []
        tap.ok(len(killed) == 12 and len(now) == n and not set(now) & set(killed),
               "%s (a) 12 responders got SIGTERM, lighttpd replaced each: %d running, none of the old" % (L, len(now)))
        check(L + " (a) SIGTERM to responders:", store, load, signals)

        # (b) lighttpd's graceful restart under load
        load = Load(t, "%s-usr1" % kind).start()
        time.sleep(0.5)
        signals = []
        for i in range(3):
            before = set(t.responders())
            signals.append(time.monotonic())
            try:
                new = t.graceful_restart()
            except RuntimeError as e:
                tap.diag(str(e))
                new = []
            tap.ok(len(new) == n and not set(new) & before,
                   "%s (b) graceful restart %d: lighttpd runs %d new responders" % (L, i + 1, len(new)))
            time.sleep(0.7)
        time.sleep(0.5)
        hung = load.stop()
        tap.eq(len(hung), 0, "%s (b) the load's clients finished" % L)
        tap.ok(t.proc.poll() is None, "%s (b) lighttpd is still the same running process" % L)
        check(L + " (b) SIGUSR1 to lighttpd:", store, load, signals)
    finally:
        t.stop()
        store.close()


def held_by(t):
    """The responder that holds a stored answer (its log line "holding the answer")."""
    pids = re.findall(r"kanca\[(\d+)\] warn [^\n]*holding the answer", t.log_tail(100000))
    return int(pids[-1]) if pids else None


run("sqlite")
run("pg")
tap.done()
