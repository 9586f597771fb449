#!/bin/sh
# The test command: install dependencies, build, run `make check`, and end with
# one summary line "N passed, N failed". Exit status is non-zero on failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-"$top/build"}
sh "$top/scripts/build.sh" "$build"
cd "$build"
status=0
make -s -j"$(nproc)" check || status=$?
pass=0 fail=0 skip=0
for log in $(find . -name '*.trs'); do
	pass=$((pass + $(grep -c '^:test-result: PASS' "$log" || true)))
	fail=$((fail + $(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$log" || true)))
	skip=$((skip + $(grep -c '^:test-result: SKIP' "$log" || true)))
done
if [ "$status" != 0 ]; then
	for f in $(grep -l -E '^:test-result: (FAIL|ERROR)' $(find . -name '*.trs')); do
		echo "---- ${f%.trs}.log"
		tail -n 40 "${f%.trs}.log"
	done
	[ "$fail" -gt 0 ] || fail=1
fi
echo "$pass passed, $fail failed, $skip skipped"
exit "$status"
