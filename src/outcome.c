/* outcome.c: maps outcomes to HTTP statuses in one table. */
#include "first.h"
#include "outcome.h"

static const struct {
	int status;
	const char *phrase;
	const char *name;
} table[OUTCOME__COUNT] = {
	[OUTCOME_OK] = {200, "OK", "ok"},
	[OUTCOME_DUPLICATE] = {200, "OK", "duplicate"},
	[OUTCOME_BAD_REQUEST] = {400, "Bad Request", "bad_request"},
	[OUTCOME_UNAUTHORIZED] = {401, "Unauthorized", "unauthorized"},
	[OUTCOME_FORBIDDEN] = {403, "Forbidden", "forbidden"},
	[OUTCOME_NOT_FOUND] = {404, "Not Found", "not_found"},
	[OUTCOME_METHOD] = {405, "Method Not Allowed", "method_not_allowed"},
	[OUTCOME_LENGTH_REQUIRED] = {411, "Length Required", "length_required"},
	[OUTCOME_TOO_LARGE] = {413, "Payload Too Large", "payload_too_large"},
	[OUTCOME_URI_TOO_LONG] = {414, "URI Too Long", "uri_too_long"},
	[OUTCOME_UNPROCESSABLE] = {422, "Unprocessable Entity", "unprocessable"},
	[OUTCOME_HEADER_TOO_LARGE] = {431, "Request Header Fields Too Large", "header_too_large"},
	[OUTCOME_INTERNAL] = {500, "Internal Server Error", "internal_error"},
	[OUTCOME_UNAVAILABLE] = {503, "Service Unavailable", "unavailable"},
};

static int valid(enum outcome o)
{
	return (unsigned)o < OUTCOME__COUNT;
}

int outcome_status(enum outcome o)
{
	return valid(o) ? table[o].status : 500;
}

const char *outcome_phrase(enum outcome o)
{
	return valid(o) ? table[o].phrase : "Internal Server Error";
}

const char *outcome_name(enum outcome o)
{
	return valid(o) ? table[o].name : "internal_error";
}
