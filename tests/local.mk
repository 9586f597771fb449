# tests/: `make check` runs TAP tests through automake's tap-driver.
#   tests/unit/         shim/ code driven directly, no LD_PRELOAD
#   tests/integration/  the preload library inside real programs, behind the
#                       real jemalloc, tcmalloc and mimalloc
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
# TSan builds: the library restarts its worker thread in a fork child (after
# its atfork handlers reset its locks), which TSan refuses by default.
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	export top_srcdir top_builddir; \
	TSAN_OPTIONS="die_after_fork=0$${TSAN_OPTIONS:+:$$TSAN_OPTIONS}"; export TSAN_OPTIONS;

include $(srcdir)/tests/unit/local.mk
include $(srcdir)/tests/unit/core.mk
include $(srcdir)/tests/unit/alloc.mk
include $(srcdir)/tests/unit/ptmodel.mk
include $(srcdir)/tests/integration/local.mk
include $(srcdir)/tests/integration/alloc.mk
include $(srcdir)/tests/bench.mk
include $(srcdir)/tests/munmap.mk
include $(srcdir)/tests/fault.mk
EXTRA_DIST += tests/tap.h tests/lib.sh tests/faultlib.sh
