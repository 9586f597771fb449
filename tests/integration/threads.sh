#!/bin/sh
# threads.sh - 16 threads map, advise, protect and unmap at once while the
# allocator works too; every call is counted exactly once.
. "$top_srcdir/tests/lib.sh"
require_lib
for a in $ALLOCATORS; do
	if ! have_alloc "$a"; then skip "$a: not found by configure"; continue; fi
	run_counted "$a" "$ITEST/threads" 16 2000
	check_counted "$a, 16 threads" "$a"
done
done_testing
