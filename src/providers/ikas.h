/* ikas.h: the ikas webhook envelope, public so that its unit test and fuzz target call the parser
 * the provider uses (doc/providers.md, ikas). */
#ifndef KANCA_PROVIDERS_IKAS_H
#define KANCA_PROVIDERS_IKAS_H

#include <stddef.h>

#include "outcome.h"

struct json;

/* The members of {id, createdAt, scope, merchantId, authorizedAppId, data, signature}. Every pointer
 * points into the parsed document (valid until json_free of the root) and is NULL when the member is
 * absent or not a string; lengths are in bytes. data is the JSON-decoded string: the exact bytes the
 * HMAC covers (never with a NUL: json_parse refuses \u0000, but use data_len all the same). */
struct ikas_envelope {
	const char *id, *scope, *merchant_id, *authorized_app_id, *data, *signature;
	size_t id_len, scope_len, merchant_id_len, authorized_app_id_len, data_len, signature_len;
	char why[128]; /* what *why points at when the body is not strict JSON (json.h) */
};

/* Parses the raw body as the envelope. OUTCOME_OK with *root (free with json_free) and env filled;
 * OUTCOME_BAD_REQUEST when the body is not a JSON object, or not strict JSON (a member name twice,
 * e.g. two "data" or two "signature", or \u0000: *why names it); OUTCOME_UNAUTHORIZED when data or signature
 * is missing or not a string (nothing to verify, as the SDK middleware answers); OUTCOME_INTERNAL when
 * memory runs out. On failure *root is NULL and *why (never NULL) says why, without any value. */
enum outcome ikas_parse_envelope(const char *body, size_t n, struct json **root, struct ikas_envelope *env,
				 const char **why);

#endif
