#!/bin/sh
# callers.sh - madvise.callers: a program's own MADV_FREE over whole 2 MiB
# regions, under madvise:free_to_dontneed (callers any, the default), is
# sent as MADV_DONTNEED and frees their page tables as the kernel's
# MADV_DONTNEED does; madvise:dontneed_to_free never touches a program's
# MADV_DONTNEED (refused in one line when asked for program calls); the
# results and errors stay the kernel's. `callers` makes its calls itself,
# with no allocator in between.
. "$top_srcdir/tests/lib.sh"
require_lib
N=8

field() { sed -n "s/^$1 //p" "$TMPD/out"; }
freed() { echo $(($(field pte_before_kb) - $(field pte_after_kb))); }
errors() { echo "$(field result) / $(field einval) / $(field enomem)"; }
said() { grep '^madvisor' "$TMPD/err"; }
get() { json_get "$TMPD/s.json" "$1"; }
# run ALLOC CONF ADVICE: callers with madvisor (CONF plus a stats file) in
# front of ALLOC; "none" runs without madvisor.
run() {
	rm -f "$TMPD/s.json"
	if [ "$2" = none ]; then
		plain_run "$1" "$ITEST/callers" "$3" $N >"$TMPD/out" 2>"$TMPD/err"
	else
		mv_run "$1" MADVISOR_CONF="$2,stats_file:$TMPD/s.json" "$ITEST/callers" "$3" $N >"$TMPD/out" 2>"$TMPD/err"
	fi
	rc=$?
}

# The kernel in front of us, without madvisor.
run glibc none dontneed
dn_freed=$(freed) dn_zero=$(field zero) dn_errors=$(errors)
run glibc none free
free_freed=$(freed) free_zero=$(field zero) free_errors=$(errors)
diag "without madvisor: MADV_DONTNEED of $N whole regions frees $dn_freed kB of page tables, MADV_FREE $free_freed kB"

# free_to_dontneed, callers any (the default): the program's call is converted.
run glibc "madvise:free_to_dontneed" free
check_eq "free_to_dontneed: runs, nothing said" "0 " "$rc $(said)"
check_eq "free_to_dontneed: the program's MADV_FREE is sent as MADV_DONTNEED (pages read zero at once)" \
	"$dn_zero" "$(field zero)"
check "free_to_dontneed: the conversion is counted" [ "$(get policy.converted)" -ge 1 ]
if [ "$dn_freed" -ge $(((N - 1) * 4)) ]; then
	check "free_to_dontneed: the program's MADV_FREE freed the page tables ($(freed) kB, MADV_DONTNEED: $dn_freed kB)" \
		[ "$(freed)" -ge $(((N - 1) * 4)) ]
else
	skip "this kernel frees no page table on MADV_DONTNEED (PT_RECLAIM, Linux 6.14+): nothing to free"
fi
check_eq "free_to_dontneed: result and errors as the kernel's MADV_FREE" "$free_errors" "$(errors)"

# callers:allocator: the program's calls pass through.
if have_alloc jemalloc; then
	run jemalloc "madvise:free_to_dontneed,madvise.callers:allocator" free
	check_eq "callers:allocator: the program's MADV_FREE passes through (data kept, page tables too)" \
		"0 $free_zero $free_freed" "$rc $(field zero) $(freed)"
	check_eq "callers:allocator: results and errors unchanged" "$free_errors" "$(errors)"
fi

# dontneed_to_free: never for a program's call. Where the probe finds no
# MADV_FREE the transform stays off, said once with the allocator behind.
mv_run glibc MADVISOR_CONF="stats_file:$TMPD/k.json" "$ITEST/hello" >/dev/null 2>&1
madv_free=$(json_get "$TMPD/k.json" kernel.madv_free)
diag "MADV_FREE on this kernel (the probe): $madv_free"
for a in tcmalloc mimalloc; do
	off=
	if [ "$madv_free" != true ]; then
		mv_run $a MADVISOR_CONF="madvise:dontneed_to_free" "$ITEST/hello" 2>&1 >/dev/null | grep '^madvisor' >"$TMPD/off"
		off=$(cat "$TMPD/off")
		check "$a, dontneed_to_free without MADV_FREE: one line says so" grep -q 'no MADV_FREE' "$TMPD/off"
	fi
	have_alloc $a || continue
	run $a "madvise:dontneed_to_free,madvise.callers:program" dontneed
	check_eq "$a, dontneed_to_free for program calls: refused in one line" 1 \
		"$(said | grep -c 'dontneed_to_free: .*refused for program calls')"
	check_eq "$a, dontneed_to_free for program calls: the MADV_DONTNEED passes through (reads zero)" \
		"0 $dn_zero" "$rc $(field zero)"
	check_eq "$a, dontneed_to_free for program calls: errors unchanged" "$dn_errors" "$(errors)"
	run $a "madvise:dontneed_to_free" dontneed
	check_eq "$a, dontneed_to_free (callers at their default): silent (but for the kernel's refusal), the program's MADV_DONTNEED reads zero" \
		"0 $off $dn_zero" "$rc $(said) $(field zero)"
	run $a "madvise:dontneed_to_free,madvise.callers:any" dontneed
	if [ -z "$off" ]; then
		check_eq "$a, dontneed_to_free with callers:any: the program's calls refused in one line, still zero" \
			"1 $dn_zero" "$(said | grep -c 'refused for program calls; only the allocator') $(field zero)"
	else
		check_eq "$a, dontneed_to_free with callers:any on a kernel without MADV_FREE: off, said once, still zero" \
			"$off $dn_zero" "$(said) $(field zero)"
	fi
done
done_testing
