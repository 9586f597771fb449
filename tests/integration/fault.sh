#!/bin/sh
# fault.sh - every call madvisor makes on its own behalf, made to fail.
#
# tests/libmadvisor_fault.so is the preload library built with the fault
# hook (shim/sys/ownsys.h, shim/sys/fault.c): MADVISOR_FAULT names the calls to fail.
# Real programs run under it with the feature that makes the call turned on:
# the shadow checker (every byte, zero fill, result and errno checked), the
# allocator workloads, the errno table. Each case asserts that the program
# still exits 0 with its output right, that madvisor said what it turned
# off in exactly one line (or nothing, where the failure is retried or
# worked around harmlessly), that the feature really is off afterwards, and
# that the fault did fire. A last part checks that every system call used
# through mv_own* in shim/ and preload/ was made to fail by some case here,
# and that the raw calls left there are the program's own or calls that
# cannot fail.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/faultlib.sh"
needs_fault_lib "these cases fail madvisor's own calls on the kernel the probe finds, in the unmasked run"
SH="$SHADOW -t 4 -n 1500 -f 0"
REC="munmap:recycle,munmap.cache_entries:256"

# ---- files: config, /proc, reports ------------------------------------------
printf 'stats_file:%s/unused.json\n' "$TMPD" >"$TMPD/conf"
for f in openat:EACCES:conf fstat:EIO read:EIO read:EINTR; do
	MADVISOR_CONFIG="$TMPD/conf" fault_run "$f" "" "$ITEST/hello"
	expect_runs "config file, $f"
	expect_said "config file, $f" "conf: cannot .*running as plain passthrough"
done

# No /proc at all: the report leaves memory out, recycling clears with
# memset instead of reading pagemap.
fault_run "openat:ENOENT:/proc/" "$REC,munmap.zero_memset_max:0" $SH
expect_runs "no /proc, munmap:recycle"
expect_quiet "no /proc, munmap:recycle"
expect_shadow "no /proc, munmap:recycle"
stat_is "no /proc: memory unknown in the report" memory.vm_rss_kb None
stat_ge "no /proc: ranges still recycled" munmap.recycled 1

fault_run readlink:EACCES "" "$ITEST/hello"
expect_runs "readlink"
expect_quiet "readlink"
stat_is "readlink refused: no exe in the report" exe ""

fault_run "write:ENOSPC:fd>2" "" "$ITEST/hello"
expect_runs "stats_file, write ENOSPC"
expect_said "stats_file, write ENOSPC" "stats_file '.*': write failed; report not written"
check "stats_file, write ENOSPC: no partial file left" [ ! -f "$STATS" ]
fault_run "close:EIO:fd>2" "" "$ITEST/hello"
expect_runs "stats_file, close EIO"
expect_said "stats_file, close EIO" "stats_file '.*': write failed; report not written"
fault_run "write:ENOSPC:fd>2,unlink:EACCES" "" "$ITEST/hello"
expect_runs "stats_file, write and unlink refused"
expect_said "stats_file, write and unlink refused" "write failed; report not written"
fault_run "openat:EACCES:/s-" "" "$ITEST/hello"
expect_runs "stats_file, openat EACCES"
expect_said "stats_file, openat EACCES" "stats_file '.*': permission denied; report not written"
fault_run "fstat:EIO" "" "$ITEST/hello"
expect_runs "stats_file, fstat EIO"
expect_said "stats_file, fstat EIO" "stats_file '.*': input/output error; report not written"
fault_run "write@1:EIO:fd>2" "live_file:$TMPD/live.json,live_interval_ms:20" "$ITEST/churn"
expect_runs "live_file, write EIO"
grep -v 'stats_file' "$TMPD/err" >"$TMPD/err2"; mv "$TMPD/err2" "$TMPD/err"
expect_said "live_file, write EIO" "live_file '.*': cannot be written (error 5)"
check "live_file, write EIO: no temporary file left" [ -z "$(ls -A "$TMPD" | grep '^\.live')" ]
fault_run "rename:EXDEV" "live_file:$TMPD/live.json,live_interval_ms:20" "$ITEST/churn"
expect_runs "live_file, rename EXDEV"
expect_said "live_file, rename EXDEV" "live_file '.*': cannot be written (error 18)"
check "live_file, rename EXDEV: temporary file removed" [ -z "$(ls -A "$TMPD" | grep '^\.live')" ]

for f in "openat:EACCES:trace" "write:ENOSPC:fd>2"; do
	fault_run "$f" "trace:$TMPD/trace.%p" $SH
	expect_runs "trace, $f"
	grep -v 'stats_file' "$TMPD/err" >"$TMPD/err2"; mv "$TMPD/err2" "$TMPD/err"
	expect_said "trace, $f" "trace: cannot"
	expect_shadow "trace, $f"
done

# ---- memory for madvisor's own tables ----------------------------------------
fault_run mmap:ENOMEM "$REC" $SH
expect_runs "mmap ENOMEM, munmap:recycle"
expect_said "mmap ENOMEM, munmap:recycle" "munmap: cannot map the registry and cache tables; munmap passes through"
expect_shadow "mmap ENOMEM, munmap:recycle"
stat_is "mmap ENOMEM: no munmap strategy in the stats" munmap.mode MISSING
for conf in "$REC" "munmap:defer,munmap.zap_first:true"; do
	for f in "mprotect@9:ENOMEM" "mprotect@9%3:ENOMEM"; do
		# The tables are there; the registry cannot grow: madvisor's own
		# reservation cannot be made writable (commit limit), so held
		# ranges it cannot track are unmapped, not lost.
		fault_run "$f" "$conf" $SH
		expect_runs "$f, $conf"
		expect_quiet "$f, $conf"
		expect_shadow "$f, $conf"
	done
done
fault_run mmap:ENOMEM "ptmodel:on" $SH
expect_runs "mmap ENOMEM, ptmodel"
expect_said "mmap ENOMEM, ptmodel" "ptmodel: no memory for the model; it stays off"
stat_is "mmap ENOMEM: no ptmodel in the stats" ptmodel MISSING
fault_run mmap:ENOMEM "attribution:on" $SH
expect_runs "mmap ENOMEM, attribution"
expect_said "mmap ENOMEM, attribution" "attribution: no memory for the stack table; attribution stays off"
fault_run mmap:ENOMEM "trace:$TMPD/trace.%p" $SH
expect_runs "mmap ENOMEM, trace"
expect_said "mmap ENOMEM, trace" "trace: no memory for a thread's record ring"
expect_shadow "mmap ENOMEM, trace"
# The counters: a thread without its own slot counts in the shared one.
run_counted_fault() {
	fault_run "$1" "" "$ITEST/call_counts"
	expect_runs "counts, $1"
	_pid=$(sed -n 's/^pid //p' "$TMPD/out")
	sed -n 's/^count /count /p' "$TMPD/out" >"$TMPD/counts"
	compare_counts "$TMPD/counts" "$TMPD/s-$_pid.json" "counts, $1" all-exact
}
[ -z "$SAN_PRELOAD" ] && run_counted_fault mmap:ENOMEM

# munmap of a held range refused now and then: retried, nothing lost.
for conf in "$REC" "munmap:defer"; do
	fault_run "munmap%2:ENOMEM" "$conf" $SH
	expect_runs "munmap refused every other time, $conf"
	expect_quiet "munmap refused every other time, $conf"
	expect_shadow "munmap refused every other time, $conf"
done
# ... refused for good: said once, and the strategy takes no more ranges.
fault_run "munmap@20:ENOMEM" "munmap:defer,munmap.max_age_ms:5" "$top_builddir/bench/workloads/mmap_churn" -t 2 -n 2000
expect_runs "munmap refused for good"
expect_said "munmap refused for good" "munmap: the kernel refused to unmap a kept range (error 12); munmap passes through unchanged"
stat_ge "munmap refused for good: munmaps pass through afterwards" munmap.passed_through 100

# ---- clearing recycled memory kept resident, probing the kernel ---------------
for f in "madvise:EAGAIN" "process_madvise:EINVAL,madvise:EAGAIN" "mincore:ENOMEM"; do
	fault_run "$f" "$REC,munmap.recycle_resident:true,munmap.zero_memset_max:0" $SH
	expect_runs "recycle, $f"
	expect_quiet "recycle, $f"
	expect_shadow "recycle, $f"
done
"$ITEST/zero_fill" >"$TMPD/ref" 2>&1
check_eq "zero_fill without madvisor" "0" "$?"
for f in "madvise:EAGAIN" "process_madvise:EINVAL,madvise:EAGAIN" "openat:EACCES:pagemap,madvise:EAGAIN" \
	"pread64:EIO,process_madvise:EINVAL,madvise:EAGAIN"; do
	fault_run "$f" "munmap:recycle,munmap.recycle_resident:true,munmap.zero_memset_max:0" "$ITEST/zero_fill"
	expect_runs "zero_fill, $f"
	expect_quiet "zero_fill, $f"
	check_eq "zero_fill, $f: every recycled page reads zero" "$(cat "$TMPD/ref")" "$(cat "$TMPD/out")"
	stat_ge "zero_fill, $f: ranges recycled" munmap.recycled 1
done
fault_run "madvise:EINVAL" "munmap:defer,munmap.zap_first:true" $SH
expect_runs "defer zap_first, madvise refused"
expect_quiet "defer zap_first, madvise refused"
expect_shadow "defer zap_first, madvise refused"
fault_run "process_madvise:EINVAL" "munmap:defer,munmap.max_age_ms:5" $SH
expect_runs "defer, process_madvise refused"
expect_quiet "defer, process_madvise refused"
expect_shadow "defer, process_madvise refused"
stat_is "process_madvise refused: the probe says so" kernel.process_madvise_self false
fault_run "process_madvise:ENOSYS,pidfd_open:ENOSYS" "" "$ITEST/hello"
expect_runs "probe, no process_madvise nor pidfd_open"
expect_quiet "probe, no process_madvise nor pidfd_open"
stat_is "probe, no pidfd_open: process_madvise_self" kernel.process_madvise_self false
fault_run "uname:EFAULT" "" "$ITEST/hello"
expect_runs "probe, uname refused"
expect_quiet "probe, uname refused"
stat_is "probe, uname refused: kernel version unknown" kernel.version 0.0
fault_run "mseal:ENOSYS" "" "$ITEST/hello"
expect_runs "probe, no mseal"
expect_quiet "probe, no mseal"
stat_is "probe, no mseal: the probe says so" kernel.mseal false

# process_madvise's iovec cannot be read: nothing may stay held.
env LD_PRELOAD="$SAN_PRELOAD" "$ITEST/errno_table" >"$TMPD/ref" 2>/dev/null
fault_run "process_vm_readv:EPERM" "$REC" "$ITEST/errno_table"
expect_runs "process_madvise's iovec unreadable"
check_eq "process_madvise's iovec unreadable: every errno_table line as without madvisor" \
	"" "$(sort "$TMPD/ref" >"$TMPD/a"; sort "$TMPD/out" >"$TMPD/b"; comm -3 "$TMPD/a" "$TMPD/b" | head -3)"

# ---- page-table model and sweep ------------------------------------------------
fault_run "openat:EACCES:pagemap" "sweep:on" $SH
expect_runs "sweep, pagemap unreadable"
expect_said "sweep, pagemap unreadable" "ptmodel: /proc/self/pagemap cannot be read (error 13); the page-table model and the sweep stay off"
stat_is "sweep, pagemap unreadable: no ptmodel in the stats" ptmodel MISSING
if fork_threads_ok; then
fault_run "openat@1:EACCES:pagemap" "ptmodel:on" $SHADOW -t 2 -n 500 -f 100
expect_runs "ptmodel, a fork child's pagemap unreadable" children
expect_shadow "ptmodel, a fork child's pagemap unreadable"
check_eq "ptmodel, a fork child's pagemap unreadable: said once in the process tree, by a child" \
	"1 1" "$(grep -c '^madvisor' "$TMPD/err") $(grep -c 'samples and the sweep skip every region in this process' "$TMPD/err")"
else
	skip "ptmodel, a fork child's pagemap unreadable: a thread started in a fork child can hang in this build's runtime (fork_threads_ok, tests/lib.sh)"
fi
# The sweep runs only where the probe finds PT_RECLAIM and a userfaultfd for
# kernel faults (otherwise it stays off with one line: lean.sh); the cases
# that need it running are skipped elsewhere.
fault_run "" "" "$ITEST/hello"
PT_RECLAIM=$(json_get "$STATS" kernel.pt_reclaim) UFFD=$(json_get "$STATS" kernel.userfaultfd)
SWEEP_OK=no
[ "$PT_RECLAIM" = true ] && [ "$UFFD" = true ] && SWEEP_OK=yes
fault_run "userfaultfd:EPERM" "sweep:on" $SH
expect_runs "sweep, userfaultfd refused"
if [ "$PT_RECLAIM" = true ]; then
	expect_said "sweep, userfaultfd refused" "sweep: userfaultfd for kernel faults is not permitted here"
else
	expect_said "sweep, userfaultfd refused (no PT_RECLAIM: said first)" "sweep: this kernel does not free page tables"
fi
stat_is "sweep, userfaultfd refused: sweep inactive" ptmodel.sweep.active false
if [ "$SWEEP_OK" = no ]; then
	skip "sweep cases: the probe finds PT_RECLAIM $PT_RECLAIM, userfaultfd $UFFD here: the sweep stays off"
else
# userfaultfd refused in the fork children only (the first two calls are the
# parent's: the probe's and the sweep's): expected there, said nowhere; the
# parent's sweep stays on.
if fork_threads_ok; then
fault_run "userfaultfd@2:EPERM" "sweep:on" $SHADOW -t 2 -n 500 -f 100
expect_runs "sweep, a fork child's userfaultfd refused" children
expect_shadow "sweep, a fork child's userfaultfd refused"
expect_quiet "sweep, a fork child's userfaultfd refused"
stat_is "sweep, a fork child's userfaultfd refused: the parent's sweep on" ptmodel.sweep.active true
else
	skip "sweep, a fork child's userfaultfd refused: a thread started in a fork child can hang in this build's runtime (fork_threads_ok, tests/lib.sh)"
fi
fault_run "pread64:EIO" "sweep:on" $SH
expect_runs "sweep, pagemap reads fail"
expect_quiet "sweep, pagemap reads fail"
expect_shadow "sweep, pagemap reads fail"
stat_is "sweep, pagemap reads fail: nothing swept" ptmodel.sweep.swept 0
fault_run "ioctl:EINVAL" "sweep:on" $SH
expect_runs "sweep, UFFDIO_API refused"
expect_said "sweep, UFFDIO_API refused" "sweep: userfaultfd cannot be set up (error 22); the sweep stays off"
# Stranded page tables to sweep: pt_shrink checks every kept byte (exit 3).
PT_SHRINK="$top_builddir/bench/workloads/pt_shrink sparse -R 1g --idle-ms 600"
fault_run "" "sweep:on" $PT_SHRINK
check_eq "sweep, no fault: exits 0" 0 "$rc"
stat_ge "sweep, no fault: regions swept (the cases below do reach the sweep)" ptmodel.sweep.swept 1
fault_run "ioctl@1:EINVAL" "sweep:on" $PT_SHRINK
expect_runs "sweep, registrations refused"
expect_quiet "sweep, registrations refused"
stat_is "sweep, registrations refused: nothing swept" ptmodel.sweep.swept 0
stat_ge "sweep, registrations refused: counted" ptmodel.sweep.register_failed 1
fault_run "pread64:EIO" "sweep:on" $PT_SHRINK
expect_runs "sweep, pagemap reads fail (pt_shrink)"
expect_quiet "sweep, pagemap reads fail (pt_shrink)"
stat_is "sweep, pagemap reads fail: nothing swept" ptmodel.sweep.swept 0
# The probe's own six madvise calls come first (PT_RECLAIM is found with them).
fault_run "madvise@6:EAGAIN" "sweep:on" $PT_SHRINK
expect_runs "sweep, zaps refused"
expect_quiet "sweep, zaps refused"
stat_is "sweep, zaps refused: nothing swept" ptmodel.sweep.swept 0
stat_ge "sweep, zaps refused: counted" ptmodel.sweep.zap_failed 1
fi

# ---- threads, clocks, locks ------------------------------------------------------
for conf in "munmap:defer,munmap.max_age_ms:5" "ptmodel:on" "live_file:$TMPD/live.json"; do
	fault_run "pthread_create:EAGAIN" "$conf" $SH
	expect_runs "no background thread, $conf"
	expect_said "no background thread, $conf" "cannot start the background thread (error 11); features that need it stay off"
	expect_shadow "no background thread, $conf"
	case $conf in
	munmap*) stat_ge "no background thread: munmaps still deferred (aged inline)" munmap.deferred 1 ;;
	esac
done
fault_run "futex:EINTR" "munmap:defer,munmap.max_age_ms:5,ptmodel:on" $SH
expect_runs "futex interrupted"
expect_quiet "futex interrupted"
expect_shadow "futex interrupted"
fault_run "clock_gettime:EINVAL" "$REC,ptmodel:on" $SH
expect_runs "no clock"
expect_said "no clock" "cannot read the monotonic clock (error 22); times and ages read as 0"
expect_shadow "no clock"

# ---- allocator APIs and libunwind ----------------------------------------------
fault_run "dlopen:ENOENT" "attribution:on" $SH
expect_runs "attribution, libunwind not loadable"
expect_said "attribution, libunwind not loadable" "attribution: libunwind (libunwind.so.8) cannot be loaded; attribution stays off"
stat_is "attribution, libunwind not loadable: no attribution in the stats" attribution.samples MISSING
fault_run "dlsym:ENOENT:_step" "attribution:on" $SH
expect_runs "attribution, no unw_step"
expect_said "attribution, no unw_step" "attribution: libunwind has no unw_init_local/unw_step; attribution stays off"
if [ -z "$SAN_PRELOAD" ] && have_alloc jemalloc; then
	ALLOC_SO=$JEMALLOC_SO fault_run "dlsym:ENOENT:mallctl" "adaptive:on,adaptive.target_rss:1m,adaptive.interval_ms:20" \
		"$ITEST/phases" 32 0.5
	expect_runs "adaptive, no mallctl"
	expect_said "adaptive, no mallctl" "adaptive: no allocator API to purge through; the controller stays off"
	stat_is "adaptive, no mallctl: controller off" adaptive.enabled false
	ALLOC_SO=$JEMALLOC_SO fault_run "openat:EACCES:/proc/,faccessat:EACCES" \
		"adaptive:on,adaptive.target_rss:1m,adaptive.interval_ms:20,adaptive.cgroup_dir:$TMPD" "$ITEST/phases" 32 0.5
	expect_runs "adaptive, /proc and the cgroup unreadable"
	expect_quiet "adaptive, /proc and the cgroup unreadable"
	stat_is "adaptive, /proc and the cgroup unreadable: no purge without a reading" adaptive.purges 0
else
	skip "jemalloc not found by configure (or a sanitizer build): allocator API faults"
fi
if [ -z "$SAN_PRELOAD" ] && [ -x "$ITEST/burst_static_je" ]; then
	# jemalloc linked into the program: its API is only in the program's .symtab.
	: >"$TMPD/burst"
	: >"$TMPD/stop"
	fault_run "openat:EACCES:/proc/self/exe" "adaptive:on" "$ITEST/burst_static_je" 1 8 "$TMPD"
	expect_runs "static jemalloc, the program's file unreadable"
	check_eq "static jemalloc, the program's file unreadable: said so" 1 \
		"$(grep -c '^madvisor: malloc is linked into the program, whose symbol table cannot be read' "$TMPD/err")"
	stat_is "static jemalloc, the program's file unreadable: allocator not identified" allocator.name other
	stat_is "static jemalloc, the program's file unreadable: the controller stays off" adaptive.enabled false
	fault_run "mmap:ENOMEM" "jemalloc.dirty_decay_ms:100" "$ITEST/burst_static_je" 1 8 "$TMPD"
	expect_runs "static jemalloc, the program's file cannot be mapped"
	expect_said "static jemalloc, the program's file cannot be mapped" "whose symbol table cannot be read"
	stat_is "static jemalloc, the program's file cannot be mapped: allocator not identified" allocator.name other
else
	skip "no burst_static_je (libjemalloc_pic.a not found by configure, or a sanitizer build)"
fi
if [ -z "$SAN_PRELOAD" ] && have_alloc tcmalloc; then
	# gperftools defines mmap and munmap itself: without dlsym, raw calls.
	ALLOC_SO=$TCMALLOC_SO fault_run "dlsym:ENOENT" "$REC" $SH
	expect_runs "tcmalloc, no dlsym"
	expect_shadow "tcmalloc, no dlsym"
else
	skip "tcmalloc not found by configure (or a sanitizer build)"
fi

# ---- coverage: every own call has a case; raw calls are the program's ------------
used=$(cd "$top_srcdir" && grep -oh 'mv_own[0-6](SYS_[a-z0-9_]*\|mv_own_[a-z_]*(' shim/*/*.c shim/*/*.h preload/*.c |
	sed 's/.*SYS_//; s/^mv_own_//; s/($//' | sort -u)
for n in $used; do
	case $COVERED in
	*" $n "*) ok "coverage: a case made $n fail" ;;
	*) if [ -n "$SAN_PRELOAD" ] && [ "$n" = faccessat ]; then
		# Only the adaptive controller reads cgroup files, and it needs an
		# allocator behind madvisor, which a sanitizer build cannot have.
		skip "coverage: $n (needs an allocator behind madvisor; sanitizer build)"
	elif [ "$SWEEP_OK" = no ] && [ "$n" = ioctl ]; then
		skip "coverage: $n (only the sweep calls it, and it cannot run here)"
	else
		not_ok "coverage: $n is called through mv_own* but no case of fault.sh made it fail"
	fi ;;
	esac
done
check "coverage: the own calls were found" [ "$(echo $used | wc -w)" -ge 20 ]
# Raw calls outside the files that issue the program's calls must be ones
# that cannot fail (getpid, gettid, sched_yield, exit_group).
stray=$(cd "$top_srcdir" && grep -n 'mv_raw[0-6](' shim/*/*.c shim/*/*.h preload/*.c |
	grep -v '^shim/sys/rawsys.h:\|^shim/sys/ownsys.h:\|^shim/core/kernel.h:\|^shim/core/kernel.c:\|^shim/sys/fault.c:\|^preload/hooks.c:' |
	grep -v 'mv_raw[0-6](SYS_\(getpid\|gettid\|sched_yield\|exit_group\)\b' | head -5)
check_eq "coverage: no own call bypasses mv_own*" "" "$stray"
stray=$(cd "$top_srcdir" && grep -n '\(^\|[^_a-z]\)\(pthread_create\|dlopen\|dlsym\)(' shim/*/*.c preload/*.c | head -5)
check_eq "coverage: pthread_create, dlopen and dlsym only through mv_own_*" "" "$stray"
check "the installed library has no fault hook nor probe mask" sh -c "! nm -D '$MV_LIB' | grep -q 'mv_fault\|mv_probe_mask' && ! grep -q 'MADVISOR_FAULT\|MADVISOR_PROBE_MASK' '$MV_LIB'"

done_testing
