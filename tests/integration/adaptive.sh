#!/bin/sh
# adaptive.sh - the adaptive controller behind the real allocators: quiet
# without memory pressure, allocator-wide purges when pressure rises (an
# injected PSI file, a fake cgroup directory, a target RSS), relaxed again
# after the pressure ends.
. "$top_srcdir/tests/lib.sh"
require_lib
[ -n "$SAN_PRELOAD" ] && { skip "a sanitizer runtime provides malloc: no allocator behind madvisor"; done_testing; }

psi() { printf 'some avg10=%s avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n' "$1" >"$TMPD/psi.tmp" && mv "$TMPD/psi.tmp" "$TMPD/psi"; }
mkdir -p "$TMPD/nocg"   # an empty cgroup directory: no cgroup signal

# phase_run ALLOC CONF MIB SECONDS [AFTER_READY...]: run `phases` with the
# controller on, the injected PSI file and CONF; once it says "ready", run
# the AFTER_READY command (a function name), if any. Stats in $TMPD/a.json.
phase_run() {
	_a=$1 _c=$2 _mib=$3 _s=$4 _after=${5:-}
	rm -f "$TMPD/a.json" "$TMPD/out"
	env LD_PRELOAD="$(preload_for "$_a")" \
		MADVISOR_CONF="stats_file:$TMPD/a.json,adaptive:true,adaptive.pressure_file:$TMPD/psi,adaptive.cgroup_dir:$TMPD/nocg,$_c" \
		"$ITEST/phases" "$_mib" "$_s" >"$TMPD/out" 2>"$TMPD/err" &
	_pid=$!
	_i=0
	while ! grep -q ready "$TMPD/out" 2>/dev/null && [ $_i -lt 500 ]; do sleep 0.02; _i=$((_i + 1)); done
	[ -n "$_after" ] && $_after
	wait $_pid
	rc=$?
}
get() { json_get "$TMPD/a.json" "$1"; }
pressure_on() { sleep 0.3; psi 50.00; }
pressure_on_off() { sleep 0.3; psi 50.00; sleep 0.5; psi 0.00; }

for a in jemalloc tcmalloc tcmalloc_minimal mimalloc glibc; do
	if ! have_alloc $a; then
		skip "$a: not found by configure"
		continue
	fi
	# quiet: no pressure, nothing purged by madvisor
	psi 0.00
	phase_run $a "" 64 1.2
	check_eq "$a: runs (quiet)" 0 "$rc"
	check_eq "$a: no pressure: no episode" 0 "$(get adaptive.episodes)"
	check_eq "$a: no pressure: no purge" "0 0" "$(get adaptive.purges) $(get allocator_api.purges)"
	check "$a: no pressure: the controller kept reading" [ "$(get adaptive.steps)" -ge 3 ]
	# pressure rises after the allocator holds free memory
	psi 0.00
	phase_run $a "" 64 1.5 pressure_on
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
	phase_run $a "" 16 1.0 pressure_on
	check_eq "$a: under pressure: eager setting on ($k)" "true $([ $a = mimalloc ] && echo 0 || echo 1)" \
		"$(get adaptive.eager) $("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["allocator_api"]["knobs"][sys.argv[2]]["value"])' "$TMPD/a.json" $k)"
	psi 0.00
	phase_run $a "" 16 1.0
	before=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["allocator_api"]["knobs"][sys.argv[2]]["value"])' "$TMPD/a.json" $k)
	phase_run $a "adaptive.hold_ms:100" 16 1.6 pressure_on_off
	check_eq "$a: pressure gone: $k restored" "false $before" \
		"$(get adaptive.eager) $("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["allocator_api"]["knobs"][sys.argv[2]]["value"])' "$TMPD/a.json" $k)"
	phase_run $a "adaptive.eager:false" 16 1.0 pressure_on
	check_eq "$a: adaptive.eager:false leaves $k alone" "false $before" \
		"$(get adaptive.eager) $("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["allocator_api"]["knobs"][sys.argv[2]]["value"])' "$TMPD/a.json" $k)"
done

if have_alloc jemalloc; then
	# hysteresis: pressure on, then off: purging stops after hold_ms
	psi 0.00
	phase_run jemalloc "adaptive.hold_ms:200" 64 1.8 pressure_on_off
	check_eq "jemalloc: pressure gone: relaxed again at exit" "relaxed 1" "$(get adaptive.state) $(get adaptive.episodes)"
	# target RSS, no pressure
	psi 0.00
	phase_run jemalloc "adaptive.target_rss:16m" 64 1.0
	check_eq "jemalloc: RSS above target_rss: reason" target_rss "$(get adaptive.reason)"
	rss=$(sed -n 's/^rss_kb //p' "$TMPD/out")
	check "jemalloc: RSS brought down under 32 MiB ($rss kB) after freeing 64 MiB" [ "${rss:-999999}" -lt 32768 ]
	# a fake cgroup v2 directory near memory.high
	mkdir -p "$TMPD/cg"
	echo 960 >"$TMPD/cg/memory.current"
	echo 1000 >"$TMPD/cg/memory.high"
	echo max >"$TMPD/cg/memory.max"
	printf 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n' >"$TMPD/cg/memory.events"
	phase_run jemalloc "adaptive.cgroup_dir:$TMPD/cg" 32 0.8
	check_eq "jemalloc: cgroup at 96% of memory.high: reason" "cgroup_high" "$(get adaptive.reason)"
	check_eq "jemalloc: the cgroup directory is reported" "2 960" "$(get adaptive.cgroup.version) $(get adaptive.cgroup.current)"
	echo 100 >"$TMPD/cg/memory.current"
	breach() { sleep 0.3; printf 'low 0\nhigh 1\nmax 0\noom 0\noom_kill 0\n' >"$TMPD/cg/memory.events"; }
	phase_run jemalloc "adaptive.cgroup_dir:$TMPD/cg" 32 1.2 breach
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
