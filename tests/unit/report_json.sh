#!/bin/sh
# The JSON report is valid JSON with the documented fields and exact counts.
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "1..1"
"$top_builddir/tests/unit/test_report" "$out"
if python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("madvisor", "kernel", "pid", "exe", "elapsed_ns", "allocator", "config", "calls", "totals", "memory"):
    assert k in d, k
assert d["allocator"] == {"name": "jemalloc", "library": "/usr/lib/x/libjemalloc.so.2", "purges_visible": True,
                          "found_by": "none", "prefix": "", "in_executable": False, "stripped": False}, d["allocator"]
rows = {(c["kind"], c["detail"]): c for c in d["calls"]}
dn = rows[("madvise", "MADV_DONTNEED")]
assert dn["calls"] == 5 and dn["bytes"] == 5 * 4096 and dn["advice"] == 4, dn
assert dn["hist"] == [{"min_bytes": 4096, "count": 5}], dn["hist"]
fr = rows[("madvise", "MADV_FREE")]
assert fr["pmd_ranges"] == 3 and fr["calls"] == 3, fr
assert rows[("munmap", "")]["calls"] == 2
assert rows[("mmap", "anon-private")]["calls"] == 4
assert d["totals"]["madvise"]["calls"] == 8 and d["totals"]["process_madvise"]["calls"] == 0
assert d["config"]["enabled"] is True and d["config"]["stats"] is False
assert d["kernel"]["version"].count(".") == 1 and isinstance(d["kernel"]["pt_reclaim"], bool)
assert d["kernel"]["thp"] in ("always", "madvise", "never", "unknown")
assert set(d["memory"]) == {"vm_rss_kb", "vm_hwm_kb", "vm_pte_kb", "vm_size_kb"}
PY
then echo "ok 1 - JSON report is valid and exact"; else echo "not ok 1 - JSON report is valid and exact"; fi
