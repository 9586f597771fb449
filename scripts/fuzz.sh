#!/bin/sh
# Fuzz the configuration parsers (string, file, profile layering), the output
# builder, the trace reader and the policy engine: configure a clang build with
# libFuzzer, ASan and UBSan in build-fuzz/ and run `make fuzz` (each target for
# SECONDS, default FUZZ_SECONDS or 60, the targets side by side, one per CPU;
# `fuzz.sh 10` is the short pass CI runs). Installs clang and compiler-rt
# with apt-get when missing. Exit status is non-zero when a target crashed;
# the input that did it is in build-fuzz/fuzz/artifacts/.
# Usage: scripts/fuzz.sh [SECONDS]    Build directory: FUZZ_BUILDDIR.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-${FUZZ_SECONDS:-60}}
build=${FUZZ_BUILDDIR:-"$top/build-fuzz"}

sh "$top/scripts/sanitize.sh" --deps-only
if [ -f "$build/config.status" ] && ! "$build/config.status" --config | grep -q -- --enable-fuzz; then
	rm -f "$build/config.status"
fi
# Only the launcher first (it lists the keys); `make fuzz` builds the targets.
(BUILD_TARGETS=madvisor && export BUILD_TARGETS &&
	CC=${FUZZ_CC:-clang-14} sh "$top/scripts/build.sh" "$build" --enable-fuzz)
cd "$build"
# The targets run side by side, one per CPU.
make -s -j"$(nproc)" fuzz FUZZ_SECONDS="$seconds"
