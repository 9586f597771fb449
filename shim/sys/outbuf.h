/* outbuf.h - build text in a fixed buffer and write it to a file descriptor.
 *
 * No malloc, no stdio, no locale: usable in constructors, destructors, after
 * fork and from the hot path's error reporting. Text past the buffer's end is
 * flushed to the descriptor (or dropped when fd < 0, setting truncated). */
#ifndef MADVISOR_OUTBUF_H
#define MADVISOR_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

struct mv_outbuf {
	char *buf;
	size_t cap;
	size_t len;
	int fd;         /* -1: string builder, no flushing */
	int truncated;  /* string builder ran out of room */
	int failed;     /* a write to fd failed */
};

void mv_out_init(struct mv_outbuf *o, char *buf, size_t cap, int fd);
void mv_out_str(struct mv_outbuf *o, const char *s);
void mv_out_mem(struct mv_outbuf *o, const char *s, size_t n);
void mv_out_char(struct mv_outbuf *o, char c);
void mv_out_u64(struct mv_outbuf *o, uint64_t v);
void mv_out_i64(struct mv_outbuf *o, int64_t v);
void mv_out_hex(struct mv_outbuf *o, uint64_t v);
/* Fixed-point decimal: v printed with `decimals` digits after the point
 * (0..18; outside that range, clamped). |v| above 10^(18-decimals) prints as
 * that bound; NaN prints as 0. */
void mv_out_fixed(struct mv_outbuf *o, double v, int decimals);
/* Right/left-aligned in a field of width w. */
void mv_out_pad_u64(struct mv_outbuf *o, uint64_t v, int w);
void mv_out_pad_str(struct mv_outbuf *o, const char *s, int w);
/* JSON string with quotes and escapes. */
void mv_out_json_str(struct mv_outbuf *o, const char *s);
/* Write what is buffered (fd >= 0). Returns 0 or -1. */
int mv_out_flush(struct mv_outbuf *o);
/* NUL-terminate a string builder and return its text. */
const char *mv_out_cstr(struct mv_outbuf *o);

/* The one line madvisor prints when something is refused or fails:
 * "madvisor: WHAT (error N); THEN\n" in one write(2) to fd (nothing when
 * fd < 0). WHAT is the pieces from `what` up to a NULL, joined; err 0 leaves
 * out " (error N)", N = |err| (an errno, either sign). */
void mv_out_say(int fd, long err, const char *then, const char *what, ...) __attribute__((sentinel));
/* The words for an errno (either sign) that opening, reading or writing a
 * file gives, or NULL for one not in the table. */
const char *mv_out_errno_text(long err);

#endif
