#!/bin/sh
# redis.sh - a real server: Debian's redis-server (linked with jemalloc)
# driven by redis-benchmark through fill, delete 90%, FLUSHALL and idle.
#
#   redis.sh [--keys N] [--clients C] [--idle S] [--no-flush] [--phases FILE] -- PREFIX...
#
# Starts `PREFIX... redis-server ...` in the background (PREFIX is how the
# caller wants the server run: e.g. bench/monitor ... -- env LD_PRELOAD=...),
# bound to 127.0.0.1 only on a random free port, without persistence. The
# client tools run without the caller's LD_PRELOAD. Phases:
#   fill    N requests of an EVAL that SETs key:<i> for i = 1..N (a counter
#           in the server), values of 64..4096 bytes chosen from i
#   delete  N requests of an EVAL that DELs key:<i> unless i is a multiple
#           of 10: exactly 90% of the keys go
#   flush   FLUSHALL (synchronous); left out with --no-flush (the 10% of the
#           keys stay for the idle phase)
#   idle    S seconds without requests (jemalloc's decay runs meanwhile)
# Every phase is bounded: fixed request counts, each tool under `timeout`.
# The server is always shut down (trap), SIGTERM via PREFIX if it hangs.
# With 2+ CPUs and taskset, the server runs on CPU 0 and the clients on CPU 1.
#
# Output, one line on stdout (keys_* are exact):
#   redis: keys=N clients=C fill_ops_per_sec= fill_p50_ms= fill_p99_ms=
#     delete_ops_per_sec= delete_p50_ms= delete_p99_ms= flush_ms=
#     keys_after_fill= keys_after_delete= keys_after_flush=
#     rss_kb_<phase>= pte_kb_<phase>=  (VmRSS / VmPTE of the server at the
#     end of each phase)
# --phases FILE gets "phase,start_realtime_ns" lines. Exit 0 on success.
set -u
keys=50000 clients=20 idle=5 phases= flush=1
while [ $# -gt 0 ]; do
	case $1 in
	--keys) keys=$2; shift 2 ;;
	--clients) clients=$2; shift 2 ;;
	--idle) idle=$2; shift 2 ;;
	--phases) phases=$2; shift 2 ;;
	--no-flush) flush=0; shift ;;
	--) shift; break ;;
	*) echo "usage: redis.sh [--keys N] [--clients C] [--idle S] [--no-flush] [--phases FILE] -- PREFIX..." >&2; exit 2 ;;
	esac
done
unset LD_PRELOAD MADVISOR_CONF MADVISOR_PROFILE MADVISOR_CONFIG
for t in redis-server redis-cli redis-benchmark timeout; do
	command -v "$t" >/dev/null 2>&1 || { echo "redis.sh: $t not found (run bench/setup)" >&2; exit 2; }
done
# With two CPUs or more, server and clients get one each: much less noise
# than letting the scheduler move them onto the same CPU now and then.
pin_server= pin_client=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	pin_server="taskset -c 1" pin_client="taskset -c 1"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/madvisor-redis.XXXXXX") || exit 1
srv= port=

# A port nobody listens on (TCP, v4 and v6), picked at random in 20000-59999.
free_port() {
	awk -v seed="$$$(date +%N)" '
	FNR > 1 { split($2, a, ":"); used[a[2]] = 1 }
	END {
		srand(seed % 1000000007)
		for (k = 0; k < 200; k++) {
			p = 20000 + int(rand() * 40000)
			if (!(sprintf("%04X", p) in used)) { print p; exit }
		}
	}' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

cli() {
	timeout 30 redis-cli -h 127.0.0.1 -p "$port" "$@"
}

cleanup() {
	if [ -n "$srv" ] && kill -0 "$srv" 2>/dev/null; then
		cli shutdown nosave >/dev/null 2>&1
		i=0
		while kill -0 "$srv" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -TERM "$srv" 2>/dev/null
		wait "$srv" 2>/dev/null
	fi
	srv=
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start the server; retry on another port if it could not bind.
tries=0
while :; do
	tries=$((tries + 1))
	port=$(free_port)
	[ -n "$port" ] || { echo "redis.sh: no free port found" >&2; exit 1; }
	"$@" $pin_server redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes --save '' --appendonly no \
		--daemonize no --dir "$work" --logfile "$work/redis.log" --unixsocket '' &
	srv=$!
	i=0
	while [ $i -lt 100 ] && kill -0 "$srv" 2>/dev/null; do
		[ "$(cli ping 2>/dev/null)" = PONG ] && break
		sleep 0.05
		i=$((i + 1))
	done
	[ "$(cli ping 2>/dev/null)" = PONG ] && break
	kill -TERM "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	srv=
	if [ $tries -ge 5 ]; then
		echo "redis.sh: redis-server did not start; its log ends with:" >&2
		tail -n 5 "$work/redis.log" >&2 2>/dev/null
		exit 1
	fi
done
pid=$(cli info server | awk -F: '/^process_id:/ { sub(/\r/, "", $2); print $2 }')

mark() {
	[ -z "$phases" ] || echo "$1,$(date +%s%N)" >>"$phases"
}

# memory PHASE: VmRSS and VmPTE of the server now, as key=value words.
memory() {
	awk -v ph="$1" '/^VmRSS:/ { r = $2 } /^VmPTE:/ { p = $2 }
		END { printf " rss_kb_%s=%s pte_kb_%s=%s", ph, r, ph, p }' "/proc/$pid/status"
}

# bench PHASE SCRIPT: N EVALs of SCRIPT; prints PHASE_ops_per_sec/_p50_ms/_p99_ms.
bench() {
	timeout 300 $pin_client redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$keys" --csv EVAL "$2" 0 \
		>"$work/$1.csv" 2>"$work/$1.err" || { cat "$work/$1.err" >&2; exit 1; }
	# The test name (first column) holds commas; the 7 numbers are the last fields:
	# rps, avg, min, p50, p95, p99, max latency.
	awk -F, -v ph="$1" '
	NR > 1 && NF >= 8 {
		gsub(/"/, "")
		printf " %s_ops_per_sec=%s %s_p50_ms=%s %s_p99_ms=%s", ph, $(NF - 6), ph, $(NF - 3), ph, $(NF - 1)
	}' "$work/$1.csv"
}

fill="local i = redis.call('INCR', 'seq:fill') local n = 64 + (i * 2654435761) % 4033 redis.call('SET', 'key:' .. i, string.rep('x', n)) return i"
delete="local i = redis.call('INCR', 'seq:delete') if i % 10 ~= 0 then redis.call('DEL', 'key:' .. i) end return i"

line="redis: keys=$keys clients=$clients"
mark fill
line="$line$(bench fill "$fill")" || exit 1
line="$line$(memory fill)"
line="$line keys_after_fill=$(cli dbsize)"
mark delete
line="$line$(bench delete "$delete")" || exit 1
line="$line$(memory delete)"
line="$line keys_after_delete=$(cli dbsize)"
if [ "$flush" = 1 ]; then
	mark flush
	t0=$(date +%s%N)
	cli flushall >/dev/null
	t1=$(date +%s%N)
	line="$line flush_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')$(memory flush)"
	line="$line keys_after_flush=$(cli dbsize)"
fi
mark idle
sleep "$idle"
line="$line idle_s=$idle$(memory idle)"
mark end
echo "$line"
cli shutdown nosave >/dev/null 2>&1
i=0
while kill -0 "$srv" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
wait "$srv"
rc=$?
srv=
[ "$rc" -eq 0 ] || echo "redis.sh: the server exited with status $rc" >&2
exit "$rc"
