#!/bin/sh
# slots.sh - 1500 short-lived threads (more than madvisor's per-thread slots,
# so slots are reused) while a long-lived thread keeps calling madvise: the
# counts stay exact.
. "$top_srcdir/tests/lib.sh"
require_lib
for a in $ALLOCATORS; do
	if ! have_alloc "$a"; then skip "$a: not found by configure"; continue; fi
	run_counted "$a" "$ITEST/slots" 1500
	check_counted "$a, 1500 threads" "$a"
done
done_testing
