/* emit.h - write JSON into an outbuf: keys, values, objects and arrays,
 * with the commas put in by the emitter (no whitespace, keys in the order
 * written). The reports' one way to write JSON: the core report
 * (observe/report_json.c), the allocator sections (observe/report_alloc.c)
 * and the sections the features write themselves (ptmodel, munmap) all go
 * through it, so a section can neither drop nor double a comma.
 *
 * Every call takes a key: the member's name inside an object, NULL for an
 * element of an array (or for the top-level value). Nesting goes up to
 * MV_EMIT_DEPTH levels (the reports use six); past that the text is not
 * valid JSON, but nothing is written outside the buffer. */
#ifndef MADVISOR_EMIT_H
#define MADVISOR_EMIT_H

#include <stdint.h>
#include "sys/outbuf.h"

#define MV_EMIT_DEPTH 32

struct mv_emit {
	struct mv_outbuf *o;
	int depth;
	uint32_t more;  /* bit d: the container at depth d has a member already */
	uint32_t array; /* bit d: the container at depth d is an array */
};

void mv_emit_init(struct mv_emit *e, struct mv_outbuf *o);
void mv_emit_object(struct mv_emit *e, const char *key); /* { ... mv_emit_end */
void mv_emit_array(struct mv_emit *e, const char *key);  /* [ ... mv_emit_end */
void mv_emit_end(struct mv_emit *e);
void mv_emit_u64(struct mv_emit *e, const char *key, uint64_t v);
void mv_emit_i64(struct mv_emit *e, const char *key, int64_t v);
/* A count or size that may be unknown: v < 0 writes null. */
void mv_emit_count(struct mv_emit *e, const char *key, int64_t v);
/* s NULL writes null. */
void mv_emit_str(struct mv_emit *e, const char *key, const char *s);
void mv_emit_bool(struct mv_emit *e, const char *key, int v);
void mv_emit_null(struct mv_emit *e, const char *key);
/* Fixed-point decimal (outbuf.h's mv_out_fixed). */
void mv_emit_fixed(struct mv_emit *e, const char *key, double v, int decimals);

#endif
