#!/bin/sh
# schema.sh - real stats JSON (exit and live reports, every allocator, every
# section on and off) validates against docs/stats.schema.json, and
# documents that break it are rejected.
. "$top_srcdir/tests/lib.sh"
require_lib
SCHEMA="$top_srcdir/docs/stats.schema.json"
CHECK="$top_srcdir/tests/integration/schema_check.py"
WL="$top_builddir/bench/workloads"
printf 'some avg10=90.00 avg60=0.00 avg300=0.00 total=0\n' >"$TMPD/psi"
ALL="attribution:true,attribution.every:4,adaptive:true,adaptive.pressure_file:$TMPD/psi"

n=0
for a in $ALLOCATORS; do
	have_alloc $a || continue
	mv_run $a MADVISOR_CONF="stats_file:$TMPD/$a-off.json" "$WL/churn" -t 2 -n 2000 >/dev/null 2>&1
	mv_run $a MADVISOR_CONF="stats_file:$TMPD/$a-all.json,live_file:$TMPD/$a-live.json,live_interval_ms:100,$ALL" \
		"$ITEST/phases" 16 0.5 >/dev/null 2>&1
	n=$((n + 1))
done
mv_run glibc MADVISOR_CONF="stats_file:$TMPD/ptmodel.json,ptmodel:true,$ALL" "$WL/churn" -t 2 -n 2000 >/dev/null 2>&1
mv_run glibc MADVISOR_CONF="stats_file:$TMPD/munmap.json,munmap:recycle" "$WL/mmap_churn" -t 1 -n 200 >/dev/null 2>&1
"$top_builddir/tests/unit/test_report" "$TMPD/unit.json"
files=$(ls "$TMPD"/*.json)
check "reports written ($(echo $files | wc -w) files, $n allocators)" [ "$(echo $files | wc -w)" -ge $((3 * n + 3)) ]
"$PYTHON3" "$CHECK" "$SCHEMA" $files >"$TMPD/res"
tap_from "$TMPD/res"

# broken documents must be rejected
"$PYTHON3" - "$TMPD/glibc-all.json" "$TMPD" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def save(name, doc):
    json.dump(doc, open("%s/%s" % (sys.argv[2], name), "w"))
x = json.loads(json.dumps(d)); del x["memory"]; save("bad-missing.json", x)
x = json.loads(json.dumps(d)); x["adaptive"]["state"] = "panicking"; save("bad-enum.json", x)
x = json.loads(json.dumps(d)); x["totals"]["munmap"]["calls"] = -1; save("bad-negative.json", x)
x = json.loads(json.dumps(d)); x["surprise"] = 1; save("bad-extra.json", x)
x = json.loads(json.dumps(d)); x["allocator_api"]["knobs"] = {"k": {"value": "x", "requested": True, "applied": True}}; save("bad-type.json", x)
PY
"$PYTHON3" "$CHECK" --expect-invalid "$SCHEMA" "$TMPD"/bad-*.json >"$TMPD/res"
tap_from "$TMPD/res"
done_testing
