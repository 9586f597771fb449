# faultlib.sh - running programs under the test library
# (tests/libmadvisor_fault.so: MADVISOR_FAULT fails madvisor's own calls,
# MADVISOR_PROBE_MASK hides kernel features from its probe) and checking
# what madvisor said and reported. Sourced after tests/lib.sh by fault.sh and
# lean.sh. POSIX sh.
FAULT_LIB="$top_builddir/tests/.libs/libmadvisor_fault.so"

# needs_fault_lib WHY: bail out without the test library; skip the whole
# test in a ThreadSanitizer build, and (saying WHY) when the probe is masked
# for the whole run (tests/lib.sh's PROBE_MASK).
needs_fault_lib() {
	[ -f "$FAULT_LIB" ] || bail "$FAULT_LIB not built (make check builds it)"
	if tsan_build; then
		skip "ThreadSanitizer build: madvisor cannot be loaded ahead of its runtime"
		done_testing
	fi
	if [ -n "$PROBE_MASK" ]; then
		skip "the probe is masked ($PROBE_MASK): $1"
		done_testing
	fi
}
SHADOW="$ITEST/shadow"
COVERED=" "

# fault_run FAULT CONF [VAR=value...] PROGRAM [ARGS...]: run PROGRAM with the
# fault library preloaded (glibc malloc; ALLOC_SO= in front of it for
# another allocator), MADVISOR_FAULT=FAULT and MADVISOR_CONF=CONF plus a
# stats file (MASK= in front: MADVISOR_PROBE_MASK=MASK). Sets rc; output in
# $TMPD/out, stderr in $TMPD/err, the stats of the first process in $STATS,
# what fired in $TMPD/fired.
fault_run() {
	_f=$1 _c=$2
	shift 2
	rm -f "$TMPD"/s-*.json "$TMPD/fired"
	timeout 120 env LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD:}$FAULT_LIB${ALLOC_SO:+:$ALLOC_SO}" \
		${MASK:+MADVISOR_PROBE_MASK=$MASK} MADVISOR_FAULT="$_f" MADVISOR_FAULT_REPORT="$TMPD/fired" \
		MADVISOR_CONF="${_c:+$_c,}stats_file:$TMPD/s-%p.json" "$@" >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	covered
	STATS=$(ls -tr "$TMPD"/s-*.json 2>/dev/null | head -1)
	[ -n "$STATS" ] || STATS="$TMPD/none.json"
}

# covered: add the calls whose fault fired in the last run to COVERED.
covered() {
	[ -f "$TMPD/fired" ] || return 0
	for _n in $(sed -n 's/^\([a-z_0-9]*\)[@%:].* failed [1-9][0-9]*$/\1/p' "$TMPD/fired"); do
		case $COVERED in *" $_n "*) ;; *) COVERED="$COVERED$_n " ;; esac
	done
}

# expect_runs LABEL [children | unfaulted]: exit status 0, and every rule of
# MADVISOR_FAULT fired ("children": where only fork children, which leave
# with _exit and report nothing, meet the fault, and the caller checks
# instead; "unfaulted": no fault asked for).
expect_runs() {
	case $rc in
	0) ok "$1: exits 0" ;;
	124) not_ok "$1: still running after 120 s (a hang)" ;;
	*) not_ok "$1: exit status $rc"; diag "$(grep -v '^madvisor' "$TMPD/err" | head -5)" ;;
	esac
	[ -n "${2:-}" ] && return
	if [ -s "$TMPD/fired" ] && ! grep -q ' failed 0$' "$TMPD/fired"; then
		ok "$1: the fault fired ($(tr '\n' ' ' <"$TMPD/fired"))"
	else
		not_ok "$1: the fault fired"
		diag "$(cat "$TMPD/fired" 2>/dev/null)"
	fi
}

# mv_lines: madvisor's lines on stderr. In a sanitizer build malloc is the
# runtime's, whose symbol table madvisor reads at start-up to look for an
# allocator linked there; a fault in madvisor's own calls can fail that read
# too, said in a line of its own that no run without a sanitizer has. That
# line is left out; every other line counts.
mv_lines() {
	if [ -n "$SAN_PRELOAD" ]; then
		grep '^madvisor' "$TMPD/err" |
			grep -vF "madvisor: malloc is linked into $SAN_PRELOAD, whose symbol table cannot be read"
	else
		grep '^madvisor' "$TMPD/err"
	fi
}

# expect_said LABEL PATTERN: exactly one line from madvisor, matching PATTERN.
expect_said() {
	_n=$(mv_lines | grep -c .)
	if [ "$_n" = 1 ] && mv_lines | grep -q -- "$2"; then
		ok "$1: said once: $(mv_lines)"
	else
		not_ok "$1: one line matching '$2' ($_n lines from madvisor)"
		diag "$(grep '^madvisor' "$TMPD/err" | sort | uniq -c | head -5)"
	fi
}

# expect_quiet LABEL: nothing from madvisor (the failure is worked around).
expect_quiet() {
	check_eq "$1: nothing said (worked around)" "" "$(mv_lines | sort | uniq -c | head -3)"
}

# expect_shadow LABEL: the shadow checker found every byte and error right.
expect_shadow() {
	_s=$(sed -n 's/^shadow: //p' "$TMPD/out")
	case $_s in
	*failures=0*) ok "$1: memory and results as without madvisor ($_s)" ;;
	*) not_ok "$1: shadow checker: ${_s:-no summary}"; diag "$(grep '^shadow' "$TMPD/err" | head -5)" ;;
	esac
}

# stat_is LABEL PATH EXPECTED / stat_ge LABEL PATH MIN: a field of the stats.
stat_is() { check_eq "$1" "$3" "$(json_get "$STATS" "$2")"; }
stat_ge() {
	_v=$(json_get "$STATS" "$2")
	if [ "$_v" != MISSING ] && [ "$_v" -ge "$3" ]; then ok "$1 ($2 = $_v)"; else not_ok "$1 ($2 = $_v, want >= $3)"; fi
}

