#!/bin/sh
# multihost.sh: two kanca hosts (each its own lighttpd, responders, configuration file and spool) on one
# PostgreSQL: ingest of both hosts beside one host's (processing off and fork), the connections each host
# holds, and kancactl purge of a 1,000,000-event table while both hosts take load. Prints figures (not a
# pass/fail test) and writes them to bench/results-multihost.txt. See bench/multihost.py, doc/multihost.md.
#
#   bench/multihost.sh [--duration S] [--procs N] [--conns C] [--repeat R] [--rows N] [--keep]
#
# Needs what bench/run.sh needs (python3, wrk, lighttpd, the PostgreSQL server binaries, psql). Everything
# listens on 127.0.0.1 or unix sockets in temporary directories and is stopped on exit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/multihost.py" "$@"
