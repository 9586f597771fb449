#!/bin/sh
# README's key reference is exactly what `madvisor config --keys` generates
# from the option table (regenerate it with that command when keys change).
set -u
echo "1..1"
want=$("$top_builddir/madvisor" config --keys)
have=$(sed -n '/<!-- keys:begin/,/<!-- keys:end -->/p' "$top_srcdir/README.md" | sed '1d;$d')
if [ -n "$want" ] && [ "$want" = "$have" ]; then
	echo "ok 1 - README key reference matches the option table"
else
	echo "not ok 1 - README key reference matches the option table"
	echo "# regenerate: madvisor config --keys"
fi
