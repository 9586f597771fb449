# Page-table model and stranded-table sweep.
ptmodel_unit_tests = tests/unit/test_ptmodel
check_PROGRAMS += $(ptmodel_unit_tests)
TESTS += $(ptmodel_unit_tests)
tests_unit_test_ptmodel_SOURCES = tests/unit/test_ptmodel.c
tests_unit_test_ptmodel_LDADD = shim/libshim.la -lpthread
check_PROGRAMS += tests/unit/test_sweep
TESTS += tests/unit/test_sweep
tests_unit_test_sweep_SOURCES = tests/unit/test_sweep.c
tests_unit_test_sweep_LDADD = shim/libshim.la -lpthread
# Trace record and replay (needs the library, the launcher and bench/workloads/pt_shrink).
TESTS += tests/integration/replay.sh tests/integration/replay_munmap.sh
EXTRA_DIST += tests/integration/replay.sh tests/integration/replay_munmap.sh
check_PROGRAMS += tests/unit/test_ptmodel_fork
TESTS += tests/unit/test_ptmodel_fork
tests_unit_test_ptmodel_fork_SOURCES = tests/unit/test_ptmodel_fork.c
tests_unit_test_ptmodel_fork_LDADD = shim/libshim.la -lpthread
