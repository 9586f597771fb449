#!/bin/sh
# rangecalls.sh - the range calls mlock, munlock, msync, mincore, mseal,
# pkey_mprotect and mlockall in a real program under the munmap strategies:
# every line the program prints (results, errno, lock state and contents of
# new mappings) must equal a run without madvisor, and the strategy must have
# been at work (ranges held, calls resolved).
. "$top_srcdir/tests/lib.sh"
require_lib

PROG="$ITEST/rangecalls"
"$PROG" >"$TMPD/plain" 2>&1
check_eq "range calls without madvisor" 0 "$?"
# Under a sanitizer nothing is given back by age: the runtime maps state of
# its own lazily, in any thread (madvisor's worker too), and could land in a
# range the worker has just unmapped, before the program's next call there.
san=
[ -n "$SAN_PRELOAD" ] && san=",munmap.max_age_ms:600000"

# run LABEL PROFILE CONF
run() {
	rm -f "$TMPD"/s-*.json
	env LD_PRELOAD="$(preload_for glibc)" MADVISOR_PROFILE="$2" MADVISOR_PROFILE_DIR="$top_srcdir/configs" \
		MADVISOR_CONF="$3${3:+,}stats_file:$TMPD/s-%p.json$san" "$PROG" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "$1: exit status" 0 "$?"
	if cmp -s "$TMPD/plain" "$TMPD/out"; then
		ok "$1: every result, errno, lock state and content as without madvisor"
	else
		not_ok "$1: output differs from the run without madvisor"
		diag "$(diff "$TMPD/plain" "$TMPD/out" | head -20)"
	fi
	res=$(json_get "$(ls "$TMPD"/s-*.json | head -1)" munmap.resolved)
	if [ "$res" != MISSING ] && [ "$res" -gt 0 ]; then
		ok "$1: calls on held ranges were resolved first ($res)"
	else
		not_ok "$1: no call was resolved (resolved=$res): the strategy did not hold the ranges"
	fi
}
run "munmap:recycle" "" "munmap:recycle"
run "munmap:defer" "" "munmap:defer"
run "munmap:defer zap_first" "" "munmap:defer,munmap.zap_first:true"
run "profile churn" churn ""
run "profile lowmem" lowmem ""
done_testing
