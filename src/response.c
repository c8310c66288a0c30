/* response.c: builds the answer bytes; nothing else in kanca writes a status line or header. */
#include "first.h"
#include "caps.h"
#include "response.h"
#include "http_status.h"

#include <string.h>

void response_init(struct response *r)
{
	memset(r, 0, sizeof *r);
	r->content_type = "application/json";
	buf_init(&r->headers, KANCA_RESPONSE_HEADERS_MAX);
	buf_init(&r->body, KANCA_RESPONSE_BODY_MAX);
	response_set(r, OUTCOME_INTERNAL);
}

void response_free(struct response *r)
{
	if (!r)
		return;
	buf_free(&r->headers);
	buf_free(&r->body);
}

void response_set(struct response *r, enum outcome o)
{
	r->outcome = o;
	r->status = outcome_status(o);
	buf_reset(&r->body);
}

int response_header(struct response *r, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return -1;
	return buf_printf(&r->headers, "%s: %s\r\n", name, value);
}

void response_error(struct response *r, enum outcome o, const char *message)
{
	response_set(r, o);
	if (buf_append_str(&r->body, "{\"success\":false,\"error\":") < 0 ||
	    buf_append_json_string(&r->body, message, strlen(message)) < 0 || buf_append_str(&r->body, "}") < 0)
		buf_reset(&r->body);
}

int response_serialize(const struct response *r, struct buf *out)
{
	if (buf_printf(out, "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n",
		       r->status, http_status_phrase(r->status), r->content_type, r->body.len) < 0 ||
	    buf_append(out, buf_str(&r->headers), r->headers.len) < 0 || buf_append(out, "\r\n", 2) < 0 ||
	    buf_append(out, buf_str(&r->body), r->body.len) < 0)
		return -1;
	return 0;
}
