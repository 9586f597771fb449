# tests/unit/: shim/ code driven directly, and the launcher; no LD_PRELOAD.

# The options table, the configuration parser and mv_config_load.
check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_LDADD = shim/libshim.la

# The `madvisor` command (needs only the launcher, not libmadvisor.so).
TESTS += tests/unit/launcher.sh
EXTRA_DIST += tests/unit/launcher.sh

# The manual pages: generated sections in sync, rendering clean, every key,
# field and option named.
TESTS += tests/unit/man_pages.sh
EXTRA_DIST += tests/unit/man_pages.sh

# The bash completion offers every option, subcommand option, profile and key.
TESTS += tests/unit/completion.sh
EXTRA_DIST += tests/unit/completion.sh
