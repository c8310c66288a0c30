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
# tree in _build/trouble (configured once, `make` every time: a no-op when nothing changed).
# The old build: the parent of the first commit "Issue 10 (part 1)", exported with git archive into
# _build/trouble-old/src and built in _build/trouble-old/build (once); KANCA_TROUBLE_OLD=none leaves it
# out, KANCA_TROUBLE_OLD=<commit> compares against another commit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

sh "$top/scripts/deps.sh" bench

say() { echo "trouble.sh: $*" >&2; }

new=${KANCA_BUILDDIR:-}
if [ -z "$new" ] || [ ! -x "$new/kanca" ] || [ ! -x "$new/kancactl" ]; then
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
	od=$top/_build/trouble-old
	if [ "$(cat "$od/commit" 2>/dev/null)" != "$want" ] || [ ! -x "$od/build/kanca" ] || [ ! -x "$od/build/kancactl" ]; then
		say "building the old code ($want) in $od"
		rm -rf "$od"
		mkdir -p "$od/src" "$od/build"
		git -C "$top" archive "$want" | tar -x -C "$od/src"
		(cd "$od/src" && autoreconf -fi >/dev/null 2>&1)
		(cd "$od/build" && ../src/configure -q && make -j2 >make.log 2>&1) || { tail -20 "$od/build/make.log" >&2; exit 2; }
		echo "$want" >"$od/commit"
	fi
	old=$od/build
	old_desc="$(git -C "$top" log -1 --format='%h %s' "$want" | cut -c1-60)..."
fi

if [ -n "$old" ]; then
	exec python3 "$here/trouble.py" --new "$new" --old "$old" --old-desc "$old_desc" "$@"
fi
exec python3 "$here/trouble.py" --new "$new" "$@"
