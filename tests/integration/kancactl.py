#!/usr/bin/env python3
"""kancactl.py: the operator's command on both stores: migrate, sources and secrets, events, event
show (byte for byte), stats, audit; clear errors and exit statuses (0 ok, 1 failure, 2 usage)."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)


def check(kind):
    tmp = kt.make_tempdir("kanca-ctl-%s-" % kind)
    store = kt.make_store(kind, tmp)
    env = kt.Kanca(store, tmp)
    L = "[kancactl/%s]" % kind
    ctl = env.kancactl

    rc, out, err = ctl("migrate")
    tap.eq(rc, 0, "%s migrate exits 0" % L)
    latest = len([f for f in os.listdir(os.path.join(kt.srcdir(), "sql", "sqlite")) if f.endswith(".sql")])
    tap.ok("schema version %d (%d migrations applied)" % (latest, latest) in out,
           "%s first migrate applies every migration (%d): %s" % (L, latest, out.strip()))
    rc, out, err = ctl("migrate")
    tap.ok(rc == 0 and "(0 migrations applied)" in out, "%s second migrate is a no-op" % L)

    rc, out, err = ctl("providers")
    tap.ok(rc == 0 and re.search(r"^supplier ", out, re.M) and re.search(r"^hmac ", out, re.M), "%s providers lists supplier and hmac" % L)

    rc, out, err = ctl("source", "add", "supplier", "acme", "--generate-secret")
    m = re.search(r"^secret: ([0-9a-f]{64})$", out, re.M)
    tap.ok(rc == 0 and m is not None, "%s --generate-secret prints 64 hex characters once" % L)
    secret = m.group(1) if m else "x"
    rc, out, err = ctl("source", "list")
    tap.ok(rc == 0 and "acme" in out and secret not in out, "%s source list shows the source, never the secret" % L)
    rc, out, err = ctl("source", "list", "--json")
    rows = json.loads(out) if rc == 0 else []
    tap.eq([(r["provider"], r["account"], r["enabled"], r["secrets"]) for r in rows], [("supplier", "acme", True, 1)],
           "%s source list --json" % L)
    rc, out, err = ctl("source", "add", "supplier", "viastdin", "--secret-stdin", input=b"from-stdin-secret\n")
    tap.eq(rc, 0, "%s --secret-stdin reads the secret from standard input" % L)

    # the generated secret verifies a real delivery; event show returns the body byte for byte
    t = kt.CgiTransport(env)
    body = '{"eventId":"ctl-1","event":"stock.updated","data":{"ad":"Çay ☕","bytes":"\\u00e7\\n"}}\r\n'.encode()
    r = t.send("POST", "/api/suppliers/acme/webhook",
               {"Content-Type": "application/json", "X-Signature": kt.sign_hex(secret, body)}, body)
    tap.eq(r.status, 200, "%s a delivery signed with the generated secret is accepted" % L)
    bad = b'{"event":"stock.updated"}'
    r = t.send("POST", "/api/suppliers/acme/webhook", {"X-Signature": "0" * 64}, bad)
    tap.eq(r.status, 401, "%s a bad signature is refused" % L)

    rc, out, err = ctl("events", "--json")
    ev = json.loads(out) if rc == 0 else []
    tap.eq([(e["provider"], e["account"], e["event_type"], e["idempotency_key"], e["status"], e["body_bytes"]) for e in ev],
           [("supplier", "acme", "stock.updated", "ctl-1", "received", len(body))], "%s events --json" % L)
    eid = ev[0]["id"] if ev else 0
    rc, out, err = ctl("events", "--source", "supplier/acme", "--status", "received", "--limit", "5")
    tap.ok(rc == 0 and "ctl-1" in out, "%s events filtered by source and status" % L)
    rc, out, err = ctl("events", "--source", "supplier/other")
    tap.ok(rc == 0 and "ctl-1" not in out, "%s events of another source: none" % L)
    p = kt.subprocess.run([kt.binary("kancactl"), "-c", env.config, "event", "show", str(eid), "--body"],
                          capture_output=True, env=env.environ(), timeout=30)
    tap.eq(p.stdout, body, "%s event show --body prints the raw body byte for byte" % L)
    p = kt.subprocess.run([kt.binary("kancactl"), "-c", env.config, "event", "show", str(eid)],
                          capture_output=True, env=env.environ(), timeout=30)
    head, _, raw = p.stdout.partition(b"\n\n")
    tap.eq(raw, body, "%s event show: the raw body follows the first blank line" % L)
    tap.ok(b"idempotency_key: ctl-1" in head and b"verification: hmac-sha256/hex" in head,
           "%s event show has the key and the verification" % L)
    tap.ok(secret.encode() not in p.stdout, "%s event show never shows the secret" % L)

    rc, out, err = ctl("stats", "--json")
    st = json.loads(out) if rc == 0 else []
    tap.eq([(s["provider"], s["account"], s["event_type"], s["status"], s["count"]) for s in st],
           [("supplier", "acme", "stock.updated", "received", 1)], "%s stats --json: last 24 hours" % L)
    rc, out, err = ctl("audit", "--limit", "10")
    tap.ok(rc == 0 and "rejected" in out and "received" in out, "%s audit shows received and rejected" % L)

    rc, out, err = ctl("source", "disable", "supplier", "acme")
    tap.eq(rc, 0, "%s disable" % L)
    r = t.send("POST", "/api/suppliers/acme/webhook",
               {"X-Signature": kt.sign_hex(secret, b'{"event":"x.y"}')}, b'{"event":"x.y"}')
    tap.eq(r.status, 403, "%s a disabled source is refused with 403" % L)
    rc, out, err = ctl("source", "enable", "supplier", "acme")
    tap.eq(rc, 0, "%s enable" % L)

    # failures (1) and usage errors (2), each with a message
    cases = [
        (("source", "add", "supplier", "acme", "--secret", "s"), 1, "already exists"),
        (("source", "disable", "supplier", "nobody"), 1, "no source"),
        (("event", "show", "999999"), 1, "no event"),
        (("event", "show", "abc"), 2, "event show ID"),
        (("source", "add", "nosuch", "a"), 2, "unknown provider"),
        (("source", "add", "supplier", "bad/account"), 2, "account"),
        (("source", "add", "supplier", "x1", "--secret", "a", "--generate-secret"), 2, "not both"),
        (("source", "add", "supplier", "x2", "--set", "colour=blue"), 2, "unknown option"),
        (("source", "add", "supplier", "x3", "--set", "novalue"), 2, "KEY=VALUE"),
        (("source", "add", "hmac", "x4", "--secret", "s"), 2, "header=NAME is required"),
        (("source", "add", "hmac", "x5", "--secret", "s", "--set", "header=X-Sig", "--set", "encoding=hex2"), 2, "encoding"),
        (("source", "add", "supplier", "x6", "--secret", ""), 2, "empty"),
        (("events", "--limit", "0"), 2, "--limit"),
        (("events", "--source", "nosep"), 2, "PROVIDER/ACCOUNT"),
        (("frobnicate",), 2, "unknown command"),
        (("stats", "extra"), 2, "stats"),
    ]
    for args, want, msg in cases:
        rc, out, err = ctl(*args)
        tap.ok(rc == want and msg in err, "%s kancactl %s -> exit %d with '%s' (got %d: %s)"
               % (L, " ".join(args), want, msg, rc, err.strip()[:120]))
    # every provider refuses an option it does not know, and retry_* values it cannot use, naming the key
    rc, out, err = ctl("providers")
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    tap.ok(len(names) >= 11 and "stripe" in names, "%s kancactl providers lists them all: %s" % (L, names))
    required = {"hmac": ["--set", "header=X-Sig"],  # what a provider needs besides the option tried
                "apple": ["--set", "bundle_id=com.example", "--set", "environment=Sandbox", "--root-cert",
                          os.path.join(kt.srcdir(), "certs", "AppleRootCA-G3.pem")]}
    for i, name in enumerate(names):
        for opt, key in (("nonsense=1", "nonsense"), ("retry_nonsense=1", "retry_nonsense"),
                         ("retry_attempts=0", "retry_attempts")):
            secret = [] if name == "apple" else ["--secret", "whsec_c2VjcmV0"]
            rc, out, err = ctl("source", "add", name, "opt%d" % i, *(secret + required.get(name, []) + ["--set", opt]))
            tap.ok(rc == 2 and key in err, "%s kancactl source add %s --set %s -> exit 2 naming %s (got %d: %s)"
                   % (L, name, opt, key, rc, err.strip()[:160]))
        tap.eq(store.count("sources", "account = ?", ("opt%d" % i,)), 0, "%s %s: no source was added" % (L, name))
    rc, out, err = ctl("source", "add", "stripe", "retry-ok", "--secret", "whsec_x", "--set", "retry_attempts=3")
    tap.eq(rc, 0, "%s a known retry_* option with a good value is accepted (%s)" % (L, err.strip()))
    rc, out, err = ctl("source", "add", "hmac", "gh", "--secret", "s3cret", "--set", "header=X-Hub-Signature-256",
                       "--set", "prefix=sha256=", "--set", "event_type=header:X-GitHub-Event",
                       "--set", "idempotency_key=header:X-GitHub-Delivery")
    tap.eq(rc, 0, "%s an hmac source with all options" % L)
    body = b'{"action":"opened"}'
    r = t.send("POST", "/webhook/hmac/gh", {"X-Hub-Signature-256": "sha256=" + kt.sign_hex("s3cret", body),
                                            "X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1"}, body)
    tap.eq((r.status, r.json()), (200, {"success": True, "event": "issues"}), "%s the hmac source accepts its delivery" % L)
    rows = store.query("SELECT event_type, idempotency_key FROM events WHERE idempotency_key = ?", ("d-1",))
    tap.eq([tuple(x) for x in rows], [("issues", "d-1")], "%s type and key taken from the configured headers" % L)
    r = t.send("POST", "/webhook/hmac/gh", {"X-Hub-Signature-256": kt.sign_hex("s3cret", body)}, body)
    tap.eq(r.status, 401, "%s the hmac source refuses a signature without its prefix" % L)
    store.close()


def help_everywhere():
    """Every command and subcommand answers --help and -h with its usage on stdout and exit 0, without a
    configuration; so do the first words of several commands (kancactl source, kancactl source secret).
    A usage error still goes to stderr with exit 2."""
    prog = kt.binary("kancactl")
    env = dict(os.environ, KANCA_CONFIG="/nonexistent/kanca.conf")
    p = subprocess.run([prog, "--help"], capture_output=True, text=True, env=env, timeout=30)
    tap.eq((p.returncode, p.stderr), (0, ""), "[help] kancactl --help: exit 0, nothing on stderr")
    names = []
    for line in p.stdout.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            words = []
            for w in line.split():
                if not re.match(r"^[a-z]+$", w):
                    break
                words.append(w)
            names.append(words)
    tap.ok(len(names) >= 20 and ["doctor"] in names and ["source", "secret", "add"] in names,
           "[help] kancactl --help lists the commands (%d)" % len(names))
    for words in names:
        for flag in ("--help", "-h"):
            p = subprocess.run([prog] + words + [flag], capture_output=True, text=True, env=env, timeout=30)
            first = p.stdout.splitlines()[0] if p.stdout else ""
            tap.ok(p.returncode == 0 and p.stderr == "" and first.startswith("usage: kancactl [-c CONFIG] %s" %
                                                                             " ".join(words)),
                   "[help] kancactl %s %s: its usage on stdout, exit 0 (got %d: %r %r)"
                   % (" ".join(words), flag, p.returncode, first[:80], p.stderr[:80]))
    for words in (["source"], ["source", "secret"], ["source", "action"], ["config"], ["spool"] if
                  ["spool", "status"] in names else ["event"]):
        p = subprocess.run([prog] + words + ["--help"], capture_output=True, text=True, env=env, timeout=30)
        listed = [x.split()[:len(words) + 1] for x in p.stdout.splitlines() if x.startswith("  ") and x[2] != " "]
        tap.ok(p.returncode == 0 and p.stderr == "" and listed and all(x[:len(words)] == words for x in listed),
               "[help] kancactl %s --help lists its %d commands on stdout" % (" ".join(words), len(listed)))
        p = subprocess.run([prog] + words, capture_output=True, text=True, env=env, timeout=30)
        tap.ok(p.returncode == 2 and p.stdout == "" and "commands of kancactl" in p.stderr,
               "[help] kancactl %s alone: the list on stderr, exit 2 (got %d)" % (" ".join(words), p.returncode))
    p = subprocess.run([prog, "worker", "--frobnicate"], capture_output=True, text=True, env=env, timeout=30)
    tap.eq((p.returncode, p.stdout), (1, ""), "[help] a bad option with no configuration: exit 1 (the "
                                              "configuration is loaded first), nothing on stdout")
    p = subprocess.run([prog, "providers", "extra"], capture_output=True, text=True, env=env, timeout=30)
    tap.ok(p.returncode == 2 and p.stdout == "" and "providers" in p.stderr,
           "[help] a usage error: stderr, exit 2 (%r)" % p.stderr.strip()[:80])
    p = subprocess.run([prog, "doctor", "--frobnicate"], capture_output=True, text=True, env=env, timeout=30)
    tap.ok(p.returncode == 2 and p.stdout == "" and "doctor [URL]" in p.stderr,
           "[help] doctor's usage error: its usage on stderr, exit 2 (got %d: %r)" % (p.returncode,
                                                                                       p.stderr.strip()[:80]))
    # only the first argument after the command's words asks for help: here -h is the value of --secret
    p = subprocess.run([prog, "source", "add", "stripe", "acc", "--secret", "-h"], capture_output=True, text=True,
                       env=env, timeout=30)
    tap.eq((p.returncode, p.stdout), (1, ""), "[help] source add P A --secret -h is no help request: the "
                                              "configuration is loaded (exit 1 without one), nothing on stdout")
    p = subprocess.run([kt.binary("kanca"), "--help"], capture_output=True, text=True, env=env, timeout=30)
    tap.ok(p.returncode == 0 and p.stdout.startswith("usage:") and p.stderr == "",
           "[help] kanca --help: usage on stdout, exit 0")


help_everywhere()
check("sqlite")
check("pg")
tap.done()
