#!/bin/sh
# The layer rule (DEVELOPERS.md), checked from the #include lines: a file
# includes from its own folder and from the layers below it only, so that
# feature folders never include each other:
#   shim/sys ← shim/core ← shim/{munmap,ptmodel,alloc} ← shim/observe
#     ← shim/route ← preload, tools
# and from the library's objects (nm): no link-level cycle between objects
# other than an interface with its backends (alloc/api with the allocators,
# observe/report with its formats).
set -u
top=$(cd "${top_srcdir:-.}" && pwd)
build=${top_builddir:-.}
rank() {
	case $1 in
	sys) echo 0 ;; core) echo 1 ;; munmap | ptmodel | alloc) echo 2 ;;
	observe) echo 3 ;; route) echo 4 ;; preload | tools) echo 5 ;; *) echo 99 ;;
	esac
}
files=$(cd "$top" && ls shim/*/*.[ch] preload/*.[ch] tools/*.[ch])
n=0
for f in $files; do
	n=$((n + 1))
	case $f in shim/*) from=${f#shim/} ;; *) from=$f ;; esac
	from=${from%%/*}
	rf=$(rank "$from")
	why=""
	[ "$rf" = 99 ] && why=" (not in a layer folder)"
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$top/$f"); do
		case $inc in */*) ;; *) continue ;; esac # generated in the build tree (mvconfig.h)
		to=${inc%%/*}
		[ "$to" = "$from" ] && continue
		rt=$(rank "$to")
		[ "$rt" -lt "$rf" ] || why="$why $inc"
	done
	if [ -z "$why" ]; then
		echo "ok $n - $f follows the layer rule"
	else
		echo "not ok $n - $f includes from its own layer or above:$why"
	fi
done
# The link graph, when the objects are there (a build tree).
objs=$(cd "$build" && find shim -name 'libshim_la-*.o' 2>/dev/null | sort)
n=$((n + 1))
if [ -z "$objs" ]; then
	echo "ok $n # SKIP no library objects in $build"
else
	cycles=$(cd "$build" && for o in $objs; do
		name=$(echo "$o" | sed 's|^shim/||; s|/.libs/libshim_la-|/|; s|\.o$||')
		nm "$o" | awk -v n="$name" '$1 == "U" { print n, "U", $2; next } $2 ~ /^[TDBRC]$/ { print n, "T", $3 }'
	done | awk -f "$top/tests/unit/linkgraph.awk" | while read -r size comp; do
		# allowed: an interface with its backends
		case " $comp " in
		*" alloc/api "*) rest=$(echo "$comp" | tr ' ' '\n' | grep -v -E '^alloc/(api|jemalloc|tcmalloc|mimalloc|glibc)$') ;;
		*" observe/report "*) rest=$(echo "$comp" | tr ' ' '\n' | grep -v -E '^observe/report(_[a-z]+)?$') ;;
		*) rest=$comp ;;
		esac
		[ -z "$rest" ] || echo "$size: $comp"
	done)
	if [ -z "$cycles" ]; then
		echo "ok $n - no link-level cycle between the library's objects beyond an interface and its backends"
	else
		echo "not ok $n - link-level cycles: $cycles"
	fi
fi
echo "1..$n"
