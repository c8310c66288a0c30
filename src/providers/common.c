/* common.c: signature checking and answers shared by providers. */
#include "first.h"
#include "wipe.h"
#include "providers/common.h"
#include "json.h"
#include "request.h"
#include "response.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

enum outcome common_verify_hmac_header(const struct provider_call *c, const char *header, const char *prefix,
				       enum verify_encoding enc, const void *const *parts, const size_t *lens,
				       size_t nparts, struct verdict *v)
{
	size_t hlen, plen = strlen(prefix);
	const char *h = request_header(c->req, header, &hlen);
	char expected[VERIFY_HEX_LEN + 1];

	if (!h || hlen == 0) {
		snprintf(v->reason, sizeof v->reason, "missing %s header", header);
		return OUTCOME_UNAUTHORIZED;
	}
	if (hlen < plen || memcmp(h, prefix, plen) != 0) {
		snprintf(v->reason, sizeof v->reason, "%s header is not of the form %s<signature>", header, prefix);
		return OUTCOME_UNAUTHORIZED;
	}
	for (size_t i = 0; i < c->source->nsecrets; i++) {
		const struct store_secret *k = &c->source->secrets[i];
		int ok;

		if (verify_hmac_text(enc, k->value, k->len, parts, lens, nparts, expected) < 0)
			continue;
		ok = verify_equal(h + plen, hlen - plen, expected, strlen(expected));
		wipe_bytes(expected, sizeof expected);
		if (ok) {
			v->secret_id = k->id;
			snprintf(v->detail, sizeof v->detail, "hmac-sha256/%s header=%s secret=%lld",
				 enc == VERIFY_HEX ? "hex" : "base64", header, k->id);
			return OUTCOME_OK;
		}
	}
	snprintf(v->reason, sizeof v->reason, "invalid signature in %s", header);
	return OUTCOME_UNAUTHORIZED;
}

int common_copy_text(char *out, size_t cap, const char *s, size_t n)
{
	if (!s || n == 0 || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

enum outcome common_key_or_body_hash(const struct provider_call *c, const struct json *obj, const char *field,
				     char key[KANCA_KEY_MAX + 1])
{
	size_t n = 0;
	const char *s = field ? json_get_string(obj, field, &n) : NULL;
	unsigned char d[VERIFY_SHA256_LEN];

	if (s && common_copy_text(key, KANCA_KEY_MAX + 1, s, n) == 0)
		return OUTCOME_OK;
	if (verify_sha256(c->req->body.data ? c->req->body.data : "", c->req->body.len, d) < 0)
		return OUTCOME_INTERNAL;
	verify_hex_encode(d, sizeof d, key);
	return OUTCOME_OK;
}

enum outcome common_parse_body(const struct provider_call *c, struct json **root, struct buf *reason)
{
	char why[KANCA_REASON_MAX + 1];
	enum json_error e =
	    json_parse_why(buf_str(&c->req->body), c->req->body.len, KANCA_JSON_DEPTH, root, why, sizeof why);

	if (e == JSON_OK)
		return OUTCOME_OK;
	(void)!buf_append_str(reason, why);
	return e == JSON_ERR_MEMORY ? OUTCOME_INTERNAL : OUTCOME_BAD_REQUEST;
}

enum outcome common_parse_if_json(const char *s, size_t n, struct json **root, struct buf *reason)
{
	char why[KANCA_REASON_MAX + 1];
	enum json_error e = json_parse_why(s ? s : "", n, KANCA_JSON_DEPTH, root, why, sizeof why);

	switch (e) {
	case JSON_OK:
		return OUTCOME_OK;
	case JSON_ERR_DUPLICATE:
	case JSON_ERR_NUL:
		(void)!buf_append_str(reason, why);
		return OUTCOME_BAD_REQUEST;
	case JSON_ERR_MEMORY:
		(void)!buf_append_str(reason, "out of memory parsing the body");
		return OUTCOME_INTERNAL;
	default:
		*root = NULL;
		return OUTCOME_OK;
	}
}

void common_answer(const struct provider_call *c, enum outcome o, const struct provider_event *ev, const char *message,
		   struct response *res)
{
	(void)c;
	if (o != OUTCOME_OK && o != OUTCOME_DUPLICATE) {
		response_error(res, o, message && *message ? message : outcome_phrase(o));
		return;
	}
	response_set(res, o);
	if (buf_append_str(&res->body, "{\"success\":true") < 0 ||
	    (ev && ev->type[0] &&
	     (buf_append_str(&res->body, ",\"event\":") < 0 ||
	      buf_append_json_string(&res->body, ev->type, strlen(ev->type)) < 0)) ||
	    buf_append_str(&res->body, "}") < 0)
		buf_reset(&res->body);
}

/* process_policy_load's keys (the retry policy, and ordered processing) */
static const char *const retry_keys[] = {"retry_attempts", "retry_initial", "retry_factor",
					 "retry_max",	   "ordered",	    NULL};

struct keys_ctx {
	const char *const *allowed;
	struct buf *err;
};

static int check_key(void *arg, const char *key, const char *value)
{
	struct keys_ctx *k = arg;

	(void)value;
	/* the processor's retry policy is a per-source option of every provider (process/process.h) */
	for (size_t i = 0; retry_keys[i]; i++)
		if (strcmp(retry_keys[i], key) == 0)
			return 0;
	for (size_t i = 0; k->allowed[i]; i++)
		if (strcmp(k->allowed[i], key) == 0)
			return 0;
	(void)!buf_printf(k->err, "unknown option \"%s\" (known:", key);
	for (size_t i = 0; k->allowed[i]; i++)
		(void)!buf_printf(k->err, " %s", k->allowed[i]);
	(void)!buf_append_str(k->err, k->allowed[0] ? "; and" : " none; only");
	for (size_t i = 0; retry_keys[i]; i++)
		(void)!buf_printf(k->err, " %s", retry_keys[i]);
	(void)!buf_append_str(k->err, ")");
	return -1;
}

int common_check_keys(const char *options, const char *const *allowed, struct buf *err)
{
	struct keys_ctx k = {allowed, err};

	return options_each(options, check_key, &k) ? -1 : 0;
}

int common_sign_line(struct buf *headers, const char *name, const char *value, size_t n, struct buf *err)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return buf_fail(err, "the %s header value would hold a control character", name);
	if (buf_printf(headers, "%s: ", name) < 0 || buf_append(headers, value, n) < 0 ||
	    buf_append(headers, "\n", 1) < 0)
		return buf_fail(err, "the %s header does not fit", name);
	return 0;
}

int common_sign_body_hmac(const struct provider_sign_in *in, const char *header, const char *prefix,
			  enum verify_encoding enc, struct buf *body, struct buf *headers, struct buf *err)
{
	char sig[VERIFY_HEX_LEN + 1];
	const void *parts[1];
	size_t lens[1];
	struct buf value;
	int rc = -1;

	buf_init(&value, KANCA_OPTION_MAX + sizeof sig);
	if (buf_append(body, in->payload, in->payload_len) < 0)
		return buf_fail(err, "%s", "the payload does not fit");
	parts[0] = buf_str(body);
	lens[0] = body->len;
	if (verify_hmac_text(enc, in->secret, in->secret_len, parts, lens, 1, sig) < 0) {
		(void)buf_fail(err, "%s", "cannot compute HMAC-SHA256 with this secret");
		goto out;
	}
	if (buf_append_str(&value, prefix) < 0 || buf_append_str(&value, sig) < 0) {
		(void)buf_fail(err, "%s", "the signature prefix is too long");
		goto out;
	}
	if (common_sign_line(headers, "Content-Type", "application/json", 16, err) < 0 ||
	    common_sign_line(headers, header, value.data, value.len, err) < 0)
		goto out;
	rc = 0;
out:
	wipe_bytes(sig, sizeof sig);
	if (value.data)
		wipe_bytes(value.data, value.len);
	buf_free(&value);
	return rc;
}

int common_check_no_options(const char *options, struct buf *err)
{
	static const char *const none[] = {NULL};

	return common_check_keys(options, none, err);
}

int common_parse_js_int(const char *s, size_t n, long long *out)
{
	size_t i = 0;
	long long v = 0;
	int neg = 0, digits = 0;

	while (i < n && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
		i++;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		digits = 1;
		if (v <= (COMMON_JS_INT_MAX - (s[i] - '0')) / 10)
			v = v * 10 + (s[i] - '0');
		else
			v = COMMON_JS_INT_MAX; /* saturate: keep consuming digits */
	}
	if (!digits)
		return 0;
	*out = neg ? -v : v;
	return 1;
}
