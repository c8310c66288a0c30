/* clock.c: current time, pinnable through KANCA_TEST_NOW for tests. */
#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int pinned;
static int64_t pinned_at;

int clock_init(void)
{
	const char *s = getenv("KANCA_TEST_NOW");
	char *end;
	long long v;

	pinned = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return 0;
	pinned = 1;
	pinned_at = v;
	return 1;
}

int64_t clock_now(void)
{
	return pinned ? pinned_at : (int64_t)time(NULL);
}

double clock_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_format(int64_t t, char *out, unsigned long outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	if (!strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) && outsz)
		out[0] = '\0';
}
