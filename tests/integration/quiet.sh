#!/bin/sh
# quiet.sh - forking programs say nothing on stderr under any profile.
# Expected conditions in a fork child (no worker thread yet, no userfaultfd
# there, a feature off) are not worth a line, and a server forking per
# request must not fill its log: the fork-and-exec program and the shadow
# checker's fork storms run under every profile, with the page-table model
# and the sweep, the trace and live stats, and their stderr stays empty.
. "$top_srcdir/tests/lib.sh"
require_lib
SHADOW="$ITEST/shadow"

# quiet LABEL PROFILE CONF PROGRAM [ARGS...]
quiet() {
	_l=$1 _p=$2 _c=$3
	shift 3
	timeout 120 env LD_PRELOAD="$(preload_for glibc)" MADVISOR_PROFILE="$_p" \
		MADVISOR_PROFILE_DIR="$top_srcdir/configs" MADVISOR_CONF="$_c" "$@" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "$_l: exit status" 0 "$?"
	check_eq "$_l: stderr empty" "" "$(head -c 2000 "$TMPD/err")"
}

for p in default churn lowmem service; do
	for c in "" "sweep:on" "ptmodel:on,trace:$TMPD/t-%p.bin,live_file:$TMPD/l-%p.json,live_interval_ms:50"; do
		quiet "$p${c:+, $c}, forks and exec" "$p" "$c" "$ITEST/forks"
		quiet "$p${c:+, $c}, shadow checker with fork storms" "$p" "$c" "$SHADOW" -t 2 -n 300 -f 50
	done
done
done_testing
