#!/bin/sh
# Build the Debian package from a clean copy of the source tree (or from a
# release tarball made by `make dist`) and put the .deb files in OUTDIR. Installs the build dependencies (debian/control) with
# apt-get when any is missing, then runs `dpkg-buildpackage -us -uc -b`.
# The package's own `make check` is skipped (DEB_BUILD_OPTIONS=nocheck) unless
# DEB_BUILD_OPTIONS is set: scripts/check.sh runs the tests already.
# Usage: sh scripts/deb.sh OUTDIR [TARBALL]
set -eu
[ $# -eq 1 ] || [ $# -eq 2 ] || { echo "usage: scripts/deb.sh OUTDIR [TARBALL]" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
tarball=${2:-}
if [ -n "$tarball" ]; then
	[ -f "$tarball" ] || { echo "deb: $tarball: no such file" >&2; exit 2; }
	tarball=$(cd "$(dirname "$tarball")" && pwd)/${tarball##*/}
fi
mkdir -p "$1"
out=$(cd "$1" && pwd)
: "${DEB_BUILD_OPTIONS=nocheck}"
DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS parallel=$(nproc)"
case " $DEB_BUILD_OPTIONS " in
*" nocheck "*) DEB_BUILD_PROFILES=nocheck ;;
*) DEB_BUILD_PROFILES="" ;;
esac
export DEB_BUILD_OPTIONS DEB_BUILD_PROFILES

SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=none; fi
fi
# apt_install PACKAGES...: as scripts/setup.sh does.
apt_install() {
	if [ "$SUDO" = none ]; then
		echo "deb: need root (or sudo) to install: $*" >&2
		exit 1
	fi
	echo "deb: installing: $*"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v dpkg-checkbuilddeps >/dev/null 2>&1 || apt_install dpkg-dev

# A clean copy: the tarball's files; or the files git knows (tracked or new,
# not ignored); or, outside a git checkout, the tree without build directories.
work=$(mktemp -d "${TMPDIR:-/tmp}/madvisor-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
if [ -n "$tarball" ]; then
	tar -C "$work/src" -xzf "$tarball"
	set -- "$work"/src/*/debian/changelog
	[ -f "$1" ] || { echo "deb: $tarball holds no debian/ directory" >&2; exit 1; }
	src=$(dirname "$(dirname "$1")")
	version=$(dpkg-parsechangelog -l "$1" -S Version)
elif git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files --cached --others --exclude-standard |
		while IFS= read -r f; do [ -e "$top/$f" ] && printf '%s\n' "$f"; done >"$work/files"
	src=$work/src/madvisor
	mkdir -p "$src"
	tar -C "$top" -cf - -T "$work/files" | tar -C "$src" -xf -
else
	src=$work/src/madvisor
	mkdir -p "$src"
	tar -C "$top" --exclude='./build*' --exclude=./debian/madvisor --exclude=./debian/.debhelper \
		-cf - . | tar -C "$src" -xf -
fi
[ -n "$tarball" ] || version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)

# Build dependencies: apt-get build-dep on the copy, when any is missing.
cd "$src"
if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
	[ "$SUDO" != none ] || { dpkg-checkbuilddeps; echo "deb: need root (or sudo) to install them" >&2; exit 1; }
	echo "deb: installing the build dependencies"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get build-dep -y -qq --no-install-recommends ${DEB_BUILD_PROFILES:+-P $DEB_BUILD_PROFILES} \
		"$src" >/dev/null
	dpkg-checkbuilddeps
fi

echo "deb: building madvisor $version (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
if ! dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log" >&2
	echo "deb: dpkg-buildpackage failed" >&2
	exit 1
fi
for f in "$(dirname "$src")"/*.deb; do
	cp "$f" "$out"/
	echo "deb: $out/${f##*/}"
done
