#!/usr/bin/env python3
"""install.py: `make install DESTDIR=...` from this build puts every file where doc/operations.md's
"Installed layout" says, the installed copies of the web-server configurations name this build's paths (bindir,
cgibindir, the configuration file), and the installed programs run: kancactl migrates a store and adds a
source, kanca.cgi answers /healthz and a signed delivery. (`make distcheck` in scripts/test.sh installs
and uninstalls again with --with-cgibindir set.)"""
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
build = kt.builddir()
if not os.path.exists(os.path.join(build, "Makefile")):
    tap.skip_all("not a configured build directory: %s" % build)
# (a Makefile older than Makefile.am is regenerated first, which prints; then the line asked for)
subprocess.run(["make", "-s", "--no-print-directory", "-C", build, "Makefile"], capture_output=True, timeout=300)
p = subprocess.run(["make", "-s", "--no-print-directory", "-C", build, "print-install-dirs"], capture_output=True, timeout=120)
line = [x for x in p.stdout.decode().splitlines() if x.startswith("bindir=")]
dirs = dict(kv.split("=", 1) for kv in shlex.split(line[-1])) if p.returncode == 0 and line else {}
tap.ok("bindir" in dirs, "the build tells its install directories: %s" % dirs)
dest = kt.make_tempdir("kanca-install-")
# directories other than the defaults, so that the installed copies' paths show they were rewritten
dirs.update(bindir="/opt/kanca-test/bin", cgibindir="/srv/kanca-test/cgi-bin")
p = subprocess.run(["make", "-C", build, "install", "DESTDIR=" + dest, "bindir=" + dirs["bindir"],
                    "cgibindir=" + dirs["cgibindir"]], capture_output=True, timeout=300)
tap.eq(p.returncode, 0, "make install DESTDIR=... bindir=... cgibindir=... succeeds %s" % p.stderr.decode()[-300:])


def at(d, *rest):
    return os.path.join(dest + dirs.get(d, "/nonexistent"), *rest)


expected = [at("bindir", "kanca"), at("bindir", "kancactl"), at("cgibindir", "kanca.cgi"),
            at("kancaconfdir", "kanca.conf.example"), at("docdir", "README.md")]
expected += [at("docdir", f) for f in ("COPYING", "NEWS", "doc/README.md", "doc/configuration.md",
                                       "doc/providers.md", "doc/processing.md", "doc/operations.md",
                                       "doc/multihost.md")]
expected += [at("pkgdatadir", f) for f in (
    "apache/README.md", "apache/kanca-fcgid.conf", "apache/kanca-proxy-fcgi.conf",
    "apache/shared-hosting/public_html/.htaccess", "apache/shared-hosting/public_html/cgi-bin/.htaccess",
    "lighttpd/kanca.conf", "lighttpd/kanca-spawn-fcgi.conf", "lighttpd/kanca-cgi.conf",
    "systemd/kanca-fcgi.socket", "systemd/kanca-fcgi.service", "systemd/README.md",
    "certs/AppleRootCA-G3.pem")]
for f in expected:
    tap.ok(os.path.isfile(f), "installed: %s" % f[len(dest):])
for f in expected[:3]:
    tap.ok(os.access(f, os.X_OK), "executable: %s" % f[len(dest):])

lighttpd_conf = open(at("pkgdatadir", "lighttpd/kanca.conf")).read()
tap.ok('"%s/kanca"' % dirs["bindir"] in lighttpd_conf and "/usr/local/bin/kanca" not in lighttpd_conf,
       "the installed lighttpd/kanca.conf names this build's kanca (%s/kanca)" % dirs["bindir"])
tap.ok(dirs.get("kanca_config", "?") in lighttpd_conf,
       "and its configuration file (%s)" % dirs.get("kanca_config"))
cgi_conf = open(at("pkgdatadir", "lighttpd/kanca-cgi.conf")).read()
tap.ok(dirs.get("cgibindir", "?") + "/kanca.cgi" in cgi_conf, "lighttpd/kanca-cgi.conf names this build's kanca.cgi")
fcgid = open(at("pkgdatadir", "apache/kanca-fcgid.conf")).read()
tap.ok(dirs.get("bindir", "?") + "/kanca" in fcgid, "apache/kanca-fcgid.conf names this build's kanca")
unit = open(at("pkgdatadir", "systemd/kanca-fcgi.service")).read()
tap.ok(dirs.get("bindir", "?") + "/kanca" in unit and dirs.get("kanca_config", "?") in unit,
       "systemd/kanca-fcgi.service names this build's kanca and configuration file")

# the installed programs work (their compiled-in default config path is not in DESTDIR: use -c / KANCA_CONFIG)
store = kt.make_store("sqlite", dest)
conf = os.path.join(dest, "kanca.conf")
with open(conf, "w") as f:
    f.write("store = %s\nprocessing = off\n" % store.uri())
env = dict(os.environ, KANCA_CONFIG=conf)
p = subprocess.run([at("bindir", "kancactl"), "-c", conf, "migrate"], capture_output=True, timeout=60)
tap.eq(p.returncode, 0, "the installed kancactl migrates a store")
secret = "install-test-secret"
p = subprocess.run([at("bindir", "kancactl"), "-c", conf, "source", "add", "supplier", "inst", "--secret", secret],
                   capture_output=True, timeout=60)
tap.eq(p.returncode, 0, "and adds a source")
body = b'{"eventId":"inst-1","event":"stock.updated","data":{}}'
for prog in (at("cgibindir", "kanca.cgi"), at("bindir", "kanca")):
    r = subprocess.run([prog], input=body, capture_output=True, timeout=30,
                       env=dict(env, **kt.cgi_env("POST", "/api/suppliers/inst/webhook",
                                                  {"Content-Type": "application/json",
                                                   "X-Signature": kt.sign_hex(secret, body)}, body)))
    answer = kt.parse_cgi_output(r.stdout)
    tap.eq(answer.status, 200, "the installed %s answers a signed delivery as CGI" % os.path.basename(prog))
tap.eq(store.count("events"), 1, "one event stored (the second delivery is a duplicate)")
store.close()
tap.done()
