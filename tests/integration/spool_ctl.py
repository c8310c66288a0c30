#!/usr/bin/env python3
"""spool_ctl.py: the operator's side of the spool, run for real: kancactl spool status and spool drain, and
kancactl doctor's checks of the store's files, of a write to the store and of the spool directory.

Deliveries are spooled the way they are in production: kanca.cgi (CGI) receives a signed supplier delivery
while the SQLite store sits on a tmpfs mounted read-only (with its -wal and -shm files, so SQLite can still
read it: the source is found, the delivery verified), and answers 200 "Event queued" from the spool. The test
runs as root, whom file modes do not stop, so read-only means a read-only mount. Then: status counts the
records and their bytes; a drain into the read-only store stops and says why; a drain while another process
holds drain.lock does nothing and says so; one record with a corrupted byte is set aside into bad/ and never
stored while the others are stored exactly once; a second drain stores nothing; the sender's retry is a
duplicate. doctor FAILs on the read-only store and on an unwritable spool, each with the fix naming the path,
FAILs on a leftover -shm file that kanca's user cannot write, and warns about waiting and set-aside records."""
import fcntl
import json
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
if os.geteuid() != 0:
    tap.skip_all("needs root: the read-only store and spool are tmpfs mounts remounted read-only")
kt.require_tool(tap, "mount")
kt.require_tool(tap, "umount")

SECRET = "spool-ctl-secret-0123456789abcdef"
MAX = 8 * 1024 * 1024  # spool_max_bytes, not the default: status must read it from the configuration
LINE = re.compile(r"^(ok|warn|FAIL) +([^:]+): (.*)$")
DRAINED = re.compile(r"^(\d+) deliveries stored, (\d+) set aside, (\d+) waiting$")

tmp = kt.make_tempdir("kanca-spool-ctl-")
store = kt.make_store("sqlite", tmp)
spool = os.path.join(tmp, "spool")
env = kt.Kanca(store, tmp, now="real", spool_dir=spool, spool_max_bytes="8M")
env.migrate()
env.add_source("supplier", "sp", SECRET)
cgi = kt.CgiTransport(env)
mounts = []


def mount_tmpfs(d):
    os.makedirs(d, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", d], check=True, timeout=30)
    mounts.append(d)


def remount(d, how):
    subprocess.run(["mount", "-o", "remount," + how, d], check=True, timeout=30)


def umount_all():
    while mounts:
        subprocess.run(["umount", mounts.pop()], timeout=30)


kt.at_cleanup(umount_all)  # after the test, before the temp dir is removed (cleanups run last first)


def readonly_copy(name):
    """A copy of the store on a tmpfs mounted read-only. SQLite reads a WAL database on a read-only file system
    only when its -wal and -shm files are there: they exist while a connection is open, so they are copied
    then. kanca opens it, finds the source, verifies, and cannot write."""
    d = os.path.join(tmp, name)
    mount_tmpfs(d)
    con = sqlite3.connect(store.path)
    try:
        con.execute("SELECT count(*) FROM sources").fetchall()
        for suffix in ("", "-wal", "-shm"):
            shutil.copy(store.path + suffix, os.path.join(d, "kanca.db" + suffix))
    finally:
        con.close()
    remount(d, "ro")
    return d, os.path.join(d, "kanca.db")


def deliver(key):
    body = json.dumps({"eventId": key, "event": "stock.updated", "data": {"sku": key}}).encode()
    return cgi.send("POST", "/api/suppliers/sp/webhook",
                    {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body)


def stored(key):
    return store.count("events", "idempotency_key = ?", (key,))


def status():
    rc, out, err = env.kancactl("spool", "status", "--json")
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err + out


def drain():
    """-> (rc, (stored, set aside, waiting) or None, stdout, stderr)"""
    rc, out, err = env.kancactl("spool", "drain", timeout=60)
    m = DRAINED.match(out.splitlines()[0]) if out else None
    return rc, tuple(int(x) for x in m.groups()) if m else None, out, err


def doctor(config=None):
    """-> (rc, [(level, check, text)], output)"""
    args = [kt.binary("kancactl"), "-c", config or env.config, "doctor"]
    p = subprocess.run(args, capture_output=True, env=env.environ(), timeout=120)
    out = p.stdout.decode(errors="replace")
    return p.returncode, [LINE.match(x).groups() for x in out.splitlines() if LINE.match(x)], out


def lines_of(lines, check, level=None):
    return [x for x in lines if x[1] == check and (level is None or x[0] == level)]


def new_files():
    d = os.path.join(spool, "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def other_config(name, **settings):
    """A configuration file beside env's: env's settings with these changed."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        for k, v in dict(env.settings, **settings).items():
            f.write("%s = %s\n" % (k, v))
    return path


def ctl(config, *args):
    p = subprocess.run([kt.binary("kancactl"), "-c", config] + list(args), capture_output=True, env=env.environ(),
                       timeout=30)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


try:
    # ---- 1. an empty spool (it does not even exist yet)
    rc, st, err = status()
    tap.eq((rc, st), (0, {"directory": spool, "exists": False, "records": 0, "bytes": 0, "oldest_age": 0, "bad": 0,
                          "partial": 0, "max_bytes": MAX}),
           "spool status --json on an empty spool: its directory, nothing waiting, spool_max_bytes from the "
           "configuration (%s)" % err.strip()[-200:])
    rc, out, err = env.kancactl("spool", "status")
    tap.ok(rc == 0 and out.startswith("spool      %s" % spool) and "waiting    0 deliveries, 0 bytes" in out
           and "max bytes  %d" % MAX in out, "spool status (text): the directory, 0 waiting, the cap: %r" % out)
    rc, lines, out = doctor()
    tap.eq(rc, 0, "doctor on a good store and an empty spool: exit 0 (%s)" % out[-400:])
    tap.eq([x[0] for x in lines_of(lines, "store files") + lines_of(lines, "store write") +
            lines_of(lines, "spool")], ["ok", "ok", "ok"], "doctor: store files, store write and spool are ok")
    tap.eq(lines_of(lines, "spool waiting") + lines_of(lines, "spool set aside"), [],
           "doctor: nothing waiting, nothing set aside")

    # ---- 2. three deliveries while the store is read-only: spooled, answered 200
    ro_dir, ro_db = readonly_copy("ro-store")
    env.write_config(store="sqlite:" + ro_db)
    keys = ["spool-ctl-1", "spool-ctl-2", "spool-ctl-3"]
    answers = [deliver(k) for k in keys]
    tap.eq([(r.status, (r.json() or {}).get("message")) for r in answers], [(200, "Event queued")] * 3,
           "three deliveries while the store is read-only: each answered 200 Event queued (%s)"
           % answers[0].stderr.decode(errors="replace")[-300:])
    tap.eq(len(new_files()), 3, "... and each is a record in spool/new")
    tap.eq([stored(k) for k in keys], [0, 0, 0], "... and none is in the store")

    rc, st, err = status()
    size = sum(os.path.getsize(os.path.join(spool, "new", f)) for f in new_files())
    tap.ok(rc == 0 and st and st["exists"] and st["records"] == 3 and st["bytes"] == size and st["bad"] == 0,
           "spool status --json counts 3 records of %d bytes: %s" % (size, st))
    tap.ok(st and 0 <= st["oldest_age"] < 120, "... and the age of the oldest in seconds: %s"
           % (st or {}).get("oldest_age"))
    rc, out, err = env.kancactl("spool", "status")
    tap.ok(rc == 0 and "waiting    3 deliveries, %d bytes" % size in out and "kancactl spool drain" in out,
           "spool status (text): 3 deliveries waiting, and how to drain them: %r" % out)

    # ---- 3. doctor on the read-only store
    rc, lines, out = doctor()
    tap.diag("doctor with the store on a read-only mount:\n" + out)
    tap.eq(rc, 1, "doctor on a read-only store: exit 1")
    files = lines_of(lines, "store files", "FAIL")
    tap.ok(files and ro_db in files[0][2] and "read-only" in files[0][2],
           "doctor: FAIL store files, the SQLite file is on a read-only file system: %s" % files)
    tap.ok(files and "Fix: " in files[0][2] and "mount -o remount,rw %s" % ro_dir in files[0][2].split("Fix: ")[1]
           and ro_db in files[0][2].split("Fix: ")[1], "... its fix names the file and the remount of its mount point")
    write = lines_of(lines, "store write")
    tap.ok(write and write[0][0] == "FAIL" and "read-only" in write[0][2] and "Fix: " in write[0][2],
           "doctor: FAIL store write, the store cannot take a write (read-only), with a fix: %s" % write)
    waiting = lines_of(lines, "spool waiting")
    tap.ok(waiting and waiting[0][0] == "warn" and "3 deliveries" in waiting[0][2]
           and "Fix: kancactl spool drain" in waiting[0][2],
           "doctor: warn spool waiting, 3 deliveries, Fix: kancactl spool drain: %s" % waiting)

    # ---- 4. a drain into the read-only store stops and says why
    rc, counts, out, err = drain()
    tap.eq((rc, counts), (1, (0, 0, 3)), "spool drain into the read-only store: exit 1, 0 stored, 3 waiting (%s)"
           % err.strip()[-300:])
    tap.ok("read-only" in err and "3 deliveries wait in %s" % spool in err,
           "... it says the store's failure (read-only) and what is left: %r" % err.strip()[-300:])
    tap.eq(len(new_files()), 3, "... and the 3 records are still in spool/new")

    # ---- 5. the store is writable again; another process holds drain.lock
    env.write_config(store=store.uri())
    with open(os.path.join(spool, "drain.lock"), "a+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        rc, counts, out, err = drain()
        tap.ok(rc == 1 and "another process holds %s/drain.lock" % spool in err,
               "spool drain while another process holds drain.lock: exit 1, says so (rc %d: %r)" % (rc, err[-300:]))
        tap.eq(([stored(k) for k in keys], len(new_files())), ([0, 0, 0], 3), "... and nothing was drained")
        fcntl.flock(holder, fcntl.LOCK_UN)

    # ---- 6. one record with a corrupted byte: set aside, never stored; the others stored exactly once
    bad_file = os.path.join(spool, "new", new_files()[1])  # the second delivery (names are in arrival order)
    with open(bad_file, "r+b") as f:
        data = bytearray(f.read())
        data[-10] ^= 0x01  # inside the body: the record's checksum no longer matches
        f.seek(0)
        f.write(data)
    rc, st, err = status()
    tap.ok(rc == 0 and st and st["records"] == 3, "spool status still counts 3 records (it reads no content)")
    events = store.count("events")
    rc, counts, out, err = drain()
    tap.eq((rc, counts), (0, (2, 1, 0)), "spool drain: exit 0, 2 deliveries stored, 1 set aside, 0 waiting (%r %s)"
           % (out, err.strip()[-300:]))
    tap.eq([stored(k) for k in keys], [1, 0, 1], "the two good ones are stored once each, the corrupted one never")
    tap.eq(store.count("events") - events, 2, "and nothing else was stored")
    tap.eq((new_files(), os.listdir(os.path.join(spool, "bad"))), ([], [os.path.basename(bad_file)]),
           "spool/new is empty; the corrupted record is in spool/bad")
    rc, st, err = status()
    tap.ok(rc == 0 and st and (st["records"], st["bytes"], st["bad"]) == (0, 0, 1),
           "spool status: nothing waiting, 1 set aside: %s" % st)

    # ---- 7. a second drain stores nothing; the sender's retry is a duplicate
    rc, counts, out, err = drain()
    tap.eq((rc, counts), (0, (0, 0, 0)), "a second spool drain: 0 stored, 0 set aside, 0 waiting")
    tap.eq([stored(k) for k in keys], [1, 0, 1], "... and every delivery is still stored at most once")
    r = deliver(keys[0])
    tap.eq((r.status, stored(keys[0])), (200, 1), "the sender's retry of a drained delivery: 200, still stored once")

    # ---- 8. doctor: the set-aside record is a warning naming bad/
    rc, lines, out = doctor()
    aside = lines_of(lines, "spool set aside")
    tap.ok(rc == 0 and aside and aside[0][0] == "warn" and "1 record in %s/bad" % spool in aside[0][2]
           and "Fix: " in aside[0][2], "doctor: warn spool set aside, 1 record in spool/bad, exit 0: %s" % aside)
    tap.eq(lines_of(lines, "spool waiting"), [], "doctor: nothing waiting any more")

    # ---- 9. an unwritable spool: the directory on a read-only mount, and one that cannot be made there
    ro_spool = os.path.join(tmp, "ro-spool")
    mount_tmpfs(ro_spool)
    remount(ro_spool, "ro")
    rc, lines, out = doctor(other_config("ro-spool.conf", spool_dir=ro_spool))
    tap.diag("doctor with the spool on a read-only mount:\n" + out)
    sp = lines_of(lines, "spool", "FAIL")
    tap.ok(rc == 1 and sp and ro_spool in sp[0][2] and "read-only" in sp[0][2],
           "doctor: FAIL spool, the directory is on a read-only file system (exit %d): %s" % (rc, sp))
    tap.ok(sp and "mount -o remount,rw %s" % ro_spool in sp[0][2].split("Fix: ")[-1]
           and "spool_dir" in sp[0][2].split("Fix: ")[-1], "... its fix: remount it, or spool_dir elsewhere")
    space = lines_of(lines, "spool space")
    tap.ok(space and space[0][0] == "FAIL" and "MiB free" in space[0][2],
           "doctor: FAIL spool space on a 4 MiB file system: %s" % space)
    below = os.path.join(ro_spool, "spool")
    rc, lines, out = doctor(other_config("ro-spool-below.conf", spool_dir=below))
    sp = lines_of(lines, "spool", "FAIL")
    tap.ok(rc == 1 and sp and "%s does not exist" % below in sp[0][2] and ro_spool in sp[0][2].split("Fix: ")[-1],
           "doctor: FAIL spool, a directory that cannot be made on the read-only mount, the fix names it: %s" % sp)

    # ... while kanca.cgi, with the store read-only too, has nowhere to keep a delivery: 503, never 2xx
    env.write_config(store="sqlite:" + ro_db, spool_dir=ro_spool)
    r = deliver("spool-ctl-nowhere")
    tap.eq((r.status, r.headers.get("retry-after") is not None), (503, True),
           "store and spool both read-only: 503 with Retry-After (never 2xx)")
    env.write_config(store=store.uri(), spool_dir=spool)

    # ---- 10. a spool that cannot be read: status says so, exit 1
    not_dir = os.path.join(tmp, "not-a-dir")
    with open(not_dir, "w") as f:
        f.write("x")
    rc, out, err = ctl(other_config("file-spool.conf", spool_dir=not_dir), "spool", "status")
    tap.ok(rc == 1 and out == "" and "the spool %s cannot be read" % not_dir in err,
           "spool status on a spool that is a file: exit 1, a clear error (rc %d: %r)" % (rc, err.strip()))

    # ---- 11. status needs no store: a store that cannot be opened
    broken = other_config("broken-store.conf", store="sqlite:" + os.path.join(tmp, "no", "such", "dir", "kanca.db"))
    rc, out, err = ctl(broken, "spool", "status", "--json")
    tap.ok(rc == 0 and json.loads(out or "null") == dict(st, directory=spool, exists=True),
           "spool status with a store that cannot be opened: exit 0, the same spool (%d: %r)" % (rc, err[-200:]))
    rc, out, err = ctl(broken, "spool", "drain")
    tap.ok(rc == 1 and "store" in err, "spool drain with a store that cannot be opened: exit 1 (%r)" % err[-200:])

    # ---- 12. a leftover -shm that kanca's user cannot write (mode 0444). The store belongs to nobody; doctor
    # (root) takes the owner for the user kanca runs as. (A -shm of another owner cannot be staged here: SQLite
    # run as root, doctor's own connection included, gives the -shm back to the database file's owner.)
    own = os.path.join(tmp, "own")
    os.mkdir(own)
    own_db = os.path.join(own, "kanca.db")
    shutil.copy(store.path, own_db)
    nobody = pwd.getpwnam("nobody")
    os.chown(own, nobody.pw_uid, nobody.pw_gid)
    os.chown(own_db, nobody.pw_uid, nobody.pw_gid)
    own_conf = other_config("own.conf", store="sqlite:" + own_db)
    shm = own_db + "-shm"
    con = sqlite3.connect(own_db)  # its -wal and -shm exist while it is open (SQLite gives them the file's owner)
    try:
        con.execute("SELECT count(*) FROM sources").fetchall()
        os.chmod(shm, 0o444)
        rc, lines, out = doctor(own_conf)
        found = [x for x in lines_of(lines, "store files", "FAIL") if shm + " " in x[2]]
        tap.ok(rc == 1 and found and "mode 0444" in found[0][2] and "not writable by nobody" in found[0][2],
               "doctor: a read-only leftover -shm file: FAIL store files, kanca's user (nobody, the file's owner) "
               "cannot write it: %s" % (found or lines_of(lines, "store files")))
        fix = found[0][2].split("Fix: ")[-1] if found else None
        tap.eq(fix, "chmod u+rw %s" % shm, "... its fix is the chmod naming the -shm file")
        os.chmod(shm, 0o644)
        os.chown(own_db + ".lock", nobody.pw_uid, nobody.pw_gid)  # made by doctor's own connection, as root
        rc, lines, out = doctor(own_conf)
        tap.eq([x[0] for x in lines_of(lines, "store files")], ["ok"],
               "after that chown: store files ok (%s)" % lines_of(lines, "store files"))
    finally:
        con.close()
finally:
    umount_all()
tap.done()
