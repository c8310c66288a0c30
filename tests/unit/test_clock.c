/* test_clock.c: ISO 8601 dates to milliseconds since the epoch, checked against the C library's timegm,
 * and the dates that must be refused. */
#include "first.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tap.h"

static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void parses(const char *s, int64_t want)
{
	int64_t got = -1;
	int rc = clock_parse_iso8601(s, &got);

	ok(rc == 0 && got == want, "%s -> %lld ms (got rc %d, %lld)", s, (long long)want, rc, (long long)got);
}

static void refused(const char *s)
{
	int64_t got = 42;

	ok(clock_parse_iso8601(s, &got) < 0 && got == 42, "refused: \"%s\"", s);
}

int main(void)
{
	static const char *bad[] = {"",
				    "2025",
				    "2025-06",
				    "2025-6-10",
				    "2025-13-01",
				    "2025-00-10",
				    "2025-06-31",
				    "2025-02-29",
				    "1900-02-29",
				    "2025-06-10T",
				    "2025-06-10T24:00",
				    "2025-06-10T12:60",
				    "2025-06-10T12:00:61",
				    "2025-06-10T12:00:00.",
				    "2025-06-10T12:00:00.5ZZ",
				    "2025-06-10T12:00:00+3:00",
				    "2025-06-10T12:00:00+24:00",
				    "2025-06-10X12:00",
				    "2025-06-10 12:00 extra",
				    "２025-06-10"};

	parses("1970-01-01", 0);
	parses("2025-06-10T12:00:00.000Z", utc_ms(2025, 6, 10, 12, 0, 0, 0));
	parses("2025-06-10T12:00:00.123Z", utc_ms(2025, 6, 10, 12, 0, 0, 123));
	parses("2025-06-10T12:00:00.1Z", utc_ms(2025, 6, 10, 12, 0, 0, 100));
	parses("2025-06-10T12:00:00.123456789Z", utc_ms(2025, 6, 10, 12, 0, 0, 123));
	parses("2025-06-10t12:00Z", utc_ms(2025, 6, 10, 12, 0, 0, 0));
	parses("2025-06-10 12:00:59", utc_ms(2025, 6, 10, 12, 0, 59, 0));
	parses("2025-06-10T15:00:00+03:00", utc_ms(2025, 6, 10, 12, 0, 0, 0));
	parses("2025-06-10T09:30:00-02:30", utc_ms(2025, 6, 10, 12, 0, 0, 0));
	parses("2024-02-29T23:59:59Z", utc_ms(2024, 2, 29, 23, 59, 59, 0));
	parses("2000-02-29", utc_ms(2000, 2, 29, 0, 0, 0, 0));
	parses("1969-12-31T23:59:59Z", -1000);
	parses("2100-12-31T23:59:59.999Z", utc_ms(2100, 12, 31, 23, 59, 59, 999));
	ok(clock_parse_iso8601("2025-06-10", NULL) == 0, "the result pointer may be NULL");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i]);
	return done_testing();
}
