#!/bin/sh
# munmap.sh - the munmap strategies inside real programs.
#
# The shadow-memory checker (shadow.c) runs without madvisor first (its model
# of the kernel must hold there), then under munmap:recycle and munmap:defer,
# with tight and loose limits, behind glibc, jemalloc, tcmalloc and mimalloc:
# every live byte, every zero fill and every result and errno must match, and
# the stats must show the strategy at work; then with a signal handler that
# maps memory interrupting the threads. Then the profiles, the default
# (no strategy, no "munmap" stats), and mmap_churn under the churn profile.
# MUNMAP_STRESS=1 runs it all longer, with more threads and seeds (`make
# stress` is the time-based soak: tests/integration/stress.sh).
. "$top_srcdir/tests/lib.sh"
require_lib

SHADOW="$ITEST/shadow"
if [ -n "${MUNMAP_STRESS:-}" ]; then
	THREADS=16 OPS=6000 SEEDS="1 2 3"
else
	THREADS=4 OPS=2000 SEEDS="1"
fi
LIMIT=$((60 * ${MUNMAP_STRESS:-0} + 60))

# munmap_field FILE KEY: a field of the "munmap" stats object, or MISSING.
munmap_field() { json_get "$1" "munmap.$2"; }

# shadow_run LABEL ALLOC CONF SEED: run the checker; sets rc, leaves the
# stats in $TMPD/s-<pid>.json (one per process: fork children write none).
shadow_run() {
	rm -f "$TMPD"/s-*.json
	timeout $LIMIT env LD_PRELOAD="$(preload_for "$2")" MADVISOR_CONF="$3,stats_file:$TMPD/s-%p.json" \
		"$SHADOW" -t "$THREADS" -n "$OPS" -S "$4" >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	case $rc in
	0) ok "$1: shadow checker passes ($(sed -n 's/^shadow: //p' "$TMPD/out"))" ;;
	124) not_ok "$1: still running after $LIMIT s (deadlock?)" ;;
	*) not_ok "$1: exit status $rc"; diag "$(head -8 "$TMPD/err")" ;;
	esac
	STATS=$(ls "$TMPD"/s-*.json 2>/dev/null | head -1)
}

# The model, without madvisor.
timeout $LIMIT "$SHADOW" -t "$THREADS" -n "$OPS" -S 7 >"$TMPD/out" 2>"$TMPD/err"
check_eq "shadow checker without madvisor (the model matches this kernel)" 0 "$?"

for alloc in $ALLOCATORS; do
	have_alloc "$alloc" || { skip "$alloc not installed"; continue; }
	for conf in "munmap:recycle" \
		"munmap:recycle,munmap.cache_entries:4,munmap.cache_bytes:256k,munmap.max_age_ms:5" \
		"munmap:defer" \
		"munmap:defer,munmap.zap_first:true,munmap.cache_entries:8,munmap.max_age_ms:5"; do
		for seed in $SEEDS; do
			label="$alloc $conf seed $seed"
			shadow_run "$label" "$alloc" "$conf" "$seed"
			[ "$rc" = 0 ] || continue
			case $conf in
			*recycle*)
				rec=$(munmap_field "$STATS" recycled) res=$(munmap_field "$STATS" resolved)
				if [ "$rec" != MISSING ] && [ "$rec" -gt 0 ] && [ "$res" -gt 0 ]; then
					ok "$label: ranges recycled ($rec) and resolved ($res)"
				else
					not_ok "$label: ranges recycled ($rec) and resolved ($res)"
				fi ;;
			*)
				def=$(munmap_field "$STATS" deferred) un=$(munmap_field "$STATS" unmap_calls)
				if [ "$def" != MISSING ] && [ "$def" -gt 0 ] && [ "$un" -lt "$def" ]; then
					ok "$label: $def munmaps deferred, $un munmap calls issued"
				else
					not_ok "$label: munmaps deferred ($def), fewer munmap calls issued ($un)"
				fi ;;
			esac
		done
	done
done

# jemalloc with retain:false and eager decay unmaps its own extents (mapped
# with MAP_NORESERVE, often several merged into one munmap): those ranges are
# recycled for the allocator, the shadow checker passes beside them, and the
# churn workload's own data checks pass.
if have_alloc jemalloc; then
	MALLOC_CONF=retain:false,dirty_decay_ms:0,muzzy_decay_ms:0
	export MALLOC_CONF
	shadow_run "jemalloc retain:false munmap:recycle" jemalloc "munmap:recycle" 3
	rm -f "$TMPD"/s-*.json
	timeout $LIMIT env LD_PRELOAD="$(preload_for jemalloc)" \
		MADVISOR_CONF="munmap:recycle,munmap.callers:allocator,stats_file:$TMPD/s-%p.json" \
		"$top_builddir/bench/workloads/churn" -t 2 -n 1000 >"$TMPD/out" 2>"$TMPD/err"
	check_eq "jemalloc retain:false churn, munmap.callers:allocator: exit status (3 = data lost)" 0 "$?"
	STATS=$(ls "$TMPD"/s-*.json 2>/dev/null | head -1)
	cached=$(munmap_field "$STATS" cached) rec=$(munmap_field "$STATS" recycled)
	if [ "$rec" != MISSING ] && [ "$cached" -gt 0 ] && [ "$rec" -gt 0 ]; then
		ok "jemalloc retain:false: its ranges kept ($cached) and recycled ($rec)"
	else
		not_ok "jemalloc retain:false: its ranges kept ($cached) and recycled ($rec)"
	fi
	unset MALLOC_CONF
else
	skip "jemalloc not installed"
fi

# A timer signal whose handler maps and unmaps memory of its own, arriving
# while threads are inside the library (its calls pass through unchanged).
for conf in munmap:recycle munmap:defer; do
	timeout $LIMIT env LD_PRELOAD="$MV_LIB" MADVISOR_CONF="$conf" "$SHADOW" -t "$THREADS" -n "$OPS" -i 200 \
		>"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	check_eq "$conf with a signal handler mapping memory every 200 us: shadow checker passes" 0 "$rc"
	[ "$rc" = 0 ] || diag "$(head -5 "$TMPD/err")"
done

# Profiles.
for prof in churn lowmem; do
	rm -f "$TMPD"/s-*.json
	timeout $LIMIT env LD_PRELOAD="$MV_LIB" MADVISOR_PROFILE=$prof MADVISOR_PROFILE_DIR="$top_srcdir/configs" \
		MADVISOR_CONF="stats_file:$TMPD/s-%p.json" "$SHADOW" -t 2 -n 1000 -f 0 >"$TMPD/out" 2>"$TMPD/err"
	check_eq "profile $prof: shadow checker passes" 0 "$?"
	want=recycle
	[ $prof = lowmem ] && want=defer
	check_eq "profile $prof: munmap mode in the stats" "$want" "$(munmap_field "$(ls "$TMPD"/s-*.json | head -1)" mode)"
done
check_eq "profile lowmem: munmap.zap_first in the stats' config" True \
	"$("$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["config"]["munmap.zap_first"])' \
		"$(ls "$TMPD"/s-*.json | head -1)" 2>&1)"

# The default: no strategy, nothing about munmap in the stats.
rm -f "$TMPD"/s-*.json
env LD_PRELOAD="$MV_LIB" MADVISOR_CONF="stats_file:$TMPD/s-%p.json" "$SHADOW" -t 2 -n 500 >"$TMPD/out" 2>&1
check_eq "default: shadow checker passes" 0 "$?"
check_eq "default: no munmap strategy in the stats" MISSING "$(munmap_field "$(ls "$TMPD"/s-*.json | head -1)" mode)"

# mmap_churn under the churn profile: its own data check, and recycling.
rm -f "$TMPD"/s-*.json
env LD_PRELOAD="$MV_LIB" MADVISOR_PROFILE=churn MADVISOR_PROFILE_DIR="$top_srcdir/configs" \
	MADVISOR_CONF="stats_file:$TMPD/s-%p.json" "$top_builddir/bench/workloads/mmap_churn" -t 2 -n 2000 \
	>"$TMPD/out" 2>"$TMPD/err"
check_eq "mmap_churn under churn: exit status (3 = a page lost its data)" 0 "$?"
n=$(munmap_field "$(ls "$TMPD"/s-*.json | head -1)" recycled)
if [ "$n" != MISSING ] && [ "$n" -gt 3000 ]; then ok "mmap_churn: $n of 4000 mmaps recycled"; else not_ok "mmap_churn: mmaps recycled ($n)"; fi

done_testing
