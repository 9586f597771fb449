# Unit tests of the allocator integration: knobs, reports, pressure reading,
# the adaptive controller, live stats and purge attribution.
alloc_unit_tests = tests/unit/test_alloc tests/unit/test_adaptive tests/unit/test_attrib
check_PROGRAMS += $(alloc_unit_tests)
TESTS += $(alloc_unit_tests)
tests_unit_test_alloc_SOURCES = tests/unit/test_alloc.c
tests_unit_test_alloc_LDADD = shim/libshim.la -lpthread
tests_unit_test_adaptive_SOURCES = tests/unit/test_adaptive.c
tests_unit_test_adaptive_LDADD = shim/libshim.la -lpthread
tests_unit_test_attrib_SOURCES = tests/unit/test_attrib.c
tests_unit_test_attrib_LDADD = shim/libshim.la -lpthread
