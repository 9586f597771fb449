#!/bin/sh
# tune.sh - `madvisor tune` end to end, with small budgets: on the mmap_churn
# workload (mmap, write, munmap in a loop) replay rules the munmap strategies
# in and the advice transforms out, the survivors are measured against no
# madvisor, and the file it writes names munmap recycling, passes `madvisor
# config --check` and turns recycling on when given as MADVISOR_CONFIG; on
# programs that make no purge calls worth changing (tests/integration/hello,
# true) it says that madvisor cannot help, measures nothing and writes the
# default. Bad input (objective, allocator, command, FILE): one line, exit 2,
# no file. Which candidate is faster is the bench's to assert (bench/tuned),
# not this test's: here only the choice among recycling candidates and the
# file are checked.
. "$top_srcdir/tests/lib.sh"
require_lib
[ -x "$MV_LAUNCHER" ] || bail "$MV_LAUNCHER not built"
mc=$top_builddir/bench/workloads/mmap_churn
[ -x "$mc" ] || bail "$mc not built"
if [ -n "$SAN_PRELOAD" ]; then
	# The launcher puts the library first in LD_PRELOAD; a sanitizer runtime
	# must come first. The plain make check runs this test.
	skip "sanitizer build: the traced run cannot put the sanitizer runtime first"
	done_testing
fi
MADVISOR_LIB=$MV_LIB
export MADVISOR_LIB
unset MADVISOR_PROFILE MADVISOR_CONF MADVISOR_CONFIG LD_PRELOAD

# --- mmap_churn: recycling --------------------------------------------------------
f=$TMPD/churn.conf
"$MV_LAUNCHER" tune --budget-s 30 --reps 2 --out "$f" --keep "$TMPD/keep" -- \
	"$mc" -t 2 -n 300 -S 1 >"$TMPD/churn.out" 2>"$TMPD/churn.err"
st=$?
check_eq "madvisor tune on mmap_churn: exit 0" 0 "$st"
[ "$st" -eq 0 ] || diag "$(tail -n 5 "$TMPD/churn.err")"
check "it traced the command (trace: and stats_file: kept by --keep)" \
	sh -c 'ls "$1"/calls.*.trace "$1"/stats.*.json >/dev/null 2>&1' sh "$TMPD/keep"
check "the trace saw the munmaps (600)" grep -q "munmap 600, mmap 600 calls" "$TMPD/churn.err"
check "replay ruled in the churn profile" grep -Eq "^    churn +measured; replay: " "$TMPD/churn.err"
check "replay ruled out madvise:free_to_dontneed (no madvise calls to change)" \
	grep -Eq "^    madvise:free_to_dontneed +dropped: changes fewer than 16 calls" "$TMPD/churn.err"
check "replay measured munmap:recycle once (it replays the same as churn)" \
	grep -Eq "^    munmap:recycle +dropped: replays the same as churn" "$TMPD/churn.err"
check "the service profile is not ruled in by replay (not modelled), and says so" \
	grep -Eq "^    service +dropped: not modelled; " "$TMPD/churn.err"
check "the survivors were measured with madvisor bench" grep -q "^madvisor bench: run 1 of " "$TMPD/churn.err"
check "the table has the run without madvisor" grep -Eq '^\| no madvisor \| [12] \| ' "$TMPD/churn.out"
check "and the churn profile, with ratios" grep -Eq '^\| churn \| [12] \| [0-9.]+ \([0-9.]+x\) \|' "$TMPD/churn.out"
check "no dropped candidate was measured" test -z "$(grep -E '^\| (madvise:|pt_reclaim:|service )' "$TMPD/churn.out")"
check "the recommendation is munmap recycling" grep -q '^recommendation: .*(munmap recycling): ' "$TMPD/churn.out"
check "the file names munmap recycling" grep -qx 'munmap:recycle' "$f"
check "the file says why, in comments" grep -q "^# why: least product of the CPU and mean RSS ratios: CPU 0" "$f"
out=$("$MV_LAUNCHER" config --check "$f" 2>&1)
check_eq "madvisor config --check accepts the file" "$f: ok" "$out"
MADVISOR_CONFIG=$f "$MV_LAUNCHER" --json "$TMPD/cfg.json" -- "$mc" -t 1 -n 50 -S 1 >/dev/null 2>"$TMPD/cfg.err"
check_eq "MADVISOR_CONFIG=FILE: the program runs (exit 0)" 0 $?
check_eq "MADVISOR_CONFIG=FILE: no configuration error" "" "$(cat "$TMPD/cfg.err")"
check_eq "MADVISOR_CONFIG=FILE turns recycling on" recycle "$(json_get "$TMPD/cfg.json" munmap.mode)"
check "and ranges are recycled" [ "$(json_get "$TMPD/cfg.json" munmap.recycled)" -gt 0 ]

# --- programs madvisor cannot help --------------------------------------------
for prog in "$ITEST/hello" true; do
	name=${prog##*/}
	f=$TMPD/$name.conf
	"$MV_LAUNCHER" tune --budget-s 10 --out "$f" -- "$prog" >"$TMPD/$name.out" 2>"$TMPD/$name.err"
	check_eq "$name: exit 0" 0 $?
	check "$name: madvisor cannot help this program" grep -q '^madvisor cannot help this program: ' "$TMPD/$name.out"
	check "$name: the default is recommended" grep -q '^recommendation: the default' "$TMPD/$name.out"
	check "$name: nothing measured" test -z "$(grep '^madvisor bench: ' "$TMPD/$name.err")"
	check_eq "$name: the file holds the default profile's keys" "enabled:true" "$(grep -v '^#' "$f")"
	check "$name: the file says why" grep -q '^# madvisor cannot help this program' "$f"
	out=$("$MV_LAUNCHER" config --check "$f" 2>&1)
	check_eq "$name: madvisor config --check accepts the file" "$f: ok" "$out"
done

# --- bad input ----------------------------------------------------------------------
bad() {
	_d=$1
	shift
	rm -f "$TMPD/bad.conf"
	"$MV_LAUNCHER" tune "$@" >"$TMPD/bad.out" 2>"$TMPD/bad.err"
	_st=$?
	check_eq "$_d: exit 2, one line" "2 1" "$_st $(wc -l <"$TMPD/bad.err")"
	diag "$(cat "$TMPD/bad.err")"
	check "$_d: no file written" test ! -e "$TMPD/bad.conf"
}
bad "unknown objective" --objective fastest --out "$TMPD/bad.conf" -- true
check "it names the objective" grep -q "unknown objective 'fastest'" "$TMPD/bad.err"
bad "unknown allocator" --allocator nosuchalloc --out "$TMPD/bad.conf" -- true
check "it names the allocator" grep -q "unknown allocator 'nosuchalloc'" "$TMPD/bad.err"
bad "allocator path that does not exist" --allocator "$TMPD/libnone.so" --out "$TMPD/bad.conf" -- true
bad "command not found" --out "$TMPD/bad.conf" -- "madvisor-no-such-command-$$"
check "it names the command" grep -q "madvisor-no-such-command-$$.*not found" "$TMPD/bad.err"
bad "no command" --out "$TMPD/bad.conf"
bad "--budget-s not a number" --budget-s soon --out "$TMPD/bad.conf" -- true
: >"$TMPD/afile"
"$MV_LAUNCHER" tune --out "$TMPD/afile/x.conf" -- true >/dev/null 2>"$TMPD/bad.err"
check_eq "an unwritable FILE: exit 2, one line" "2 1" "$? $(wc -l <"$TMPD/bad.err")"
check "it names the file" grep -q "cannot write '$TMPD/afile/x.conf'" "$TMPD/bad.err"
done_testing
