# Allocator integration with the real allocators behind madvisor: knobs,
# the adaptive controller, live stats (and the Grafana dashboard over them),
# attribution, the JSON schema.
check_PROGRAMS += tests/integration/phases tests/integration/unw_scope tests/integration/attrib_nomalloc
tests_integration_phases_SOURCES = tests/integration/phases.c
tests_integration_unw_scope_SOURCES = tests/integration/unw_scope.c
tests_integration_attrib_nomalloc_SOURCES = tests/integration/attrib_nomalloc.c
tests_integration_attrib_nomalloc_LDADD = -lpthread

ALLOC_ITEST_SH = \
	tests/integration/alloc_knobs.sh \
	tests/integration/adaptive.sh \
	tests/integration/live.sh \
	tests/integration/dashboard.sh \
	tests/integration/attrib.sh \
	tests/integration/schema.sh
TESTS += $(ALLOC_ITEST_SH)
EXTRA_DIST += $(ALLOC_ITEST_SH) tests/integration/schema_check.py docs/stats.schema.json
