#!/bin/sh
# signals.sh - madvise, mmap and munmap from a SIGALRM handler firing every
# 100 us while two threads make the same calls: no deadlock, exact counts.
. "$top_srcdir/tests/lib.sh"
require_lib
for a in $ALLOCATORS; do
	if ! have_alloc "$a"; then skip "$a: not found by configure"; continue; fi
	run_counted "$a" "$ITEST/sigstorm" 300
	check_counted "$a, signal storm" "$a"
	n=$(sed -n 's/^handler //p' "$TMPD/out")
	check "$a: the handler ran often (${n:-0} times)" [ "${n:-0}" -ge 100 ]
done
done_testing
