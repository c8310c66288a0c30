/* log.c: one writer of log lines; a single write(2) per line so lines from many processes do not interleave. */
#include "first.h"
#include "log.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level current = LOG_LEVEL_INFO;
static char ctx_provider[64];
static char ctx_delivery[128];

static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
	current = level;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void log_set_request(const char *provider, const char *delivery)
{
	snprintf(ctx_provider, sizeof ctx_provider, "%s", provider ? provider : "");
	snprintf(ctx_delivery, sizeof ctx_delivery, "%s", delivery ? delivery : "");
}

void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	size_t n;
	int k;
	va_list ap;
	time_t t;
	struct tm tm;
	const char *base = strrchr(file, '/');

	if (level > current)
		return;
	t = time(NULL);
	gmtime_r(&t, &tm);
	n = strftime(msg, sizeof msg, "%Y-%m-%dT%H:%M:%SZ", &tm);
	k = snprintf(msg + n, sizeof msg - n, " kanca[%ld] %s %s:%d: ", (long)getpid(), names[level],
		     base ? base + 1 : file, line);
	if (k > 0)
		n += (size_t)k < sizeof msg - n ? (size_t)k : sizeof msg - n - 1;
	va_start(ap, fmt);
	k = vsnprintf(msg + n, sizeof msg - n, fmt, ap);
	va_end(ap);
	if (k > 0)
		n += (size_t)k < sizeof msg - n ? (size_t)k : sizeof msg - n - 1;
	if (ctx_provider[0] && n < sizeof msg - 1) {
		k = snprintf(msg + n, sizeof msg - n, " [provider=%s delivery=%s]", ctx_provider,
			     ctx_delivery[0] ? ctx_delivery : "-");
		if (k > 0)
			n += (size_t)k < sizeof msg - n ? (size_t)k : sizeof msg - n - 1;
	}
	/* control characters from request data must not forge log lines */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20)
			msg[i] = '?';
	if (n >= sizeof msg - 1)
		n = sizeof msg - 2;
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* nowhere left to report it */
	}
}

int log_every(struct log_every *e, int cause)
{
	double now = clock_monotonic();

	if (cause == e->cause && now - e->last < 30.0)
		return 0;
	e->cause = cause;
	e->last = now;
	return 1;
}
