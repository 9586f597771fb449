#!/bin/sh
# replay.sh - a trace recorded with trace:PATH, replayed by `madvisor replay`,
# reproduces the live run's counts exactly: calls per kind, bytes purged and
# the page-table model's figures (a program whose calls all go through the
# library), and the policy's system calls, cores and conversions under the
# same profile (jemalloc). Corrupt and truncated traces are refused with the
# offset of the first bad byte, never a crash.
. "$top_srcdir/tests/lib.sh"
require_lib
prog="$top_builddir/bench/workloads/pt_shrink"
[ -x "$prog" ] || bail "$prog not built"

# field LINE-PATTERN WORD-AFTER FILE: the number after WORD in the first matching line.
field() {
	grep "$1" "$3" | head -n 1 | tr -s ' ,():' '\n' | awk -v w="$2" 'p { print; exit } $0 == w { p = 1 }'
}

# 1. glibc: every call the program makes goes through the library.
t=$TMPD/sparse.trace j=$TMPD/sparse.json r=$TMPD/sparse.out
mv_run glibc MADVISOR_CONF="trace:$t,ptmodel:on,stats_file:$j" "$prog" sparse -R 128M --idle-ms 100 >/dev/null
"$MV_LAUNCHER" replay "$t" --profile passthrough >"$r" 2>&1
check_eq "replay exits 0" 0 $?
live_calls=$("$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(v['calls'] for v in d['totals'].values()))" "$j")
replay_calls=$(field 'calls' calls "$r")
if [ -n "$SAN_PRELOAD" ]; then
	# The sanitizer runtime's own calls reach the wrappers too, some before
	# the trace starts (tests/lib.sh): the replay's count is a lower bound.
	check "calls: replay <= live ($replay_calls <= $live_calls, sanitizer runtime)" \
		[ "${replay_calls:-x}" -le "$live_calls" ] 2>/dev/null
else
	check_eq "calls: replay == live" "$live_calls" "$replay_calls"
fi
check_eq "bytes purged: replay == live MADV_DONTNEED bytes" "$(json_row "$j" madvise MADV_DONTNEED bytes)" \
	"$(field 'bytes purged' purged "$r")"
check_eq "page-table bytes at the end: replay == live model" "$(json_get "$j" ptmodel.page_table_bytes)" \
	"$(field 'at the end' bytes "$r")"
check_eq "stranded tables at the end: replay == live model" "$(json_get "$j" ptmodel.stranded_tables)" \
	"$(field 'at the end' stranded "$r")"
check "the live run had stranded tables to count" [ "$(json_get "$j" ptmodel.stranded_tables)" -gt 0 ]

# 2. jemalloc under pt_reclaim and free_to_dontneed (the policy is active on
# every kernel: pt_reclaim alone is refused where the kernel has no
# PT_RECLAIM): the policy's decisions replay exactly. The replay asks the
# kernel it runs on, so a probe masked in the library alone cannot agree.
if [ -n "$SAN_PRELOAD" ]; then
	skip "a sanitizer runtime provides malloc: no jemalloc behind madvisor"
elif masked no_pt_reclaim; then
	skip "the library's probe is masked (no_pt_reclaim) but replay probes this kernel: their policies differ"
elif have_alloc jemalloc; then
	t=$TMPD/churn.trace j=$TMPD/churn.json r=$TMPD/churn.out pol=pt_reclaim:on,madvise:free_to_dontneed
	mv_run jemalloc MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0 \
		MADVISOR_CONF="trace:$t,$pol,stats_file:$j" "$prog" churn -l 64M -r 2 --idle-ms 50 >/dev/null 2>&1
	"$MV_LAUNCHER" replay "$t" --profile "$pol" --profile passthrough >"$r" 2>&1
	check_eq "jemalloc: policy system calls: replay == live" "$(json_get "$j" policy.kernel_calls)" \
		"$(field 'allocator purges' purges "$r")"
	check "jemalloc: the policy issued calls" [ "$(json_get "$j" policy.kernel_calls)" -gt 0 ]
	check_eq "jemalloc: whole-2MiB cores: replay == live" "$(json_get "$j" policy.pmd_cores)" \
		"$(field 'calls' cores "$r")"
	check_eq "jemalloc: passthrough profile sends nothing through the policy" 0 \
		"$(grep 'allocator purges' "$r" | sed -n 2p | tr -s ' ' '\n' | sed -n 4p)"
else
	skip "jemalloc not found by configure"
fi

# 3. Damaged traces.
t=$TMPD/sparse.trace
size=$(wc -c <"$t")
head -c $((size - 10)) "$t" >"$TMPD/trunc.trace"
"$MV_LAUNCHER" replay "$TMPD/trunc.trace" >"$TMPD/trunc.out" 2>&1
rc=$?
check_eq "truncated trace: exit status 2" 2 $rc
check "truncated trace: the offset of the partial record" \
	grep -q "truncated record at offset $(( (size - 10 - 32) / 64 * 64 + 32 ))" "$TMPD/trunc.out"
# Third record's type byte set to 0x7f.
cp "$t" "$TMPD/bad.trace"
printf '\177' | dd of="$TMPD/bad.trace" bs=1 seek=$((32 + 2 * 64)) conv=notrunc 2>/dev/null
"$MV_LAUNCHER" replay "$TMPD/bad.trace" >"$TMPD/bad.out" 2>&1
check_eq "corrupt record: exit status 2" 2 $?
check "corrupt record: its offset" grep -q "corrupt record at offset $((32 + 2 * 64))" "$TMPD/bad.out"
printf 'not a trace at all, just some text that is longer than a header\n' >"$TMPD/text.trace"
"$MV_LAUNCHER" replay "$TMPD/text.trace" >"$TMPD/text.out" 2>&1
check_eq "not a trace: exit status 2" 2 $?
check "not a trace: bad magic at offset 0" grep -q "bad magic at offset 0" "$TMPD/text.out"
head -c 7 "$t" >"$TMPD/short.trace"
"$MV_LAUNCHER" replay "$TMPD/short.trace" >"$TMPD/short.out" 2>&1
check_eq "7-byte file: exit status 2" 2 $?
check "7-byte file: truncated header" grep -q "truncated header at offset 7" "$TMPD/short.out"
done_testing
