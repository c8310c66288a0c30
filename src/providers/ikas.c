/* ikas.c: ikas app webhooks (doc/providers.md, ikas). The body is a JSON envelope whose "signature"
 * is lowercase hex HMAC-SHA256(client secret, the JSON-decoded bytes of the string "data"): never the
 * raw body, never a re-serialisation. Only data is signed; merchantId / authorizedAppId are checked
 * against the source's options when those are set. Key: id; type: scope; success: exactly 200. */
#include "first.h"
#include "caps.h"
#include "wipe.h"
#include "providers/ikas.h"
#include "providers/common.h"
#include "json.h"
#include "options.h"
#include "request.h"
#include "response.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>

enum outcome ikas_parse_envelope(const char *body, size_t n, struct json **root, struct ikas_envelope *env,
				 const char **why)
{
	enum json_error e;
	const struct json *r;

	memset(env, 0, sizeof *env);
	*root = NULL;
	/* strict: with two "data" (or "signature") members, which one was signed is a reader's guess */
	e = json_parse_why(body ? body : "", n, KANCA_JSON_DEPTH, root, env->why, sizeof env->why);
	if (e != JSON_OK) {
		*root = NULL;
		*why = env->why;
		return e == JSON_ERR_MEMORY ? OUTCOME_INTERNAL : OUTCOME_BAD_REQUEST;
	}
	r = *root;
	if (json_kind_of(r) != JSON_OBJECT) {
		json_free(*root);
		*root = NULL;
		*why = "body is not a JSON object";
		return OUTCOME_BAD_REQUEST;
	}
	env->id = json_get_string(r, "id", &env->id_len);
	env->scope = json_get_string(r, "scope", &env->scope_len);
	env->merchant_id = json_get_string(r, "merchantId", &env->merchant_id_len);
	env->authorized_app_id = json_get_string(r, "authorizedAppId", &env->authorized_app_id_len);
	env->data = json_get_string(r, "data", &env->data_len);
	env->signature = json_get_string(r, "signature", &env->signature_len);
	if (!env->data || !env->signature) {
		*why = !env->data ? "data is missing or not a string" : "signature is missing or not a string";
		json_free(*root);
		*root = NULL;
		memset(env, 0, sizeof *env);
		return OUTCOME_UNAUTHORIZED;
	}
	*why = "";
	return OUTCOME_OK;
}

/* When the option is set, the envelope member must equal it. 1 matches (or no option), 0 differs,
 * -1 the option is unusable (longer than any id: fail closed). */
static int member_matches(const char *options, const char *key, const char *got, size_t got_len)
{
	char want[KANCA_OPTION_ID_MAX + 1];
	int rc = options_get(options, key, want, sizeof want);

	if (rc < 0)
		return -1;
	if (rc == 0 || !want[0])
		return 1;
	return got && verify_equal(got, got_len, want, strlen(want));
}

/* The source's merchant_id / authorized_app_id, when set, against the (unsigned) envelope. */
static enum outcome check_members(const struct provider_call *c, const struct ikas_envelope *env, struct verdict *v)
{
	const char *opt[2] = {"merchant_id", "authorized_app_id"}, *member[2] = {"merchantId", "authorizedAppId"};
	const char *got[2] = {env->merchant_id, env->authorized_app_id};
	size_t len[2] = {env->merchant_id_len, env->authorized_app_id_len};

	for (size_t i = 0; i < 2; i++) {
		int rc = member_matches(c->source->options, opt[i], got[i], len[i]);

		if (rc < 0) {
			snprintf(v->reason, sizeof v->reason, "source option %s is too long", opt[i]);
			return OUTCOME_INTERNAL;
		}
		if (rc == 0) {
			snprintf(v->reason, sizeof v->reason, "%s does not match the source's %s", member[i], opt[i]);
			return OUTCOME_UNAUTHORIZED;
		}
	}
	return OUTCOME_OK;
}

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	struct json *root = NULL;
	struct ikas_envelope env;
	const char *why;
	char expected[VERIFY_HEX_LEN + 1];
	enum outcome o = ikas_parse_envelope(c->req->body.data, c->req->body.len, &root, &env, &why);

	if (o != OUTCOME_OK) {
		snprintf(v->reason, sizeof v->reason, "%s", why);
		return o;
	}
	o = OUTCOME_UNAUTHORIZED;
	snprintf(v->reason, sizeof v->reason, "invalid signature");
	for (size_t i = 0; i < c->source->nsecrets; i++) {
		const struct store_secret *k = &c->source->secrets[i];
		const void *parts[1] = {env.data};
		size_t lens[1] = {env.data_len};
		int same;

		if (verify_hmac_text(VERIFY_HEX, k->value, k->len, parts, lens, 1, expected) < 0)
			continue;
		same = verify_equal(env.signature, env.signature_len, expected, VERIFY_HEX_LEN);
		wipe_bytes(expected, sizeof expected);
		if (same) {
			v->secret_id = k->id;
			snprintf(v->detail, sizeof v->detail, "hmac-sha256/hex body=signature over=data secret=%lld",
				 k->id);
			v->reason[0] = '\0';
			o = check_members(c, &env, v);
			break;
		}
	}
	json_free(root);
	return o;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	struct json *root = NULL, *data = NULL;
	struct ikas_envelope env;
	const char *why;
	struct buf data_why;
	enum outcome o = ikas_parse_envelope(c->req->body.data, c->req->body.len, &root, &env, &why);

	(void)state;
	if (o != OUTCOME_OK) {
		(void)!buf_append_str(reason, why);
		return o;
	}
	/* the signed document itself, as the SDK's getParsedIkasWebhookData reads it: JSON that readers
	 * could read two ways is refused; data that is not JSON at all is kept, as an odd envelope is */
	buf_init(&data_why, KANCA_REASON_MAX);
	o = common_parse_if_json(env.data, env.data_len, &data, &data_why);
	json_free(data);
	if (o != OUTCOME_OK) {
		(void)!buf_printf(reason, "data: %s", buf_str(&data_why));
		buf_free(&data_why);
		json_free(root);
		return o;
	}
	buf_free(&data_why);
	/* an authentic delivery is kept even when its envelope is odd: ikas gives up after 3 tries */
	o = common_key_or_body_hash(c, root, "id", evs[0].key);
	if (env.scope && common_copy_text(evs[0].type, sizeof evs[0].type, env.scope, env.scope_len) < 0)
		evs[0].type[0] = '\0';
	json_free(root);
	*nevs = 1;
	return o;
}

/* Success as the default answer (200); rejections in the SDK middleware's shape. */
static void answer(const struct provider_call *c, enum outcome o, const struct provider_event *ev, const char *message,
		   struct response *res)
{
	const char *text;

	if (o == OUTCOME_OK || o == OUTCOME_DUPLICATE) {
		common_answer(c, o, ev, message, res);
		return;
	}
	text = o == OUTCOME_UNAUTHORIZED ? "invalid signature" : message && *message ? message : outcome_phrase(o);
	response_set(res, o);
	if (buf_append_str(&res->body, "{\"message\":") < 0 ||
	    buf_append_json_string(&res->body, text, strlen(text)) < 0 ||
	    buf_printf(&res->body, ",\"statusCode\":%d}", outcome_status(o)) < 0)
		buf_reset(&res->body);
}

/* As ikas sends: the envelope {id, createdAt, scope, merchantId, authorizedAppId, data, signature} with
 * the payload as the string data and its hex HMAC-SHA256 as signature; merchantId and authorizedAppId
 * are the source's options when set. */
static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	char sig[VERIFY_HEX_LEN + 1], when[32], opt[KANCA_OPTION_ID_MAX + 1];
	const void *parts[1] = {in->payload};
	size_t lens[1] = {in->payload_len};
	const char *opts[2] = {"merchant_id", "authorized_app_id"}, *members[2] = {"merchantId", "authorizedAppId"};
	int rc = -1;

	if (verify_hmac_text(VERIFY_HEX, in->secret, in->secret_len, parts, lens, 1, sig) < 0)
		return buf_fail(err, "%s", "cannot compute HMAC-SHA256 with this secret");
	clock_format(in->now, when, sizeof when);
	if (buf_append_str(body, "{\"id\":") < 0 || buf_append_json_string(body, in->id, strlen(in->id)) < 0 ||
	    buf_printf(body, ",\"createdAt\":\"%s\",\"scope\":\"kanca/doctor\"", when) < 0)
		goto full;
	for (size_t i = 0; i < 2; i++) {
		if (options_get(in->options, opts[i], opt, sizeof opt) != 1 || !opt[0])
			continue;
		if (buf_printf(body, ",\"%s\":", members[i]) < 0 || buf_append_json_string(body, opt, strlen(opt)) < 0)
			goto full;
	}
	if (buf_append_str(body, ",\"data\":") < 0 || buf_append_json_string(body, in->payload, in->payload_len) < 0 ||
	    buf_printf(body, ",\"signature\":\"%s\"}", sig) < 0)
		goto full;
	rc = common_sign_line(headers, "Content-Type", "application/json", 16, err);
	goto out;
full:
	(void)buf_fail(err, "%s", "the envelope does not fit");
out:
	wipe_bytes(sig, sizeof sig);
	return rc;
}

static int check_value(void *arg, const char *key, const char *value)
{
	char copy[KANCA_OPTION_ID_MAX + 1];

	if (common_copy_text(copy, sizeof copy, value, strlen(value)) < 0)
		return buf_fail(arg, "%s must be 1 to %d printable bytes", key, KANCA_OPTION_ID_MAX);
	return 0;
}

static int check_options(const char *options, struct buf *err)
{
	static const char *const known[] = {"merchant_id", "authorized_app_id", NULL};
	if (common_check_keys(options, known, err) < 0)
		return -1;
	return options_each(options, check_value, err) ? -1 : 0;
}

const struct provider provider_ikas = {
    .name = "ikas",
    .summary = "ikas app webhooks: hex HMAC-SHA256 of the decoded \"data\" string (client secret); "
	       "options merchant_id, authorized_app_id",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = check_options,
    .verify = verify,
    .identify = identify,
    .answer = answer,
    .sign = sign,
};
