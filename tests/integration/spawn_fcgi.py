#!/usr/bin/env python3
"""spawn_fcgi.py: the FastCGI pool of systemd/kanca-fcgi.socket + kanca-fcgi.service, run for real.

There is no systemd here (PID 1 is not systemd), so kt.SystemdService does what systemd would: it reads
the SHIPPED units (only the paths the units mark CHANGE are replaced by temp paths, and the unit's user
"kanca" is nobody when the test runs as root), creates the listening unix socket as the .socket unit
describes (mode, owner, group), runs ExecStart= with Environment= and EnvironmentFile= (which sets
KANCA_PROCS=3 over the unit's 4) and the socket as fd 0, sends stdout/stderr to a "journal" file, and
stops the way KillMode=/KillSignal= say. `systemd-analyze verify` checks the units themselves (it works
without systemd as PID 1).

Checked: the pool has KANCA_PROCS responders (and their processors), running as the unit's user; the
socket's mode and group; kanca's log reaches the journal; a killed responder is forked again by
multiwatch; SIGTERM to a responder or to the whole pool (multiwatch passes SIGUSR1 on) answers the
request in hand first, and the pool stop leaves no process; requests sent while the pool is stopped
wait in the socket and are answered after the restart (why the unit uses socket activation); a request
whose body is still arriving at the stop is answered 200; with --signal=TERM the request in hand
would be lost (why the unit has no --signal: Debian's multiwatch sends SIGQUIT for it); a configuration
error makes multiwatch give up and exit with 0 (why Restart=always); and the spawn-fcgi command line of
systemd/README.md for hosts without systemd."""
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
for tool in ("multiwatch", "spawn-fcgi", "cgi-fcgi"):
    kt.require_tool(tap, tool)
SERVICE = os.path.join(kt.srcdir(), "systemd", "kanca-fcgi.service")
SOCKET = os.path.join(kt.srcdir(), "systemd", "kanca-fcgi.socket")
SECRET = "pool-secret-0123456789"
USER = kt.service_user()  # (nobody, nogroup) as root, else None
KANCA_BIN = kt.binary("kanca")

tmp = kt.make_tempdir("kanca-spawn-fcgi-")
os.chmod(tmp, 0o755)  # the unit's user (nobody) reaches the config, the store and the socket
storedir = os.path.join(tmp, "store")
os.mkdir(storedir)
store = kt.make_store("sqlite", storedir)
# processing = fork, as in production: every responder has its processor, which must stop with it
env = kt.Kanca(store, tmp, max_body_bytes="1M", processing="fork")
env.migrate()
env.add_source("supplier", "pool", SECRET)
kt.give_to(USER, storedir)
# KANCA_TEST_HOLD_FILE: the next stored request is held until a signal; in a directory the unit's user
# may write, since kanca removes the file when it holds
HOLD = os.path.join(storedir, "hold")


def defaults_file(name, **values):
    """What a site puts in /etc/default/kanca."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("# /etc/default/kanca, written by spawn_fcgi.py\n")
        for k, v in values.items():
            f.write("%s=%s\n" % (k, v))
    return path


def service(tag, defaults, extra_replace=None):
    sock = os.path.join(tmp, tag, "run", "kanca", "kanca.sock")
    replace = {"/usr/local/bin/kanca": KANCA_BIN, "/etc/kanca/kanca.conf": env.config,
               "/etc/default/kanca": defaults, "/run/kanca/kanca.sock": sock}
    replace.update(extra_replace or {})
    os.makedirs(os.path.join(tmp, tag))
    os.chmod(os.path.join(tmp, tag), 0o755)
    return kt.SystemdService(tmp, SERVICE, SOCKET, replace=replace, users={"kanca": USER[0]} if USER else None,
                             groups={"kanca": USER[1], "www-data": "www-data"} if USER else None)


def fcgi_start(sock, method, path, headers=None, body=b""):
    envv = kt.cgi_env(method, path, headers or {}, body)
    envv["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    c = subprocess.Popen(["cgi-fcgi", "-bind", "-connect", sock], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=envv)
    c.stdin.write(body)
    c.stdin.close()
    c.stdin = None  # communicate() must not flush it again
    return c


def fcgi_finish(c, timeout=20):
    try:
        out, err = c.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        c.kill()
        out, err = c.communicate()
    return kt.parse_cgi_output(out, err)


def fcgi(sock, method, path, headers=None, body=b""):
    return fcgi_finish(fcgi_start(sock, method, path, headers, body))


def delivery(eid):
    body = ('{"eventId":"%s","event":"stock.updated","data":{"sku":"P-1"}}' % eid).encode()
    return {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body


def deliver_start(sock, eid):
    h, b = delivery(eid)
    return fcgi_start(sock, "POST", "/api/suppliers/pool/webhook", h, b)


def stored(eid):
    return store.count("events", "idempotency_key = ?", (eid,))


def uid_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def held_pid(svc, timeout=10):
    """The responder that holds a stored request (its journal line "holding the answer")."""
    def find():
        pids = re.findall(r"kanca\[(\d+)\] warn [^\n]*holding the answer", open(svc.journal, errors="replace").read())
        return int(pids[-1]) if pids and not os.path.exists(HOLD) else None
    return kt.wait_for(find, timeout)


def responders(svc, n, timeout=10, without=()):
    """Waits for n kanca children of multiwatch, none of them in without."""
    def ok():
        ch = [p for p in svc.children() if exe_of(p) == KANCA_BIN]
        return ch if len(ch) == n and not set(ch) & set(without) else None
    return kt.wait_for(ok, timeout) or [p for p in svc.children() if exe_of(p) == KANCA_BIN]


def journal_count(svc, text):
    try:
        return open(svc.journal, errors="replace").read().count(text)
    except OSError:
        return 0


# -- 1. systemd-analyze verify on the shipped units
analyze = shutil.which("systemd-analyze")
if analyze:
    p = subprocess.run([analyze, "verify", SOCKET, SERVICE], capture_output=True, text=True, timeout=60)
    tap.eq((p.returncode, p.stdout + p.stderr), (0, ""), "systemd-analyze verify: both shipped units, no warning")
    # the check can fail: a misspelt key in a copy is reported
    bad = os.path.join(tmp, "verify")
    os.mkdir(bad)
    shutil.copy(SOCKET, bad)
    with open(SERVICE) as f:
        text = f.read()
    with open(os.path.join(bad, "kanca-fcgi.service"), "w") as f:
        f.write(text.replace("KillMode=mixed", "KilMode=mixed"))
    p = subprocess.run([analyze, "verify", os.path.join(bad, "kanca-fcgi.socket"),
                        os.path.join(bad, "kanca-fcgi.service")], capture_output=True, text=True, timeout=60)
    tap.ok("Unknown key 'KilMode'" in p.stdout + p.stderr,
           "systemd-analyze verify reports a misspelt key in a copy (%s)" % (p.stdout + p.stderr).strip()[:200])
elif kt.in_ci():
    tap.ok(False, "systemd-analyze is installed (CI=true: a missing tool is a failure; Debian package systemd)")
else:
    tap.skip("systemd-analyze not found (Debian package systemd)", "systemd-analyze verify on the shipped units")

# -- 2. the pool as the unit starts it
defaults = defaults_file("default-kanca", KANCA_PROCS=3, KANCA_TEST_NOW=env.now, KANCA_TEST_HOLD_FILE=HOLD)
svc = service("pool", defaults).start()
tap.eq(svc.argv, ["/usr/bin/multiwatch", "--forks=3", "--", KANCA_BIN],
       "ExecStart= with ${KANCA_PROCS} from the EnvironmentFile (3, over the unit's Environment=KANCA_PROCS=4)")
tap.eq((svc.env.get("KANCA_CONFIG"), svc.env.get("GNUTLS_NO_IMPLICIT_INIT")), (env.config, "1"),
       "the unit's Environment= gives kanca KANCA_CONFIG and GNUTLS_NO_IMPLICIT_INIT")
resp = responders(svc, 3)
tap.eq(len(resp), 3, "multiwatch runs KANCA_PROCS = 3 kanca responders (%s)" % resp)
tap.ok(kt.wait_for(lambda: journal_count(svc, "FastCGI responder ready") == 3, 10),
       "kanca's stderr reaches the journal: 3 x \"FastCGI responder ready\"")
procs = kt.wait_for(lambda: [p for p in svc.pids() if kt.parent_pid(p) in resp and exe_of(p) == KANCA_BIN]
                    if len([p for p in svc.pids() if kt.parent_pid(p) in resp]) == 3 else None, 10) or []
tap.eq(len(procs), 3, "each responder forked its processor (processing = fork)")
st = os.stat(svc.listen_path)
tap.eq((stat.S_ISSOCK(st.st_mode), oct(st.st_mode & 0o777)), (True, "0o660"), "the socket has SocketMode=0660")
if USER:
    import grp
    import pwd
    tap.eq(grp.getgrgid(st.st_gid).gr_name, "www-data", "the socket's group is www-data (SocketGroup=): the web "
           "server's user can connect")
    tap.eq(sorted({uid_of(p) for p in resp + procs}), [pwd.getpwnam(USER[0]).pw_uid],
           "responders and processors run as the unit's User= (kanca; here %s)" % USER[0])
else:
    tap.skip("not root: everything runs as the test's user", "the socket's group and the responders' user")

r = fcgi(svc.listen_path, "GET", "/healthz")
tap.eq((r.status, kt.health(r.json())), (200, {"status": "ok", "store": "sqlite"}), "GET /healthz through the pool's socket")
h, b = delivery("pool-1")
r = fcgi(svc.listen_path, "POST", "/api/suppliers/pool/webhook", h, b)
tap.eq((r.status, (r.json() or {}).get("success")), (200, True), "a signed delivery through the pool -> 200")
tap.eq(stored("pool-1"), 1, "... and it is stored")
tap.ok(kt.wait_for(lambda: journal_count(svc, "stored event") >= 1, 5), "the journal has kanca's line for it")

# -- 3. a killed responder is forked again
victim = resp[0]
os.kill(victim, signal.SIGKILL)
again = responders(svc, 3, without=[victim])
tap.ok(len(again) == 3 and victim not in again, "kill -9 of a responder: multiwatch forks a new one (%s -> %s)" %
       (victim, sorted(set(again) - set(resp))))
tap.ok(re.search(r"[Cc]hild\[\d+\] (died|failed)", open(svc.journal, errors="replace").read()),
       "multiwatch's note about it is in the journal")
h, b = delivery("pool-2")
tap.eq(fcgi(svc.listen_path, "POST", "/api/suppliers/pool/webhook", h, b).status, 200,
       "the pool answers after the restart of the responder")

# -- 4. SIGTERM to a responder with a request in hand: answered, then the responder is replaced
open(HOLD, "w").close()
c = deliver_start(svc.listen_path, "pool-held-1")
holder = held_pid(svc)
tap.ok(holder in again, "a responder stored the request and holds its answer (pid %s)" % holder)
before = set(responders(svc, 3))
if holder:
    os.kill(holder, signal.SIGTERM)
r = fcgi_finish(c)
tap.eq(r.status, 200, "SIGTERM to that responder: the request in hand is answered 200")
tap.eq(stored("pool-held-1"), 1, "... and stored once")
now = responders(svc, 3, without=[holder])
tap.ok(holder not in now and len(now) == 3, "the responder exited and multiwatch forked a new one (%s -> %s)" %
       (holder, sorted(set(now) - before)))

# -- 5. stop (SIGTERM to the pool), requests wait in the socket, start: they are answered
rc, secs, left = svc.stop()
tap.eq((rc, left), (0, []), "systemctl stop: multiwatch exits 0 and no process had to be killed")
tap.ok(secs < 5, "... within %.2f s" % secs)
waiting = [deliver_start(svc.listen_path, "pool-wait-%d" % i) for i in range(4)]
time.sleep(1.0)
tap.eq([c.poll() for c in waiting], [None] * 4,
       "while the pool is stopped, 4 requests connect to the kept socket and wait (none failed)")
svc.start()
answers = [fcgi_finish(c).status for c in waiting]
tap.eq(answers, [200] * 4, "after the start they are answered 200: a restart loses no request")
tap.eq([stored("pool-wait-%d" % i) for i in range(4)], [1] * 4, "... and each is stored once")
responders(svc, 3)

# -- 6. SIGTERM to the pool with a request in hand: answered, then everything stops
open(HOLD, "w").close()
c = deliver_start(svc.listen_path, "pool-held-2")
holder = held_pid(svc)
tap.ok(holder is not None, "a request is held by a responder while the pool is stopped")
pgid = svc.main_pid
rc, secs, left = svc.stop()
r = fcgi_finish(c)
tap.eq(r.status, 200, "SIGTERM to the pool: the request in hand is answered 200")
tap.eq(stored("pool-held-2"), 1, "... and stored")
tap.eq((rc, left, kt.pids_in_group(pgid)), (0, [], []),
       "multiwatch exits 0, every responder and processor ended by itself, none is left")
tap.ok(secs < 5, "the stop took %.2f s" % secs)
svc.close()

# -- 7. a request whose body is still arriving when the pool stops (multiwatch sends SIGUSR1)
svc = service("body", defaults).start()
responders(svc, 3)
h, b = delivery("pool-slow-body")
c = subprocess.Popen(["cgi-fcgi", "-bind", "-connect", svc.listen_path], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     env=dict(kt.cgi_env("POST", "/api/suppliers/pool/webhook", h, b), PATH=os.environ["PATH"]))
c.stdin.write(b[:10])
c.stdin.flush()
time.sleep(0.5)  # a responder has accepted and waits for the rest of the body
os.kill(svc.main_pid, signal.SIGTERM)
time.sleep(0.3)
try:
    c.stdin.write(b[10:])
    c.stdin.close()
except BrokenPipeError:
    pass
c.stdin = None
r = fcgi_finish(c)
# kanca handles SIGUSR1 (multiwatch's stop signal) itself, with SA_RESTART: libfcgi's handler, which
# it replaces, broke the body read (a 400 "body shorter than Content-Length")
tap.ok(r.status == 200, "pool stop while a body is still arriving: the request is answered 200 (got %s)" % r.status)
svc.close()

# -- 8. why the unit has no --signal: with --signal=TERM, Debian's multiwatch sends SIGQUIT
svc = service("sigquit", defaults, {"--forks=${KANCA_PROCS} --": "--forks=${KANCA_PROCS} --signal=TERM --"}).start()
tap.eq(svc.argv[:3], ["/usr/bin/multiwatch", "--forks=3", "--signal=TERM"], "a copy of the unit with --signal=TERM")
responders(svc, 3)
open(HOLD, "w").close()
c = deliver_start(svc.listen_path, "pool-sigquit")
tap.ok(held_pid(svc) is not None, "a request is held")
svc.stop()
r = fcgi_finish(c)
tap.ok(r.status != 200, "with --signal=TERM the pool stop loses the request in hand (status %s; multiwatch 1.0.0 "
       "sends SIGQUIT for TERM): the shipped unit must keep multiwatch's default" % r.status)
svc.close()

# -- 9. a configuration error: multiwatch gives up and exits 0 (hence Restart=always, not on-failure)
broken = os.path.join(tmp, "broken.conf")
with open(broken, "w") as f:
    f.write("store = sqlite:%s\nno_such_key = 1\n" % os.path.join(storedir, "kanca.db"))
svc = service("broken", defaults_file("default-broken", KANCA_PROCS=2, KANCA_CONFIG=broken)).start()
try:
    rc = svc.proc.wait(timeout=15)
except subprocess.TimeoutExpired:
    rc = None
log = svc.log_tail(200)
tap.eq(rc, 0, "with a configuration error multiwatch gives up and exits with status 0")
tap.ok("configuration error" in log and "died to often" in log,
       "the journal says why (kanca's configuration error, multiwatch's \"died to often\")")
tap.eq(kt.unit_get(svc.unit, "Service", "Restart"), "always",
       "so the unit restarts on any exit (Restart=always; on-failure would leave the pool down)")
svc.close()

# -- 10. spawn-fcgi, for hosts without systemd (the command line of systemd/README.md)
with open(os.path.join(kt.srcdir(), "systemd", "README.md"), encoding="utf-8") as f:
    readme = f.read()
m = re.search(r"```sh\n([^`]*?spawn-fcgi -n[^`]*?)\n```", readme)
tap.ok(m, "systemd/README.md has the spawn-fcgi command line")
if m:
    words = shlex.split(m.group(1).replace("\\\n", " "))
    assigns = {}
    while words and re.match(r"[A-Z_]+=", words[0]):
        k, _, v = words.pop(0).partition("=")
        assigns[k] = v
    sock = os.path.join(tmp, "spawn", "kanca.sock")
    os.makedirs(os.path.dirname(sock))
    os.chmod(os.path.dirname(sock), 0o755)
    names = {"kanca": USER[0] if USER else "nobody"}
    groups = {"kanca": USER[1] if USER else "nogroup", "www-data": "www-data"}
    subst = {"/etc/kanca/kanca.conf": env.config, "/run/kanca/kanca.sock": sock, "/usr/local/bin/kanca": KANCA_BIN}
    argv = []
    for i, w in enumerate(words):
        flag = words[i - 1] if i else ""
        if flag in ("-u", "-U"):
            w = names.get(w, w)
        elif flag in ("-g", "-G"):
            w = groups.get(w, w)
        argv.append(subst.get(w, w))
    envv = {"PATH": "/usr/bin:/bin", "KANCA_TEST_NOW": str(env.now)}
    envv.update({k: subst.get(v, v) for k, v in assigns.items()})
    tap.eq(envv.get("KANCA_CONFIG"), env.config, "the README's line sets KANCA_CONFIG")
    slog = os.path.join(tmp, "spawn-fcgi.log")
    with open(slog, "ab") as lf:
        sp = subprocess.Popen([shutil.which("spawn-fcgi")] + argv[1:], env=envv, stdin=subprocess.DEVNULL,
                              stdout=lf, stderr=lf, start_new_session=True, cwd="/")
    kt.at_cleanup(lambda: kt.kill_group(sp.pid))
    forks = int(re.search(r"--forks=(\d+)", m.group(1)).group(1))

    def spawned():
        ch = [p for p in kt.pids_in_group(sp.pid) if kt.parent_pid(p) == sp.pid and exe_of(p) == KANCA_BIN]
        return ch if len(ch) == forks else None
    ch = kt.wait_for(spawned, 10) or []
    tap.eq(len(ch), forks, "spawn-fcgi -n execs multiwatch in place, which runs %d responders" % forks)
    tap.eq(exe_of(sp.pid), shutil.which("multiwatch"), "spawn-fcgi's pid is multiwatch's (-n)")
    st = os.stat(sock)
    tap.eq(oct(st.st_mode & 0o777), "0o660", "spawn-fcgi made the socket mode 0660 (-M)")
    if USER:
        import grp
        tap.eq(grp.getgrgid(st.st_gid).gr_name, "www-data", "... group www-data (-G)")
    r = fcgi(sock, "GET", "/healthz")
    tap.eq((r.status, kt.health(r.json())), (200, {"status": "ok", "store": "sqlite"}), "GET /healthz through spawn-fcgi's socket")
    h, b = delivery("spawn-1")
    tap.eq(fcgi(sock, "POST", "/api/suppliers/pool/webhook", h, b).status, 200, "a delivery through spawn-fcgi -> 200")
    tap.ok(kt.wait_for(lambda: open(slog, errors="replace").read().count("FastCGI responder ready") == forks, 5),
           "kanca's log reaches spawn-fcgi's stderr (no-fork mode keeps it)")
    sp.send_signal(signal.SIGTERM)
    try:
        rc = sp.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = None
    tap.eq((rc, kt.wait_for(lambda: not kt.pids_in_group(sp.pid), 5)), (0, True),
           "SIGTERM to spawn-fcgi's pid stops all responders")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sock)
        refused = None
    except OSError as e:
        refused = e.errno
    finally:
        s.close()
    tap.ok(refused is not None, "unlike the socket unit, nothing listens while spawn-fcgi is stopped (%s): a "
           "request in that gap fails" % (os.strerror(refused) if refused else "connected"))
tap.done()
