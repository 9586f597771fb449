#!/bin/sh
# The main job: build madvisor, then
#  1. run an mmap-churning program (threads mmap a buffer, touch it, munmap)
#     through the launcher with the `default` profile (exact passthrough) and
#     with the `churn` profile (mapping recycling), showing what changed;
#  2. run a multi-threaded allocator workload under jemalloc, tcmalloc,
#     mimalloc and glibc malloc, printing what madvisor saw each one do.
# Usage: scripts/demo.sh [PROFILE]   (profile for part 2; default: default)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-"$top/build"}
profile=${1:-default}
sh "$top/scripts/build.sh" "$build" >&2
. "$build/tests/env.sh"

for p in default churn; do
	echo
	echo "=== mmap churn (2 threads, 2 s), profile '$p' ==="
	"$build/madvisor" --profile "$p" --stats -- "$build/bench/workloads/mmap_churn" -t 2 -s 2 2>&1 |
		grep -E 'mmap_churn:|madvisor: (call|munmap|mmap|stats for)|recycle'
done

# run NAME ALLOCATOR_SO [VAR=value...]: the allocator goes into LD_PRELOAD and
# the launcher puts the library in front of it.
run() {
	name=$1 so=$2
	shift 2
	echo
	echo "=== churn workload (4 threads, 2 s) under $name, profile '$profile' ==="
	env "$@" ${so:+LD_PRELOAD="$so"} "$build/madvisor" --profile "$profile" --stats -- \
		"$build/bench/workloads/churn" -t 4 -s 2
}

# A shorter decay than jemalloc's 10 s default so a 2 s run shows its purges.
run jemalloc "$JEMALLOC_SO" MALLOC_CONF="${MALLOC_CONF:-dirty_decay_ms:100,muzzy_decay_ms:0}"
run tcmalloc "$TCMALLOC_SO"
run mimalloc "$MIMALLOC_SO"
run "glibc malloc" ""
