/* test_emit.c - the JSON emitter (sys/emit.h): commas between members and
 * elements at every level, keys escaped, null for unknown counts and absent
 * strings, sections written one after another by different callers. */
#include <string.h>
#include "sys/emit.h"
#include "../tap.h"

static char buf[1024];
static struct mv_outbuf o;
static struct mv_emit e;

static void start(void)
{
	mv_out_init(&o, buf, sizeof(buf), -1);
	mv_emit_init(&e, &o);
}

static int is(const char *want)
{
	const char *got = mv_out_cstr(&o);
	if (strcmp(got, want))
		tap_diag("got  %s\n# want %s", got, want);
	return !strcmp(got, want);
}

/* A section written by another module, as the features write theirs. */
static void section(struct mv_emit *s, const char *name, int on)
{
	if (!on)
		return;
	mv_emit_object(s, name);
	mv_emit_u64(s, "n", 1);
	mv_emit_end(s);
}

int main(void)
{
	start();
	mv_emit_object(&e, NULL);
	mv_emit_array(&e, "a");
	mv_emit_end(&e);
	mv_emit_object(&e, "o");
	mv_emit_end(&e);
	mv_emit_end(&e);
	tap_ok(is("{\"a\":[],\"o\":{}}"), "empty array and object as members");

	start();
	mv_emit_object(&e, NULL);
	mv_emit_u64(&e, "a", 18446744073709551615ull);
	mv_emit_array(&e, "b");
	mv_emit_i64(&e, NULL, -2);
	mv_emit_i64(&e, NULL, 3);
	mv_emit_object(&e, NULL);
	mv_emit_null(&e, "c");
	mv_emit_end(&e);
	mv_emit_end(&e);
	mv_emit_object(&e, "d");
	mv_emit_bool(&e, "t", 1);
	mv_emit_bool(&e, "f", 0);
	mv_emit_end(&e);
	mv_emit_end(&e);
	tap_ok(is("{\"a\":18446744073709551615,\"b\":[-2,3,{\"c\":null}],\"d\":{\"t\":true,\"f\":false}}"),
	       "nested objects and arrays: a comma before every member but the first, at each level");

	start();
	mv_emit_object(&e, NULL);
	mv_emit_count(&e, "unknown", -1);
	mv_emit_count(&e, "known", 7);
	mv_emit_str(&e, "absent", NULL);
	mv_emit_str(&e, "q\"k", "a\\b\n");
	mv_emit_fixed(&e, "f", 0.9, 2);
	mv_emit_end(&e);
	tap_ok(is("{\"unknown\":null,\"known\":7,\"absent\":null,\"q\\\"k\":\"a\\\\b\\u000a\",\"f\":0.90}"),
	       "null for an unknown count and an absent string; keys and strings escaped; fixed point");

	start();
	mv_emit_object(&e, NULL);
	section(&e, "x", 0);
	section(&e, "y", 1);
	section(&e, "z", 0);
	section(&e, "w", 1);
	mv_emit_u64(&e, "last", 0);
	mv_emit_end(&e);
	tap_ok(is("{\"y\":{\"n\":1},\"w\":{\"n\":1},\"last\":0}"),
	       "sections that write nothing leave no comma behind; those that write get one");

	start();
	mv_emit_array(&e, NULL);
	for (int i = 0; i < 3; i++) {
		mv_emit_array(&e, NULL);
		mv_emit_end(&e);
	}
	mv_emit_end(&e);
	mv_emit_end(&e); /* one too many: ignored */
	tap_ok(is("[[],[],[]]"), "empty arrays in an array; an extra end writes nothing");

	start();
	for (int i = 0; i < MV_EMIT_DEPTH + 8; i++)
		mv_emit_array(&e, NULL);
	for (int i = 0; i < MV_EMIT_DEPTH + 8; i++)
		mv_emit_end(&e);
	tap_ok(strlen(mv_out_cstr(&o)) == 2 * (MV_EMIT_DEPTH + 8) && e.depth == 0,
	       "nesting past the limit stays inside the buffer and unwinds");
	return tap_done();
}
