#!/bin/sh
# modes.sh: kanca's per-request cost in each web-server mode (Apache mod_cgi, mod_fcgid, mod_proxy_fcgi +
# spawn-fcgi, lighttpd mod_fastcgi), SQLite and PostgreSQL, at 4 and 64 connections, side by side.
# Prints figures (not a pass/fail test) and writes them to bench/results-modes.txt. See bench/modes.py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/modes.py" "$@"
