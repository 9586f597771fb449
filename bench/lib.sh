# bench/lib.sh - sourced by every bench/ script (run, overhead, matrix, report,
# munmap, ptmodel, adaptive; POSIX sh): paths, the allocators' shared objects,
# errors, clock, and medians.
#
# Paths: the build tree is --builddir (default: the current directory); the
# library is --lib, else $MADVISOR_LIB, else <builddir>/.libs/libmadvisor.so;
# workload programs live in <builddir>/bench/workloads; what configure found
# (allocators, python3, valgrind) in <builddir>/tests/env.sh.

bench_die() {
	echo "$bench_name: $*" >&2
	exit 2
}

# bench_paths BUILDDIR LIB: sets top_builddir (absolute), workloads, lib, and,
# in a configured build tree, what configure found (<builddir>/tests/env.sh:
# alloc_so NAME gives an allocator's shared object; PYTHON3, VALGRIND...).
# An empty BUILDDIR is an installed madvisor (`madvisor bench`): no build
# tree, the allocators where the system keeps them, LIB (or $MADVISOR_LIB).
bench_paths() {
	alloc_so() { bench_system_so "$1"; }
	if [ -n "$1" ]; then
		[ -d "$1" ] || bench_die "build directory '$1' does not exist"
		top_builddir=$(cd "$1" && pwd)
		[ ! -f "$top_builddir/tests/env.sh" ] || . "$top_builddir/tests/env.sh"
		workloads=$top_builddir/bench/workloads
		lib=${2:-${MADVISOR_LIB:-$top_builddir/.libs/libmadvisor.so}}
	else
		top_builddir= workloads=
		lib=${2:-${MADVISOR_LIB:-}}
		[ -n "$lib" ] || bench_die "no library given (--lib PATH or MADVISOR_LIB)"
	fi
	case $lib in /*) ;; *) lib=$(pwd)/$lib ;; esac
	[ -f "$lib" ] || bench_die "library '$lib' not found (build it, or give --lib PATH / MADVISOR_LIB, or --builddir DIR)"
}

# bench_system_so NAME: the shared object of allocator NAME (glibc, jemalloc,
# tcmalloc, tcmalloc_minimal, mimalloc) in the system's library directories,
# as configure looks for it; empty for glibc and one not installed, status 1
# for an unknown name.
bench_system_so() {
	case $1 in
	glibc) return 0 ;;
	jemalloc) set -- libjemalloc.so.2 ;;
	tcmalloc) set -- libtcmalloc.so.4 ;;
	tcmalloc_minimal) set -- libtcmalloc_minimal.so.4 ;;
	mimalloc) set -- libmimalloc.so.2 libmimalloc.so ;;
	*) return 1 ;;
	esac
	for d in /usr/lib/"$(uname -m)"-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
		for f in "$@"; do
			[ -f "$d/$f" ] && { echo "$d/$f"; return 0; }
		done
	done
	return 0
}

# bench_workload NAME: path of a built workload program, or die.
bench_workload() {
	[ -x "$workloads/$1" ] || bench_die "'$workloads/$1' is not built (run make in $top_builddir)"
	echo "$workloads/$1"
}

# bench_now_ns: monotonic-enough wall clock in nanoseconds.
bench_now_ns() {
	date +%s%N
}

# bench_field NAME FILE: value of the first NAME=VALUE word in FILE.
bench_field() {
	awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' "$2"
}

# bench_stats: reads numbers on stdin, prints "median min max count"
# ("- - - 0" when there are none). Non-numeric lines are ignored.
bench_stats() {
	awk '
	$1 ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ { v[n++] = $1 + 0 }
	END {
		if (n == 0) { print "- - - 0"; exit }
		for (i = 1; i < n; i++) {          # insertion sort: n is small
			x = v[i]
			for (j = i - 1; j >= 0 && v[j] > x; j--) v[j + 1] = v[j]
			v[j + 1] = x
		}
		m = (n % 2) ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
		printf "%.6g %.6g %.6g %d\n", m, v[0], v[n - 1], n
	}'
}
