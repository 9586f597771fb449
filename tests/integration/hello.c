/* hello - a small program for configuration tests: prints a line from main
 * (so a run stopped before main is visible), makes three madvise calls and
 * exits with status 0. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "counts.h"

int main(void)
{
	char *p = t_map_or_die(4096);
	for (int i = 0; i < 3; i++)
		t_madvise(p, 4096, MADV_COLD);
	t_munmap(p, 4096);
	printf("hello from main, pid %d\n", (int)getpid());
	cnt_print(stdout, "");
	return 0;
}
