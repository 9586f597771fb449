/* attrib_unwind.c - the nongnu libunwind, loaded at run time (attrib.h).
 *
 * dlopen with RTLD_LOCAL keeps libunwind's exported _Unwind_* and backtrace
 * symbols out of the global scope, where they would take over the program's
 * C++ exception unwinding and glibc's backtrace(). unw_backtrace is all the
 * sampling needs; procedure names at report time come from the local
 * address space's get_proc_name accessor (it reads the objects' .symtab,
 * which dladdr cannot see), when the headers were found at build time. */
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
	bt = (int (*)(void **, int))mv_own_dlsym(h, "unw_backtrace");
	if (!bt) {
		mv_out_str(&o, "libunwind has no unw_backtrace");
		mv_out_cstr(&o);
		return -1;
	}
#if defined(HAVE_LIBUNWIND) && defined(UNW_ARCH)
	unw_accessors_t *(*get_acc)(unw_addr_space_t) =
		(unw_accessors_t * (*)(unw_addr_space_t)) mv_own_dlsym(h, "_U" UNW_ARCH "_get_accessors");
	unw_addr_space_t *as = (unw_addr_space_t *)mv_own_dlsym(h, "_UL" UNW_ARCH "_local_addr_space");
	if (get_acc && as && *as) {
		local_as = *as;
		acc = get_acc(local_as);
		name_fn = proc_name;
	}
#endif
	return 0;
}

int mv_unwind_shared(void)
{
	return shared;
}

const void *mv_unwind_code(void)
{
	return (const void *)bt;
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
