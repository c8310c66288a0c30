#!/bin/sh
# trouble.sh: kanca under trouble (issue 10) -- answer latency while the SQLite write lock is held and
# while PostgreSQL is stopped, the spool's drain speed, `kancactl spool drain`, and the ingest figures
# without trouble before and after, beside those of the code before issue 10, all in one run on
# 127.0.0.1. Prints figures (not a pass/fail test) and writes them to bench/results-trouble.txt.
#
#   sh bench/trouble.sh [trouble.py options: --duration S --pairs N --conns 8,64 --hold S --outage S ...]
#
# Installs what it needs (scripts/deps.sh bench: wrk, lighttpd, PostgreSQL, ...) when run as root.
# The build under test: $KANCA_BUILDDIR if it holds kanca and kancactl, else a release build of this
# tree in _build/trouble (configured once, `make` every time: a no-op when nothing changed);
# KANCA_TROUBLE_NEW=<commit> builds that commit instead (git archive, as the old build), in
# _build/trouble-new: the figures of a commit, without the work tree's uncommitted changes.
# The old build: the parent of the first commit "Issue 10 (part 1)", exported with git archive into
# _build/trouble-old/src and built in _build/trouble-old/build (once); KANCA_TROUBLE_OLD=none leaves it
# out, KANCA_TROUBLE_OLD=<commit> compares against another commit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

sh "$top/scripts/deps.sh" bench

say() { echo "trouble.sh: $*" >&2; }

# build_commit COMMIT DIR: the commit exported with git archive into DIR/src, built in DIR/build (once)
build_commit() {
	if [ "$(cat "$2/commit" 2>/dev/null)" != "$1" ] || [ ! -x "$2/build/kanca" ] || [ ! -x "$2/build/kancactl" ]; then
		say "building $1 in $2"
		rm -rf "$2"
		mkdir -p "$2/src" "$2/build"
		git -C "$top" archive "$1" | tar -x -C "$2/src"
		(cd "$2/src" && autoreconf -fi >/dev/null 2>&1)
		(cd "$2/build" && ../src/configure -q && make -j2 >make.log 2>&1) || { tail -20 "$2/build/make.log" >&2; exit 2; }
		echo "$1" >"$2/commit"
	fi
}
describe() { git -C "$top" log -1 --format='%h %s' "$1" | cut -c1-60; }

new=${KANCA_BUILDDIR:-}
new_desc=
if [ -n "${KANCA_TROUBLE_NEW:-}" ]; then
	c=$(git -C "$top" rev-parse "$KANCA_TROUBLE_NEW^{commit}")
	build_commit "$c" "$top/_build/trouble-new"
	new=$top/_build/trouble-new/build
	new_desc="commit $(describe "$c")..."
elif [ -z "$new" ] || [ ! -x "$new/kanca" ] || [ ! -x "$new/kancactl" ]; then
	new=$top/_build/trouble
	mkdir -p "$new"
	if [ ! -x "$top/configure" ]; then
		say "autoreconf -fi in $top"
		(cd "$top" && autoreconf -fi >/dev/null 2>&1)
	fi
	if [ ! -f "$new/Makefile" ]; then
		say "configuring a release build in $new"
		(cd "$new" && "$top/configure" -q)
	fi
	say "make in $new"
	make -C "$new" -j2 >"$new/make.log" 2>&1 || { tail -20 "$new/make.log" >&2; exit 2; }
fi

old=
old_desc=
want=${KANCA_TROUBLE_OLD:-}
if [ "$want" != none ] && git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	if [ -z "$want" ]; then
		first=$(git -C "$top" log --format=%H --grep='^Issue 10 (part 1)' | tail -1)
		[ -n "$first" ] && want=$(git -C "$top" rev-parse "$first^")
	else
		want=$(git -C "$top" rev-parse "$want^{commit}")
	fi
fi
if [ -n "$want" ] && [ "$want" != none ]; then
	build_commit "$want" "$top/_build/trouble-old"
	old=$top/_build/trouble-old/build
	old_desc="$(describe "$want")..."
fi

set -- --new "$new" "$@"
[ -n "$new_desc" ] && set -- --new-desc "$new_desc" "$@"
[ -n "$old" ] && set -- --old "$old" --old-desc "$old_desc" "$@"
exec python3 "$here/trouble.py" "$@"
