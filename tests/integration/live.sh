#!/bin/sh
# live.sh - stats readable while the program runs: live_file (JSON) and
# live_prom_file (Prometheus text) rewritten every live_interval_ms and on
# live_signal, replaced atomically; no signal handler unless asked for.
. "$top_srcdir/tests/lib.sh"
require_lib

# start CONF SECONDS: `phases` in the background with CONF; waits for "ready".
start() {
	rm -f "$TMPD/out" "$TMPD/stop"
	env LD_PRELOAD="$(preload_for glibc)" MADVISOR_CONF="$1" "$ITEST/phases" 8 "$2" "$TMPD/stop" \
		>"$TMPD/out" 2>"$TMPD/err" &
	pid=$!
	_i=0
	while ! grep -q ready "$TMPD/out" 2>/dev/null && [ $_i -lt 500 ]; do sleep 0.02; _i=$((_i + 1)); done
}
finish() { touch "$TMPD/stop"; wait $pid; rc=$?; }
# wait_for FILE: up to 15 s (a loaded machine, a sanitizer build).
wait_for() { _i=0; while [ ! -s "$1" ] && [ $_i -lt 750 ]; do sleep 0.02; _i=$((_i + 1)); done; [ -s "$1" ]; }

mkdir -p "$TMPD/live"
start "live_file:$TMPD/live/s-%p.json,live_prom_file:$TMPD/live/m-%p.prom,live_interval_ms:100" 20
check "live_file appears (%p expanded)" wait_for "$TMPD/live/s-$pid.json"
check "live_prom_file appears" wait_for "$TMPD/live/m-$pid.prom"
check_eq "live JSON is valid and names the process" "$pid" "$(json_get "$TMPD/live/s-$pid.json" pid)"
e1=$(json_get "$TMPD/live/s-$pid.json" elapsed_ns)
sleep 0.5
e2=$(json_get "$TMPD/live/s-$pid.json" elapsed_ns)
check "the live file is rewritten ($e1 -> $e2 ns)" [ "$e2" -gt "$e1" ]
"$PYTHON3" - "$TMPD/live/m-$pid.prom" "$pid" >"$TMPD/prom" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
pid = sys.argv[2]
line = re.compile(r'^[a-z_][a-z0-9_]*\{pid="%s"(,[a-z_]+="([^"\\]|\\.)*")*\} -?[0-9.]+(e[-+]?[0-9]+)?$' % pid)
bad = [l for l in text.splitlines() if not l.startswith("# HELP ") and not l.startswith("# TYPE ") and not line.match(l)]
print("PASS Prometheus lines are comments or samples" if not bad else "FAIL bad Prometheus lines: %r" % bad[:3])
types = re.findall(r'^# TYPE (\S+) (\S+)$', text, re.M)
names = [t[0] for t in types]
print("PASS each metric family typed once" if len(names) == len(set(names)) and names else "FAIL TYPE lines %r" % names)
print("PASS counters end in _total" if all(n.endswith("_total") for n, t in types if t == "counter") else "FAIL counter names")
print("PASS the process's RSS is exported" if re.search(r'^madvisor_process_bytes\{pid="%s",field="vm_rss"\} [1-9]' % pid, text, re.M) else "FAIL no vm_rss sample")
PY
tap_from "$TMPD/prom"
finish
check_eq "program exits 0" 0 "$rc"
check_eq "no temporary files left" "" "$(ls -A "$TMPD/live" | grep tmp)"

# a forked child writes its own file
rm -rf "$TMPD/live"; mkdir -p "$TMPD/live"
rm -f "$TMPD/out" "$TMPD/stop"
mv_run glibc MADVISOR_CONF="live_file:$TMPD/live/f-%p.json,live_interval_ms:100" "$ITEST/phases" 8 20 "$TMPD/stop" fork \
	>"$TMPD/out" 2>"$TMPD/err" &
pid=$!
# Both "ready" lines, up to 60 s (a loaded machine, a sanitizer build); if
# not, what each process of the program is doing.
_until=$(($(date +%s) + 60))
while [ "$(grep -c ready "$TMPD/out" 2>/dev/null)" -lt 2 ] && [ "$(date +%s)" -lt "$_until" ]; do sleep 0.02; done
cpid=$(sed -n 's/^child pid //p' "$TMPD/out")
if [ -z "$cpid" ]; then
	diag "after 60 s the program printed: $(tr '\n' '|' <"$TMPD/out"), stderr: $(head -c 500 "$TMPD/err")"
	for _p in $pid $(cat /proc/$pid/task/*/children 2>/dev/null); do
		for _task in /proc/$_p/task/*; do
			diag "process $_p thread ${_task##*/}: $(cut -d' ' -f3 "$_task/stat" 2>/dev/null) $(cat "$_task/wchan" 2>/dev/null) $(tr '\n' ' ' <"$_task/syscall" 2>/dev/null)"
		done
	done
fi
check "the forked child ($cpid) writes its own live file" wait_for "$TMPD/live/f-$cpid.json"
check_eq "and it is about the child" "$cpid" "$(json_get "$TMPD/live/f-$cpid.json" pid)"
finish
check_eq "parent and child exit 0" 0 "$rc"

# the signal: files written at once, also with no interval
rm -rf "$TMPD/live"; mkdir -p "$TMPD/live"
start "live_file:$TMPD/live/s.json,live_signal:SIGUSR2,live_interval_ms:0" 20
check "written at start" wait_for "$TMPD/live/s.json"
rm -f "$TMPD/live/s.json"
sleep 0.3
check "not rewritten without the signal" [ ! -e "$TMPD/live/s.json" ]
kill -USR2 $pid
check "SIGUSR2 makes the worker write it" wait_for "$TMPD/live/s.json"
finish
check_eq "the program survives the signal and exits 0" 0 "$rc"

# the signal without files: the table on stderr
start "live_signal:SIGUSR1" 20
kill -USR1 $pid
_i=0; while ! grep -q "madvisor: stats for pid $pid" "$TMPD/err" && [ $_i -lt 750 ]; do sleep 0.02; _i=$((_i + 1)); done
check "SIGUSR1 prints the table on stderr" grep -q "madvisor: stats for pid $pid" "$TMPD/err"
finish
check_eq "and the program runs on" 0 "$rc"

# not asked for: no handler, the signal keeps its default action
start "stats:false" 20
kill -USR2 $pid
wait $pid
check_eq "without live_signal SIGUSR2 is not caught (killed: 128+12)" 140 "$?"

# an unwritable place: one line, the program runs on
start "live_file:/nonexistent/dir/s.json,live_interval_ms:50" 0.5
wait $pid
rc=$?
check_eq "unwritable live_file: program exits 0" 0 "$rc"
check_eq "unwritable live_file: said once" 1 "$(grep -c "live_file '/nonexistent/dir/s.json': cannot be written" "$TMPD/err")"
done_testing
