#!/bin/sh
# The test command: install dependencies, build, and run the test parts in
# turn; then one line per part "<part>: N passed, N failed, N skipped (T s,
# CPU C s)" and a last line totalling every part: "N passed, N failed, N
# skipped (T s)". Exit status is non-zero when any part fails.
#   make check               the normal build (BUILDDIR, default build/)
#   lean kernel make check   the tests that load the library with something on
#                            that the kernel probe decides (tests/integration/),
#                            again in the normal build, through the test library
#                            with the probe masked to LEAN_MASK (tests/lib.sh,
#                            MADVISOR_TEST_PROBE_MASK): the fallbacks of older kernels
#   asan+ubsan make check    scripts/sanitize.sh: ASan + UBSan build, unit and integration tests
#   tsan unit tests          scripts/sanitize.sh --tsan-only: TSan build, unit tests
#   fuzz                     scripts/fuzz.sh: every libFuzzer target, FUZZ_SECONDS (6) each, side by side
#   package                  the release tarball (`make dist`) built into a Debian
#                            package by scripts/deb.sh, then tests/package/deb.sh
# `make distcheck` (the tarball built, tested, installed and cleaned out of
# tree: the whole suite once more) is not a part here, for CI time: run it in
# the build directory.
# Usage: scripts/check.sh [--fast]    (--fast: the normal `make check` only)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
fast=no
for arg in "$@"; do
	case $arg in
	--fast) fast=yes ;;
	*) echo "usage: scripts/check.sh [--fast]" >&2; exit 2 ;;
	esac
done
build=${BUILDDIR:-"$top/build"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total_pass=0 total_fail=0 total_skip=0 status=0 summary="" start=$(date +%s)

# counts LOG: sum the "NAME: N passed, N failed[, N skipped]" lines in LOG.
counts() {
	sed -n 's/^[^:]*: \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed\(, \([0-9][0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p' "$1" |
		awk '{ p += $1; f += $2; s += $3; n++ } END { print p + 0, f + 0, s + 0, n + 0 }'
}

# run_part NAME COMMAND...: run one part, show its output, count its results.
# A part that prints no summary line counts as one test: its exit status.
run_part() {
	name=$1
	shift
	t0=$(date +%s)
	{ s=0; "$@" 2>&1 || s=$?; echo "$s" >"$tmp/rc"; times >"$tmp/times"; } | tee "$tmp/log"
	s=$(cat "$tmp/rc")
	t=$(($(date +%s) - t0))
	# CPU time of the part (user + system, its processes): the second line of `times`.
	cpu=$(sed -n 2p "$tmp/times" | tr 'ms' '  ' | awk '{ printf "%d", $1 * 60 + $2 + $3 * 60 + $4 }')
	# shellcheck disable=SC2046
	set -- $(counts "$tmp/log")
	p=$1 f=$2 k=$3
	if [ "$4" = 0 ]; then
		if [ "$s" = 0 ]; then p=1; else f=1; fi
	elif [ "$s" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	[ "$s" = 0 ] || status=1
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + k))
	summary="$summary$name: $p passed, $f failed, $k skipped (${t} s, CPU ${cpu} s)
"
}

# A kernel without PT_RECLAIM, process_madvise on self, userfaultfd, mseal,
# MADV_FREE or per-VMA-lock madvise, with THP off (shim/sys/probemask.c).
LEAN_MASK=${LEAN_MASK:-no_pt_reclaim,no_process_madvise,no_uffd,no_mseal,no_madv_free,no_vma_lock,thp_never}

# make_check [NAME [make arguments...]]: the normal build's `make check`,
# printing "NAME: N passed, N failed, N skipped" (NAME: "make check").
make_check() {
	part=${1:-make check}
	[ $# -gt 0 ] && shift
	if ! sh "$top/scripts/build.sh" "$build"; then
		echo "$part: the build failed"
		echo "$part: 0 passed, 1 failed, 0 skipped"
		return 1
	fi
	cd "$build"
	find . -name '*.trs' -exec rm -f {} +
	s=0
	# One job more than CPUs: many tests wait on timers, children and
	# servers, and would leave a CPU idle.
	make -s -j"$(($(nproc) + 1))" check "$@" || s=$?
	pass=0 fail=0 skip=0
	for log in $(find . -name '*.trs'); do
		pass=$((pass + $(grep -c '^:test-result: PASS' "$log" || true)))
		fail=$((fail + $(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$log" || true)))
		skip=$((skip + $(grep -c '^:test-result: SKIP' "$log" || true)))
	done
	if [ "$s" != 0 ]; then
		for f in $(grep -l -E '^:test-result: (FAIL|ERROR)' $(find . -name '*.trs')); do
			echo "---- ${f%.trs}.log"
			tail -n 40 "${f%.trs}.log"
		done
		[ "$fail" -gt 0 ] || fail=1
	fi
	echo "$part: $pass passed, $fail failed, $skip skipped"
	return "$s"
}

# The release tarball (so it is known to hold all that builds and installs
# the product) made into the Debian package, then the package's files and
# its launcher run unpacked (and, as root, installed with dpkg and purged).
package() {
	rm -f "$build"/madvisor-*.tar.gz
	make -C "$build" -s dist >"$tmp/dist.log" 2>&1 || { tail -n 20 "$tmp/dist.log"; return 1; }
	sh "$top/scripts/deb.sh" "$tmp/deb" "$build"/madvisor-*.tar.gz && sh "$top/tests/package/deb.sh" "$tmp/deb"
}

# The tests that load the library, on a simulated leaner kernel: those that
# turn on something the probe decides on (a munmap strategy, the page-table
# model, the sweep, pt_reclaim, a madvise mode, the trace, a profile), and
# lean.sh/fault.sh's skip lines. In the others the mask changes nothing but
# the kernel object of the report, which lean.sh checks; the unit tests drive
# shim/ directly, without the library, so no mask reaches them (both ran in
# the first part).
lean_check() {
	tests=$(cd "$build" && printf 'print:\n\t@echo $(TESTS)\n' | make -s -f Makefile -f - print |
		tr ' ' '\n' | grep '^tests/integration/' | while read -r t; do
			grep -q -E 'munmap[:.]|ptmodel|sweep|pt_reclaim|madvise:|trace:|PROFILE=|--profile' \
				"$top/$t" && printf '%s ' "$t"
		done)
	MADVISOR_TEST_PROBE_MASK=$LEAN_MASK
	export MADVISOR_TEST_PROBE_MASK
	make_check "lean kernel make check" TESTS="$tests"
}

run_part "make check" make_check
if [ "$fast" = no ]; then
	run_part "lean kernel make check ($LEAN_MASK)" lean_check
	run_part "asan+ubsan make check" sh "$top/scripts/sanitize.sh"
	run_part "tsan unit tests" sh "$top/scripts/sanitize.sh" --tsan-only
	# libFuzzer: every target for FUZZ_SECONDS (default 6) from its corpus,
	# side by side; longer runs: scripts/fuzz.sh SECONDS.
	run_part "fuzz" sh "$top/scripts/fuzz.sh" "${FUZZ_SECONDS:-6}"
	run_part "package" package
	# More parts go here, each as: run_part NAME COMMAND...
fi

printf '%s' "$summary"
echo "$total_pass passed, $total_fail failed, $total_skip skipped ($(($(date +%s) - start)) s)"
exit "$status"
