#!/bin/sh
# strace.sh - an independent count of madvisor's calls: strace -k shows the
# stack of every memory system call while an allocator workload runs.
# - calls that madvisor forwarded from its wrappers must equal the stats JSON
#   totals, kind by kind, errors included;
# - calls with madvisor nowhere in the stack must be glibc's own (ld.so,
#   thread stacks: a libc/ld.so function called from libc/ld.so), never a
#   call that the allocator or the program made past madvisor;
# - madvisor's own bookkeeping (stats slots, the report's probe) may only
#   touch memory it mapped itself.
. "$top_srcdir/tests/lib.sh"
require_lib
if [ -n "$SAN_PRELOAD" ]; then
	skip "sanitizer build: the sanitizer runtime makes raw memory calls of its own and LeakSanitizer does not run under ptrace"
	done_testing
fi
if [ -z "$STRACE" ]; then
	skip "strace not found by configure"
	done_testing
fi
# strace -k needs unwinding support compiled in
if ! "$STRACE" -k -e trace=getpid true >/dev/null 2>&1; then
	skip "this strace has no -k (stack trace) support"
	done_testing
fi

for a in $ALLOCATORS; do
	if ! have_alloc "$a"; then
		skip "$a: not found by configure"
		continue
	fi
	rm -rf "$TMPD/tr" "$TMPD"/s-*.json
	mkdir "$TMPD/tr"
	# Settings that make each allocator purge and unmap promptly (the
	# program's environment, not madvisor's business).
	"$STRACE" -f -ff -k -o "$TMPD/tr/t" -e trace=madvise,munmap,mmap,mremap,mprotect \
		-E LD_PRELOAD="$(preload_for "$a")" \
		-E MADVISOR_CONF="stats_file:$TMPD/s-%p.json" \
		-E MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0 \
		-E TCMALLOC_AGGRESSIVE_DECOMMIT=true \
		-E MIMALLOC_RESET_DELAY=0 \
		"$ITEST/churn" 4 400 >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	check_eq "$a: churn under strace exits 0" 0 "$rc"
	[ "$rc" -eq 0 ] || diag "$(tail -5 "$TMPD/err")"
	pid=$(sed -n 's/^pid //p' "$TMPD/out")
	"$PYTHON3" - "$TMPD/tr" "$TMPD/s-$pid.json" "$a" "${MV_LIB##*/}" >"$TMPD/verdict" <<'PY'
import collections, json, os, re, sys
tdir, jf, label, lib = sys.argv[1:5]
kinds = ("madvise", "munmap", "mmap", "mremap", "mprotect")
call = re.compile(r'^(%s)\((\w+), (\d+).*\)\s+= (-?\w+)' % "|".join(kinds))

def frame(line):
    s = re.sub(r' \[0x[0-9a-f]+\]$', '', line[3:].rstrip())
    i = s.find('(')
    if i < 0:
        return (os.path.basename(s), '')
    return (os.path.basename(s[:i]), s[i + 1:-1].rsplit('+', 1)[0])

recs = []   # (kind, failed, [(object, symbol)...] innermost first, addr, len, result)
for fn in sorted(os.listdir(tdir)):
    cur = None
    for line in open(os.path.join(tdir, fn), errors="replace"):
        if line.startswith(' > '):
            if cur is not None:
                cur[2].append(frame(line))
            continue
        m = call.match(line)
        cur = None
        if m:
            addr = 0 if m.group(2) == 'NULL' else int(m.group(2), 16)
            res = m.group(4)
            cur = (m.group(1), res == '-1', [], addr, int(m.group(3)), res)
            recs.append(cur)

def is_glibc(obj):
    return obj.startswith('libc.so') or obj.startswith('ld-linux')

fwd, fwd_err = collections.Counter(), collections.Counter()
internal, glibc, offenders = collections.Counter(), collections.Counter(), collections.Counter()
# The innermost run of the library's frames is the madvisor code that made
# the system call. It forwarded a program's (or allocator's) call when that
# run ends in one of the wrappers and passes through none of madvisor's
# bookkeeping (per-thread stats slots, the exit report and its kernel probe,
# the background worker, start-up).
wrappers = {"madvise", "posix_madvise", "process_madvise", "munmap", "mmap", "mmap64",
            "mremap", "mprotect", "syscall"}
bookkeeping = re.compile(r'slot|probe|report|worker|init|fini|detect|config')
own_maps, own_use = [], []
for kind, failed, fr, addr, length, res in recs:
    first = next((i for i, f in enumerate(fr) if f[0] == lib), None)
    if first is not None:
        run = []
        for f in fr[first:]:
            if f[0] != lib:
                break
            run.append(f[1])
        if run[-1] in wrappers and not any(bookkeeping.search(sym) for sym in run):
            fwd[kind] += 1
            fwd_err[kind] += failed
        else:
            internal[(kind, " < ".join(sym or '?' for sym in run[:4]))] += 1
            if kind == "mmap" and not failed:
                own_maps.append((int(res, 16), length))
            elif kind != "mmap":
                own_use.append((kind, addr, length))
    elif fr and is_glibc(fr[0][0]) and (len(fr) < 2 or is_glibc(fr[1][0])):
        glibc[kind] += 1
    else:
        offenders[(kind, " < ".join("%s(%s)" % f for f in fr[:3]) or "no stack")] += 1

print("DIAG %s: %d traced calls: %d forwarded by madvisor %s, %d glibc-internal, %d madvisor bookkeeping"
      % (label, len(recs), sum(fwd.values()), dict(fwd), sum(glibc.values()), sum(internal.values())))
print("%s %s: no memory call bypassed madvisor" % ("FAIL" if offenders else "PASS", label))
for (kind, stack), n in offenders.most_common(10):
    print("DIAG   %dx %s from %s" % (n, kind, stack))
# bookkeeping (slots, the report's kernel probe) may only touch memory that
# madvisor mapped itself, never the program's
bad = [u for u in own_use
       if not any(a <= u[1] and u[1] + u[2] <= a + n for a, n in own_maps)]
print("%s %s: madvisor's own calls touch only memory it mapped itself" % ("FAIL" if bad else "PASS", label))
for kind, addr, length in bad[:5]:
    print("DIAG   %s(0x%x, %d) by madvisor outside its own mappings" % (kind, addr, length))
for (kind, stack), n in internal.most_common(10):
    print("DIAG   bookkeeping: %dx %s from %s" % (n, kind, stack))
try:
    d = json.load(open(jf))
except Exception as e:
    print("FAIL %s: stats JSON unreadable (%s)" % (label, e))
    sys.exit(0)
for kind in kinds:
    t = d["totals"][kind]
    want_calls, want_err = t["calls"], t["errors"]
    if kind == "madvise":  # posix_madvise other than DONTNEED is a madvise system call
        for r in d["calls"]:
            if r["kind"] == "posix_madvise" and r["detail"] != "POSIX_MADV_DONTNEED":
                want_calls += r["calls"]
                want_err += r["errors"]
    good = (fwd[kind], fwd_err[kind]) == (want_calls, want_err)
    print("%s %s: %s calls/errors: strace %d/%d == JSON %d/%d" % ("PASS" if good else "FAIL", label,
          kind, fwd[kind], fwd_err[kind], want_calls, want_err))
PY
	tap_from "$TMPD/verdict"
	[ -s "$TMPD/verdict" ] || not_ok "$a: strace analysis produced nothing"
	# the workload must have exercised the allocator's purge path
	if [ "$a" != glibc ]; then
		n=$(json_get "$TMPD/s-$pid.json" totals.madvise.calls)
		check "$a: the allocator purged (madvise calls: $n)" [ "${n:-0}" -gt 0 ] 2>/dev/null
	fi
done
done_testing
