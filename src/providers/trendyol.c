/* trendyol.c: Trendyol order-package webhooks (doc/providers.md, trendyol). Trendyol signs nothing: a
 * delivery carries the credential registered with createWebhook, per source option auth_mode:
 *   api_key    (default) header x-api-key equals one of the source's secrets;
 *   basic_auth Authorization: Basic base64(username:password), username = option username,
 *              password = one of the secrets;
 *   seed_hmac  the scheme of the integration guide kanca was specified from (doc/providers.md,
 *              trendyol): X-Trendyol-Signature = base64 HMAC-SHA256(secret, raw body), and X-Event-Id
 *              is the idempotency key.
 * The body is a shipment-package page; each element of content is one event, typed by its status. In
 * seed_hmac mode the body may instead be the guide's own event {"eventType", "eventId", "timestamp",
 * "sellerId", "data"}: one event, typed by eventType, keyed by X-Event-Id, else eventId. Where that
 * mode's id is absent, the key is the SHA-256 of the raw body, and a warning says so.
 * Route alias "ty": Trendyol refuses endpoint URLs containing "trendyol". */
#include "first.h"
#include "caps.h"
#include "wipe.h"
#include "providers/trendyol.h"
#include "providers/common.h"
#include "json.h"
#include "log.h"
#include "options.h"
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* decoded credentials of the longest header value kanca accepts */
#define BASIC_DECODED_MAX (KANCA_HEADER_VALUE_MAX / 4 * 3 + 3)

enum auth_mode { MODE_API_KEY = 0, MODE_BASIC_AUTH, MODE_SEED_HMAC, MODE_UNKNOWN };

static enum auth_mode auth_mode_of(const char *options)
{
	char m[KANCA_OPTION_WORD_MAX + 1];
	int rc = options_get(options, "auth_mode", m, sizeof m);

	if (rc == 0 || (rc == 1 && (!m[0] || strcmp(m, "api_key") == 0)))
		return MODE_API_KEY;
	if (rc == 1 && strcmp(m, "basic_auth") == 0)
		return MODE_BASIC_AUTH;
	if (rc == 1 && strcmp(m, "seed_hmac") == 0)
		return MODE_SEED_HMAC;
	return MODE_UNKNOWN;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Appends the reason and gives 400. */
static enum outcome bad(struct buf *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum outcome bad(struct buf *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)!buf_vprintf(reason, fmt, ap);
	va_end(ap);
	return OUTCOME_BAD_REQUEST;
}

static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int trendyol_basic_parse(const char *value, size_t n, char *out, size_t cap, struct trendyol_basic *cred,
			 const char **why)
{
	size_t i = 0, end = n;
	const char *colon;
	long len;

	memset(cred, 0, sizeof *cred);
	if (!value)
		n = end = 0;
	while (i < end && is_space(value[i]))
		i++;
	while (end > i && is_space(value[end - 1]))
		end--;
	if (end - i < 5 || strncasecmp(value + i, "basic", 5) != 0 || (end - i > 5 && !is_space(value[i + 5]))) {
		*why = "Authorization is not Basic credentials";
		return -1;
	}
	i += 5;
	while (i < end && is_space(value[i]))
		i++;
	if (i == end) {
		*why = "Basic credentials are empty";
		return -1;
	}
	len = verify_base64_decode(value + i, end - i, 0, (unsigned char *)out, cap);
	if (len < 0) {
		*why = "Basic credentials are not valid base64";
		return -1;
	}
	if (!printable(out, (size_t)len)) {
		*why = "Basic credentials hold a control character";
		return -1;
	}
	colon = memchr(out, ':', (size_t)len);
	if (!colon) {
		*why = "Basic credentials have no colon";
		return -1;
	}
	cred->user = out;
	cred->user_len = (size_t)(colon - out);
	cred->pass = colon + 1;
	cred->pass_len = (size_t)len - cred->user_len - 1;
	if (cred->user_len == 0 || cred->pass_len == 0) {
		*why = cred->user_len == 0 ? "Basic credentials have an empty user"
					   : "Basic credentials have an empty password";
		memset(cred, 0, sizeof *cred);
		return -1;
	}
	*why = "";
	return 0;
}

static enum outcome verify_api_key(const struct provider_call *c, struct verdict *v)
{
	size_t n;
	const char *key = request_header(c->req, "x-api-key", &n);

	if (!key || n == 0) {
		snprintf(v->reason, sizeof v->reason, "missing x-api-key header");
		return OUTCOME_UNAUTHORIZED;
	}
	for (size_t i = 0; i < c->source->nsecrets; i++) {
		const struct store_secret *k = &c->source->secrets[i];

		if (verify_equal(key, n, k->value, k->len)) {
			v->secret_id = k->id;
			snprintf(v->detail, sizeof v->detail, "api-key header=x-api-key secret=%lld", k->id);
			return OUTCOME_OK;
		}
	}
	snprintf(v->reason, sizeof v->reason, "x-api-key does not match");
	return OUTCOME_UNAUTHORIZED;
}

static enum outcome verify_basic(const struct provider_call *c, struct verdict *v)
{
	char user[KANCA_OPTION_ID_MAX + 1], decoded[BASIC_DECODED_MAX];
	struct trendyol_basic cred;
	const char *why;
	size_t n;
	const char *h = request_header(c->req, "authorization", &n);
	enum outcome o = OUTCOME_UNAUTHORIZED;
	int user_ok;

	if (options_get(c->source->options, "username", user, sizeof user) != 1 || !user[0]) {
		snprintf(v->reason, sizeof v->reason, "source has auth_mode=basic_auth but no username");
		return OUTCOME_INTERNAL;
	}
	if (!h || n == 0) {
		snprintf(v->reason, sizeof v->reason, "missing Authorization header");
		return OUTCOME_UNAUTHORIZED;
	}
	if (trendyol_basic_parse(h, n, decoded, sizeof decoded, &cred, &why) < 0) {
		snprintf(v->reason, sizeof v->reason, "%s", why);
		goto out;
	}
	/* user and password are both compared, whatever the first comparison gave */
	user_ok = verify_equal(cred.user, cred.user_len, user, strlen(user));
	snprintf(v->reason, sizeof v->reason, "Basic credentials do not match");
	for (size_t i = 0; i < c->source->nsecrets; i++) {
		const struct store_secret *k = &c->source->secrets[i];

		if (verify_equal(cred.pass, cred.pass_len, k->value, k->len) && user_ok) {
			v->secret_id = k->id;
			v->reason[0] = '\0';
			snprintf(v->detail, sizeof v->detail, "basic-auth header=authorization secret=%lld", k->id);
			o = OUTCOME_OK;
			break;
		}
	}
out:
	wipe_bytes(decoded, sizeof decoded);
	return o;
}

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	const void *parts[1] = {c->req->body.data ? c->req->body.data : ""};
	size_t lens[1] = {c->req->body.len};

	switch (auth_mode_of(c->source->options)) {
	case MODE_API_KEY:
		return verify_api_key(c, v);
	case MODE_BASIC_AUTH:
		return verify_basic(c, v);
	case MODE_SEED_HMAC:
		return common_verify_hmac_header(c, "x-trendyol-signature", "", VERIFY_BASE64, parts, lens, 1, v);
	default:
		snprintf(v->reason, sizeof v->reason, "source has an unknown auth_mode");
		return OUTCOME_INTERNAL;
	}
}

/* As Trendyol sends: the credential registered with createWebhook (the secret itself, so the header
 * lines hold it), or the integration guide's signature with X-Event-Id. */
static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	char user[KANCA_OPTION_ID_MAX + 1], plain[KANCA_OPTION_ID_MAX + 1 + KANCA_SECRET_MAX + 1];
	char b64[(sizeof plain + 2) / 3 * 4 + 1], value[sizeof b64 + 8];
	size_t n;
	int rc = -1;

	switch (auth_mode_of(in->options)) {
	case MODE_SEED_HMAC:
		if (common_sign_body_hmac(in, "X-Trendyol-Signature", "", VERIFY_BASE64, body, headers, err) < 0 ||
		    common_sign_line(headers, "X-Event-Id", in->id, strlen(in->id), err) < 0)
			return -1;
		return 0;
	case MODE_API_KEY:
		if (buf_append(body, in->payload, in->payload_len) < 0)
			return buf_fail(err, "%s", "the payload does not fit");
		return common_sign_line(headers, "Content-Type", "application/json", 16, err) < 0 ||
			       common_sign_line(headers, "x-api-key", in->secret, in->secret_len, err) < 0
			   ? -1
			   : 0;
	case MODE_BASIC_AUTH:
		break;
	default:
		return buf_fail(err, "%s", "source has an unknown auth_mode");
	}
	if (options_get(in->options, "username", user, sizeof user) != 1 || !user[0])
		return buf_fail(err, "%s", "source has auth_mode=basic_auth but no username");
	n = strlen(user);
	if (in->secret_len > KANCA_SECRET_MAX)
		return buf_fail(err, "%s", "the secret is too long");
	memcpy(plain, user, n);
	plain[n] = ':';
	memcpy(plain + n + 1, in->secret, in->secret_len);
	n += 1 + in->secret_len;
	verify_base64_encode((const unsigned char *)plain, n, b64);
	snprintf(value, sizeof value, "Basic %s", b64);
	if (buf_append(body, in->payload, in->payload_len) < 0)
		(void)buf_fail(err, "%s", "the payload does not fit");
	else if (common_sign_line(headers, "Content-Type", "application/json", 16, err) == 0 &&
		 common_sign_line(headers, "Authorization", value, strlen(value), err) == 0)
		rc = 0;
	wipe_bytes(plain, sizeof plain);
	wipe_bytes(b64, sizeof b64);
	wipe_bytes(value, sizeof value);
	return rc;
}

/* The text of an integer member, or NULL. */
static const char *integer_text(const struct json *j)
{
	return json_kind_of(j) == JSON_NUMBER && json_is_integer(j) ? json_number_text(j) : NULL;
}

static enum outcome element_event(const struct json *el, size_t i, size_t count, enum trendyol_key_mode mode,
				  const char *event_id, size_t event_id_len, struct provider_event *ev,
				  struct buf *reason)
{
	const struct json *id = json_get(el, "shipmentPackageId");
	const char *id_text = NULL, *status, *modified;
	size_t id_len = 0, status_len = 0;
	int n;

	if (json_kind_of(el) != JSON_OBJECT)
		return bad(reason, "content[%zu] is not an object", i);
	if (json_kind_of(id) == JSON_STRING)
		id_text = json_string(id, &id_len);
	else if ((id_text = integer_text(id)) != NULL)
		id_len = strlen(id_text);
	if (!id_text || id_len == 0 || memchr(id_text, ':', id_len))
		return bad(reason, "content[%zu].shipmentPackageId is missing or not an integer", i);
	status = json_get_string(el, "status", &status_len);
	if (!status || common_copy_text(ev->type, sizeof ev->type, status, status_len) < 0)
		return bad(reason, "content[%zu].status is missing or not a short string", i);
	modified = integer_text(json_get(el, "lastModifiedDate"));
	if (!modified)
		return bad(reason, "content[%zu].lastModifiedDate is missing or not an integer", i);
	if (mode == TRENDYOL_KEY_EVENT_ID) {
		if (count == 1)
			n = snprintf(ev->key, sizeof ev->key, "%.*s", (int)event_id_len, event_id);
		else
			n = snprintf(ev->key, sizeof ev->key, "%.*s:%zu", (int)event_id_len, event_id, i);
	} else {
		n = snprintf(ev->key, sizeof ev->key, "%.*s:%s:%s", (int)id_len, id_text, ev->type, modified);
	}
	if (n <= 0 || (size_t)n >= sizeof ev->key || !printable(ev->key, (size_t)n))
		return bad(reason, "content[%zu]: the idempotency key is too long or not printable", i);
	return OUTCOME_OK;
}

enum outcome trendyol_page_events(const struct json *page, enum trendyol_key_mode mode, const char *event_id,
				  size_t event_id_len, struct provider_event *evs, size_t *nevs, struct buf *reason)
{
	const struct json *content = json_get(page, "content");
	size_t count = json_array_len(content);

	*nevs = 0;
	if (json_kind_of(page) != JSON_OBJECT)
		return bad(reason, "body is not a JSON object");
	if (json_kind_of(content) != JSON_ARRAY)
		return bad(reason, "content is missing or not an array");
	if (count == 0)
		return bad(reason, "content is empty");
	if (count > KANCA_EVENTS_MAX)
		return bad(reason, "content has %zu packages; at most %d are accepted per request", count,
			   KANCA_EVENTS_MAX);
	if (mode == TRENDYOL_KEY_EVENT_ID && (!event_id || event_id_len == 0))
		return bad(reason, "missing X-Event-Id header");
	for (size_t i = 0; i < count; i++) {
		enum outcome o =
		    element_event(json_array_at(content, i), i, count, mode, event_id, event_id_len, &evs[i], reason);
		if (o != OUTCOME_OK)
			return o;
	}
	*nevs = count;
	return OUTCOME_OK;
}

/* A usable id of n bytes: non-empty, without control characters, and room for suffix more bytes. */
static int usable_id(const char *s, size_t n, size_t suffix)
{
	return s && n > 0 && n + suffix <= KANCA_KEY_MAX && printable(s, n);
}

/* Bytes of ":<index>" for the last of count packages (0 for one package). */
static size_t index_suffix(size_t count)
{
	char tmp[32];

	return count > 1 ? (size_t)snprintf(tmp, sizeof tmp, ":%zu", count - 1) : 0;
}

/* The key of a seed_hmac delivery whose id is absent: the SHA-256 of the raw body, with a warning. */
static enum outcome body_hash_key(const struct provider_call *c, const char *why, char key[KANCA_KEY_MAX + 1])
{
	enum outcome o = common_key_or_body_hash(c, NULL, NULL, key);

	if (o == OUTCOME_OK)
		log_warn("authentic Trendyol delivery %s: idempotency key is the body's SHA-256 %s", why, key);
	return o;
}

/* The seed's own event (doc/providers.md, trendyol): one event, type eventType, key X-Event-Id, else
 * the body's eventId (a string or an integer), else the body's SHA-256. */
static enum outcome seed_event(const struct provider_call *c, const struct json *root, const char *hid, size_t hid_len,
			       struct provider_event *ev, struct buf *reason)
{
	const struct json *eid = json_get(root, "eventId");
	const char *type, *id = NULL, *why;
	size_t type_len = 0, id_len = 0;

	type = json_get_string(root, "eventType", &type_len);
	if (!type || common_copy_text(ev->type, sizeof ev->type, type, type_len) < 0)
		return bad(reason, "eventType is not a short string");
	if (usable_id(hid, hid_len, 0)) {
		id = hid;
		id_len = hid_len;
	} else if (json_kind_of(eid) == JSON_STRING) {
		id = json_string(eid, &id_len);
	} else if ((id = integer_text(eid)) != NULL) {
		id_len = strlen(id);
	}
	if (usable_id(id, id_len, 0))
		return common_copy_text(ev->key, sizeof ev->key, id, id_len) == 0 ? OUTCOME_OK : OUTCOME_INTERNAL;
	why = hid ? "with an unusable X-Event-Id and no usable eventId" : "without X-Event-Id or a usable eventId";
	return body_hash_key(c, why, ev->key);
}

/* seed_hmac mode: a package page (keyed by X-Event-Id, else the body's SHA-256, ":<index>" added when it
 * holds several packages), or the seed's own event. */
static enum outcome seed_events(const struct provider_call *c, const struct json *root, struct provider_event *evs,
				size_t *nevs, struct buf *reason)
{
	char hash[KANCA_KEY_MAX + 1];
	size_t hid_len = 0;
	const char *hid = request_header(c->req, "x-event-id", &hid_len);
	const struct json *content = json_get(root, "content");
	enum outcome o;

	if (json_kind_of(root) != JSON_OBJECT)
		return bad(reason, "body is not a JSON object");
	if (content) {
		if (!usable_id(hid, hid_len, index_suffix(json_array_len(content)))) {
			o = body_hash_key(c, hid ? "with an unusable X-Event-Id" : "without X-Event-Id", hash);
			if (o != OUTCOME_OK)
				return o;
			hid = hash;
			hid_len = strlen(hash);
		}
		return trendyol_page_events(root, TRENDYOL_KEY_EVENT_ID, hid, hid_len, evs, nevs, reason);
	}
	if (!json_get(root, "eventType"))
		return bad(reason, "body has neither content (a package page) nor eventType (a seed event)");
	o = seed_event(c, root, hid, hid_len, &evs[0], reason);
	if (o == OUTCOME_OK)
		*nevs = 1;
	return o;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	struct json *root = NULL;
	enum outcome o;

	(void)state;
	*nevs = 0;
	o = common_parse_body(c, &root, reason);
	if (o != OUTCOME_OK)
		return o;
	if (auth_mode_of(c->source->options) == MODE_SEED_HMAC)
		o = seed_events(c, root, evs, nevs, reason);
	else
		o = trendyol_page_events(root, TRENDYOL_KEY_PACKAGE, NULL, 0, evs, nevs, reason);
	json_free(root);
	return o;
}

static int check_options(const char *options, struct buf *err)
{
	static const char *const known[] = {"auth_mode", "username", NULL};
	char user[KANCA_OPTION_ID_MAX + 1];
	enum auth_mode m;
	int rc;

	if (common_check_keys(options, known, err) < 0)
		return -1;
	m = auth_mode_of(options);
	if (m == MODE_UNKNOWN)
		return buf_fail(err, "%s", "auth_mode must be api_key, basic_auth or seed_hmac");
	rc = options_get(options, "username", user, sizeof user);
	if (rc < 0)
		return buf_fail(err, "username is longer than %d bytes", KANCA_OPTION_ID_MAX);
	if (m != MODE_BASIC_AUTH)
		return rc == 1 ? buf_fail(err, "%s", "username is only used with auth_mode=basic_auth") : 0;
	if (rc == 0 || common_copy_text(user, sizeof user, user, strlen(user)) < 0 || strchr(user, ':'))
		return buf_fail(err, "%s",
				"auth_mode=basic_auth needs username=NAME (printable, without ':'); "
				"the password is the source's secret");
	return 0;
}

static const char *const aliases[] = {"ty", NULL};

const struct provider provider_trendyol = {
    .name = "trendyol",
    .aliases = aliases,
    .summary = "Trendyol order packages (route alias ty): auth_mode=api_key (x-api-key), "
	       "basic_auth (username + password secret) or seed_hmac (X-Trendyol-Signature)",
    .needs_secret = 1,
    .no_secret = OUTCOME_INTERNAL,
    .check_options = check_options,
    .verify = verify,
    .identify = identify,
    .sign = sign,
};
