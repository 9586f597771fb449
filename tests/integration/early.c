/* early - memory calls before main: from .preinit_array (run before any
 * shared object's constructor, madvisor's included) and from a constructor.
 *
 * Each phase uses a different number of MADV_COLD calls (preinit 1,
 * constructor 2, main 4) so a missed phase shows in the total. Prints
 * "phase NAME" lines and the counts (counts.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "counts.h"

#define PG 4096UL

static void phase(int cold, int pageout)
{
	char *p = t_mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(99);
	for (int i = 0; i < cold; i++)
		t_madvise(p, PG, MADV_COLD);
	for (int i = 0; i < pageout; i++)
		t_sys_madvise(p, PG, MADV_PAGEOUT);
	t_posix_madvise(p, PG, POSIX_MADV_DONTNEED);
	t_munmap(p, 2 * PG);
}

static int ran_preinit, ran_ctor;

static void preinit(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	phase(1, 1);
	ran_preinit = 1;
}
__attribute__((section(".preinit_array"), used)) static void (*preinit_fn)(int, char **, char **) = preinit;

__attribute__((constructor(101))) static void ctor(void)
{
	phase(2, 0);
	ran_ctor = 1;
}

int main(void)
{
	phase(4, 0);
	printf("phase preinit %s\nphase constructor %s\n", ran_preinit ? "ran" : "missing",
	       ran_ctor ? "ran" : "missing");
	printf("pid %d\n", (int)getpid());
	cnt_print(stdout, "");
	return 0;
}
