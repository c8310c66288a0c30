/* doctor_report.c: kancactl doctor's findings, one line each with its level, and the --source filter. */
#include "first.h"
#include "ctl/doctor_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One line per finding: control characters (libpq's messages hold line breaks) become single spaces. */
__attribute__((format(printf, 4, 5))) void doctor_say(struct doctor *d, enum level lv, const char *check,
						      const char *fmt, ...)
{
	static const char *const words[] = {"ok", "warn", "FAIL"};
	char text[4096];
	size_t o = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	for (size_t i = 0; text[i]; i++) {
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) {
			if (o > 0 && text[o - 1] != ' ')
				text[o++] = ' ';
		} else {
			text[o++] = text[i];
		}
	}
	while (o > 0 && text[o - 1] == ' ')
		o--;
	text[o] = '\0';
	d->counts[lv]++;
	printf("%-4s %s: %s\n", words[lv], check, text);
	fflush(stdout);
}

int doctor_wanted(const struct doctor *d, const char *provider, const char *account)
{
	return !d->only_provider || (strcmp(d->only_provider, provider) == 0 && strcmp(d->only_account, account) == 0);
}
