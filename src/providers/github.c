/* github.c: GitHub webhooks (doc/providers.md, github). X-Hub-Signature-256 must be exactly
 * "sha256=" + lowercase hex HMAC-SHA256(secret, raw body); the legacy sha1 X-Hub-Signature is never
 * enough. The body is not parsed: GitHub may send application/x-www-form-urlencoded payloads too.
 * Key X-GitHub-Delivery, type X-GitHub-Event (body "action" only refines it; not used here). */
#include "first.h"
#include "providers/github.h"
#include "providers/common.h"
#include "log.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	const void *parts[1] = {c->req->body.data ? c->req->body.data : ""};
	size_t lens[1] = {c->req->body.len};

	return common_verify_hmac_header(c, "x-hub-signature-256", "sha256=", VERIFY_HEX, parts, lens, 1, v);
}

/* As GitHub sends: the signature, the delivery id and the event name. */
static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	if (common_sign_body_hmac(in, "X-Hub-Signature-256", "sha256=", VERIFY_HEX, body, headers, err) < 0 ||
	    common_sign_line(headers, "X-GitHub-Delivery", in->id, strlen(in->id), err) < 0 ||
	    common_sign_line(headers, "X-GitHub-Event", "ping", 4, err) < 0)
		return -1;
	return 0;
}

/* Copies a required header into out; 0, or -1 with the reason (missing or unusable). */
static int required(const struct request *req, const char *name, const char *shown, char *out, size_t cap,
		    struct buf *reason)
{
	size_t n = 0;
	const char *s = request_header(req, name, &n);

	if (!s || n == 0)
		return buf_fail(reason, "missing %s header", shown);
	if (common_copy_text(out, cap, s, n) < 0)
		return buf_fail(reason, "%s header is too long or holds control characters", shown);
	return 0;
}

int github_identify_headers(const struct request *req, struct provider_event *ev, struct buf *reason)
{
	size_t n = 0;
	const char *d;

	if (required(req, "x-github-event", "X-GitHub-Event", ev->type, sizeof ev->type, reason) < 0)
		return -1;
	d = request_header(req, "x-github-delivery", &n);
	if (!d || n == 0 || common_copy_text(ev->key, sizeof ev->key, d, n) < 0) {
		ev->key[0] = '\0';
		return 1;
	}
	return 0;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	int rc = github_identify_headers(c->req, &evs[0], reason);

	(void)state;
	if (rc < 0)
		return OUTCOME_BAD_REQUEST;
	if (rc == 1) { /* authentic, without a delivery id to dedup on: keyed by its body, and said so */
		if (common_key_or_body_hash(c, NULL, NULL, evs[0].key) != OUTCOME_OK)
			return OUTCOME_INTERNAL;
		log_warn("authentic GitHub delivery without a usable X-GitHub-Delivery: idempotency key is the body's "
			 "SHA-256 %s",
			 evs[0].key);
	}
	*nevs = 1;
	return OUTCOME_OK;
}

const struct provider provider_github = {
    .name = "github",
    .summary = "GitHub: X-Hub-Signature-256 sha256=<hex HMAC>, key X-GitHub-Delivery, type X-GitHub-Event",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = common_check_no_options,
    .verify = verify,
    .identify = identify,
    .sign = sign,
};
