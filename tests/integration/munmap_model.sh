#!/bin/sh
# munmap_model.sh - the munmap strategies together with the page-table model
# and the stranded-table sweep: the model sees a held range as unmapped while
# its page tables are still there, and a recycled one as a fresh mapping. The
# shadow checker must still pass (the sweep's zap is checked under
# userfaultfd, whatever the model believes), the strategy must have been at
# work, and the model must still agree with the kernel's VmPTE at exit.
. "$top_srcdir/tests/lib.sh"
require_lib

# Under a sanitizer no forks: the library restarts its worker thread in a
# fork child (its stack comes from madvisor's own reservation), and the
# sanitizer runtime maps its own per-thread state for it wherever the kernel
# finds room, possibly in the child's MADV_DONTFORK holes the checker probes.
forks=
[ -n "$SAN_PRELOAD" ] && forks="-f 0"
for conf in "munmap:recycle" "munmap:defer,munmap.zap_first:true"; do
	rm -f "$TMPD"/s-*.json
	timeout 120 env LD_PRELOAD="$(preload_for glibc)" \
		MADVISOR_CONF="$conf,ptmodel:true,sweep:true,stats_file:$TMPD/s-%p.json" \
		"$ITEST/shadow" -t 4 -n 3000 -S 5 $forks >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	check_eq "$conf + ptmodel + sweep: shadow checker passes ($(sed -n 's/^shadow: //p' "$TMPD/out"))" 0 "$rc"
	[ "$rc" = 0 ] || { diag "$(head -5 "$TMPD/err")"; continue; }
	s=$(ls "$TMPD"/s-*.json | head -1)
	held=$(( $(json_get "$s" munmap.recycled) + $(json_get "$s" munmap.deferred) ))
	check "$conf: the strategy held ranges ($held)" [ "$held" -gt 0 ]
	if [ -n "$SAN_PRELOAD" ]; then
		skip "$conf: page-table model vs VmPTE: the sanitizer's shadow tables are not modelled (by design)"
		continue
	fi
	model=$(json_get "$s" ptmodel.page_table_bytes) kernel=$(json_get "$s" ptmodel.vm_pte_bytes)
	# Within a quarter of VmPTE (the sampler corrects the model as it goes).
	close=no
	[ "$kernel" -gt 0 ] && [ $((model * 4)) -ge $((kernel * 3)) ] && [ $((model * 4)) -le $((kernel * 5)) ] && close=yes
	check_eq "$conf: page-table model $model B within 25% of VmPTE $kernel B" yes "$close"
done
done_testing
