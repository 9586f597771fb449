# profile.awk - one profile file (configs/NAME.conf) as a roff tagged
# paragraph, for man/gen.sh: its name, its leading comment and its keys.
# The comment's first line reads "NAME - what it is for".
FNR == 1 {
	name = FILENAME
	sub(/.*\//, "", name)
	sub(/\.conf$/, "", name)
	print ".TP"
	print "\\fB" name "\\fR"
	incomment = 1
}
incomment && /^#/ {
	s = $0
	sub(/^#[ \t]?/, "", s)
	if (FNR == 1)
		sub("^" name "[ \t]+-[ \t]+", "", s)
	gsub(/\\/, "\\e", s)
	if (s ~ /^[.']/)
		s = "\\&" s
	if (s != "")
		print s
	next
}
{ incomment = 0 }
/^[ \t]*[^# \t]/ {
	keys[++nkeys] = $0
}
END {
	if (!nkeys)
		exit
	print ".IP"
	print "Sets:"
	print ".RS"
	print ".nf"
	for (i = 1; i <= nkeys; i++) {
		s = keys[i]
		gsub(/\\/, "\\e", s)
		gsub(/-/, "\\-", s)
		print "\\fB" s "\\fR"
	}
	print ".fi"
	print ".RE"
}
