#!/bin/sh
# Sanitizer runs: build madvisor with AddressSanitizer + UndefinedBehaviorSanitizer
# in build-asan/ and run `make check` (unit and integration tests); with --tsan,
# also build build-tsan/ with ThreadSanitizer and run the unit tests (--tsan-only:
# that alone). Installs the sanitizer runtimes and clang with apt-get, only when
# something is missing.
# Ends with one line per build: "<name>: N passed, N failed, N skipped".
# Usage: scripts/sanitize.sh [--tsan | --tsan-only] [--deps-only]
# Build directories: ASAN_BUILDDIR, TSAN_BUILDDIR (default build-asan/, build-tsan/).
# Each `make check` is stopped after SANITIZE_TIMEOUT seconds (default 600).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
asan=yes
tsan=no
deps_only=no
for arg in "$@"; do
	case $arg in
	--tsan) tsan=yes ;;
	--tsan-only) tsan=yes asan=no ;;
	--deps-only) deps_only=yes ;;
	*) echo "usage: scripts/sanitize.sh [--tsan | --tsan-only] [--deps-only]" >&2; exit 2 ;;
	esac
done

# ---- dependencies ---------------------------------------------------------------
# gcc's runtimes for --enable-asan/--enable-tsan; clang-14 and compiler-rt
# (libFuzzer, clang's ASan/UBSan) for --enable-fuzz (scripts/fuzz.sh).
sh "$top/scripts/setup.sh" libasan8 libubsan1 libtsan2 clang-14 libclang-rt-14-dev
[ "$deps_only" = yes ] && exit 0

# ---- builds --------------------------------------------------------------------
# build DIR OPTION: configure (again, if DIR was configured without OPTION) and make.
build() {
	if [ -f "$1/config.status" ] && ! "$1/config.status" --config | grep -q -- "$2"; then
		rm -f "$1/config.status"
	fi
	sh "$top/scripts/build.sh" "$1" "$2"
}

# summary DIR NAME STATUS: count the TAP results, show failing logs, print the line.
summary() {
	pass=0 fail=0 skip=0
	for log in $(find "$1" -name '*.trs'); do
		pass=$((pass + $(grep -c '^:test-result: PASS' "$log" || true)))
		fail=$((fail + $(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$log" || true)))
		skip=$((skip + $(grep -c '^:test-result: SKIP' "$log" || true)))
	done
	[ "$3" = 124 ] && echo "$2: stopped after $limit s (SANITIZE_TIMEOUT)"
	if [ "$3" != 0 ]; then
		for f in $(grep -l -E '^:test-result: (FAIL|ERROR)' $(find "$1" -name '*.trs')); do
			echo "---- ${f%.trs}.log"
			tail -n 60 "${f%.trs}.log"
		done
		[ "$fail" -gt 0 ] || fail=1
	fi
	echo "$2: $pass passed, $fail failed, $skip skipped"
}

# make_var DIR NAME: the value of a make variable of the build in DIR, one word a line.
make_var() {
	(cd "$1" && printf 'print:\n\t@echo $(%s)\n' "$2" | make -s -f Makefile -f - print) | tr ' ' '\n' | grep -v '^$'
}
# Checks of the sources and of data that run no sanitized code (the #include
# lines and nm of the objects, README against the option table, bench/report
# on fixed results): the plain `make check` runs them.
STATIC_TESTS='^tests/unit/layers\.sh$|^tests/unit/readme_keys\.sh$|^tests/bench/report\.sh$'
# The benchmark harness's own tests (tests/bench/: its scripts, the monitor,
# the real-program workloads at toy sizes) run in the plain `make check`; the
# library code they load is the code the integration tests run here.
BENCH_TESTS='^tests/bench/'

status=0
limit=${SANITIZE_TIMEOUT:-600}
if [ "$asan" = yes ]; then
	asan_dir=${ASAN_BUILDDIR:-"$top/build-asan"}
	build "$asan_dir" --enable-asan
	# Old results must not be counted again.
	find "$asan_dir" -name '*.trs' -exec rm -f {} +
	tests=$(make_var "$asan_dir" TESTS | grep -v -E "$STATIC_TESTS" | grep -v -E "$BENCH_TESTS" | tr '\n' ' ')
	s=0
	# One job more than CPUs, as in scripts/check.sh.
	(cd "$asan_dir" && timeout "$limit" make -s -j"$(($(nproc) + 1))" check TESTS="$tests" >/dev/null 2>&1) || s=$?
	summary "$asan_dir" "asan+ubsan make check" "$s"
	[ "$s" = 0 ] || status=1
fi

if [ "$tsan" = yes ]; then
	tsan_dir=${TSAN_BUILDDIR:-"$top/build-tsan"}
	# Only what the unit tests use: the shim library; check-TESTS builds the
	# unit test programs.
	(BUILD_TARGETS="shim/libshim.la" && export BUILD_TARGETS && build "$tsan_dir" --enable-tsan)
	find "$tsan_dir" -name '*.trs' -exec rm -f {} +
	# The unit tests, but not those that run the madvisor command, which this
	# part does not build (launcher.sh also preloads the library into sh, and
	# a TSan runtime that is not the first object in a process crashes and
	# hangs; ASan only asks to be first; man_pages.sh and completion.sh read
	# its --help and keys); nor the static checks.
	unit=$(make_var "$tsan_dir" TESTS | grep '^tests/unit/' |
		grep -v -E '^tests/unit/(launcher|man_pages|completion)\.sh$' |
		grep -v -E "$STATIC_TESTS" | tr '\n' ' ')
	progs=$(make_var "$tsan_dir" check_PROGRAMS | grep '^tests/unit/' | tr '\n' ' ')
	s=0
	(cd "$tsan_dir" && timeout "$limit" make -s -j"$(nproc)" check-TESTS TESTS="$unit" \
		check_PROGRAMS="$progs" >/dev/null 2>&1) || s=$?
	summary "$tsan_dir" "tsan unit tests" "$s"
	[ "$s" = 0 ] || status=1
fi
exit "$status"
