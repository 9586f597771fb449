#!/bin/sh
# sqlite.sh - a real program: Debian's sqlite3 shell running a generated SQL
# workload on a database file.
#
#   sqlite.sh [--rows N] [--rounds R] [--queries Q] [--cache-mb M] [--seed S] -- PREFIX...
#
# Writes the SQL (fixed by the seed) into a temporary directory, then runs
# `PREFIX... sqlite3 -batch -bail DB < workload.sql` (PREFIX is how the caller
# wants sqlite3 run: e.g. bench/monitor ... -- env LD_PRELOAD=...; it may be
# empty). Generating the SQL is not part of the measured run. The database
# has one table with a rowid, an integer key, a group and a text value
# (16..2048 bytes cut from one of 64 texts of 3000 bytes), indexed on the key and on
# (group, key); a page cache of M MiB (default 64), temporary tables in
# memory, no journal on disk, no fsync. Each of the R rounds:
#   insert  N INSERT statements, one transaction per 1000
#   query   Q indexed queries: key ranges (count, bytes) and group + key bound
#           (count, largest key); every result is summed into the checksum
#   delete  40 groups of 100 and 20 key ranges of 1% each
#   vacuum  VACUUM (the database is rebuilt through an in-memory temp table)
# Each phase's time is taken by sqlite3 itself (julianday('now'), 1 ms).
#
# Output, one line on stdout (statements, rows_after, checksum are exact
# for a seed):
#   sqlite: rounds=R rows=N queries=Q statements= insert_s= query_s=
#     delete_s= vacuum_s= seconds= stmts_per_sec= rows_after= checksum=
# (statements = INSERT + query + DELETE statements; seconds = the sum of the
# phases). Exit status: sqlite3's, 2 on bad usage, 1 on bad output.
set -u
rows=15000 rounds=3 queries=1500 cache_mb=64 seed=1
usage() {
	echo "usage: sqlite.sh [--rows N] [--rounds R] [--queries Q] [--cache-mb M] [--seed S] -- PREFIX..." >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--rows|--rounds|--queries|--cache-mb|--seed)
		[ $# -ge 2 ] || usage
		case $2 in ''|*[!0-9]*) echo "sqlite.sh: $1 needs a non-negative integer" >&2; exit 2 ;; esac
		case $1 in
		--rows) rows=$2 ;; --rounds) rounds=$2 ;; --queries) queries=$2 ;;
		--cache-mb) cache_mb=$2 ;; --seed) seed=$2 ;;
		esac
		shift 2 ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ "$rows" -ge 1 ] && [ "$rounds" -ge 1 ] || { echo "sqlite.sh: --rows and --rounds must be at least 1" >&2; exit 2; }
unset LD_PRELOAD MADVISOR_CONF MADVISOR_PROFILE MADVISOR_CONFIG
command -v sqlite3 >/dev/null 2>&1 || { echo "sqlite.sh: sqlite3 not found (run bench/setup)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/madvisor-sqlite.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The SQL. A MINSTD generator (exact in awk's doubles, the same in every
# awk) makes the keys, groups, lengths and ranges.
awk -v rows="$rows" -v rounds="$rounds" -v queries="$queries" -v cache_mb="$cache_mb" -v seed="$seed" '
function rnd(n) { x = (x * 48271) % 2147483647; return x % n }
function mark(ph) { printf "SELECT %sm%s, %s%s%s, (julianday(%snow%s) - 2440587.5) * 86400.0;\n", q, q, q, ph, q, q, q }
BEGIN {
	q = "\047"
	x = (seed % 2147483646) + 1
	for (i = 0; i < 10; i++) rnd(2)
	nw = split("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike " \
		"november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu " \
		"memory page table allocator arena extent span segment purge decay release kernel", w, " ")
	print ".bail on"
	print ".mode list"
	print ".headers off"
	print "PRAGMA journal_mode=MEMORY;"
	print "PRAGMA synchronous=OFF;"
	print "PRAGMA temp_store=MEMORY;"
	printf "PRAGMA cache_size=-%d;\n", cache_mb * 1024
	# 64 texts of 3000 bytes: each fits in one 4 KiB page (no overflow chain to read).
	print "CREATE TABLE corpus(id INTEGER PRIMARY KEY, s TEXT);"
	for (c = 0; c < 64; c++) {
		text = ""
		while (length(text) < 3000) text = text w[rnd(nw) + 1] " "
		printf "INSERT INTO corpus VALUES(%d, %s%s%s);\n", c, q, substr(text, 1, 3000), q
	}
	print "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, g INTEGER, v TEXT);"
	print "CREATE INDEX t_k ON t(k);"
	print "CREATE INDEX t_g ON t(g, k);"
	mark("start")
	for (r = 0; r < rounds; r++) {
		print "BEGIN;"
		for (i = 0; i < rows; i++) {
			if (i > 0 && i % 1000 == 0) print "COMMIT;\nBEGIN;"
			len = 16 + rnd(2033)
			printf "INSERT INTO t(k, g, v) VALUES(%d, %d, (SELECT substr(s, %d, %d) FROM corpus WHERE id = %d));\n",
				rnd(1000000), rnd(100), 1 + rnd(3001 - len), len, rnd(64)
		}
		print "COMMIT;"
		mark("insert")
		for (i = 0; i < queries; i++) {
			if (i % 2) {
				a = rnd(1000000)
				printf "SELECT %sq%s, count(*), coalesce(sum(length(v)), 0) FROM t WHERE k BETWEEN %d AND %d;\n", q, q, a, a + 1 + rnd(2000)
			} else
				printf "SELECT %sq%s, count(*), coalesce(max(k), 0) FROM t WHERE g = %d AND k < %d;\n", q, q, rnd(100), rnd(1000000)
		}
		mark("query")
		print "BEGIN;"
		split("", gone)
		for (i = 0; i < 40; i++) {
			do g = rnd(100); while (g in gone)
			gone[g] = 1
			printf "DELETE FROM t WHERE g = %d;\n", g
		}
		for (i = 0; i < 20; i++) {
			a = rnd(990000)
			printf "DELETE FROM t WHERE k BETWEEN %d AND %d;\n", a, a + 9999
		}
		print "COMMIT;"
		mark("delete")
		print "VACUUM;"
		mark("vacuum")
	}
	printf "SELECT %se%s, count(*), coalesce(sum(k), 0), coalesce(sum(length(v)), 0) FROM t;\n", q, q
}' </dev/null >"$work/workload.sql" || exit 1

"$@" sqlite3 -batch -bail "$work/db" <"$work/workload.sql" >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "sqlite.sh: sqlite3 exited with status $rc; its stderr ends with:" >&2
	tail -n 5 "$work/err" >&2
	exit "$rc"
fi
# m|PHASE|unix seconds: phase ends; q|a|b: query results; e|rows|sum k|bytes.
awk -F'|' -v rows="$rows" -v rounds="$rounds" -v queries="$queries" '
$1 == "m" { if ($2 != "start") { t[$2] += $3 - last; nm++ } last = $3; next }
$1 == "q" { nq++; sum = (sum * 31 + $2 * 7 + $3) % 1000000007; next }
$1 == "e" { erows = $2; sum = (sum * 31 + $3 % 1000000007 + $4) % 1000000007; ne = 1 }
END {
	if (nm != 4 * rounds || nq != queries * rounds || !ne) {
		printf "sqlite.sh: sqlite3 printed %d phase marks, %d query results (expected %d, %d)\n",
			nm, nq, 4 * rounds, queries * rounds > "/dev/stderr"
		exit 1
	}
	secs = t["insert"] + t["query"] + t["delete"] + t["vacuum"]
	stmts = rounds * (rows + queries + 60)
	printf "sqlite: rounds=%d rows=%d queries=%d statements=%d insert_s=%.3f query_s=%.3f delete_s=%.3f vacuum_s=%.3f seconds=%.3f stmts_per_sec=%.0f rows_after=%d checksum=%d\n",
		rounds, rows, queries, stmts, t["insert"], t["query"], t["delete"], t["vacuum"], secs,
		(secs > 0 ? stmts / secs : 0), erows, sum
}' "$work/out"
