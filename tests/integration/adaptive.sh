#!/bin/sh
# adaptive.sh - the adaptive controller behind the real allocators: quiet
# without memory pressure, allocator-wide purges when pressure rises (an
# injected PSI file, a fake cgroup directory, a target RSS), relaxed again
# after the pressure ends.
#
# Every run waits on events, never on time: `phases` holds until a stop file
# appears, and each scenario steps on when the controller's live file (the
# stats JSON, rewritten every 20 ms) shows what it waits for. A loaded
# machine makes a run longer, not different.
. "$top_srcdir/tests/lib.sh"
require_lib
[ -n "$SAN_PRELOAD" ] && { skip "a sanitizer runtime provides malloc: no allocator behind madvisor"; done_testing; }

psi() { printf 'some avg10=%s avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n' "$1" >"$TMPD/psi.tmp" && mv "$TMPD/psi.tmp" "$TMPD/psi"; }
mkdir -p "$TMPD/nocg"   # an empty cgroup directory: no cgroup signal

# live KEY: a field of the "adaptive" object in the live file ("" before the
# first write).
live() { stats_field "$TMPD/live.json" adaptive "$1"; }
# live_ge KEY N: the live file shows KEY >= N.
live_ge() { _v=$(live "$1"); [ -n "$_v" ] && [ "$_v" -ge "$2" ]; }
# live_is KEY VALUE
live_is() { [ "$(live "$1")" = "$2" ]; }
# Scenarios, run once the program is ready; each returns when the controller
# has done what the checks that follow look at.
steps3() { wait_until "$_pid" "three readings" live_ge steps 3; }
stepped_under_pressure() { wait_until "$_pid" "a purge under pressure" live_ge purges 1; }
pressure_on() { psi 50.00; stepped_under_pressure; }
episode() { wait_until "$_pid" "an episode" live_ge episodes 1; }
eager_on() { psi 50.00; episode; }
pressure_on_off() {
	psi 50.00
	episode
	psi 0.00
	wait_until "$_pid" "relaxed after the pressure" live_is state relaxed
}

# phase_run ALLOC CONF MIB SCENARIO: run `phases` with the controller on,
# the injected PSI file and CONF; once it says "ready", run SCENARIO (a
# function), then stop the program. Stats in $TMPD/a.json, exit status in rc.
phase_run() {
	_a=$1 _c=$2 _mib=$3 _after=$4
	rm -f "$TMPD/a.json" "$TMPD/out" "$TMPD/live.json" "$TMPD/stop"
	env LD_PRELOAD="$(preload_for "$_a")" \
		MADVISOR_CONF="stats_file:$TMPD/a.json,live_file:$TMPD/live.json,live_interval_ms:20,adaptive:true,adaptive.pressure_file:$TMPD/psi,adaptive.cgroup_dir:$TMPD/nocg,$_c" \
		"$ITEST/phases" "$_mib" 3600 "$TMPD/stop" >"$TMPD/out" 2>"$TMPD/err" &
	_pid=$!
	wait_until "$_pid" "the program is ready" grep -q ready "$TMPD/out" && $_after
	: >"$TMPD/stop"
	wait $_pid
	rc=$?
}
get() { json_get "$TMPD/a.json" "$1"; }
knob() { "$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["allocator_api"]["knobs"][sys.argv[2]]["value"])' "$TMPD/a.json" "$1"; }

for a in jemalloc tcmalloc tcmalloc_minimal mimalloc glibc; do
	if ! have_alloc $a; then
		skip "$a: not found by configure"
		continue
	fi
	# quiet: no pressure, nothing purged by madvisor
	psi 0.00
	phase_run $a "" 64 steps3
	check_eq "$a: runs (quiet)" 0 "$rc"
	check_eq "$a: no pressure: no episode" 0 "$(get adaptive.episodes)"
	check_eq "$a: no pressure: no purge" "0 0" "$(get adaptive.purges) $(get allocator_api.purges)"
	check "$a: no pressure: the controller kept reading" [ "$(get adaptive.steps)" -ge 3 ]
	# pressure rises after the allocator holds free memory
	psi 0.00
	phase_run $a "" 64 pressure_on
	check_eq "$a: runs (pressure)" 0 "$rc"
	check_eq "$a: pressure: one episode, reason psi" "1 psi" "$(get adaptive.episodes) $(get adaptive.reason)"
	n=$(get adaptive.purges)
	check "$a: pressure: allocator-wide purges ($n)" [ "$n" -ge 1 ]
	check_eq "$a: purges go through the allocator's API" "$n" "$(get allocator_api.purges)"
	case $a in
	jemalloc|tcmalloc*)
		b=$(get adaptive.purged_bytes)
		check "$a: the purge gave back resident memory ($b bytes)" [ "$b" -ge 1048576 ] ;;
	esac
done

for a in mimalloc tcmalloc; do
	have_alloc $a || continue
	case $a in mimalloc) k=mimalloc.purge_delay ;; *) k=tcmalloc.aggressive_decommit ;; esac
	# adaptive.eager: under pressure the allocator's eager setting, restored after
	psi 0.00
	phase_run $a "" 16 eager_on
	check_eq "$a: under pressure: eager setting on ($k)" "true $([ $a = mimalloc ] && echo 0 || echo 1)" \
		"$(get adaptive.eager) $(knob $k)"
	psi 0.00
	phase_run $a "" 16 steps3
	before=$(knob $k)
	phase_run $a "adaptive.hold_ms:100" 16 pressure_on_off
	check_eq "$a: pressure gone: $k restored" "false $before" "$(get adaptive.eager) $(knob $k)"
	phase_run $a "adaptive.eager:false" 16 eager_on
	check_eq "$a: adaptive.eager:false leaves $k alone" "false $before" "$(get adaptive.eager) $(knob $k)"
done

if have_alloc jemalloc; then
	# hysteresis: pressure on, then off: purging stops after hold_ms
	psi 0.00
	phase_run jemalloc "adaptive.hold_ms:200" 64 pressure_on_off
	check_eq "jemalloc: pressure gone: relaxed again at exit" "relaxed 1" "$(get adaptive.state) $(get adaptive.episodes)"
	# target RSS, no pressure
	psi 0.00
	phase_run jemalloc "adaptive.target_rss:16m" 64 stepped_under_pressure
	check_eq "jemalloc: RSS above target_rss: reason" target_rss "$(get adaptive.reason)"
	rss=$(sed -n 's/^rss_kb //p' "$TMPD/out")
	check "jemalloc: RSS brought down under 32 MiB ($rss kB) after freeing 64 MiB" [ "${rss:-999999}" -lt 32768 ]
	# a fake cgroup v2 directory near memory.high
	mkdir -p "$TMPD/cg"
	echo 960 >"$TMPD/cg/memory.current"
	echo 1000 >"$TMPD/cg/memory.high"
	echo max >"$TMPD/cg/memory.max"
	printf 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n' >"$TMPD/cg/memory.events"
	phase_run jemalloc "adaptive.cgroup_dir:$TMPD/cg" 32 episode
	check_eq "jemalloc: cgroup at 96% of memory.high: reason" "cgroup_high" "$(get adaptive.reason)"
	check_eq "jemalloc: the cgroup directory is reported" "2 960" "$(get adaptive.cgroup.version) $(get adaptive.cgroup.current)"
	echo 100 >"$TMPD/cg/memory.current"
	# a breach counts only against a reading taken before it
	breach() {
		wait_until "$_pid" "a reading before the breach" live_ge steps 1 || return
		printf 'low 0\nhigh 1\nmax 0\noom 0\noom_kill 0\n' >"$TMPD/cg/memory.events.tmp"
		mv "$TMPD/cg/memory.events.tmp" "$TMPD/cg/memory.events"
		episode
	}
	phase_run jemalloc "adaptive.cgroup_dir:$TMPD/cg" 32 breach
	check_eq "jemalloc: a new memory.high breach in memory.events: reason" "cgroup_high_events" "$(get adaptive.reason)"
	# The CPU budget is checked in tests/unit/test_adaptive with a fake clock:
	# here it would depend on how long purges take on a loaded machine.
fi

# A real cgroup v2 memory.high needs the v2 memory controller delegated here.
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	skip "cgroup v2 memory controller present, but the test does not move itself into a new cgroup"
else
	skip "no cgroup v2 memory controller (/sys/fs/cgroup/cgroup.controllers): memory.high tested with a fake directory only"
fi
done_testing
