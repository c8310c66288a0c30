#!/usr/bin/env python3
"""store_pg.py: the store unit test (tests/unit/test_store) against a throwaway PostgreSQL cluster, so
both backends pass the same store tests. Its TAP output is passed through."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
kt.require_pg(tap)
cluster = kt.PgCluster().start()
binary = os.path.join(kt.builddir(), "tests", "unit", "test_store")
if not os.path.exists(binary):
    subprocess.run(["make", "-C", kt.builddir(), "tests/unit/test_store"], capture_output=True)
env = dict(os.environ, KANCA_TEST_PG_URI=cluster.uri())
p = subprocess.run([binary], env=env, capture_output=True, timeout=300)
out = p.stdout.decode("utf-8", "replace")
pg_lines = [l for l in out.splitlines() if l.startswith(("ok ", "not ok ")) and "PostgreSQL" in l]
for line in pg_lines:
    desc = line.split(" - ", 1)[1] if " - " in line else line
    tap.ok(line.startswith("ok "), desc)
tap.ok(len(pg_lines) > 100, "the PostgreSQL half of the store test ran (%d checks)" % len(pg_lines))
tap.eq(p.returncode, 0, "test_store exits 0 with PostgreSQL configured")
if p.returncode != 0:
    for l in out.splitlines():
        if l.startswith("not ok") or l.startswith("#"):
            tap.diag(l)
tap.done()
