/* test_alloc.c - allocator knobs and figures through a fake allocator
 * backend: keys set by the configuration are applied, refusals and keys for
 * other allocators are named in one line each, effective values are read
 * back into the reports (JSON, table, Prometheus). */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alloc/api.h"
#include "core/config.h"
#include "observe/report.h"
#include "../tap.h"

/* ---- a fake jemalloc ------------------------------------------------------ */

static int64_t dirty_ms = 10000, muzzy_ms = 0;
static int purges;

static int set_dirty(uint64_t v, const char **why)
{
	(void)why;
	dirty_ms = (int64_t)v;
	return 0;
}
static int get_dirty(int64_t *v)
{
	*v = dirty_ms;
	return 0;
}
static int set_muzzy(uint64_t v, const char **why)
{
	(void)v;
	*why = "fake refuses";
	return -1;
}
static int get_muzzy(int64_t *v)
{
	*v = muzzy_ms;
	return 0;
}
static int fake_stats(struct mv_alloc_stats *s)
{
	s->resident = 3 << 20;
	s->dirty = 1 << 20;
	s->free_resident = 1 << 20;
	mv_alloc_prop_add(s, "stats.resident", 3 << 20);
	return 0;
}
static int fake_purge(void)
{
	purges++;
	return 0;
}
static int fake_bind(void *(*sym)(const char *))
{
	return sym("mallctl") ? 0 : -1;
}
static void *lookup(const char *name)
{
	return strcmp(name, "mallctl") ? NULL : (void *)lookup;
}
static void *lookup_none(const char *name)
{
	(void)name;
	return NULL;
}

static const struct mv_alloc_knob fake_knobs[] = {
	{ MV_OPT_JEMALLOC_DIRTY_DECAY_MS, set_dirty, get_dirty },
	{ MV_OPT_JEMALLOC_MUZZY_DECAY_MS, set_muzzy, get_muzzy },
};
static const struct mv_alloc_backend fake = {
	.kind = MV_ALLOC_JEMALLOC, .purge_name = "arena.4096.purge", .bind = fake_bind,
	.stats = fake_stats, .purge = fake_purge, .knobs = fake_knobs, .nknobs = 2,
};

/* Run f(fd) and return what it wrote. */
static char *capture(void (*f)(int fd, void *arg), void *arg)
{
	static char out[65536];
	FILE *t = tmpfile();
	f(fileno(t), arg);
	rewind(t);
	size_t n = fread(out, 1, sizeof(out) - 1, t);
	out[n] = 0;
	fclose(t);
	return out;
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void apply(int fd, void *arg)
{
	*(int *)((void **)arg)[1] = mv_alloc_apply_knobs(((void **)arg)[0], fd);
}

static void json(int fd, void *arg)
{
	mv_report_json(arg, fd);
}

static void text(int fd, void *arg)
{
	mv_report_text(arg, fd);
}

static void prom(int fd, void *arg)
{
	mv_report_prom(arg, fd);
}

/* Every Prometheus line is a comment (# HELP/# TYPE) or name{labels} value. */
static int prom_well_formed(const char *s)
{
	while (*s) {
		const char *nl = strchr(s, '\n');
		if (!nl)
			return 0;
		if (*s == '#') {
			if (strncmp(s, "# HELP ", 7) && strncmp(s, "# TYPE ", 7))
				return 0;
		} else {
			const char *b = strchr(s, '{'), *e = b ? strstr(b, "} ") : NULL;
			if (!b || !e || e > nl || b == s)
				return 0;
			for (const char *p = s; p < b; p++)
				if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
					return 0;
			for (const char *p = e + 2; p < nl; p++)
				if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
					return 0;
		}
		s = nl + 1;
	}
	return 1;
}

int main(void)
{
	struct mv_options o;
	struct mv_config_error err;
	struct mv_allocator_info alloc = { .kind = MV_ALLOC_JEMALLOC };
	static struct mv_report r;
	strcpy(alloc.library, "/usr/lib/x/libjemalloc.so.2");

	mv_options_defaults(&o);
	tap_ok(mv_alloc_knob_owner(MV_OPT_JEMALLOC_DIRTY_DECAY_MS) == MV_ALLOC_JEMALLOC &&
		       mv_alloc_knob_owner(MV_OPT_TCMALLOC_RELEASE_RATE) == MV_ALLOC_TCMALLOC &&
		       mv_alloc_knob_owner(MV_OPT_MIMALLOC_PURGE_DELAY) == MV_ALLOC_MIMALLOC &&
		       mv_alloc_knob_owner(MV_OPT_ADAPTIVE) == MV_ALLOC_UNKNOWN &&
		       mv_alloc_knob_owner(MV_OPT_STATS) == MV_ALLOC_UNKNOWN,
	       "knob keys belong to their allocator by prefix");

	tap_ok(mv_alloc_use(&fake, lookup_none) == -1 && mv_alloc_backend() == NULL,
	       "a backend whose API is missing is not bound");
	tap_ok(mv_alloc_use(&fake, lookup) == 0 && mv_alloc_backend() == &fake, "fake backend bound");

	int n = -1;
	void *args[2] = { &o, &n };
	char *out = capture(apply, args);
	tap_ok(n == 0 && out[0] == 0, "no key set: nothing applied, nothing said (%d, '%s')", n, out);

	int rc = mv_config_apply_string(&o, "jemalloc.dirty_decay_ms:2500,jemalloc.muzzy_decay_ms:7,"
					    "tcmalloc.release_rate:3,mimalloc.purge_delay:9",
					MV_SRC_ENV, "MADVISOR_CONF", &err);
	tap_ok(rc == 0, "allocator keys parse");
	out = capture(apply, args);
	tap_ok(n == 1 && dirty_ms == 2500, "the key for this allocator is applied (%d, %lld)", n,
	       (long long)dirty_ms);
	if (!tap_ok(lines(out) == 2, "two lines: one refusal, one for the other allocators' keys"))
		tap_diag("%s", out);
	tap_ok(strstr(out, "madvisor: key 'jemalloc.muzzy_decay_ms' (7): fake refuses; ignored\n") != NULL,
	       "the refused key is named with its value and the reason");
	tap_ok(strstr(out, "keys for other allocators ignored: tcmalloc.release_rate, mimalloc.purge_delay\n") != NULL,
	       "the other allocators' keys are named together");

	rc = mv_config_apply_string(&o, "jemalloc.dirty_decay_ms:soon", MV_SRC_ENV, "MADVISOR_CONF", &err);
	tap_ok(rc < 0 && !strcmp(err.key, "jemalloc.dirty_decay_ms"), "a bad value is a configuration error");

	r.opt = &o;
	r.allocator = &alloc;
	r.kernel = mv_probe_get();
	mv_alloc_gather(&r.alloc_api);
	const struct mv_alloc_report *a = &r.alloc_api;
	tap_ok(a->bound && a->have_stats && a->stats.resident == 3 << 20 && a->stats.muzzy == -1,
	       "figures: given ones read, the rest unknown");
	tap_ok(a->nknobs == 2 && !strcmp(a->knobs[0].key, "jemalloc.dirty_decay_ms") && a->knobs[0].known &&
		       a->knobs[0].value == 2500 && a->knobs[0].requested && a->knobs[0].applied,
	       "effective value of an applied knob is read back");
	tap_ok(a->knobs[1].requested && !a->knobs[1].applied && a->knobs[1].value == 0,
	       "a refused knob shows the allocator's value");

	tap_ok(mv_alloc_purge() == 0 && purges == 1, "allocator-wide purge goes to the backend");
	mv_alloc_gather(&r.alloc_api);
	tap_ok(a->purges == 1, "purges are counted");

	out = capture(json, &r);
	tap_ok(strstr(out, "\"allocator_api\":{\"available\":true,\"purge\":\"arena.4096.purge\"") != NULL,
	       "JSON has the allocator_api section");
	tap_ok(strstr(out, "\"jemalloc.dirty_decay_ms\":{\"value\":2500,\"requested\":true,\"applied\":true}") != NULL,
	       "JSON shows the knob read back");
	tap_ok(strstr(out, "\"jemalloc.dirty_decay_ms\":2500") != NULL &&
		       strstr(out, "\"jemalloc.background_thread\":null") != NULL,
	       "config: a set knob shows its value, an unset one null");
	out = capture(text, &r);
	tap_ok(strstr(out, "madvisor: allocator knobs: jemalloc.dirty_decay_ms=2500 (set), "
			   "jemalloc.muzzy_decay_ms=0 (refused)\n") != NULL,
	       "table shows knobs and their fate");
	out = capture(prom, &r);
	tap_ok(prom_well_formed(out), "Prometheus text is well formed");
	tap_ok(strstr(out, "madvisor_allocator_knob{pid=\"0\",key=\"jemalloc.dirty_decay_ms\"} 2500\n") &&
		       strstr(out, "madvisor_allocator_bytes{pid=\"0\",figure=\"resident\"} 3145728\n") &&
		       strstr(out, "# TYPE madvisor_allocator_purges_total counter\n"),
	       "Prometheus text has the allocator's knobs and figures");

	mv_alloc_use(NULL, NULL);
	tap_ok(mv_alloc_purge() == -1 && mv_alloc_stats(&r.alloc_api.stats) == -1 &&
		       r.alloc_api.stats.resident == -1,
	       "without a backend: no purge, figures unknown");
	return tap_done();
}
