#!/bin/sh
# alloc_knobs.sh - allocator keys reach the real allocators behind madvisor:
# the values read back through each allocator's API equal the ones asked
# for, they change what the allocator does, keys for other allocators are
# named in one line and ignored, and the program runs on.
. "$top_srcdir/tests/lib.sh"
require_lib

# knob_run ALLOC CONF: the churn program with CONF and a stats file.
# Stats in $TMPD/k.json, stderr in $TMPD/err, status in rc.
knob_run() {
	rm -f "$TMPD/k.json"
	timeout 60 env LD_PRELOAD="$(preload_for "$1")" MADVISOR_CONF="stats_file:$TMPD/k.json,$2" \
		"$ITEST/churn" 2 300 >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
}

# knob ALLOC-JSON KEY: "value requested applied" of a knob.
knob() {
	"$PYTHON3" - "$1" "$2" <<'EOF'
import json, sys
try:
    k = json.load(open(sys.argv[1]))["allocator_api"]["knobs"][sys.argv[2]]
    print(k["value"], str(k["requested"]).lower(), str(k["applied"]).lower())
except Exception as e:
    print("MISSING", e)
EOF
}

lines() { grep -c . "$1"; }
# jkey FILE DOTTED.PATH KEY: a key that itself contains dots, inside PATH.
jkey() {
	"$PYTHON3" - "$@" <<'EOF'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split('.'):
        v = v[k]
    print(v[sys.argv[3]])
except Exception:
    print("MISSING")
EOF
}

[ -n "$SAN_PRELOAD" ] && { skip "a sanitizer runtime provides malloc: no allocator behind madvisor"; done_testing; }

# ---- jemalloc ---------------------------------------------------------------
if have_alloc jemalloc; then
	knob_run jemalloc "jemalloc.dirty_decay_ms:2500,jemalloc.muzzy_decay_ms:1000,jemalloc.background_thread:true,tcmalloc.release_rate:3"
	check_eq "jemalloc: runs with knobs" 0 "$rc"
	check_eq "jemalloc: API found" true "$(json_get "$TMPD/k.json" allocator_api.available)"
	check_eq "jemalloc: dirty_decay_ms read back" "2500 true true" "$(knob "$TMPD/k.json" jemalloc.dirty_decay_ms)"
	check_eq "jemalloc: muzzy_decay_ms read back" "1000 true true" "$(knob "$TMPD/k.json" jemalloc.muzzy_decay_ms)"
	check_eq "jemalloc: background_thread read back" "1 true true" "$(knob "$TMPD/k.json" jemalloc.background_thread)"
	check_eq "jemalloc: config shows the value asked for" 2500 "$(jkey "$TMPD/k.json" config jemalloc.dirty_decay_ms)"
	check_eq "jemalloc: one line on stderr" 1 "$(lines "$TMPD/err")"
	check "jemalloc: the tcmalloc key is named as ignored" \
		grep -q "runs on jemalloc; key for another allocator ignored: tcmalloc.release_rate$" "$TMPD/err"
	# Without keys the defaults are reported and not marked as requested.
	knob_run jemalloc ""
	check_eq "jemalloc: default dirty_decay_ms, not requested" "10000 false false" \
		"$(knob "$TMPD/k.json" jemalloc.dirty_decay_ms)"
	check_eq "jemalloc: nothing on stderr without keys" 0 "$(lines "$TMPD/err")"
	# The knob works: with no decay every free purges at once (many small
	# MADV_DONTNEED calls); with a long one purges come in a few large calls.
	wl="$top_builddir/bench/workloads/churn"
	mv_run jemalloc MADVISOR_CONF="stats_file:$TMPD/e.json,jemalloc.dirty_decay_ms:0,jemalloc.muzzy_decay_ms:0" \
		"$wl" -t 2 -n 4000 >/dev/null 2>&1
	eager_calls=$(json_row "$TMPD/e.json" madvise MADV_DONTNEED calls)
	mv_run jemalloc MADVISOR_CONF="stats_file:$TMPD/l.json,jemalloc.dirty_decay_ms:600000,jemalloc.muzzy_decay_ms:600000" \
		"$wl" -t 2 -n 4000 >/dev/null 2>&1
	lazy_calls=$(json_row "$TMPD/l.json" madvise MADV_DONTNEED calls)
	diag "MADV_DONTNEED calls, same ops: decay 0: $eager_calls, decay 600 s: $lazy_calls"
	check "jemalloc: no decay purges far more often than a long decay" [ "$eager_calls" -gt $((2 * lazy_calls)) ]
else
	skip "jemalloc: not found by configure"
fi

# ---- tcmalloc ---------------------------------------------------------------
for a in tcmalloc tcmalloc_minimal; do
	if ! have_alloc $a; then
		skip "$a: not found by configure"
		continue
	fi
	knob_run $a "tcmalloc.aggressive_decommit:true,tcmalloc.release_rate:5,mimalloc.purge_delay:7,jemalloc.background_thread:true"
	check_eq "$a: runs with knobs" 0 "$rc"
	check_eq "$a: aggressive_decommit read back" "1 true true" "$(knob "$TMPD/k.json" tcmalloc.aggressive_decommit)"
	check_eq "$a: release_rate read back" "5 true true" "$(knob "$TMPD/k.json" tcmalloc.release_rate)"
	check_eq "$a: one line on stderr" 1 "$(lines "$TMPD/err")"
	check "$a: both foreign keys named" \
		grep -q "runs on tcmalloc; keys for other allocators ignored: jemalloc.background_thread, mimalloc.purge_delay$" "$TMPD/err"
	check_eq "$a: aggressive decommit keeps no free pages committed" 0 \
		"$(jkey "$TMPD/k.json" allocator_api.stats.raw tcmalloc.pageheap_free_bytes)"
	knob_run $a ""
	check_eq "$a: default release_rate, not requested" "1 false false" "$(knob "$TMPD/k.json" tcmalloc.release_rate)"
done

# ---- mimalloc ---------------------------------------------------------------
if have_alloc mimalloc; then
	knob_run mimalloc "mimalloc.purge_delay:100"
	check_eq "mimalloc: runs with the knob" 0 "$rc"
	check_eq "mimalloc: purge_delay read back" "100 true true" "$(knob "$TMPD/k.json" mimalloc.purge_delay)"
	check_eq "mimalloc: nothing on stderr" 0 "$(lines "$TMPD/err")"
	check_eq "mimalloc: purge is mi_collect" "mi_collect(true)" "$(json_get "$TMPD/k.json" allocator_api.purge)"
else
	skip "mimalloc: not found by configure"
fi

# ---- glibc ------------------------------------------------------------------
knob_run glibc "jemalloc.dirty_decay_ms:1"
check_eq "glibc: runs" 0 "$rc"
check "glibc: the jemalloc key is named as ignored" \
	grep -q "runs on glibc; key for another allocator ignored: jemalloc.dirty_decay_ms$" "$TMPD/err"
check_eq "glibc: purges through malloc_trim" "malloc_trim(0)" "$(json_get "$TMPD/k.json" allocator_api.purge)"
check_eq "glibc: no knobs" "{}" "$(json_get "$TMPD/k.json" allocator_api.knobs)"

# ---- a bad value is a configuration error: plain passthrough ----------------
knob_run glibc "jemalloc.dirty_decay_ms:soon"
check_eq "bad knob value: program runs" 0 "$rc"
check "bad knob value: one line naming the key" grep -q "key 'jemalloc.dirty_decay_ms': expected a number" "$TMPD/err"
done_testing
