#!/bin/sh
# completion.sh - the bash completion (completion/madvisor, as built) run in
# bash with bash-completion loaded as an interactive shell has it: it offers
# every option `madvisor --help` and each subcommand's --help list (config,
# replay, bench, tune), every profile, configuration keys after --conf (also
# after a comma), and the command's own completion after the options.
. "$top_srcdir/tests/lib.sh"
COMP=$top_builddir/completion/madvisor
[ -f "$COMP" ] || bail "$COMP not built"
command -v bash >/dev/null 2>&1 || { skip "bash is not installed"; done_testing; }
BC=/usr/share/bash-completion/bash_completion

# complete WORDS...: what the completion offers for the command line WORDS
# (the last word is the one being completed), one per line, sorted.
complete_line() {
	MADVISOR_PROFILE_DIR=$top_srcdir/configs PATH="$top_builddir:$PATH" bash -c '
		bc=$1 comp=$2; shift 2
		[ -f "$bc" ] && . "$bc"
		. "$comp"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_madvisor madvisor "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' bash "$BC" "$COMP" "$@" 2>"$TMPD/bash.err" | sort -u
}
# offers WORD LIST: WORD is a line of LIST.
offers() { printf '%s\n' "$2" | grep -q -x -F -e "$1"; }
# offers_all DESCRIPTION LIST WORD...
offers_all() {
	_d=$1 _l=$2
	shift 2
	_miss=""
	for _w in "$@"; do offers "$_w" "$_l" || _miss="$_miss $_w"; done
	check_eq "$_d" "" "$_miss"
}
# opts TEXT: the options at the start of a --help's option lines.
opts() { printf '%s\n' "$1" | sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p'; }

if [ -f "$BC" ]; then ok "bash-completion is loaded from $BC"; else skip "no $BC: the completion runs on its own"; fi

got=$(complete_line madvisor -)
want=$(opts "$("$MV_LAUNCHER" --help)")
offers_all "madvisor - offers every option of madvisor --help ($(echo $want))" "$got" $want
check_eq "no bash errors" "" "$(cat "$TMPD/bash.err")"

got=$(complete_line madvisor --pro)
check_eq "madvisor --pro completes to --profile" "--profile" "$got"

profiles=$(for f in "$top_srcdir"/configs/*.conf; do f=${f##*/}; echo "${f%.conf}"; done)
got=$(complete_line madvisor --profile "")
offers_all "madvisor --profile offers every profile ($(echo $profiles))" "$got" $profiles
check_eq "and nothing else" "$(printf '%s\n' $profiles | sort -u)" "$got"
check "the installed completion looks in the installed profile directory" \
	grep -q "MADVISOR_PROFILE_DIR:-/.*/madvisor/configs}" "$COMP"

got=$(complete_line madvisor --conf stats)
offers_all "madvisor --conf stats offers the stats keys" "$got" stats: stats_file: stats_text_file:
keys=$("$MV_LAUNCHER" config --keys | sed -n 's/^| `\([^`]*\)` |.*/\1:/p')
got=$(complete_line madvisor --conf "")
offers_all "madvisor --conf offers every key" "$got" $keys
got=$(complete_line madvisor --conf "stats:true,live_p")
check_eq "after a comma, the next key (readline completes after the last ':')" "true,live_prom_file:" "$got"

got=$(complete_line madvisor config -)
want=$(opts "$("$MV_LAUNCHER" config --help)")
offers_all "madvisor config - offers every option of config --help ($(echo $want))" "$got" $want
got=$(complete_line madvisor replay -)
want=$(opts "$("$MV_LAUNCHER" replay --help)")
offers_all "madvisor replay - offers every option of replay --help ($(echo $want))" "$got" $want
got=$(complete_line madvisor bench -)
want=$(opts "$("$MV_LAUNCHER" bench --help)")
offers_all "madvisor bench - offers every option of bench --help ($(echo $want))" "$got" $want
got=$(complete_line madvisor bench --profiles "")
offers_all "madvisor bench --profiles offers the profiles" "$got" $profiles
got=$(complete_line madvisor bench --allocators glibc,je)
check_eq "madvisor bench --allocators completes after a comma" "glibc,jemalloc" "$got"
got=$(complete_line madvisor bench --reps 2 -- pyth)
check "madvisor bench ... -- : the command" offers python3 "$got"
got=$(complete_line madvisor tune -)
want=$(opts "$("$MV_LAUNCHER" tune --help)")
offers_all "madvisor tune - offers every option of tune --help ($(echo $want))" "$got" $want
got=$(complete_line madvisor tune --objective "")
offers_all "madvisor tune --objective offers the objectives" "$got" cpu rss balanced
got=$(complete_line madvisor tune --budget-s 30 -- pyth)
check "madvisor tune ... -- : the command" offers python3 "$got"
got=$(complete_line madvisor tu)
offers_all "the first word offers tune" "$got" tune
got=$(complete_line madvisor replay t.trace --profile "")
offers_all "madvisor replay --profile offers the profiles" "$got" $profiles
got=$(complete_line madvisor con)
offers_all "the first word offers the subcommand" "$got" config
got=$(complete_line madvisor ben)
offers_all "the first word offers bench" "$got" bench

got=$(complete_line madvisor --profile churn --stats -- pyth)
check "after --, the command: python3 offered" offers python3 "$got"
got=$(complete_line madvisor --profile churn ls --al)
if [ -f "$BC" ]; then
	offers_all "the command's own completion after it (ls --al: --all)" "$got" --all
else
	skip "the command's own completion needs bash-completion"
fi
done_testing
