#!/bin/sh
# static.sh - an allocator linked into the program: Debian's
# libjemalloc_pic.a and libtcmalloc_minimal.a, and a jemalloc whose API is
# prefixed je_ (malloc stays glibc's). Found in the program's .symtab, the
# report says where and how, its keys apply and read back, the adaptive
# controller purges through it under (injected) memory pressure. A stripped
# program is said once, and runs.
. "$top_srcdir/tests/lib.sh"
require_lib
[ -n "$SAN_PRELOAD" ] && { skip "a sanitizer runtime provides malloc: no allocator behind madvisor"; done_testing; }

live_ge() { _v=$(stats_field "$TMPD/live.json" adaptive "$1"); [ -n "$_v" ] && [ "$_v" -ge "$2" ]; }
said() { grep -q "^$1" "$TMPD/out"; }
get() { json_get "$TMPD/s.json" "$1"; }
knob() { "$PYTHON3" -c 'import json,sys; k=json.load(open(sys.argv[1]))["allocator_api"]["knobs"][sys.argv[2]]; print(k["value"], k["applied"])' "$TMPD/s.json" "$1"; }

psi() { printf 'some avg10=%s avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n' "$1" >"$TMPD/psi.tmp" && mv "$TMPD/psi.tmp" "$TMPD/psi"; }
mkdir -p "$TMPD/nocg"
ADAPTIVE="adaptive:true,adaptive.eager:false,adaptive.pressure_file:$TMPD/psi,adaptive.cgroup_dir:$TMPD/nocg"

# static_run PROGRAM CONF [nopurge]: burst (2 threads that stay, 64 MiB) with madvisor alone in
# LD_PRELOAD and CONF. Once the program is quiet, memory pressure rises (an
# injected PSI file) and the run stops when the controller has purged (at
# once with "nopurge"). Sets rc; stats in s.json, the table in
# t.txt, stderr in err.
static_run() {
	rm -f "$TMPD/out" "$TMPD/live.json" "$TMPD/s.json" "$TMPD/t.txt" "$TMPD/burst" "$TMPD/stop"
	psi 0.00
	env LD_PRELOAD="$MV_LIB" \
		MADVISOR_CONF="stats_file:$TMPD/s.json,stats:true,stats_text_file:$TMPD/t.txt,live_file:$TMPD/live.json,live_interval_ms:20${2:+,$2}" \
		"$1" 2 64 "$TMPD" stay >"$TMPD/out" 2>"$TMPD/err" &
	_pid=$!
	wait_until $_pid "busy" said busy
	: >"$TMPD/burst"
	if wait_until $_pid "quiet" said quiet; then
		psi 50.00
		[ -z "${3:-}" ] && wait_until $_pid "a purge" live_ge purges 1
	fi
	: >"$TMPD/stop"
	wait $_pid
	rc=$?
}

for v in static_je:jemalloc: static_tc:tcmalloc: prefixed_je:jemalloc:je_; do
	name=burst_${v%%:*} rest=${v#*:}
	alloc=${rest%%:*} prefix=${rest#*:}
	prog="$ITEST/$name"
	if [ ! -x "$prog" ]; then
		skip "$name: no static archive found by configure"
		continue
	fi
	case $alloc in
	jemalloc) keys="jemalloc.dirty_decay_ms:4321,jemalloc.muzzy_decay_ms:321" ;;
	*) keys="tcmalloc.aggressive_decommit:false,tcmalloc.release_rate:7" ;;
	esac
	static_run "$prog" "$ADAPTIVE,$keys"
	check_eq "$name: exits 0, kept blocks intact" "0 kept_ok 1" "$rc $(grep '^kept_' "$TMPD/out")"
	check_eq "$name: allocator $alloc found in the program's .symtab${prefix:+, prefix $prefix}" \
		"$alloc symtab true $prog [$prefix]" \
		"$(get allocator.name) $(get allocator.found_by) $(get allocator.in_executable) $(get allocator.library) [$(get allocator.prefix)]"
	check "$name: the table says where and how" grep -q "allocator $alloc ($prog, found in its .symtab" "$TMPD/t.txt"
	check_eq "$name: the allocator's API is bound" true "$(get allocator_api.available)"
	case $alloc in
	jemalloc)
		check_eq "$name: jemalloc.dirty_decay_ms applied and read back" "4321 True" "$(knob jemalloc.dirty_decay_ms)"
		check_eq "$name: jemalloc.muzzy_decay_ms applied and read back" "321 True" "$(knob jemalloc.muzzy_decay_ms)" ;;
	*)
		# set from madvisor's thread once the program's constructors have registered tcmalloc's extension
		check_eq "$name: tcmalloc.aggressive_decommit applied and read back" "0 True" "$(knob tcmalloc.aggressive_decommit)"
		check_eq "$name: tcmalloc.release_rate applied and read back" "7 True" "$(knob tcmalloc.release_rate)" ;;
	esac
	n=$(get adaptive.purges)
	check "$name: the controller purged through the allocator's API ($n)" [ "${n:-0}" -ge 1 ]
	check_eq "$name: every purge counted by the API" "$n" "$(get allocator_api.purges)"
	b=$(get adaptive.purged_bytes)
	check "$name: the purges gave back resident memory ($b bytes)" [ "${b:-0}" -ge 1048576 ]
	check_eq "$name: nothing refused" "" "$(grep '^madvisor' "$TMPD/err")"
done

# The allocator dynamic, for comparison: exported symbols of its library.
if have_alloc jemalloc; then
	rm -f "$TMPD/s.json"
	mv_run jemalloc MADVISOR_CONF="stats_file:$TMPD/s.json" "$ITEST/hello" >/dev/null 2>&1
	check_eq "libjemalloc.so preloaded: found by its exported symbols" "jemalloc exported false" \
		"$(get allocator.name) $(get allocator.found_by) $(get allocator.in_executable)"
fi

# Stripped: nothing to find. Said once when something needs the allocator.
if [ -x "$ITEST/burst_static_je" ] && command -v strip >/dev/null 2>&1; then
	strip -o "$TMPD/stripped" "$ITEST/burst_static_je"
	static_run "$TMPD/stripped" "$ADAPTIVE" nopurge
	check_eq "stripped: exits 0, kept blocks intact" "0 kept_ok 1" "$rc $(grep '^kept_' "$TMPD/out")"
	check_eq "stripped: reported as another allocator, stripped" "other true" "$(get allocator.name) $(get allocator.stripped)"
	check_eq "stripped: said once, in one line" "1 1" "$(grep -c '^madvisor' "$TMPD/err") $(grep -c 'malloc is linked into the program, which is stripped' "$TMPD/err")"
	rm -f "$TMPD/burst" "$TMPD/stop"
	: >"$TMPD/burst"
	: >"$TMPD/stop"
	env LD_PRELOAD="$MV_LIB" "$TMPD/stripped" 1 1 "$TMPD" >/dev/null 2>"$TMPD/err"
	check_eq "stripped, nothing asks for the allocator: runs, nothing said" "0 " "$? $(cat "$TMPD/err")"
else
	skip "stripped: no burst_static_je or no strip"
fi
done_testing
