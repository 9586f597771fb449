#!/bin/sh
# The real-program workloads of the benchmark matrix, each run once at a tiny
# size: sqlite.sh (the sqlite3 shell), compile.sh (gcc's cc1, and clang when
# installed) and pytext.py (python3). Each prints its figure and its exact
# counts, runs the program itself behind the caller's PREFIX, and gives the
# same counts on a second run. Then a one-repetition matrix of the three
# under glibc, without the library and with the churn profile (munmap
# recycling): every run exits 0, runs.csv names the program, the counts are
# identical with and without the library, and the report has the
# real-programs rows and its sentence per program, and every run gave the
# program an environment of the same size. No timing is asserted.
set -u
. "$top_srcdir/tests/lib.sh"
require_lib
wl=$top_srcdir/bench/workloads
for t in sqlite3 gcc; do
	command -v "$t" >/dev/null 2>&1 || bail "$t not installed (scripts/setup.sh installs it)"
done

# field KEY FILE: the value of KEY=... in FILE.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2"; }
# positive DESCRIPTION VALUE: VALUE is a number above zero.
positive() {
	if awk -v v="$2" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v + 0 > 0) }'; then ok "$1"; else not_ok "$1"; diag "got: '$2'"; fi
}
# A PREFIX for the workloads: records the program it is asked to run (its
# first word) in $TMPD/ran, then runs it.
spy=$TMPD/spy
printf '#!/bin/sh\nprintf "%%s\\n" "$1" >>"%s"\nexec "$@"\n' "$TMPD/ran" >"$spy" && chmod +x "$spy" || bail "cannot write $spy"

# --- sqlite.sh ---------------------------------------------------------------
: >"$TMPD/ran"
sh "$wl/sqlite.sh" --rows 300 --rounds 2 --queries 40 --seed 3 -- "$spy" >"$TMPD/sq1" 2>"$TMPD/sq1.err"
check_eq "sqlite.sh exits 0" 0 $?
check "sqlite.sh prints one sqlite: line" grep -q '^sqlite: rounds=2 rows=300 queries=40 ' "$TMPD/sq1"
check_eq "sqlite.sh: statements = rounds x (rows + queries + 60 deletes)" 800 "$(field statements "$TMPD/sq1")"
positive "sqlite.sh: stmts_per_sec" "$(field stmts_per_sec "$TMPD/sq1")"
for ph in insert_s query_s delete_s vacuum_s; do
	check "sqlite.sh: $ph is a time" test -n "$(field $ph "$TMPD/sq1")"
done
positive "sqlite.sh: rows are left after the deletes" "$(field rows_after "$TMPD/sq1")"
check_eq "sqlite.sh runs sqlite3 itself behind the prefix" sqlite3 "$(sed -n 1p "$TMPD/ran")"
sh "$wl/sqlite.sh" --rows 300 --rounds 2 --queries 40 --seed 3 -- env >"$TMPD/sq2" 2>&1
check_eq "sqlite.sh: same checksum on a second run" "$(field checksum "$TMPD/sq1")" "$(field checksum "$TMPD/sq2")"
check_eq "sqlite.sh: same rows left on a second run" "$(field rows_after "$TMPD/sq1")" "$(field rows_after "$TMPD/sq2")"
sh "$wl/sqlite.sh" --rows 300 --rounds 2 --queries 40 --seed 4 -- >"$TMPD/sq3" 2>&1
check "sqlite.sh: another seed, another checksum" test "$(field checksum "$TMPD/sq1")" != "$(field checksum "$TMPD/sq3")"
sh "$wl/sqlite.sh" --rows x -- >/dev/null 2>&1
check_eq "sqlite.sh: bad option value: exit 2" 2 $?
# shellcheck disable=SC2016
sh "$wl/sqlite.sh" --rows 10 --rounds 1 -- sh -c 'exit 5' >/dev/null 2>"$TMPD/sq4.err"
check_eq "sqlite.sh: a failing program's status is passed on" 5 $?

# --- compile.sh --------------------------------------------------------------
: >"$TMPD/ran"
sh "$wl/compile.sh" --functions 3 -- "$spy" >"$TMPD/cc1" 2>"$TMPD/cc1.err"
check_eq "compile.sh exits 0" 0 $?
check "compile.sh prints one compile: line" grep -q '^compile: cc=gcc functions=3 ' "$TMPD/cc1"
positive "compile.sh: lines of C" "$(field lines "$TMPD/cc1")"
positive "compile.sh: lines of assembly" "$(field asm_lines "$TMPD/cc1")"
positive "compile.sh: lines_per_sec" "$(field lines_per_sec "$TMPD/cc1")"
case $(sed -n 1p "$TMPD/ran") in
*/cc1) ok "compile.sh runs gcc's cc1 itself behind the prefix" ;;
*) not_ok "compile.sh runs gcc's cc1 itself behind the prefix"; diag "ran: $(cat "$TMPD/ran")" ;;
esac
sh "$wl/compile.sh" --functions 3 -- >"$TMPD/cc2" 2>&1
check_eq "compile.sh: same assembly size on a second run" "$(field asm_lines "$TMPD/cc1")" "$(field asm_lines "$TMPD/cc2")"
sh "$wl/compile.sh" --functions 6 -- >"$TMPD/cc3" 2>&1
check "compile.sh: more functions, more lines" \
	test "$(field lines "$TMPD/cc3")" -gt "$(field lines "$TMPD/cc1")"
if command -v clang >/dev/null 2>&1; then
	: >"$TMPD/ran"
	sh "$wl/compile.sh" --cc clang --functions 3 -- "$spy" >"$TMPD/cl1" 2>&1
	check_eq "compile.sh --cc clang exits 0" 0 $?
	positive "compile.sh --cc clang: lines of assembly" "$(field asm_lines "$TMPD/cl1")"
	check_eq "compile.sh --cc clang runs clang behind the prefix" clang "$(sed -n 1p "$TMPD/ran")"
else
	skip "clang not installed (compile.sh --cc clang)"
	skip "clang not installed (compile.sh --cc clang)"
	skip "clang not installed (compile.sh --cc clang)"
fi
sh "$wl/compile.sh" --cc tcc -- >/dev/null 2>&1
check_eq "compile.sh: unknown compiler: exit 2" 2 $?

# --- pytext.py ---------------------------------------------------------------
"$PYTHON3" "$wl/pytext.py" -n 200 -r 2 -S 5 --idle-ms 0 >"$TMPD/py1" 2>&1
check_eq "pytext.py exits 0" 0 $?
check_eq "pytext.py: records = n x rounds" 400 "$(field records "$TMPD/py1")"
check_eq "pytext.py: one address, one e-mail and one request found per record" 1200 "$(field matches "$TMPD/py1")"
positive "pytext.py: records_per_sec" "$(field records_per_sec "$TMPD/py1")"
"$PYTHON3" "$wl/pytext.py" -n 200 -r 2 -S 5 --idle-ms 0 >"$TMPD/py2" 2>&1
check_eq "pytext.py: same checksum on a second run" "$(field checksum "$TMPD/py1")" "$(field checksum "$TMPD/py2")"

# --- the matrix and its report -------------------------------------------------
res=$TMPD/matrix
"$top_srcdir/bench/matrix" --quick --reps 1 --allocators glibc --profiles churn --no-report \
	--workloads sqlite,pytext,compile --builddir "$top_builddir" --out "$res" >"$TMPD/m.out" 2>"$TMPD/m.err"
check_eq "bench/matrix with the real programs exits 0" 0 $?
"$top_srcdir/bench/report" --no-plots "$res" >/dev/null 2>"$TMPD/r.err"
check_eq "bench/report on it exits 0" 0 $?
[ -f "$res/runs.csv" ] || { diag "$(tail -n 5 "$TMPD/m.err")"; bail "no runs.csv"; }
for w in sqlite pytext compile; do
	for p in baseline churn; do
		row=$(awk -F, -v id="$w.glibc.$p.r1" '$1 == id' "$res/runs.csv")
		check_eq "$w under $p: exit 0" 0 "$(echo "$row" | cut -d, -f6)"
		positive "$w under $p: its figure is in runs.csv" "$(echo "$row" | cut -d, -f22)"
	done
done
check_eq "runs.csv names the programs" "sqlite3 python3 gcc" \
	"$(awk -F, 'NR > 1 && $4 == "churn" { printf "%s%s", (n++ ? " " : ""), $NF }' "$res/runs.csv")"
# Every variant's program gets an environment of the same size (its heap
# layout depends on it): the LD_PRELOAD and MADVISOR_* words add up alike.
n=$(for f in "$res"/runs/*/command; do
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(LD_PRELOAD|MADVISOR_[A-Z_]+)=/) n += length($i) + 1 } END { print n + 0 }' "$f"
done | sort -u | wc -l)
check_eq "the environment added to the program has one size in every run" 1 "$n"
# The counts fixed by the seeds are the same with and without the library.
for k in sqlite,statements sqlite,rows_after sqlite,checksum pytext,records pytext,checksum compile,asm_lines; do
	n=$(awk -F, -v w="${k%%,*}" -v key="${k#*,}" '$1 == w && $5 == key { print $6 }' "$res/counts.csv" | sort -u | wc -l)
	check_eq "counts.csv: $k is the same with and without the library" 1 "$n"
done
md=$res/report.md
check "report.md written" test -s "$md"
for r in '| sqlite3 | sqlite | glibc | churn |' '| python3 | pytext | glibc | churn |' '| gcc | compile | glibc | churn |'; do
	if grep -qF -- "$r" "$md" && grep -F -- "$r" "$md" | grep -q 'no noise estimate (one run) |$'; then
		ok "report: real-program row $r"
	else
		not_ok "report: real-program row $r"
		diag "$(grep -F -- "$r" "$md")"
	fi
done
for pr in sqlite3 python3 gcc; do
	check "report: a sentence for $pr" grep -q "^- \*\*$pr\*\* .*cannot tell" "$md"
done
done_testing
