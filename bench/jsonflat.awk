# jsonflat.awk - flatten a JSON document into one "path<TAB>value" line per
# scalar, e.g. "totals.madvise.calls	106", "calls[0].kind	"madvise"".
# Values are printed as their raw JSON tokens (strings keep their quotes and
# escapes), so a subtree can be turned back into JSON by the caller. Enough
# for the machine-written JSON of the library's reports and of bench/matrix;
# not a validator. Usage: awk -f jsonflat.awk FILE
{ doc = doc $0 "\n" }
END {
	n = length(doc)
	pos = 1
	value("")
}

function skip_ws() {
	while (pos <= n && index(" \t\r\n", substr(doc, pos, 1)))
		pos++
}

# A string token starting at pos (the opening quote), returned raw.
function string_token(   start, c) {
	start = pos
	pos++
	while (pos <= n) {
		c = substr(doc, pos, 1)
		if (c == "\\") { pos += 2; continue }
		pos++
		if (c == "\"")
			break
	}
	return substr(doc, start, pos - start)
}

function join(path, key) {
	return path == "" ? key : path "." key
}

function value(path,   c, key, idx, start) {
	skip_ws()
	c = substr(doc, pos, 1)
	if (c == "{") {
		pos++
		skip_ws()
		if (substr(doc, pos, 1) == "}") { pos++; return }
		for (;;) {
			skip_ws()
			key = string_token()
			key = substr(key, 2, length(key) - 2)
			skip_ws()
			pos++                     # the colon
			value(join(path, key))
			skip_ws()
			c = substr(doc, pos, 1)
			pos++
			if (c != ",")
				return
		}
	}
	if (c == "[") {
		pos++
		skip_ws()
		if (substr(doc, pos, 1) == "]") { pos++; return }
		for (idx = 0; ; idx++) {
			value(path "[" idx "]")
			skip_ws()
			c = substr(doc, pos, 1)
			pos++
			if (c != ",")
				return
		}
	}
	if (c == "\"") {
		printf "%s\t%s\n", path, string_token()
		return
	}
	start = pos
	while (pos <= n && !index(",}] \t\r\n", substr(doc, pos, 1)))
		pos++
	if (pos > start)
		printf "%s\t%s\n", path, substr(doc, start, pos - start)
	else
		pos++                             # garbage: step over it
}
