/* clock.h: the one source of the current time, so tests can pin it. */
#ifndef KANCA_CLOCK_H
#define KANCA_CLOCK_H

#include <stdint.h>

/* In a build configured with --enable-test-hooks, reads KANCA_TEST_NOW (unix seconds) once; when set,
 * clock_now() returns it. Returns 1 if pinned. A release build never pins its clock (returns 0). */
int clock_init(void);
/* Current unix time in seconds. */
int64_t clock_now(void);
/* Seconds on a monotonic clock (never pinned): for ages and timeouts, not for timestamps. */
double clock_monotonic(void);
/* Formats t as RFC 3339 UTC ("2026-01-01T00:00:00Z") into out (>= 21 bytes). */
void clock_format(int64_t t, char *out, unsigned long outsz);
/* Parses an ISO 8601 / RFC 3339 date: YYYY-MM-DD, optionally THH:MM[:SS[.fff...]] and Z or +HH:MM (no zone
 * means UTC). *ms (may be NULL) = milliseconds since the epoch. 0, or -1 when s is not such a date. */
int clock_parse_iso8601(const char *s, int64_t *ms);

/* Days from 1970-01-01 to y-m-d (month 1-12) in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil); negative before 1970. */
int64_t clock_days_from_civil(int64_t y, int m, int d);

#endif
