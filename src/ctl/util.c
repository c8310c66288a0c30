/* util.c: what kancactl's command files share: messages and exit codes, parsing of arguments, and reading or
 * generating a secret. */
#include "first.h"
#include "ctl/util.h"
#include "buf.h"
#include "clock.h"
#include "verify.h"
#include "wipe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 1, 0))) static void vsay(const char *fmt, va_list ap)
{
	fputs("kancactl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return CTL_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return CTL_FAIL;
}

int ctl_split_source(const char *s, char *buf, size_t cap, const char **provider, const char **account)
{
	char *slash;

	if (strlen(s) >= cap)
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	slash = strchr(buf, '/');
	if (!slash || slash == buf || !slash[1] || strchr(slash + 1, '/'))
		return -1;
	*slash = '\0';
	*provider = buf;
	*account = slash + 1;
	return 0;
}

int ctl_parse_long(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end || *out <= 0 ? -1 : 0;
}

int ctl_parse_duration(const char *s, long long *seconds)
{
	char *end;
	long long v;
	long long mult = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	if (*end == 'd')
		mult = 86400, end++;
	else if (*end == 'h')
		mult = 3600, end++;
	else if (*end == 'm')
		mult = 60, end++;
	else if (*end == 's')
		end++;
	if (*end || v > (long long)1e12 / mult)
		return -1;
	*seconds = v * mult;
	return 0;
}

void ctl_json_string(FILE *f, const char *s)
{
	struct buf b;

	buf_init(&b, 64 * 1024 * 1024);
	if (s && buf_append_json_string(&b, s, strlen(s)) == 0)
		fputs(buf_str(&b), f);
	else
		fputs("null", f);
	buf_free(&b);
}

const char *ctl_time(const char *unix_text, char *out, size_t cap)
{
	if (!unix_text)
		return "-";
	clock_format(strtoll(unix_text, NULL, 10), out, cap);
	return out;
}

int ctl_secret_read_stdin(char *out, size_t cap)
{
	size_t n;

	if (!fgets(out, (int)cap, stdin))
		return -1;
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	else if (n == cap - 1)
		return -1; /* longer than the cap */
	if (n && out[n - 1] == '\r')
		out[--n] = '\0';
	return 0;
}

int ctl_secret_generate(char out[65])
{
	unsigned char raw[32];

	if (verify_random(raw, sizeof raw) < 0)
		return -1;
	verify_hex_encode(raw, sizeof raw, out);
	wipe_bytes(raw, sizeof raw);
	return 0;
}
