/* knobs.c - apply the allocator keys (jemalloc.*, tcmalloc.*,
 * mimalloc.*) at start-up and read their effective values back.
 *
 * Only keys a configuration source set are applied. Keys for an allocator
 * the program does not run on are ignored, named together in one line; a
 * key the allocator refuses is named in one line each, and the program
 * runs on. Neither is a configuration error: the same profile can serve
 * programs on different allocators. */
#include <stdbool.h>
#include <string.h>
#include "alloc/api.h"
#include "core/options.h"
#include "sys/outbuf.h"
#include "sys/worker.h"

/* Outcome per key, for reports. */
static unsigned char requested[MV_OPT_COUNT], applied[MV_OPT_COUNT];

static uint64_t key_value(const struct mv_options *o, int id)
{
	const struct mv_option_desc *d = &mv_option_table[id];
	const char *field = (const char *)o + d->offset;
	if (d->type == MV_T_BOOL) {
		bool b;
		memcpy(&b, field, sizeof(b));
		return b;
	}
	if (d->size == sizeof(uint32_t)) {
		uint32_t v;
		memcpy(&v, field, sizeof(v));
		return v;
	}
	uint64_t v;
	memcpy(&v, field, sizeof(v));
	return v;
}

static const struct mv_alloc_knob *find_knob(const struct mv_alloc_backend *b, int id)
{
	for (int i = 0; b && i < b->nknobs; i++)
		if (b->knobs[i].opt == id)
			return &b->knobs[i];
	return NULL;
}

static void refused(int fd, const char *key, uint64_t v, const char *why)
{
	char num[24];
	struct mv_outbuf n;
	mv_out_init(&n, num, sizeof(num), -1);
	mv_out_u64(&n, v);
	mv_out_say(fd, 0, "ignored", "key '", key, "' (", mv_out_cstr(&n), "): ", why, NULL);
}

static int apply_now(const struct mv_options *o, int fd)
{
	const struct mv_alloc_backend *b = mv_alloc_backend();
	enum mv_allocator mine = mv_alloc_detected();
	char other[512];
	struct mv_outbuf ob;
	int nother = 0, n = 0;

	mv_out_init(&ob, other, sizeof(other), -1);
	for (int id = 0; id < MV_OPT_COUNT; id++) {
		enum mv_allocator owner = mv_alloc_knob_owner(id);
		if (owner == MV_ALLOC_UNKNOWN || o->source[id] == MV_SRC_DEFAULT)
			continue;
		const char *key = mv_option_table[id].name;
		uint64_t v = key_value(o, id);
		if (owner != mine) {
			mv_out_str(&ob, nother++ ? ", " : "");
			mv_out_str(&ob, key);
			continue;
		}
		requested[id] = 1;
		const struct mv_alloc_knob *k = find_knob(b, id);
		const char *why = b ? "not supported by this allocator version" : "the allocator's API was not found";
		if (!k || k->set(v, &why) != 0) {
			refused(fd, key, v, why);
			continue;
		}
		applied[id] = 1;
		n++;
	}
	/* A hidden allocator (malloc in a stripped object) was said already. */
	if (nother && !(mv_alloc_info() && mv_alloc_info()->stripped)) {
		char then[sizeof(other) + 64];
		struct mv_outbuf t;
		mv_out_init(&t, then, sizeof(then), -1);
		mv_out_str(&t, nother > 1 ? "keys for other allocators ignored: " : "key for another allocator ignored: ");
		mv_out_str(&t, mv_out_cstr(&ob));
		mv_out_say(fd, 0, mv_out_cstr(&t), "the program runs on ", mv_allocator_name(mine), NULL);
	}
	return n;
}

/* Keys waiting for the allocator's API to answer (ready()). */
static const struct mv_options *waiting;
static int waiting_fd, tries;
static void retry(void *arg, uint64_t now);
static struct mv_task retry_task = { .name = "knobs", .period_ns = 10000000, .run = retry };

static void retry(void *arg, uint64_t now)
{
	(void)arg;
	(void)now;
	const struct mv_alloc_backend *b = mv_alloc_backend();
	if (!waiting)
		return;
	if (b && b->ready && !b->ready() && ++tries < 500)
		return;
	apply_now(waiting, waiting_fd);
	waiting = NULL;
	retry_task.period_ns = 3600000000000ull; /* nothing left to do */
}

int mv_alloc_apply_knobs(const struct mv_options *o, int fd)
{
	const struct mv_alloc_backend *b = mv_alloc_backend();
	enum mv_allocator mine = mv_alloc_detected();
	int asked = 0;
	for (int id = 0; id < MV_OPT_COUNT; id++)
		asked |= mv_alloc_knob_owner(id) == mine && o->source[id] != MV_SRC_DEFAULT;
	if (asked && b && b->ready && !b->ready()) {
		waiting = o;
		waiting_fd = fd;
		if (mv_worker_add(&retry_task) == 0)
			return 0;
		waiting = NULL;
	}
	return apply_now(o, fd);
}

void mv_alloc_gather(struct mv_alloc_report *out)
{
	const struct mv_alloc_backend *b = mv_alloc_backend();
	memset(out, 0, sizeof(*out));
	out->bound = b != NULL;
	if (!b)
		return;
	out->purge_name = b->purge_name;
	out->note = b->note;
	out->have_stats = mv_alloc_stats(&out->stats) == 0;
	for (int i = 0; i < b->nknobs && out->nknobs < MV_ALLOC_KNOBS; i++) {
		const struct mv_alloc_knob *k = &b->knobs[i];
		struct mv_alloc_knob_value *kv = &out->knobs[out->nknobs++];
		kv->key = mv_option_table[k->opt].name;
		kv->known = k->get && k->get(&kv->value) == 0;
		kv->requested = requested[k->opt];
		kv->applied = applied[k->opt];
	}
	mv_alloc_purge_counts(&out->purges, &out->purge_ns);
}
