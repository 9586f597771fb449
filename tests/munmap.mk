# munmap strategies: unit tests of the registry, recycling and deferral; the
# shadow-memory checker under every mode and allocator (short in `make check`,
# long in `make stress`).
munmap_unit_tests = tests/unit/test_registry tests/unit/test_recycle tests/unit/test_defer
check_PROGRAMS += $(munmap_unit_tests) tests/integration/shadow
TESTS += $(munmap_unit_tests) tests/integration/munmap.sh
EXTRA_DIST += tests/integration/munmap.sh
tests_unit_test_registry_SOURCES = tests/unit/test_registry.c
tests_unit_test_registry_LDADD = shim/libshim.la -lpthread
tests_unit_test_recycle_SOURCES = tests/unit/test_recycle.c
tests_unit_test_recycle_LDADD = shim/libshim.la -lpthread
tests_unit_test_defer_SOURCES = tests/unit/test_defer.c
tests_unit_test_defer_LDADD = shim/libshim.la -lpthread
tests_integration_shadow_SOURCES = tests/integration/shadow.c
tests_integration_shadow_LDADD = -lpthread

# `make stress`: the shadow checker for minutes (MUNMAP_STRESS=1 makes
# tests/integration/munmap.sh run more threads, operations and seeds).
.PHONY: stress
stress: $(check_PROGRAMS) libmadvisor.la
	@top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' MUNMAP_STRESS=1 \
		$(SHELL) $(srcdir)/tests/integration/munmap.sh
