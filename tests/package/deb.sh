#!/bin/sh
# deb.sh DEBDIR - the Debian package that scripts/deb.sh built into DEBDIR:
# its control fields (version, dependencies declared), its files (library in
# the multiarch directory, launcher, profiles, man pages, completion, docs
# and fleet examples), then the package unpacked into a scratch root and its
# launcher run from there on a real program (python3, and behind jemalloc when
# it is installed), its man pages rendered, and the systemd and container
# examples checked against it. As root (CI) it is also installed into the
# system with dpkg, run with no path given, and purged again; elsewhere that
# part is skipped. TAP, then "package: N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: tests/package/deb.sh DEBDIR" >&2; exit 2; }
n=0 failed=0 skipped=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n # SKIP $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else not_ok "$_d"; fi; }
check_eq() { if [ "x$2" = "x$3" ]; then ok "$1"; else not_ok "$1"; diag "expected: $2" "     got: $3"; fi; }
finish() {
	echo "1..$n"
	echo "package: $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit $?
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/madvisor-pkg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

deb=$(ls "$1"/madvisor_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	not_ok "a madvisor_*.deb in $1"
	finish
fi
ok "package file: ${deb##*/}"
field() { dpkg-deb -f "$deb" "$1"; }
version=$(sed -n 's/^AC_INIT(\[madvisor\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
check_eq "Package: madvisor" madvisor "$(field Package)"
check_eq "Version is configure.ac's" "$version" "$(field Version)"
check_eq "debian/changelog has the same version" "$version" \
	"$(sed -n '1s/^madvisor (\([^)]*\)).*/\1/p' "$top/debian/changelog")"
check_eq "Architecture is this machine's" "$(dpkg --print-architecture)" "$(field Architecture)"
check "Depends on libc6" sh -c 'printf "%s\n" "$1" | grep -q libc6' sh "$(field Depends)"
check_eq "Recommends libunwind8 (purge attribution)" libunwind8 "$(field Recommends)"
for p in libjemalloc2 libgoogle-perftools4 libmimalloc2.0; do
	check "Suggests $p" sh -c 'printf "%s\n" "$1" | tr -d " " | tr , "\n" | grep -qx "$2"' sh "$(field Suggests)" "$p"
done

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
lib=/usr/lib/$ma/libmadvisor.so
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$tmp/files"
has_file() { grep -qx -F "$1" "$tmp/files"; }
for f in "$lib" /usr/bin/madvisor /usr/share/man/man1/madvisor.1.gz /usr/share/man/man5/madvisor.conf.5.gz \
	/usr/share/bash-completion/completions/madvisor /usr/share/doc/madvisor/stats.schema.json \
	/usr/share/doc/madvisor/contrib/systemd/madvisor.conf /usr/share/doc/madvisor/contrib/docker/Dockerfile.fragment \
	/usr/share/doc/madvisor/contrib/grafana/madvisor.json; do
	check "the package holds $f" has_file "$f"
done
for conf in "$top"/configs/*.conf; do
	check "the package holds the profile ${conf##*/}" has_file "/usr/share/madvisor/configs/${conf##*/}"
done
for f in matrix report monitor lib.sh report_tables.awk jsonflat.awk; do
	check "the package holds madvisor bench's /usr/libexec/madvisor/$f" has_file "/usr/libexec/madvisor/$f"
done
check "no libtool .la file" sh -c '! grep -q "\.la$" "$1"' sh "$tmp/files"

# ---- unpacked into a scratch root -------------------------------------------
root=$tmp/root
dpkg-deb -x "$deb" "$root"
M=$root/usr/bin/madvisor
export MADVISOR_PROFILE_DIR="$root/usr/share/madvisor/configs"
unset MADVISOR_PROFILE MADVISOR_CONFIG MADVISOR_CONF MADVISOR_LIB LD_PRELOAD
check_eq "madvisor --version" "madvisor $version" "$("$M" --version)"
check "madvisor --help names the installed library $lib" sh -c '"$1" --help | grep -q -F "$2"' sh "$M" "$lib"

# run_py JSON [madvisor options]: a python3 program that makes and frees
# ~25 MB of small objects (its allocator maps and unmaps arenas), exit 3.
PY='import sys; l = [str(i) * 3 for i in range(300000)]; del l; sys.exit(3)'
jget() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d[k]
print(str(d).lower() if isinstance(d, bool) else d)' "$1" "$2" 2>/dev/null; }
"$M" --lib "$root$lib" --profile churn --json "$tmp/churn-%p.json" -- python3 -c "$PY"
check_eq "the launcher from the package runs python3 and returns its status" 3 "$?"
j=$(ls "$tmp"/churn-*.json 2>/dev/null | head -n 1)
check "it wrote the JSON report" [ -n "$j" ]
check_eq "the report is this version's" "$version" "$(jget "$j" madvisor)"
check_eq "the churn profile came from the package (munmap:recycle)" recycle "$(jget "$j" config.munmap)"
mm=$(jget "$j" totals.mmap.calls) mu=$(jget "$j" totals.munmap.calls)
both_positive() { [ "${1:-0}" -gt 0 ] && [ "${2:-0}" -gt 0 ]; }
check "python3's mmap and munmap calls were counted ($mm, $mu)" both_positive "$mm" "$mu"
je=/usr/lib/$ma/libjemalloc.so.2
if [ -f "$je" ]; then
	LD_PRELOAD=$je "$M" --lib "$root$lib" --json "$tmp/je.json" -- python3 -c "$PY"
	check_eq "behind jemalloc: status 3" 3 "$?"
	check_eq "behind jemalloc: the report names it" jemalloc "$(jget "$tmp/je.json" allocator.name)"
else
	skip "$je not installed (scripts/setup.sh installs it)"
fi

# madvisor bench from the package: its matrix, monitor and report.
PYOK='l = [str(i) * 3 for i in range(100000)]; del l; print("done items=%d" % 100000)'
MADVISOR_LIBEXEC_DIR=$root/usr/libexec/madvisor MADVISOR_LIB=$root$lib "$M" bench --allocators glibc \
	--profiles churn --reps 1 --counts items --out "$tmp/bench" -- python3 -c "$PYOK" >"$tmp/bench.out" 2>"$tmp/bench.err"
check_eq "madvisor bench from the package runs python3 without and with the library: exit 0" 0 "$?"
check "it wrote report.md with the baseline and churn rows" sh -c \
	'grep -q "^| python3 | glibc | baseline | 1 |" "$1" && grep -q "^| python3 | glibc | churn | 1 |" "$1"' sh "$tmp/bench/report.md"
check_eq "counts.csv: the program's count in both runs" "100000 100000" \
	"$(awk -F, 'NR > 1 { printf "%s%s", (n++ ? " " : ""), $6 }' "$tmp/bench/counts.csv" 2>/dev/null)"
[ -s "$tmp/bench/report.md" ] || diag "$(tail -n 5 "$tmp/bench.err")"

if command -v man >/dev/null 2>&1; then
	for page in man1/madvisor.1.gz man5/madvisor.conf.5.gz; do
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -P cat -l "$root/usr/share/man/$page" >"$tmp/man.txt" 2>"$tmp/man.err"
		check_eq "${page#*/} from the package renders without warnings" "0:" "$?:$(cat "$tmp/man.err")"
	done
else
	skip "man is not installed"
fi
check "the completion looks in the package's profile directory" \
	grep -q -F 'MADVISOR_PROFILE_DIR:-/usr/share/madvisor/configs}' "$root/usr/share/bash-completion/completions/madvisor"

# The fleet examples, as the package ships them: their LD_PRELOAD is the
# package's library, and their settings pass `madvisor config --print`.
ex=$root/usr/share/doc/madvisor/contrib
# env_of FILE PREFIX NAME: the value of NAME= on a PREFIX line.
env_of() { sed -n "s/^$2$3=//p" "$1" | head -n 1; }
sd_pre=$(env_of "$ex/systemd/madvisor.conf" "Environment=" LD_PRELOAD)
sd_prof=$(env_of "$ex/systemd/madvisor.conf" "Environment=" MADVISOR_PROFILE)
sd_conf=$(env_of "$ex/systemd/madvisor.conf" "Environment=" MADVISOR_CONF | sed 's/%%/%/g')
check_eq "systemd drop-in: LD_PRELOAD is the package's library" "$lib" "$sd_pre"
MADVISOR_PROFILE=$sd_prof MADVISOR_CONF=$sd_conf "$M" config --print >"$tmp/sd.out" 2>&1
check_eq "systemd drop-in: its profile and MADVISOR_CONF are accepted" 0 "$?"
check "systemd drop-in: live_prom_file goes to node_exporter's textfile directory, one file per process" \
	grep -q 'live_prom_file.*/var/lib/prometheus/node-exporter/.*%p\.prom' "$tmp/sd.out"
dk_pre=$(env_of "$ex/docker/Dockerfile.fragment" "ENV " LD_PRELOAD)
dk_prof=$(env_of "$ex/docker/Dockerfile.fragment" "ENV " MADVISOR_PROFILE)
dk_conf=$(env_of "$ex/docker/Dockerfile.fragment" "ENV " MADVISOR_CONF)
check_eq "Dockerfile fragment: LD_PRELOAD is the package's library" "$lib" "$dk_pre"
MADVISOR_PROFILE=$dk_prof MADVISOR_CONF=$dk_conf "$M" config --print >"$tmp/dk.out" 2>&1
check_eq "Dockerfile fragment: its profile and MADVISOR_CONF are accepted" 0 "$?"
check "Dockerfile fragment: live_prom_file is set" grep -q 'live_prom_file.*\.prom' "$tmp/dk.out"
unset MADVISOR_PROFILE_DIR

# ---- installed into the system (root only) ------------------------------------
if [ "$(id -u)" != 0 ]; then
	skip "not root: the package is not installed into the system"
elif dpkg-query -W -f='${Status}' madvisor 2>/dev/null | grep -q "installed" || [ -e /usr/bin/madvisor ] || [ -e "$lib" ]; then
	skip "a madvisor is installed already: the system is left alone"
else
	# dpkg may be locked by another apt run for a while: retry.
	i=0
	until dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1; do
		i=$((i + 1))
		if [ $i -ge 30 ] || ! grep -q lock "$tmp/dpkg.log"; then break; fi
		sleep 2
	done
	installed() { dpkg-query -W -f='${Status}\n' madvisor 2>/dev/null | grep -q "install ok installed"; }
	check "dpkg -i installs the package" installed
	installed || diag "$(tail -n 5 "$tmp/dpkg.log")"
	(cd "$tmp" && PATH=/usr/bin:/bin madvisor --profile lowmem --json "$tmp/sys.json" -- python3 -c "$PY")
	check_eq "installed: madvisor runs python3 with no path given, status 3" 3 "$?"
	check_eq "installed: the lowmem profile from /usr/share/madvisor (munmap:defer)" defer "$(jget "$tmp/sys.json" config.munmap)"
	check "installed: the man pages are registered with the package" sh -c 'dpkg -L madvisor | grep -q man5/madvisor.conf.5.gz'
	dpkg --purge madvisor >"$tmp/purge.log" 2>&1
	gone() { ! installed && [ ! -e /usr/bin/madvisor ] && [ ! -e "$lib" ]; }
	check "dpkg --purge removes it again" gone
fi
finish
