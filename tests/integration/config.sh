#!/bin/sh
# config.sh - configuration through the environment, seen from a real
# program: a bad configuration costs one stderr line and nothing else (or
# exit status 2 before main with strict:true); stats go where they are asked
# to, with safe file handling.
. "$top_srcdir/tests/lib.sh"
require_lib
prog="$ITEST/hello"
hello="hello from main"

# run_hello ALLOC [VAR=value...]: output in $TMPD/out, $TMPD/err; status in rc.
run_hello() {
	_a=$1
	shift
	mv_run "$_a" "$@" "$prog" >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
}
err_lines() { wc -l <"$TMPD/err" | tr -d ' '; }
err_has() { grep -q -- "$1" "$TMPD/err"; }
out_has() { grep -q -- "$1" "$TMPD/out"; }
show_err() { [ -s "$TMPD/err" ] && diag "stderr:" "$(head -8 "$TMPD/err")"; return 0; }

# fails_open LABEL WORD... (after run_hello): the program ran normally and
# stderr is one "madvisor:" line naming every WORD.
fails_open() {
	_l=$1
	shift
	check_eq "$_l: exit status" 0 "$rc"
	check "$_l: main ran" out_has "$hello"
	check_eq "$_l: one line on stderr" 1 "$(err_lines)"
	check "$_l: the line starts with madvisor:" grep -q '^madvisor: ' "$TMPD/err"
	for _w in "$@"; do
		check "$_l: the line names $_w" err_has "$_w"
	done
	show_err
}

# ---- no configuration, good configuration: silence ------------------------
run_hello glibc
check_eq "no configuration: exit status" 0 "$rc"
check_eq "no configuration: stderr empty" "" "$(cat "$TMPD/err")"
run_hello glibc MADVISOR_PROFILE=default MADVISOR_PROFILE_DIR="$top_srcdir/configs"
check_eq "profile 'default' from MADVISOR_PROFILE_DIR: exit status" 0 "$rc"
check_eq "profile 'default' from MADVISOR_PROFILE_DIR: stderr empty" "" "$(cat "$TMPD/err")"

# ---- bad configuration fails open -------------------------------------------
run_hello glibc MADVISOR_CONF='bogus:1'
fails_open "MADVISOR_CONF=bogus:1" MADVISOR_CONF bogus
run_hello jemalloc MADVISOR_CONF='bogus:1'
have_alloc jemalloc && fails_open "MADVISOR_CONF=bogus:1 with jemalloc" MADVISOR_CONF bogus
run_hello glibc MADVISOR_CONF="stats:true,stats_file:$TMPD/never-%p.json,bogus:1"
fails_open "valid keys before a bad one" bogus
check "valid keys before a bad one: no stats table" sh -c "! grep -q 'stats for pid' '$TMPD/err'"
check "valid keys before a bad one: no stats file" sh -c "! ls '$TMPD'/never-* >/dev/null 2>&1"
run_hello glibc MADVISOR_CONF='stats:maybe'
fails_open "MADVISOR_CONF=stats:maybe" stats maybe
run_hello glibc MADVISOR_CONFIG=/nonexistent
fails_open "MADVISOR_CONFIG=/nonexistent" /nonexistent
printf 'stats:false\nnope:2\n' >"$TMPD/bad.conf"
run_hello glibc MADVISOR_CONFIG="$TMPD/bad.conf"
fails_open "config file with a bad line 2" "bad.conf:2" nope
run_hello glibc MADVISOR_PROFILE=nosuch
fails_open "MADVISOR_PROFILE=nosuch" nosuch
run_hello glibc MADVISOR_PROFILE=../../etc/passwd
fails_open "MADVISOR_PROFILE with a slash" profile ../../etc/passwd
long=$(printf 'x%.0s' $(seq 1 300))
run_hello glibc MADVISOR_CONF="stats_file:/tmp/$long"
fails_open "stats_file longer than the path limit" stats_file
big=$(printf 'stats:false,%.0s' $(seq 1 8000))
run_hello glibc MADVISOR_CONF="${big}bogus:1"
fails_open "96 KB MADVISOR_CONF ending in a bad key" bogus

# ---- strict: exit status 2 before main ---------------------------------------
for c in 'strict:true,bogus:1' 'bogus:1,strict:true'; do
	run_hello glibc MADVISOR_CONF="$c"
	check_eq "MADVISOR_CONF=$c: exit status 2" 2 "$rc"
	check "MADVISOR_CONF=$c: main did not run" sh -c "! grep -q '$hello' '$TMPD/out'"
	check_eq "MADVISOR_CONF=$c: one line on stderr" 1 "$(err_lines)"
	check "MADVISOR_CONF=$c: the line names bogus" err_has "^madvisor: .*bogus"
done
printf 'strict:true\n' >"$TMPD/strict.conf"
run_hello glibc MADVISOR_CONFIG="$TMPD/strict.conf" MADVISOR_CONF='bogus:1'
check_eq "strict in the file, bad key in MADVISOR_CONF: exit status 2" 2 "$rc"
check "strict in the file, bad key in MADVISOR_CONF: main did not run" sh -c "! grep -q '$hello' '$TMPD/out'"

# ---- stats on stderr --------------------------------------------------------
run_hello glibc MADVISOR_CONF='stats:true'
pid=$(sed -n "s/^$hello, pid //p" "$TMPD/out")
check_eq "stats:true: exit status" 0 "$rc"
check "stats:true: table header names pid $pid" err_has "^madvisor: stats for pid $pid ("
check "stats:true: table has the 3 MADV_COLD calls" grep -Eq '^madvisor: madvise +MADV_COLD +3 ' "$TMPD/err"
check "stats:true: every stderr line starts with madvisor:" sh -c "! grep -v '^madvisor: ' '$TMPD/err'"

# ---- stats file -------------------------------------------------------------
run_hello glibc MADVISOR_CONF="stats_file:$TMPD/s-%p.json"
pid=$(sed -n "s/^$hello, pid //p" "$TMPD/out")
f="$TMPD/s-$pid.json"
check "stats_file %p: $f exists" [ -f "$f" ]
check_eq "stats_file %p: mode 0600" 600 "$(stat -c %a "$f" 2>/dev/null)"
check_eq "stats_file %p: JSON pid" "$pid" "$(json_get "$f" pid)"
check_eq "stats_file %p: JSON exe" "$prog" "$(json_get "$f" exe)"
check_eq "stats_file %p: JSON config.stats_file is the template" "$TMPD/s-%p.json" \
	"$(json_get "$f" config.stats_file)"
check_eq "stats_file %p: JSON madvise MADV_COLD calls" 3 "$(json_row "$f" madvise MADV_COLD calls)"
check_eq "stats_file %p: stderr empty" "" "$(cat "$TMPD/err")"

echo precious >"$TMPD/target"
ln -s "$TMPD/target" "$TMPD/link"
run_hello glibc MADVISOR_CONF="stats_file:$TMPD/link"
fails_open "stats_file is a symlink" "$TMPD/link"
check_eq "stats_file is a symlink: target untouched" precious "$(cat "$TMPD/target")"
check "stats_file is a symlink: still a symlink" [ -L "$TMPD/link" ]
ln -s "$TMPD/created-through-link" "$TMPD/dangling"
run_hello glibc MADVISOR_CONF="stats_file:$TMPD/dangling"
fails_open "stats_file is a dangling symlink" "$TMPD/dangling"
check "stats_file is a dangling symlink: nothing created at its target" [ ! -e "$TMPD/created-through-link" ]

# ---- print_config -------------------------------------------------------------
run_hello glibc MADVISOR_CONF="print_config:true,stats_file:$TMPD/pc-%p.json"
pid=$(sed -n "s/^$hello, pid //p" "$TMPD/out")
keys=$(json_get "$TMPD/pc-$pid.json" config | "$PYTHON3" -c 'import json,sys; print(" ".join(json.load(sys.stdin)))' 2>/dev/null)
check "print_config: JSON lists the keys ($keys)" [ -n "$keys" ]
for k in $keys; do
	check "print_config: a line for $k" err_has "^madvisor: config $k = "
done
check_eq "print_config: one line per key" "$(echo "$keys" | wc -w | tr -d ' ')" \
	"$(grep -c '^madvisor: config ' "$TMPD/err")"
check "print_config: stats_file line shows (env) as its source" err_has "^madvisor: config stats_file = .*(env)"

# ---- setuid -------------------------------------------------------------------
# A setuid program is loaded in secure-execution mode: LD_PRELOAD names
# without a slash are taken only from the trusted directories, and only when
# the library itself is set-user-ID. With such a copy of the library the
# program runs with madvisor in it, and madvisor must ignore every setting
# from the environment (secure_getenv): no table, no stats file, no strict
# exit. A non-setuid copy of the same program, same user and environment, is
# the control. Needs root (to make both set-user-ID files) and user nobody.
setuid_case() {
	if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1; then
		skip "setuid: needs root, user nobody and setpriv to build a setuid program and a trusted set-user-ID library"
		return
	fi
	if [ -n "$SAN_PRELOAD" ]; then
		skip "setuid: sanitizer runtimes cannot be preloaded into a setuid program"
		return
	fi
	trusted=/usr/lib/x86_64-linux-gnu
	[ -d "$trusted" ] || trusted=/usr/lib
	name=libmadvisor-setuid-test-$$.so
	sdir=$(mktemp -d /tmp/madvisor-setuid.XXXXXX)
	chmod 755 "$sdir"
	cp "$MV_LIB" "$trusted/$name" && chmod 4755 "$trusted/$name"
	cp "$ITEST/hello" "$sdir/hello-suid" && chmod 4755 "$sdir/hello-suid"
	cp "$ITEST/hello" "$sdir/hello-plain" && chmod 755 "$sdir/hello-plain"
	chmod 777 "$sdir"
	for kind in plain suid; do
		setpriv --reuid=nobody --regid=nogroup --clear-groups env LD_PRELOAD="$name" \
			MADVISOR_CONF="stats:true,strict:true,stats_file:$sdir/s-$kind.json,bogus_key:1" \
			"$sdir/hello-$kind" -m >"$TMPD/su-$kind.out" 2>"$TMPD/su-$kind.err"
		echo $? >"$TMPD/su-$kind.rc"
	done
	rm -f "$trusted/$name"
	check_eq "setuid control: a plain program as nobody with strict and a bad key exits 2" 2 "$(cat "$TMPD/su-plain.rc")"
	if ! grep -q "^euid 0, madvisor mapped: yes" "$TMPD/su-suid.out"; then
		skip "setuid: the set-user-ID bit had no effect here ($(head -1 "$TMPD/su-suid.out"))"
		skip "setuid: (as above)"
		rm -rf "$sdir"
		return
	fi
	ok "setuid: the program runs as root with the set-user-ID library loaded"
	check_eq "setuid: settings from the environment are ignored (exit 0, no strict exit)" 0 "$(cat "$TMPD/su-suid.rc")"
	check "setuid: no stats file written" [ ! -e "$sdir/s-suid.json" ]
	check "setuid: nothing on stderr (no table, no config error)" [ ! -s "$TMPD/su-suid.err" ]
	rm -rf "$sdir"
}
setuid_case
done_testing
