#!/bin/sh
# Install what madvisor needs to build, test and benchmark on Debian 12, with
# apt-get, only when something is missing. Safe to run again.
# Usage: scripts/setup.sh [PACKAGE...]   (PACKAGEs: wanted as well; the
# sanitizer and fuzz runs and bench/setup name theirs this way)
set -eu

PACKAGES="gcc make autoconf automake libtool pkg-config
libjemalloc-dev libjemalloc2 libgoogle-perftools-dev libgoogle-perftools4
libmimalloc-dev libmimalloc2.0 libunwind-dev
strace valgrind python3 time gnuplot-nox sqlite3
man-db bash-completion $*"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "setup: all dependencies are installed"
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "setup: need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi

echo "setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "setup: done"
