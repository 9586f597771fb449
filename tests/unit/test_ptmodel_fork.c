/* test_ptmodel_fork - a fork child reads its own page tables.
 *
 * A /proc/self/pagemap descriptor describes the process that opened it: the
 * model's descriptor, inherited by a fork child, would show the parent's
 * pages there, and the sweep (which zaps only regions pagemap shows empty)
 * could zap a region the child has filled. The fork handler gives the child
 * a descriptor of its own. */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/options.h"
#include "ptmodel/model.h"
#include "ptmodel/hook.h"
#include "sys/probe.h"
#include "../tap.h"

#define PRESENT(e) ((e) >> 63)

int main(void)
{
	struct mv_options o;
	mv_options_defaults(&o);
	o.ptmodel = 1;
	struct mv_probe k = { .done = 1 }; /* the model only: what the kernel frees does not matter here */
	if (mv_ptm_start(&o, &k, 2) != 0) {
		tap_skip("the page-table model cannot start here (no /proc/self/pagemap?)");
		return tap_done();
	}
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t e = 0;
	tap_ok(p != MAP_FAILED && mv_ptm_pagemap((uintptr_t)p, 1, &e) == 1 && !PRESENT(e),
	       "parent: an untouched page reads absent");
	int fds[2];
	if (pipe(fds) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		mv_ptm_atfork_child(); /* what the preload library's fork handler calls */
		p[0] = 1;
		uint64_t c = 0;
		char r = mv_ptm_pagemap((uintptr_t)p, 1, &c) == 1 && PRESENT(c) ? 'y' : 'n';
		if (write(fds[1], &r, 1) != 1)
			_exit(1);
		_exit(0);
	}
	char r = '?';
	int st = -1;
	tap_ok(pid > 0 && read(fds[0], &r, 1) == 1 && waitpid(pid, &st, 0) == pid && st == 0, "fork child ran");
	tap_ok(r == 'y', "fork child: a page it wrote reads present through the model's pagemap (got %c)", r);
	e = 1ULL << 63;
	tap_ok(mv_ptm_pagemap((uintptr_t)p, 1, &e) == 1 && !PRESENT(e), "parent: the page is still absent here");
	return tap_done();
}
