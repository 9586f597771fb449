# Unit tests of the core: stats, kernel passthrough, report, allocator detection,
# advice transforms and the split of a purge, the JSON emitter.
core_unit_tests = tests/unit/test_stats tests/unit/test_handle tests/unit/test_report tests/unit/test_probe tests/unit/test_advice tests/unit/test_split tests/unit/test_emit tests/unit/test_worker
check_PROGRAMS += $(core_unit_tests)
TESTS += $(core_unit_tests) tests/unit/report_json.sh tests/unit/readme_keys.sh tests/unit/layers.sh
EXTRA_DIST += tests/unit/report_json.sh tests/unit/readme_keys.sh tests/unit/layers.sh tests/unit/linkgraph.awk
tests_unit_test_stats_SOURCES = tests/unit/test_stats.c
tests_unit_test_stats_LDADD = shim/libshim.la -lpthread
tests_unit_test_handle_SOURCES = tests/unit/test_handle.c
tests_unit_test_handle_LDADD = shim/libshim.la -lpthread
tests_unit_test_report_SOURCES = tests/unit/test_report.c
tests_unit_test_report_LDADD = shim/libshim.la -lpthread
tests_unit_test_probe_SOURCES = tests/unit/test_probe.c
tests_unit_test_probe_LDADD = shim/libshim.la
tests_unit_test_advice_SOURCES = tests/unit/test_advice.c
tests_unit_test_advice_LDADD = shim/libshim.la
tests_unit_test_split_SOURCES = tests/unit/test_split.c
tests_unit_test_emit_SOURCES = tests/unit/test_emit.c
tests_unit_test_emit_LDADD = shim/libshim.la
tests_unit_test_worker_SOURCES = tests/unit/test_worker.c
tests_unit_test_worker_LDADD = shim/libshim.la -lpthread
