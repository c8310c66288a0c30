#!/bin/sh
# run.sh: kanca's benchmark -- wrk -> lighttpd -> kanca -> PostgreSQL / SQLite on 127.0.0.1, against the
# pgbench and static-lighttpd ceilings measured in the same run. Prints figures (not a pass/fail test)
# and writes them to bench/results-latest.txt as well.
#
#   bench/run.sh [--duration S] [--quick] [--procs N] [--sweep-procs 2,4,8] [--log-level L] [--keep]
#
# Binaries come from $KANCA_BUILDDIR, else the source tree's _build, else the source tree itself.
# Needs: python3, wrk, lighttpd, PostgreSQL server binaries (pg_config --bindir), pgbench, psql.
# Everything it starts (PostgreSQL cluster, lighttpd, kanca) lives in a temporary directory and is
# stopped on exit, including Ctrl-C.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
