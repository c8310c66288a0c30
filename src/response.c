/* response.c: builds the answer bytes; nothing else in kanca writes a status line or header. */
#include "first.h"
#include "caps.h"
#include "response.h"

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

static const char *phrase_for(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 422: return "Unprocessable Entity";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return status < 500 ? "OK" : "Internal Server Error";
	}
}

int response_serialize(const struct response *r, struct buf *out)
{
	if (buf_printf(out, "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n",
		       r->status, phrase_for(r->status), r->content_type, r->body.len) < 0 ||
	    buf_append(out, buf_str(&r->headers), r->headers.len) < 0 || buf_append(out, "\r\n", 2) < 0 ||
	    buf_append(out, buf_str(&r->body), r->body.len) < 0)
		return -1;
	return 0;
}
