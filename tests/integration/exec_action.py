#!/usr/bin/env python3
"""exec_action.py: the exec action runs a handler script (no shell) with the raw body on stdin and the
event's metadata in an allow-listed environment that carries no secret: exit 0 is success, a non-zero
exit is retried (the attempt records the exit code and the script's first stderr line), and a script
that outlives its timeout is killed with everything it started and retried. On SQLite and PostgreSQL."""
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
SECRET = "exec-source-secret-value"


def script(path, text):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text)
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return path


def run(kind):
    tmp = kt.make_tempdir("kanca-exec-%s-" % kind)
    os.chmod(tmp, 0o755)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp)
    env.migrate()
    real = {k: v for k, v in env.environ().items() if k != "KANCA_TEST_NOW"}
    real["SOME_PARENT_VARIABLE"] = "must-not-leak"
    L = "[exec/%s]" % kind
    cgi = kt.CgiTransport(env)
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    ok_sh = script(os.path.join(tmp, "ok.sh"), 'cat > %s/body-$KANCA_EVENT_ID\nenv > %s/env-$KANCA_EVENT_ID\nexit 0\n'
                   % (out, out))
    fail_sh = script(os.path.join(tmp, "fail.sh"), 'cat > /dev/null\necho "boom: no database" >&2\nexit 3\n')
    slow_sh = script(os.path.join(tmp, "slow.sh"), '(sleep 30; touch %s/late) &\nsleep 30\n' % out)

    def ctl(*args):
        p = subprocess.run([kt.binary("kancactl"), "-c", env.config] + list(args), capture_output=True, env=real,
                           timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def deliver(account):
        body = ('{"eventId":"%s-1","event":"stock.updated","data":{"ad":"Çay"}}' % account).encode()
        r = cgi.send("POST", "/api/suppliers/%s/webhook" % account,
                     {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)
        eid = store.query("SELECT id FROM events WHERE idempotency_key = ?", ("%s-1" % account,))[0][0]
        return r.status, str(eid), body

    def status(eid):
        return store.query("SELECT status FROM events WHERE id = ?", (eid,))[0][0]

    try:
        env.add_source("supplier", "ok", SECRET)
        rc, o, e = ctl("source", "action", "add", "supplier", "ok", "exec", ok_sh)
        tap.eq(rc, 0, "%s an exec action" % L)
        rc, o, e = ctl("source", "action", "add", "supplier", "ok", "exec", "relative.sh")
        tap.eq(rc, 2, "%s a relative path is refused" % L)
        st, eid, body = deliver("ok")
        ctl("worker", "--drain")
        tap.eq(status(eid), "processed", "%s exit 0 -> processed" % L)
        pub = kt.public_id(store, eid)  # KANCA_EVENT_ID is the event's public id (its webhook-id)
        bpath = os.path.join(out, "body-" + str(pub))
        tap.eq(open(bpath, "rb").read() if os.path.exists(bpath) else None, body, "%s the raw body on stdin" % L)
        epath = os.path.join(out, "env-" + str(pub))
        envtext = open(epath).read() if os.path.exists(epath) else ""
        names = sorted({line.split("=", 1)[0] for line in envtext.splitlines() if "=" in line} - {"PWD", "SHLVL", "_"})
        tap.eq(names, ["KANCA_ACCOUNT", "KANCA_ATTEMPT", "KANCA_EVENT_ID", "KANCA_EVENT_NUMBER", "KANCA_EVENT_TYPE",
                       "KANCA_IDEMPOTENCY_KEY", "KANCA_PROVIDER", "LANG", "PATH"],
               "%s only the allow-listed environment" % L)
        for want in ("KANCA_EVENT_ID=%s" % pub, "KANCA_EVENT_NUMBER=" + eid, "KANCA_PROVIDER=supplier", "KANCA_ACCOUNT=ok",
                     "KANCA_EVENT_TYPE=stock.updated", "KANCA_IDEMPOTENCY_KEY=ok-1"):
            tap.ok(want in envtext.splitlines(), "%s %s" % (L, want))
        tap.ok(SECRET not in envtext and "must-not-leak" not in envtext and "KANCA_CONFIG" not in envtext,
               "%s no secret, no configuration path, nothing inherited" % L)

        env.add_source("supplier", "fails", SECRET, {"retry_attempts": 2, "retry_initial": 1, "retry_max": 1})
        ctl("source", "action", "add", "supplier", "fails", "exec", fail_sh)
        st, eid, body = deliver("fails")
        ctl("worker", "--drain")
        att = store.query("SELECT outcome, exit_code, error FROM attempts WHERE event_id = ? ORDER BY id", (eid,))
        tap.eq([(a[0], str(a[1]), a[2]) for a in att], [("retry", "3", "boom: no database")],
               "%s a non-zero exit is retried, with its exit code and stderr line" % L)
        p = subprocess.Popen([kt.binary("kancactl"), "-c", env.config, "worker"], env=real,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tap.ok(kt.wait_for(lambda: status(eid) == "dead", 20), "%s and dead after the last attempt" % L)
        p.terminate()
        p.wait(timeout=20)

        env.add_source("supplier", "slow", SECRET, {"retry_attempts": 3})
        ctl("source", "action", "add", "supplier", "slow", "exec", slow_sh, "--timeout", "1")
        st, eid, body = deliver("slow")
        t0 = time.time()
        ctl("worker", "--drain")
        took = time.time() - t0
        att = store.query("SELECT outcome, exit_code, error FROM attempts WHERE event_id = ?", (eid,))
        tap.ok(took < 10, "%s the worker did not wait for the 30 s script (%.1f s)" % (L, took))
        tap.eq([(a[0], a[1], a[2]) for a in att], [("retry", None, "killed after 1000 ms")],
               "%s a script past its timeout is killed and retried" % L)
        tap.eq(status(eid), "retry", "%s the event waits for its retry" % L)
        time.sleep(0.5)
        pids = subprocess.run(["pgrep", "-f", slow_sh], capture_output=True).stdout.split()
        tap.eq(pids, [], "%s nothing the script started is left running" % L)
    finally:
        store.close()


run("sqlite")
run("pg")
tap.done()
