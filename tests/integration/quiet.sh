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

# run PROFILE CONF PROGRAM [ARGS...]: stderr to $TMPD/err, the status returned.
run() {
	_p=$1 _c=$2
	shift 2
	timeout 120 env LD_PRELOAD="$(preload_for glibc)" MADVISOR_PROFILE="$_p" \
		MADVISOR_PROFILE_DIR="$top_srcdir/configs" MADVISOR_CONF="$_c" "$@" >"$TMPD/out" 2>"$TMPD/err"
}

# quiet LABEL PROFILE CONF PROGRAM [ARGS...]: the program exits 0 and says
# nothing; or, where one process alone says something under this profile and
# configuration (alone_says, tests/lib.sh), at most that line once per process
# that starts with the configuration (the fork-and-exec program: two).
quiet() {
	_l=$1 _p=$2 _c=$3
	shift 3
	_said=$(alone_says "$_p" "$_c")
	run "$_p" "$_c" "$@"
	check_eq "$_l: exit status" 0 "$?"
	if [ -z "$_said" ]; then
		check_eq "$_l: stderr empty" "" "$(head -c 2000 "$TMPD/err")"
	else
		diag "one process says: $_said"
		check_eq "$_l: stderr holds only what one process says" "$_said" "$(sort -u "$TMPD/err" | head -c 2000)"
		check "$_l: at most once per process started ($(wc -l <"$TMPD/err") lines)" \
			[ "$(wc -l <"$TMPD/err")" -le 2 ]
	fi
}

# Where the kernel cannot run the sweep (no PT_RECLAIM, no userfaultfd),
# sweep:on says so once, in the process that asked for it.
if run default sweep:on "$ITEST/hello" && [ -s "$TMPD/err" ]; then
	check "sweep:on on this kernel: the one line says the sweep stays off" grep -q 'sweep stays off' "$TMPD/err"
	check_eq "sweep:on on this kernel: one line" 1 "$(wc -l <"$TMPD/err")"
fi

for p in default churn lowmem service; do
	for c in "" "sweep:on" "ptmodel:on,trace:$TMPD/t-%p.bin,live_file:$TMPD/l-%p.json,live_interval_ms:50"; do
		if worker_in_child "$(cat "$top_srcdir/configs/$p.conf" 2>/dev/null),$c" && ! fork_threads_ok; then
			for f in "forks and exec" "shadow checker with fork storms"; do
				skip "$p${c:+, $c}, $f: a thread started in a fork child can hang in this build's runtime (fork_threads_ok, tests/lib.sh)"
				skip "$p${c:+, $c}, $f: stderr"
			done
			continue
		fi
		quiet "$p${c:+, $c}, forks and exec" "$p" "$c" "$ITEST/forks"
		quiet "$p${c:+, $c}, shadow checker with fork storms" "$p" "$c" "$SHADOW" -t 2 -n 300 -f 50
	done
done
done_testing
