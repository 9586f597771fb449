/* emit.c - JSON through an outbuf with the commas kept by the emitter. */
#include "sys/emit.h"

void mv_emit_init(struct mv_emit *e, struct mv_outbuf *o)
{
	e->o = o;
	e->depth = 0;
	e->more = 0;
	e->array = 0;
}

/* Before a member: its comma and key. */
static void member(struct mv_emit *e, const char *key)
{
	if (e->depth < MV_EMIT_DEPTH) {
		uint32_t bit = 1u << e->depth;
		if (e->more & bit)
			mv_out_char(e->o, ',');
		e->more |= bit;
	}
	if (key) {
		mv_out_json_str(e->o, key);
		mv_out_char(e->o, ':');
	}
}

static void begin(struct mv_emit *e, const char *key, int array)
{
	member(e, key);
	mv_out_char(e->o, array ? '[' : '{');
	e->depth++;
	if (e->depth < MV_EMIT_DEPTH) {
		uint32_t bit = 1u << e->depth;
		e->more &= ~bit;
		if (array)
			e->array |= bit;
		else
			e->array &= ~bit;
	}
}

void mv_emit_object(struct mv_emit *e, const char *key)
{
	begin(e, key, 0);
}

void mv_emit_array(struct mv_emit *e, const char *key)
{
	begin(e, key, 1);
}

void mv_emit_end(struct mv_emit *e)
{
	if (e->depth <= 0)
		return;
	int array = e->depth < MV_EMIT_DEPTH && (e->array & (1u << e->depth));
	mv_out_char(e->o, array ? ']' : '}');
	e->depth--;
}

void mv_emit_u64(struct mv_emit *e, const char *key, uint64_t v)
{
	member(e, key);
	mv_out_u64(e->o, v);
}

void mv_emit_i64(struct mv_emit *e, const char *key, int64_t v)
{
	member(e, key);
	mv_out_i64(e->o, v);
}

void mv_emit_count(struct mv_emit *e, const char *key, int64_t v)
{
	member(e, key);
	if (v < 0)
		mv_out_str(e->o, "null");
	else
		mv_out_i64(e->o, v);
}

void mv_emit_str(struct mv_emit *e, const char *key, const char *s)
{
	member(e, key);
	if (s)
		mv_out_json_str(e->o, s);
	else
		mv_out_str(e->o, "null");
}

void mv_emit_bool(struct mv_emit *e, const char *key, int v)
{
	member(e, key);
	mv_out_str(e->o, v ? "true" : "false");
}

void mv_emit_null(struct mv_emit *e, const char *key)
{
	member(e, key);
	mv_out_str(e->o, "null");
}

void mv_emit_fixed(struct mv_emit *e, const char *key, double v, int decimals)
{
	member(e, key);
	mv_out_fixed(e->o, v, decimals);
}
