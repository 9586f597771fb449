# preload/: the interposer (libmadvisor.so): wrappers and start-up only.
lib_LTLIBRARIES += libmadvisor.la
libmadvisor_la_SOURCES = \
	preload/hooks.c \
	preload/init.c
libmadvisor_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -ftls-model=initial-exec
libmadvisor_la_LIBADD = shim/libshim.la
libmadvisor_la_LDFLAGS = -module -avoid-version -shared -Wl,-z,now -Wl,--no-undefined
