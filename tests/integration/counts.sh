#!/bin/sh
# counts.sh - every call reaching madvisor is counted once, in the right row:
# call_counts makes a known number of calls of each kind (failing ones too)
# and the stats JSON must agree, with each allocator behind madvisor.
. "$top_srcdir/tests/lib.sh"
require_lib

for a in $ALLOCATORS; do
	if ! have_alloc "$a"; then
		skip "$a: not found by configure"
		continue
	fi
	rm -f "$TMPD"/c-*.json
	mv_run "$a" MADVISOR_CONF="stats_file:$TMPD/c-%p.json" "$ITEST/call_counts" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "$a: call_counts exits 0" 0 $?
	pid=$(sed -n 's/^pid //p' "$TMPD/out")
	json="$TMPD/c-$pid.json"
	if ! check "$a: stats file c-$pid.json written and valid" json_valid "$json"; then
		diag "$(cat "$TMPD/err")"
		continue
	fi
	check_eq "$a: JSON pid" "$pid" "$(json_get "$json" pid)"
	want=$a
	[ "$a" = tcmalloc_minimal ] && want=tcmalloc
	if [ -n "$SAN_PRELOAD" ]; then
		skip "$a: allocator detection (the sanitizer runtime provides malloc)"
	else
		check_eq "$a: allocator detected" "$want" "$(json_get "$json" allocator.name)"
	fi
	# with glibc alone every row is the program's (glibc's calls are invisible)
	compare_counts "$TMPD/out" "$json" "$a" "$(exact_rows "$a")"
	# totals are the sum of the rows
	ok_tot=$("$PYTHON3" - "$json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
for kind, t in d["totals"].items():
    for f in ("calls", "errors", "bytes"):
        s = sum(r[f] for r in d["calls"] if r["kind"] == kind)
        if s != t[f]:
            bad.append("%s.%s %d != rows %d" % (kind, f, t[f], s))
print("; ".join(bad) or "yes")
PY
)
	check_eq "$a: totals equal the sum of rows" yes "$ok_tot"
done
done_testing
