/* options.h: per-source options, stored as "key=value\n" lines (kancactl source add --set KEY=VALUE). */
#ifndef KANCA_OPTIONS_H
#define KANCA_OPTIONS_H

#include "first.h"

#include <stddef.h>

struct buf;

/* Copies the value of key into out (NUL-terminated). 1 found, 0 absent, -1 too long for out. */
int options_get(const char *options, const char *key, char *out, size_t cap);
/* Sets key=value in opts (replacing an earlier value). Keys are [a-z0-9_]+, values have no newline
 * and at most KANCA_OPTION_MAX bytes. 0, or -1 with the reason in err. */
int options_set(struct buf *opts, const char *key, const char *value, struct buf *err) KANCA_MUST_CHECK;
/* Calls fn for each key; stops at the first non-zero return and returns it. */
int options_each(const char *options, int (*fn)(void *arg, const char *key, const char *value), void *arg);

#endif
