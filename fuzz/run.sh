#!/bin/sh
# run.sh - run one libFuzzer target for a while (used by `make fuzz`).
#   run.sh TARGET SECONDS DICT   fuzz TARGET (a path in the build tree) for
#                                SECONDS, seeds from the source tree's
#                                fuzz/corpus/<name>/, new inputs kept in
#                                fuzz/work/<name>/, crashes in fuzz/artifacts/;
#                                prints one summary line, the log tail on failure.
#   run.sh --keys LAUNCHER DICT OUT
#                                copy DICT to OUT, adding (with a warning) any
#                                configuration key `LAUNCHER config --keys`
#                                lists that DICT lacks.
set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = --keys ]; then
	cp "$3" "$4"
	missing="" n=0
	for k in $("$2" config --keys | sed -n 's/^| `\([A-Za-z0-9_.]*\)`.*/\1/p'); do
		n=$((n + 1))
		if ! grep -q "^[A-Za-z_0-9]*=\"$k\"\$" "$3"; then
			missing="$missing $k"
			echo "key_new=\"$k\"" >>"$4"
		fi
	done
	[ "$n" -gt 0 ] || { echo "fuzz: '$2 config --keys' listed no keys" >&2; exit 1; }
	[ -z "$missing" ] || echo "fuzz: warning: add to $3 the key(s):$missing (added for this run)"
	exit 0
fi

target=$1 seconds=$2 dict=$3
name=$(basename "$target")
mkdir -p "fuzz/work/$name" fuzz/artifacts
log="fuzz/$name.log"
start=$(date +%s)
# -timeout: one input taking 10 s is a hang; -rss_limit_mb bounds memory.
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
	-print_final_stats=1 -dict="$dict" -artifact_prefix="fuzz/artifacts/$name-" \
	"fuzz/work/$name" "$here/corpus/$name" >"$log" 2>&1
status=$?
took=$(($(date +%s) - start))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
units=$(find "fuzz/work/$name" -type f | wc -l)
echo "fuzz: $name: ${execs:-?} inputs in $took s, ${cov:-cov: ?}, corpus $units, exit $status"
if [ "$status" != 0 ]; then
	tail -n 40 "$log"
	ls fuzz/artifacts/"$name"-* 2>/dev/null
fi
exit "$status"
