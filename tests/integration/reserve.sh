#!/bin/sh
# reserve.sh - 4096 untouched 1 GiB reservations (MAP_NORESERVE), made and
# given back one by one, under every profile and with the page-table model
# and the sweep on. madvisor's cost must follow the number of mappings, not
# their size: its record of mappings (munmap strategies) and its page-table
# model each stay within a few MiB (per 2 MiB they would take hundreds), the
# program's peak RSS stays within 64 MiB of the same program without
# madvisor, and it maps and unmaps as many regions. The tight targets (time
# and 32 MiB) are bench/reserve's; the time limit here is only a hang guard.
. "$top_srcdir/tests/lib.sh"
require_lib
RESERVE="$top_builddir/bench/workloads/reserve"
[ -x "$RESERVE" ] || bail "$RESERVE not built"
N=4096
LIMIT=120
MIB=1048576

field() { sed -n "s/.*[ :]$1=\([0-9.]*\).*/\1/p" "$TMPD/out" | head -1; }

timeout $LIMIT env LD_PRELOAD="$(plain_preload_for glibc)" "$RESERVE" -n $N >"$TMPD/out" 2>"$TMPD/err"
check_eq "without madvisor: exit status" 0 "$?"
base_regions=$(field regions)
base_peak=$(field peak_rss_kb)
check "without madvisor: $base_regions regions mapped" [ "${base_regions:-0}" -ge 1 ]

# one LABEL PROFILE CONF [ARGS...]: the reservations under PROFILE plus CONF.
one() {
	_l=$1 _p=$2 _c=$3
	shift 3
	rm -f "$TMPD"/s-*.json
	timeout $LIMIT env LD_PRELOAD="$(preload_for glibc)" MADVISOR_PROFILE="$_p" \
		MADVISOR_PROFILE_DIR="$top_srcdir/configs" MADVISOR_CONF="${_c:+$_c,}stats_file:$TMPD/s-%p.json" \
		"$RESERVE" -n $N "$@" >"$TMPD/out" 2>"$TMPD/err"
	_rc=$?
	STATS=$(ls "$TMPD"/s-*.json 2>/dev/null | head -1)
	[ -n "$STATS" ] || STATS="$TMPD/none.json"
	check_eq "$_l: exit status (124: still running after $LIMIT s)" 0 "$_rc"
	# Silent, but for the line one process alone says here (tests/lib.sh).
	check_eq "$_l: stderr empty, or what one process says" "$(alone_says "$_p" "$_c")" "$(cat "$TMPD/err")"
	check_eq "$_l: as many regions mapped as without madvisor" "$base_regions" "$(field regions)"
	_peak=$(field peak_rss_kb)
	check "$_l: peak RSS ${_peak:-?} kB, within 64 MiB of ${base_peak:-?} kB without madvisor" \
		[ "${_peak:-999999999}" -le $((${base_peak:-0} + 65536)) ]
}

# registry LABEL: the munmap strategy's record of mappings stayed small.
registry() {
	_b=$(json_get "$STATS" munmap.registry_bytes_peak)
	check "$1: the record of mappings took $_b bytes at most (<= 4 MiB)" \
		[ "$_b" != MISSING ] && [ "$_b" -le $((4 * MIB)) ]
	check_eq "$1: nothing left recorded" 0 "$(json_get "$STATS" munmap.registry_entries)"
}

# model LABEL: the page-table model stayed small.
model() {
	_b=$(json_get "$STATS" ptmodel.model_bytes)
	check "$1: the page-table model took $_b bytes (<= 8 MiB)" \
		[ "$_b" != MISSING ] && [ "$_b" -le $((8 * MIB)) ]
}

one "default" default ""
one "churn" churn ""
registry "churn"
one "lowmem" lowmem ""
registry "lowmem"
one "sweep:on" default "sweep:on"
model "sweep:on"
one "churn, sweep:on" churn "sweep:on"
registry "churn, sweep:on"
model "churn, sweep:on"
# Each region its own VMA (read-write and read-only in turn): the model
# samples every one of them.
one "lowmem, ptmodel:on, distinct VMAs" lowmem "ptmodel:on" -d
registry "lowmem, ptmodel:on, distinct VMAs"
model "lowmem, ptmodel:on, distinct VMAs"
done_testing
