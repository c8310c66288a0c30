#!/bin/sh
# test.sh: the whole test suite from a fresh Debian 12 machine (as root) or a developer's checkout.
# Installs what is missing, builds with -Werror, runs make check, runs the suite again under
# ASan+UBSan, runs make distcheck, runs each libFuzzer target for FUZZ_SECONDS (20), and ends with
# the line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$jobs" -lt 2 ] && jobs=2
sh scripts/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

status=0
logs=""
step() { echo "==> $*"; }

step "autoreconf"
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

build() { # build DIR CONFIGURE-ARGS...
	dir=$1; shift
	mkdir -p "$dir" && cd "$dir" || return 1
	"$top/configure" -q "$@" >configure.out 2>&1 || { cat configure.out; cd "$top"; return 1; }
	make -j"$jobs" >make.out 2>&1 || { grep -E "error|warning" make.out | head -50; cd "$top"; return 1; }
	cd "$top"
}

check() { # check DIR LABEL [make args]
	dir=$1; label=$2; shift 2
	step "make check ($label)"
	(cd "$dir" && make -j"$jobs" check "$@" >check.out 2>&1)
	rc=$?
	grep -E "^(# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR)|(FAIL|ERROR|XPASS):)" "$dir/check.out" | sed "s/^/   [$label] /"
	if [ $rc -ne 0 ]; then
		status=1
		for f in $(grep -lE "^(not ok|Bail out)|^# (FAIL|ERROR): [1-9]" $(find "$dir/tests" -name '*.log') 2>/dev/null); do
			echo "---- $f"; grep -E "^(not ok|#)" "$f" | head -40
		done
	fi
	logs="$logs $dir/test-suite.log"
}

step "build (-Werror)"
if build _build/ci --enable-werror --enable-test-hooks; then
	check _build/ci default
else
	status=1; echo "build failed"
fi

step "build (ASan+UBSan)"
if build _build/asan --enable-werror --enable-test-hooks --enable-sanitizers CC=gcc; then
	# kanca processes started by lighttpd or cgi-fcgi report into files: a report there fails the run
	san=$top/_build/asan/sanitizer-reports
	rm -rf "$san" && mkdir -p "$san" && chmod 1777 "$san"
	ASAN_OPTIONS=detect_leaks=1:log_path=$san/asan UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan \
		check _build/asan sanitizers
	if [ -n "$(ls -A "$san" 2>/dev/null)" ]; then
		echo "   sanitizer reports:"; head -40 "$san"/* | sed 's/^/   /'
		status=1
		logs="$logs SANITIZER_FAIL"
	else
		logs="$logs SANITIZER_OK"
	fi
else
	status=1; echo "sanitizer build failed"
fi

# distcheck builds the tarball as a user would (./configure && make, no test hooks) and runs the unit
# tests there, and test_hooks.py, which proves that release build has no test hooks
step "make distcheck (a release build from the tarball: unit tests and test_hooks.py)"
if [ -f _build/ci/Makefile ]; then
	units="$(cd _build/ci && make Makefile >/dev/null 2>&1; make -s print-unit-tests 2>/dev/null | tail -1) tests/integration/test_hooks.py"
	if (cd _build/ci && make -j"$jobs" distcheck TESTS="$units" >distcheck.out 2>&1); then
		echo "   distcheck ok"
		logs="$logs DISTCHECK_OK"
	else
		tail -30 _build/ci/distcheck.out; status=1
		logs="$logs DISTCHECK_FAIL"
	fi
fi

step "fuzz targets (libFuzzer, ASan+UBSan, ${FUZZ_SECONDS:-20} s each)"
sh scripts/fuzz.sh "${FUZZ_SECONDS:-20}" >_build/fuzz.out 2>&1
grep -E "^(ok|not ok|#)" _build/fuzz.out | sed 's/^/   /'
fp=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' _build/fuzz.out | tail -1)
ff=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' _build/fuzz.out | tail -1)
[ -z "$fp" ] && { fp=0; ff=1; tail -5 _build/fuzz.out; }
[ "${ff:-1}" -ne 0 ] && status=1

# Totals over every run: TAP results from each test-suite.log, distcheck as one result.
passed=0; failed=0
for l in $logs; do
	case "$l" in
	DISTCHECK_OK|SANITIZER_OK) passed=$((passed + 1)); continue ;;
	DISTCHECK_FAIL|SANITIZER_FAIL) failed=$((failed + 1)); continue ;;
	esac
	if [ ! -f "$l" ]; then failed=$((failed + 1)); continue; fi
	p=$(sed -n 's/^# PASS: *//p' "$l" | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$l" | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$l" | head -1)
	x=$(sed -n 's/^# XPASS: *//p' "$l" | head -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0} + ${x:-0}))
done
passed=$((passed + fp)); failed=$((failed + ff))
[ $status -ne 0 ] && [ $failed -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
