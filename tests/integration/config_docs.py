#!/usr/bin/env python3
"""config_docs.py: every configuration key is documented in doc/configuration.md with its default and set to its
default in kanca.conf.example (which kancactl config check accepts as it is), and a bad configuration
stops kanca (and kanca.cgi) at start with a message naming the file, line and key."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
p = subprocess.run([kt.binary("kancactl"), "config", "keys"], capture_output=True, timeout=30)
tap.eq(p.returncode, 0, "kancactl config keys exits 0")
keys = [line.split("\t") for line in p.stdout.decode().splitlines() if line.strip()]
tap.ok(len(keys) >= 5, "kancactl config keys lists the keys (%d)" % len(keys))
reference = open(os.path.join(kt.srcdir(), "doc", "configuration.md"), encoding="utf-8").read()
section = (reference.split("## Configuration keys", 1)[1].split("\n## ", 1)[0]
           if "## Configuration keys" in reference else "")
tap.ok(section != "", "doc/configuration.md has a Configuration keys section")
for name, default, doc in keys:
    m = re.search(r"^\| `%s` \| ([^|]*) \|" % re.escape(name), section, re.M)
    tap.ok(m is not None, "doc/configuration.md documents the key %s in its table" % name)
    if m:
        shown = m.group(1).strip()
        want = "`%s`" % default if default else "(empty)"
        tap.eq(shown, want, "doc/configuration.md shows the default of %s" % name)
    tap.ok(re.search(r"^### `%s`" % re.escape(name), reference, re.M) is not None,
           "doc/configuration.md has a section on %s" % name)

example_path = os.path.join(kt.srcdir(), "kanca.conf.example")
example = {}
with open(example_path, encoding="utf-8") as f:
    for line in f:
        if line.strip() and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            example[k.strip()] = v.strip()
tap.eq(sorted(example), sorted(k[0] for k in keys), "kanca.conf.example sets every key, and only keys")
for name, default, doc in keys:
    tap.eq(example.get(name), default, "kanca.conf.example shows the default of %s" % name)
tmp = kt.make_tempdir("kanca-config-")
# the example as it is, but with a store this test can create (/var/lib/kanca is the installed default)
copy = os.path.join(tmp, "example.conf")
with open(example_path, encoding="utf-8") as f, open(copy, "w", encoding="utf-8") as out:
    out.write(f.read().replace("store = sqlite:/var/lib/kanca/kanca.db", "store = sqlite:%s/example.db" % tmp))
p = subprocess.run([kt.binary("kancactl"), "-c", copy, "config", "check"], capture_output=True, timeout=30)
tap.eq((p.returncode, p.stderr.decode()), (0, ""), "kancactl config check accepts kanca.conf.example")
bad_values = {
    "store": "mysql://nope",
    "max_body_bytes": "65M",
    "log_level": "loud",
    "base_path": "hooks/",
    "timestamp_tolerance": "0",
    "source_cache_seconds": "301",
    "processing": "later",
    "processing_lease": "0",
    "answer_deadline": "0.05",
    "spool_dir": "relative/spool",
    "spool_max_bytes": "1K",
    "forward_allow_link_local": "maybe",
    "retention": "30",
    "retention_dead": "3651d",
}
tap.eq(sorted(bad_values), sorted(k[0] for k in keys), "every key has a bad-value case below")


def start(prog, conf):
    env = dict(os.environ, KANCA_CONFIG=conf, REQUEST_METHOD="GET", REQUEST_URI="/healthz")
    return subprocess.run([kt.binary(prog)], env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=30)


for key, value in bad_values.items():
    conf = os.path.join(tmp, "bad-%s.conf" % key)
    with open(conf, "w") as f:
        f.write("# a comment\nstore = sqlite:%s/ok.db\n" % tmp if key != "store" else "# a comment\n")
        f.write("%s = %s\n" % (key, value))
    line = 3 if key != "store" else 2
    for prog in ("kanca", "cgi-bin/kanca.cgi"):
        r = start(prog, conf)
        err = r.stderr.decode()
        tap.eq(r.returncode, 1, "%s stops at start on a bad %s" % (prog, key))
        tap.ok("%s:%d: %s:" % (conf, line, key) in err, "%s names file, line and key %s (%s)" % (prog, key, err.strip()[:160]))
    tap.ok(b"Status: 500" in start("cgi-bin/kanca.cgi", conf).stdout, "kanca.cgi answers 500 when its config is bad")

conf = os.path.join(tmp, "several.conf")
with open(conf, "w") as f:
    f.write("store = sqlite:%s/ok.db\nlog_level = loud\nnot_a_key = 1\nmax_body_bytes = x\nstore = sqlite:/x\nno equals\n" % tmp)
err = start("kanca", conf).stderr.decode()
for needle in ("log_level:", "not_a_key: unknown key", "max_body_bytes:", "store: set twice", "expected key = value"):
    tap.ok(needle in err, "every problem of the file is reported: %s" % needle)
r = start("kanca", os.path.join(tmp, "missing.conf"))
tap.eq(r.returncode, 1, "a missing config file stops kanca")
tap.ok("missing.conf: cannot open" in r.stderr.decode(), "and names the file")
r = subprocess.run([kt.binary("kancactl"), "-c", conf, "config", "check"], capture_output=True, timeout=30)
tap.eq(r.returncode, 1, "kancactl config check fails on the bad file")
tap.ok(b"not_a_key: unknown key" in r.stderr, "and reports the problems")
tap.done()
