/* fuzz_config_file.c - libFuzzer target: mv_config_apply_file (MADVISOR_CONFIG
 * files and profiles) on arbitrary bytes.
 *
 * The bytes go into one memory file (memfd_create, made once) that the parser
 * opens through /proc/self/fd/N, so nothing touches the disk and the shim needs
 * no test hook. Checks: the invariants of fuzz_check.h; the error names the
 * file and a line that exists; and a one-line text without '#', ',' or NUL
 * gives the same result through the MADVISOR_CONF parser. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz_check.h"

static int mem_fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mv_options o, o2;
	struct mv_config_error err, err2;
	size_t plen, lines = 1;
	int r;

	if (mem_fd < 0) {
		mem_fd = memfd_create("fuzz-config", MFD_CLOEXEC);
		fuzz_require(mem_fd >= 0, "memfd_create works");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", mem_fd);
	}
	fuzz_require(ftruncate(mem_fd, 0) == 0, "memfd truncated");
	fuzz_require(size == 0 || pwrite(mem_fd, data, size, 0) == (ssize_t)size, "memfd written");

	mv_options_defaults(&o);
	r = mv_config_apply_file(&o, path, MV_SRC_FILE, &err);
	fuzz_check_options(&o);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	plen = strlen(path);
	if (r == 0) {
		fuzz_check_no_error(&err);
	} else {
		fuzz_require(r == -1, "returns 0 or -1");
		fuzz_check_error(&err);
		fuzz_require(strncmp(err.where, path, plen) == 0, "error names the file");
		if (err.where[plen] == ':') {
			long line = strtol(err.where + plen + 1, NULL, 10);
			fuzz_require(line >= 1 && (size_t)line <= lines, "error names an existing line");
		} else {
			fuzz_require(err.where[plen] == 0, "error is 'path' or 'path:line'");
		}
	}

	/* A single entry reads the same from a file and from MADVISOR_CONF. */
	if (!memchr(data, '\n', size) && !memchr(data, '#', size) && !memchr(data, ',', size) &&
	    !memchr(data, 0, size)) {
		char *text = malloc(size + 1);
		if (!text)
			return 0;
		memcpy(text, data, size);
		text[size] = 0;
		mv_options_defaults(&o2);
		int r2 = mv_config_apply_string(&o2, text, MV_SRC_FILE, path, &err2);
		fuzz_require(r == r2, "file and string parsers agree on success");
		/* Field values agree; sources agree too (both MV_SRC_FILE). */
		fuzz_require(memcmp(&o, &o2, sizeof(o)) == 0, "file and string parsers agree on values");
		if (r) {
			fuzz_require(strcmp(err.key, err2.key) == 0 && strcmp(err.reason, err2.reason) == 0,
				     "file and string parsers give the same reason");
		}
		free(text);
	}
	return 0;
}
