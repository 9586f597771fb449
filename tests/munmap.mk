# munmap strategies: unit tests of the registry, recycling and deferral; the
# shadow-memory checker under every mode and allocator (short in `make check`,
# long in `make stress`).
munmap_unit_tests = tests/unit/test_registry tests/unit/test_recycle tests/unit/test_defer tests/unit/test_edges \
	tests/unit/test_remap
check_PROGRAMS += $(munmap_unit_tests) tests/integration/shadow tests/integration/edges
TESTS += $(munmap_unit_tests) tests/integration/munmap.sh tests/integration/edges.sh \
	tests/integration/munmap_model.sh
EXTRA_DIST += tests/integration/munmap.sh tests/integration/edges.sh tests/integration/munmap_model.sh
tests_unit_test_registry_SOURCES = tests/unit/test_registry.c
tests_unit_test_registry_LDADD = shim/libshim.la -lpthread
tests_unit_test_recycle_SOURCES = tests/unit/test_recycle.c tests/unit/strategy.h
tests_unit_test_recycle_LDADD = shim/libshim.la -lpthread
tests_unit_test_defer_SOURCES = tests/unit/test_defer.c tests/unit/strategy.h
tests_unit_test_defer_LDADD = shim/libshim.la -lpthread
tests_unit_test_edges_SOURCES = tests/unit/test_edges.c tests/unit/strategy.h
tests_unit_test_edges_LDADD = shim/libshim.la -lpthread
tests_unit_test_remap_SOURCES = tests/unit/test_remap.c tests/unit/strategy.h
tests_unit_test_remap_LDADD = shim/libshim.la -lpthread
tests_integration_shadow_SOURCES = tests/integration/shadow.c
tests_integration_shadow_LDADD = -lpthread
tests_integration_edges_SOURCES = tests/integration/edges.c

# `make stress`: a soak of every profile behind every allocator with the
# shadow checker (and its fork/exec/signal storm) and the allocator
# workloads, STRESS_SECONDS long (default 600); see tests/integration/stress.sh.
EXTRA_DIST += tests/integration/stress.sh
.PHONY: stress
stress: $(check_PROGRAMS) libmadvisor.la
	@top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(srcdir)/tests/integration/stress.sh
