#!/bin/sh
# launcher.sh - the `madvisor` command end to end: it puts the library in
# front of an LD_PRELOAD that already names an allocator, passes the
# command's exit status through, and its --json/--stats/--conf options reach
# the library.
. "$top_srcdir/tests/lib.sh"
require_lib
if [ ! -x "$MV_LAUNCHER" ]; then
	bail "$MV_LAUNCHER not built"
fi
if tsan_build; then
	skip "ThreadSanitizer build: the launcher puts madvisor ahead of the TSan runtime, which TSan cannot run with"
	done_testing
fi
a=glibc
for cand in jemalloc mimalloc tcmalloc; do
	case " $ALLOCATORS " in *" $cand "*) ;; *) continue ;; esac
	if have_alloc "$cand"; then a=$cand; break; fi
done
so=$(alloc_so "$a")
# The launcher puts madvisor first; a sanitized program then finds its
# runtime second, which AddressSanitizer checks for by default.
if [ -n "$SAN_PRELOAD" ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	export ASAN_OPTIONS
fi

env LD_PRELOAD="$so" "$MV_LAUNCHER" --lib "$MV_LIB" --json "$TMPD/l-%p.json" -- \
	"$ITEST/call_counts" >"$TMPD/out" 2>"$TMPD/err"
check_eq "launcher runs call_counts behind $a: exit status" 0 $?
pid=$(sed -n 's/^pid //p' "$TMPD/out")
if check "--json: l-$pid.json written and valid" json_valid "$TMPD/l-$pid.json"; then
	if [ -n "$SAN_PRELOAD" ]; then
		skip "allocator detection (the sanitizer runtime provides malloc)"
	else
		check_eq "the allocator from the existing LD_PRELOAD is behind madvisor" "$a" \
			"$(json_get "$TMPD/l-$pid.json" allocator.name)"
	fi
	compare_counts "$TMPD/out" "$TMPD/l-$pid.json" "launcher, $a" "$(exact_rows "$a")"
else
	diag "$(cat "$TMPD/err")"
fi

"$MV_LAUNCHER" --lib "$MV_LIB" --stats -- "$ITEST/hello" >"$TMPD/out" 2>"$TMPD/err"
check_eq "--stats: exit status" 0 $?
pid=$(sed -n 's/^hello from main, pid //p' "$TMPD/out")
check "--stats: table for pid $pid on stderr" grep -q "^madvisor: stats for pid $pid (" "$TMPD/err"

# the command's own exit status comes back unchanged
"$MV_LAUNCHER" --lib "$MV_LIB" -- /bin/sh -c 'exit 7'
check_eq "exit status of a failing command passes through" 7 $?

"$MV_LAUNCHER" --lib "$MV_LIB" --conf bogus:1 -- "$ITEST/hello" >"$TMPD/out" 2>"$TMPD/err"
st=$?
check "--conf bogus:1: refused with a non-zero status ($st)" [ "$st" -ne 0 ]
check "--conf bogus:1: the command did not run" sh -c "! grep -q 'hello from main' '$TMPD/out'"
check "--conf bogus:1: the message names bogus" grep -q "^madvisor: .*bogus" "$TMPD/err"
done_testing
