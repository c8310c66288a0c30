#!/usr/bin/env python3
"""style.py: the lints of make check. Every C file of the repository (src, cgi-bin, tests/unit,
tests/fuzz) is formatted as the checked-in .clang-format says (clang-format 14, Debian 12's), and calls
no banned function (scripts/checksrc.sh, which the build also runs over the programs' sources).
Reformat with: clang-format -i FILE. With CI=true a missing clang-format fails instead of skipping."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
top = kt.srcdir()
files = []
for d in ("src", "cgi-bin", os.path.join("tests", "unit"), os.path.join("tests", "fuzz")):
    for dirpath, dirnames, names in os.walk(os.path.join(top, d)):
        dirnames.sort()
        files += [os.path.relpath(os.path.join(dirpath, n), top) for n in sorted(names) if n.endswith((".c", ".h"))]
files = [f for f in files if f != os.path.join("src", "store", "migrations.c")]  # generated
tap.ok(len(files) > 100, "%d C files found" % len(files))

# the banned-function check flags what it must, and only that
probe = os.path.join(kt.make_tempdir("kanca-lint-"), "probe.c")
with open(probe, "w") as f:
    f.write('int f(char *b) { /* strcpy( in a comment */ const char *s = "atoi("; return my_atoi(s) + x.atoi(s); }\n'
            'int g(char *b) { return sprintf(b, "x"); }\n')
p = subprocess.run(["sh", os.path.join(top, "scripts", "checksrc.sh"), probe], capture_output=True, text=True)
tap.ok(p.returncode == 1 and "probe.c:2: banned function sprintf()" in p.stdout and "probe.c:1" not in p.stdout,
       "checksrc flags sprintf on line 2 and nothing in comments, strings or other names: %s" % p.stdout.strip())

p = subprocess.run(["sh", os.path.join(top, "scripts", "checksrc.sh")] + files, cwd=top, capture_output=True,
                   text=True)
tap.ok(p.returncode == 0, "no banned function in %d files%s" % (len(files), (": " + p.stdout.strip()) if p.stdout
                                                                  else ""))

cf = shutil.which("clang-format")
if not cf:
    if kt.in_ci():
        tap.ok(False, "required tool clang-format is installed (CI=true: a missing tool is a failure)")
    else:
        tap.skip("clang-format not found (scripts/deps.sh test installs it)", "the format check")
else:
    v = subprocess.run([cf, "--version"], capture_output=True, text=True).stdout.strip()
    tap.diag(v)
    for f in files:
        p = subprocess.run([cf, "--dry-run", "--Werror", "--style=file", f], cwd=top, capture_output=True, text=True)
        first = next((line for line in p.stderr.splitlines() if "warning" in line or "error" in line), "")
        tap.ok(p.returncode == 0, "%s is formatted (.clang-format)%s" % (f, (": " + first) if first else ""))
tap.done()
