/* zero_fill - fresh anonymous memory must read zero, also when it is
 * recycled: maps ranges of several sizes, writes a few scattered pages (sparse
 * use) or every page (dense use), unmaps them and maps the same sizes again,
 * checking every byte of the new mappings. Under munmap:recycle the second
 * mapping is the first one handed back, cleared by madvisor (memset, or pages
 * dropped after a pagemap or mincore look). Prints "zero_fill: ok" and exits
 * 0, or names the first non-zero byte and exits 1. A plain program: it links
 * nothing of madvisor. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096UL

static int check_zero(const unsigned char *p, size_t len, size_t size, int round)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i]) {
			printf("zero_fill: size %zu round %d: byte %zu reads %d\n", size, round, i, p[i]);
			return -1;
		}
	}
	return 0;
}

int main(void)
{
	static const size_t sizes[] = { 256 * 1024, 1024 * 1024, 3 * 1024 * 1024, 6 * 1024 * 1024 };
	for (int round = 0; round < 40; round++) {
		for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t len = sizes[s];
			unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				perror("zero_fill: mmap");
				return 2;
			}
			if (check_zero(p, len, len, round) != 0)
				return 1;
			size_t step = (round & 1) ? PAGE : 37 * PAGE; /* dense, or sparse */
			for (size_t off = (size_t)round % 7 * PAGE; off < len; off += step)
				memset(p + off, 0xa5, 64);
			p[len - 1] = 0x5a;
			if (munmap(p, len) != 0) {
				perror("zero_fill: munmap");
				return 2;
			}
		}
	}
	printf("zero_fill: ok\n");
	return 0;
}
