#!/bin/sh
# benchcmd.sh - `madvisor bench` end to end on a tiny command (the churn
# workload, a fixed number of operations): two allocators x baseline and two
# profiles, twice: report.md with its main table, plots (or the line saying
# there are none without gnuplot), runs.csv, counts.csv and results.json,
# progress on stderr, and counts that reproduce across the two runs. A
# command that fails under the library (a --conf variant) is reported with
# its exit status and the other runs go on. Bad input (unknown allocator,
# profile or key, command not found, a results directory that cannot be
# made): one line, exit 2. SIGINT stops it and leaves no child running.
# No timing is asserted.
. "$top_srcdir/tests/lib.sh"
require_lib
[ -x "$MV_LAUNCHER" ] || bail "$MV_LAUNCHER not built"
churn=$top_builddir/bench/workloads/churn
[ -x "$churn" ] || bail "$churn not built"
if tsan_build; then
	skip "ThreadSanitizer build: madvisor cannot run ahead of the TSan runtime"
	done_testing
fi
# The library under test (the lean part's test library too).
MADVISOR_LIB=$MV_LIB
export MADVISOR_LIB
unset MADVISOR_PROFILE MADVISOR_CONF MADVISOR_CONFIG LD_PRELOAD

# Two allocators: glibc and the first other one installed (a sanitizer build
# brings its own malloc: glibc alone there).
allocs=glibc
for cand in jemalloc mimalloc tcmalloc; do
	case " $ALLOCATORS " in *" $cand "*) ;; *) continue ;; esac
	if [ -n "$(alloc_so "$cand")" ]; then allocs=glibc,$cand; break; fi
done
nalloc=$(echo "$allocs" | tr , '\n' | wc -l)

# bench OUT [OPTION]: the tiny churn bench into OUT; stdout/stderr in
# OUT.stdout/.err.
bench() {
	"$MV_LAUNCHER" bench --allocators "$allocs" --profiles default,churn --reps 2 --interval 20 \
		--metric 'ops_per_sec=' --counts ops --out "$1" ${2:+"$2"} -- "$churn" -t 2 -n 1000 -S 7 \
		>"$1.stdout" 2>"$1.err"
}
bench "$TMPD/a"
check_eq "madvisor bench on churn ($allocs x baseline, default, churn; 2 reps): exit 0" 0 $?
a=$TMPD/a
n=$((nalloc * 3 * 2))
check_eq "runs.csv: one row per run ($n)" $n "$(($(wc -l <"$a/runs.csv") - 1))"
check_eq "every run exited 0" "" "$(awk -F, 'NR > 1 && $6 != 0 { print $1 }' "$a/runs.csv")"
check_eq "every run has its ops_per_sec figure from --metric" "" \
	"$(awk -F, 'NR > 1 && !($20 == "ops_per_sec" && $22 + 0 > 0) { print $1 }' "$a/runs.csv")"
check_eq "library runs have the library's counters, baseline runs none" "" \
	"$(awk -F, 'NR > 1 && (($4 == "baseline") != ($24 == "-")) { print $1 }' "$a/runs.csv")"
check_eq "counts.csv: ops=2000 (2 threads x 1000) in every run" "2000 $n" \
	"$(awk -F, 'NR > 1 && $5 == "ops" { print $6 }' "$a/counts.csv" | sort | uniq -c | awk '{ print $2, $1 }')"
check "progress on stderr: run 1 of $n" grep -q "^madvisor bench: run 1 of $n: churn\.glibc\.baseline\.r1, .*left$" "$a.err"
check "progress on stderr: run $n of $n" grep -q "^madvisor bench: run $n of $n: " "$a.err"
md=$a/report.md
check "report.md written" test -s "$md"
check "report.md names the command" grep -q "^# madvisor bench: .*churn -t 2 -n 1000 -S 7" "$md"
for al in $(echo "$allocs" | tr , ' '); do
	for p in baseline default churn; do
		check "main table row: churn under $al, $p" \
			grep -q "^| churn | $al | $p | 2 | ops_per_sec (higher) | [0-9]" "$md"
	done
	check "the churn row under $al has its ratio to the baseline" \
		grep -Eq "^\| churn \| $al \| churn \| 2 \| [^|]+\| [^|]+\| ~?[0-9.]+ \|" "$md"
done
check "the stdout ends with the main table" grep -q "^| churn | glibc | baseline |" "$a.stdout"
if command -v gnuplot >/dev/null 2>&1; then
	for f in throughput-churn.png throughput-churn.svg series-churn-glibc.png series-churn-glibc.svg; do
		check "plots/$f drawn" test -s "$a/plots/$f"
	done
	check "report.md shows the plots" grep -q '(plots/throughput-churn.png)' "$md"
else
	check "without gnuplot, report.md says there are no plots" grep -q '^No plots: gnuplot is not installed' "$md"
fi
"$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["meta"]["tool"] == "madvisor bench", d["meta"]["tool"]
assert "churn -t 2 -n 1000" in d["meta"]["command"]
assert len(d["runs"]) == int(sys.argv[2]), len(d["runs"])
assert all(r["workload_output"]["ops"] == 2000 for r in d["runs"])
' "$a/results.json" "$n" 2>"$TMPD/json.err"
check_eq "results.json: meta (tool, command) and every run" "" "$(cat "$TMPD/json.err")"

bench "$TMPD/b" --no-report
check_eq "a second run: exit 0" 0 $?
check "counts reproduce: counts.csv of the two runs identical" cmp -s "$a/counts.csv" "$TMPD/b/counts.csv"
check "--no-report: no report.md" test ! -e "$TMPD/b/report.md"

# A command that fails under the library: reported, the rest goes on.
f=$TMPD/fail
# shellcheck disable=SC2016
"$MV_LAUNCHER" bench --allocators glibc --profiles default --conf stats:true --reps 2 --out "$f" -- \
	sh -c 'case ${MADVISOR_CONF:-} in stats:true,*) echo "failing on purpose" >&2; exit 3 ;; esac; echo done' \
	>"$f.stdout" 2>"$f.err"
check_eq "a failing command: madvisor bench exits 1" 1 $?
check_eq "all 6 runs were made" 6 "$(($(wc -l <"$f/runs.csv") - 1))"
check_eq "the 2 --conf runs failed with status 3, the others passed" "0 4,3 2" \
	"$(awk -F, 'NR > 1 { n[$6]++ } END { for (k in n) print k, n[k] }' "$f/runs.csv" | sort | paste -sd, -)"
check "stderr names the failed run and its status" \
	grep -q "^madvisor bench: sh\.glibc\.stats:true\.r1 exited with status 3" "$f.err"
check "and its stderr" grep -q "failing on purpose" "$f.err"
check "report.md lists the failed runs with their status" grep -qxF '| sh.glibc.stats:true.r2 | 3 |' "$f/report.md"
check "the main table counts them" grep -q '^| sh | glibc | stats:true | 0 (+2 failed) |' "$f/report.md"
check "the report says what the --conf variant is" grep -qF '**stats:true** = the library with the keys `stats:true`' "$f/report.md"

# Bad input: one line on stderr, exit 2.
bad() {
	_d=$1
	shift
	"$MV_LAUNCHER" bench --reps 1 --out "$TMPD/bad" "$@" >"$TMPD/bad.out" 2>"$TMPD/bad.err"
	_st=$?
	check_eq "$_d: exit 2, one line" "2 1" "$_st $(wc -l <"$TMPD/bad.err")"
	diag "$(cat "$TMPD/bad.err")"
	check "$_d: no run made" test ! -e "$TMPD/bad/runs.csv"
}
bad "unknown allocator" --allocators glibc,nosuchalloc -- true
check "it names the allocator" grep -q "unknown allocator 'nosuchalloc'" "$TMPD/bad.err"
bad "allocator path that does not exist" --allocators "$TMPD/libnone.so" -- true
bad "unknown profile" --profiles default,nosuchprofile -- true
check "it names the profile" grep -q "nosuchprofile" "$TMPD/bad.err"
bad "unknown configuration key" --conf nosuchkey:1 -- true
check "it names the key" grep -q "nosuchkey" "$TMPD/bad.err"
bad "command not found" -- "madvisor-no-such-command-$$"
check "it names the command" grep -q "madvisor-no-such-command-$$.*not found" "$TMPD/bad.err"
: >"$TMPD/afile"
"$MV_LAUNCHER" bench --reps 1 --out "$TMPD/afile/res" -- true >/dev/null 2>"$TMPD/bad.err"
check_eq "a results directory that cannot be made: exit 2, one line" "2 1" "$? $(wc -l <"$TMPD/bad.err")"
check "it names the directory" grep -q "afile/res" "$TMPD/bad.err"
"$MV_LAUNCHER" bench --reps 1 --out "$TMPD/bad" >/dev/null 2>"$TMPD/bad.err"
check_eq "no command: exit 2, one line" "2 1" "$? $(wc -l <"$TMPD/bad.err")"

# SIGINT while the command runs: nothing it started is left.
sleeper=$TMPD/sleeper
printf '#!/bin/sh\necho $$ >"%s"\nexec sleep 60\n' "$TMPD/sleeper.pid" >"$sleeper" && chmod +x "$sleeper"
"$MV_LAUNCHER" bench --allocators glibc --profiles default --reps 1 --out "$TMPD/int" -- "$sleeper" \
	>"$TMPD/int.out" 2>"$TMPD/int.err" &
bpid=$!
i=0
while [ ! -s "$TMPD/sleeper.pid" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
spid=$(cat "$TMPD/sleeper.pid" 2>/dev/null)
check "the command started" test -n "$spid"
kill -INT "$bpid"
wait "$bpid"
check_eq "SIGINT: madvisor bench exits 130" 130 $?
# Processes whose command line names this test's directory (the command, the
# monitor): none is left.
left=
for f in /proc/[0-9]*/cmdline; do
	c=$(tr '\0' ' ' 2>/dev/null <"$f")
	case $c in *"$TMPD"*) left="$left${f%/cmdline}: $c; " ;; esac
done
check_eq "no child left running" "" "$left"
[ -z "$spid" ] || ! kill -0 "$spid" 2>/dev/null
check_eq "the command itself is gone" 0 $?
check "it says it was interrupted" grep -q "interrupted" "$TMPD/int.err"
done_testing
