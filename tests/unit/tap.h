/* tap.h: a tiny header-only TAP producer for kanca's C unit tests (plan printed at the end). */
#ifndef KANCA_TAP_H
#define KANCA_TAP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define TAP_UNUSED	 __attribute__((unused))
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))

static int tap_count;
static int tap_failures;

/* "# ..." diagnostic line(s) on stdout (the TAP driver shows them in the log). */
static TAP_UNUSED TAP_PRINTF(1, 2) void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static TAP_PRINTF(4, 0) int tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	char text[1024];

	/* a description is one line: line breaks in it would end the TAP line early */
	vsnprintf(text, sizeof text, fmt, ap);
	for (char *c = text; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	tap_count++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_count, text);
	if (!cond) {
		tap_failures++;
		printf("#   Failed test at %s line %d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static TAP_UNUSED TAP_PRINTF(4, 5) int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tap_vok(cond, file, line, fmt, ap);
	va_end(ap);
	return rc;
}

static TAP_UNUSED TAP_PRINTF(5, 6) int tap_is_int(long long got, long long expected, const char *file, int line,
						  const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tap_vok(got == expected, file, line, fmt, ap);
	va_end(ap);
	if (!rc) {
		printf("#          got: %lld\n", got);
		printf("#     expected: %lld\n", expected);
	}
	return rc;
}

/* Prints n bytes readably: printable ASCII as is, the rest as \xNN. */
static TAP_UNUSED void tap_show(const char *label, const void *p, size_t n)
{
	const unsigned char *s = p;

	printf("# %12s: ", label);
	if (!s) {
		puts("NULL");
		return;
	}
	putchar('"');
	for (size_t i = 0; i < n && i < 512; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			putchar(s[i]);
		else
			printf("\\x%02x", s[i]);
	}
	printf("\"%s (%zu bytes)\n", n > 512 ? "..." : "", n);
}

static TAP_UNUSED TAP_PRINTF(5, 6) int tap_is_str(const char *got, const char *expected, const char *file, int line,
						  const char *fmt, ...)
{
	va_list ap;
	int rc, same;

	same = (got == NULL && expected == NULL) || (got && expected && strcmp(got, expected) == 0);
	va_start(ap, fmt);
	rc = tap_vok(same, file, line, fmt, ap);
	va_end(ap);
	if (!rc) {
		tap_show("got", got, got ? strlen(got) : 0);
		tap_show("expected", expected, expected ? strlen(expected) : 0);
	}
	return rc;
}

static TAP_UNUSED TAP_PRINTF(7, 8) int tap_is_mem(const void *got, size_t gotlen, const void *expected, size_t explen,
						  const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int rc, same;

	same = gotlen == explen && (gotlen == 0 || (got && expected && memcmp(got, expected, gotlen) == 0));
	if (!got && gotlen == 0 && expected)
		same = 0; /* NULL is never equal to a buffer, even an empty one */
	va_start(ap, fmt);
	rc = tap_vok(same, file, line, fmt, ap);
	va_end(ap);
	if (!rc) {
		tap_show("got", got, gotlen);
		tap_show("expected", expected, explen);
	}
	return rc;
}

/* Prints the plan and returns the exit status: 0 when every test passed. */
static TAP_UNUSED int done_testing(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failures)
		printf("# %d of %d tests failed\n", tap_failures, tap_count);
	fflush(stdout);
	return tap_failures ? 1 : (tap_count == 0 ? 1 : 0);
}

#define ok(cond, ...)		   tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, expected, ...) tap_is_int((long long)(got), (long long)(expected), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, expected, ...) tap_is_str((got), (expected), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(got, gotlen, expected, explen, ...)                                                                     \
	tap_is_mem((got), (gotlen), (expected), (explen), __FILE__, __LINE__, __VA_ARGS__)

#endif
