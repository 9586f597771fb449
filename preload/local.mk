# preload/: the interposer (libmadvisor.so) and the launcher (madvisor).
lib_LTLIBRARIES += libmadvisor.la
libmadvisor_la_SOURCES = \
	preload/hooks.c \
	preload/init.c
libmadvisor_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -ftls-model=initial-exec
libmadvisor_la_LIBADD = shim/libshim.la
libmadvisor_la_LDFLAGS = -module -avoid-version -shared -Wl,-z,now -Wl,--no-undefined

bin_PROGRAMS += madvisor
madvisor_SOURCES = preload/launcher.c preload/replay.c preload/replay.h
madvisor_LDADD = shim/libshim.la
# An uninstalled launcher finds the profiles in the source tree.
madvisor_CPPFLAGS = $(AM_CPPFLAGS) -DMV_SRCDIR='"$(abs_top_srcdir)"'
