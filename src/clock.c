/* clock.c: the current time (pinnable for tests in a test-hooks build), and calendar arithmetic. */
#include "first.h"
#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int pinned;
static int64_t pinned_at;

int clock_init(void)
{
	pinned = 0;
#if defined(KANCA_TEST_HOOKS)
	/* only in a build configured with --enable-test-hooks: a release build has no way to pin its clock
	 * (the timestamp tolerance of signed requests is checked against it) */
	const char *s = getenv("KANCA_TEST_NOW");
	char *end;
	long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return 0;
	pinned = 1;
	pinned_at = v;
#endif
	return pinned;
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

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int64_t clock_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int clock_parse_iso8601(const char *s, int64_t *ms)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0;

	if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return -1;
	y = num(s, 4);
	mo = num(s + 5, 2);
	d = num(s + 8, 2);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return -1;
	s += 10;
	if (*s) {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return -1;
		s++;
		if (!digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) || (h = num(s, 2)) > 23 ||
		    (mi = num(s + 3, 2)) > 59)
			return -1;
		s += 5;
		if (*s == ':') {
			if (!digits(s + 1, 2) || (sec = num(s + 1, 2)) > 60)
				return -1;
			s += 3;
			if (*s == '.') {
				int places = 0;

				s++;
				if (!isdigit((unsigned char)*s))
					return -1;
				for (; isdigit((unsigned char)*s); s++)
					if (places++ < 3)
						frac = frac * 10 + (*s - '0');
				for (; places < 3; places++)
					frac *= 10;
			}
		}
		if ((*s == 'Z' || *s == 'z') && !s[1]) {
			s++;
		} else if ((*s == '+' || *s == '-') && digits(s + 1, 2) && s[3] == ':' && digits(s + 4, 2) && !s[6]) {
			if (num(s + 1, 2) > 23 || num(s + 4, 2) > 59)
				return -1;
			off = (num(s + 1, 2) * 60 + num(s + 4, 2)) * (*s == '-' ? -1 : 1);
			s += 6;
		}
		if (*s)
			return -1;
	}
	if (ms)
		*ms = ((clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + (mi - off) * 60 + sec) * 1000) + frac;
	return 0;
}
