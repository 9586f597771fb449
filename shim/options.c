/* options.c - the table of configuration keys and their value parsers.
 *
 * Every key is declared once below (in the style of mimalloc's src/options.c):
 * name, type, where it lives in struct mv_options, default, range and help.
 * The config parser, print_config, `madvisor config --check` and `--help` all
 * read this table. Runs in the library constructor: no malloc, no stdio. */
#include <string.h>
#include "options.h"
#include "outbuf.h"

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
	     "allocator purges: passthrough, free_to_dontneed (MADV_FREE sent as MADV_DONTNEED: RSS drops"
	     " at once), or dontneed_to_free (MADV_DONTNEED sent as MADV_FREE; tcmalloc and mimalloc only)"),
	BOOL(MV_OPT_PT_RECLAIM, pt_reclaim, "false",
	     "allocator purges covering whole 2 MiB-aligned regions send that core as one MADV_DONTNEED,"
	     " so the kernel frees its page table (needs PT_RECLAIM, Linux 6.14+)"),
};

#undef BOOL
#undef UINT
#undef PATH
#undef ENUM

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
