#!/bin/sh
# peers.sh: kanca beside two ordinary implementations of the same webhook route (issue 12) -- Express + pg in
# cluster mode (bench/peers/node) and PHP-FPM + pg_pconnect behind lighttpd (bench/peers/php) -- and the
# pgbench ceiling, in one run on one PostgreSQL with one corpus, on 127.0.0.1. Prints figures (not a
# pass/fail test) and writes them to bench/results-peers.txt. See bench/peers.py and bench/README.md, "Peers".
#
#   sh bench/peers.sh [--duration S] [--runs N] [--quick] [--conns 4,64] [--procs N] [--keep]
#
# Installs what it needs (scripts/deps.sh bench: wrk, lighttpd, PostgreSQL, node, npm, php-fpm, php-pgsql)
# when run as root, and the node peer's packages (npm ci, from package-lock.json) into
# bench/peers/node/node_modules when they are missing or older than the lock file.
# Binaries come from $KANCA_BUILDDIR, else the source tree's _build, else the source tree itself.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

sh "$top/scripts/deps.sh" bench

nodedir=$here/peers/node
if [ ! -f "$nodedir/node_modules/.package-lock.json" ] ||
	[ "$nodedir/package-lock.json" -nt "$nodedir/node_modules/.package-lock.json" ]; then
	echo "peers.sh: npm ci in $nodedir" >&2
	(cd "$nodedir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
exec python3 "$here/peers.py" "$@"
