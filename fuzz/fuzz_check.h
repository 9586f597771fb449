/* fuzz_check.h - invariants the configuration fuzz targets assert after each
 * input (header-only, shared by fuzz_config_string.c and fuzz_config_file.c).
 *
 * A violation prints one line naming the invariant and calls abort(), which
 * libFuzzer reports as a crash and saves the input.
 *  - every key's field holds a value its parser can produce: bools 0/1,
 *    numbers within [min, max], choices within the list, strings
 *    NUL-terminated inside the field, printable, no trailing '/' for paths;
 *  - printing a value and parsing it back gives the same field (round trip);
 *  - a failure fills a non-empty, printable, one-line reason, and the
 *    formatted message is one line ending in '\n' inside any buffer size. */
#ifndef MADVISOR_FUZZ_CHECK_H
#define MADVISOR_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/options.h"
#include "sys/outbuf.h"

#define fuzz_require(cond, what)                                                          \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", what, __FILE__, \
				__LINE__);                                                \
			abort();                                                          \
		}                                                                         \
	} while (0)

/* Printable ASCII only, no newline, NUL within cap. */
static inline void fuzz_check_text(const char *s, size_t cap, int may_be_empty, const char *what)
{
	size_t n = strnlen(s, cap);
	fuzz_require(n < cap, what);
	fuzz_require(may_be_empty || n > 0, what);
	for (size_t i = 0; i < n; i++)
		fuzz_require((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f, what);
}

static inline uint64_t fuzz_load_uint(const char *field, size_t size)
{
	uint8_t a; uint16_t b; uint32_t c; uint64_t d;
	switch (size) {
	case 1: memcpy(&a, field, 1); return a;
	case 2: memcpy(&b, field, 2); return b;
	case 4: memcpy(&c, field, 4); return c;
	default: memcpy(&d, field, 8); return d;
	}
}

/* The value of key d in o as text its parser accepts; returns its length. */
static inline size_t fuzz_value_text(const struct mv_option_desc *d, const struct mv_options *o,
				     char *buf, size_t cap)
{
	const char *field = (const char *)o + d->offset;
	struct mv_outbuf b;
	unsigned char v;
	int e, n = 0;

	mv_out_init(&b, buf, cap, -1);
	switch (d->type) {
	case MV_T_BOOL:
		memcpy(&v, field, 1); /* read as a byte: a bad bool must not be UB here */
		fuzz_require(v <= 1, "bool field is 0 or 1");
		mv_out_str(&b, v ? "true" : "false");
		break;
	case MV_T_UINT: {
		uint64_t x = fuzz_load_uint(field, d->size);
		/* An unset key (MV_OPT_F_UNSET, still at its default) holds 0. */
		fuzz_require((x >= d->min && x <= d->max) ||
			     (x == 0 && (d->flags & MV_OPT_F_UNSET) && o->source[d - mv_option_table] == MV_SRC_DEFAULT),
			     "number within its declared range");
		mv_out_u64(&b, x);
		break;
	}
	case MV_T_ENUM:
		memcpy(&e, field, sizeof(e));
		while (d->choices[n])
			n++;
		fuzz_require(e >= 0 && e < n, "choice within the list");
		mv_out_str(&b, mv_option_choice(d, o));
		break;
	case MV_T_STRING:
		fuzz_check_text(field, d->size, 1, "string field NUL-terminated and printable");
		if (field[0] && (d->flags & MV_OPT_F_PATH))
			fuzz_require(field[strlen(field) - 1] != '/', "path does not end in '/'");
		mv_out_str(&b, field);
		break;
	default:
		fuzz_require(0, "option type known to fuzz/fuzz_check.h");
	}
	fuzz_require(!b.truncated, "value text fits");
	mv_out_cstr(&b);
	return b.len;
}

/* Every field valid, and each non-default value survives print -> parse. */
static inline void fuzz_check_options(const struct mv_options *o)
{
	char text[MV_PATH_MAX + 64], reason[128];
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		struct mv_options again;
		size_t n = fuzz_value_text(d, o, text, sizeof(text));
		fuzz_require(o->source[i] <= MV_SRC_ENV, "source is a known enum mv_source");
		if (o->source[i] == MV_SRC_DEFAULT || (d->type == MV_T_STRING && n == 0))
			continue;
		mv_options_defaults(&again);
		reason[0] = 0;
		fuzz_require(mv_option_parse(d, &again, text, n, reason, sizeof(reason)) == 0,
			     "a stored value parses again");
		fuzz_require(memcmp((const char *)o + d->offset, (const char *)&again + d->offset,
				    d->size) == 0 || d->type == MV_T_STRING,
			     "a stored value round-trips");
		if (d->type == MV_T_STRING)
			fuzz_require(strcmp((const char *)o + d->offset, (const char *)&again + d->offset) == 0,
				     "a stored string round-trips");
	}
}

/* After a failure: a reason, printable, one line, at any message size. */
static inline void fuzz_check_error(const struct mv_config_error *e)
{
	char msg[sizeof(*e) + 64];
	static const size_t caps[] = { 1, 2, 11, 40, sizeof(msg) };

	fuzz_check_text(e->where, sizeof(e->where), 0, "error names where");
	fuzz_check_text(e->key, sizeof(e->key), 1, "error key printable, one line");
	fuzz_check_text(e->reason, sizeof(e->reason), 0, "error reason non-empty, printable, one line");
	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		size_t cap = caps[k], n;
		memset(msg, 'X', sizeof(msg));
		mv_config_format_error(e, msg, cap);
		n = strnlen(msg, cap);
		fuzz_require(n < cap, "message NUL-terminated inside its buffer");
		fuzz_require(cap == sizeof(msg) || msg[cap] == 'X', "message stays inside its buffer");
		if (cap > 1) {
			fuzz_require(n >= 1 && msg[n - 1] == '\n', "message ends in a newline");
			fuzz_require(memchr(msg, '\n', n - 1) == NULL, "message is one line");
		}
	}
	fuzz_require(strncmp(msg, "madvisor: ", 10) == 0, "message starts with 'madvisor: '");
}

/* After success: nothing recorded in the error. */
static inline void fuzz_check_no_error(const struct mv_config_error *e)
{
	fuzz_require(!e->where[0] && !e->key[0] && !e->reason[0], "success leaves the error empty");
}

#endif
