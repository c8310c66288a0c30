#!/bin/sh
# fork.sh: processing = fork (the default, no action) against processing = off, on PostgreSQL and
# SQLite, in one run (bench/fork.py; bench/README.md "The default configuration").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/fork.py" "$@"
