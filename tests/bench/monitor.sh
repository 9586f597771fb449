#!/bin/sh
# bench/monitor's contract: the command's exit status, the time limit, the
# result keys, and RSS/VmPTE read as the process exits (a program that keeps
# 32 page tables must show at least 128 kB of VmPTE at exit).
set -u
. "$top_srcdir/tests/lib.sh"
mon=$top_builddir/bench/monitor
[ -x "$mon" ] || bail "$mon not built"
key() { sed -n "s/^$1=//p" "$2"; }

"$mon" -r "$TMPD/r1" -- sh -c 'exit 7'
check_eq "exit status of the command is passed on" 7 $?
check_eq "result: exit" 7 "$(key exit "$TMPD/r1")"
check_eq "result: not timed out" 0 "$(key timed_out "$TMPD/r1")"

"$mon" -T 0.3 -r "$TMPD/r2" -- sleep 30
check_eq "time limit: status 124" 124 $?
check_eq "time limit: timed_out=1" 1 "$(key timed_out "$TMPD/r2")"
check_eq "time limit: killed by SIGTERM" 143 "$(key exit "$TMPD/r2")"

"$mon" -r "$TMPD/r3" -- /nonexistent/program 2>/dev/null
check_eq "missing program: 127" 127 $?

# 64 MiB touched once per 2 MiB, each page then dropped with a 4 KiB
# MADV_DONTNEED: the 32 page tables stay until exit.
"$mon" -i 10 -o "$TMPD/s4" -r "$TMPD/r4" -- "$top_builddir/bench/workloads/sparse_touch" \
	-m madvise -r 64M -c 1 --idle-ms 0 >"$TMPD/o4"
check_eq "sparse_touch under monitor exits 0" 0 $?
check_eq "sparse_touch touched 32 pages" 32 "$(sed -n 's/.*touched_pages=\([0-9]*\).*/\1/p' "$TMPD/o4")"
if [ "$(key final_at_exit "$TMPD/r4")" = 1 ]; then
	pte=$(key pte_final_kb "$TMPD/r4")
	check "VmPTE at exit >= 128 kB (got $pte)" test "$pte" -ge 128
	rss=$(key rss_final_kb "$TMPD/r4")
	check "RSS at exit > 0 (got $rss)" test "$rss" -gt 0
else
	skip "ptrace refused here: no exit sample"
	skip "ptrace refused here: no exit sample"
fi
for k in wall_s user_s sys_s maxrss_kb minflt majflt vcsw ivcsw rss_peak_kb pte_peak_kb samples tlb_shootdowns_system; do
	v=$(key "$k" "$TMPD/r4")
	case $v in ''|*[!0-9.-]*) not_ok "result key $k is a number (got '$v')" ;; *) ok "result key $k is a number" ;; esac
done
check "series has its header" grep -qx 't_s,rss_kb,pte_kb' "$TMPD/s4"
done_testing
