#!/bin/sh
# lean.sh - older and leaner kernels, simulated: the test library's probe is
# told the kernel lacks a feature (MADVISOR_PROBE_MASK, shim/sys/probemask.c),
# one feature at a time, and each strategy that needs it takes its fallback
# and says so in exactly one line (or, where the fallback changes nothing the
# program or its user could see, says nothing), while the program still runs
# right. pt_reclaim without PT_RECLAIM replaces whole 2 MiB cores with fresh
# mappings, and keeps working when that mmap is refused.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/faultlib.sh"
needs_fault_lib "lean.sh masks one feature at a time in the unmasked run"
SH="$SHADOW -t 4 -n 1500 -f 0"
PT_SHRINK="$top_builddir/bench/workloads/pt_shrink"

# ---- the probe reports what the mask says ------------------------------------
for m in no_pt_reclaim:pt_reclaim no_process_madvise:process_madvise_self no_pidfd_self:pidfd_self \
	no_uffd:userfaultfd no_mseal:mseal no_madv_free:madv_free no_vma_lock:vma_lock_madvise; do
	MASK="${m%%:*}" fault_run "" "" "$ITEST/hello"
	expect_runs "${m%%:*}" unfaulted
	expect_quiet "${m%%:*}"
	stat_is "${m%%:*}: kernel.${m#*:} false" "kernel.${m#*:}" false
done
for t in never madvise always; do
	MASK="thp_$t" fault_run "" "" "$ITEST/hello"
	expect_quiet "thp_$t"
	stat_is "thp_$t: kernel.thp" kernel.thp "$t"
done
MASK="no_pt_reclaim,bogus" fault_run "" "" "$ITEST/hello"
expect_runs "an unknown mask word" unfaulted
expect_said "an unknown mask word" "MADVISOR_PROBE_MASK: ignoring bogus"

# ---- the sweep: PT_RECLAIM and userfaultfd ------------------------------------
MASK=no_pt_reclaim fault_run "" "sweep:on" $SH
expect_runs "sweep without PT_RECLAIM" unfaulted
expect_said "sweep without PT_RECLAIM" "sweep: this kernel does not free page tables on MADV_DONTNEED.*the sweep stays off"
stat_is "sweep without PT_RECLAIM: inactive" ptmodel.sweep.active false
expect_shadow "sweep without PT_RECLAIM"
MASK="no_uffd" fault_run "" "sweep:on" $SH
expect_runs "sweep without userfaultfd" unfaulted
if [ "$(json_get "$STATS" kernel.pt_reclaim)" = true ]; then
	expect_said "sweep without userfaultfd" "sweep: this kernel has no userfaultfd; the sweep stays off"
else
	expect_said "sweep without userfaultfd (and no PT_RECLAIM here: said first)" "sweep: this kernel does not free page tables"
fi
stat_is "sweep without userfaultfd: inactive" ptmodel.sweep.active false

# ---- recycling and deferral without process_madvise -------------------------------
for m in no_process_madvise no_pidfd_self; do
	for conf in "munmap:recycle,munmap.cache_entries:256,munmap.zero_memset_max:0" \
		"munmap:defer,munmap.max_age_ms:5"; do
		MASK="$m" fault_run "" "$conf" $SH
		expect_runs "$m, ${conf%%,*}" unfaulted
		expect_quiet "$m, ${conf%%,*}"
		expect_shadow "$m, ${conf%%,*}"
	done
done

# ---- mseal ------------------------------------------------------------------
env LD_PRELOAD="$SAN_PRELOAD" "$ITEST/rangecalls" >"$TMPD/ref" 2>/dev/null
check "rangecalls without madvisor prints its cases" [ -s "$TMPD/ref" ]
MASK=no_mseal fault_run "" "munmap:recycle" "$ITEST/rangecalls"
expect_runs "no_mseal, recycle: range calls" unfaulted
check_eq "no_mseal, recycle: every range call as without madvisor" "" \
	"$(diff "$TMPD/ref" "$TMPD/out" | head -3)"

# ---- allocator strategies ------------------------------------------------------------
if [ -n "$SAN_PRELOAD" ]; then
	skip "a sanitizer runtime provides malloc: no allocator behind madvisor"
	done_testing
fi
if have_alloc mimalloc; then
	ALLOC_SO=$MIMALLOC_SO MASK=no_madv_free fault_run "" "madvise:dontneed_to_free" "$ITEST/churn" 2 200
	expect_runs "dontneed_to_free without MADV_FREE (mimalloc)" unfaulted
	expect_said "dontneed_to_free without MADV_FREE (mimalloc)" "madvise:dontneed_to_free: this kernel has no MADV_FREE"
	stat_is "dontneed_to_free without MADV_FREE: passthrough" policy.madvise passthrough
else
	skip "mimalloc not found by configure"
fi
if ! have_alloc jemalloc; then
	skip "jemalloc not found by configure"
	done_testing
fi
# jemalloc purging at once, objects up to 4 MiB: its purges include whole
# aligned 2 MiB regions.
JE="MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0"
ALLOC_SO=$JEMALLOC_SO MASK=no_pt_reclaim fault_run "" "pt_reclaim:on" $JE "$PT_SHRINK" churn -l 64M -r 2 -x 4M --idle-ms 0
expect_runs "pt_reclaim without PT_RECLAIM nor a munmap strategy" unfaulted
expect_said "pt_reclaim without PT_RECLAIM nor a munmap strategy" "pt_reclaim: this kernel does not free page tables.*allocator purges pass through unchanged"
stat_is "pt_reclaim without PT_RECLAIM nor a munmap strategy: off" policy.pt_reclaim false

REMAP="pt_reclaim:on,munmap:recycle"
ALLOC_SO=$JEMALLOC_SO MASK=no_pt_reclaim fault_run "" "$REMAP,ptmodel:on" $JE "$PT_SHRINK" churn -l 64M -r 2 -x 4M --idle-ms 0
expect_runs "pt_reclaim by fresh mappings (jemalloc, every kept byte checked)" unfaulted
expect_said "pt_reclaim by fresh mappings" "pt_reclaim: this kernel does not free page tables.*replaced with fresh ones"
stat_is "pt_reclaim by fresh mappings: on" policy.pt_reclaim true
stat_ge "pt_reclaim by fresh mappings: cores replaced" policy.pmd_cores_remapped 1
model=$(json_get "$STATS" ptmodel.page_table_bytes) kernel=$(json_get "$STATS" ptmodel.vm_pte_bytes)
check "pt_reclaim by fresh mappings: the page-table model ($model B) within 25% of VmPTE ($kernel B)" \
	"$PYTHON3" -c "import sys; m, k = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(m - k) > 0.25 * k)" \
	"$model" "$kernel"

# The fresh mapping refused (only those mmaps pass an address: fd>0 is the
# first argument): the core goes as MADV_DONTNEED, nothing else changes.
ALLOC_SO=$JEMALLOC_SO MASK=no_pt_reclaim fault_run "mmap:ENOMEM:fd>0" "$REMAP" $JE "$PT_SHRINK" churn -l 64M -x 4M \
	-r 2 --idle-ms 0
expect_runs "pt_reclaim, fresh mappings refused (every kept byte checked)"
expect_said "pt_reclaim, fresh mappings refused" "replaced with fresh ones"
stat_is "pt_reclaim, fresh mappings refused: none replaced" policy.pmd_cores_remapped 0

# The shadow checker, with a fork storm, under the fallback.
ALLOC_SO=$JEMALLOC_SO MASK=no_pt_reclaim fault_run "" "$REMAP" $JE "$ITEST/shadow" -t 4 -n 1500 -f 100
expect_runs "pt_reclaim by fresh mappings, jemalloc, shadow checker with forks" unfaulted
expect_shadow "pt_reclaim by fresh mappings, jemalloc, shadow checker with forks"
done_testing
