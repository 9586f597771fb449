/* attrib_unwind.c - the nongnu libunwind, loaded at run time (attrib.h).
 *
 * dlopen with RTLD_LOCAL keeps libunwind's exported _Unwind_* and backtrace
 * symbols out of the global scope, where they would take over the program's
 * C++ exception unwinding and glibc's backtrace().
 *
 * A sample never allocates and takes no lock the program may hold: stacks
 * are walked with unw_getcontext, unw_init_local and unw_step on the local
 * address space with the global cache (libunwind's async-signal-safe local
 * unwinding, its locks taken with signals blocked). unw_backtrace is not
 * used: its per-thread cache is dynamic thread-local storage, which glibc
 * allocates with malloc on a thread's first sample, inside whatever lock
 * the interrupted code held. Procedure names at report time come from the
 * local address space's get_proc_name accessor (it reads the objects'
 * .symtab, which dladdr cannot see). Both need libunwind's headers at build
 * time (unw_context_t and unw_cursor_t are opaque sizes). */
#include <dlfcn.h>
#include <string.h>
#include "sys/ownsys.h"
#include "observe/attrib.h"
#include "mvconfig.h"
#include "sys/outbuf.h"

#ifdef HAVE_LIBUNWIND
#include <libunwind.h>
#endif

#if defined(__x86_64__)
#define UNW_ARCH "x86_64"
#elif defined(__aarch64__)
#define UNW_ARCH "aarch64"
#endif

static int (*bt)(void **, int);
static int (*name_fn)(uintptr_t, char *, size_t, uintptr_t *);
static const char *loaded;
static int shared;      /* the program had libunwind loaded already */

#ifdef HAVE_LIBUNWIND
static unw_addr_space_t local_as;
static unw_accessors_t *acc;

static int proc_name(uintptr_t pc, char *buf, size_t cap, uintptr_t *off)
{
	unw_word_t o = 0;
	if (!acc || !acc->get_proc_name || acc->get_proc_name(local_as, (unw_word_t)pc, buf, cap, &o, NULL) != 0)
		return -1;
	*off = (uintptr_t)o;
	return 0;
}

#if defined(__x86_64__)
static int (*getcontext_fn)(unw_context_t *);
#define GET_CONTEXT(uc) getcontext_fn(uc)
#else
#define GET_CONTEXT(uc) unw_getcontext(uc) /* inline in the header */
#endif
static int (*init_local)(unw_cursor_t *, unw_context_t *);
static int (*step)(unw_cursor_t *);
static int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);

/* The stack from this function's caller up, one instruction pointer a frame. */
static __attribute__((noinline)) int walk(void **pcs, int max)
{
	unw_context_t uc;
	unw_cursor_t c;
	if (GET_CONTEXT(&uc) != 0 || init_local(&c, &uc) != 0)
		return 0;
	int n = 0;
	while (n < max && step(&c) > 0) {
		unw_word_t ip;
		if (get_reg(&c, UNW_REG_IP, &ip) != 0 || !ip)
			break;
		pcs[n++] = (void *)ip;
	}
	return n;
}
#endif

int mv_unwind_load(char *why, size_t cap)
{
	static const char *const names[] = { "libunwind.so.8", "libunwind.so" };
	struct mv_outbuf o;
	mv_out_init(&o, why, cap, -1);
	if (bt)
		return 0;
	void *h = NULL;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]) && !h; i++) {
		if (mv_own_dlopen(names[i], RTLD_LAZY | RTLD_NOLOAD))
			shared = 1;
		h = mv_own_dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (h)
			loaded = names[i];
	}
	if (!h) {
		mv_out_str(&o, "libunwind (libunwind.so.8) cannot be loaded");
		mv_out_cstr(&o);
		return -1;
	}
#if defined(HAVE_LIBUNWIND) && defined(UNW_ARCH)
#if defined(__x86_64__)
	getcontext_fn = (int (*)(unw_context_t *))mv_own_dlsym(h, "_U" UNW_ARCH "_getcontext");
#endif
	init_local = (int (*)(unw_cursor_t *, unw_context_t *))mv_own_dlsym(h, "_UL" UNW_ARCH "_init_local");
	step = (int (*)(unw_cursor_t *))mv_own_dlsym(h, "_UL" UNW_ARCH "_step");
	get_reg = (int (*)(unw_cursor_t *, unw_regnum_t, unw_word_t *))mv_own_dlsym(h, "_UL" UNW_ARCH "_get_reg");
	int (*policy)(unw_addr_space_t, unw_caching_policy_t) =
		(int (*)(unw_addr_space_t, unw_caching_policy_t))mv_own_dlsym(h, "_UL" UNW_ARCH "_set_caching_policy");
	unw_accessors_t *(*get_acc)(unw_addr_space_t) =
		(unw_accessors_t * (*)(unw_addr_space_t)) mv_own_dlsym(h, "_U" UNW_ARCH "_get_accessors");
	unw_addr_space_t *as = (unw_addr_space_t *)mv_own_dlsym(h, "_UL" UNW_ARCH "_local_addr_space");
#if defined(__x86_64__)
	int have_ctx = getcontext_fn != NULL;
#else
	int have_ctx = 1;
#endif
	if (!have_ctx || !init_local || !step || !get_reg || !policy || !as || !*as) {
		mv_out_str(&o, "libunwind has no unw_init_local/unw_step");
		mv_out_cstr(&o);
		return -1;
	}
	/* One cache for all threads: a per-thread one would be thread-local storage. */
	policy(*as, UNW_CACHE_GLOBAL);
	bt = walk;
	if (get_acc) {
		local_as = *as;
		acc = get_acc(local_as);
		name_fn = proc_name;
	}
#else
	(void)h;
	mv_out_str(&o, "this build has no allocation-free unwinder (needs libunwind's headers, x86_64 or aarch64)");
	mv_out_cstr(&o);
	return -1;
#endif
	return 0;
}

int mv_unwind_shared(void)
{
	return shared;
}

const void *mv_unwind_code(void)
{
#ifdef HAVE_LIBUNWIND
	return (const void *)step;
#else
	return NULL;
#endif
}

int mv_unwind_backtrace(void **pcs, int max)
{
	return bt ? bt(pcs, max) : 0;
}

int mv_unwind_proc_name(uintptr_t pc, char *buf, size_t cap, uintptr_t *off)
{
	return name_fn ? name_fn(pc, buf, cap, off) : -1;
}

const char *mv_unwind_library(void)
{
	return loaded ? loaded : "";
}

void mv_unwind_set(int (*backtrace)(void **, int), int (*proc_name_fn)(uintptr_t, char *, size_t, uintptr_t *))
{
	bt = backtrace;
	name_fn = proc_name_fn;
	loaded = backtrace ? "(test)" : NULL;
}
