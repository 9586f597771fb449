# mdtable.awk - a markdown table to roff tagged paragraphs, for man/gen.sh.
# mode=keys:   | key | type | default | meaning |  (`madvisor config --keys`)
# mode=fields: | field | meaning |                  (README.md's JSON fields)
# The header and separator rows are dropped; `code` becomes bold, markdown
# links keep their text.

# Inline markdown to roff.
function inline(s,    n, parts, i, out, p) {
	gsub(/\\/, "\\e", s)
	while (match(s, /\[[^]]*\]\([^)]*\)/)) {
		p = substr(s, RSTART + 1)
		sub(/\].*/, "", p)
		s = substr(s, 1, RSTART - 1) p substr(s, RSTART + RLENGTH)
	}
	n = split(s, parts, "`")
	out = ""
	for (i = 1; i <= n; i++) {
		p = parts[i]
		if (i % 2 == 0) {
			gsub(/-/, "\\-", p)
			p = "\\fB" p "\\fR"
		}
		out = out p
	}
	return out
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# A text line that roff must not read as a request.
function text(s) {
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}

/^\|/ {
	line = $0
	sub(/^\|/, "", line)
	sub(/\|[ \t]*$/, "", line)
	n = split(line, cell, "|")
	for (i = 1; i <= n; i++)
		cell[i] = trim(cell[i])
	if (cell[1] ~ /^-+$/ || cell[1] == "key" || cell[1] == "field")
		next
	print ".TP"
	if (mode == "keys") {
		def = cell[3] == "(empty)" ? "default empty" : "default " inline(cell[3])
		print text(inline("`" cell[1] "`") " (" cell[2] ", " def ")")
		print text(inline(cell[4]))
	} else {
		print text(inline(cell[1]))
		print text(inline(cell[2]))
	}
}
