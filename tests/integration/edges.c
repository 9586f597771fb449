/* edges.c - calls that act on mapped ranges, in a real program: prints what
 * each call returned (and errno) and what the kernel reports for the
 * mappings, so that a run under madvisor can be compared line by line with a
 * run without it. mlock, munlock, msync, mincore, mseal and pkey_mprotect on
 * a range the program unmapped; the lock state of a new mapping after an
 * mlocked range was unmapped, and under mlockall(MCL_FUTURE); munmap of a
 * sealed range. Usage: edges [-r ROUNDS] */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sys/linux.h" /* constants older headers lack */

#define PG 4096UL
#define LEN (16 * PG)

static void show(const char *what, long r)
{
	printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

static char *fresh(void)
{
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* The "Locked:" kB of the mapping containing p (from /proc/self/smaps). */
static long locked_kb(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;
	long kb = -1;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && sscanf(line, "Locked: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

static int zero(const char *p)
{
	for (size_t i = 0; i < LEN; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 && !strcmp(argv[1], "-r") ? atoi(argv[2]) : 3;
	unsigned char vec[16];
	for (int i = 0; i < rounds; i++) {
		/* Each call on a range just unmapped. */
		const char *names[] = { "mlock", "munlock", "msync", "mincore", "mseal", "pkey_mprotect", "mlock2" };
		for (int k = 0; k < 7; k++) {
			char *p = fresh();
			memset(p, k + 1, LEN);
			munmap(p, LEN);
			char what[64];
			snprintf(what, sizeof(what), "%s after munmap", names[k]);
			switch (k) {
			case 0: show(what, mlock(p, PG)); break;
			case 1: show(what, munlock(p, PG)); break;
			case 2: show(what, msync(p, PG, MS_SYNC)); break;
			case 3: show(what, mincore(p, PG, vec)); break;
			case 4: show(what, syscall(SYS_mseal, p, PG, 0)); break;
			case 5: show(what, pkey_mprotect(p, PG, PROT_READ, 0)); break;
			case 6: show(what, mlock2(p, PG, MLOCK_ONFAULT)); break;
			}
		}
		/* A new mapping after an mlocked one was unmapped: not locked, zero. */
		char *p = fresh();
		show("mlock live", mlock(p, LEN));
		memset(p, 9, LEN);
		munmap(p, LEN);
		char *q = fresh();
		printf("new mapping after an mlocked one: Locked %ld kB, zero %d\n", locked_kb(q), zero(q));
		memset(q, 3, LEN);
		show("msync live", msync(q, LEN, MS_SYNC));
		show("mincore live", mincore(q, LEN, vec));
		printf("resident pages: %d\n", vec[0] & 1);
		munmap(q, LEN);
		/* Sealed: munmap must fail with EPERM and the data stay. */
		char *s = fresh();
		memset(s, 5, LEN);
		long sr = syscall(SYS_mseal, s, LEN, 0);
		show("mseal live", sr);
		show("munmap sealed", munmap(s, LEN));
		printf("sealed data kept: %d\n", s[LEN - 1] == 5);
	}
	/* mlockall(MCL_FUTURE): every new mapping is locked, recycled or not. */
	char *a = fresh();
	memset(a, 1, LEN);
	munmap(a, LEN);
	long r = mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT);
	show("mlockall", r);
	if (r == 0) {
		for (int i = 0; i < rounds; i++) {
			char *b = fresh();
			int z = zero(b);
			memset(b, 2, LEN);
			/* Its VMA may have merged with a neighbour: all of it locked is what counts. */
			printf("under mlockall: zero %d, all locked once touched %d\n", z,
			       locked_kb(b) >= (long)(LEN / 1024));
			munmap(b, LEN);
		}
		show("munlockall", munlockall());
	}
	char *c = fresh();
	printf("after munlockall: Locked %ld kB, zero %d\n", locked_kb(c), zero(c));
	munmap(c, LEN);
	return 0;
}
