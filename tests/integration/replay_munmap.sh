#!/bin/sh
# replay_munmap.sh - `madvisor replay` answers what-if for the munmap
# strategies, found the way a new user finds them: a trace of mmap_churn
# recorded through the launcher, replayed from the build tree with
# --profile churn, lowmem (no MADVISOR_PROFILE_DIR), a profile file and
# inline munmap:defer. Replay runs the library's own strategy code on paper,
# so its counts must agree with what the library reports for the same program
# (one thread: the same order of calls), and the strategies must issue fewer
# system calls than passthrough. A profile that cannot be used: one line,
# exit 2, nothing replayed.
. "$top_srcdir/tests/lib.sh"
require_lib
prog="$top_builddir/bench/workloads/mmap_churn"
[ -x "$prog" ] || bail "$prog not built"
[ -x "$MV_LAUNCHER" ] || bail "$MV_LAUNCHER not built"
if tsan_build; then
	skip "ThreadSanitizer build: the launcher puts madvisor ahead of the TSan runtime, which TSan cannot run with"
	done_testing
fi
if [ -n "$SAN_PRELOAD" ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	export ASAN_OPTIONS
fi
unset MADVISOR_PROFILE_DIR MADVISOR_PROFILE MADVISOR_CONFIG MADVISOR_CONF
N=400

# word KEY FILE [NTH]: the number after KEY (words, as printed) at its NTH
# (default first) place in FILE where a number follows it.
word() {
	awk -v key="$1" -v nth="${3:-1}" '{
		n = split($0, t, /[ ,;():]+/); k = split(key, w, " ")
		for (i = 1; i + k <= n; i++) {
			m = 1
			for (j = 1; j <= k; j++) if (t[i + j - 1] != w[j]) { m = 0; break }
			if (m && t[i + k] ~ /^[0-9]+$/ && ++c == nth) { print t[i + k]; exit }
		}
	}' "$2"
}
# section FILE PROFILE: the lines replay printed for PROFILE.
section() {
	awk -v p="profile $2:" 'index($0, p) == 1 { on = 1; print; next } /^profile / { on = 0 } on' "$1"
}

# 1. The issue's reproduction: trace through the launcher, replay by name.
t=$TMPD/churn.trace
"$MV_LAUNCHER" --lib "$MV_LIB" --conf "trace:$t" -- "$prog" -t 2 -n $N >/dev/null 2>"$TMPD/trace.err"
check_eq "mmap_churn traced through the launcher" 0 $?
"$MV_LAUNCHER" replay "$t" --profile churn --profile lowmem --profile passthrough >"$TMPD/r1" 2>"$TMPD/r1.err"
check_eq "replay --profile churn --profile lowmem from the build tree: exit 0" 0 $?
check_eq "replay: nothing on stderr" "" "$(cat "$TMPD/r1.err")"
section "$TMPD/r1" churn >"$TMPD/churn"
section "$TMPD/r1" lowmem >"$TMPD/lowmem"
section "$TMPD/r1" passthrough >"$TMPD/pass"
check "churn is modelled as munmap:recycle" grep -q "munmap:recycle" "$TMPD/churn"
check "lowmem is modelled as munmap:defer with zap_first" grep -q "munmap:defer.*zap_first" "$TMPD/lowmem"
calls=$(word calls "$TMPD/pass")
check_eq "trace: every mmap and munmap of both threads" $((4 * N)) "$calls"
check_eq "passthrough: one system call per call" "$calls" "$(word 'syscalls issued' "$TMPD/pass")"
sc_churn=$(word 'syscalls issued' "$TMPD/churn")
sc_low=$(word 'syscalls issued' "$TMPD/lowmem")
check "recycle issues fewer system calls than passthrough ($sc_churn < $calls)" [ "${sc_churn:-x}" -lt "$calls" ]
# lowmem trades each munmap for a page drop (read-locked) and a share of a
# coalesced unmap: fewer write-locked calls, not fewer calls.
unmaps_low=$(($(word munmap "$TMPD/lowmem") + $(word 'own munmap' "$TMPD/lowmem")))
check "lowmem issues fewer munmap system calls than the program's munmaps ($unmaps_low < $((2 * N)))" \
	[ "$unmaps_low" -lt $((2 * N)) ]
check_eq "lowmem: the system calls are the mmaps, the page drops and the unmaps" "$sc_low" \
	$((2 * N + $(word madvise "$TMPD/lowmem") + unmaps_low))
# Every mmap of mmap_churn is servable: each is a hit or a miss.
check_eq "recycle: hits + misses = mmap calls" $((2 * N)) \
	$(($(word recycled "$TMPD/churn") + $(word misses "$TMPD/churn")))
check_eq "recycle: cached + passed through = munmap calls" $((2 * N)) \
	$(($(word cached "$TMPD/churn") + $(word passed_through "$TMPD/churn")))
check_eq "recycle: the system calls are the calls let through and the strategy's own" "$sc_churn" \
	$(($(word mmap "$TMPD/churn") + $(word munmap "$TMPD/churn") + $(word 'own munmap' "$TMPD/churn") + \
	   $(word madvise "$TMPD/churn") + $(word process_madvise "$TMPD/churn")))
check_eq "lowmem: every mmap reaches the kernel (defer saves munmaps only)" $((2 * N)) "$(word mmap "$TMPD/lowmem")"
# The two threads' records reach the trace in the order they were written,
# which under load can put one thread's mmap of an address before the other
# thread's munmap of it: replay then cannot keep that mapping and lets its
# munmap through. Every munmap is accounted for, nearly all are deferred.
def_low=$(word deferred "$TMPD/lowmem") pass_low=$(word passed_through "$TMPD/lowmem")
check_eq "lowmem: every munmap deferred or let through (deferred $def_low, let through $pass_low)" $((2 * N)) \
	$((def_low + pass_low))
check "lowmem: nearly every munmap deferred ($def_low of $((2 * N)))" [ "$def_low" -ge $((2 * N * 9 / 10)) ]
check_eq "lowmem: each deferred range zapped at once" "$def_low" "$(word zap_calls "$TMPD/lowmem")"
check "recycle: bytes held over time are shown" grep -q "bytes held over the trace" "$TMPD/churn"

# 2. A profile file, as the usage line offers, and inline settings.
"$MV_LAUNCHER" replay "$t" --profile "$top_srcdir/configs/churn.conf" --profile munmap:defer >"$TMPD/r2" 2>&1
check_eq "replay --profile FILE.conf --profile munmap:defer: exit 0" 0 $?
section "$TMPD/r2" "$top_srcdir/configs/churn.conf" | sed 1d >"$TMPD/file"
sed 1d "$TMPD/churn" >"$TMPD/churn.body"
check "a profile file replays as the profile of that name" cmp -s "$TMPD/file" "$TMPD/churn.body"
section "$TMPD/r2" munmap:defer >"$TMPD/defer"
sc_defer=$(word 'syscalls issued' "$TMPD/defer")
check "munmap:defer issues fewer system calls than passthrough ($sc_defer < $calls)" \
	[ "${sc_defer:-x}" -lt "$calls" ]
mkdir "$TMPD/profiles"
printf 'munmap:recycle\nmunmap.cache_entries:4\n' >"$TMPD/profiles/mine.conf"
MADVISOR_PROFILE_DIR=$TMPD/profiles "$MV_LAUNCHER" replay "$t" --profile mine >"$TMPD/r3" 2>&1
check_eq "MADVISOR_PROFILE_DIR: a profile of its own: exit 0" 0 $?
check "MADVISOR_PROFILE_DIR: its cache limits are the ones replayed" grep -q "cache_entries 4," "$TMPD/r3"

# 3. Replay against the library's own counts, one thread (the same order).
t1=$TMPD/one.trace
"$MV_LAUNCHER" --lib "$MV_LIB" --conf "trace:$t1" -- "$prog" -t 1 -n $N >/dev/null 2>&1
"$MV_LAUNCHER" replay "$t1" --profile churn --profile munmap:defer >"$TMPD/r4" 2>&1
section "$TMPD/r4" churn >"$TMPD/c1"
section "$TMPD/r4" munmap:defer >"$TMPD/d1"
j=$TMPD/churn.json
"$MV_LAUNCHER" --lib "$MV_LIB" --profile churn --json "$j" -- "$prog" -t 1 -n $N >/dev/null 2>&1
check_eq "live churn: every munmap kept, as replayed" "$(json_get "$j" munmap.cached)" "$(word cached "$TMPD/c1")"
if [ "$(json_get "$j" munmap.aged)" = 0 ] && [ "$(json_get "$j" munmap.pressure_drains)" = 0 ]; then
	check_eq "live churn: hits, as replayed" "$(json_get "$j" munmap.recycled)" "$(word recycled "$TMPD/c1")"
	check_eq "live churn: misses, as replayed" "$(json_get "$j" munmap.misses)" "$(word misses "$TMPD/c1")"
else
	skip "the live run aged ranges or drained under memory pressure: replay has no clock for it"
	skip "(misses likewise)"
fi
j=$TMPD/defer.json
"$MV_LAUNCHER" --lib "$MV_LIB" --conf "munmap:defer" --json "$j" -- "$prog" -t 1 -n $N >/dev/null 2>&1
check_eq "live defer: every munmap deferred, as replayed" "$(json_get "$j" munmap.deferred)" \
	"$(word deferred "$TMPD/d1")"
check_eq "live defer: bytes deferred, as replayed" "$(json_get "$j" munmap.deferred_bytes)" \
	"$(word deferred_bytes "$TMPD/d1")"

# 4. Profiles that cannot be used: one line, exit 2, nothing replayed.
for bad in nosuch "$TMPD/none.conf" munmap:sideways; do
	"$MV_LAUNCHER" replay "$t" --profile churn --profile "$bad" >"$TMPD/bad.out" 2>"$TMPD/bad.err"
	check_eq "--profile $bad: exit 2" 2 $?
	check_eq "--profile $bad: one line on stderr" 1 "$(wc -l <"$TMPD/bad.err")"
	check "--profile $bad: the line names it" grep -q -- "--profile $bad" "$TMPD/bad.err"
	check_eq "--profile $bad: nothing replayed" "" "$(grep '^profile' "$TMPD/bad.out")"
done
"$MV_LAUNCHER" replay "$t" --profile nosuch >/dev/null 2>"$TMPD/bad.err"
check "an unknown profile: says there is no such profile" grep -q "no such profile" "$TMPD/bad.err"

# 5. A trace of version 1 (56-byte records, no times) still replays: the same
# records without their times.
"$PYTHON3" - "$t" "$TMPD/v1.trace" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
h = bytearray(d[:32]); struct.pack_into('<II', h, 8, 1, 56)
out = bytes(h) + b''.join(d[o:o + 56] for o in range(32, len(d), 64))
open(sys.argv[2], 'wb').write(out)
PY
"$MV_LAUNCHER" replay "$TMPD/v1.trace" --profile passthrough --profile munmap:defer >"$TMPD/v1.out" 2>&1
check_eq "version 1 trace: exit 0" 0 $?
check_eq "version 1 trace: the same calls" "$calls" "$(word calls "$TMPD/v1.out")"
check_eq "version 1 trace: the same munmaps deferred" "$(word deferred "$TMPD/defer")" "$(word deferred "$TMPD/v1.out")"
done_testing
