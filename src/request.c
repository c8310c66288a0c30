/* request.c: builds a request from CGI/FastCGI variables and reads its body against a cap. */
#include "first.h"
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const redacted[] = {"authorization", "proxy-authorization", "x-api-key", "cookie", NULL};

static int is_redacted(const char *name)
{
	for (size_t i = 0; redacted[i]; i++)
		if (strcmp(name, redacted[i]) == 0)
			return 1;
	return 0;
}

static int add_header(struct request *r, const char *var, size_t namelen, const char *value)
{
	struct request_header *h;
	size_t vlen = strlen(value);

	if (r->nheaders >= KANCA_HEADERS_MAX || vlen > KANCA_HEADER_VALUE_MAX)
		return -1;
	h = &r->headers[r->nheaders];
	h->name = malloc(namelen + 1);
	h->value = malloc(vlen + 1);
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		h->name = h->value = NULL;
		return -1;
	}
	for (size_t i = 0; i < namelen; i++) {
		char c = var[i];
		h->name[i] = c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	h->name[namelen] = '\0';
	memcpy(h->value, value, vlen + 1);
	h->value_len = vlen;
	r->nheaders++;
	return 0;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* An absolute-form request target ("http://host:port/webhook/..", RFC 9112 3.2.2, sent through
 * forward proxies) arrives whole in REQUEST_URI under Apache: its path is what follows the authority. */
static const char *origin_form(const char *uri)
{
	const char *p = strstr(uri, "://");

	if (uri[0] == '/' || !p)
		return uri;
	p += 3;
	p += strcspn(p, "/?");
	return *p == '/' ? p : "/";
}

enum outcome request_from_env(struct request *r, char *const *envp)
{
	const char *uri = NULL, *script = "", *pathinfo = "", *clen = NULL;
	enum outcome out = OUTCOME_OK;

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	buf_init(&r->body, 0);
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');
		size_t nl;

		if (!eq)
			continue;
		nl = (size_t)(eq - e);
		if (nl == 14 && memcmp(e, "REQUEST_METHOD", 14) == 0)
			copy_field(r->method, sizeof r->method, eq + 1);
		else if (nl == 11 && memcmp(e, "REQUEST_URI", 11) == 0)
			uri = eq + 1;
		else if (nl == 11 && memcmp(e, "SCRIPT_NAME", 11) == 0)
			script = eq + 1;
		else if (nl == 9 && memcmp(e, "PATH_INFO", 9) == 0)
			pathinfo = eq + 1;
		else if (nl == 14 && memcmp(e, "CONTENT_LENGTH", 14) == 0)
			clen = eq + 1;
		else if (nl == 11 && memcmp(e, "REMOTE_ADDR", 11) == 0)
			copy_field(r->remote_addr, sizeof r->remote_addr, eq + 1);
		else if (nl == 12 && memcmp(e, "CONTENT_TYPE", 12) == 0) {
			if (out == OUTCOME_OK && add_header(r, e, nl, eq + 1) < 0)
				out = OUTCOME_HEADER_TOO_LARGE;
		} else if (nl > 5 && memcmp(e, "HTTP_", 5) == 0) {
			if (out == OUTCOME_OK && add_header(r, e + 5, nl - 5, eq + 1) < 0)
				out = OUTCOME_HEADER_TOO_LARGE;
		}
	}
	if (clen && *clen) {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(clen, &end, 10);
		if (!errno && !*end && v >= 0)
			r->content_length = v;
		else if (out == OUTCOME_OK)
			out = OUTCOME_BAD_REQUEST;
	}
	if (uri) {
		size_t n;

		uri = origin_form(uri);
		n = strcspn(uri, "?");
		if (n > KANCA_PATH_MAX)
			return out == OUTCOME_OK ? OUTCOME_URI_TOO_LONG : out;
		memcpy(r->path, uri, n);
		r->path[n] = '\0';
	} else {
		size_t a = strlen(script), b = strlen(pathinfo);
		if (a + b > KANCA_PATH_MAX)
			return out == OUTCOME_OK ? OUTCOME_URI_TOO_LONG : out;
		memcpy(r->path, script, a);
		memcpy(r->path + a, pathinfo, b + 1);
	}
	return out;
}

enum outcome request_read_body(struct request *r, size_t max, request_read_fn read, void *ctx)
{
	size_t want, got = 0;

	if (r->content_length < 0)
		return OUTCOME_LENGTH_REQUIRED;
	if ((unsigned long long)r->content_length > max)
		return OUTCOME_TOO_LARGE;
	want = (size_t)r->content_length;
	buf_free(&r->body);
	buf_init(&r->body, want);
	/* one allocation of the announced size; never grows past it */
	if (buf_reserve(&r->body, want) < 0)
		return OUTCOME_INTERNAL;
	while (got < want) {
		long n = read(ctx, r->body.data + got, want - got);
		if (n <= 0)
			return OUTCOME_BAD_REQUEST; /* shorter than Content-Length */
		got += (size_t)n;
	}
	return buf_setlen(&r->body, got) < 0 ? OUTCOME_INTERNAL : OUTCOME_OK;
}

const char *request_header(const struct request *r, const char *name, size_t *len)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcmp(r->headers[i].name, name) == 0) {
			if (len)
				*len = r->headers[i].value_len;
			return r->headers[i].value;
		}
	return NULL;
}

int request_headers_json(const struct request *r, struct buf *out)
{
	if (buf_append(out, "{", 1) < 0)
		return -1;
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct request_header *h = &r->headers[i];
		if ((i && buf_append(out, ",", 1) < 0) || buf_append_json_string(out, h->name, strlen(h->name)) < 0 ||
		    buf_append(out, ":", 1) < 0)
			return -1;
		if (is_redacted(h->name)) {
			if (buf_append_str(out, "\"[redacted]\"") < 0)
				return -1;
		} else if (buf_append_json_string(out, h->value, h->value_len) < 0) {
			return -1;
		}
	}
	return buf_append(out, "}", 1);
}

void request_free(struct request *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
	buf_free(&r->body);
}
