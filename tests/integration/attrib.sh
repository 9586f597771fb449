#!/bin/sh
# attrib.sh - purge attribution behind the real allocators: the top call
# site names the allocator's library, the program's own purges name the
# program's function (found by libunwind in .symtab), the worker's purges
# are a site of their own, and libunwind stays out of the program's symbol
# scope.
. "$top_srcdir/tests/lib.sh"
require_lib
[ -n "$SAN_PRELOAD" ] && { skip "sanitizer build: the runtime's own unwinder is in the way"; done_testing; }
WL="$top_builddir/bench/workloads"

# site FILE LIST N FIELD: FIELD of frame 0 of the N-th site in LIST, or
# with FIELD "objects": every frame's object, space-separated.
site() {
	"$PYTHON3" - "$@" <<'PY'
import json, sys
f, lst, n, field = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:
    a = json.load(open(f))["attribution"]
    s = a["sites"][a[lst][n]]
    if field == "objects":
        print(" ".join(str(fr["object"]) for fr in s["frames"]))
    elif field == "symbols":
        print(" ".join(str(fr["symbol"]) for fr in s["frames"]))
    else:
        print(s["frames"][0][field])
except Exception as e:
    print("MISSING", e)
PY
}

# purge_calls FILE: the purge calls counted in the stats rows.
purge_calls() {
	"$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(r["calls"] for r in d["calls"] if (r["kind"] in ("madvise","process_madvise") and r["detail"] in ("MADV_DONTNEED","MADV_FREE","MADV_REMOVE","MADV_PAGEOUT","MADV_DONTNEED_LOCKED")) or r["kind"] == "munmap"))' "$1"
}
# reaches FILE OBJECT: some site's stack has a named function of OBJECT.
reaches() {
	"$PYTHON3" -c 'import json,sys; a=json.load(open(sys.argv[1]))["attribution"]; sys.exit(not any(f["object"] == sys.argv[2] and f["symbol"] for s in a["sites"] for f in s["frames"]))' "$1" "$2"
}

for a in jemalloc tcmalloc mimalloc; do
	if ! have_alloc $a; then
		skip "$a: not found by configure"
		continue
	fi
	rm -f "$TMPD/t.json"
	# tcmalloc and mimalloc purge little on their own in a short run: at once, here
	mv_run $a MADVISOR_CONF="stats_file:$TMPD/t.json,attribution:true,attribution.every:1,tcmalloc.aggressive_decommit:true,mimalloc.purge_delay:0" \
		"$WL/churn" -t 2 -n 3000 >/dev/null 2>"$TMPD/err"
	check_eq "$a: churn runs with attribution" 0 $?
	check_eq "$a: attribution on, libunwind loaded" "true libunwind.so.8" \
		"$(json_get "$TMPD/t.json" attribution.enabled) $(json_get "$TMPD/t.json" attribution.unwinder)"
	so=$(basename "$(alloc_so $a)")
	check_eq "$a: the top site by calls is in $so" "$so" "$(site "$TMPD/t.json" top_by_calls 0 object)"
	check "$a: a stack reaches the program's functions (named by libunwind)" reaches "$TMPD/t.json" churn
	# every purge call (libunwind's own are neither counted nor sampled), but
	# those the allocator makes while it sets itself up, before any
	# constructor runs: b, the unsampled ones in a run of one record
	mv_run $a MADVISOR_CONF="stats_file:$TMPD/b.json,attribution:true,attribution.every:1,tcmalloc.aggressive_decommit:true,mimalloc.purge_delay:0" \
		"$WL/churn" -t 1 -n 1 >/dev/null 2>&1
	b=$(($(purge_calls "$TMPD/b.json") - $(json_get "$TMPD/b.json" attribution.calls)))
	n=$(purge_calls "$TMPD/t.json")
	got=$(json_get "$TMPD/t.json" attribution.calls)
	check "$a: samples stand for the purge calls ($got of $n, $b before set-up)" [ "$got" -le "$n" -a "$got" -ge $((n - b)) ]
done

# the program's own purges (glibc: purge_loop calls madvise itself)
rm -f "$TMPD/p.json"
mv_run glibc MADVISOR_CONF="stats_file:$TMPD/p.json,attribution:true,attribution.every:10,stats_text_file:$TMPD/p.txt" \
	"$WL/purge_loop" dontneed 2000 >/dev/null 2>&1
check_eq "glibc: purge_loop's own calls: object" purge_loop "$(site "$TMPD/p.json" top_by_calls 0 object)"
check_eq "glibc: function named from .symtab" step "$(site "$TMPD/p.json" top_by_calls 0 symbol)"
n=$(purge_calls "$TMPD/p.json")
check "glibc: the program's 2000 calls (and its warm-up) counted ($n)" [ "$n" -ge 2000 ]
check_eq "glibc: 1 in 10 sampled" $((n / 10)) "$(json_get "$TMPD/p.json" attribution.samples)"
check "text report lists the site" grep -q "step+0x[0-9a-f]* (purge_loop)" "$TMPD/p.txt"

# the adaptive controller's purges are the worker's site, never unwound
if have_alloc jemalloc; then
	printf 'some avg10=90.00 avg60=0.00 avg300=0.00 total=0\n' >"$TMPD/psi"
	rm -f "$TMPD/w.json"
	mv_run jemalloc MADVISOR_CONF="stats_file:$TMPD/w.json,attribution:true,attribution.every:1,adaptive:true,adaptive.pressure_file:$TMPD/psi,adaptive.min_free:0" \
		"$ITEST/phases" 32 0.6 >/dev/null 2>&1
	check_eq "jemalloc + adaptive: a worker site" true "$("$PYTHON3" -c 'import json,sys; print(str(any(s["worker"] for s in json.load(open(sys.argv[1]))["attribution"]["sites"])).lower())' "$TMPD/w.json")"
fi

# libunwind is loaded privately: not in the program's scope
out=$(mv_run glibc MADVISOR_CONF="attribution:true" "$ITEST/unw_scope")
check "libunwind's unw_backtrace is not visible to the program" sh -c "echo '$out' | grep -q '^unw_backtrace none$'"
check "_Unwind_RaiseException still not libunwind's" sh -c "! echo '$out' | grep -q '^_Unwind_RaiseException .*libunwind'"
check "backtrace is still glibc's" sh -c "echo '$out' | grep -q '^backtrace .*libc.so'"

# a sample allocates nothing: the program's own malloc counts the calls made
# while it is inside one of its purges (each sampled: every:1), on new threads
rm -f "$TMPD/m.json"
out=$(mv_run glibc MADVISOR_CONF="stats_file:$TMPD/m.json,attribution:true,attribution.every:1" \
	"$ITEST/attrib_nomalloc" count 4 50)
check_eq "no malloc inside a sampled purge ($out)" "inside 0 purges 200" "$out"
check "every one of those purges was sampled" [ "$(json_get "$TMPD/m.json" attribution.samples)" -ge 200 ]
# signal handlers purge while every thread is inside malloc: no hang (a
# deadlock would hold the program until the watchdog kills it)
rm -f "$TMPD/s.json"
out=$(timeout 300 env LD_PRELOAD="$(preload_for glibc)" \
	MADVISOR_CONF="stats_file:$TMPD/s.json,attribution:true,attribution.every:1" "$ITEST/attrib_nomalloc" storm 4 2)
rc=$?
check_eq "signal storm over malloc with attribution: no hang" 0 "$rc"
sig=$(echo "$out" | sed -n 's/^signals \([0-9]*\) .*/\1/p')
check "signal storm: the handlers purged (${sig:-none})" [ "${sig:-0}" -ge 100 ]
check "signal storm: their purges were sampled" [ "$(json_get "$TMPD/s.json" attribution.samples)" -ge "${sig:-1}" ]

# off: nothing in the report
mv_run glibc MADVISOR_CONF="stats_file:$TMPD/o.json" "$WL/purge_loop" dontneed 100 >/dev/null 2>&1
check_eq "off: attribution disabled in the report" '{"enabled": false}' "$(json_get "$TMPD/o.json" attribution)"
done_testing
