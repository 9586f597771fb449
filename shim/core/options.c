/* options.c - the table of configuration keys and their value parsers.
 *
 * Every key is declared once below (in the style of mimalloc's src/options.c):
 * name, type, where it lives in struct mv_options, default, range and help.
 * The config parser, print_config, `madvisor config --check` and `--help` all
 * read this table. Runs in the library constructor: no malloc, no stdio. */
#include <string.h>
#include "core/options.h"
#include "sys/outbuf.h"

#define FIELD_SIZE(f) sizeof(((struct mv_options *)0)->f)

#define BOOL(id, field, def, help) \
	[id] = { #field, MV_T_BOOL, offsetof(struct mv_options, field), FIELD_SIZE(field), \
		 def, 0, 1, help, 0 }
#define UINT(id, field, def, lo, hi, help) \
	[id] = { #field, MV_T_UINT, offsetof(struct mv_options, field), FIELD_SIZE(field), \
		 def, lo, hi, help, 0 }
#define PATH(id, field, def, help) \
	[id] = { #field, MV_T_STRING, offsetof(struct mv_options, field), FIELD_SIZE(field), \
		 def, 0, 0, help, MV_OPT_F_PATH }

#define ENUM(id, field, def, names, help) \
	[id] = { #field, MV_T_ENUM, offsetof(struct mv_options, field), FIELD_SIZE(field), \
		 def, 0, 0, help, 0, names }

static const char *const madvise_modes[] = { "passthrough", "free_to_dontneed", "dontneed_to_free", NULL };
/* Keys with a dotted name ("jemalloc.dirty_decay_ms") for field `field`. */
#define NKEY(id, name, type, field, def, lo, hi, help, flags, names) \
	[id] = { name, type, offsetof(struct mv_options, field), FIELD_SIZE(field), def, lo, hi, help, flags, names }
static const char *const live_signals[] = { "off", "SIGUSR1", "SIGUSR2", NULL };
static const char *const munmap_modes[] = { "passthrough", "recycle", "defer", NULL };
static const char *const callers[] = { "any", "allocator", "program", NULL };

const struct mv_option_desc mv_option_table[MV_OPT_COUNT] = {
	BOOL(MV_OPT_ENABLED, enabled, "true",
	     "false: every call passes straight through and nothing is counted"),
	BOOL(MV_OPT_STATS, stats, "false",
	     "print a table of what was intercepted when the program exits"),
	PATH(MV_OPT_STATS_FILE, stats_file, "",
	     "write the statistics as JSON to this file at exit; %p = pid"),
	PATH(MV_OPT_STATS_TEXT_FILE, stats_text_file, "",
	     "write the stats table to this file instead of stderr; %p = pid"),
	BOOL(MV_OPT_PRINT_CONFIG, print_config, "false",
	     "print the effective configuration on stderr at start-up"),
	BOOL(MV_OPT_STRICT, strict, "false",
	     "a bad configuration exits with status 2 instead of running as plain passthrough"),
	UINT(MV_OPT_TIME_EVERY, time_every, "16", 1, 65536,
	     "time one call in N of each kind (rounded down to a power of two; the first is always timed);"
	     " kernel time is estimated from those. 1 times every call"),
	ENUM(MV_OPT_MADVISE, madvise, "passthrough", madvise_modes,
	     "purges (of the callers madvise.callers names): passthrough, free_to_dontneed (MADV_FREE sent as"
	     " MADV_DONTNEED: RSS drops at once), or dontneed_to_free (MADV_DONTNEED sent as MADV_FREE; the"
	     " calls of tcmalloc and mimalloc only, never the program's)"),
	BOOL(MV_OPT_PT_RECLAIM, pt_reclaim, "false",
	     "purges (of the callers madvise.callers names) covering whole 2 MiB-aligned regions send that core"
	     " as one MADV_DONTNEED, so the kernel frees its page table (PT_RECLAIM, Linux 6.14+); on older"
	     " kernels, with a munmap strategy on, cores of plain private anonymous mappings are replaced with"
	     " fresh ones instead"),
	NKEY(MV_OPT_MADVISE_CALLERS, "madvise.callers", MV_T_ENUM, madvise_callers, "any", 0, 0,
	     "madvise and pt_reclaim: whose MADV_FREE and MADV_DONTNEED calls they transform: any (safe for"
	     " every caller: MADV_FREE allows zero-fill, an aligned core and its edges read as one call),"
	     " allocator (those made by the malloc implementation) or program (all others); the rest pass"
	     " through", 0, callers),
	NKEY(MV_OPT_JEMALLOC_DIRTY_DECAY_MS, "jemalloc.dirty_decay_ms", MV_T_UINT, jemalloc_dirty_decay_ms, "",
	     0, 2147483647, "jemalloc: purge dirty pages after this many ms (all arenas; unset: jemalloc's own, 10000)",
	     MV_OPT_F_UNSET, NULL),
	NKEY(MV_OPT_JEMALLOC_MUZZY_DECAY_MS, "jemalloc.muzzy_decay_ms", MV_T_UINT, jemalloc_muzzy_decay_ms, "",
	     0, 2147483647, "jemalloc: muzzy (MADV_FREE'd) pages decay time in ms (unset: jemalloc's own, 0)",
	     MV_OPT_F_UNSET, NULL),
	NKEY(MV_OPT_JEMALLOC_BACKGROUND_THREAD, "jemalloc.background_thread", MV_T_BOOL, jemalloc_background_thread,
	     "", 0, 1, "jemalloc: purge from jemalloc's background threads (unset: jemalloc's own, false)",
	     MV_OPT_F_UNSET, NULL),
	NKEY(MV_OPT_TCMALLOC_AGGRESSIVE_DECOMMIT, "tcmalloc.aggressive_decommit", MV_T_BOOL,
	     tcmalloc_aggressive_decommit, "", 0, 1,
	     "tcmalloc: return every freed span at once (tcmalloc.aggressive_memory_decommit; unset: tcmalloc's own)",
	     MV_OPT_F_UNSET, NULL),
	NKEY(MV_OPT_TCMALLOC_RELEASE_RATE, "tcmalloc.release_rate", MV_T_UINT, tcmalloc_release_rate, "", 0, 100,
	     "tcmalloc: background release rate, 0 = never (TCMALLOC_RELEASE_RATE; unset: tcmalloc's own, 1)",
	     MV_OPT_F_UNSET, NULL),
	NKEY(MV_OPT_MIMALLOC_PURGE_DELAY, "mimalloc.purge_delay", MV_T_UINT, mimalloc_purge_delay, "", 0, 2147483647,
	     "mimalloc: ms before freed memory is purged (mi_option_decommit_delay in 2.0, purge_delay in 2.1;"
	     " unset: mimalloc's own)", MV_OPT_F_UNSET, NULL),
	NKEY(MV_OPT_ADAPTIVE, "adaptive", MV_T_BOOL, adaptive, "false", 0, 1,
	     "purge the allocator as a whole (arena.4096.purge, ReleaseFreeMemory, mi_collect, malloc_trim) when"
	     " memory pressure or adaptive.target_rss says so; otherwise leave its purging relaxed", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_TARGET_RSS, "adaptive.target_rss", MV_T_UINT, adaptive_target_rss, "0", 0, UINT64_MAX,
	     "adaptive: purge while the process's RSS is above this many bytes (k, m, g suffixes); 0 = no target",
	     0, NULL),
	NKEY(MV_OPT_ADAPTIVE_IDLE_MS, "adaptive.idle_ms", MV_T_UINT, adaptive_idle_ms, "0", 0, 3600000,
	     "adaptive: once the allocator has made no allocation for this many ms (its own counters, read"
	     " every adaptive.interval_ms), purge all its free memory once, then wait for activity again;"
	     " 0 = off", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_INTERVAL_MS, "adaptive.interval_ms", MV_T_UINT, adaptive_interval_ms, "200", 10, 60000,
	     "adaptive: how often memory pressure is read while there is none", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_PSI_HIGH, "adaptive.psi_high", MV_T_UINT, adaptive_psi_high, "100", 1, 10000,
	     "adaptive: memory pressure (PSI \"some\" avg10, hundredths of a percent) at which purging starts", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_PSI_LOW, "adaptive.psi_low", MV_T_UINT, adaptive_psi_low, "10", 0, 10000,
	     "adaptive: pressure below which purging stops again (after adaptive.hold_ms)", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_HOLD_MS, "adaptive.hold_ms", MV_T_UINT, adaptive_hold_ms, "1000", 0, 3600000,
	     "adaptive: keep purging this long after the last sign of pressure (hysteresis)", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_CPU_BUDGET, "adaptive.cpu_budget", MV_T_UINT, adaptive_cpu_budget, "100", 1, 1000,
	     "adaptive: CPU time the controller's purges may take, per mille of one CPU", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_MIN_FREE, "adaptive.min_free", MV_T_UINT, adaptive_min_free, "1m", 0, UINT64_MAX,
	     "adaptive: do not purge for less free-but-resident memory than this (bytes; k, m, g)", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_PRESSURE_FILE, "adaptive.pressure_file", MV_T_STRING, adaptive_pressure_file, "", 0, 0,
	     "adaptive: read this file instead of /proc/pressure/memory (a test feature: same format)", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_CGROUP_DIR, "adaptive.cgroup_dir", MV_T_STRING, adaptive_cgroup_dir, "", 0, 0,
	     "adaptive: read memory.current/high/events (v2) or memory.usage_in_bytes/limit_in_bytes (v1) here"
	     " instead of the process's own cgroup (a test feature)", 0, NULL),
	NKEY(MV_OPT_LIVE_SIGNAL, "live_signal", MV_T_ENUM, live_signal, "off", 0, 0,
	     "off, SIGUSR1 or SIGUSR2: on this signal write the live stats files now (the handler is installed"
	     " only when set)", 0, live_signals),
	NKEY(MV_OPT_LIVE_FILE, "live_file", MV_T_STRING, live_file, "", 0, 0,
	     "write the stats JSON here while the program runs (every live_interval_ms, on live_signal);"
	     " replaced atomically; %p = pid", MV_OPT_F_PATH, NULL),
	NKEY(MV_OPT_LIVE_PROM_FILE, "live_prom_file", MV_T_STRING, live_prom_file, "", 0, 0,
	     "the same in Prometheus text format (node_exporter textfile collector: name it *.prom); %p = pid",
	     MV_OPT_F_PATH, NULL),
	NKEY(MV_OPT_LIVE_INTERVAL_MS, "live_interval_ms", MV_T_UINT, live_interval_ms, "10000", 0, 86400000,
	     "how often the live files are rewritten; 0 = only on live_signal", 0, NULL),
	NKEY(MV_OPT_ATTRIBUTION, "attribution", MV_T_BOOL, attribution, "false", 0, 1,
	     "sample the call stacks of purges (madvise DONTNEED/FREE/REMOVE/PAGEOUT, process_madvise, munmap) and"
	     " report the top call sites (needs libunwind)", 0, NULL),
	NKEY(MV_OPT_ATTRIBUTION_EVERY, "attribution.every", MV_T_UINT, attribution_every, "64", 1, 1048576,
	     "attribution: sample one purge call in N per thread", 0, NULL),
	NKEY(MV_OPT_ATTRIBUTION_BYTES, "attribution.bytes", MV_T_UINT, attribution_bytes, "0", 0, UINT64_MAX,
	     "attribution: sample by bytes instead: one call each time a thread's purged bytes pass this many"
	     " (k, m, g); 0 = by calls", 0, NULL),
	NKEY(MV_OPT_ATTRIBUTION_TOP, "attribution.top", MV_T_UINT, attribution_top, "10", 1, 30,
	     "attribution: call sites shown in reports", 0, NULL),
	NKEY(MV_OPT_PTMODEL, "ptmodel", MV_T_BOOL, ptmodel, "false", 0, 1,
	     "model the process's page tables from its calls and /proc/self/pagemap samples; the stats show"
	     " page-table bytes, stranded tables (no entry left) and bytes reclaimable", 0, NULL),
	NKEY(MV_OPT_PTMODEL_BUDGET, "ptmodel.budget", MV_T_UINT, ptmodel_budget, "2", 1, 100,
	     "ptmodel: CPU its sampling may use, in percent of one CPU", 0, NULL),
	NKEY(MV_OPT_SWEEP, "sweep", MV_T_BOOL, sweep, "false", 0, 1,
	     "reclaim stranded page tables in the background, each region checked and zapped under"
	     " userfaultfd so no data can be lost (turns ptmodel on; needs full userfaultfd)", 0, NULL),
	NKEY(MV_OPT_SWEEP_MAX, "sweep.max", MV_T_UINT, sweep_max, "512", 1, 65536,
	     "sweep: stranded 2 MiB regions reclaimed per second, at most", 0, NULL),
	NKEY(MV_OPT_TRACE, "trace", MV_T_STRING, trace, "", 0, 0,
	     "record every intercepted call (and the page-table model's samples) in this binary file for"
	     " `madvisor replay`; %p = pid", MV_OPT_F_PATH, NULL),
	NKEY(MV_OPT_TRACE_MAX, "trace.max", MV_T_UINT, trace_max, "256m", 4096, UINT64_MAX,
	     "trace: the file stops growing at this many bytes (k, m, g); later records are counted as dropped",
	     0, NULL),
	NKEY(MV_OPT_ADAPTIVE_PURGE_INTERVAL_MS, "adaptive.purge_interval_ms", MV_T_UINT, adaptive_purge_interval_ms,
	     "10", 5, 60000, "adaptive: under pressure, read the allocator and purge this often (at most)", 0, NULL),
	NKEY(MV_OPT_ADAPTIVE_EAGER, "adaptive.eager", MV_T_BOOL, adaptive_eager, "true", 0, 1,
	     "adaptive: under pressure also switch mimalloc (purge delay 0) and tcmalloc (aggressive decommit) to"
	     " their eager setting, restored when the pressure is gone: their allocator-wide purge cannot reach"
	     " other threads' free memory", 0, NULL),
	NKEY(MV_OPT_MUNMAP, "munmap", MV_T_ENUM, munmap, "passthrough", 0, 0,
	     "munmap of private anonymous ranges the program mapped through madvisor: passthrough, recycle"
	     " (keep them and serve later read-write private anonymous mmap(NULL, ...) calls, zeroed) or"
	     " defer (return at once, unmap later in coalesced calls); any call touching a kept range first"
	     " unmaps it, so results and errors stay the kernel's", 0, munmap_modes),
	NKEY(MV_OPT_MUNMAP_CACHE_BYTES, "munmap.cache_bytes", MV_T_UINT, munmap_cache_bytes, "64m", 4096,
	     1ULL << 40, "munmap: bytes kept (recycle) or queued (defer) over all threads, at most (k, m, g)",
	     0, NULL),
	NKEY(MV_OPT_MUNMAP_CACHE_ENTRIES, "munmap.cache_entries", MV_T_UINT, munmap_cache_entries, "64", 4,
	     1024, "munmap: ranges kept or queued per arena (threads share 64 arenas), at most", 0, NULL),
	NKEY(MV_OPT_MUNMAP_MAX_RANGE, "munmap.max_range", MV_T_UINT, munmap_max_range, "64m", 4096, 1ULL << 30,
	     "munmap: larger munmaps and mmaps pass through (k, m, g)", 0, NULL),
	NKEY(MV_OPT_MUNMAP_ZERO_MEMSET_MAX, "munmap.zero_memset_max", MV_T_UINT, munmap_zero_memset_max, "64k", 0,
	     1ULL << 30, "munmap.recycle_resident:true: ranges up to this size are cleared with memset when handed out;"
	     " larger ones too when mostly resident (up to 2 MiB), else only where /proc/self/pagemap shows"
	     " data (dense 2 MiB chunks cleared, sparse ones dropped)", 0, NULL),
	NKEY(MV_OPT_MUNMAP_MAX_AGE_MS, "munmap.max_age_ms", MV_T_UINT, munmap_max_age_ms, "1000", 1, 3600000,
	     "munmap: kept or queued ranges go back to the kernel after this many milliseconds", 0, NULL),
	NKEY(MV_OPT_MUNMAP_ZAP_FIRST, "munmap.zap_first", MV_T_BOOL, munmap_zap_first, "false", 0, 1,
	     "munmap:defer: drop the pages at once with MADV_DONTNEED (RSS falls now) and queue only the unmap",
	     0, NULL),
	NKEY(MV_OPT_MUNMAP_PSI, "munmap.psi", MV_T_UINT, munmap_psi, "1000", 0, 10000,
	     "munmap: give everything kept back when /proc/pressure/memory \"some\" avg10 reaches this, in"
	     " hundredths of a percent (1000 = 10%); 0 = never", 0, NULL),
	NKEY(MV_OPT_MUNMAP_CALLERS, "munmap.callers", MV_T_ENUM, munmap_callers, "any", 0, 0,
	     "munmap: whose mmap and munmap calls the strategy takes: any, allocator (those made by the"
	     " malloc implementation: jemalloc extents, mimalloc segments, tcmalloc spans) or program"
	     " (all others: mmap-per-buffer code); the rest pass through", 0, callers),
	NKEY(MV_OPT_MUNMAP_RECYCLE_RESIDENT, "munmap.recycle_resident", MV_T_BOOL, munmap_recycle_resident,
	     "false", 0, 1, "munmap:recycle: false: a recycled range is handed out with its pages dropped"
	     " (MADV_DONTNEED), exactly a fresh mapping: nothing resident until touched; true: its pages stay"
	     " resident, cleared by memset (faster, but mincore, MLOCK_ONFAULT, RSS and fault counts see them"
	     " before they are touched)", 0, NULL),
};

#undef BOOL
#undef UINT
#undef PATH
#undef ENUM
#undef NKEY

int mv_option_find(const char *name, size_t len)
{
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const char *n = mv_option_table[i].name;
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return i;
	}
	return -1;
}

void mv_options_defaults(struct mv_options *o)
{
	char reason[128];

	memset(o, 0, sizeof(*o));
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		/* An empty string default is the zeroed field; everything else goes
		 * through the parser (tests/unit/test_config checks each parses). */
		if (d->def[0])
			(void)mv_option_parse(d, o, d->def, strlen(d->def), reason, sizeof(reason));
		o->source[i] = MV_SRC_DEFAULT;
	}
}

/* ---- reasons -------------------------------------------------------------- */

/* The offending value, quoted, cut short and with non-printables shown as '?',
 * so that the error stays on one line whatever the input was. */
static void out_got(struct mv_outbuf *b, const char *val, size_t len)
{
	enum { SHOW = 40 };
	mv_out_str(b, "got '");
	for (size_t i = 0; i < len && i < SHOW; i++) {
		unsigned char c = (unsigned char)val[i];
		mv_out_char(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	if (len > SHOW)
		mv_out_str(b, "...");
	mv_out_char(b, '\'');
}

static int fail(char *reason, size_t cap, const char *what, const char *val, size_t len)
{
	struct mv_outbuf b;
	mv_out_init(&b, reason, cap, -1);
	mv_out_str(&b, what);
	if (val) {
		mv_out_str(&b, ", ");
		out_got(&b, val, len);
	}
	mv_out_cstr(&b);
	return -1;
}

/* ---- parsers -------------------------------------------------------------- */

static int lower_eq(const char *val, size_t len, const char *word)
{
	size_t n = strlen(word);
	if (n != len)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = val[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return 0;
	}
	return 1;
}

static int parse_bool(const char *val, size_t len, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (lower_eq(val, len, yes[i])) {
			*out = true;
			return 0;
		}
		if (lower_eq(val, len, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int parse_uint(const struct mv_option_desc *d, const char *val, size_t len, uint64_t *out,
		      char *reason, size_t cap)
{
	uint64_t v = 0;
	size_t i = 0;
	int overflow = 0;

	for (; i < len && val[i] >= '0' && val[i] <= '9'; i++) {
		unsigned digit = (unsigned)(val[i] - '0');
		if (v > (UINT64_MAX - digit) / 10)
			overflow = 1;
		else
			v = v * 10 + digit;
	}
	if (i == 0)
		return fail(reason, cap, "expected a number (optional k, m or g suffix)", val, len);
	if (i < len) {
		unsigned shift;
		switch (val[i]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default:
			return fail(reason, cap, "unknown suffix (use k, m or g)", val, len);
		}
		if (i + 1 != len)
			return fail(reason, cap, "unknown suffix (use k, m or g)", val, len);
		if (v > (UINT64_MAX >> shift))
			overflow = 1;
		else
			v <<= shift;
	}
	if (overflow || v < d->min || v > d->max) {
		char what[80];
		struct mv_outbuf b;
		mv_out_init(&b, what, sizeof(what), -1);
		mv_out_str(&b, "out of range ");
		mv_out_u64(&b, d->min);
		mv_out_str(&b, "..");
		mv_out_u64(&b, d->max);
		return fail(reason, cap, mv_out_cstr(&b), val, len);
	}
	*out = v;
	return 0;
}

static void store_uint(void *field, size_t size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(field, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(field, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(field, &x, 4); break; }
	default: memcpy(field, &v, 8); break;
	}
}

static int check_string(const struct mv_option_desc *d, const char *val, size_t len,
			char *reason, size_t cap)
{
	if (len == 0)
		return fail(reason, cap, "expected a non-empty value", NULL, 0);
	if (len >= d->size) {
		char what[80];
		struct mv_outbuf b;
		mv_out_init(&b, what, sizeof(what), -1);
		mv_out_str(&b, "value too long (");
		mv_out_u64(&b, len);
		mv_out_str(&b, " bytes, limit ");
		mv_out_u64(&b, d->size - 1);
		mv_out_char(&b, ')');
		return fail(reason, cap, mv_out_cstr(&b), NULL, 0);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)val[i];
		if (c < 0x20 || c >= 0x7f)
			return fail(reason, cap, "control or non-ASCII character in value", val, len);
	}
	if (!(d->flags & MV_OPT_F_PATH))
		return 0;
	/* A file name: %p (the pid) and %% are expanded when the file is written;
	 * any other '%' is most likely a typo, and a trailing '/' names a directory. */
	for (size_t i = 0; i < len; i++) {
		if (val[i] != '%')
			continue;
		if (i + 1 == len || (val[i + 1] != 'p' && val[i + 1] != '%'))
			return fail(reason, cap, "expected %p or %% after '%' in a file name", val, len);
		i++;
	}
	if (val[len - 1] == '/')
		return fail(reason, cap, "expected a file name, not a directory", val, len);
	return 0;
}

static int fail_choices(const struct mv_option_desc *d, char *reason, size_t cap, const char *val, size_t len)
{
	char what[96];
	struct mv_outbuf b;
	mv_out_init(&b, what, sizeof(what), -1);
	mv_out_str(&b, "expected one of ");
	for (int i = 0; d->choices[i]; i++) {
		if (i)
			mv_out_str(&b, d->choices[i + 1] ? ", " : " or ");
		mv_out_str(&b, d->choices[i]);
	}
	return fail(reason, cap, mv_out_cstr(&b), val, len);
}

const char *mv_madvise_mode_name(int mode)
{
	return mode >= 0 && mode <= MV_MADVISE_DONTNEED_TO_FREE ? madvise_modes[mode] : "?";
}

const char *mv_option_choice(const struct mv_option_desc *d, const void *base)
{
	int v;
	memcpy(&v, (const char *)base + d->offset, sizeof(v));
	for (int i = 0; d->choices[i]; i++)
		if (i == v)
			return d->choices[i];
	return "?";
}

int mv_option_parse(const struct mv_option_desc *d, void *base, const char *val, size_t len,
		    char *reason, size_t cap)
{
	char *field = (char *)base + d->offset;

	switch (d->type) {
	case MV_T_BOOL: {
		bool b;
		if (parse_bool(val, len, &b) < 0)
			return fail(reason, cap, "expected true or false", val, len);
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	case MV_T_UINT: {
		uint64_t v = 0;
		if (parse_uint(d, val, len, &v, reason, cap) < 0)
			return -1;
		store_uint(field, d->size, v);
		return 0;
	}
	case MV_T_ENUM:
		for (int i = 0; d->choices[i]; i++) {
			if (strlen(d->choices[i]) == len && memcmp(d->choices[i], val, len) == 0) {
				memcpy(field, &i, sizeof(i));
				return 0;
			}
		}
		return fail_choices(d, reason, cap, val, len);
	case MV_T_STRING:
		if (check_string(d, val, len, reason, cap) < 0)
			return -1;
		memcpy(field, val, len);
		field[len] = 0;
		return 0;
	}
	return fail(reason, cap, "unsupported option type", NULL, 0);
}
