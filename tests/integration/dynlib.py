#!/usr/bin/env python3
"""dynlib.py: libpq and libcurl are loaded when first needed (src/dynlib.h), not when kanca starts.

1. A FastCGI responder on SQLite maps neither libpq nor libcurl (nor what they pull in: GnuTLS,
   Kerberos, LDAP); its processor child, which forwards, maps libcurl. A responder on PostgreSQL maps
   libpq but not libcurl.
2. When a library cannot be loaded (KANCA_TEST_DYNLIB_MISSING, a test hook, stands in for a machine
   without it), the error says which and what to install: `kancactl migrate` on a PostgreSQL store
   fails with "needs libpq" and exit 1, `kancactl source action add ... forward` with "libcurl cannot
   be loaded", while the same kancactl on SQLite works without libpq."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402
from sink import Sink  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
kt.require_tool(tap, "cgi-fcgi")
SECRET = "dynlib-secret"


def maps_of(pid):
    with open("/proc/%d/maps" % pid) as f:
        return {os.path.basename(line.split()[-1]) for line in f if "/" in line}


def has(libs, prefix):
    return any(name.startswith(prefix) for name in libs)


def kanca_pids(t):
    out = []
    for p in kt.pids_in_group(t.pgid):
        try:
            with open("/proc/%d/comm" % p) as f:
                if f.read().strip() == "kanca":
                    out.append(p)
        except OSError:
            pass
    return out


def deliver(t, key):
    body = json.dumps({"eventId": key, "event": "stock.updated"}).encode()
    return t.send("POST", "/api/suppliers/d/webhook",
                  {"Content-Type": "application/json", "X-Signature": kt.sign_hex(SECRET, body)}, body).status


def responder_case(kind, sink):
    L = "[%s]" % kind
    tmp = kt.make_tempdir("kanca-dynlib-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp, now="real", processing="fork")
    env.migrate()
    env.add_source("supplier", "d", SECRET)
    env.kancactl("source", "action", "add", "supplier", "d", "forward", sink.url("/ok/dynlib-%s" % kind))
    t = kt.FcgiTransport(env, tmp)
    try:
        t.start()
        tap.eq(deliver(t, "d-1"), 200, "%s a delivery is answered" % L)
        tap.ok(sink.wait_for(1, 15, path_prefix="/ok/dynlib-%s" % kind), "%s and forwarded by the processor" % L)
        pids = kanca_pids(t)
        parent = {p: kt.parent_pid(p) for p in pids}
        responders = [p for p in pids if parent[p] not in pids]
        processors = [p for p in pids if parent[p] in pids]
        tap.eq((len(responders), len(processors)), (1, 1), "%s one responder, one processor child" % L)
        r, c = maps_of(responders[0]), maps_of(processors[0])
        tap.eq(has(r, "libpq."), kind == "pg", "%s the responder %s libpq" % (L, "maps" if kind == "pg" else
                                                                           "does not map"))
        if kind == "pg":
            tap.ok(not has(r, "libcurl"), "%s the responder maps no libcurl" % L)
        else:
            tap.ok(not has(r, "libcurl") and not has(r, "libgnutls") and not has(r, "libkrb5"),
                   "%s the responder maps no libcurl, GnuTLS or Kerberos" % L)
        tap.ok(has(c, "libcurl"), "%s its processor, which forwards, maps libcurl" % L)
    finally:
        t.stop()
        store.close()


def missing_case():
    tmp = kt.make_tempdir("kanca-dynlib-missing-pg-")
    pg = kt.make_store("pg", tmp)
    try:
        env = kt.Kanca(pg, tmp, now="real")
        env.extra_env["KANCA_TEST_DYNLIB_MISSING"] = "libpq.so.5"
        rc, out, err = env.kancactl("migrate")
        tap.ok(rc == 1 and "needs libpq" in err and "libpq5" in err,
               "without libpq, migrate on PostgreSQL says what is missing (exit %d): %s" % (rc, err.strip()[-120:]))
    finally:
        pg.close()
    tmp = kt.make_tempdir("kanca-dynlib-missing-sqlite-")
    sq = kt.make_store("sqlite", tmp)
    try:
        env = kt.Kanca(sq, tmp, now="real")
        env.extra_env["KANCA_TEST_DYNLIB_MISSING"] = "libpq.so.5"
        rc, out, err = env.kancactl("migrate")
        tap.eq(rc, 0, "without libpq, SQLite works (%s)" % out.strip()[-60:])
        env.extra_env["KANCA_TEST_DYNLIB_MISSING"] = "libcurl.so.4"
        env.add_source("supplier", "m", SECRET)
        rc, out, err = env.kancactl("source", "action", "add", "supplier", "m", "forward", "http://127.0.0.1:9/x")
        tap.ok(rc != 0 and "libcurl" in err, "without libcurl, a forward action is refused with the reason "
               "(exit %d): %s" % (rc, err.strip()[-120:]))
        rc, out, _ = env.kancactl("source", "action", "list", "supplier", "m")
        tap.eq(out.count("forward"), 0, "... and nothing was added")
    finally:
        sq.close()


sink = Sink().start()
try:
    responder_case("sqlite", sink)
    responder_case("pg", sink)
finally:
    sink.stop()
kt.require_test_hooks("takes a library for missing (KANCA_TEST_DYNLIB_MISSING)")
missing_case()
tap.done()
