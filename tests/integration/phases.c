/* phases - a program whose allocator holds free memory while it waits.
 *
 * usage: phases MIB SECONDS [STOPFILE [fork]]
 *   1. mallocs MIB MiB in 64-256 KiB blocks, writes every page, frees them
 *      all (the allocator now holds that memory free, mostly resident);
 *   2. prints "pid P" and "ready", then keeps allocating and freeing one
 *      small block every 5 ms (so the allocator stays active) until SECONDS
 *      pass or STOPFILE exists;
 *   3. prints "rss_kb N" (VmRSS) and exits 0.
 * With "fork", a child forked after step 1 prints "child pid P" and runs
 * steps 2-3 as well; the parent waits for it.
 * Makes no memory calls of its own. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	size_t total = (size_t)atol(argv[1]) << 20;
	double until = now() + atof(argv[2]);
	const char *stop = argc > 3 ? argv[3] : NULL;
	size_t n = total / (64 << 10) + 1, used = 0, k = 0;
	char **blocks = calloc(n, sizeof(*blocks));
	unsigned seed = 1;
	if (!blocks)
		return 1;
	while (used < total && k < n) {
		size_t sz = (64u << 10) + (size_t)(rand_r(&seed) % (192u << 10));
		char *p = malloc(sz);
		if (!p)
			return 1;
		for (size_t o = 0; o < sz; o += 4096)
			p[o] = (char)o;
		blocks[k++] = p;
		used += sz;
	}
	for (size_t i = 0; i < k; i++)
		free(blocks[i]);
	free(blocks);
	pid_t child = -1;
	if (argc > 4 && !strcmp(argv[4], "fork")) {
		fflush(stdout);
		child = fork();
		if (child == 0)
			printf("child ");
	}
	printf("pid %d\nready\n", (int)getpid());
	fflush(stdout);
	while (now() < until && !(stop && access(stop, F_OK) == 0)) {
		char *p = malloc(100 + rand_r(&seed) % 4000);
		if (p)
			p[0] = 1;
		free(p);
		usleep(5000);
	}
	printf("rss_kb %ld\n", rss_kb());
	if (child > 0) {
		int st;
		waitpid(child, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	return 0;
}
