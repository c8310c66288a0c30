/* outcome.c: maps outcomes to HTTP statuses and names in one table (phrases: http_status.c). */
#include "first.h"
#include "outcome.h"
#include "http_status.h"

static const struct {
	int status;
	const char *name;
} table[OUTCOME__COUNT] = {
    [OUTCOME_OK] = {200, "ok"},
    [OUTCOME_DUPLICATE] = {200, "duplicate"},
    [OUTCOME_BAD_REQUEST] = {400, "bad_request"},
    [OUTCOME_UNAUTHORIZED] = {401, "unauthorized"},
    [OUTCOME_FORBIDDEN] = {403, "forbidden"},
    [OUTCOME_NOT_FOUND] = {404, "not_found"},
    [OUTCOME_METHOD] = {405, "method_not_allowed"},
    [OUTCOME_LENGTH_REQUIRED] = {411, "length_required"},
    [OUTCOME_TOO_LARGE] = {413, "payload_too_large"},
    [OUTCOME_URI_TOO_LONG] = {414, "uri_too_long"},
    [OUTCOME_UNPROCESSABLE] = {422, "unprocessable"},
    [OUTCOME_HEADER_TOO_LARGE] = {431, "header_too_large"},
    [OUTCOME_INTERNAL] = {500, "internal_error"},
    [OUTCOME_UNAVAILABLE] = {503, "unavailable"},
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
	return http_status_phrase(outcome_status(o));
}

const char *outcome_name(enum outcome o)
{
	return valid(o) ? table[o].name : "internal_error";
}
