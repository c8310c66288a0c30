/* outcome.h: the one outcome enum of a request, and its HTTP status. */
#ifndef KANCA_OUTCOME_H
#define KANCA_OUTCOME_H

enum outcome {
	OUTCOME_OK = 0,
	OUTCOME_DUPLICATE,	  /* already stored: same 2xx, not processed again */
	OUTCOME_BAD_REQUEST,	  /* 400: unparsable body, bad event type */
	OUTCOME_UNAUTHORIZED,	  /* 401: missing or invalid signature */
	OUTCOME_FORBIDDEN,	  /* 403: source disabled or not configured */
	OUTCOME_NOT_FOUND,	  /* 404: unknown path, provider or account */
	OUTCOME_METHOD,		  /* 405: not POST (or not GET for /healthz) */
	OUTCOME_LENGTH_REQUIRED,  /* 411: no Content-Length */
	OUTCOME_TOO_LARGE,	  /* 413: body over max_body_bytes */
	OUTCOME_URI_TOO_LONG,	  /* 414 */
	OUTCOME_UNPROCESSABLE,	  /* 422: authentic, but the data fails validation */
	OUTCOME_HEADER_TOO_LARGE, /* 431 */
	OUTCOME_INTERNAL,	  /* 500: nothing was stored, the sender should retry */
	OUTCOME_UNAVAILABLE,	  /* 503: store down (healthz) */
	OUTCOME__COUNT
};

/* HTTP status for an outcome (200 for OK and DUPLICATE). */
int outcome_status(enum outcome o);
/* Reason phrase of outcome_status(o), e.g. "Unauthorized". */
const char *outcome_phrase(enum outcome o);
/* Short machine word, e.g. "unauthorized"; used in logs and the audit log. */
const char *outcome_name(enum outcome o);

#endif
