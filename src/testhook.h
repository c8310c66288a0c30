/* testhook.h: the places where the crash tests hold a process so that they can kill it there. Compiled
 * in with --enable-test-hooks only; in a release build testhook_hold is nothing. */
#ifndef KANCA_TESTHOOK_H
#define KANCA_TESTHOOK_H

/* When the environment variable var names a file that exists: removes it, logs, and sleeps up to 60 s.
 * KANCA_TEST_HOLD_FILE: after a delivery is kept, before its answer (serve_*.c).
 * KANCA_TEST_SPOOL_HOLD_FILE: halfway through writing a spool record (spool.c).
 * KANCA_TEST_DRAIN_HOLD_FILE: after a spooled delivery is stored, before its record is removed (spool.c). */
#if defined(KANCA_TEST_HOOKS)
void testhook_hold_file(const char *var);
#define testhook_hold(var) testhook_hold_file(var)
#else
#define testhook_hold(var) ((void)0) /* not even the variable's name is in a release build */
#endif

#endif
