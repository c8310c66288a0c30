#!/usr/bin/env python3
"""modes.py: the per-request cost of each way a web server runs kanca, side by side in one run.

    bench/modes.sh [--duration S] [--conns 4,64] [--stores sqlite,pg] [--modes apache-cgi,...] [--procs N]

Modes: apache-cgi (mod_cgi, prefork: one kanca.cgi process per request), apache-fcgid (mod_fcgid),
apache-proxy-fcgi (mod_proxy_fcgi to kanca under spawn-fcgi on a unix socket), lighttpd-fastcgi
(mod_fastcgi, bin-path). Each is the shipped configuration, started by the test library's transports
(tests/lib/apache.py, tests/lib/kancatest.py) on an ephemeral 127.0.0.1 port, with N FastCGI
responders (default 8; Apache's MaxRequestWorkers raised to the connection count). Stores: a fresh
SQLite file, and a throwaway PostgreSQL cluster (initdb as nobody when run as root). kanca runs with
processing = off: this measures the request path (answer + commit), as bench/run.sh's ingest runs do.

Load: wrk -t 2 -c C -d S with bench/signed.lua: every request a unique, correctly signed supplier
delivery, each sent once. Printed per mode, store and connection count: requests/s answered 2xx, p50,
p99, and the non-2xx count (it must be 0: any other answer is printed and the exit status is 1). A
benchmark, not a test: no targets, figures only; written to bench/results-modes.txt too.
"""
import argparse
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
if not os.environ.get("KANCA_BUILDDIR"):
    os.environ["KANCA_BUILDDIR"] = os.path.join(TOP, "_build") if os.path.isdir(os.path.join(TOP, "_build")) else TOP
os.environ.setdefault("KANCA_SRCDIR", TOP)
import kancatest as kt  # noqa: E402
from apache import ApacheTransport  # noqa: E402

MODES = ("apache-cgi", "apache-fcgid", "apache-proxy-fcgi", "lighttpd-fastcgi")
SECRET = "b" * 64
lines_out = []


def say(line=""):
    print(line, flush=True)
    lines_out.append(line)


def write_requests(path, prefix, n):
    key = SECRET.encode()
    with open(path, "wb") as f:
        for i in range(n):
            b = json.dumps({"eventId": "%s-%d" % (prefix, i), "event": "stock.updated",
                            "data": {"sku": "ÇAY-%d" % i, "stock": i % 97}}, ensure_ascii=False).encode()
            f.write(hmac.new(key, b, hashlib.sha256).hexdigest().encode() + b"\t" + b + b"\n")


def transport(mode, env, tmp, procs, conns):
    if mode == "lighttpd-fastcgi":
        return kt.LighttpdTransport(env, tmp, max_procs=procs)
    m = {"apache-cgi": "cgi", "apache-fcgid": "fcgid", "apache-proxy-fcgi": "proxy_fcgi"}[mode]
    return ApacheTransport(env, tmp, mode=m, responders=procs, workers=max(16, conns))


def url_of(t, path):
    return "http://127.0.0.1:%d%s" % (t.port, path)


def run_wrk(url, reqfile, conns, duration):
    threads = min(2, conns)
    argv = ["wrk", "-t", str(threads), "-c", str(conns), "-d", "%ds" % duration, "--timeout", "10s",
            "-s", os.path.join(HERE, "signed.lua"), url, "--", reqfile, str(threads)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    for line in r.stdout.splitlines():
        if line.startswith("KANCA-BENCH "):
            return json.loads(line[len("KANCA-BENCH "):])
    raise RuntimeError("wrk gave no result (rc %d): %s %s" % (r.returncode, r.stdout[-800:], r.stderr[-800:]))


def main():
    ap = argparse.ArgumentParser(description="kanca per-mode request cost (prints figures; not a test)")
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--conns", default="4,64")
    ap.add_argument("--stores", default="sqlite,pg")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--output", default=os.path.join(HERE, "results-modes.txt"))
    args = ap.parse_args()
    for tool in ("wrk", "lighttpd", "/usr/sbin/apache2", "spawn-fcgi"):
        if not shutil.which(tool):
            print("modes.py: %s is missing (scripts/deps.sh bench installs it)" % tool, file=sys.stderr)
            return 2
    conns = [int(c) for c in args.conns.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    bad = [m for m in modes if m not in MODES]
    if bad:
        ap.error("unknown mode(s) %s; known: %s" % (", ".join(bad), ", ".join(MODES)))
    started = time.time()
    results, failed = [], False
    for store_kind in args.stores.split(","):
        tmp = kt.make_tempdir("kanca-modes-%s-" % store_kind)
        os.chmod(tmp, 0o755)
        store = kt.make_store(store_kind, tmp)
        for mode in modes:
            mtmp = os.path.join(tmp, mode)
            os.makedirs(mtmp)
            os.chmod(mtmp, 0o755)
            env = kt.Kanca(store, mtmp, max_body_bytes="1M", log_level="warn")
            env.migrate()
            if not env.source_id("supplier", "bench"):
                env.add_source("supplier", "bench", SECRET)
            t = transport(mode, env, mtmp, args.procs, max(conns))
            t.start()
            try:
                for c in conns:
                    reqfile = os.path.join(mtmp, "requests-%d.txt" % c)
                    write_requests(reqfile, "%s-%s-%d-%d" % (store_kind, mode, c, int(time.time())), 60000)
                    # a short warm-up (mod_fcgid and lighttpd start responders on demand)
                    run_wrk(url_of(t, "/api/suppliers/bench/webhook"), reqfile, c, 1)
                    r = run_wrk(url_of(t, "/api/suppliers/bench/webhook"), reqfile, c, args.duration)
                    rps = r["c2xx"] / max(r["duration_us"] / 1e6, 1e-9)
                    row = dict(mode=mode, store=store_kind, conns=c, rps=rps, p50=r.get("p50_us", 0) / 1000.0,
                               p99=r.get("p99_us", 0) / 1000.0, other=r.get("cother", 0),
                               errors={k[4:]: r[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")
                                       if r.get(k)},
                               exhausted=r.get("exhausted", 0), statuses=r.get("statuses"))
                    results.append(row)
                    say("%-18s %-6s %3d conns: %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  non-2xx %d%s%s"
                        % (mode, store_kind, c, row["rps"], row["p50"], row["p99"], row["other"],
                           "  socket errors %s" % row["errors"] if row["errors"] else "",
                           "  EXHAUSTED" if row["exhausted"] else ""))
                    if row["other"]:
                        failed = True
                        say("  non-2xx answers: %s" % row["statuses"])
            finally:
                t.stop()
        store.close()
    say()
    say("kanca per-request cost by mode (wrk -t2, %d s per run, %d responders, processing = off, 2 cores):"
        % (args.duration, args.procs))
    say("%-18s %-6s %6s %10s %10s %10s" % ("mode", "store", "conns", "req/s", "p50 ms", "p99 ms"))
    for row in results:
        say("%-18s %-6s %6d %10.0f %10.2f %10.2f" % (row["mode"], row["store"], row["conns"], row["rps"],
                                                      row["p50"], row["p99"]))
    say("total time %.0f s" % (time.time() - started))
    with open(args.output, "w") as f:
        f.write("\n".join(lines_out) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
