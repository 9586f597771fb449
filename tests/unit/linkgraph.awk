# linkgraph.awk - the link-level cycles among the library's objects.
# Input: lines "OBJECT T|U SYMBOL" (from nm). Output: one line per strongly
# connected component of more than one object: "SIZE obj obj ...".
$2 == "U" { use[$1] = use[$1] " " $3; objs[$1] = 1; next }
{ def[$3] = $1; objs[$1] = 1 }
END {
	for (o in objs) {
		n = split(use[o], s, " ")
		for (i = 1; i <= n; i++)
			if ((s[i] in def) && def[s[i]] != o)
				edge[o, def[s[i]]] = 1
	}
	# reachability by repeated relaxation (a few dozen objects)
	for (a in objs) for (b in objs) if ((a, b) in edge) reach[a, b] = 1
	for (k in objs) for (a in objs) if ((a, k) in reach) for (b in objs) if ((k, b) in reach) reach[a, b] = 1
	for (a in objs) {
		if (a in done) continue
		comp = a; size = 1; done[a] = 1
		for (b in objs) if (!(b in done) && ((a, b) in reach) && ((b, a) in reach)) {
			comp = comp " " b; size++; done[b] = 1
		}
		if (size > 1) print size, comp
	}
}
