#!/bin/sh
# gen.sh - the generated sections of madvisor.conf(5): the configuration keys
# (from the option table, through `madvisor config --keys`), the JSON stats
# fields (from README.md's field table) and the profiles (from configs/*.conf).
# Each section sits between `.\" NAME:begin` and `.\" NAME:end` lines; the
# rest of the page is written by hand. tests/unit/man_pages.sh checks that
# the page in the tree is what this script makes.
#
# Usage: sh man/gen.sh MADVISOR SRCDIR            print the page as it should be
#        sh man/gen.sh --update MADVISOR SRCDIR   rewrite SRCDIR/man/madvisor.conf.5
set -eu
update=no
if [ "${1:-}" = --update ]; then
	update=yes
	shift
fi
[ $# -eq 2 ] || { echo "usage: man/gen.sh [--update] MADVISOR SRCDIR" >&2; exit 2; }
madvisor=$1
src=$2
page=$src/man/madvisor.conf.5
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mv-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Markdown table rows (| a | b | ... |) to roff tagged paragraphs.
"$madvisor" config --keys >"$tmp/keys.md"
awk -v mode=keys -f "$here/mdtable.awk" "$tmp/keys.md" >"$tmp/keys"
sed -n '/<!-- fields:begin/,/<!-- fields:end -->/p' "$src/README.md" >"$tmp/fields.md"
awk -v mode=fields -f "$here/mdtable.awk" "$tmp/fields.md" >"$tmp/fields"
[ -s "$tmp/keys" ] || { echo "man/gen.sh: no keys from $madvisor config --keys" >&2; exit 1; }
[ -s "$tmp/fields" ] || { echo "man/gen.sh: no field table between <!-- fields:begin/end --> in README.md" >&2; exit 1; }

# Each profile: its name, its leading comment as text, and the keys it sets.
for conf in "$src"/configs/*.conf; do
	awk -f "$here/profile.awk" "$conf"
done >"$tmp/profiles"

# The page with each section replaced.
awk -v dir="$tmp" '
	/^\.\\" [a-z]+:begin/ {
		print
		name = $2; sub(/:begin$/, "", name)
		file = dir "/" name
		while ((getline line < file) > 0)
			print line
		close(file)
		skipping = 1
		next
	}
	/^\.\\" [a-z]+:end/ { skipping = 0 }
	!skipping { print }
' "$page" >"$tmp/page"

if [ "$update" = yes ]; then
	cat "$tmp/page" >"$page"
else
	cat "$tmp/page"
fi
