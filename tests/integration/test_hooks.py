#!/usr/bin/env python3
"""test_hooks.py: the test hooks (KANCA_TEST_NOW pins the clock, KANCA_TEST_HOLD_FILE holds an answer)
exist only in a build configured with --enable-test-hooks. In a release build (a plain ./configure &&
make: scripts/test.sh runs this test inside make distcheck's build) the hooks' names are absent from
every binary, a Stripe vector signed at a pinned time is refused although KANCA_TEST_NOW says that
time, and a hold file is left alone. In a test-hooks build the same vector is accepted and the hold
file holds the answer. Runs every request through kanca.cgi on a fresh SQLite file."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()

with open(os.path.join(kt.builddir(), "autoconf.h")) as f:
    configured = "#define KANCA_TEST_HOOKS 1" in f.read()
mode = "test-hooks build" if configured else "release build"
tap.diag("this is a %s" % mode)

for name in ("kanca", "kancactl", "cgi-bin/kanca.cgi"):
    with open(kt.binary(name), "rb") as f:
        data = f.read()
    for hook in (b"KANCA_TEST_NOW", b"KANCA_TEST_HOLD_FILE", b"KANCA_TEST_SPOOL_HOLD_FILE",
                 b"KANCA_TEST_DRAIN_HOLD_FILE", b"KANCA_TEST_RESOLVE", b"KANCA_TEST_DYNLIB_MISSING"):
        tap.eq(hook in data, configured, "[%s] %s %s the name %s" % (mode, name, "holds" if configured else
                                                                      "does not hold", hook.decode()))

tmp = kt.make_tempdir("kanca-hooks-")
store = kt.make_store("sqlite", tmp)
env = kt.Kanca(store, tmp, now="real")  # the real clock: this test sets KANCA_TEST_NOW itself
env.migrate()
cgi = kt.CgiTransport(env)

# a Stripe vector signed at the vectors' time, long past: only a pinned clock lets it verify
v = [x for x in kt.load_vectors("stripe") if x["expect"] == "valid"][0]
path, _account = kt.configure_vector_source(env, tmp, 0, v)
method, _, headers, body = kt.vector_request(v)
pinned = dict(kt.cgi_env(method, path, headers, body), KANCA_TEST_NOW=str(v["now"]))
r = cgi.send_env(pinned, body)
stored = store.count("events")
if configured:
    tap.eq(r.status, 200, "[%s] KANCA_TEST_NOW pins the clock: the vector signed at that time verifies" % mode)
    tap.eq(stored, 1, "[%s] and it is stored" % mode)
else:
    tap.eq(r.status, 400, "[%s] KANCA_TEST_NOW has no effect: the vector's old timestamp is refused (%s)"
           % (mode, r.body[:120]))
    tap.ok(b"timestamp" in r.body.lower() or b"tolerance" in r.body.lower(),
           "[%s] the refusal is about the timestamp: %s" % (mode, r.body[:200]))
    tap.eq(stored, 0, "[%s] nothing is stored" % mode)

# KANCA_TEST_HOLD_FILE: a responder that finds the file removes it and holds the committed answer
env.add_source("github", "hold", secret="hold-secret")
gh_body = b'{"zen":"hold"}'
gh_headers = {"Content-Type": "application/json", "X-GitHub-Event": "ping", "X-GitHub-Delivery": "hold-1",
              "X-Hub-Signature-256": "sha256=" + kt.sign_hex("hold-secret", gh_body)}
hold = os.path.join(tmp, "hold")
open(hold, "w").close()
full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
full.update(env.kanca_env())
full.update(kt.cgi_env("POST", "/webhook/github/hold", gh_headers, gh_body))
full["KANCA_TEST_HOLD_FILE"] = hold
start = time.monotonic()
p = subprocess.Popen([kt.binary("cgi-bin/kanca.cgi")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, env=full)
p.stdin.write(gh_body)
p.stdin.close()
if configured:
    gone = kt.wait_for(lambda: not os.path.exists(hold), 15)
    tap.ok(gone, "[%s] the responder removed the hold file" % mode)
    time.sleep(1.0)
    tap.ok(p.poll() is None, "[%s] and holds its answer (still running 1 s later)" % mode)
    p.kill()
    p.wait(10)
else:
    try:
        p.wait(30)
        out = p.stdout.read()
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(10)
        out = b""
    took = time.monotonic() - start
    tap.eq(kt.parse_cgi_output(out).status, 200, "[%s] the delivery is answered" % mode)
    tap.ok(took < 20, "[%s] at once, not held (%.1f s)" % (mode, took))
    tap.ok(os.path.exists(hold), "[%s] KANCA_TEST_HOLD_FILE has no effect: the file is left alone" % mode)
for s in (p.stdout, p.stderr):
    s.close()
tap.done()
