/* common.h: pieces several providers share: signature headers, idempotency keys, answers. */
#ifndef KANCA_PROVIDERS_COMMON_H
#define KANCA_PROVIDERS_COMMON_H

#include "providers/provider.h"
#include "verify.h"

struct json;

/* Verifies a header that must equal prefix + text(HMAC-SHA256(secret, parts...)) for one of the
 * source's secrets, compared in constant time after a length check. Records the secret in v. */
enum outcome common_verify_hmac_header(const struct provider_call *c, const char *header, const char *prefix,
				       enum verify_encoding enc, const void *const *parts, const size_t *lens,
				       size_t nparts, struct verdict *v);
/* Sets key to the string member field of obj when it is a non-empty string that fits, else to the
 * lowercase hex SHA-256 of the raw body. OUTCOME_OK, or OUTCOME_INTERNAL when hashing fails. */
enum outcome common_key_or_body_hash(const struct provider_call *c, const struct json *obj, const char *field,
				     char key[KANCA_KEY_MAX + 1]);
/* Copies s (n bytes) into out if it is non-empty, has no control characters and fits; 0 or -1. */
int common_copy_text(char *out, size_t cap, const char *s, size_t n);
/* Parses the raw body as JSON with kanca's depth cap and strict rules (json.h: a repeated member name
 * or \u0000 is refused); on failure reason says why ("Invalid JSON: duplicate member \"data\""). */
enum outcome common_parse_body(const struct provider_call *c, struct json **root, struct buf *reason);
/* For a signed document that need not be JSON (Stripe's and Standard Webhooks' bodies, ikas' data):
 * OUTCOME_OK with *root set, or NULL when the bytes are not JSON at all (kept as they are: retrying
 * would not help); OUTCOME_BAD_REQUEST with the reason when they are JSON that kanca refuses to read,
 * a repeated member name or \u0000, since readers would disagree on what was signed; OUTCOME_INTERNAL
 * when memory runs out. */
enum outcome common_parse_if_json(const char *s, size_t n, struct json **root, struct buf *reason);
/* The default answers: {"success":true,"event":...} for OK and, identically, for DUPLICATE (a duplicate
 * gets the same answer as the first delivery); {"success":false,"error":...} else. */
void common_answer(const struct provider_call *c, enum outcome o, const struct provider_event *ev, const char *message,
		   struct response *res);

/* |values| above this saturate in common_parse_js_int (far beyond any accepted timestamp, below 2^53,
 * so every value kept is one a JavaScript number holds exactly). */
#define COMMON_JS_INT_MAX 999999999999999LL

/* JavaScript parseInt(s, 10) on n bytes: leading white space (space, \t, \n, \v, \f, \r) skipped,
 * an optional sign, then the longest run of decimal digits; what follows is ignored. 1 and *out
 * (saturated to +-COMMON_JS_INT_MAX), or 0 when there is no digit (parseInt gives NaN). Used for
 * Stripe's t= and Standard Webhooks' webhook-timestamp, which both libraries read this way. */
int common_parse_js_int(const char *s, size_t n, long long *out);

/* Fails (-1, reason in err) when options hold a key not in allowed (NULL-terminated). */
int common_check_keys(const char *options, const char *const *allowed, struct buf *err);
/* check_options of a provider that takes no options of its own (the retry_* keys are still allowed). */
int common_check_no_options(const char *options, struct buf *err);

/* ---- provider.sign (kancactl doctor's self-test deliveries) ---- */

/* Appends the line "name: value\n" (value n bytes); 0, or -1 with the reason in err. */
int common_sign_line(struct buf *headers, const char *name, const char *value, size_t n, struct buf *err);
/* The usual sender: the body is the payload byte for byte, sent as application/json, and header carries
 * prefix + HMAC-SHA256(secret, body) in enc. 0, or -1 with the reason in err. */
int common_sign_body_hmac(const struct provider_sign_in *in, const char *header, const char *prefix,
			  enum verify_encoding enc, struct buf *body, struct buf *headers, struct buf *err);
#endif
