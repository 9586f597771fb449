/* fuzz_config_string.c - libFuzzer target: mv_config_apply_string (the
 * MADVISOR_CONF / --conf parser) on arbitrary bytes.
 *
 * The input is copied into a buffer of exactly size + 1 bytes, so reading past
 * the terminating NUL is an AddressSanitizer report. After each input the
 * options and the error must satisfy fuzz_check.h; the same text applied
 * twice gives the same options; and print_config writes one line per key. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz_check.h"

static int print_fd = -1;

/* mv_config_print into a memory file: one printable line per key. */
static void check_print(const struct mv_options *o)
{
	static char text[MV_OPT_COUNT * (MV_PATH_MAX + 128)];
	ssize_t n;
	int lines = 0;

	if (print_fd < 0)
		print_fd = memfd_create("fuzz-print", MFD_CLOEXEC);
	fuzz_require(print_fd >= 0, "memfd_create works");
	fuzz_require(ftruncate(print_fd, 0) == 0 && lseek(print_fd, 0, SEEK_SET) == 0, "memfd reset");
	mv_config_print(o, print_fd);
	n = pread(print_fd, text, sizeof(text), 0);
	fuzz_require(n > 0 && (size_t)n < sizeof(text), "print_config wrote something");
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n')
			lines++;
		else
			fuzz_require(c >= 0x20 && c < 0x7f, "print_config output is printable");
	}
	fuzz_require(text[n - 1] == '\n' && lines == MV_OPT_COUNT, "print_config: one line per key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mv_options o, o2;
	struct mv_config_error err, err2;
	char *text = malloc(size + 1);
	int r, r2;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;

	mv_options_defaults(&o);
	r = mv_config_apply_string(&o, text, MV_SRC_ENV, "MADVISOR_CONF", &err);
	fuzz_check_options(&o);
	if (r == 0) {
		fuzz_check_no_error(&err);
	} else {
		fuzz_require(r == -1, "returns 0 or -1");
		fuzz_check_error(&err);
		fuzz_require(strcmp(err.where, "MADVISOR_CONF") == 0, "error names MADVISOR_CONF");
	}

	mv_options_defaults(&o2);
	r2 = mv_config_apply_string(&o2, text, MV_SRC_ENV, "MADVISOR_CONF", &err2);
	fuzz_require(r == r2 && memcmp(&o, &o2, sizeof(o)) == 0 && !strcmp(err.where, err2.where) &&
		     !strcmp(err.key, err2.key) && !strcmp(err.reason, err2.reason),
		     "the same text gives the same result");

	check_print(&o);
	free(text);
	return 0;
}
