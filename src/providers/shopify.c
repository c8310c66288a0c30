/* shopify.c: Shopify webhooks (doc/providers.md, shopify). X-Shopify-Hmac-Sha256 must be exactly the
 * padded standard base64 of HMAC-SHA256(app client secret, raw body); an empty body is never valid.
 * As in @shopify/shopify-api validate(), a good HMAC without the topic, shop domain, API version and
 * webhook id headers is still refused (400 "missing_headers"). Key X-Shopify-Webhook-Id, type
 * X-Shopify-Topic; X-Shopify-Event-Id is kept with the other headers of the stored event. */
#include "first.h"
#include "providers/shopify.h"
#include "providers/common.h"
#include "request.h"
#include "response.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name; /* as request_header wants it */
	const char *shown;
} required[SHOPIFY_REQUIRED_HEADERS] = {
    {"x-shopify-topic", "X-Shopify-Topic"},
    {"x-shopify-shop-domain", "X-Shopify-Shop-Domain"},
    {"x-shopify-api-version", "X-Shopify-API-Version"},
    {"x-shopify-webhook-id", "X-Shopify-Webhook-Id"},
};

#define MISSING_PREFIX "missing_headers: "

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	const void *parts[1] = {c->req->body.data ? c->req->body.data : ""};
	size_t lens[1] = {c->req->body.len};

	if (c->req->body.len == 0) {
		snprintf(v->reason, sizeof v->reason, "empty body (Shopify signs a non-empty body)");
		return OUTCOME_UNAUTHORIZED;
	}
	return common_verify_hmac_header(c, "x-shopify-hmac-sha256", "", VERIFY_BASE64, parts, lens, 1, v);
}

/* As Shopify sends: the signature and the four headers its library requires. */
static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	if (common_sign_body_hmac(in, "X-Shopify-Hmac-Sha256", "", VERIFY_BASE64, body, headers, err) < 0 ||
	    common_sign_line(headers, "X-Shopify-Topic", "kanca/doctor", 12, err) < 0 ||
	    common_sign_line(headers, "X-Shopify-Shop-Domain", "kanca-doctor.myshopify.com", 26, err) < 0 ||
	    common_sign_line(headers, "X-Shopify-API-Version", "2025-01", 7, err) < 0 ||
	    common_sign_line(headers, "X-Shopify-Webhook-Id", in->id, strlen(in->id), err) < 0)
		return -1;
	return 0;
}

int shopify_identify_headers(const struct request *req, struct provider_event *ev, struct buf *reason)
{
	size_t n, missing = 0;
	const char *s;

	for (size_t i = 0; i < SHOPIFY_REQUIRED_HEADERS; i++) {
		s = request_header(req, required[i].name, &n);
		if (s && n > 0)
			continue;
		if (buf_append_str(reason, missing++ ? ", " : MISSING_PREFIX) < 0 ||
		    buf_append_str(reason, required[i].shown) < 0)
			return -1;
	}
	if (missing)
		return -1;
	s = request_header(req, "x-shopify-topic", &n);
	if (common_copy_text(ev->type, sizeof ev->type, s, n) < 0)
		return buf_fail(reason, "X-Shopify-Topic is too long or holds control characters");
	s = request_header(req, "x-shopify-webhook-id", &n);
	if (common_copy_text(ev->key, sizeof ev->key, s, n) < 0)
		return buf_fail(reason, "X-Shopify-Webhook-Id is too long or holds control characters");
	return 0;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	(void)state;
	if (shopify_identify_headers(c->req, &evs[0], reason) < 0)
		return OUTCOME_BAD_REQUEST;
	*nevs = 1;
	return OUTCOME_OK;
}

/* Missing required headers answer like the library's reason: {"success":false,"error":"missing_headers",
 * "missing":["X-Shopify-Topic",...]}; everything else gets the default answers. */
static void answer(const struct provider_call *c, enum outcome o, const struct provider_event *ev, const char *message,
		   struct response *res)
{
	const size_t plen = sizeof MISSING_PREFIX - 1;
	const char *p;

	if (o != OUTCOME_BAD_REQUEST || !message || strncmp(message, MISSING_PREFIX, plen) != 0) {
		common_answer(c, o, ev, message, res);
		return;
	}
	response_set(res, o);
	if (buf_append_str(&res->body, "{\"success\":false,\"error\":\"missing_headers\",\"missing\":[") < 0)
		goto fail;
	for (p = message + plen; *p;) {
		size_t n = strcspn(p, ",");
		if ((p != message + plen && buf_append_str(&res->body, ",") < 0) ||
		    buf_append_json_string(&res->body, p, n) < 0)
			goto fail;
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	if (buf_append_str(&res->body, "]}") == 0)
		return;
fail:
	response_error(res, o, "missing_headers");
}

const struct provider provider_shopify = {
    .name = "shopify",
    .summary = "Shopify: X-Shopify-Hmac-Sha256 base64 HMAC, key X-Shopify-Webhook-Id, type X-Shopify-Topic",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = common_check_no_options,
    .verify = verify,
    .identify = identify,
    .answer = answer,
    .sign = sign,
};
