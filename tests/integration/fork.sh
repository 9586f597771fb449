#!/bin/sh
# fork.sh - fork and fork+exec while another thread keeps calling madvise.
# Each forked child writes its own stats file (%p) counting only its own
# calls; the exec'd program is preloaded too and counts its calls; the
# parent's file counts only the parent's.
. "$top_srcdir/tests/lib.sh"
require_lib
for a in $ALLOCATORS; do
	if ! have_alloc "$a"; then skip "$a: not found by configure"; continue; fi
	run_counted "$a" "$ITEST/forks"
	check_counted "$a, parent" "$a" "parent "
	for c in 0 1 2 3; do
		check_counted "$a, fork child $c" "$a" "child $c "
	done
	check_counted "$a, exec'd child" "$a" "exec "
	check_eq "$a: one stats file per process (parent, 4 children, exec)" 6 \
		"$(ls "$TMPD"/s-*.json 2>/dev/null | wc -l)"
done
done_testing
