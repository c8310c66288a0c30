/* harness.h: helpers the provider unit tests share (include after tap.h): requests built the way
 * serve_cgi builds them, and tests/vectors.json. Header-only: each test is one program. */
#ifndef KANCA_TEST_HARNESS_H
#define KANCA_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "caps.h"
#include "json.h"
#include "request.h"

#include <stdlib.h>

struct harness_mem {
	const char *p;
	size_t n, off;
};

__attribute__((unused)) static long harness_mem_read(void *ctx, char *p, size_t n)
{
	struct harness_mem *m = ctx;
	size_t k = m->n - m->off < n ? m->n - m->off : n;

	memcpy(p, m->p + m->off, k);
	m->off += k;
	return (long)k;
}

/* Builds a POST request the way serve_cgi does: a CGI environment, then the body from "stdin".
 * hdrs holds name/value pairs (NULL-terminated), names in any case. 0 or -1. */
__attribute__((unused)) static int harness_request(struct request *r, const char *path, const char *const *hdrs,
						   const void *body, size_t n)
{
	char *env[64];
	size_t ne = 0;
	struct buf b[64];
	struct harness_mem m = {body, n, 0};
	int rc = -1;

	for (size_t i = 0; i < 64; i++)
		buf_init(&b[i], 16384);
	if (buf_printf(&b[ne++], "REQUEST_METHOD=POST") < 0 || buf_printf(&b[ne++], "REQUEST_URI=%s", path) < 0 ||
	    buf_printf(&b[ne++], "CONTENT_LENGTH=%zu", n) < 0 || buf_printf(&b[ne++], "REMOTE_ADDR=127.0.0.1") < 0)
		goto out;
	for (size_t i = 0; hdrs && hdrs[i] && ne < 60; i += 2) {
		const char *name = hdrs[i];
		struct buf *e = &b[ne++];

		if (strcasecmp(name, "content-type") != 0 && buf_append_str(e, "HTTP_") < 0)
			goto out;
		for (const char *c = name; *c; c++) {
			char u = *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? (char)(*c - 32) : *c;
			if (buf_append(e, &u, 1) < 0)
				goto out;
		}
		if (buf_printf(e, "=%s", hdrs[i + 1]) < 0)
			goto out;
	}
	for (size_t i = 0; i < ne; i++)
		env[i] = (char *)buf_str(&b[i]);
	env[ne] = NULL;
	if (request_from_env(r, env) != OUTCOME_OK)
		goto out;
	if (request_read_body(r, KANCA_BODY_DEFAULT, harness_mem_read, &m) != OUTCOME_OK)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < 64; i++)
		buf_free(&b[i]);
	return rc;
}

__attribute__((unused)) static char *harness_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)len + 1)) != NULL) {
		*n = fread(p, 1, (size_t)len, f);
		p[*n] = '\0';
	}
	fclose(f);
	return p;
}

/* tests/vectors.json from $KANCA_SRCDIR (or the current or parent directory), parsed; NULL after a
 * failed TAP line when it cannot be read. Free with json_free. */
__attribute__((unused)) static struct json *harness_load_vectors(void)
{
	const char *dir = getenv("KANCA_SRCDIR");
	char path[4096];
	struct json *root = NULL;
	size_t n = 0;
	char *text;

	snprintf(path, sizeof path, "%s/tests/vectors.json", dir && *dir ? dir : "..");
	text = harness_slurp(path, &n);
	if (!text) {
		snprintf(path, sizeof path, "tests/vectors.json");
		text = harness_slurp(path, &n);
	}
	if (!ok(text != NULL, "read %s (set KANCA_SRCDIR)", path))
		return NULL;
	if (!ok(json_parse(text, n, KANCA_JSON_DEPTH, &root) == JSON_OK, "vectors.json parses"))
		root = NULL;
	free(text);
	return root;
}

/* A string member, or "". */
__attribute__((unused)) static const char *harness_str(const struct json *o, const char *key)
{
	const char *s = json_get_string(o, key, NULL);
	return s ? s : "";
}

/* A request built field by field, as request.c stores it (for parsers tested without a CGI env). */
__attribute__((unused)) static void harness_req_init(struct request *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->method, sizeof r->method, "POST");
	buf_init(&r->body, 64 * 1024 * 1024);
}

/* Adds a header the way request.c stores it: lowercase name, value byte for byte. */
__attribute__((unused)) static void harness_req_header(struct request *r, const char *name, const char *value,
						       size_t len)
{
	struct request_header *h = &r->headers[r->nheaders++];
	size_t n = strlen(name);

	h->name = malloc(n + 1);
	h->value = malloc(len + 1);
	if (!h->name || !h->value)
		abort();
	for (size_t i = 0; i <= n; i++)
		h->name[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
	memcpy(h->value, value, len);
	h->value[len] = '\0';
	h->value_len = len;
}

__attribute__((unused)) static void harness_req_body(struct request *r, const void *p, size_t n)
{
	buf_reset(&r->body);
	if (n && buf_append(&r->body, p, n) < 0)
		abort();
	r->content_length = (long long)n;
}

/* Names of a flat object of strings, from its compact serialisation (json.h has no iteration). */
__attribute__((unused)) static size_t harness_object_keys(const struct json *obj, char keys[][128], size_t max)
{
	struct buf s;
	size_t n = 0;
	const char *p;

	buf_init(&s, 1 << 20);
	if (json_serialize(obj, &s) < 0 || s.len < 2 || s.data[0] != '{') {
		buf_free(&s);
		return (size_t)-1;
	}
	p = s.data + 1;
	while (*p == '"' && n < max) {
		const char *q = strchr(p + 1, '"');
		size_t k;
		if (!q || memchr(p + 1, '\\', (size_t)(q - p - 1)) || (k = (size_t)(q - p - 1)) >= 128 || q[1] != ':')
			break;
		memcpy(keys[n], p + 1, k);
		keys[n++][k] = '\0';
		p = q + 2;
		if (*p != '"')
			break;
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		if (*p != '"')
			break;
		p++;
		if (*p == ',')
			p++;
	}
	if (*p != '}')
		n = (size_t)-1;
	buf_free(&s);
	return n;
}

#endif
