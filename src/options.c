/* options.c: "key=value" lines of a source's options. */
#include "first.h"
#include "options.h"
#include "buf.h"
#include "caps.h"

#include <stdlib.h>
#include <string.h>

int options_each(const char *options, int (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	const char *p = options ? options : "";

	while (*p) {
		const char *nl = strchr(p, '\n'), *eq;
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[KANCA_OPTION_MAX + 128];
		int rc;

		eq = memchr(p, '=', n);
		if (eq && n < sizeof line) {
			memcpy(line, p, n);
			line[n] = '\0';
			line[eq - p] = '\0';
			rc = fn(arg, line, line + (eq - p) + 1);
			if (rc)
				return rc;
		}
		p += n + (nl ? 1 : 0);
	}
	return 0;
}

struct get_ctx {
	const char *key;
	char *out;
	size_t cap;
	int rc;
};

static int get_one(void *arg, const char *key, const char *value)
{
	struct get_ctx *g = arg;
	size_t n;

	if (strcmp(key, g->key) != 0)
		return 0;
	n = strlen(value);
	if (n >= g->cap) {
		g->rc = -1;
		return 1;
	}
	memcpy(g->out, value, n + 1);
	g->rc = 1;
	return 0; /* keep going: the last value wins */
}

int options_get(const char *options, const char *key, char *out, size_t cap)
{
	struct get_ctx g = {key, out, cap, 0};

	if (cap)
		out[0] = '\0';
	options_each(options, get_one, &g);
	return g.rc;
}

static int key_valid(const char *k)
{
	if (!*k || strlen(k) > 64)
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

struct copy_ctx {
	const char *skip;
	struct buf *out;
	int failed;
};

static int copy_other(void *arg, const char *key, const char *value)
{
	struct copy_ctx *c = arg;

	if (strcmp(key, c->skip) != 0 && buf_printf(c->out, "%s=%s\n", key, value) < 0)
		c->failed = 1;
	return 0;
}

int options_set(struct buf *opts, const char *key, const char *value, struct buf *err)
{
	struct buf next;
	struct copy_ctx c;

	if (!key_valid(key))
		return buf_fail(err, "option name \"%s\" must be 1-64 characters of a-z, 0-9 and _", key);
	if (strchr(value, '\n') || strchr(value, '\r') || strlen(value) > KANCA_OPTION_MAX)
		return buf_fail(err, "option %s: value must be one line of at most %d bytes", key, KANCA_OPTION_MAX),
		       -1;
	buf_init(&next, opts->max);
	c.skip = key;
	c.out = &next;
	c.failed = 0;
	options_each(buf_str(opts), copy_other, &c);
	if (c.failed || buf_printf(&next, "%s=%s\n", key, value) < 0) {
		buf_free(&next);
		return buf_fail(err, "options too long");
	}
	buf_free(opts);
	*opts = next;
	return 0;
}
