/* fuzz_trace.c - libFuzzer target: the trace reader (`madvisor replay`,
 * tools/replay.c, format in shim/core/trace.h) on arbitrary bytes.
 *
 * The first input byte chooses: the rest as the whole file, or (most often)
 * the rest behind a valid header, so that the records themselves get fuzzed;
 * and which profiles the trace is replayed under. The file is a memory file
 * read through /proc/self/fd/N. Checks:
 *  - replay returns 0 (the profiles, the munmap strategies' among them, are
 *    all good), never crashes, and
 *    returns 2 exactly when the file is not a well-formed trace: a 32-byte
 *    header with the magic, version 2 and record size 64 (or version 1 and
 *    record size 56), then whole records
 *    each of a known type; calls of a known kind with known bits whose
 *    successful addresses lie in the user address space; region samples
 *    2 MiB-aligned with at most 512 entries (the rules of trace.h, written
 *    out again here independently);
 *  - replaying the same file again prints the same report.
 * The report goes to a memory file; messages on stderr are discarded while
 * replay runs (sanitizer reports still reach the real stderr). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sanitizer/common_interface_defs.h>
#include "tools/replay.h"
#include "core/request.h"
#include "core/trace.h"

#define require(cond, what)                                                        \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz_trace: invariant violated: %s\n", what); \
			abort();                                                   \
		}                                                                  \
	} while (0)

static int trace_fd = -1, out_fd = -1, null_fd = -1, err_fd = -1;
static char path[64];

static void setup(void)
{
	trace_fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
	out_fd = memfd_create("fuzz-replay-out", MFD_CLOEXEC);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	err_fd = dup(2);
	require(trace_fd >= 0 && out_fd >= 0 && null_fd >= 0 && err_fd >= 0, "setup: memfd, /dev/null, dup");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", trace_fd);
	/* Sanitizer reports keep going to the real stderr while fd 2 is muted. */
	__sanitizer_set_report_fd((void *)(intptr_t)err_fd);
}

/* The format's rules, independently of replay.c. */
static int well_formed(const uint8_t *b, size_t n)
{
	struct mv_trace_header h;
	const uint64_t top = 1ull << 47;
	if (n < sizeof(h))
		return 0;
	memcpy(&h, b, sizeof(h));
	size_t rs = h.version == 1 ? 56 : 64;
	if (memcmp(h.magic, MV_TRACE_MAGIC, 8) || (h.version != 1 && h.version != 2) || h.record_size != rs ||
	    (n - 32) % rs)
		return 0;
	for (size_t off = 32; off < n; off += rs) {
		struct mv_trace_rec r = { 0 };
		memcpy(&r, b + off, rs);
		switch (r.type) {
		case MV_TR_CALL: {
			if (r.kind >= MV_FIRST_RANGE_CALL || (r.bits & ~3u))
				return 0;
			if (r.bits & MV_TR_FAILED)
				break;
			int moved = r.kind == MV_MMAP || r.kind == MV_MREMAP;
			uint64_t at = moved ? r.aux : r.addr, len = r.kind == MV_MREMAP ? r.len2 : r.len;
			if (at >= top || len > top - at)
				return 0;
			if (r.kind == MV_MREMAP && (r.addr >= top || r.len > top - r.addr))
				return 0;
			break;
		}
		case MV_TR_REGION:
			if (r.len > 512 || (r.addr & ((2u << 20) - 1)))
				return 0;
			break;
		case MV_TR_PASS:
		case MV_TR_DROPPED:
			break;
		default:
			return 0;
		}
	}
	return 1;
}

/* Run `madvisor replay` with its output in out_fd; returns the status. */
static int replay(char **argv, int argc, size_t *out_len)
{
	fflush(stdout);
	require(ftruncate(out_fd, 0) == 0 && lseek(out_fd, 0, SEEK_SET) == 0, "reset the output file");
	int saved_out = dup(1);
	require(saved_out >= 0 && dup2(out_fd, 1) == 1 && dup2(null_fd, 2) == 2, "redirect output");
	int st = mv_replay_main(argc, argv);
	fflush(stdout);
	require(dup2(saved_out, 1) == 1 && dup2(err_fd, 2) == 2, "restore output");
	close(saved_out);
	off_t end = lseek(out_fd, 0, SEEK_END);
	*out_len = end > 0 ? (size_t)end : 0;
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const profiles[] = { "passthrough", "madvise:free_to_dontneed", "pt_reclaim:on",
						"madvise:dontneed_to_free,pt_reclaim:on",
						"munmap:recycle,munmap.cache_entries:4,munmap.cache_bytes:1m",
						"munmap:defer,munmap.zap_first:true,munmap.max_age_ms:1" };
	static char first[1 << 16];
	if (trace_fd < 0)
		setup();
	if (size < 1)
		return 0;
	uint8_t how = data[0];
	data++, size--;

	/* The file: the input as is, or a valid header (allocator from the input) and the input. */
	size_t hlen = 0;
	struct mv_trace_header h = { .magic = MV_TRACE_MAGIC, .version = MV_TRACE_VERSION,
				     .record_size = sizeof(struct mv_trace_rec), .pid = 1, .allocator = (how >> 4) & 7 };
	require(ftruncate(trace_fd, 0) == 0, "truncate the trace file");
	if (!(how & 1)) {
		hlen = sizeof(h);
		require(pwrite(trace_fd, &h, hlen, 0) == (ssize_t)hlen, "write the header");
	}
	require(size == 0 || pwrite(trace_fd, data, size, (off_t)hlen) == (ssize_t)size, "write the trace");

	uint8_t *whole = malloc(hlen + size + 1);
	require(whole != NULL, "malloc");
	memcpy(whole, &h, hlen);
	memcpy(whole + hlen, data, size);
	int ok = well_formed(whole, hlen + size);
	free(whole);

	char *argv[8] = { "replay", path };
	int argc = 2;
	for (int i = 0; i < 2; i++) {
		if (how & (2 << i)) {
			argv[argc++] = "--profile";
			argv[argc++] = (char *)profiles[((how >> 3) + i) % (sizeof(profiles) / sizeof(profiles[0]))];
		}
	}
	size_t n1, n2;
	int st = replay(argv, argc, &n1);
	require(st == 0 || st == 2, "replay returns 0 or 2");
	require((st == 2) == !ok, "replay refuses exactly the malformed traces");
	if (!ok)
		return 0;
	require(n1 > 0 && n1 <= sizeof(first), "a report is printed, of bounded size");
	require(pread(out_fd, first, n1, 0) == (ssize_t)n1, "read the report");
	int st2 = replay(argv, argc, &n2);
	static char second[sizeof(first)];
	require(st2 == st && n2 == n1 && pread(out_fd, second, n2, 0) == (ssize_t)n2 && !memcmp(first, second, n1),
		"replaying twice prints the same report");
	return 0;
}
