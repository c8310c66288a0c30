/* standardwebhooks.c: Standard Webhooks and Svix (doc/providers.md, standardwebhooks), two vtables sharing one
 * verifier. Headers webhook-id, webhook-timestamp, webhook-signature (Svix: svix-*, falling back to
 * webhook-* as the svix library does); HMAC-SHA256 keyed with the base64-decoded part of whsec_ over
 * "<id>.<ts>.<raw body>", standard padded base64, any "v1" entry may match; the timestamp must be
 * within the tolerance both ways. Rejections answer 401. Key: the id header; type: body "type".
 * The scheme itself is stdwebhooks.c. */
#include "first.h"
#include "providers/common.h"
#include "stdwebhooks.h"
#include "wipe.h"
#include "config.h"
#include "json.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

/* The three headers of a message, and the names they came under. */
struct message {
	const char *id, *ts, *sig;
	size_t idlen, tslen, siglen;
	const char *sig_name;
};

static int get_set(const struct request *r, const char *id, const char *ts, const char *sig, struct message *m)
{
	m->id = request_header(r, id, &m->idlen);
	m->ts = request_header(r, ts, &m->tslen);
	m->sig = request_header(r, sig, &m->siglen);
	m->sig_name = sig;
	/* the libraries treat an empty header as missing */
	return m->id && m->idlen && m->ts && m->tslen && m->sig && m->siglen;
}

/* Svix: all three svix-* headers, else all three webhook-*. 1 found, 0 missing. */
static int get_message(const struct request *r, int svix, struct message *m)
{
	if (svix && get_set(r, "svix-id", "svix-timestamp", "svix-signature", m))
		return 1;
	return get_set(r, "webhook-id", "webhook-timestamp", "webhook-signature", m);
}

static enum outcome verify_message(const struct provider_call *c, struct verdict *v, int svix)
{
	const char *name = svix ? "svix" : "standardwebhooks";
	long long tol = c->cfg->timestamp_tolerance, ts = 0;
	struct stdwebhooks_sig sigs[KANCA_SIGNATURES_MAX];
	struct stdwebhooks_msg msg;
	size_t usable = 0;
	struct message m;
	int nsigs;

	if (!get_message(c->req, svix, &m)) {
		snprintf(v->reason, sizeof v->reason, "missing %s",
			 svix ? "svix-id/-timestamp/-signature (or webhook-id/-timestamp/-signature) headers"
			      : "webhook-id, webhook-timestamp or webhook-signature header");
		return OUTCOME_UNAUTHORIZED;
	}
	if (!common_parse_js_int(m.ts, m.tslen, &ts)) {
		snprintf(v->reason, sizeof v->reason, "timestamp header is not an integer");
		return OUTCOME_UNAUTHORIZED;
	}
	if (c->now - ts > tol || ts > c->now + tol) {
		snprintf(v->reason, sizeof v->reason, "message timestamp too %s", ts > c->now ? "new" : "old");
		return OUTCOME_UNAUTHORIZED;
	}
	nsigs = stdwebhooks_sig_list_parse(m.sig, m.siglen, sigs, KANCA_SIGNATURES_MAX);
	if (nsigs <= 0) {
		snprintf(v->reason, sizeof v->reason,
			 nsigs < 0 ? "too many v1 signatures in %s" : "no v1 signature in %s", m.sig_name);
		return OUTCOME_UNAUTHORIZED;
	}

	msg.id = m.id;
	msg.idlen = m.idlen;
	msg.timestamp = ts;
	msg.body = c->req->body.data;
	msg.len = c->req->body.len;
	for (size_t k = 0; k < c->source->nsecrets; k++) {
		const struct store_secret *sec = &c->source->secrets[k];
		int match = stdwebhooks_verify(sec->value, sec->len, &msg, sigs, nsigs);

		if (match < 0)
			continue;
		usable++;
		if (match) {
			v->secret_id = sec->id;
			snprintf(v->detail, sizeof v->detail, "%s v1 hmac-sha256/base64 header=%s secret=%lld", name,
				 m.sig_name, sec->id);
			return OUTCOME_OK;
		}
	}
	if (usable == 0) {
		snprintf(v->reason, sizeof v->reason, "no secret of this source is whsec_<base64> (fail closed)");
		return OUTCOME_INTERNAL;
	}
	snprintf(v->reason, sizeof v->reason, "no v1 signature in %s matches", m.sig_name);
	return OUTCOME_UNAUTHORIZED;
}

static enum outcome identify_message(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
				     struct buf *reason, int svix)
{
	struct json *root = NULL;
	const char *type;
	struct message m;
	enum outcome o;
	size_t n = 0;

	if (!get_message(c->req, svix, &m)) { /* verify saw them: cannot happen */
		(void)!buf_append_str(reason, "message headers vanished after verification");
		return OUTCOME_INTERNAL;
	}
	if (common_copy_text(evs[0].key, sizeof evs[0].key, m.id, m.idlen) < 0) {
		/* an id that does not fit (or has control bytes) is still stable across retries: hash it */
		unsigned char d[VERIFY_SHA256_LEN];

		if (verify_sha256(m.id, m.idlen, d) < 0)
			return OUTCOME_INTERNAL;
		verify_hex_encode(d, sizeof d, evs[0].key);
	}
	/* the type is a convention of the spec: a body that is not JSON still verified, so keep it; JSON
	 * that readers could read two ways (a repeated member name, \u0000) is refused */
	o = common_parse_if_json(buf_str(&c->req->body), c->req->body.len, &root, reason);
	if (o != OUTCOME_OK)
		return o;
	type = root ? json_get_string(root, "type", &n) : NULL;
	if (!type || common_copy_text(evs[0].type, sizeof evs[0].type, type, n) < 0)
		evs[0].type[0] = '\0';
	json_free(root);
	*nevs = 1;
	return OUTCOME_OK;
}

/* As the libraries' sign(): <prefix>-id, <prefix>-timestamp and <prefix>-signature "v1,<base64 HMAC over
 * "<id>.<ts>.<body>">", keyed with the decoded whsec_ secret. */
static int sign_message(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err,
			const char *prefix)
{
	char ts[32], sig[STDWEBHOOKS_SIG_TEXT], value[sizeof sig + 8], name[32];
	struct stdwebhooks_msg msg = {in->id, strlen(in->id), in->now, NULL, 0};
	unsigned char key[KANCA_SECRET_MAX];
	long klen = stdwebhooks_secret_key(in->secret, in->secret_len, key, sizeof key);
	int rc = -1;

	wipe_bytes(key, sizeof key);
	if (klen < 0)
		return buf_fail(err, "%s", "the secret is not whsec_<base64>");
	if (buf_append(body, in->payload, in->payload_len) < 0)
		return buf_fail(err, "%s", "the payload does not fit");
	msg.body = buf_str(body);
	msg.len = body->len;
	if (stdwebhooks_sign(in->secret, in->secret_len, &msg, sig) < 0)
		return buf_fail(err, "%s", "cannot compute HMAC-SHA256 with this secret");
	snprintf(ts, sizeof ts, "%lld", in->now);
	snprintf(value, sizeof value, "v1,%s", sig);
	if (common_sign_line(headers, "Content-Type", "application/json", 16, err) < 0)
		goto out;
	snprintf(name, sizeof name, "%s-id", prefix);
	if (common_sign_line(headers, name, in->id, strlen(in->id), err) < 0)
		goto out;
	snprintf(name, sizeof name, "%s-timestamp", prefix);
	if (common_sign_line(headers, name, ts, strlen(ts), err) < 0)
		goto out;
	snprintf(name, sizeof name, "%s-signature", prefix);
	if (common_sign_line(headers, name, value, strlen(value), err) < 0)
		goto out;
	rc = 0;
out:
	wipe_bytes(sig, sizeof sig);
	wipe_bytes(value, sizeof value);
	return rc;
}

static int sign_standard(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	return sign_message(in, body, headers, err, "webhook");
}

static int sign_svix(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	return sign_message(in, body, headers, err, "svix");
}

static enum outcome verify_standard(const struct provider_call *c, struct verdict *v)
{
	return verify_message(c, v, 0);
}

static enum outcome verify_svix(const struct provider_call *c, struct verdict *v)
{
	return verify_message(c, v, 1);
}

static enum outcome identify_standard(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
				      struct buf *reason, void **state)
{
	(void)state;
	return identify_message(c, evs, nevs, reason, 0);
}

static enum outcome identify_svix(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
				  struct buf *reason, void **state)
{
	(void)state;
	return identify_message(c, evs, nevs, reason, 1);
}

const struct provider provider_standardwebhooks = {
    .name = "standardwebhooks",
    .summary = "Standard Webhooks (webhook-id/-timestamp/-signature: v1 HMAC-SHA256 base64, whsec_<base64> key)",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = common_check_no_options,
    .verify = verify_standard,
    .identify = identify_standard,
    .sign = sign_standard,
};

const struct provider provider_svix = {
    .name = "svix",
    .summary = "Svix (svix-id/-timestamp/-signature, else webhook-*: Standard Webhooks signatures)",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = common_check_no_options,
    .verify = verify_svix,
    .identify = identify_svix,
    .sign = sign_svix,
};
