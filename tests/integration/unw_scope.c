/* unw_scope - which object provides the unwinding entry points the
 * program would bind to: prints "unw_backtrace <object or none>" and
 * "_Unwind_RaiseException <object or none>". Makes no memory calls. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>

static void show(const char *name)
{
	Dl_info di;
	void *p = dlsym(RTLD_DEFAULT, name);
	printf("%s %s\n", name, p && dladdr(p, &di) && di.dli_fname ? di.dli_fname : "none");
}

int main(void)
{
	show("unw_backtrace");
	show("_Unwind_RaiseException");
	show("backtrace");
	return 0;
}
