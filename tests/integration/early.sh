#!/bin/sh
# early.sh - calls made before main (from .preinit_array, which runs before
# madvisor's own constructor, and from a constructor) are passed through and
# counted.
. "$top_srcdir/tests/lib.sh"
require_lib
for a in $ALLOCATORS; do
	if ! have_alloc "$a"; then skip "$a: not found by configure"; continue; fi
	run_counted "$a" "$ITEST/early"
	check_eq "$a: preinit function ran" "phase preinit ran" "$(grep '^phase preinit' "$TMPD/out")"
	check_eq "$a: constructor ran" "phase constructor ran" "$(grep '^phase constructor' "$TMPD/out")"
	check_counted "$a, calls before main" "$a"
done
done_testing
