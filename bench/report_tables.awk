# report_tables.awk - the markdown tables of bench/report, from the CSV files
# bench/matrix writes:
#   awk -f report_tables.awk runs.csv metrics.csv counts.csv
# Rows: workload x allocator x policy ("baseline" = without the library,
# otherwise the profile name). Every cell is the median over the runs that
# exited 0, with [min-max] where it matters; "vs base" is the row's median
# over the baseline's median for the same workload and allocator; "noise" is
# half the min-max spread over the median, in percent (a rough noise estimate
# from the repetitions). A ratio is marked "~" when it is within the noise
# of the two rows (|ratio - 1| <= noise(row) + noise(baseline)), e.g. "~0.97".
# Workloads with a "program" (real programs from Debian packages) get a
# section of their own: for each profile, what it changes against the
# baseline, and per program a sentence saying so, or saying that madvisor
# changes nothing measurable for it. A ratio is a change when it lies outside
# that noise AND at least MIN_CHANGE (2%) away from 1 AND, for memory, the
# medians differ by more than the library's own memory can account for
# (MIN_RSS_KB of RSS, MIN_PTE_KB of page tables).
BEGIN { FS = ","; MIN_CHANGE = 0.02; MIN_RSS_KB = 1024; MIN_PTE_KB = 16 }

FILENAME ~ /runs\.csv$/ {
	if (FNR == 1) { for (i = 1; i <= NF; i++) col[$i] = i; next }
	add_run()
	next
}
FILENAME ~ /metrics\.csv$/ {
	if (FNR > 1 && ($1 in okrun))
		addv(group_of[$1], "m:" $2, $3)
	next
}
FILENAME ~ /counts\.csv$/ {
	if (FNR == 1 || !(($1 "." $2 "." $3 ".r" $4) in okrun)) next
	k = $1 SUBSEP $5
	if (!(k in ccount)) { CK[++nck] = k }
	ccount[k]++
	if (!((k, $6) in cseen)) { cseen[k, $6] = 1; cdistinct[k]++; cvals[k] = cvals[k] (cvals[k] == "" ? "" : ", ") $6 }
	next
}

function addv(g, k, v) {
	if (v !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) return
	n = ++cnt[g, k]
	val[g, k, n] = v + 0
}

function add_run(   id, w, a, p, ex, i, c) {
	id = $1; w = $col["workload"]; a = $col["allocator"]; p = $col["policy"]; ex = $col["exit"]
	if (!(w in seenw)) { W[++nw] = w; seenw[w] = 1 }
	if (!((w, a) in seenwa)) { WA[w, ++nwa[w]] = a; seenwa[w, a] = 1 }
	if (!(p in seenp)) { seenp[p] = 1; if (p != "baseline") P[++np] = p }
	g = w SUBSEP a SUBSEP p
	exists[g] = 1
	group_of[id] = g
	metric[w] = $col["metric"]; better[w] = $col["better"]
	if (("program" in col) && $col["program"] != "" && $col["program"] != "-" && !(w in program)) {
		program[w] = $col["program"]
		if (!($col["program"] in seenprog)) { seenprog[$col["program"]] = 1; PR[++npr] = $col["program"] }
	}
	if (ex != 0) { nfail[g]++; FAILED[++nfailed] = id; fail_exit[id] = ex; return }
	okrun[id] = 1
	nok[g]++
	for (c in col)
		if (c != "run" && c != "workload" && c != "allocator" && c != "policy" && c != "metric" && c != "better")
			addv(g, c, $col[c])
	addv(g, "cpu_s", $col["user_s"] + $col["sys_s"])
	if (!(g in first_lib_alloc) && $col["lib_allocator"] != "-") first_lib_alloc[g] = $col["lib_allocator"]
}

# stat(g, k): sets S_med, S_min, S_max; returns the count (0: none).
function stat(g, k,   n, i, j, x, v) {
	n = cnt[g, k] + 0
	if (n == 0) { S_med = S_min = S_max = ""; return 0 }
	for (i = 1; i <= n; i++) v[i] = val[g, k, i]
	for (i = 2; i <= n; i++) {
		x = v[i]
		for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
		v[j + 1] = x
	}
	S_min = v[1]; S_max = v[n]
	S_med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	return n
}

function med(g, k) { return stat(g, k) ? S_med : "" }

function fmt(x,   a) {
	if (x == "") return "–"
	a = x < 0 ? -x : x
	if (a >= 100 || a == int(a)) return sprintf("%.0f", x)
	if (a >= 10) return sprintf("%.1f", x)
	if (a >= 1) return sprintf("%.2f", x)
	return sprintf("%.3g", x)
}

function noise(g, k) {
	if (stat(g, k) < 2 || S_med == 0) return ""
	return (S_max - S_min) / 2 / (S_med < 0 ? -S_med : S_med) * 100
}

# ratio cell: row median / baseline median, "~" within the noise.
function ratio(g, b, k,   m, bm, r, nz, nb, d) {
	if (g == b || !(b in exists)) return ""
	m = med(g, k); bm = med(b, k)
	if (m == "" || bm == "" || bm == 0) return "–"
	r = m / bm
	nz = noise(g, k); nb = noise(b, k)
	d = r - 1; if (d < 0) d = -d
	if (nz != "" && nb != "" && d * 100 <= nz + nb) return sprintf("~%.2f", r)
	return sprintf("%.2f", r)
}

function cell_range(g, k) {
	if (!stat(g, k)) return "–"
	return fmt(S_med) " [" fmt(S_min) "–" fmt(S_max) "]"
}

# value with its ratio to the baseline, scaled by div (kB -> MiB: 1024).
function with_ratio(g, b, k, div,   m, r) {
	m = med(g, k)
	if (m == "") return "–"
	r = ratio(g, b, k)
	return fmt(m / div) (r == "" ? "" : " (" r "×)")
}

function runs_cell(g) {
	return (nok[g] + 0) (nfail[g] ? " (+" nfail[g] " failed)" : "")
}

function pct(x) { return x == "" ? "–" : sprintf("±%.0f%%", x) }

# Iterate rows: for each workload, allocator, policy (baseline first).
function rows(fn,   i, j, k, w, a, p, g, b) {
	for (i = 1; i <= nw; i++) {
		w = W[i]
		for (j = 1; j <= nwa[w]; j++) {
			a = WA[w, j]
			b = w SUBSEP a SUBSEP "baseline"
			for (k = 0; k <= np; k++) {
				p = k == 0 ? "baseline" : P[k]
				g = w SUBSEP a SUBSEP p
				if (!(g in exists)) continue
				if (fn == "main") row_main(w, a, p, g, b)
				else if (fn == "cpu") row_cpu(w, a, p, g, b)
				else if (fn == "mean") row_mean(w, a, p, g, b)
				else if (fn == "lib" && p != "baseline") row_lib(w, a, p, g)
				else if (fn == "redis" && w == "redis") row_redis(a, p, g)
				else if (fn == "sparse" && w == "sparse_touch") row_sparse(a, p, g, b)
				else if (fn == "fault" && w == "fault_contention") row_fault(a, p, g, b)
				else if (fn == "repro" && p != "baseline") row_repro(w, a, p, g)
				else if (fn == "real" && p != "baseline" && (w in program)) row_real(w, a, p, g, b)
			}
		}
	}
}

function row_main(w, a, p, g, b) {
	printf "| %s | %s | %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n", w, a, p, runs_cell(g),
		metric[w], better[w], cell_range(g, "value"), ratio(g, b, "value"), pct(noise(g, "value")),
		with_ratio(g, b, "rss_peak_kb", 1024), with_ratio(g, b, "rss_final_kb", 1024),
		with_ratio(g, b, "pte_peak_kb", 1), with_ratio(g, b, "pte_final_kb", 1)
}

function row_cpu(w, a, p, g, b) {
	printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, a, p,
		with_ratio(g, b, "wall_s", 1), pct(noise(g, "wall_s")), fmt(med(g, "user_s")),
		with_ratio(g, b, "sys_s", 1), fmt(med(g, "minflt")), fmt(med(g, "vcsw")), fmt(med(g, "ivcsw")),
		fmt(med(g, "tlb_shootdowns_system"))
}

function row_mean(w, a, p, g, b) {
	printf "| %s | %s | %s | %s | %s |\n", w, a, p, with_ratio(g, b, "rss_mean_kb", 1024), with_ratio(g, b, "pte_mean_kb", 1)
}

function row_lib(w, a, p, g,   mb, kms, km2) {
	mb = med(g, "lib_madvise_bytes"); if (mb != "") mb = mb / 1048576
	kms = med(g, "lib_madvise_kernel_ns"); if (kms != "") kms = kms / 1e6
	km2 = med(g, "lib_munmap_kernel_ns"); if (km2 != "") km2 = km2 / 1e6
	printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, a, p,
		(g in first_lib_alloc) ? first_lib_alloc[g] : "–",
		fmt(med(g, "lib_madvise_calls")), fmt(mb), fmt(kms), fmt(med(g, "lib_munmap_calls")), fmt(km2),
		fmt(med(g, "lib_mmap_calls")), fmt(med(g, "lib_pmd_ranges")), fmt(med(g, "lib_policy_converted")),
		fmt(med(g, "lib_policy_pmd_cores"))
}

function mib(g, k,   m) { m = med(g, k); return m == "" ? "–" : fmt(m / 1024) }

function row_redis(a, p, g) {
	printf "| %s | %s | %s | %s / %s | %s | %s / %s | %s | %s / %s / %s / %s | %s / %s / %s / %s |\n", a, p,
		fmt(med(g, "m:fill_ops_per_sec")), fmt(med(g, "m:fill_p50_ms")), fmt(med(g, "m:fill_p99_ms")),
		fmt(med(g, "m:delete_ops_per_sec")), fmt(med(g, "m:delete_p50_ms")), fmt(med(g, "m:delete_p99_ms")),
		fmt(med(g, "m:flush_ms")),
		mib(g, "m:rss_kb_fill"), mib(g, "m:rss_kb_delete"), mib(g, "m:rss_kb_flush"), mib(g, "m:rss_kb_idle"),
		fmt(med(g, "m:pte_kb_fill")), fmt(med(g, "m:pte_kb_delete")), fmt(med(g, "m:pte_kb_flush")),
		fmt(med(g, "m:pte_kb_idle"))
}

function row_sparse(a, p, g, b) {
	printf "| %s | %s | %s | %s | %s | %s |\n", a, p, fmt(med(g, "m:pte_touched_kb")),
		fmt(med(g, "m:pte_freed_kb")), with_ratio(g, b, "m:pte_idle_kb", 1), fmt(med(g, "m:pte_max_kb"))
}

function row_fault(a, p, g, b) {
	printf "| %s | %s | %s | %s | %s | %s |\n", a, p, with_ratio(g, b, "m:faults_per_sec_per_thread", 1),
		pct(noise(g, "m:faults_per_sec_per_thread")), with_ratio(g, b, "m:min_thread_faults_per_sec", 1),
		fmt(med(g, "m:disturber_ops"))
}

# change(g, b, k): "yes" when the row's median differs from the baseline's
# beyond the noise of both and by at least MIN_CHANGE, "no" when it does not,
# "?" without a noise estimate (one run), "" when not comparable. Sets CH_r.
function change(g, b, k,   m, bm, d, nz, nb) {
	m = med(g, k); bm = med(b, k)
	if (m == "" || bm == "" || bm == 0) return ""
	CH_r = m / bm
	d = m - bm; if (d < 0) d = -d
	if ((k ~ /^rss_/ && d <= MIN_RSS_KB) || (k ~ /^pte_/ && d <= MIN_PTE_KB)) return "no"
	d = CH_r - 1; if (d < 0) d = -d
	nz = noise(g, k); nb = noise(b, k)
	if (nz == "" || nb == "") return "?"
	return (d * 100 > nz + nb && d >= MIN_CHANGE) ? "yes" : "no"
}

# verdict(w, g, b): what the profile changes, in words; counts the rows per
# program (real_n, real_changed, real_unknown) and lists the changes (real_list).
function verdict(w, g, b,   i, n, k, name, lowbetter, c, out, unknown, word) {
	if (nok[g] + 0 == 0 || nok[b] + 0 == 0) return "no successful run to compare"
	n = split("value wall_s cpu_s rss_peak_kb rss_final_kb pte_peak_kb", k, " ")
	split(metric[w] "|wall|CPU|peak RSS|final RSS|peak VmPTE", name, "|")
	out = ""; unknown = 0
	for (i = 1; i <= n; i++) {
		c = change(g, b, k[i])
		if (c == "?") unknown++
		if (c != "yes") continue
		lowbetter = (i == 1) ? (better[w] == "lower") : 1
		word = ((CH_r < 1) == (lowbetter == 1)) ? "better" : "worse"
		out = out (out == "" ? "" : ", ") name[i] " " sprintf("%.2f", CH_r) "× (" word ")"
	}
	real_n[program[w]]++
	if (out != "") {
		real_changed[program[w]]++
		real_list[program[w]] = real_list[program[w]] (real_list[program[w]] == "" ? "" : "; ") \
			w " under " WA_name(g) " with " P_name(g) ": " out
		return "changed: " out
	}
	if (unknown) { real_unknown[program[w]]++; return "no noise estimate (one run)" }
	return "no measurable change"
}
function WA_name(g,   x) { split(g, x, SUBSEP); return x[2] }
function P_name(g,   x) { split(g, x, SUBSEP); return x[3] }

function row_real(w, a, p, g, b,   purges) {
	purges = fmt(med(g, "lib_munmap_calls")) " / " fmt(med(g, "lib_madvise_calls") + med(g, "lib_process_madvise_calls"))
	printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n", program[w], w, a, p,
		ratio(g, b, "value"), ratio(g, b, "wall_s"), ratio(g, b, "cpu_s"), ratio(g, b, "rss_peak_kb"),
		ratio(g, b, "rss_final_kb"), ratio(g, b, "pte_peak_kb"), purges,
		fmt(med(g, "lib_munmap_recycled")), fmt(med(g, "lib_munmap_deferred")), verdict(w, g, b)
}

function real_programs(   i, j, pr, ws) {
	print ""
	print "## Real programs: what each profile changes"
	print ""
	print "Real programs (from Debian packages, or the command given), each doing a fixed amount of work"
	print "(`meta.json` has the commands)."
	print "Each profile against the baseline (the same program and allocator without the library): the"
	print "program's own figure, wall time, CPU time (user + sys), peak and final RSS, peak VmPTE (ratios,"
	print "\"~\" = within the noise), the munmap and madvise calls the library saw the program make (medians),"
	print "and the munmaps the profile recycled or deferred. A ratio counts as a change when it lies outside"
	printf "the noise of both rows and at least %d%% away from 1, and for memory when the medians differ by\n", MIN_CHANGE * 100
	printf "more than %d MiB of RSS or %d kB of page tables (the library\047s own memory is of that order: about\n", MIN_RSS_KB / 1024, MIN_PTE_KB
	print "0.4 MiB and one or two page tables in a small program); anything else is no measurable change."
	print ""
	print "| program | workload | allocator | profile | figure | wall | CPU | peak RSS | final RSS | peak VmPTE | munmap / madvise calls | recycled / deferred | what changed |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	rows("real")
	print ""
	for (i = 1; i <= npr; i++) {
		pr = PR[i]; ws = ""
		for (j = 1; j <= nw; j++) if ((W[j] in program) && program[W[j]] == pr) ws = ws (ws == "" ? "" : ", ") W[j]
		if (real_n[pr] + 0 == 0)
			printf "- **%s** (%s): no profile run to compare.\n", pr, ws
		else if (real_changed[pr] + 0 > 0)
			printf "- **%s** (%s): measurable changes in %d of %d comparison%s (profile × allocator against the baseline): %s.\n", pr, ws,
				real_changed[pr], real_n[pr], (real_n[pr] == 1 ? "" : "s"), real_list[pr]
		else if (real_unknown[pr] == real_n[pr])
			printf "- **%s** (%s): cannot tell: every comparison had one run only (no noise estimate); run with --reps 2 or more.\n", pr, ws
		else if (real_unknown[pr] + 0 > 0)
			printf "- **%s** (%s): no measurable change in the %d comparisons with a noise estimate; %d more had one run only.\n",
				pr, ws, real_n[pr] - real_unknown[pr], real_unknown[pr]
		else
			printf "- **%s** (%s): madvisor changes nothing measurable for this program: every profile under every allocator is within the noise of the baseline (%d comparison%s).\n",
				pr, ws, real_n[pr], (real_n[pr] == 1 ? "" : "s")
	}
}

function spread(g, k) {
	if (!stat(g, k)) return "–"
	return S_min == S_max ? fmt(S_min) " (same)" : fmt(S_min) "–" fmt(S_max)
}

function row_repro(w, a, p, g) {
	if (nok[g] < 2) return
	printf "| %s | %s | %s | %s | %s | %s | %s |\n", w, a, p, nok[g],
		spread(g, "lib_mmap_calls"), spread(g, "lib_munmap_calls"), spread(g, "lib_madvise_calls")
}

END {
	print "## Main table"
	print ""
	print "Headline metric of each workload (its direction in parentheses), median [min–max] over the runs;"
	print "vs base = median / baseline median (same workload and allocator; \"~\" = within the noise);"
	print "noise = half the min–max spread over the median. RSS in MiB, VmPTE (page tables) in kB, each"
	print "with its ratio to the baseline. Peak RSS is the kernel's high-water mark, peak VmPTE the largest"
	print "sample; final = as the process exits (it is stopped at exit and read before its memory goes)."
	print ""
	print "| workload | allocator | policy | runs | metric | median [min–max] | vs base | noise | peak RSS MiB | final RSS MiB | peak VmPTE kB | final VmPTE kB |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|"
	rows("main")
	if (nfailed > 0) {
		print ""
		print "## Failed runs"
		print ""
		print "Runs whose program exited with a status other than 0 (128 + N: killed by signal N; 124: time"
		print "limit), left out of every table; their output is in runs/RUN/out and err."
		print ""
		print "| run | exit status |"
		print "|---|---|"
		for (i = 1; i <= nfailed; i++) printf "| %s | %s |\n", FAILED[i], fail_exit[FAILED[i]]
	}
	print ""
	print "## Time and kernel activity"
	print ""
	print "Medians. TLB shootdowns are SYSTEM-WIDE (the TLB line of /proc/interrupts over the run: other"
	print "processes count too). Context switches: voluntary / involuntary."
	print ""
	print "| workload | allocator | policy | wall s | wall noise | user s | sys s | minor faults | vol. cs | invol. cs | TLB shootdowns (system) |"
	print "|---|---|---|---|---|---|---|---|---|---|---|"
	rows("cpu")
	if ("rss_mean_kb" in col) {
		print ""
		print "## Memory over time"
		print ""
		print "Mean of the RSS and VmPTE samples over each run (medians over the runs, with the ratio to the"
		print "baseline): what the program held on average, where peak and final show two instants."
		print ""
		print "| workload | allocator | policy | mean RSS MiB | mean VmPTE kB |"
		print "|---|---|---|---|---|"
		rows("mean")
	}
	print ""
	print "## What the library counted (library runs, medians)"
	print ""
	print "Calls the library intercepted (glibc malloc's own purges are invisible to any preload library);"
	print "kernel ms = time inside those calls; pmd ranges = ranges covering a whole aligned 2 MiB; converted"
	print "and pmd cores = what the profile's strategies changed."
	print ""
	print "| workload | allocator | policy | detected allocator | madvise calls | madvise MiB | madvise kernel ms | munmap calls | munmap kernel ms | mmap calls | pmd ranges | converted | pmd cores |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	rows("lib")
	if (npr > 0) real_programs()
	if ("redis" in seenw) {
		print ""
		print "## redis-server phases"
		print ""
		print "redis-benchmark: fill (SET every key), delete 90%, FLUSHALL, idle. ops/s and latency p50 / p99 in"
		print "ms; RSS (MiB) and VmPTE (kB) of the server at the end of fill / delete / flush / idle."
		print ""
		print "| allocator | policy | fill ops/s | fill p50 / p99 | delete ops/s | delete p50 / p99 | flush ms | RSS MiB fill / delete / flush / idle | VmPTE kB fill / delete / flush / idle |"
		print "|---|---|---|---|---|---|---|---|---|"
		rows("redis")
	}
	if ("sparse_touch" in seenw) {
		print ""
		print "## Sparse touch: page tables (kB, medians, last cycle)"
		print ""
		print "| allocator | policy | VmPTE touched | right after free | after idle (vs base) | max |"
		print "|---|---|---|---|---|---|"
		rows("sparse")
	}
	if ("fault_contention" in seenw) {
		print ""
		print "## Fault contention: faults/s per faulting thread"
		print ""
		print "| allocator | policy | faults/s per thread (vs base) | noise | slowest thread (vs base) | disturber ops |"
		print "|---|---|---|---|---|---|"
		rows("fault")
	}
	print ""
	print "## Reproducibility"
	print ""
	print "Counts the workloads derive from their fixed seeds, over every run that exited 0 (all allocators"
	print "and policies); two runs of the same matrix give the same counts.csv:"
	print ""
	print "| workload | count | runs | distinct values | identical |"
	print "|---|---|---|---|---|"
	for (i = 1; i <= nck; i++) {
		split(CK[i], kk, SUBSEP)
		printf "| %s | %s | %d | %s | %s |\n", kk[1], kk[2], ccount[CK[i]],
			(cdistinct[CK[i]] <= 3 ? cvals[CK[i]] : cdistinct[CK[i]] " values"),
			(cdistinct[CK[i]] == 1 ? "yes" : "NO")
	}
	print ""
	print "Calls the library counted, over the repetitions of each row (the program's own mmap/munmap"
	print "repeat exactly; purges by decay-based allocators follow the clock and vary):"
	print ""
	print "| workload | allocator | policy | runs | mmap calls | munmap calls | madvise calls |"
	print "|---|---|---|---|---|---|---|"
	rows("repro")
}
