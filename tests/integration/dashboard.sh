#!/bin/sh
# dashboard.sh - the Grafana dashboard (contrib/grafana/madvisor.json) queries
# only what the library writes: every metric in its queries has samples in a
# real live_prom_file, written by a program behind jemalloc with the munmap
# strategy, the adaptive controller (under injected pressure), purge
# attribution and an allocator setting on, and every label it selects, groups by or shows in a
# legend is on those samples, with the values it names. The Prometheus file
# is readable by the collector's user (0644 under umask 022), the JSON live
# file stays private (0600).
. "$top_srcdir/tests/lib.sh"
require_lib
DASH=$top_srcdir/contrib/grafana/madvisor.json
[ -n "$SAN_PRELOAD" ] && { skip "a sanitizer runtime provides malloc: no allocator behind madvisor"; done_testing; }
have_alloc jemalloc || { skip "jemalloc not found by configure: the allocator metrics need it"; done_testing; }

mkdir -p "$TMPD/live" "$TMPD/nocg"
printf 'some avg10=50.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n' >"$TMPD/psi"
conf="live_prom_file:$TMPD/live/m-%p.prom,live_file:$TMPD/live/s-%p.json,live_interval_ms:100"
conf="$conf,munmap:recycle,adaptive:true,adaptive.pressure_file:$TMPD/psi,adaptive.cgroup_dir:$TMPD/nocg"
conf="$conf,jemalloc.dirty_decay_ms:0,attribution:true,attribution.every:1"
(
	umask 022
	exec env LD_PRELOAD="$(preload_for jemalloc)" MADVISOR_CONF="$conf" "$ITEST/phases" 32 20 "$TMPD/stop"
) >"$TMPD/out" 2>"$TMPD/err" &
pid=$!
_i=0
while ! grep -q ready "$TMPD/out" 2>/dev/null && [ $_i -lt 750 ]; do sleep 0.02; _i=$((_i + 1)); done
prom=$TMPD/live/m-$pid.prom
# Wait (up to 15 s) until the controller has purged under the pressure and
# the file written after that shows it.
_i=0
while ! grep -q '^madvisor_adaptive_purges_total{[^}]*} [1-9]' "$prom" 2>/dev/null && [ $_i -lt 750 ]; do
	sleep 0.02
	_i=$((_i + 1))
done
sleep 0.3
cp "$prom" "$TMPD/snap.prom" 2>/dev/null
prom_mode=$(stat -c %a "$prom" 2>/dev/null)
json_mode=$(stat -c %a "$TMPD/live/s-$pid.json" 2>/dev/null)
touch "$TMPD/stop"
wait $pid
check_eq "the program exits 0" 0 "$?"
check "live_prom_file written" [ -s "$TMPD/snap.prom" ]
check_eq "live_prom_file is readable by the collector's user (umask 022)" 644 "$prom_mode"
check_eq "live_file (JSON) stays private" 600 "$json_mode"
[ -s "$TMPD/err" ] && diag "stderr: $(head -c 400 "$TMPD/err")"

# A build without an unwinder says so once and exports no call sites.
no_unwinder=0
grep -q -i 'unwind' "$TMPD/err" && no_unwinder=1
"$PYTHON3" - "$DASH" "$TMPD/snap.prom" "$no_unwinder" >"$TMPD/result" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
no_unwinder = sys.argv[3] == "1"

# The samples: metric name -> list of label dicts.
samples = {}
lab = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
for line in text.splitlines():
    m = re.match(r'^([a-z_][a-z0-9_]*)\{(.*)\} \S+$', line)
    if m:
        samples.setdefault(m.group(1), []).append(dict(lab.findall(m.group(2))))

# Every query: panel targets (rows hold none when expanded) and variables.
queries = []
def walk(panels):
    for p in panels:
        for t in p.get("targets", []):
            queries.append((p["title"], t["expr"], t.get("legendFormat", "")))
        walk(p.get("panels", []))
walk(dash["panels"])
for v in dash["templating"]["list"]:
    if v["type"] == "query":
        queries.append(("variable " + v["name"], v["query"]["query"] if isinstance(v["query"], dict) else v["query"], ""))
print("PASS the dashboard has %d queries" % len(queries) if len(queries) >= 10 else "FAIL only %d queries" % len(queries))

ADDED = {"instance", "job"}  # labels Prometheus adds when it scrapes
metrics = set()
bad = []
word = re.compile(r'\b(madvisor_[a-z0-9_]+)\b')
for title, expr, legend in queries:
    names = set(word.findall(expr))
    if not names:
        bad.append("%s: no madvisor metric in %r" % (title, expr))
    metrics |= names
    have = set(ADDED)
    for n in names:
        for s in samples.get(n, []):
            have |= set(s)
    # selectors: metric{label op "value", ...}
    for n, body in re.findall(r'\b(madvisor_[a-z0-9_]+)\{([^}]*)\}', expr):
        for l, op, v in re.findall(r'([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"', body):
            if l in ADDED:
                continue
            vals = [s.get(l) for s in samples.get(n, []) if l in s]
            if not vals:
                bad.append("%s: %s has no label %s" % (title, n, l))
            elif "$" not in v and op in ("=", "=~"):
                rx = re.compile(v if op == "=~" else re.escape(v))
                if not any(rx.fullmatch(x) for x in vals):
                    bad.append("%s: no %s sample with %s%s%r (values: %s)" % (title, n, l, op, v, sorted(set(vals))))
    # by (...), on (...), group_left (...) and {{label}} in the legend
    used = set()
    for grp in re.findall(r'\b(?:by|on|group_left|group_right)\s*\(([^)]*)\)', expr):
        used |= {x.strip() for x in grp.split(",") if x.strip()}
    used |= set(re.findall(r'\{\{\s*([a-z_]+)\s*\}\}', legend))
    for l in sorted(used - have):
        bad.append("%s: label %s is on none of %s" % (title, l, sorted(names)))
missing = sorted(m for m in metrics if m not in samples)
if no_unwinder and "madvisor_purge_site_calls_total" in missing:
    missing.remove("madvisor_purge_site_calls_total")
    bad = [b for b in bad if "madvisor_purge_site_calls_total" not in b]
    print("SKIP madvisor_purge_site_calls_total: this build has no unwinder for attribution")
print("PASS the dashboard queries %d metrics" % len(metrics) if len(metrics) >= 15 else "FAIL only %d metrics" % len(metrics))
print("PASS every metric the dashboard queries has samples in the live_prom_file" if not missing
      else "FAIL metrics the dashboard queries but the library did not write: %s" % missing)
print("PASS every label the dashboard selects, groups by or shows is on those samples" if not bad
      else "FAIL " + "; ".join(bad[:6]))
for m in missing:
    print("DIAG written: %s" % sorted(samples))
    break

# The dashboard itself: unique panel ids, every target on the data source variable.
ids = []
def ids_of(panels):
    for p in panels:
        ids.append(p["id"])
        ids_of(p.get("panels", []))
ids_of(dash["panels"])
print("PASS panel ids are unique" if len(ids) == len(set(ids)) else "FAIL duplicate panel ids")
ds = [t.get("datasource", {}).get("uid") for p in dash["panels"] for t in p.get("targets", [])]
print("PASS every query uses the ${datasource} variable" if ds and all(d == "${datasource}" for d in ds)
      else "FAIL queries with another data source: %s" % set(ds))
PY
tap_from "$TMPD/result"
grep -q '^SKIP ' "$TMPD/result" && skip "$(sed -n 's/^SKIP //p' "$TMPD/result" | head -n 1)"
check "the checks ran" grep -q '^PASS the dashboard has' "$TMPD/result"
done_testing
