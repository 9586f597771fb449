/* replay.c - `madvisor replay TRACE [--profile P]...`: what-if tuning.
 *
 * Runs a trace recorded with trace:PATH through the policy engine and the
 * page-table model once per profile (a profile name, a .conf file, or inline
 * "key:value,..." settings) and prints, per profile: the calls the program
 * made, the system calls the profile would issue, bytes purged, whole-2 MiB
 * cores and converted calls, page-table bytes at each sampling pass and the
 * stranded tables at the end. Nothing touches the traced addresses: the model
 * only does bookkeeping. A corrupt or truncated trace is refused with the
 * byte offset of the first bad record. */
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
};

static const char *conf_env, *profile_env;

static const char *getter(const char *name)
{
	if (!strcmp(name, "MADVISOR_CONF"))
		return conf_env;
	if (!strcmp(name, "MADVISOR_PROFILE"))
		return profile_env;
	return NULL;
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
	if (h->version != MV_TRACE_VERSION || h->record_size != sizeof(struct mv_trace_rec)) {
		fprintf(stderr, "madvisor replay: %s: unsupported trace version %u / record size %u at offset 8\n",
			path, h->version, h->record_size);
		return -1;
	}
	size_t body = n - sizeof(*h), count = body / sizeof(struct mv_trace_rec);
	for (size_t i = 0; i < count; i++) {
		const struct mv_trace_rec *r = (const void *)(buf + sizeof(*h) + i * sizeof(*r));
		size_t off = sizeof(*h) + i * sizeof(*r);
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
	if (body % sizeof(struct mv_trace_rec)) {
		fprintf(stderr, "madvisor replay: %s: truncated record at offset %zu (%zu of %zu bytes)\n", path,
			sizeof(*h) + count * sizeof(struct mv_trace_rec), body % sizeof(struct mv_trace_rec),
			sizeof(struct mv_trace_rec));
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

static void run(const struct mv_trace_rec *const *recs, long n, const struct mv_advice *pol, struct result *res)
{
	memset(res, 0, sizeof(*res));
	mv_ptm_reset();
	mv_hot.advice = *pol;
	/* Allocator calls carry caller 1, the program's 0 (madvise.callers). */
	mv_hot.advice.alloc_lo = 1;
	mv_hot.advice.alloc_hi = 2;
	uint64_t series_every = 1, npass = 0;
	for (long i = 0; i < n; i++)
		npass += recs[i]->type == MV_TR_PASS;
	while (npass / series_every > SERIES_MAX - 1)
		series_every *= 2;
	for (long i = 0; i < n; i++) {
		const struct mv_trace_rec *r = recs[i];
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
}

static void usage(FILE *f)
{
	fprintf(f, "usage: madvisor replay TRACE [--profile NAME|FILE.conf|key:value,...]...\n"
		   "\n"
		   "Run a trace recorded with trace:PATH through the policy and the page-table model,\n"
		   "once per profile, and print what each would do.\n"
		   "\n"
		   "  --profile P   a profile name, a .conf file or inline key:value,...; repeat to\n"
		   "                compare (at most 16; default: passthrough)\n"
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
	const struct mv_trace_rec **recs = malloc(((size_t)count + 1) * sizeof(*recs));
	if (!recs)
		return 2;
	uint64_t dropped = 0;
	for (long i = 0; i < count; i++) {
		recs[i] = (const void *)(buf + sizeof(h) + (size_t)i * sizeof(struct mv_trace_rec));
		if (recs[i]->type == MV_TR_DROPPED)
			dropped += recs[i]->len;
	}
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
		struct mv_options o;
		const char *pr = profiles[i];
		conf_env = strchr(pr, ':') ? pr : NULL;
		profile_env = strchr(pr, ':') || !strcmp(pr, "passthrough") ? NULL : pr;
		if (mv_config_load(&o, getter, 2) != 0) {
			status = 1;
			continue;
		}
		struct mv_allocator_info ai;
		memset(&ai, 0, sizeof(ai));
		ai.kind = (enum mv_allocator)h.allocator;
		ai.text_lo = 1, ai.text_hi = 2;
		struct mv_advice pol;
		mv_advice_init(&pol, &o, &ai, mv_probe_get, NULL, 2);
		struct result res;
		run(recs, count, &pol, &res);
		printf("profile %s: madvise %s%s\n", pr, mv_madvise_mode_name(pol.madvise_mode),
		       pol.pt_reclaim ? ", pt_reclaim" : "");
		printf("  calls %llu (failed %llu), syscalls issued %llu, bytes purged %llu, cores %llu, converted %llu\n",
		       (unsigned long long)res.calls, (unsigned long long)res.failed, (unsigned long long)res.syscalls,
		       (unsigned long long)res.purged, (unsigned long long)res.cores,
		       (unsigned long long)res.converted);
		printf("  allocator purges: %llu system calls through the policy\n", (unsigned long long)res.policy_calls);
		printf("  page-table bytes at sampling passes (%llu):", (unsigned long long)res.passes);
		for (unsigned j = 0; j < res.nseries; j++)
			printf(" %llu", (unsigned long long)res.series[j]);
		printf("\n  at the end: page-table bytes %llu, PTE tables %llu, stranded %llu (%llu bytes reclaimable)\n",
		       (unsigned long long)res.end.bytes, (unsigned long long)res.end.pte_tables,
		       (unsigned long long)res.end.stranded, (unsigned long long)res.end.reclaimable);
	}
	free(recs);
	free(buf);
	return status;
}
