/* request.h: one HTTP request as the web server hands it over (FastCGI params or CGI environment),
 * with its body read against a cap. Owns copies of everything, so libfcgi's params may go. */
#ifndef KANCA_REQUEST_H
#define KANCA_REQUEST_H

#include "first.h"

#include <stddef.h>

#include "buf.h"
#include "caps.h"
#include "outcome.h"

struct request_header {
	char *name;  /* lowercase, '-' separated: "x-signature", "content-type" */
	char *value; /* byte for byte as received */
	size_t value_len;
};

struct request {
	char method[16];
	char path[KANCA_PATH_MAX + 1]; /* without the query string */
	long long content_length;      /* -1 when absent */
	char remote_addr[64];
	struct request_header headers[KANCA_HEADERS_MAX];
	size_t nheaders;
	struct buf body; /* exact raw bytes */
};

/* Reads n bytes at most into p; returns bytes read, 0 at end of input, -1 on error. */
typedef long (*request_read_fn)(void *ctx, char *p, size_t n);

/* Fills r from an environment array ("NAME=value"). OUTCOME_OK, or the outcome of a request
 * whose headers or path break a cap (431, 414). r must be request_free'd in every case. */
enum outcome request_from_env(struct request *r, char *const *envp);
/* Reads the body: 411 without Content-Length, 413 above max without reading it, 400 when short. */
enum outcome request_read_body(struct request *r, size_t max, request_read_fn read, void *ctx);
/* Header value by lowercase name, or NULL. */
const char *request_header(const struct request *r, const char *name, size_t *len);
/* Appends the headers as a JSON object, credentials (authorization, x-api-key, cookie) redacted. */
int request_headers_json(const struct request *r, struct buf *out) KANCA_MUST_CHECK;
void request_free(struct request *r);

#endif
