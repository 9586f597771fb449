#!/bin/sh
# bench/report on a fixed results directory (tests/data/bench-results): the
# markdown has the table rows these numbers give (medians, min-max, ratios
# to the baseline, noise, failed runs left out, counts that differ flagged),
# and the plots are drawn when gnuplot is installed. No timing is involved.
set -u
. "$top_srcdir/tests/lib.sh"
data=$top_srcdir/tests/data/bench-results
cp -R "$data" "$TMPD/res" || bail "cannot copy $data"
out=$TMPD/res

"$top_srcdir/bench/report" "$out" >"$TMPD/stdout" 2>"$TMPD/stderr"
check_eq "bench/report exits 0" 0 $?
md=$out/report.md
check "report.md written" test -s "$md"

# has_row DESCRIPTION ROW: ROW is one whole line of report.md.
has_row() {
	if grep -qxF -- "$2" "$md"; then ok "$1"; else not_ok "$1"; diag "missing row: $2"; fi
}
has_row "baseline row: median [min-max], noise, memory" \
	'| churn | jemalloc | baseline | 3 | ops_per_sec (higher) | 110 [100–120] |  | ±9% | 10 | 5 | 200 | 100 |'
has_row "profile row: ratio outside the noise, memory ratios" \
	'| churn | jemalloc | default | 3 | ops_per_sec (higher) | 82 [80–85] | 0.75 | ±3% | 11 (1.10×) | 4 (0.80×) | 200 (~1.00×) | 80 (0.80×) |'
has_row "failed run left out and counted; ratio within the noise marked ~" \
	'| churn | glibc | default | 3 (+1 failed) | ops_per_sec (higher) | 200 [198–202] | ~1.00 | ±1% | 20 (~1.00×) | 2 (~1.00×) | 100 (~1.00×) | 100 (~1.00×) |'
has_row "median of an even number of runs" \
	'| redis | jemalloc | default | 2 | fill_ops_per_sec (higher) | 18500 [18000–19000] | 0.88 | ±3% | 46 (~1.00×) | 17 (~1.00×) | 180 (~1.00×) | 176 (~1.00×) |'
has_row "library counters: medians, MiB and ms" \
	'| churn | jemalloc | default | jemalloc | 92 | 0.359 | 0.092 | 2 | 0.004 | 25 | 1 | 0 | 0 |'
has_row "redis phases: throughput, p50 / p99, RSS and VmPTE by phase" \
	'| jemalloc | baseline | 21000 | 1.05 / 2.10 | 41000 | 0.55 / 1.60 | 32 | 46 / 46 / 17 / 17 | 180 / 180 / 176 / 176 |'
has_row "counts identical across runs (the failed run is not counted)" \
	'| churn | ops | 12 | 5000 | yes |'
has_row "counts that differ are flagged" \
	'| redis | keys_after_delete | 4 | 1502, 1503 | NO |'
has_row "library call counts over the repetitions" \
	'| churn | jemalloc | default | 3 | 25 (same) | 2 (same) | 91–93 |'
has_row "real program: a change outside the noise named, with its direction" \
	'| redis-server | redis | jemalloc | default | 0.88 | ~1.00 | ~1.00 | ~1.00 | ~1.00 | ~1.00 | 2 / 326 | – / – | changed: fill_ops_per_sec 0.88× (worse) |'
has_row "real program: a profile within the noise is no measurable change" \
	'| sqlite3 | sqlite | glibc | churn | ~1.01 | ~1.00 | ~1.00 | ~1.00 | ~1.00 | ~1.00 | 4 / 0 | 3 / 0 | no measurable change |'
has_row "real program: one run each gives no noise estimate, whatever the ratios" \
	'| gcc | compile | glibc | default | 0.90 | 1.10 | 1.00 | 1.00 | 1.00 | 1.00 | 0 / 0 | – / – | no noise estimate (one run) |'
has_row "a program with a change: the sentence lists it" \
	'- **redis-server** (redis): measurable changes in 1 of 1 comparison (profile × allocator against the baseline): redis under jemalloc with default: fill_ops_per_sec 0.88× (worse).'
has_row "a program madvisor does not change: the report says so" \
	'- **sqlite3** (sqlite): madvisor changes nothing measurable for this program: every profile under every allocator is within the noise of the baseline (1 comparison).'
has_row "a program with one run per row: the report says it cannot tell" \
	'- **gcc** (compile): cannot tell: every comparison had one run only (no noise estimate); run with --reps 2 or more.'
n=$(grep -c '^| sqlite3 | ' "$md")
check_eq "synthetic workloads have no real-program row; sqlite has one per profile" 1 "$n"
check "header: kernel features from meta.json" \
	grep -qF 'Kernel features (probed by the library): version=6.18, madv_free=true, pt_reclaim=true, thp=madvise.' "$md"
n=$(grep -c '^| churn | jemalloc | ' "$md")
check_eq "churn x jemalloc rows: main, time, 1 library, 1 repetition table" 6 "$n"
check "the main table is printed on stdout" grep -qF '| churn | jemalloc | default | 3 | ops_per_sec' "$TMPD/stdout"

if command -v gnuplot >/dev/null 2>&1; then
	for f in throughput-churn series-churn-jemalloc series-redis-jemalloc; do
		check "plot $f.png drawn" test -s "$out/plots/$f.png"
		check "plot $f.svg is SVG" grep -q '<svg' "$out/plots/$f.svg"
		check "report links $f.png" grep -qF "(plots/$f.png)" "$md"
	done
else
	for f in 1 2 3 4 5 6 7 8 9; do skip "gnuplot not installed (bench/setup installs it)"; done
fi

"$top_srcdir/bench/report" --no-plots "$TMPD" >/dev/null 2>&1
check_eq "a directory without results: exit 1" 1 $?
done_testing
