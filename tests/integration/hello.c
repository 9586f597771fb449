/* hello - a small program for configuration tests: prints a line from main
 * (so a run stopped before main is visible), makes three madvise calls and
 * exits with status 0. With -m it also prints its effective user id and
 * whether a madvisor library is mapped in it (setuid tests). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "counts.h"

static void whoami(void)
{
	char line[512];
	int loaded = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		loaded |= strstr(line, "madvisor") != NULL;
	if (f)
		fclose(f);
	printf("euid %d, madvisor mapped: %s\n", (int)geteuid(), loaded ? "yes" : "no");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "-m"))
		whoami();
	char *p = t_map_or_die(4096);
	for (int i = 0; i < 3; i++)
		t_madvise(p, 4096, MADV_COLD);
	t_munmap(p, 4096);
	printf("hello from main, pid %d\n", (int)getpid());
	cnt_print(stdout, "");
	return 0;
}
