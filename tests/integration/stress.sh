#!/bin/sh
# stress.sh - `make stress`: a time-based soak of every profile behind every
# allocator with every workload.
#
# STRESS_SECONDS (default 600) is split over the matrix profiles x allocators x
# programs. The programs: the shadow-memory checker (shadow.c, the largest
# share) with a storm beside its threads (signals whose handlers map, purge
# and unmap; forks while the threads are inside their calls, children that
# check and write their copies and exec /bin/true or a short checker run;
# short-lived threads), churn (allocator workload), mmap_churn (checks its
# pages), sigstorm and forks (their call counts must match the stats). Each
# run gets its own seed (printed with a command line that replays it); the
# base seed is STRESS_SEED (default: random). STRESS_THREADS sets the
# checker's threads (default 8). STRESS_PROFILES (labels, space-separated)
# runs only those profiles.
#
# One TAP line per run and a summary: ops, mismatches (memory that read
# wrong, stats that miscounted), errno mismatches (a result or errno not the
# kernel's), crashes (killed by a signal, hung past the timeout, or exited
# without its summary) and sanitizer reports. Exits 1 when any is not zero.
# In a sanitizer build the programs run with leak detection on (they are
# built with the runtime and free what they allocate; exec'd /bin/true too).
. "$top_srcdir/tests/lib.sh"
require_lib

SECONDS_TOTAL=${STRESS_SECONDS:-600}
THREADS=${STRESS_THREADS:-8}
BASE_SEED=${STRESS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
CONFIGS="$top_srcdir/configs"
PROGRAMS="shadow churn mmap_churn sigstorm forks"
WEIGHT=7    # shadow counts 3 shares, the others 1 each
STRESS_ALLOCATORS="glibc jemalloc tcmalloc mimalloc"
[ -n "$SAN_PRELOAD" ] && STRESS_ALLOCATORS=glibc
# Our programs free what they allocate: check for leaks under AddressSanitizer.
[ -n "$SAN_PRELOAD" ] && ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS#detect_leaks=0:}"
export ASAN_OPTIONS

# The profiles: LABEL|MADVISOR_PROFILE|MADVISOR_CONF. "none" runs without
# madvisor (the programs' own model must hold there).
profiles() {
	cat <<EOF
none||
default||enabled:true
churn|churn|
lowmem|lowmem|
recycle-tight||munmap:recycle,munmap.cache_entries:4,munmap.cache_bytes:256k,munmap.max_age_ms:5,munmap.zero_memset_max:8k
defer-tight||munmap:defer,munmap.zap_first:true,munmap.cache_entries:8,munmap.max_age_ms:5
defer-program||munmap:defer,munmap.callers:program,munmap.max_age_ms:20
recycle-allocator||munmap:recycle,munmap.callers:allocator,jemalloc.dirty_decay_ms:0,tcmalloc.aggressive_decommit:true,mimalloc.purge_delay:0
free_to_dontneed||madvise:free_to_dontneed
dontneed_to_free||madvise:dontneed_to_free
pt_reclaim||pt_reclaim:true,madvise:free_to_dontneed
sweep||sweep:true,sweep.max:65536,ptmodel.budget:50
trace||trace:$TMPD/t-%p.bin,trace.max:8m
observe||stats:true,stats_text_file:$TMPD/st-%p.txt,live_file:$TMPD/l-%p.json,live_prom_file:$TMPD/l-%p.prom,live_interval_ms:20,live_signal:SIGUSR2,attribution:true,attribution.every:1,ptmodel:true,time_every:1
adaptive||adaptive:true,adaptive.target_rss:1m,adaptive.interval_ms:10,adaptive.purge_interval_ms:5,adaptive.min_free:0,munmap:recycle
service|service|
service-tight|service|adaptive.idle_ms:20,adaptive.interval_ms:10,adaptive.min_free:0,madvise:free_to_dontneed,pt_reclaim:true
EOF
}

# selected: the profiles STRESS_PROFILES names (all without it).
selected() {
	profiles | while IFS='|' read -r _l _p _c; do
		case " ${STRESS_PROFILES:-$_l} " in *" $_l "*) echo "$_l|$_p|$_c" ;; esac
	done
}
nprof=$(selected | wc -l)
nalloc=0
for a in $STRESS_ALLOCATORS; do have_alloc "$a" && nalloc=$((nalloc + 1)); done
runs=$((nprof * nalloc * 5))
echo "# stress: $SECONDS_TOTAL s over $nprof profiles x $nalloc allocators x 5 programs ($runs runs)," \
	"base seed $BASE_SEED, $THREADS checker threads"

T_OPS=0 T_MISM=0 T_EMISM=0 T_CRASH=0 T_SAN=0
run_no=0
start=$(date +%s)

# field NAME: NAME=value from the checker's summary line in $TMPD/out.
field() { sed -n "s/^shadow: .* $1=\([0-9]*\).*/\1/p" "$TMPD/out" | head -1; }

# one_run LABEL PROFILE CONF ALLOC PROG SEED: run, then add to the totals.
one_run() {
	label=$1 prof=$2 conf=$3 alloc=$4 prog=$5 seed=$6
	ops=0 mism=0 emism=0 crash=0 san=0
	# A share: the time left over the shares left (runs start and stop in
	# less than no time, so later runs absorb the overhead), 200 ms at least.
	left=$(( (SECONDS_TOTAL - ($(date +%s) - start)) * 1000 / ((runs - run_no) * WEIGHT / 5 + 1) ))
	unit=$((left > 200 ? left : 200))
	ms=$unit
	case $prog in
	shadow) ms=$((unit * 3)); set -- "$ITEST/shadow" -t "$THREADS" -d "$((ms / 1000)).$((ms % 1000 / 100))" \
		-S "$seed" -f 300 -i 2000 -x 500 ;;
	churn) set -- "$ITEST/churn" 4 "$ms" ;;
	mmap_churn) set -- "$top_builddir/bench/workloads/mmap_churn" -t 4 -s "$((ms / 1000)).$((ms % 1000 / 100))" \
		-S "$seed" ;;
	sigstorm) set -- "$ITEST/sigstorm" "$ms" ;;
	forks) set -- "$ITEST/forks" ;;
	esac
	# A hang is a crash; sanitizer builds (leak checks at every exit) get longer.
	limit=$((ms * 4 / 1000 + ${SAN_PRELOAD:+120+}60))
	rm -f "$TMPD"/s-*.json "$TMPD"/t-*.bin "$TMPD"/st-*.txt "$TMPD"/l-*
	if [ "$label" = none ]; then
		pre=$(plain_preload_for "$alloc")
		envs="LD_PRELOAD=$pre"
	else
		pre=$(preload_for "$alloc")
		envs="LD_PRELOAD=$pre MADVISOR_CONF=${conf:+$conf,}stats_file:$TMPD/s-%p.json"
		[ -n "$prof" ] && envs="$envs MADVISOR_PROFILE=$prof MADVISOR_PROFILE_DIR=$CONFIGS"
	fi
	t0=$(date +%s)
	# shellcheck disable=SC2086 # envs is a list of VAR=value words
	timeout -k 10 "$limit" env $envs "$@" >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	t1=$(date +%s)
	case $rc in
	0) ;;
	124 | 137) crash=1; diag "still running after $limit s (hang?)" ;;
	*) [ "$rc" -gt 128 ] && crash=1 ;;
	esac
	case $prog in
	shadow)
		ops=$(field ops) s=$(field storm) g=$(field signals)
		if [ -z "$ops" ]; then
			crash=1 ops=0
		else
			ops=$((ops + s + g))
			mism=$(field mismatches) emism=$(field errno_mismatches)
			crash=$((crash + $(field crashes)))
			[ "$rc" != 0 ] && [ "$mism" = 0 ] && [ "$emism" = 0 ] && [ "$crash" = 0 ] && mism=1
		fi ;;
	churn)
		ops=$(sed -n 's/^allocations //p' "$TMPD/out")
		[ -n "$ops" ] || { ops=0; crash=1; } ;;
	mmap_churn)
		ops=$(sed -n 's/.* records=\([0-9]*\).*/\1/p' "$TMPD/out")
		[ -n "$ops" ] || ops=0
		[ "$rc" = 3 ] && mism=1
		[ "$rc" != 0 ] && [ "$rc" != 3 ] && [ "$crash" = 0 ] && crash=1 ;;
	sigstorm | forks)
		ops=$(sed -n 's/^\(.* \)\{0,1\}count [^ ]* [^ ]* \([0-9]*\) .*/\2/p' "$TMPD/out" |
			awk '{ s += $1 } END { print s + 0 }')
		if [ "$rc" != 0 ]; then
			[ "$crash" = 0 ] && mism=1
		elif [ "$label" != none ]; then
			# Every process's counts against its stats file.
			exact=$(exact_rows "$alloc")
			for pfx in "" "parent " "child 0 " "child 1 " "child 2 " "child 3 " "exec "; do
				pid=$(sed -n "s/^${pfx}pid //p" "$TMPD/out")
				[ -n "$pid" ] || continue
				sed -n "s/^${pfx}count /count /p" "$TMPD/out" >"$TMPD/counts"
				compare_counts_quiet "$TMPD/counts" "$TMPD/s-$pid.json" "$exact"
				mism=$((mism + cmp_bad))
			done
		fi ;;
	esac
	# A configuration the library rejected would test plain passthrough.
	if grep -q 'madvisor: .*running as plain passthrough' "$TMPD/err"; then
		emism=$((emism + 1))
		diag "the configuration was rejected"
	fi
	if grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:\|WARNING: ThreadSanitizer' "$TMPD/err"
	then
		san=$(grep -c 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:\|WARNING: ThreadSanitizer' \
			"$TMPD/err")
	fi
	run_no=$((run_no + 1))
	T_OPS=$((T_OPS + ops)) T_MISM=$((T_MISM + mism)) T_EMISM=$((T_EMISM + emism))
	T_CRASH=$((T_CRASH + crash)) T_SAN=$((T_SAN + san))
	line="$prog, $alloc, $label, seed $seed: ops $ops, mismatches $mism, errno mismatches $emism, crashes $crash"
	[ -n "$SAN_PRELOAD" ] && line="$line, sanitizer reports $san"
	line="$line ($((t1 - t0)) s)"
	if [ "$mism" = 0 ] && [ "$emism" = 0 ] && [ "$crash" = 0 ] && [ "$san" = 0 ]; then
		ok "$line"
	else
		not_ok "$line (exit status $rc)"
		diag "replay: cd $top_builddir && env $envs $*"
		diag "$(head -12 "$TMPD/err")"
		cp "$TMPD/err" "${TMPDIR:-/tmp}/stress-fail-$run_no.err" 2>/dev/null
	fi
}

# compare_counts_quiet COUNTS JSON [all-exact]: cmp_bad = rows that differ
# (printed as diagnostics); an unreadable stats file is one.
compare_counts_quiet() {
	compare_count_rows "$1" "$2" stats ${3:+"$3"}
	cmp_bad=$(grep -c '^FAIL' "$TMPD/.cmp")
	[ "$cmp_bad" = 0 ] || diag "$(sed -n 's/^FAIL //p' "$TMPD/.cmp")"
}

k=0
selected >"$TMPD/profiles"
while IFS='|' read -r label prof conf; do
	for alloc in $STRESS_ALLOCATORS; do
		have_alloc "$alloc" || continue
		for prog in $PROGRAMS; do
			k=$((k + 1))
			seed=$(( (BASE_SEED + k * 7919) % 4294967296 ))
			one_run "$label" "$prof" "$conf" "$alloc" "$prog" "$seed"
		done
	done
done <"$TMPD/profiles"

end=$(date +%s)
total="total: $run_no runs in $((end - start)) s: ops $T_OPS, mismatches $T_MISM, errno mismatches $T_EMISM, crashes $T_CRASH"
[ -n "$SAN_PRELOAD" ] && total="$total, sanitizer reports $T_SAN"
echo "# $total (base seed $BASE_SEED)"
echo "1..$tap_n"
[ $((T_MISM + T_EMISM + T_CRASH + T_SAN)) = 0 ] || exit 1
exit 0
