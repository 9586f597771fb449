# shim/: everything that is not interposition, built once as a convenience
# library that the preload library, the launcher and the tests all link.
noinst_LTLIBRARIES += shim/libshim.la
shim_libshim_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
shim_libshim_la_SOURCES = \
	shim/rawsys.h shim/request.h \
	shim/kernel.c shim/kernel.h \
	shim/clock.c shim/clock.h \
	shim/outbuf.c shim/outbuf.h \
	shim/stats.c shim/stats.h \
	shim/options.c shim/options.h \
	shim/config.c shim/config.h \
	shim/allocator.c shim/allocator.h \
	shim/objtext.c shim/objtext.h \
	shim/procstat.c shim/procstat.h \
	shim/report.c shim/report.h shim/report_text.c shim/report_json.c \
	shim/runtime.h shim/hot.h shim/probe.c shim/probe.h \
	shim/policy.c shim/policy.h \
	shim/worker.c shim/worker.h \
	shim/handle.c
