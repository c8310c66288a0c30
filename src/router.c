/* router.c: path matching for kanca's few routes. */
#include "first.h"
#include "router.h"

#include <string.h>

static int seg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '~' || c == '-';
}

/* Copies the segment at *p (up to '/' or end) into out; advances *p past it. 0 or -1. */
static int take_segment(const char **p, char *out)
{
	size_t n = 0;
	const char *s = *p;

	while (s[n] && s[n] != '/') {
		if (!seg_char(s[n]) || n >= KANCA_SEGMENT_MAX)
			return -1;
		n++;
	}
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n;
	return 0;
}

int router_segment_valid(const char *s)
{
	char tmp[KANCA_SEGMENT_MAX + 1];
	const char *p = s;

	return take_segment(&p, tmp) == 0 && *p == '\0';
}

static int eat(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

enum route_kind router_match(const char *base_path, const char *path, struct route *out)
{
	const char *p = path;

	memset(out, 0, sizeof *out);
	if (base_path && *base_path && !eat(&p, base_path))
		return ROUTE_NONE;
	if (strcmp(p, "/healthz") == 0) {
		out->kind = ROUTE_HEALTHZ;
	} else if (eat(&p, "/webhook/")) {
		if (take_segment(&p, out->provider) < 0 || !eat(&p, "/") || take_segment(&p, out->account) < 0 ||
		    *p != '\0')
			return ROUTE_NONE;
		out->kind = ROUTE_WEBHOOK;
	} else if (eat(&p, "/api/suppliers/")) {
		if (take_segment(&p, out->account) < 0 || strcmp(p, "/webhook") != 0)
			return ROUTE_NONE;
		memcpy(out->provider, "supplier", sizeof "supplier");
		out->kind = ROUTE_WEBHOOK;
	}
	if (out->kind == ROUTE_NONE)
		memset(out, 0, sizeof *out);
	return out->kind;
}
