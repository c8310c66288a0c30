/* hmac.c: the generic provider for any sender that signs the raw body with HMAC-SHA256.
 * Per source: header, encoding (hex|base64), prefix, and where the event type and the
 * idempotency key are (header:NAME or json:FIELD; the key defaults to the body's SHA-256). */
#include "first.h"
#include "providers/common.h"
#include "json.h"
#include "options.h"
#include "request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 128

static void lower_header(const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < cap; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	char header[NAME_MAX_LEN + 1], hl[NAME_MAX_LEN + 1], enc[16] = "hex", prefix[KANCA_OPTION_MAX + 1] = "";
	const void *parts[1] = {c->req->body.data ? c->req->body.data : ""};
	size_t lens[1] = {c->req->body.len};

	if (options_get(c->source->options, "header", header, sizeof header) != 1 || !header[0]) {
		snprintf(v->reason, sizeof v->reason, "source has no signature header configured");
		return OUTCOME_INTERNAL;
	}
	(void)options_get(c->source->options, "encoding", enc, sizeof enc);
	(void)options_get(c->source->options, "prefix", prefix, sizeof prefix);
	lower_header(header, hl, sizeof hl);
	return common_verify_hmac_header(c, hl, prefix, strcmp(enc, "base64") == 0 ? VERIFY_BASE64 : VERIFY_HEX, parts,
					 lens, 1, v);
}

static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	char header[NAME_MAX_LEN + 1], enc[16] = "hex", prefix[KANCA_OPTION_MAX + 1] = "";

	if (options_get(in->options, "header", header, sizeof header) != 1 || !header[0])
		return buf_fail(err, "%s", "source has no signature header configured");
	(void)options_get(in->options, "encoding", enc, sizeof enc);
	(void)options_get(in->options, "prefix", prefix, sizeof prefix);
	return common_sign_body_hmac(in, header, prefix, strcmp(enc, "base64") == 0 ? VERIFY_BASE64 : VERIFY_HEX, body,
				     headers, err);
}

/* Resolves "header:NAME" or "json:FIELD" into out. 1 found, 0 not configured or absent. */
static int locate(const struct provider_call *c, const char *opt, const struct json *root, char *out, size_t cap)
{
	char spec[KANCA_OPTION_MAX + 1], hl[NAME_MAX_LEN + 1];
	const char *s = NULL;
	size_t n = 0;

	if (options_get(c->source->options, opt, spec, sizeof spec) != 1 || !spec[0])
		return 0;
	if (strncmp(spec, "header:", 7) == 0) {
		lower_header(spec + 7, hl, sizeof hl);
		s = request_header(c->req, hl, &n);
	} else if (strncmp(spec, "json:", 5) == 0) {
		s = json_get_string(root, spec + 5, &n);
	}
	return s && common_copy_text(out, cap, s, n) == 0;
}

static int wants_json(const char *options)
{
	char spec[KANCA_OPTION_MAX + 1];

	return (options_get(options, "event_type", spec, sizeof spec) == 1 && strncmp(spec, "json:", 5) == 0) ||
	       (options_get(options, "idempotency_key", spec, sizeof spec) == 1 && strncmp(spec, "json:", 5) == 0);
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	struct json *root = NULL;
	enum outcome o;

	(void)state;
	if (wants_json(c->source->options)) {
		o = common_parse_body(c, &root, reason);
		if (o != OUTCOME_OK)
			return o;
	}
	(void)locate(c, "event_type", root, evs[0].type, sizeof evs[0].type);
	o = OUTCOME_OK;
	if (!locate(c, "idempotency_key", root, evs[0].key, sizeof evs[0].key))
		o = common_key_or_body_hash(c, NULL, NULL, evs[0].key);
	json_free(root);
	*nevs = 1;
	return o;
}

static int check_spec(const char *options, const char *key, struct buf *err)
{
	char v[KANCA_OPTION_MAX + 1];

	if (options_get(options, key, v, sizeof v) != 1)
		return 0;
	if ((strncmp(v, "header:", 7) == 0 && v[7]) || (strncmp(v, "json:", 5) == 0 && v[5]))
		return 0;
	(void)!buf_printf(err, "%s must be header:NAME or json:FIELD", key);
	return -1;
}

static int check_options(const char *options, struct buf *err)
{
	static const char *const known[] = {"header", "encoding", "prefix", "event_type", "idempotency_key", NULL};
	char v[KANCA_OPTION_MAX + 1];

	if (common_check_keys(options, known, err) < 0)
		return -1;
	if (options_get(options, "header", v, sizeof v) != 1 || !v[0] || strlen(v) > NAME_MAX_LEN)
		return buf_fail(err, "%s", "header=NAME is required (the header carrying the signature)");
	if (options_get(options, "encoding", v, sizeof v) == 1 && strcmp(v, "hex") != 0 && strcmp(v, "base64") != 0)
		return buf_fail(err, "%s", "encoding must be hex or base64");
	return check_spec(options, "event_type", err) < 0 || check_spec(options, "idempotency_key", err) < 0 ? -1 : 0;
}

const struct provider provider_hmac = {
    .name = "hmac",
    .summary = "any sender that signs the raw body with HMAC-SHA256 (header, hex/base64, prefix per source)",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = check_options,
    .verify = verify,
    .identify = identify,
    .sign = sign,
};
