#!/bin/sh
# holes.sh - madvisor's own memory (per-thread stats slots and trace rings,
# page-table model nodes, registry arrays) never appears in a hole the
# program just made: from a thread's first call, madvise in the hole still
# fails with ENOMEM and MAP_FIXED_NOREPLACE there still succeeds (holes.c),
# with every feature that maps memory for itself on.
. "$top_srcdir/tests/lib.sh"
require_lib
if [ -n "$SAN_PRELOAD" ]; then
	skip "sanitizer build: the sanitizer runtime maps per-thread state of its own in the program's holes"
	done_testing
fi

"$ITEST/holes" 50 >"$TMPD/out" 2>&1
check_eq "holes without madvisor (the kernel's view)" 0 "$?"
for conf in "stats_file:$TMPD/s-%p.json" "trace:$TMPD/t-%p.bin" "ptmodel:true,sweep:true" \
	"munmap:recycle,stats_file:$TMPD/s-%p.json" "munmap:defer,trace:$TMPD/t-%p.bin"; do
	mv_run glibc MADVISOR_CONF="$conf" "$ITEST/holes" 200 >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	check_eq "${conf%%,*}: every hole stays a hole ($(cat "$TMPD/out"))" 0 "$rc"
	[ "$rc" = 0 ] || diag "$(head -5 "$TMPD/err")"
done
done_testing
