/* replay.c - `madvisor replay TRACE [--profile P]...`: what-if tuning.
 *
 * Runs a trace recorded with trace:PATH through the policy engine, the munmap
 * strategies and the page-table model once per profile (a profile name found
 * as the launcher finds it, tools/where.h; a .conf file; or inline
 * "key:value,..." settings) and prints, per profile: the calls the program
 * made, the system calls the profile would issue, bytes purged, whole-2 MiB
 * cores and converted calls, page-table bytes at each sampling pass and the
 * stranded tables at the end. munmap:recycle and munmap:defer run through the
 * library's own strategy code (shim/munmap/whatif.h) against a pretend kernel
 * (simkernel.h), on the trace's clock. Nothing touches the traced addresses:
 * everything only does bookkeeping. A corrupt or truncated trace is refused
 * with the byte offset of the first bad record; a profile that cannot be used
 * with one line, before anything is replayed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "core/config.h"
#include "core/hot.h"
#include "core/options.h"
#include "core/advice.h"
#include "core/split.h"
#include "sys/probe.h"
#include "ptmodel/model.h"
#include "ptmodel/hook.h"
#include "tools/replay.h"
#include "tools/where.h"
#include "tools/simkernel.h"
#include "munmap/munmap.h"
#include "sys/worker.h"
#include "munmap/mapcache.h"
#include "munmap/whatif.h"
#include "core/runtime.h"
#include "core/trace.h"

#define SERIES_MAX 12
#define USER_TOP (1ull << 47)

struct result {
	uint64_t calls, failed, syscalls, purged, cores, converted;
	uint64_t policy_calls;   /* issued by the policy for allocator purges (live: policy.kernel_calls) */
	uint64_t series[SERIES_MAX];
	unsigned nseries;
	uint64_t passes;
	struct mv_ptm_totals end;
	/* munmap strategy (whatif.h): its counters as the library reports them */
	int munmap_mode;
	uint64_t mc[MV_MC_COUNT];
	uint64_t held_series[SERIES_MAX], held_peak, held_end;
	unsigned nheld;
	struct mv_sim_counts sim;
};

/* ---- the munmap strategies on paper (whatif.h) ------------------------------- */

/* Threads get arenas in the order of their first call, as in the library. */
#define TIDS 256
static uint32_t tids[TIDS];
static unsigned ntids, cur_tid;

static unsigned arena_of(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < ntids; i++)
		if (tids[i] == cur_tid)
			return i;
	if (ntids < TIDS)
		tids[ntids++] = cur_tid;
	return ntids - 1;
}

static uint64_t paper_now;
static int timed; /* the trace has times (version 2) */

static uint64_t clock_of(void *arg)
{
	(void)arg;
	return paper_now;
}

static const struct mv_whatif paper = { mv_sim_held_call, clock_of, arena_of, NULL };

/* One traced call through the strategy, the addresses as the replayed
 * program has them. */
static void through_strategy(const struct mv_trace_rec *r)
{
	uintptr_t at = mv_sim_at(r->addr, r->kind == MV_MUNMAP ? r->len : 0);
	struct mv_request q = { .kind = (enum mv_kind)r->kind, .advice = r->advice, .prot = r->advice,
				.flags = r->flags, .fd = -1, .addr = (void *)at, .len = r->len,
				.caller = (const void *)(uintptr_t)((r->bits & MV_TR_ALLOC) ? 1 : 0) };
	cur_tid = r->tid;
	switch (r->kind) {
	case MV_MMAP: {
		q.advice = 0;
		if (!(r->flags & MAP_ANONYMOUS))
			q.fd = 3; /* a file mapping: never served from a cache */
		mv_sim_prefer(r->aux);
		long s = mv_munmap_dispatch(&q);
		mv_sim_got(r->aux, r->len, s < 0 && s > -4096 ? 0 : (uintptr_t)s);
		break;
	}
	case MV_MUNMAP:
		mv_munmap_dispatch(&q);
		mv_sim_got(r->addr, r->len, 0);
		break;
	case MV_MREMAP: {
		q.new_len = r->len2;
		if (r->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))
			q.new_addr = (void *)mv_sim_at(r->aux, 0);
		mv_sim_prefer(r->aux);
		long s = mv_munmap_dispatch(&q);
		mv_sim_got(r->addr, r->len, 0);
		mv_sim_got(r->aux, r->len2, s < 0 && s > -4096 ? 0 : (uintptr_t)s);
		break;
	}
	case MV_MPROTECT:
		q.advice = 0;
		mv_munmap_dispatch(&q);
		break;
	case MV_PROCESS_MADVISE: /* one record per range: as a madvise */
	case MV_MADVISE:
	case MV_POSIX_MADVISE: /* as a madvise too: only the pretend kernel may answer */
		q.kind = MV_MADVISE;
		mv_munmap_dispatch(&q);
		break;
	default:
		break;
	}
}

static int by_seq(const void *a, const void *b)
{
	const struct mv_trace_rec *x = *(const struct mv_trace_rec *const *)a, *y = *(const struct mv_trace_rec *const *)b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Check the whole file; returns the record count or -1 after a message. */
static long validate(const char *path, const unsigned char *buf, size_t n, struct mv_trace_header *h)
{
	if (n < sizeof(*h)) {
		fprintf(stderr, "madvisor replay: %s: truncated header at offset %zu (%zu bytes, need %zu)\n", path, n,
			n, sizeof(*h));
		return -1;
	}
	memcpy(h, buf, sizeof(*h));
	if (memcmp(h->magic, MV_TRACE_MAGIC, sizeof(h->magic)) != 0) {
		fprintf(stderr, "madvisor replay: %s: not a madvisor trace (bad magic at offset 0)\n", path);
		return -1;
	}
	size_t rs = sizeof(struct mv_trace_rec);
	if (h->version == 1 && h->record_size == MV_TRACE_V1_RECORD)
		rs = MV_TRACE_V1_RECORD; /* no t_ns: read as 0 */
	else if (h->version != MV_TRACE_VERSION || h->record_size != sizeof(struct mv_trace_rec)) {
		fprintf(stderr, "madvisor replay: %s: unsupported trace version %u / record size %u at offset 8\n",
			path, h->version, h->record_size);
		return -1;
	}
	size_t body = n - sizeof(*h), count = body / rs;
	for (size_t i = 0; i < count; i++) {
		struct mv_trace_rec rec = { 0 };
		const struct mv_trace_rec *r = &rec;
		size_t off = sizeof(*h) + i * rs;
		memcpy(&rec, buf + off, rs);
		int ok = r->type >= MV_TR_CALL && r->type <= MV_TR_DROPPED;
		if (ok && r->type == MV_TR_CALL) {
			ok = r->kind < MV_FIRST_RANGE_CALL && (r->bits & ~(MV_TR_ALLOC | MV_TR_FAILED)) == 0;
			/* Addresses of successful calls lie in the user address space. */
			uint64_t at = r->kind == MV_MMAP || r->kind == MV_MREMAP ? r->aux : r->addr;
			uint64_t l = r->kind == MV_MREMAP ? r->len2 : r->len;
			if (ok && !(r->bits & MV_TR_FAILED))
				ok = at < USER_TOP && l <= USER_TOP && at + l <= USER_TOP &&
				     (r->kind != MV_MREMAP || (r->addr < USER_TOP && r->len <= USER_TOP - r->addr));
		}
		if (ok && r->type == MV_TR_REGION)
			ok = r->len <= 512 && (r->addr & ((2ul << 20) - 1)) == 0;
		if (!ok) {
			fprintf(stderr, "madvisor replay: %s: corrupt record at offset %zu (type %u)\n", path, off,
				r->type);
			return -1;
		}
	}
	if (body % rs) {
		fprintf(stderr, "madvisor replay: %s: truncated record at offset %zu (%zu of %zu bytes)\n", path,
			sizeof(*h) + count * rs, body % rs, rs);
		return -1;
	}
	return (long)count;
}

/* The calls the advice transforms issue for a madvise (core/split.h); mine:
 * the allocator's. */
static void advice_cost(const struct mv_advice *p, const struct mv_trace_rec *r, int mine, struct result *res)
{
	struct mv_split s;
	mv_split_purge(p, (uintptr_t)r->addr, (size_t)r->len, r->advice, mine, &s);
	if (r->advice == MADV_FREE || r->advice == MADV_DONTNEED)
		res->purged += r->len;
	if (!s.n) {
		res->syscalls++;
		return;
	}
	res->syscalls += (uint64_t)s.n;
	res->policy_calls += (uint64_t)s.n;
	res->converted += (uint64_t)s.converted;
	res->cores += s.core >= 0;
}

static void run(const struct mv_trace_rec *const *recs, long n, const struct mv_advice *pol,
		const struct mv_options *o, struct result *res)
{
	memset(res, 0, sizeof(*res));
	mv_ptm_reset();
	mv_hot.advice = *pol;
	/* Allocator calls carry caller 1, the program's 0 (madvise.callers). */
	mv_hot.advice.alloc_lo = 1;
	mv_hot.advice.alloc_hi = 2;
	mv_rt.allocator.text_lo = 1, mv_rt.allocator.text_hi = 2, mv_rt.allocator.in_executable = 0;
	uint64_t series_every = 1, npass = 0, ncalls = 0, held_every = 1;
	for (long i = 0; i < n; i++) {
		npass += recs[i]->type == MV_TR_PASS;
		ncalls += recs[i]->type == MV_TR_CALL;
	}
	while (npass / series_every > SERIES_MAX - 1)
		series_every *= 2;
	while (ncalls / held_every > SERIES_MAX - 1)
		held_every *= 2;
	/* The munmap strategy runs on paper: the library's code, the pretend
	 * kernel's answers. The advice transforms' cost is counted below. */
	ntids = 0;
	paper_now = 0;
	mv_sim_start();
	int mode = mv_whatif_start(o, &paper);
	if (mode < 0) {
		fprintf(stderr, "madvisor replay: cannot map the munmap strategy's tables\n");
		exit(2);
	}
	res->munmap_mode = mode;
	uint64_t period = mode ? mv_munmap_worker_task.period_ns : 0, next_tick = period;
	uint64_t policy_extra = 0;
	for (long i = 0; i < n; i++) {
		const struct mv_trace_rec *r = recs[i];
		if (mode && r->type == MV_TR_CALL) {
			/* The worker's ticks up to this call, then the call's time
			 * (calls of several threads come a little out of order). */
			uint64_t t = r->t_ns > paper_now ? r->t_ns : paper_now;
			while (timed && period && next_tick <= t) {
				paper_now = next_tick;
				mv_munmap_tick(next_tick);
				next_tick += period;
			}
			paper_now = t;
			if ((res->calls % held_every) == 0 && res->nheld < SERIES_MAX)
				res->held_series[res->nheld++] = mv_mc_bytes();
			if (!(r->bits & MV_TR_FAILED)) {
				uint64_t before = res->syscalls;
				int mine = (r->bits & MV_TR_ALLOC) != 0;
				struct mv_request q = { .kind = (enum mv_kind)r->kind, .advice = r->advice,
							.addr = (void *)r->addr, .len = r->len,
							.caller = (const void *)(uintptr_t)mine };
				/* as madvise.callers says (mv_hot.advice: callers as above) */
				int transformed = mv_advice_applies(&mv_hot.advice, &q);
				if (transformed)
					advice_cost(&mv_hot.advice, r, mine, res);
				policy_extra += transformed && res->syscalls - before > 1 ? res->syscalls - before - 1 : 0;
				res->syscalls = before;
				/* The transforms are counted above; the strategy
				 * sees the purge go to the kernel as one call. */
				int active = mv_hot.advice.active;
				mv_hot.advice.active = 0;
				through_strategy(r);
				mv_hot.advice.active = active;
				if (mv_mc_bytes() > res->held_peak)
					res->held_peak = mv_mc_bytes();
			}
		}
		if (r->type == MV_TR_PASS) {
			if (res->passes++ % series_every == 0 && res->nseries < SERIES_MAX) {
				struct mv_ptm_totals t;
				mv_ptm_totals(&t);
				res->series[res->nseries++] = t.bytes;
			}
			continue;
		}
		if (r->type == MV_TR_REGION) {
			struct mv_ptm_pmd *p = mv_ptm_pmd_of(r->addr, 1);
			struct mv_ptm_node *nd = p ? mv_ptm_node_of(p, r->addr) : NULL;
			if (nd)
				mv_ptm_commit(p, nd, nd->w, (unsigned)r->len, 0);
			continue;
		}
		if (r->type != MV_TR_CALL)
			continue;
		res->calls++;
		int failed = (r->bits & MV_TR_FAILED) != 0;
		res->failed += failed;
		int alloc = (r->bits & MV_TR_ALLOC) != 0;
		struct mv_request q = { .kind = (enum mv_kind)r->kind, .advice = r->advice, .prot = r->advice,
					.flags = r->flags, .addr = (void *)r->addr, .len = r->len,
					.caller = (const void *)(uintptr_t)(alloc ? 1 : 0) };
		if (!failed && mv_advice_applies(&mv_hot.advice, &q)) /* as madvise.callers says */
			advice_cost(&mv_hot.advice, r, alloc, res);
		else {
			res->syscalls++;
			if (!failed && (r->kind == MV_MADVISE || r->kind == MV_PROCESS_MADVISE) &&
			    (r->advice == MADV_DONTNEED || r->advice == MADV_FREE))
				res->purged += r->len;
		}
		if (r->kind == MV_MREMAP)
			q.new_len = r->len2;
		if (r->kind == MV_PROCESS_MADVISE) { /* one record per range: as a madvise */
			q.kind = MV_MADVISE;
			q.caller = 0;
		}
		if (r->kind == MV_MMAP || r->kind == MV_MPROTECT)
			q.advice = 0;
		mv_ptm_after(&q, failed ? -EINVAL : (long)r->aux, 0);
	}
	mv_ptm_totals(&res->end);
	if (mode) {
		/* Every call that reached the kernel, the strategy's own included;
		 * the failed calls failed there too. */
		const struct mv_sim_counts *c = mv_sim_counts();
		res->sim = *c;
		uint64_t k = c->held_unmap + c->held_zap + c->held_zap_batch;
		for (int j = 0; j < MV_KIND_COUNT; j++)
			k += c->program[j];
		res->syscalls = res->failed + k + policy_extra;
		mv_mc_counters(res->mc);
		res->held_end = mv_mc_bytes();
	}
	mv_whatif_end();
	mv_sim_stop();
}

/* A --profile argument: inline key:value,..., "passthrough" (the defaults),
 * a profile name or FILE.conf. 0, or -1 after one line on stderr. */
static int load_profile(const char *arg, struct mv_options *o)
{
	struct mv_config_error err;
	int r = 0;
	mv_options_defaults(o);
	if (strchr(arg, ':') && !strchr(arg, '/'))
		r = mv_config_apply_string(o, arg, MV_SRC_ENV, "settings", &err);
	else if (strcmp(arg, "passthrough") != 0)
		r = mv_where_apply_profile(o, arg, &err);
	if (r == 0)
		return 0;
	char line[sizeof(err) + 64];
	mv_config_format_error(&err, line, sizeof(line));
	size_t n = strlen(line);
	fprintf(stderr, "madvisor replay: --profile %s: %s%s", arg, strncmp(line, "madvisor: ", 10) ? line : line + 10,
		n && line[n - 1] == '\n' ? "" : "\n");
	return -1;
}

/* What the munmap strategy did, named as in the library's stats (munmap.*). */
static void print_munmap(const struct mv_options *o, const struct result *res)
{
	const uint64_t *c = res->mc;
	const struct mv_sim_counts *k = &res->sim;
	printf("  munmap:%s (cache_bytes %llu, cache_entries %llu, max_range %llu, max_age_ms %llu%s):\n",
	       mv_munmap_mode_name(res->munmap_mode), (unsigned long long)o->munmap_cache_bytes,
	       (unsigned long long)o->munmap_cache_entries, (unsigned long long)o->munmap_max_range,
	       (unsigned long long)o->munmap_max_age_ms, o->munmap_zap_first ? ", zap_first" : "");
	printf("    reached the kernel: mmap %llu, munmap %llu; the strategy's own: munmap %llu, "
	       "madvise %llu, process_madvise %llu\n",
	       (unsigned long long)k->program[MV_MMAP], (unsigned long long)k->program[MV_MUNMAP],
	       (unsigned long long)k->held_unmap, (unsigned long long)k->held_zap,
	       (unsigned long long)k->held_zap_batch);
	printf("    recycled %llu (hits), recycled_bytes %llu, misses %llu, cached %llu, deferred %llu, "
	       "deferred_bytes %llu, passed_through %llu\n",
	       (unsigned long long)c[MV_MC_RECYCLED], (unsigned long long)c[MV_MC_RECYCLED_BYTES],
	       (unsigned long long)c[MV_MC_MISSES], (unsigned long long)c[MV_MC_CACHED],
	       (unsigned long long)c[MV_MC_DEFERRED], (unsigned long long)c[MV_MC_DEFERRED_BYTES],
	       (unsigned long long)c[MV_MC_PASSED]);
	printf("    unmap_calls %llu, zap_calls %llu, drains %llu, evicted %llu, aged %llu, resolved %llu, "
	       "released_bytes %llu\n",
	       (unsigned long long)c[MV_MC_UNMAP_CALLS], (unsigned long long)c[MV_MC_ZAP_CALLS],
	       (unsigned long long)c[MV_MC_DRAINS], (unsigned long long)c[MV_MC_EVICTED],
	       (unsigned long long)c[MV_MC_AGED], (unsigned long long)c[MV_MC_RESOLVED],
	       (unsigned long long)c[MV_MC_RELEASED_BYTES]);
	printf("    bytes held over the trace (%u points):", res->nheld);
	for (unsigned j = 0; j < res->nheld; j++)
		printf(" %llu", (unsigned long long)res->held_series[j]);
	printf("; peak %llu, at the end %llu\n", (unsigned long long)res->held_peak,
	       (unsigned long long)res->held_end);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: madvisor replay TRACE [--profile NAME|FILE.conf|key:value,...]...\n"
		   "\n"
		   "Run a trace recorded with trace:PATH through the policy, the munmap strategies\n"
		   "(the library's own code, on paper) and the page-table model, once per profile,\n"
		   "and print what each would do.\n"
		   "\n"
		   "  --profile P   a profile name (found as the launcher finds it), a FILE.conf or\n"
		   "                inline key:value,...; repeat to compare (at most 16; default:\n"
		   "                passthrough); one that cannot be used: exit 2, nothing replayed\n"
		   "  -h, --help    show this help\n");
}

int mv_replay_main(int argc, char **argv)
{
	const char *path = NULL, *profiles[16];
	int np = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--profile") && i + 1 < argc && np < 16)
			profiles[np++] = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	if (!np)
		profiles[np++] = "passthrough";
	/* Every profile is checked before anything is replayed: one that cannot
	 * be used is said in one line and nothing runs. Profiles are found as
	 * the launcher finds them (where.h). */
	static struct mv_options opts[16];
	mv_where_source_profiles();
	for (int i = 0; i < np; i++)
		if (load_profile(profiles[i], &opts[i]) < 0)
			return 2;
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "madvisor replay: %s: %s\n", path, strerror(errno));
		return 2;
	}
	size_t cap = 1 << 20, n = 0;
	unsigned char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			unsigned char *b = realloc(buf, cap * 2);
			if (!b)
				free(buf);
			buf = b, cap *= 2;
		}
	}
	fclose(f);
	if (!buf) {
		fprintf(stderr, "madvisor replay: out of memory\n");
		return 2;
	}
	struct mv_trace_header h;
	long count = validate(path, buf, n, &h);
	if (count < 0) {
		free(buf);
		return 2;
	}
	/* Records of either version as the current struct (version 1: t_ns 0). */
	size_t rs = h.version == 1 ? MV_TRACE_V1_RECORD : sizeof(struct mv_trace_rec);
	struct mv_trace_rec *all = calloc((size_t)count + 1, sizeof(*all));
	const struct mv_trace_rec **recs = malloc(((size_t)count + 1) * sizeof(*recs));
	if (!recs || !all) {
		fprintf(stderr, "madvisor replay: out of memory\n");
		return 2;
	}
	uint64_t dropped = 0;
	for (long i = 0; i < count; i++) {
		memcpy(&all[i], buf + sizeof(h) + (size_t)i * rs, rs);
		recs[i] = &all[i];
		if (recs[i]->type == MV_TR_DROPPED)
			dropped += recs[i]->len;
	}
	timed = h.version >= 2;
	qsort(recs, (size_t)count, sizeof(*recs), by_seq);
	const struct mv_probe *k = mv_probe_get();
	if (mv_ptm_init(k->pt_reclaim) != 0)
		return 2;
	mv_ptm_pt_reclaim = k->pt_reclaim;
	printf("trace %s: pid %u, %ld records%s\n", path, h.pid, count, dropped ? "" : "");
	if (dropped)
		printf("  warning: %llu records were dropped while recording; counts are lower bounds\n",
		       (unsigned long long)dropped);
	int status = 0;
	for (int i = 0; i < np; i++) {
		const struct mv_options o = opts[i];
		const char *pr = profiles[i];
		struct mv_allocator_info ai;
		memset(&ai, 0, sizeof(ai));
		ai.kind = (enum mv_allocator)h.allocator;
		ai.text_lo = 1, ai.text_hi = 2;
		struct mv_advice pol;
		mv_advice_init(&pol, &o, &ai, mv_probe_get, NULL, 2);
		struct result res;
		run(recs, count, &pol, &o, &res);
		printf("profile %s: madvise %s%s\n", pr, mv_madvise_mode_name(pol.madvise_mode),
		       pol.pt_reclaim ? ", pt_reclaim" : "");
		printf("  calls %llu (failed %llu), syscalls issued %llu, bytes purged %llu, cores %llu, converted %llu\n",
		       (unsigned long long)res.calls, (unsigned long long)res.failed, (unsigned long long)res.syscalls,
		       (unsigned long long)res.purged, (unsigned long long)res.cores,
		       (unsigned long long)res.converted);
		printf("  allocator purges: %llu system calls through the policy\n", (unsigned long long)res.policy_calls);
		if (res.munmap_mode)
			print_munmap(&o, &res);
		printf("  page-table bytes at sampling passes (%llu):", (unsigned long long)res.passes);
		for (unsigned j = 0; j < res.nseries; j++)
			printf(" %llu", (unsigned long long)res.series[j]);
		printf("\n  at the end: page-table bytes %llu, PTE tables %llu, stranded %llu (%llu bytes reclaimable)\n",
		       (unsigned long long)res.end.bytes, (unsigned long long)res.end.pte_tables,
		       (unsigned long long)res.end.stranded, (unsigned long long)res.end.reclaimable);
	}
	free(recs);
	free(all);
	free(buf);
	return status;
}
