#!/bin/sh
# launcher.sh - the `madvisor` command: options, `config`, LD_PRELOAD and
# MADVISOR_CONF composition, exit statuses. Runs the launcher with --lib
# pointing at an empty file, so it needs libmadvisor.so only for the test of
# the default library lookup.
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
MADVISOR=$top_builddir/madvisor

n=0
failed=0
ok() { # ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# same GOT WANT DESCRIPTION
same() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "want: $2" "got:  $1"
	fi
}
# has TEXT PATTERN DESCRIPTION (fixed string)
has() {
	if printf '%s\n' "$1" | grep -F -q -e "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "expected to find: $2" "in: $1"
	fi
}

if [ ! -x "$MADVISOR" ]; then
	echo "1..0 # SKIP $MADVISOR not built"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mv-launcher.XXXXXX") || exit 99
tmp=$(cd "$tmp" && pwd -P) # the launcher makes paths absolute with getcwd
trap 'rm -rf "$tmp"' EXIT INT TERM
lib=$tmp/libfake.so
: >"$lib"
# Clean slate: no configuration from the caller's environment.
unset MADVISOR_PROFILE MADVISOR_PROFILE_DIR MADVISOR_CONFIG MADVISOR_CONF MADVISOR_LIB LD_PRELOAD

# ---- --help, --version -------------------------------------------------------
out=$("$MADVISOR" --help); st=$?
same "$st" 0 "--help exits 0"
has "$out" "usage: madvisor" "--help shows the usage"
has "$out" "stats_text_file" "--help lists the configuration keys"

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/mvconfig.h")
out=$("$MADVISOR" --version); st=$?
if [ -n "$version" ]; then
	same "$st:$out" "0:madvisor $version" "--version prints the package version"
else
	skip "PACKAGE_VERSION not found in $top_builddir/mvconfig.h"
fi

"$MADVISOR" --no-such-option >/dev/null 2>&1
same "$?" 2 "an unknown option exits 2"
err=$("$MADVISOR" --lib "$lib" 2>&1); st=$?
same "$st" 2 "no command exits 2"
has "$err" "no command given" "no command: says so"

# ---- config --check / --print -----------------------------------------------
printf '# good\nstats:true\r\n\nstats_file:/tmp/x-%%p.json\n' >"$tmp/good.conf"
printf 'stats:true\nbogus:1\n' >"$tmp/bad.conf"
out=$("$MADVISOR" config --check "$tmp/good.conf"); st=$?
same "$st:$out" "0:$tmp/good.conf: ok" "config --check on a good file"
err=$("$MADVISOR" config --check "$tmp/bad.conf" 2>&1 >/dev/null); st=$?
same "$st:$err" "1:madvisor: $tmp/bad.conf:2: key 'bogus': unknown key" \
	"config --check on a bad file: exit 1 and the error line"
err=$("$MADVISOR" config --check "$tmp/none.conf" 2>&1 >/dev/null); st=$?
same "$st:$err" "1:madvisor: $tmp/none.conf: cannot open: no such file or directory" \
	"config --check on a missing file"
out=$("$MADVISOR" config --check "$tmp/good.conf" "$tmp/bad.conf" 2>/dev/null); st=$?
same "$st:$out" "1:$tmp/good.conf: ok" "config --check with several files fails if one is bad"

out=$(MADVISOR_CONF=stats:true "$MADVISOR" config --print); st=$?
same "$st" 0 "config --print exits 0 for a good configuration"
has "$out" "madvisor: config stats = true (env)" "config --print shows a value from MADVISOR_CONF"
has "$out" "madvisor: config enabled = true (default)" "config --print shows defaults"
out=$(MADVISOR_CONFIG=$tmp/good.conf "$MADVISOR" config --print)
has "$out" "madvisor: config stats_file = /tmp/x-%p.json (file)" "config --print shows a value from MADVISOR_CONFIG"
err=$(MADVISOR_CONF=stat:1 "$MADVISOR" config --print 2>&1 >/dev/null); st=$?
same "$st:$err" "1:madvisor: MADVISOR_CONF: key 'stat': unknown key; running as plain passthrough" \
	"config --print on a bad configuration: exit 1 and the line"
"$MADVISOR" config --frobnicate >/dev/null 2>&1
same "$?" 2 "config with an unknown action exits 2"

# ---- LD_PRELOAD ----------------------------------------------------------------
# The preloaded files are not real libraries; ld.so's complaints go to stderr.
out=$(LD_PRELOAD=/x.so "$MADVISOR" --lib "$lib" -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
same "$out" "$lib:/x.so" "the library goes first in LD_PRELOAD, the user's entries after it"
out=$(LD_PRELOAD="$lib /x.so:$lib::/y.so" "$MADVISOR" --lib "$lib" -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
same "$out" "$lib:/x.so:/y.so" "another copy of the library is dropped from LD_PRELOAD"
out=$("$MADVISOR" --lib "$lib" -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
same "$out" "$lib" "without LD_PRELOAD only the library is preloaded"
out=$(cd "$tmp" && "$MADVISOR" --lib libfake.so -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
same "$out" "$lib" "a relative --lib is made absolute"
out=$(MADVISOR_LIB=$lib "$MADVISOR" -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
same "$out" "$lib" "MADVISOR_LIB names the library"
err=$("$MADVISOR" --lib "$tmp/nolib.so" -- true 2>&1); st=$?
same "$st" 2 "a missing library exits 2"
has "$err" "madvisor: $tmp/nolib.so: No such file or directory" "a missing library is named"
err=$("$MADVISOR" --lib "$tmp" -- true 2>&1); st=$?
same "$st" 2 "a directory as library exits 2"

# Default lookup: an uninstalled launcher uses the library of its build tree
# and the profiles of its source tree.
if [ -f "$top_builddir/.libs/libmadvisor.so" ]; then
	out=$("$MADVISOR" -- sh -c 'echo "$LD_PRELOAD|$MADVISOR_PROFILE_DIR"')
	want_lib=$(cd "$top_builddir/.libs" && pwd -P)/libmadvisor.so
	want_dir=$top_srcdir/configs
	case $out in
	"$want_lib|"*) ok 0 "by default the build tree's library is preloaded" ;;
	*) ok 1 "by default the build tree's library is preloaded"; diag "got $out" ;;
	esac
	has "$out" "|$want_dir" "by default the source tree's profiles are used"
	out=$(MADVISOR_PROFILE_DIR=/elsewhere "$MADVISOR" -- sh -c 'echo "$MADVISOR_PROFILE_DIR"')
	same "$out" "/elsewhere" "a given MADVISOR_PROFILE_DIR is kept"
else
	skip "libmadvisor.so not built: default library lookup"
	skip "libmadvisor.so not built: default profile directory"
	skip "libmadvisor.so not built: MADVISOR_PROFILE_DIR kept"
fi

# ---- exit statuses ---------------------------------------------------------------
"$MADVISOR" --lib "$lib" -- sh -c 'exit 7' 2>/dev/null
same "$?" 7 "the command's exit status is passed on"
"$MADVISOR" --lib "$lib" sh -c 'exit 5' 2>/dev/null
same "$?" 5 "without '--' the first non-option starts the command"
out=$("$MADVISOR" --lib "$lib" sh -c 'echo "$0 $1"' a b 2>/dev/null)
same "$out" "a b" "the command's arguments are passed unchanged"
err=$("$MADVISOR" --lib "$lib" -- "$tmp/no-such-command" 2>&1); st=$?
same "$st:$err" "127:madvisor: $tmp/no-such-command: No such file or directory" "a missing command exits 127"
err=$("$MADVISOR" --lib "$lib" -- no-such-command-in-path-$$ 2>&1); st=$?
same "$st" 127 "a command not in PATH exits 127"
printf '#!/bin/sh\n' >"$tmp/noexec"
chmod 644 "$tmp/noexec"
# (Even root cannot execute a file without any x bit.)
err=$("$MADVISOR" --lib "$lib" -- "$tmp/noexec" 2>&1); st=$?
same "$st:$err" "126:madvisor: $tmp/noexec: Permission denied" "a command that is not executable exits 126"

# ---- MADVISOR_CONF and MADVISOR_PROFILE ------------------------------------------
show_conf='echo "$MADVISOR_CONF"'
out=$("$MADVISOR" --lib "$lib" --stats -- sh -c "$show_conf" 2>/dev/null)
same "$out" "stats:true" "--stats sets stats:true"
out=$("$MADVISOR" --lib "$lib" --stats="$tmp/t-%p.txt" -- sh -c "$show_conf" 2>/dev/null)
same "$out" "stats:true,stats_text_file:$tmp/t-%p.txt" "--stats=FILE also sets stats_text_file"
out=$("$MADVISOR" --lib "$lib" --json "$tmp/s.json" -- sh -c "$show_conf" 2>/dev/null)
same "$out" "stats_file:$tmp/s.json" "--json FILE sets stats_file"
out=$(MADVISOR_CONF="enabled:true, stats:false" "$MADVISOR" --lib "$lib" --stats --conf print_config:on,strict:off \
	--json /tmp/j.json -- sh -c "$show_conf" 2>/dev/null)
same "$out" "enabled:true, stats:false,stats:true,print_config:on,strict:off,stats_file:/tmp/j.json" \
	"the launcher's keys come after the user's MADVISOR_CONF, in command-line order"
out=$(MADVISOR_CONF=stats:true "$MADVISOR" --lib "$lib" -- sh -c "$show_conf" 2>/dev/null)
same "$out" "stats:true" "without launcher keys MADVISOR_CONF is left alone"
out=$(MADVISOR_CONF="stats:false" "$MADVISOR" --lib "$lib" --stats -- sh -c "$show_conf" 2>/dev/null)
out2=$(MADVISOR_CONF="$out" "$MADVISOR" config --print | grep ' stats = ')
same "$out2" "madvisor: config stats = true (env)" "the launcher's --stats wins over the user's stats:false"

err=$("$MADVISOR" --lib "$lib" --conf stats:true,bogus:1 -- true 2>&1); st=$?
same "$st:$err" "2:madvisor: --conf: key 'bogus': unknown key" "a bad --conf: exit 2 and the error line"
err=$("$MADVISOR" --lib "$lib" --conf stats:maybe -- true 2>&1); st=$?
same "$st:$err" "2:madvisor: --conf: key 'stats': expected true or false, got 'maybe'" "a bad --conf value"
err=$("$MADVISOR" --lib "$lib" --json "$tmp/a,b.json" -- true 2>&1); st=$?
same "$st" 2 "a --json file name with ',' exits 2"
has "$err" "',' cannot be used" "a --json file name with ',': says why"
err=$("$MADVISOR" --lib "$lib" --stats="$tmp/dir/" -- true 2>&1); st=$?
same "$st:$err" "2:madvisor: --stats: key 'stats_text_file': expected a file name, not a directory, got '$tmp/dir/'" \
	"--stats=FILE is checked by the same parser"

mkdir "$tmp/profiles"
printf 'stats:true\n' >"$tmp/profiles/mine.conf"
out=$(MADVISOR_PROFILE_DIR=$tmp/profiles "$MADVISOR" --lib "$lib" --profile mine -- sh -c 'echo "$MADVISOR_PROFILE"' 2>/dev/null)
same "$out" "mine" "--profile sets MADVISOR_PROFILE"
err=$(MADVISOR_PROFILE_DIR=$tmp/profiles "$MADVISOR" --lib "$lib" --profile nope -- true 2>&1); st=$?
same "$st:$err" "2:madvisor: profile 'nope' ($tmp/profiles/nope.conf): no such profile" \
	"an unknown --profile: exit 2 and the error line"
err=$(MADVISOR_PROFILE_DIR=$tmp/profiles "$MADVISOR" --lib "$lib" --profile ../profiles/mine -- true 2>&1); st=$?
same "$st" 2 "a --profile name with '/' exits 2"
has "$err" "invalid profile name" "a --profile name with '/': says why"

echo "1..$n"
[ "$failed" -eq 0 ]
