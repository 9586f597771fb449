/* fuzz_outbuf_json.c - libFuzzer target: the fixed-buffer text builder
 * (shim/sys/outbuf.c) behind every report and error line.
 *
 * Input: byte 0 picks the buffer size (0..63), byte 1 bit 0 picks a string
 * builder (fd -1) or a buffer flushed to a memory file; the rest is a list of
 * operations: JSON string (length byte + bytes), u64 (8 bytes), fixed-point
 * (8-byte double + signed decimals byte). The same operations also go into a
 * large reference buffer. Checks:
 *  - the small buffer is allocated with exactly its size, so any write past
 *    it is an AddressSanitizer report;
 *  - a string builder holds a prefix of the reference, NUL-terminated inside
 *    the buffer, and sets truncated exactly when text was dropped;
 *  - a flushed buffer writes exactly the reference text;
 *  - in the reference, every JSON string is quoted, has no raw control
 *    character, only valid escapes, and decodes back to the input; every
 *    number parses back to its value. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "sys/outbuf.h"

#define require(cond, what)                                                                      \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#define REF_CAP 65536
#define MAX_OPS 64

enum { OP_JSON, OP_U64, OP_FIXED, OP_KINDS };

struct op {
	int kind;
	char str[33];   /* OP_JSON: the C string (stops at the first NUL) */
	uint64_t u;     /* OP_U64 */
	double d;       /* OP_FIXED */
	int decimals;   /* OP_FIXED */
	size_t at, end; /* where its text sits in the reference */
};

static char ref_buf[REF_CAP];
static char file_text[REF_CAP];
static int mem_fd = -1;

static size_t parse_ops(const uint8_t *p, size_t n, struct op *ops)
{
	size_t k = 0, i = 0;
	while (i < n && k < MAX_OPS) {
		struct op *o = &ops[k];
		o->kind = p[i++] % OP_KINDS;
		if (o->kind == OP_JSON) {
			size_t len = i < n ? p[i++] % 33 : 0;
			if (len > n - i)
				len = n - i;
			memcpy(o->str, p + i, len);
			o->str[len] = 0;
			i += len;
		} else {
			uint8_t raw[8] = { 0 };
			size_t len = n - i < 8 ? n - i : 8;
			memcpy(raw, p + i, len);
			i += len;
			memcpy(&o->u, raw, 8);
			memcpy(&o->d, raw, 8);
			o->decimals = i < n ? (int8_t)p[i++] : 0;
		}
		k++;
	}
	return k;
}

static void emit(struct mv_outbuf *b, struct op *o)
{
	switch (o->kind) {
	case OP_JSON: mv_out_json_str(b, o->str); break;
	case OP_U64: mv_out_u64(b, o->u); break;
	default: mv_out_fixed(b, o->d, o->decimals); break;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* A JSON string literal that decodes to exactly o->str. */
static void check_json(const char *s, size_t n, const char *want)
{
	size_t w = 0;
	require(n >= 2 && s[0] == '"' && s[n - 1] == '"', "JSON string is quoted");
	for (size_t i = 1; i < n - 1; i++) {
		unsigned char c = (unsigned char)s[i];
		require(c >= 0x20 && c != 0x7f, "no raw control character in a JSON string");
		require(c != '"', "no unescaped quote inside a JSON string");
		if (c == '\\') {
			require(i + 1 < n - 1, "escape is complete");
			c = (unsigned char)s[++i];
			if (c == 'u') {
				require(i + 4 < n - 1, "\\u escape has four hex digits");
				int v = 0;
				for (int j = 1; j <= 4; j++) {
					int h = hexval(s[i + j]);
					require(h >= 0, "\\u escape has four hex digits");
					v = v * 16 + h;
				}
				require(v > 0 && v < 0x100, "\\u escape is a byte");
				c = (unsigned char)v;
				i += 4;
			} else {
				require(c == '"' || c == '\\', "only \\\", \\\\ and \\u escapes");
			}
		}
		require(want[w] && (unsigned char)want[w] == c, "JSON string decodes to its input");
		w++;
	}
	require(want[w] == 0, "JSON string holds all of its input");
}

static void check_u64(const char *s, size_t n, uint64_t v)
{
	char tmp[32];
	require(n >= 1 && n <= 20, "u64 has 1..20 digits");
	require(n == 1 || s[0] != '0', "u64 has no leading zero");
	for (size_t i = 0; i < n; i++)
		require(s[i] >= '0' && s[i] <= '9', "u64 is digits only");
	memcpy(tmp, s, n);
	tmp[n] = 0;
	require(strtoull(tmp, NULL, 10) == v, "u64 reads back");
}

/* A JSON number: -?digits(.digits{decimals})?, close to the value asked. */
static void check_fixed(const char *s, size_t n, double v, int decimals)
{
	char tmp[64];
	size_t i = 0, int_digits = 0, frac_digits = 0;
	int d = decimals < 0 ? 0 : decimals > 18 ? 18 : decimals; /* clamped, as outbuf.h says */
	require(n < sizeof(tmp), "fixed-point text is short");
	if (isnan(v)) {
		require(n == 1 && s[0] == '0', "NaN prints as 0");
		return;
	}
	if (i < n && s[i] == '-')
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, int_digits++;
	require(int_digits >= 1, "fixed-point has an integer part");
	require(int_digits == 1 || s[i - int_digits] != '0', "fixed-point has no leading zero");
	if (i < n) {
		require(s[i] == '.', "fixed-point: only a '.' follows the integer part");
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, frac_digits++;
	}
	require(i == n, "fixed-point is a plain number");
	require((int)frac_digits == d, "fixed-point has the decimals asked for");
	memcpy(tmp, s, n);
	tmp[n] = 0;
	long double got = strtold(tmp, NULL), want = v, unit = powl(10.0L, -(long double)d);
	long double lim = 1e18L * unit; /* values are clamped to this magnitude */
	if (want > lim)
		want = lim;
	if (want < -lim)
		want = -lim;
	require(fabsl(got - want) <= unit + fabsl(want) * 1e-15L, "fixed-point is within one unit of the value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct op ops[MAX_OPS];
	struct mv_outbuf ref, small;
	size_t cap, k;
	int to_fd;
	char *buf;

	if (size < 2)
		return 0;
	cap = data[0] % 64;
	to_fd = data[1] & 1;
	k = parse_ops(data + 2, size - 2, ops);

	mv_out_init(&ref, ref_buf, sizeof(ref_buf), -1);
	for (size_t i = 0; i < k; i++) {
		ops[i].at = ref.len;
		emit(&ref, &ops[i]);
		ops[i].end = ref.len;
	}
	require(!ref.truncated, "reference buffer is large enough");
	for (size_t i = 0; i < k; i++) {
		const char *s = ref_buf + ops[i].at;
		size_t n = ops[i].end - ops[i].at;
		if (ops[i].kind == OP_JSON)
			check_json(s, n, ops[i].str);
		else if (ops[i].kind == OP_U64)
			check_u64(s, n, ops[i].u);
		else
			check_fixed(s, n, ops[i].d, ops[i].decimals);
	}

	buf = malloc(cap ? cap : 1);
	if (!buf)
		return 0;
	if (to_fd) {
		if (mem_fd < 0)
			mem_fd = memfd_create("fuzz-outbuf", MFD_CLOEXEC);
		require(mem_fd >= 0 && ftruncate(mem_fd, 0) == 0 && lseek(mem_fd, 0, SEEK_SET) == 0,
			"memory file ready");
		mv_out_init(&small, buf, cap, mem_fd);
		for (size_t i = 0; i < k; i++)
			emit(&small, &ops[i]);
		require(mv_out_flush(&small) == 0 && !small.failed, "flush succeeds");
		ssize_t got = pread(mem_fd, file_text, sizeof(file_text), 0);
		require(got == (ssize_t)ref.len && memcmp(file_text, ref_buf, ref.len) == 0,
			"a flushed buffer writes exactly the text");
	} else {
		/* A zero-size builder gets a pointer to nothing usable. */
		mv_out_init(&small, cap ? buf : buf + 1, cap, -1);
		for (size_t i = 0; i < k; i++)
			emit(&small, &ops[i]);
		size_t keep = cap ? cap - 1 : 0;
		require(small.len <= keep, "string builder keeps a byte for the NUL");
		require(memcmp(small.buf, ref_buf, small.len) == 0, "string builder holds a prefix");
		require(small.len == (ref.len < keep ? ref.len : keep), "string builder fills up to its size");
		require(!!small.truncated == (ref.len > keep), "truncated exactly when text was dropped");
		const char *c = mv_out_cstr(&small);
		require(!cap || (c == buf && c[small.len] == 0), "cstr is NUL-terminated");
	}
	free(buf);
	return 0;
}
