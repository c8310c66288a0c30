/* skeleton.c: the shape of a new provider, to copy (not part of kanca: make check only compiles it).
 *
 * To add a provider "acme" that signs its deliveries with "X-Acme-Signature: sha256=<hex HMAC-SHA256 of
 * the raw body>" and sends {"id": ..., "type": ...}:
 *   1. copy this file to src/providers/acme.c and rename provider_skeleton to provider_acme;
 *   2. list &provider_acme in src/providers/registry.c (extern declaration and table entry);
 *   3. add src/providers/acme.c to libkanca_a_SOURCES in Makefile.am;
 *   4. describe its contract in doc/providers.md, add vectors made with the provider's own library to
 *      tests/vectors.json (tests/integration/vectors.py walks them all), and unit tests of its parsers;
 *   5. a parser of untrusted bytes gets a fuzz target in tests/fuzz/.
 * The request arrives verified against nothing: verify() decides authenticity from the raw bytes
 * (c->req->body, c->req->headers) and the source's unexpired secrets (c->source->secrets), comparing in
 * constant time; identify() then names the event(s). Set only the members you use: the rest are NULL,
 * and NULL means the default (see provider.h). */
#include "first.h"
#include "providers/common.h"
#include "json.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

/* Authenticity first, on the raw bytes, before anything is parsed. common_verify_hmac_header tries every
 * unexpired secret of the source, compares in constant time after a length check, and records which
 * secret verified the request in v. */
static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	const void *parts[1] = {c->req->body.data ? c->req->body.data : ""};
	size_t lens[1] = {c->req->body.len};

	return common_verify_hmac_header(c, "x-acme-signature", "sha256=", VERIFY_HEX, parts, lens, 1, v);
}

/* After verification: the idempotency key (the provider's delivery or event id: stable across its
 * retries) and the event type. A body that is authentic but unusable is a 400 (or 422 when the data fails
 * validation) with a reason that quotes no value. */
static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	struct json *root = NULL;
	const char *type;
	size_t n = 0;
	enum outcome o;

	(void)state; /* parsed data that apply() or answer() need would go here (and state_free) */
	o = common_parse_body(c, &root, reason);
	if (o != OUTCOME_OK)
		return o;
	o = common_key_or_body_hash(c, root, "id", evs[0].key);
	type = json_get_string(root, "type", &n);
	if (o == OUTCOME_OK && (!type || common_copy_text(evs[0].type, sizeof evs[0].type, type, n) < 0)) {
		(void)!buf_append_str(reason, "missing or unusable \"type\"");
		o = OUTCOME_BAD_REQUEST;
	}
	json_free(root);
	if (o == OUTCOME_OK)
		*nevs = 1;
	return o;
}

/* kancactl doctor's self-test: sign a delivery exactly as the provider's sender does. */
static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	return common_sign_body_hmac(in, "X-Acme-Signature", "sha256=", VERIFY_HEX, body, headers, err);
}

const struct provider provider_skeleton = {
    .name = "skeleton",
    .summary = "Acme: X-Acme-Signature sha256=<hex HMAC>, key body id, type body type",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL, /* a source without a secret refuses everything (fail closed) */
    .check_options = common_check_no_options,
    .verify = verify,
    .identify = identify,
    .sign = sign,
    /* .apply (a domain update in the storing transaction), .apply_needed, .answer (the provider's own
     * answers instead of {"success":true,...}), .state_free, .aliases: see provider.h */
};
