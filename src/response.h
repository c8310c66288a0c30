/* response.h: the one writer of status lines, headers and bodies, for FastCGI and CGI alike. */
#ifndef KANCA_RESPONSE_H
#define KANCA_RESPONSE_H

#include "first.h"

#include "buf.h"
#include "outcome.h"

struct response {
	enum outcome outcome;
	int status;		  /* HTTP status; set from outcome by response_set */
	const char *content_type; /* static string */
	struct buf headers;	  /* extra header lines, each "Name: value\r\n" */
	struct buf body;
};

void response_init(struct response *r);
void response_free(struct response *r);
/* Sets outcome and the matching status, and clears any previous body. */
void response_set(struct response *r, enum outcome o);
/* Adds a header; value must not contain CR or LF (refused with -1). */
int response_header(struct response *r, const char *name, const char *value) KANCA_MUST_CHECK;
/* Answer {"success":false,"error":message} with the outcome's status. */
void response_error(struct response *r, enum outcome o, const char *message);
/* The whole CGI/FastCGI answer: "Status: ...", headers, blank line, body. */
int response_serialize(const struct response *r, struct buf *out) KANCA_MUST_CHECK;

#endif
