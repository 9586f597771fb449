# lib.sh - shared by the shell tests: TAP output, running a program with
# madvisor preloaded in front of an allocator, and reading the stats JSON.
# POSIX sh. Needs top_srcdir and top_builddir (make check exports both).

: "${top_builddir:?top_builddir is not set (run through make check)}"
: "${top_srcdir:?top_srcdir is not set (run through make check)}"
. "$top_builddir/tests/env.sh"

# pyenv-style shims start slowly: resolve the interpreter once.
[ -n "$PYTHON3" ] && PYTHON3=$("$PYTHON3" -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -n "$PYTHON3" ] || { echo "Bail out! python3 is needed to read the stats JSON"; exit 1; }

MV_LIB="$top_builddir/.libs/libmadvisor.so"
# MADVISOR_TEST_PROBE_MASK (scripts/check.sh's "lean kernel" part): every run
# goes through the test library, whose kernel probe sees a leaner kernel than
# this one (MADVISOR_PROBE_MASK, shim/sys/probemask.c), so the strategies take
# the fallbacks they take on older kernels.
PROBE_MASK=${MADVISOR_TEST_PROBE_MASK:-}
if [ -n "$PROBE_MASK" ]; then
	MV_LIB="$top_builddir/tests/.libs/libmadvisor_fault.so"
	MADVISOR_PROBE_MASK=$PROBE_MASK
	export MADVISOR_PROBE_MASK
fi
# masked WORD: the probe is told the kernel lacks WORD (no_pt_reclaim, ...).
masked() { case ",$PROBE_MASK," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
MV_LAUNCHER="$top_builddir/madvisor"
ITEST="$top_builddir/tests/integration"   # the integration test programs

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/madvisor-test.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT
trap 'exit 1' HUP INT TERM

# ---- TAP ------------------------------------------------------------------
tap_n=0
tap_failed=0
plan() { echo "1..$1"; }
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
bail() { echo "Bail out! $*"; exit 1; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() { _d=$1; shift; if "$@"; then ok "$_d"; else not_ok "$_d"; fi; }
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "x$2" = "x$3" ]; then ok "$1"; else not_ok "$1"; diag "expected: $2" "     got: $3"; fi
}
# tap_from FILE: turn "PASS text", "FAIL text" and "DIAG text" lines (written
# by the Python checks) into TAP in this shell, keeping the numbering.
tap_from() {
	while IFS= read -r _l; do
		case $_l in
		PASS*) ok "${_l#PASS }" ;;
		FAIL*) not_ok "${_l#FAIL }" ;;
		DIAG*) diag "${_l#DIAG }" ;;
		esac
	done <"$1"
}
# Trailing plan: call last.
done_testing() { echo "1..$tap_n"; exit 0; }
# The library must be built; everything here needs it.
require_lib() { [ -f "$MV_LIB" ] || bail "$MV_LIB not built"; }

# fork_threads_ok: can a fork child start a thread under the runtime the tests
# run with? Not under gcc's AddressSanitizer runtime up to gcc 12 (libasan.so
# up to .8): it does not reset its allocator's locks in a fork child, and its
# thread start-up allocates, so a thread started in a fork child waits forever
# when another thread of the parent held such a lock at the fork (without
# madvisor: tests/integration/forkthread hangs there, 4 runs in 6 here). Other
# runtimes are asked with that program, once per build (tests/forkthread.result).
# madvisor's worker starts again in a fork child when the page-table model,
# the sweep, live stats or the adaptive controller is on (worker_in_child):
# such fork cases cannot run where this is false.
fork_threads_ok() {
	case $SAN_PRELOAD in */gcc/*/[0-9]/libasan.so* | */gcc/*/1[0-2]/libasan.so*) return 1 ;; esac
	_f="$top_builddir/tests/forkthread.result"
	if [ ! -f "$_f" ]; then
		timeout 30 env ${SAN_PRELOAD:+LD_PRELOAD="$SAN_PRELOAD"} "$ITEST/forkthread" >/dev/null 2>&1
		echo $? >"$_f"
	fi
	[ "$(cat "$_f")" = 0 ]
}
# worker_in_child CONF: CONF (a profile's keys and the configuration) starts
# madvisor's worker again in a fork child.
worker_in_child() {
	case $1 in *ptmodel:on* | *ptmodel:true* | *sweep:on* | *sweep:true* | *live_* | *adaptive:on* | *adaptive:true*) return 0 ;; esac
	return 1
}

# alone_says PROFILE CONF: what one process (the hello program) prints on
# stderr under PROFILE plus CONF with this kernel: nothing, or the line saying
# why a feature asked for stays off here (the sweep without PT_RECLAIM or
# userfaultfd, say). A test expecting silence expects at most this.
alone_says() {
	env LD_PRELOAD="$(preload_for glibc)" MADVISOR_PROFILE="$1" MADVISOR_PROFILE_DIR="$top_srcdir/configs" \
		MADVISOR_CONF="$2" "$ITEST/hello" 2>&1 >/dev/null
}

# ---- allocators -----------------------------------------------------------
# Names: glibc (no allocator preloaded), jemalloc, tcmalloc, tcmalloc_minimal, mimalloc.
ALLOCATORS="glibc jemalloc tcmalloc tcmalloc_minimal mimalloc"
# A sanitizer build (SAN_PRELOAD set) brings its own malloc, so no allocator
# can sit behind madvisor, and the sanitizer runtime's own calls reach
# madvisor's wrappers: only glibc is run, and rows shared with the runtime
# are compared as lower bounds.
[ -n "$SAN_PRELOAD" ] && ALLOCATORS=glibc
# Programs run under the preloaded sanitizer runtime (sh, python3) leak by
# design at exit; libmadvisor.so never mallocs, so a leak report there cannot
# be madvisor's. Unit tests, linked with the runtime, keep leak detection.
if [ -n "$SAN_PRELOAD" ]; then
	ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export ASAN_OPTIONS
fi
# tsan_build: true in a ThreadSanitizer build, whose mmap/munmap interceptors
# act on the arguments themselves (bad inputs abort inside the runtime) and
# which cannot run with madvisor loaded ahead of its runtime.
tsan_build() { case ${SAN_PRELOAD##*/} in *tsan*) return 0 ;; *) return 1 ;; esac; }
# exact_rows ALLOC: "all-exact" when nothing but the program can make calls
# madvisor sees (glibc's own calls are invisible), for compare_counts.
exact_rows() { if [ "$1" = glibc ] && [ -z "$SAN_PRELOAD" ]; then echo all-exact; fi; }
# alloc_so ALLOC: the allocator's shared object (tests/env.sh, from configure).
# have_alloc NAME: NAME can sit behind madvisor here (installed, and not in a
# sanitizer build, whose runtime's malloc comes first: ALLOCATORS).
have_alloc() {
	case " $ALLOCATORS " in *" $1 "*) ;; *) return 1 ;; esac
	[ "$1" = glibc ] || [ -n "$(alloc_so "$1")" ]
}
# The LD_PRELOAD value: madvisor first, the allocator behind it. In a
# sanitizer build (configure --enable-asan/--enable-tsan) the sanitizer
# runtime has to come before both.
preload_for() {
	_so=$(alloc_so "$1") || bail "unknown allocator $1"
	echo "${SAN_PRELOAD:+$SAN_PRELOAD:}$MV_LIB${_so:+:$_so}"
}
# The same without madvisor.
plain_preload_for() {
	_so=$(alloc_so "$1") || bail "unknown allocator $1"
	echo "${SAN_PRELOAD:+$SAN_PRELOAD${_so:+:}}$_so"
}

# mv_run ALLOC [VAR=value...] PROGRAM [ARGS...]
# Runs PROGRAM with madvisor preloaded in front of ALLOC (only the program:
# env(1) sets LD_PRELOAD for the exec). Extra VAR=value go to the program.
mv_run() { _a=$1; shift; env LD_PRELOAD="$(preload_for "$_a")" "$@"; }
# plain_run ALLOC [VAR=value...] PROGRAM [ARGS...]: the same without madvisor.
plain_run() { _a=$1; shift; env LD_PRELOAD="$(plain_preload_for "$_a")" "$@"; }

# ---- stats JSON -------------------------------------------------------------
# json_get FILE DOTTED.PATH: print the value (JSON text for objects), or
# MISSING. Array elements by index: calls.0.kind.
json_get() {
	"$PYTHON3" - "$1" "$2" <<'EOF'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split('.'):
        v = v[int(k)] if isinstance(v, list) else v[k]
except Exception:
    print("MISSING"); sys.exit(0)
if isinstance(v, bool): print("true" if v else "false")
elif isinstance(v, (dict, list)): print(json.dumps(v, sort_keys=True))
else: print(v)
EOF
}

# json_row FILE KIND DETAIL FIELD: a field of one "calls" row; 0 when the row
# is absent (rows with no calls are left out). DETAIL "-" means "".
json_row() {
	"$PYTHON3" - "$@" <<'EOF'
import json, sys
f, kind, detail, field = sys.argv[1:5]
detail = "" if detail == "-" else detail
rows = [r for r in json.load(open(f))["calls"] if r["kind"] == kind and r["detail"] == detail]
print(sum(r[field] for r in rows))
EOF
}

# stats_field FILE OBJECT KEY: a flat field of the first OBJECT object of a
# stats JSON file ("" when the file or the field is missing). Cheap enough to
# poll a live file (which is replaced atomically: never read half written).
stats_field() {
	sed -n "s/.*\"$2\":{//p" "$1" 2>/dev/null |
		grep -o "\"$3\":[^,}]*" | head -n 1 | sed 's/^[^:]*://; s/"//g'
}
# wait_until PID WHAT COMMAND...: poll COMMAND until it succeeds; give up,
# saying so, when process PID has exited or after 3000 polls (over two
# minutes). Tests wait on events with it, never on time.
wait_until() {
	_wpid=$1 _what=$2
	shift 2
	_i=0
	until "$@"; do
		if ! kill -0 "$_wpid" 2>/dev/null || [ $_i -ge 3000 ]; then
			diag "gave up waiting: $_what"
			return 1
		fi
		sleep 0.04
		_i=$((_i + 1))
	done
}

# json_valid FILE: exit 0 when FILE parses as JSON.
json_valid() { "$PYTHON3" -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

# compare_count_rows COUNTS_FILE JSON_FILE LABEL [all-exact]
# COUNTS_FILE holds the program's "count KIND DETAIL CALLS ERRORS BYTES exact|min"
# lines. One "PASS|FAIL LABEL: ..." line per row in $TMPD/.cmp: exact rows must
# match calls, errors and bytes; "min" rows (shared with the allocator) must
# be at least the program's numbers. With all-exact (no allocator in the
# process) every row is exact.
compare_count_rows() {
	"$PYTHON3" - "$@" >"$TMPD/.cmp" <<'EOF'
import json, sys
counts, jf, label = sys.argv[1:4]
all_exact = len(sys.argv) > 4 and sys.argv[4] == "all-exact"
try:
    doc = json.load(open(jf))
except Exception as e:
    print("FAIL %s: stats JSON unreadable (%s)" % (label, e)); sys.exit(0)
rows = {}
for r in doc.get("calls", []):
    k = (r["kind"], r["detail"])
    a = rows.setdefault(k, [0, 0, 0])
    a[0] += r["calls"]; a[1] += r["errors"]; a[2] += r["bytes"]
for line in open(counts):
    w = line.split()
    if len(w) != 7 or w[0] != "count":
        continue
    kind, detail = w[1], "" if w[2] == "-" else w[2]
    want = [int(x) for x in w[3:6]]
    exact = all_exact or w[6] == "exact"
    got = rows.get((kind, detail), [0, 0, 0])
    name = "%s %s%s" % (kind, detail + " " if detail else "", "calls/errors/bytes")
    if exact:
        good = got == want
        rel = "=="
    else:
        good = all(g >= x for g, x in zip(got, want))
        rel = ">="
    print("%s %s: %s: JSON %s %s program %s" % ("PASS" if good else "FAIL", label, name,
          "/".join(map(str, got)), rel, "/".join(map(str, want))))
EOF
}

# compare_counts COUNTS_FILE JSON_FILE LABEL [all-exact]: the rows as TAP lines.
compare_counts() {
	compare_count_rows "$@"
	_n0=$tap_n
	tap_from "$TMPD/.cmp"
	[ "$tap_n" -gt "$_n0" ] || not_ok "$3: no count lines to compare"
}

# ---- programs that count their own calls ----------------------------------
# run_counted ALLOC PROGRAM [ARGS...]: run PROGRAM behind madvisor and ALLOC
# with stats_file:$TMPD/s-%p.json, under a 60 s timeout (a hang is a
# deadlock). Output in $TMPD/out, stderr in $TMPD/err, status in run_rc.
run_counted() {
	_a=$1
	shift
	rm -f "$TMPD"/s-*.json
	timeout 60 env LD_PRELOAD="$(preload_for "$_a")" MADVISOR_CONF="stats_file:$TMPD/s-%p.json" \
		"$@" >"$TMPD/out" 2>"$TMPD/err"
	run_rc=$?
}

# check_counted LABEL ALLOC [PREFIX]: after run_counted, check the status and
# compare the lines "PREFIXcount ..." with the stats file of the process that
# printed "PREFIXpid N". With glibc every row must be exact (exact_rows).
check_counted() {
	_l=$1 _a=$2 _p=${3:-}
	case $run_rc in
	0) ok "$_l: exits 0" ;;
	124) not_ok "$_l: still running after 60 s (deadlock?)" ;;
	*) not_ok "$_l: exit status $run_rc"; diag "$(tail -5 "$TMPD/err")" ;;
	esac
	_pid=$(sed -n "s/^${_p}pid //p" "$TMPD/out")
	if [ -z "$_pid" ] || ! json_valid "$TMPD/s-$_pid.json"; then
		not_ok "$_l: stats file for pid ${_pid:-?} written and valid"
		return
	fi
	sed -n "s/^${_p}count /count /p" "$TMPD/out" >"$TMPD/counts"
	compare_counts "$TMPD/counts" "$TMPD/s-$_pid.json" "$_l" "$(exact_rows "$_a")"
}
