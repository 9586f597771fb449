#!/bin/sh
# Configure and build madvisor in a build directory (default: ./build).
# Usage: scripts/build.sh [BUILDDIR] [configure options...]
# BUILD_TARGETS: what to make (default: everything).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$top/build"}
[ $# -gt 0 ] && shift
sh "$top/scripts/setup.sh"
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ]; then
	(cd "$top" && autoreconf -fi >/dev/null 2>&1) || { (cd "$top" && autoreconf -fi); exit 1; }
fi
mkdir -p "$build"
cd "$build"
# (Again when an interrupted configure left config.status but no Makefile.)
if [ ! -f config.status ] || [ ! -f Makefile ] || [ "$top/configure" -nt config.status ]; then
	"$top/configure" -q "$@"
fi
# shellcheck disable=SC2086
make -s -j"$(nproc)" ${BUILD_TARGETS:-}
