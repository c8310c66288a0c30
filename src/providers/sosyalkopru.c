/* sosyalkopru.c: Sosyal Köprü webhooks (doc/providers.md, sosyalkopru). X-SosyalKopru-Signature must be
 * exactly "sha256=" + lowercase hex HMAC-SHA256(webhook secret, raw body). Key
 * X-SosyalKopru-Delivery, type the body's "event". The webhook.test ping is answered with
 * "test":true so the sender's test shows success. */
#include "first.h"
#include "providers/sosyalkopru.h"
#include "providers/common.h"
#include "log.h"
#include "json.h"
#include "request.h"
#include "response.h"

#include <stdio.h>
#include <string.h>

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	const void *parts[1] = {c->req->body.data ? c->req->body.data : ""};
	size_t lens[1] = {c->req->body.len};

	return common_verify_hmac_header(c, "x-sosyalkopru-signature", "sha256=", VERIFY_HEX, parts, lens, 1, v);
}

static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	if (common_sign_body_hmac(in, "X-SosyalKopru-Signature", "sha256=", VERIFY_HEX, body, headers, err) < 0 ||
	    common_sign_line(headers, "X-SosyalKopru-Delivery", in->id, strlen(in->id), err) < 0)
		return -1;
	return 0;
}

enum outcome sosyalkopru_event_type(const char *body, size_t len, char type[KANCA_TYPE_MAX + 1], struct buf *reason)
{
	struct json *root = NULL;
	enum json_error e = json_parse(body ? body : "", len, KANCA_JSON_DEPTH, &root);
	enum outcome o = OUTCOME_OK;
	const char *s;
	size_t n = 0;

	if (e != JSON_OK) {
		(void)!buf_append_str(reason, json_error_text(e));
		return e == JSON_ERR_MEMORY ? OUTCOME_INTERNAL : OUTCOME_BAD_REQUEST;
	}
	if (json_kind_of(root) != JSON_OBJECT) {
		(void)!buf_append_str(reason, "Invalid JSON: expected an object");
		o = OUTCOME_BAD_REQUEST;
		goto out;
	}
	s = json_get_string(root, "event", &n);
	if (!s || common_copy_text(type, KANCA_TYPE_MAX + 1, s, n) < 0) {
		(void)!buf_append_str(reason, "Invalid event type");
		o = OUTCOME_BAD_REQUEST;
	}
out:
	json_free(root);
	return o;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	const char *d;
	size_t n = 0;
	enum outcome o;

	(void)state;
	d = request_header(c->req, "x-sosyalkopru-delivery", &n);
	if (!d || n == 0 || common_copy_text(evs[0].key, sizeof evs[0].key, d, n) < 0) {
		/* authentic, without a delivery id to dedup on: keyed by its body, and said so */
		if (common_key_or_body_hash(c, NULL, NULL, evs[0].key) != OUTCOME_OK)
			return OUTCOME_INTERNAL;
		log_warn("authentic Sosyal Köprü delivery without a usable X-SosyalKopru-Delivery: idempotency key is "
			 "the body's SHA-256 %s",
			 evs[0].key);
	}
	o = sosyalkopru_event_type(c->req->body.data, c->req->body.len, evs[0].type, reason);
	if (o != OUTCOME_OK)
		return o;
	if (strcmp(evs[0].type, SOSYALKOPRU_TEST_EVENT) == 0)
		snprintf(evs[0].status, sizeof evs[0].status, "test"); /* recorded as a test, not for processing */
	*nevs = 1;
	return OUTCOME_OK;
}

/* The test ping gets the default success answer plus "test":true ({"success":true,"event":"webhook.test",
 * "test":true}), so a repeated ping answers like any other duplicate; the rest: the default answers. */
static void answer(const struct provider_call *c, enum outcome o, const struct provider_event *ev, const char *message,
		   struct response *res)
{
	common_answer(c, o, ev, message, res);
	if ((o != OUTCOME_OK && o != OUTCOME_DUPLICATE) || !ev || strcmp(ev->type, SOSYALKOPRU_TEST_EVENT) != 0 ||
	    res->body.len == 0 || res->body.data[res->body.len - 1] != '}')
		return;
	res->body.len--;
	if (buf_append_str(&res->body, ",\"test\":true}") < 0)
		res->body.len++; /* the event is stored: keep the plain success answer rather than fail */
}

const struct provider provider_sosyalkopru = {
    .name = "sosyalkopru",
    .summary = "Sosyal Köprü: X-SosyalKopru-Signature sha256=<hex HMAC>, key X-SosyalKopru-Delivery, "
	       "type body event",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = common_check_no_options,
    .verify = verify,
    .identify = identify,
    .answer = answer,
    .sign = sign,
};
