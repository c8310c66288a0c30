/* apple.c: Apple App Store Server Notifications V2 (doc/providers.md, apple). No shared secret: a
 * body {"signedPayload": JWS} signed ES256 by a leaf certificate whose x5c chain must lead to the
 * root configured for the source (option root_cert), mirroring @apple/app-store-server-library's
 * SignedDataVerifier with online checks off but dates checked at the receiver's clock. */
#include "first.h"
#include "caps.h"
#include "providers/apple.h"
#include "providers/common.h"
#include "json.h"
#include "log.h"
#include "options.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options -------------------------------------------------------------------------------- */

void apple_config_free(struct apple_config *cfg)
{
	if (!cfg)
		return;
	verify_cert_free(cfg->root);
	cfg->root = NULL;
}

int apple_config_load(const char *options, int need_root, struct apple_config *cfg, struct buf *err)
{
	char id[32], *b64;
	unsigned char *der = NULL;
	long dlen;
	int rc;

	memset(cfg, 0, sizeof *cfg);
	rc = options_get(options, "bundle_id", cfg->bundle_id, sizeof cfg->bundle_id);
	if (rc < 0)
		return buf_fail(err, "bundle_id is longer than %d bytes", KANCA_BUNDLE_ID_MAX);
	if (rc == 0 || !cfg->bundle_id[0])
		return buf_fail(err, "bundle_id is required (--set bundle_id=...)");
	rc = options_get(options, "environment", cfg->environment, sizeof cfg->environment);
	if (rc <= 0 || (strcmp(cfg->environment, "Sandbox") != 0 && strcmp(cfg->environment, "Production") != 0))
		return buf_fail(err, "environment must be Sandbox or Production (--set environment=...)");
	rc = options_get(options, "app_apple_id", id, sizeof id);
	if (rc < 0)
		return buf_fail(err, "app_apple_id must be a number");
	if (rc == 1) {
		size_t n = strlen(id);
		/* at most 15 digits: compared as a JavaScript number (a double) would be, exactly */
		if (n == 0 || n > 15 || strspn(id, "0123456789") != n)
			return buf_fail(err, "app_apple_id must be a number (1 to 15 digits)");
		for (size_t i = 0; i < n; i++)
			cfg->app_apple_id = cfg->app_apple_id * 10 + (id[i] - '0');
	}
	if (strcmp(cfg->environment, "Production") == 0 && cfg->app_apple_id == 0)
		return buf_fail(err, "app_apple_id is required in Production (--set app_apple_id=...)");
	b64 = malloc(KANCA_OPTION_MAX + 1);
	if (!b64)
		return buf_fail(err, "out of memory");
	rc = options_get(options, "root_cert", b64, KANCA_OPTION_MAX + 1);
	if (rc == 0) {
		free(b64);
		return need_root
			   ? buf_fail(err, "root_cert is not set (kancactl source add apple ACCOUNT --root-cert FILE)")
			   : 0;
	}
	dlen = rc < 0 ? -1 : apple_b64_decode(b64, strlen(b64), 0, &der);
	free(b64);
	cfg->root = dlen > 0 ? verify_cert_parse(der, (size_t)dlen) : NULL;
	free(der);
	if (!cfg->root)
		return buf_fail(err, "root_cert is not the standard base64 of a DER certificate");
	if (verify_cert_sha256(cfg->root, cfg->root_sha256) < 0) {
		apple_config_free(cfg);
		return buf_fail(err, "cannot hash root_cert");
	}
	return 0;
}

/* ---- the notification ----------------------------------------------------------------------- */

int apple_signed_payload(const struct json *body_root, const char **jws, size_t *n)
{
	*jws = json_get_string(body_root, "signedPayload", n);
	return json_kind_of(body_root) == JSON_OBJECT && *jws ? 0 : -1;
}

void apple_notification_free(struct apple_notification *note)
{
	if (!note)
		return;
	json_free(note->root);
	free(note->payload);
	free(note->transaction);
	free(note->renewal);
	memset(note, 0, sizeof *note);
}

/* The members the library's validators type-check (models/<Type>.js): present means of this kind. */
struct member_kind {
	const char *name;
	enum json_kind kind;
};

static const struct member_kind top_members[] = {
    {"notificationType", JSON_STRING}, {"subtype", JSON_STRING},
    {"notificationUUID", JSON_STRING}, {"version", JSON_STRING},
    {"signedDate", JSON_NUMBER},       {"data", JSON_OBJECT},
    {"summary", JSON_OBJECT},	       {"externalPurchaseToken", JSON_OBJECT},
    {"appData", JSON_OBJECT},	       {NULL, JSON_NULL},
};
static const struct member_kind app_members[] = {
    {"appAppleId", JSON_NUMBER},
    {"bundleId", JSON_STRING},
    {"environment", JSON_STRING},
    {"bundleVersion", JSON_STRING},
    {"signedTransactionInfo", JSON_STRING},
    {"signedRenewalInfo", JSON_STRING},
    {"status", JSON_NUMBER},
    {"consumptionRequestReason", JSON_STRING},
    {"externalPurchaseId", JSON_STRING},
    {"requestIdentifier", JSON_STRING},
    {"signedAppTransactionInfo", JSON_STRING},
    {NULL, JSON_NULL},
};
static const struct member_kind signed_members[] = {
    {"bundleId", JSON_STRING},
    {"environment", JSON_STRING},
    {"signedDate", JSON_NUMBER},
    {NULL, JSON_NULL},
};

static int kinds_ok(const struct json *obj, const struct member_kind *m)
{
	for (; m->name; m++) {
		const struct json *j = json_get(obj, m->name);
		if (j && json_kind_of(j) != m->kind)
			return 0;
	}
	return 1;
}

static int text_equals(const struct json *obj, const char *key, const char *want)
{
	size_t n;
	const char *s = json_get_string(obj, key, &n);

	return s && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* The part of the notification naming the app (the library's verifyAndDecodeNotification). */
static const struct json *app_part(const struct json *payload, int *external)
{
	static const char *const parts[] = {"data", "summary", "externalPurchaseToken", "appData"};

	*external = 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const struct json *j = json_get(payload, parts[i]);
		if (j) {
			*external = i == 2;
			return j;
		}
	}
	return NULL;
}

static enum apple_status check_claims(const struct apple_config *cfg, const struct json *payload)
{
	int external;
	const struct json *app = app_part(payload, &external);
	size_t n;
	const char *epid;
	double aid;

	if (!app || !text_equals(app, "bundleId", cfg->bundle_id))
		return APPLE_INVALID_APP_IDENTIFIER;
	/* a JavaScript number comparison (ids stay far below 2^53, so doubles are exact) */
	if (strcmp(cfg->environment, "Production") == 0 &&
	    (json_number(json_get(app, "appAppleId"), &aid) < 0 || aid != (double)cfg->app_apple_id))
		return APPLE_INVALID_APP_IDENTIFIER;
	if (external) {
		/* an external purchase token names its environment by its id's prefix */
		epid = json_get_string(app, "externalPurchaseId", &n);
		if (strcmp(cfg->environment,
			   epid && n >= 7 && memcmp(epid, "SANDBOX", 7) == 0 ? "Sandbox" : "Production"))
			return APPLE_INVALID_ENVIRONMENT;
		return APPLE_OK;
	}
	return text_equals(app, "environment", cfg->environment) ? APPLE_OK : APPLE_INVALID_ENVIRONMENT;
}

/* A nested JWS of data (signedTransactionInfo, signedRenewalInfo): verified like the notification;
 * the transaction's bundleId and environment, the renewal info's environment compared. */
static enum apple_status nested_verify(const struct apple_config *cfg, const struct json *data, const char *member,
				       int check_bundle, long long t, char **text, size_t *len)
{
	size_t n;
	const char *s = json_get_string(data, member, &n);
	struct json *pj = NULL;
	enum apple_status st;

	*text = NULL;
	*len = 0;
	if (!s)
		return APPLE_OK;
	st = apple_verify_jws(s, n, cfg->root, t, text, len, &pj);
	if (st == APPLE_OK && !kinds_ok(pj, signed_members))
		st = APPLE_MALFORMED;
	else if (st == APPLE_OK && check_bundle && !text_equals(pj, "bundleId", cfg->bundle_id))
		st = APPLE_INVALID_APP_IDENTIFIER;
	else if (st == APPLE_OK && !text_equals(pj, "environment", cfg->environment))
		st = APPLE_INVALID_ENVIRONMENT;
	json_free(pj);
	if (st != APPLE_OK) {
		free(*text);
		*text = NULL;
	}
	return st;
}

static int payload_kinds_ok(const struct json *payload)
{
	static const char *const parts[] = {"data", "summary", "externalPurchaseToken", "appData"};

	if (!kinds_ok(payload, top_members))
		return 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (!kinds_ok(json_get(payload, parts[i]), app_members))
			return 0;
	return 1;
}

enum apple_status apple_verify_notification(const struct apple_config *cfg, const char *jws, size_t n, long long t,
					    struct apple_notification *out, const char **nested)
{
	struct apple_notification note;
	const struct json *data;
	enum apple_status st;

	memset(&note, 0, sizeof note);
	if (nested)
		*nested = "signedPayload";
	st = apple_verify_jws(jws, n, cfg->root, t, &note.payload, &note.payload_len, &note.root);
	if (st == APPLE_OK && !payload_kinds_ok(note.root))
		st = APPLE_MALFORMED;
	if (st == APPLE_OK)
		st = check_claims(cfg, note.root);
	data = note.root ? json_get(note.root, "data") : NULL;
	if (st == APPLE_OK && data) {
		if (nested)
			*nested = "data.signedTransactionInfo";
		st = nested_verify(cfg, data, "signedTransactionInfo", 1, t, &note.transaction, &note.transaction_len);
	}
	if (st == APPLE_OK && data) {
		if (nested)
			*nested = "data.signedRenewalInfo";
		st = nested_verify(cfg, data, "signedRenewalInfo", 0, t, &note.renewal, &note.renewal_len);
	}
	if (st == APPLE_OK && out)
		*out = note;
	else
		apple_notification_free(&note);
	return st;
}

/* The payload segment of a JWS, decoded, when it is a JSON object. */
static enum apple_status decode_payload(const char *s, size_t n, char **text, size_t *len, struct json **root)
{
	struct apple_jws j;

	if (apple_jws_split(s, n, &j) < 0)
		return APPLE_MALFORMED;
	return apple_segment_json(j.seg[1], j.len[1], text, len, root);
}

enum apple_status apple_decode_notification(const char *jws, size_t n, struct apple_notification *out)
{
	const struct json *data;
	const char *s;
	size_t sn;
	struct json *tmp = NULL;
	enum apple_status st;

	memset(out, 0, sizeof *out);
	st = decode_payload(jws, n, &out->payload, &out->payload_len, &out->root);
	data = st == APPLE_OK ? json_get(out->root, "data") : NULL;
	if (st == APPLE_OK && (s = json_get_string(data, "signedTransactionInfo", &sn))) {
		st = decode_payload(s, sn, &out->transaction, &out->transaction_len, &tmp);
		json_free(tmp);
		tmp = NULL;
	}
	if (st == APPLE_OK && (s = json_get_string(data, "signedRenewalInfo", &sn))) {
		st = decode_payload(s, sn, &out->renewal, &out->renewal_len, &tmp);
		json_free(tmp);
	}
	if (st != APPLE_OK)
		apple_notification_free(out);
	return st;
}

int apple_event_type(const struct json *payload, char *type, size_t cap)
{
	size_t tn = 0, sn = 0;
	const char *t = json_get_string(payload, "notificationType", &tn);
	const char *s = json_get_string(payload, "subtype", &sn);
	char joined[KANCA_TYPE_MAX * 2 + 2];
	int n;

	if (!t || tn == 0 || tn > KANCA_TYPE_MAX || sn > KANCA_TYPE_MAX)
		return -1;
	n = s && sn ? snprintf(joined, sizeof joined, "%s/%s", t, s) : snprintf(joined, sizeof joined, "%s", t);
	if (n < 0 || (size_t)n >= sizeof joined || strlen(joined) != (size_t)n)
		return -1; /* an embedded NUL */
	return common_copy_text(type, cap, joined, (size_t)n);
}

/* ---- the provider ------------------------------------------------------------------------------ */

struct apple_state {
	struct buf decoded; /* {"notification":...,"transaction":...,"renewal":...} */
};

const char *apple_state_decoded(const void *state)
{
	const struct apple_state *st = state;

	return st ? buf_str(&st->decoded) : NULL;
}

static void state_free(void *p)
{
	struct apple_state *st = p;

	if (!st)
		return;
	buf_free(&st->decoded);
	free(st);
}

/* The body's signedPayload; OUTCOME_BAD_REQUEST (reason set) when the body has another shape. */
static enum outcome body_jws(const struct provider_call *c, struct json **root, const char **jws, size_t *n,
			     char *reason, size_t cap)
{
	char why[KANCA_REASON_MAX + 1];
	enum json_error e =
	    json_parse_why(buf_str(&c->req->body), c->req->body.len, KANCA_JSON_DEPTH, root, why, sizeof why);

	if (e == JSON_ERR_MEMORY)
		return OUTCOME_INTERNAL;
	if (e == JSON_ERR_DUPLICATE || e == JSON_ERR_NUL) {
		/* two signedPayload members: which one was verified is a reader's guess */
		snprintf(reason, cap, "%s", why);
		return OUTCOME_BAD_REQUEST;
	}
	if (e != JSON_OK || apple_signed_payload(*root, jws, n) < 0) {
		snprintf(reason, cap, "body is not {\"signedPayload\": string}");
		return OUTCOME_BAD_REQUEST;
	}
	return OUTCOME_OK;
}

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	struct apple_config cfg;
	struct json *root = NULL;
	struct buf err;
	const char *jws, *part = "signedPayload";
	char fp[VERIFY_HEX_LEN + 1];
	size_t n;
	enum apple_status st;
	enum outcome o;

	o = body_jws(c, &root, &jws, &n, v->reason, sizeof v->reason);
	if (o != OUTCOME_OK) {
		json_free(root);
		return o;
	}
	buf_init(&err, 256);
	if (apple_config_load(c->source->options, 1, &cfg, &err) < 0) {
		/* fail closed: a source Apple cannot be verified for refuses everything */
		log_error("source apple/%s is misconfigured, refusing: %s", c->source->account, buf_str(&err));
		snprintf(v->reason, sizeof v->reason, "source is not configured (root_cert, bundle_id, environment)");
		buf_free(&err);
		json_free(root);
		return OUTCOME_INTERNAL;
	}
	buf_free(&err);
	st = apple_verify_notification(&cfg, jws, n, c->now, NULL, &part);
	if (st == APPLE_OK) {
		verify_hex_encode(cfg.root_sha256, sizeof cfg.root_sha256, fp);
		snprintf(v->detail, sizeof v->detail, "es256 x5c root-sha256=%s", fp);
		o = OUTCOME_OK;
	} else {
		snprintf(v->reason, sizeof v->reason, "%s: %s", part, apple_status_text(st));
		o = st == APPLE_NO_MEMORY					? OUTCOME_INTERNAL
		    : st == APPLE_DUPLICATE_MEMBER || st == APPLE_NUL_IN_STRING ? OUTCOME_BAD_REQUEST
										: OUTCOME_UNAUTHORIZED;
	}
	apple_config_free(&cfg);
	json_free(root);
	return o;
}

static int append_text(struct buf *b, const char *name, const char *text, size_t len)
{
	return buf_printf(b, "%s\"%s\":", b->len ? "," : "{", name) < 0 ||
		       (text ? buf_append(b, text, len) : buf_append_str(b, "null")) < 0
		   ? -1
		   : 0;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	struct json *root = NULL;
	struct apple_notification note;
	struct apple_state *st = NULL;
	const char *jws;
	char why[KANCA_REASON_MAX + 1];
	size_t n;
	enum outcome o;

	memset(&note, 0, sizeof note);
	o = body_jws(c, &root, &jws, &n, why, sizeof why);
	if (o != OUTCOME_OK) {
		(void)!buf_append_str(reason, why);
		goto out;
	}
	/* verify() accepted these bytes: decoding them again gives what it checked */
	switch (apple_decode_notification(jws, n, &note)) {
	case APPLE_OK:
		break;
	case APPLE_NO_MEMORY:
		o = OUTCOME_INTERNAL;
		goto out;
	default:
		(void)!buf_append_str(reason, "signedPayload cannot be decoded");
		o = OUTCOME_BAD_REQUEST;
		goto out;
	}
	if (apple_event_type(note.root, evs[0].type, sizeof evs[0].type) < 0) {
		/* authentic but odd: keep it (Apple would only retry), without a type */
		log_warn("notification without a usable notificationType: stored without a type");
		evs[0].type[0] = '\0';
	}
	o = common_key_or_body_hash(c, note.root, "notificationUUID", evs[0].key);
	if (o != OUTCOME_OK)
		goto out;
	st = calloc(1, sizeof *st);
	if (!st) {
		o = OUTCOME_INTERNAL;
		goto out;
	}
	buf_init(&st->decoded, 3 * c->req->body.len + 256);
	if (append_text(&st->decoded, "notification", note.payload, note.payload_len) < 0 ||
	    append_text(&st->decoded, "transaction", note.transaction, note.transaction_len) < 0 ||
	    append_text(&st->decoded, "renewal", note.renewal, note.renewal_len) < 0 ||
	    buf_append_str(&st->decoded, "}") < 0) {
		state_free(st);
		o = OUTCOME_INTERNAL;
		goto out;
	}
	*state = st;
	evs[0].decoded = buf_str(&st->decoded);
	if (strcmp(evs[0].type, "TEST") == 0)
		snprintf(evs[0].status, sizeof evs[0].status, "test"); /* Apple's test ping */
	*nevs = 1;
out:
	apple_notification_free(&note);
	json_free(root);
	return o;
}

static int check_options(const char *options, struct buf *err)
{
	static const char *const allowed[] = {"bundle_id", "environment", "app_apple_id", "root_cert", NULL};
	struct apple_config cfg;

	/* the root is required here (kancactl source add apple ... --root-cert FILE): a source that could
	 * verify nothing is refused when it is configured, not at its first delivery */
	if (common_check_keys(options, allowed, err) < 0 || apple_config_load(options, 1, &cfg, err) < 0)
		return -1;
	apple_config_free(&cfg);
	return 0;
}

const struct provider provider_apple = {
    .name = "apple",
    .summary = "Apple App Store Server Notifications V2 (ES256 JWS, x5c chain to the source's root_cert)",
    .needs_secret = 0,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = check_options,
    .verify = verify,
    .identify = identify,
    .state_free = state_free,
};
