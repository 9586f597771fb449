#!/bin/sh
# errno.sh - madvisor passes every call through unchanged: the same return
# value and errno for bad and boundary inputs, with each allocator behind it.
# errno_table runs without madvisor (the allocator alone: gperftools has its
# own mremap) and with it; every case must print the same line.
. "$top_srcdir/tests/lib.sh"
require_lib
if tsan_build; then
	skip "ThreadSanitizer build: its munmap/mmap interceptors abort on the bad inputs this table is made of"
	done_testing
fi
prog="$ITEST/errno_table"

# compare_table LABEL REFERENCE ACTUAL: one TAP line per case.
compare_table() {
	_label=$1
	while IFS= read -r _ref; do
		_name=${_ref%% *}
		_got=$(grep "^$_name " "$3")
		check_eq "$_label: $_name" "$_ref" "$_got"
	done <"$2"
	check_eq "$_label: same number of cases" "$(wc -l <"$2")" "$(wc -l <"$3")"
}

run_one() {  # run_one LABEL ALLOC [VAR=value...]
	_label=$1 _a=$2
	shift 2
	if ! have_alloc "$_a"; then
		skip "$_label: $_a not found by configure"
		return
	fi
	plain_run "$_a" "$prog" >"$TMPD/ref" 2>"$TMPD/ref.err"
	_rc_ref=$?
	mv_run "$_a" "$@" "$prog" >"$TMPD/got" 2>"$TMPD/got.err"
	_rc=$?
	check_eq "$_label: exit status" "$_rc_ref" "$_rc"
	[ -s "$TMPD/got.err" ] && diag "$_label stderr:" "$(head -5 "$TMPD/got.err")"
	if [ "$_rc_ref" -ne 0 ] || [ ! -s "$TMPD/ref" ]; then
		not_ok "$_label: reference run failed (status $_rc_ref)"
		return
	fi
	compare_table "$_label" "$TMPD/ref" "$TMPD/got"
	if [ "$_a" != glibc ] && ! "$prog" | cmp -s - "$TMPD/ref"; then
		diag "$_a alone differs from glibc (not madvisor's doing):" \
			"$("$prog" | diff - "$TMPD/ref" | grep '^[<>]')"
	fi
}

run_one glibc glibc
run_one "glibc, stats to a file" glibc MADVISOR_CONF="stats_file:$TMPD/s-%p.json"
# Under a sanitizer nothing is given back by age (as in rangecalls.sh): its
# runtime maps state lazily, in any thread, and could land in a range just
# unmapped by age, which a case here then seals or locks as the program's
# "unmapped" range (a slow, loaded machine makes a run outlive the age).
san=
[ -n "$SAN_PRELOAD" ] && san=",munmap.max_age_ms:600000"
run_one "glibc, munmap:recycle" glibc MADVISOR_CONF="munmap:recycle$san"
run_one "glibc, munmap:defer" glibc MADVISOR_CONF="munmap:defer,munmap.zap_first:true$san"
for a in $ALLOCATORS; do
	[ "$a" = glibc ] || run_one "$a" "$a"
done
done_testing
