#!/bin/sh
# fuzz.sh [SECONDS]: builds the libFuzzer targets with clang (ASan+UBSan) in _build/fuzz and runs each
# for SECONDS (default 20) over its checked-in corpus (tests/fuzz/corpus/<name>). Prints one TAP line
# per target and "N passed, N failed". A crash leaves its input in _build/fuzz/crashes/<name>/.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
secs=${1:-20}
command -v clang >/dev/null || { echo "not ok 1 - clang not found (scripts/deps.sh test installs it)"; echo "0 passed, 1 failed"; exit 1; }
[ -f configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p _build/fuzz && cd _build/fuzz || exit 1
if [ ! -f Makefile ]; then
	"$top/configure" -q CC=clang --enable-fuzz >configure.out 2>&1 || { tail -20 configure.out; echo "0 passed, 1 failed"; exit 1; }
fi
make Makefile >/dev/null 2>&1   # regenerate first: its output must not mix with the list below
targets=$(make -s print-fuzz-targets | tail -1)
if ! make -j"$(nproc)" $targets >make.out 2>&1; then
	grep -E "error" make.out | head -20
	echo "not ok 1 - fuzz targets do not build"; echo "0 passed, 1 failed"; exit 1
fi
n=0; pass=0; fail=0
for t in $targets; do
	n=$((n + 1))
	name=$(basename "$t"); name=${name#fuzz_}
	corpus="$top/tests/fuzz/corpus/$name"
	work=$(mktemp -d); mkdir -p "crashes/$name"
	[ -d "$corpus" ] && cp -r "$corpus/." "$work/" 2>/dev/null
	if ./"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="crashes/$name/" \
		"$work" >"fuzz-$name.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok $n - fuzz_$name: $(grep -o 'stat::number_of_executed_units: [0-9]*' "fuzz-$name.log" | tail -1 | sed 's/.*: //') runs in ${secs}s, no crash"
		[ -n "${KANCA_FUZZ_KEEP:-}" ] && cp -n "$work"/* "$corpus/" 2>/dev/null
	else
		fail=$((fail + 1))
		echo "not ok $n - fuzz_$name crashed: $(ls "crashes/$name" | head -1)"
		grep -E "ERROR|SUMMARY" "fuzz-$name.log" | head -5 | sed 's/^/# /'
	fi
	rm -rf "$work"
done
echo "1..$n"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
