/* whatif.c - calls on held ranges, issued or counted (whatif.h). */
#include <errno.h>
#include <sys/mman.h>
#include "munmap/whatif.h"
#include "sys/ownsys.h"
#include "sys/linux.h"

const struct mv_whatif *mv_whatif_on;

long mv_held_call(const struct mv_request *q)
{
	const struct mv_whatif *w = mv_whatif_on;
	if (__builtin_expect(w != NULL, 0))
		return w->call(w->arg, q);
	switch (q->kind) {
	case MV_MUNMAP:
		return mv_own2(SYS_munmap, (long)q->addr, (long)q->len);
	case MV_MADVISE:
		return mv_own3(SYS_madvise, (long)q->addr, (long)q->len, q->advice);
	case MV_PROCESS_MADVISE:
		return mv_own6(SYS_process_madvise, q->fd, (long)q->iov, (long)q->vlen, q->advice, q->flags, 0);
	default:
		return -ENOSYS;
	}
}
