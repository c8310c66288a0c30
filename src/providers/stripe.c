/* stripe.c: Stripe webhooks (doc/providers.md, stripe). Stripe-Signature "t=<unix>,v1=<hex>[,v1=...]",
 * HMAC-SHA256 keyed with the whole whsec_ string over "<t>.<raw body>", lowercase hex; rejections
 * answer 400 as Stripe's examples do. Key: body "id"; type: body "type". */
#include "first.h"
#include "wipe.h"
#include "providers/stripe.h"

#include "providers/common.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

int stripe_header_parse(const char *s, size_t n, struct stripe_header *out)
{
	size_t i = 0;

	memset(out, 0, sizeof *out);
	if (!s) {
		s = "";
		n = 0;
	}
	/* every item, including empty ones ("a,,b" has three; "" has one) */
	for (;;) {
		const char *item = s + i, *comma = n > i ? memchr(item, ',', n - i) : NULL;
		size_t len = comma ? (size_t)(comma - item) : n - i;
		const char *eq = len ? memchr(item, '=', len) : NULL;
		size_t klen = eq ? (size_t)(eq - item) : len;
		const char *val = eq ? eq + 1 : NULL;
		/* the value stops at the next '=' (JavaScript item.split('=')[1]) */
		const char *eq2 = val ? memchr(val, '=', (size_t)(item + len - val)) : NULL;
		size_t vlen = val ? (size_t)((eq2 ? eq2 : item + len) - val) : 0;

		if (klen == 1 && item[0] == 't') {
			out->has_t = 1;
			out->t = 0;
			out->t_ok = val ? common_parse_js_int(val, vlen, &out->t) : 0;
		} else if (klen == 2 && item[0] == 'v' && item[1] == '1') {
			if (out->nv1 == KANCA_SIGNATURES_MAX)
				return -1;
			/* an absent or empty value makes the library's secureCompare throw */
			if (!val || vlen == 0)
				out->bad_v1 = 1;
			out->v1[out->nv1].p = val;
			out->v1[out->nv1].len = vlen;
			out->nv1++;
		}
		if (!comma)
			break;
		i += len + 1;
	}
	return 0;
}

static enum outcome reject(struct verdict *v, const char *why)
{
	snprintf(v->reason, sizeof v->reason, "%s", why);
	return OUTCOME_BAD_REQUEST;
}

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	size_t hlen = 0, usable = 0;
	const char *h = request_header(c->req, "stripe-signature", &hlen);
	long long tol = c->cfg->timestamp_tolerance;
	struct stripe_header sh;
	char ts[32], expected[VERIFY_HEX_LEN + 1];
	const void *parts[3];
	size_t lens[3];

	if (!h || hlen == 0)
		return reject(v, "missing Stripe-Signature header");
	if (stripe_header_parse(h, hlen, &sh) < 0)
		return reject(v, "too many v1 signatures in Stripe-Signature");
	if (!sh.has_t || !sh.t_ok)
		return reject(v, "no timestamp (t=) in Stripe-Signature");
	if (sh.nv1 == 0)
		return reject(v, "no v1 signature in Stripe-Signature");
	if (sh.bad_v1)
		return reject(v, "empty v1 signature in Stripe-Signature");
	/* the library rejects only now - t > tolerance; a future t beyond it is refused as hardening */
	if (sh.t < c->now - tol)
		return reject(v, "Stripe-Signature timestamp is older than the tolerance");
	if (sh.t > c->now + tol)
		return reject(v, "Stripe-Signature timestamp is in the future beyond the tolerance");

	/* the library signs `${timestamp}.${payload}`: the decimal of the parsed integer */
	snprintf(ts, sizeof ts, "%lld", sh.t);
	parts[0] = ts;
	lens[0] = strlen(ts);
	parts[1] = ".";
	lens[1] = 1;
	parts[2] = c->req->body.data ? c->req->body.data : "";
	lens[2] = c->req->body.len;
	for (size_t k = 0; k < c->source->nsecrets; k++) {
		const struct store_secret *sec = &c->source->secrets[k];
		int match = 0;

		/* the whole whsec_... string is the key, as bytes */
		if (verify_hmac_text(VERIFY_HEX, sec->value, sec->len, parts, lens, 3, expected) < 0)
			continue;
		usable++;
		for (size_t i = 0; i < sh.nv1; i++)
			match |= verify_equal(sh.v1[i].p, sh.v1[i].len, expected, VERIFY_HEX_LEN);
		wipe_bytes(expected, sizeof expected);
		if (match) {
			v->secret_id = sec->id;
			snprintf(v->detail, sizeof v->detail,
				 "stripe v1 hmac-sha256/hex header=stripe-signature secret=%lld", sec->id);
			return OUTCOME_OK;
		}
	}
	if (usable == 0) {
		snprintf(v->reason, sizeof v->reason, "no usable secret for this source (fail closed)");
		return OUTCOME_INTERNAL;
	}
	return reject(v, "no v1 signature in Stripe-Signature matches");
}

/* As stripe-node's generateTestHeaderString: t=<now>,v1=<hex HMAC over "<t>.<body>"> keyed with the
 * whole whsec_ string. */
static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	char ts[32], sig[VERIFY_HEX_LEN + 1], value[sizeof ts + sizeof sig + 8];
	const void *parts[3];
	size_t lens[3];
	int rc = -1;

	if (buf_append(body, in->payload, in->payload_len) < 0)
		return buf_fail(err, "%s", "the payload does not fit");
	snprintf(ts, sizeof ts, "%lld", in->now);
	parts[0] = ts;
	lens[0] = strlen(ts);
	parts[1] = ".";
	lens[1] = 1;
	parts[2] = buf_str(body);
	lens[2] = body->len;
	if (verify_hmac_text(VERIFY_HEX, in->secret, in->secret_len, parts, lens, 3, sig) < 0) {
		(void)buf_fail(err, "%s", "cannot compute HMAC-SHA256 with this secret");
		goto out;
	}
	snprintf(value, sizeof value, "t=%s,v1=%s", ts, sig);
	if (common_sign_line(headers, "Content-Type", "application/json", 16, err) < 0 ||
	    common_sign_line(headers, "Stripe-Signature", value, strlen(value), err) < 0)
		goto out;
	rc = 0;
out:
	wipe_bytes(sig, sizeof sig);
	wipe_bytes(value, sizeof value);
	return rc;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	struct json *root = NULL;
	const char *type;
	enum outcome o;
	size_t n = 0;

	(void)state;
	/* JSON that readers could read two ways (a repeated "id" or "type", \u0000) is refused */
	o = common_parse_if_json(buf_str(&c->req->body), c->req->body.len, &root, reason);
	if (o != OUTCOME_OK)
		return o;
	/* authentic but without a usable id: kept (retrying would not help), keyed by the body */
	if (!root || !json_get_string(root, "id", NULL))
		log_warn("authentic Stripe delivery %s: idempotency key is the body's SHA-256",
			 !root ? "whose body is not JSON" : "without a string id");
	o = common_key_or_body_hash(c, root, "id", evs[0].key);
	type = json_get_string(root, "type", &n);
	if (!type || common_copy_text(evs[0].type, sizeof evs[0].type, type, n) < 0)
		evs[0].type[0] = '\0';
	json_free(root);
	*nevs = 1;
	return o;
}

const struct provider provider_stripe = {
    .name = "stripe",
    .summary = "Stripe (Stripe-Signature t=,v1=: HMAC-SHA256 hex over t.body keyed with the whole whsec_ secret)",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = common_check_no_options,
    .verify = verify,
    .identify = identify,
    .sign = sign,
};
