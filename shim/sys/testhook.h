/* testhook.h - test hooks: functions that only the unit tests and the fuzz
 * targets call (setters that bypass start-up, resets, invariant checks, a
 * count for a test to wait on, a fake backend).
 *
 * A module declares its hooks in its own header, marked MV_TEST_HOOK, as
 * jemalloc marks its JET_EXTERN ones. A test or fuzz source defines
 * MV_TEST_HOOKS before its first #include; anywhere else a call to a hook does
 * not compile ("unavailable"), so the library cannot come to depend on one. */
#ifndef MADVISOR_TESTHOOK_H
#define MADVISOR_TESTHOOK_H

#ifdef MV_TEST_HOOKS
#define MV_TEST_HOOK
#else
#define MV_TEST_HOOK __attribute__((unavailable("a test hook: only tests and fuzz targets call it")))
#endif

#endif
