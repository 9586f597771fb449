#!/bin/sh
# man_pages.sh - the manual pages: madvisor.conf(5)'s generated sections are
# what man/gen.sh makes from the option table, README's field table and the
# profiles; both pages render with `man --warnings` and no warning; the
# rendered pages name every key, profile and JSON field, and madvisor(1)
# every option that `madvisor --help` and each subcommand's --help list.
. "$top_srcdir/tests/lib.sh"
MAN1=$top_srcdir/man/madvisor.1
MAN5=$top_srcdir/man/madvisor.conf.5

if sh "$top_srcdir/man/gen.sh" "$MV_LAUNCHER" "$top_srcdir" >"$TMPD/conf.5" 2>"$TMPD/gen.err" &&
	cmp -s "$TMPD/conf.5" "$MAN5"; then
	ok "madvisor.conf.5's keys, profiles and fields are what man/gen.sh makes"
else
	not_ok "madvisor.conf.5's keys, profiles and fields are what man/gen.sh makes"
	diag "regenerate: sh man/gen.sh --update BUILDDIR/madvisor SRCDIR" "$(cat "$TMPD/gen.err")"
	diff "$MAN5" "$TMPD/conf.5" | head -n 20 | while IFS= read -r l; do diag "$l"; done
fi

# render PAGE OUT: the page as man shows it; its warnings in OUT.err.
render() {
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -P cat -l "$1" >"$2" 2>"$2.err"
}
if ! command -v man >/dev/null 2>&1; then
	skip "man is not installed (scripts/setup.sh installs man-db)"
	done_testing
fi
for page in "$MAN1" "$MAN5"; do
	name=${page##*/}
	render "$page" "$TMPD/$name.txt"
	st=$?
	check_eq "$name renders (man exits 0)" 0 "$st"
	check_eq "$name renders without warnings" "" "$(cat "$TMPD/$name.txt.err")"
	check "$name has a NAME section" grep -q '^NAME' "$TMPD/$name.txt"
done
# Rendered text with the lines joined: a name may be broken across lines
# only at a space, never inside (the pages turn hyphenation off).
tr '\n' ' ' <"$TMPD/madvisor.conf.5.txt" >"$TMPD/conf.flat"
tr '\n' ' ' <"$TMPD/madvisor.1.txt" >"$TMPD/cmd.flat"

# missing FLAT WORD...: the words not found in FLAT.
missing() {
	_f=$1
	shift
	for _w in "$@"; do grep -q -F -e "$_w" "$_f" || printf '%s ' "$_w"; done
}

keys=$("$MV_LAUNCHER" config --keys | sed -n 's/^| `\([^`]*\)` |.*/\1/p')
nkeys=$(printf '%s\n' $keys | wc -l)
check "config --keys lists keys ($nkeys)" [ "$nkeys" -gt 10 ]
check_eq "madvisor.conf(5) names every key" "" "$(missing "$TMPD/conf.flat" $keys)"

profiles=$(for f in "$top_srcdir"/configs/*.conf; do f=${f##*/}; echo "${f%.conf}"; done)
check_eq "madvisor.conf(5) names every profile ($(echo $profiles))" "" "$(missing "$TMPD/conf.flat" $profiles)"

# JSON fields: the first column of README's table, each name in it.
fields=$(sed -n '/<!-- fields:begin/,/<!-- fields:end -->/p' "$top_srcdir/README.md" |
	sed -n 's/^| \([^|]*\) |.*/\1/p' | grep -o '`[^`]*`' | tr -d '`' | grep -v '^field$')
nfields=$(printf '%s\n' $fields | wc -l)
check "README's field table lists fields ($nfields)" [ "$nfields" -gt 10 ]
check_eq "madvisor.conf(5) names every JSON field" "" "$(missing "$TMPD/conf.flat" $fields)"

# Options: every --long and -s option each --help lists.
# opts TEXT: the option names at the start of the help's option lines.
opts() { printf '%s\n' "$1" | sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\1\2/p' | tr -d ',' ; }
for cmd in "" config replay bench tune; do
	help=$("$MV_LAUNCHER" $cmd --help)
	st=$?
	check_eq "madvisor${cmd:+ $cmd} --help exits 0" 0 "$st"
	o=$(opts "$help")
	check "madvisor${cmd:+ $cmd} --help lists options ($(echo $o))" [ -n "$o" ]
	check_eq "madvisor(1) describes every option of madvisor${cmd:+ $cmd}" "" "$(missing "$TMPD/cmd.flat" $o)"
	[ -n "$cmd" ] && check "madvisor --help names the $cmd command" \
		sh -c 'printf "%s\n" "$1" | grep -q "^  $2 "' sh "$("$MV_LAUNCHER" --help)" "$cmd"
done
done_testing
