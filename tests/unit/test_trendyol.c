/* test_trendyol.c: the Basic credentials parser, the shipment-package page, the three auth modes
 * (api_key, basic_auth, seed_hmac) through requests built from a CGI environment, and every
 * trendyol vector of tests/vectors.json. */
#include "first.h"
#include "tap.h"
#include "harness.h"

#include "buf.h"
#include "caps.h"
#include "config.h"
#include "json.h"
#include "request.h"
#include "store/store.h"
#include "verify.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "providers/trendyol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- requests and sources ---------------------------------------------------------------- */

/* A source with up to two secrets (newest first): ids 21 and 9. */
static void make_source(struct store_source *s, const char *options, const char *secret, const char *older)
{
	memset(s, 0, sizeof *s);
	s->id = 2;
	s->enabled = 1;
	snprintf(s->provider, sizeof s->provider, "trendyol");
	snprintf(s->account, sizeof s->account, "847427");
	s->options = (char *)(options ? options : "");
	if (secret) {
		s->secrets[s->nsecrets].id = 21;
		s->secrets[s->nsecrets].value = (char *)secret;
		s->secrets[s->nsecrets++].len = strlen(secret);
	}
	if (older) {
		s->secrets[s->nsecrets].id = 9;
		s->secrets[s->nsecrets].value = (char *)older;
		s->secrets[s->nsecrets++].len = strlen(older);
	}
}

struct result {
	enum outcome verified, identified;
	struct verdict v;
	struct provider_event evs[KANCA_EVENTS_MAX];
	size_t nevs;
	char reason[KANCA_REASON_MAX + 1];
};

/* verify, then identify when verify said OK (as receive.c does), through the route alias "ty". */
static int run(const char *body, size_t n, const char *const *hdrs, const char *options, const char *secret,
	       const char *older, struct result *res)
{
	const struct provider *p = registry_find("ty");
	struct request req;
	struct store_source src;
	struct config cfg;
	struct buf reason;
	void *state = NULL;

	memset(res, 0, sizeof *res);
	res->verified = res->identified = OUTCOME__COUNT;
	if (!p || harness_request(&req, "/webhook/ty/847427", hdrs, body, n) < 0) {
		request_free(&req);
		return -1;
	}
	config_defaults(&cfg);
	make_source(&src, options, secret, older);
	{
		struct provider_call c = {&req, &src, &cfg, 1767225600};

		res->verified = p->verify(&c, &res->v);
		if (res->verified == OUTCOME_OK) {
			buf_init(&reason, KANCA_REASON_MAX);
			res->identified = p->identify(&c, res->evs, &res->nevs, &reason, &state);
			snprintf(res->reason, sizeof res->reason, "%s", buf_str(&reason));
			buf_free(&reason);
			if (state && p->state_free)
				p->state_free(state);
		}
	}
	request_free(&req);
	return 0;
}

/* A shipment-package page with k packages (ids 3335058070+i, statuses cycling). */
static const char *const statuses[] = {"Created", "Picking", "Invoiced", "Shipped"};

static void make_page(struct buf *b, size_t k)
{
	buf_reset(b);
	(void)!buf_printf(b, "{\"totalElements\":%zu,\"totalPages\":1,\"page\":0,\"size\":%zu,\"content\":[", k, k);
	for (size_t i = 0; i < k; i++)
		(void)!buf_printf(b,
				  "%s{\"shipmentPackageId\":%llu,\"orderNumber\":\"1065445%04zu\",\"status\":\"%s\","
				  "\"shipmentPackageStatus\":\"%s\",\"lines\":[{\"quantity\":1,\"price\":498.9}],"
				  "\"lastModifiedDate\":%llu,\"createdBy\":\"order-creation\"}",
				  i ? "," : "", 3335058070ULL + i, i, statuses[i % 4], statuses[i % 4],
				  1767225074944ULL + 1000 * i);
	(void)!buf_append_str(b, "]}");
}

static void b64_hmac(const char *key, const void *msg, size_t n, char out[VERIFY_HEX_LEN + 1])
{
	const void *parts[1] = {msg};
	size_t lens[1] = {n};

	if (verify_hmac_text(VERIFY_BASE64, key, strlen(key), parts, lens, 1, out) < 0)
		out[0] = '\0';
}

static void basic_header(const char *userpass, char *out)
{
	memcpy(out, "Basic ", 6);
	out[6 + verify_base64_encode((const unsigned char *)userpass, strlen(userpass), out + 6)] = '\0';
}

/* ---- the Basic credentials parser -------------------------------------------------------- */

static int parse(const char *value, struct trendyol_basic *cred, const char **why)
{
	static char out[KANCA_HEADER_VALUE_MAX];

	return trendyol_basic_parse(value, strlen(value), out, sizeof out, cred, why);
}

static void test_basic_parser(void)
{
	struct trendyol_basic c;
	const char *why = NULL;

	/* base64("user:pass") = dXNlcjpwYXNz */
	ok(parse("Basic dXNlcjpwYXNz", &c, &why) == 0, "Basic user:pass");
	is_mem(c.user, c.user_len, "user", 4, "user");
	is_mem(c.pass, c.pass_len, "pass", 4, "password");
	ok(parse("basic dXNlcjpwYXNz", &c, &why) == 0 && c.user_len == 4, "lowercase scheme \"basic\"");
	ok(parse("BASIC dXNlcjpwYXNz", &c, &why) == 0 && c.pass_len == 4, "uppercase scheme \"BASIC\"");
	ok(parse("Basic    dXNlcjpwYXNz", &c, &why) == 0 && c.user_len == 4, "several spaces after the scheme");
	ok(parse("  Basic\tdXNlcjpwYXNz \t", &c, &why) == 0 && c.pass_len == 4, "spaces/tabs around the value");
	/* base64("user:pa:ss") = dXNlcjpwYTpzcw== */
	ok(parse("Basic dXNlcjpwYTpzcw==", &c, &why) == 0, "colon in the password");
	is_mem(c.user, c.user_len, "user", 4, "split at the first colon: user");
	is_mem(c.pass, c.pass_len, "pa:ss", 5, "split at the first colon: password keeps its colon");
	/* base64("webhook-kullanıcı:şifre") UTF-8 */
	{
		char h[256];
		basic_header("webhook-kullan\xc4\xb1\x63\xc4\xb1:\xc5\x9fifre", h);
		ok(parse(h, &c, &why) == 0, "UTF-8 user and password");
		is_mem(c.user, c.user_len, "webhook-kullan\xc4\xb1\x63\xc4\xb1", 19, "UTF-8 user bytes");
		is_mem(c.pass, c.pass_len, "\xc5\x9fifre", 6, "UTF-8 password bytes");
	}

	static const struct {
		const char *value, *what;
	} bad[] = {
	    {"Basic dXNlcnBhc3M=", "no colon (userpass)"},
	    {"Basic OnBhc3M=", "empty user (:pass)"},
	    {"Basic dXNlcjo=", "empty password (user:)"},
	    {"Basic Og==", "only a colon"},
	    {"Basic dXNlcjpwYXN", "bad base64: length not a multiple of 4"},
	    {"Basic dXNlcjpwYXNz=", "bad base64: stray padding"},
	    {"Basic dXNlcjpwYTpzcw", "bad base64: padding missing"},
	    {"Basic dXNl cjpwYXNz", "bad base64: space inside"},
	    {"Basic dXNlcjpw!XNz", "bad base64: invalid character"},
	    {"Basic dXNlcjpwYT-zcw==", "url-safe alphabet refused"},
	    {"Basic dXNlcjpwYTpzcx==", "non-canonical trailing bits"},
	    {"Basic dXNlcjpwYQlzcw==", "control character (TAB) in the credentials"},
	    {"Basic", "scheme without credentials"},
	    {"Basic    ", "scheme and spaces only"},
	    {"BasicdXNlcjpwYXNz", "no space after the scheme"},
	    {"Bearer dXNlcjpwYXNz", "another scheme"},
	    {"Basi dXNlcjpwYXNz", "a shorter scheme word"},
	    {"", "empty value"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc;

		why = NULL;
		rc = parse(bad[i].value, &c, &why);
		ok(rc < 0 && why && *why && c.user == NULL && c.pass == NULL, "refused: %s (%s)", bad[i].what,
		   why ? why : "no reason");
	}
	{
		char small[6];
		ok(trendyol_basic_parse("Basic dXNlcjpwYXNz", 18, small, sizeof small, &c, &why) < 0,
		   "credentials longer than the output buffer: refused");
		char big[64];
		ok(trendyol_basic_parse("Basic dXNlcjpwYXNzIGV4dHJh", 18, big, sizeof big, &c, &why) == 0 &&
		       c.pass_len == 4,
		   "only n bytes are read (user:pass, not user:pass extra)");
		ok(trendyol_basic_parse(NULL, 0, small, sizeof small, &c, &why) < 0, "NULL value refused");
	}
}

/* ---- the shipment-package page -------------------------------------------------------------- */

static enum outcome page_events(const char *body, enum trendyol_key_mode mode, const char *event_id,
				struct provider_event *evs, size_t *nevs, struct buf *reason)
{
	struct json *root = NULL;
	enum outcome o;

	buf_reset(reason);
	if (json_parse(body, strlen(body), KANCA_JSON_DEPTH, &root) != JSON_OK)
		return OUTCOME__COUNT;
	o = trendyol_page_events(root, mode, event_id, event_id ? strlen(event_id) : 0, evs, nevs, reason);
	json_free(root);
	return o;
}

static void test_page(void)
{
	static struct provider_event evs[KANCA_EVENTS_MAX];
	struct buf page, reason;
	size_t n = 99;
	char want[64];

	buf_init(&page, 1 << 20);
	buf_init(&reason, KANCA_REASON_MAX);
	make_page(&page, 3);
	is_int(page_events(buf_str(&page), TRENDYOL_KEY_PACKAGE, NULL, evs, &n, &reason), OUTCOME_OK,
	       "page with 3 packages");
	is_int(n, 3, "three events");
	for (size_t i = 0; i < 3; i++) {
		snprintf(want, sizeof want, "%llu:%s:%llu", 3335058070ULL + i, statuses[i],
			 1767225074944ULL + 1000 * i);
		is_str(evs[i].key, want, "event %zu key shipmentPackageId:status:lastModifiedDate", i);
		is_str(evs[i].type, statuses[i], "event %zu type = status", i);
	}
	is_int(page_events(buf_str(&page), TRENDYOL_KEY_EVENT_ID, "evt-1", evs, &n, &reason), OUTCOME_OK,
	       "seed mode, 3 packages");
	is_str(evs[0].key, "evt-1:0", "seed mode key X-Event-Id:0");
	is_str(evs[2].key, "evt-1:2", "seed mode key X-Event-Id:2");
	is_str(evs[1].type, "Picking", "seed mode type = status");
	make_page(&page, 1);
	is_int(page_events(buf_str(&page), TRENDYOL_KEY_EVENT_ID, "evt-1", evs, &n, &reason), OUTCOME_OK,
	       "seed mode, 1 package");
	ok(n == 1 && strcmp(evs[0].key, "evt-1") == 0, "one package: the key is X-Event-Id itself");
	is_int(page_events(buf_str(&page), TRENDYOL_KEY_EVENT_ID, NULL, evs, &n, &reason), OUTCOME_BAD_REQUEST,
	       "seed mode without X-Event-Id: 400 (%s)", buf_str(&reason));
	make_page(&page, KANCA_EVENTS_MAX);
	is_int(page_events(buf_str(&page), TRENDYOL_KEY_PACKAGE, NULL, evs, &n, &reason), OUTCOME_OK,
	       "KANCA_EVENTS_MAX packages accepted");
	is_int(n, KANCA_EVENTS_MAX, "all of them");
	make_page(&page, KANCA_EVENTS_MAX + 1);
	n = 99;
	is_int(page_events(buf_str(&page), TRENDYOL_KEY_PACKAGE, NULL, evs, &n, &reason), OUTCOME_BAD_REQUEST,
	       "one package more: 400");
	ok(n == 0 && strstr(buf_str(&reason), "at most"), "with a clear reason: %s", buf_str(&reason));

	static const struct {
		const char *body, *what, *reason;
	} bad[] = {
	    {"{\"totalElements\":0}", "content missing", "content"},
	    {"{\"content\":{}}", "content an object", "content"},
	    {"{\"content\":null}", "content null", "content"},
	    {"{\"content\":[]}", "content empty", "empty"},
	    {"[1,2]", "top level an array", "object"},
	    {"{\"content\":[5]}", "element not an object", "content[0]"},
	    {"{\"content\":[{\"status\":\"Created\",\"lastModifiedDate\":1}]}", "no shipmentPackageId",
	     "shipmentPackageId"},
	    {"{\"content\":[{\"id\":5,\"status\":\"Created\",\"lastModifiedDate\":1}]}",
	     "old field id instead of shipmentPackageId", "shipmentPackageId"},
	    {"{\"content\":[{\"shipmentPackageId\":1.5,\"status\":\"Created\",\"lastModifiedDate\":1}]}",
	     "shipmentPackageId not an integer", "shipmentPackageId"},
	    {"{\"content\":[{\"shipmentPackageId\":1,\"lastModifiedDate\":1}]}", "no status", "status"},
	    {"{\"content\":[{\"shipmentPackageId\":1,\"status\":\"\",\"lastModifiedDate\":1}]}", "empty status",
	     "status"},
	    {"{\"content\":[{\"shipmentPackageId\":1,\"status\":7,\"lastModifiedDate\":1}]}", "status a number",
	     "status"},
	    {"{\"content\":[{\"shipmentPackageId\":1,\"status\":\"Created\"}]}", "no lastModifiedDate",
	     "lastModifiedDate"},
	    {"{\"content\":[{\"shipmentPackageId\":1,\"status\":\"Created\",\"lastModifiedDate\":\"1767225074944\"}]}",
	     "lastModifiedDate a string", "lastModifiedDate"},
	    {"{\"content\":[{\"shipmentPackageId\":1,\"status\":\"Created\",\"lastModifiedDate\":1.5e12}]}",
	     "lastModifiedDate not an integer", "lastModifiedDate"},
	    {"{\"content\":[{\"shipmentPackageId\":1,\"status\":\"Created\",\"lastModifiedDate\":1},"
	     "{\"shipmentPackageId\":2,\"status\":\"Created\"}]}",
	     "second element incomplete", "content[1]"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum outcome o = page_events(bad[i].body, TRENDYOL_KEY_PACKAGE, NULL, evs, &n, &reason);
		ok(o == OUTCOME_BAD_REQUEST && n == 0 && strstr(buf_str(&reason), bad[i].reason), "400: %s (%s)",
		   bad[i].what, buf_str(&reason));
	}
	is_int(page_events(
		   "{\"content\":[{\"shipmentPackageId\":\"P-77\",\"status\":\"Delivered\",\"lastModifiedDate\":-0}]}",
		   TRENDYOL_KEY_PACKAGE, NULL, evs, &n, &reason),
	       OUTCOME_OK, "shipmentPackageId as a string");
	is_str(evs[0].key, "P-77:Delivered:0", "string id kept, integer written as its value");
	buf_free(&page);
	buf_free(&reason);
}

/* ---- the three auth modes ----------------------------------------------------------------- */

static void test_modes(void)
{
	struct buf page;
	struct result r;
	char sig[VERIFY_HEX_LEN + 1], auth[256];

	buf_init(&page, 1 << 20);
	make_page(&page, 2);

	/* api_key (the default) */
	{
		const char *h[] = {"Content-Type", "application/json", "x-api-key", "key-new", NULL};
		(void)run(page.data, page.len, h, NULL, "key-new", "key-old", &r);
		is_int(r.verified, OUTCOME_OK, "api_key by default: x-api-key matches");
		is_int(r.v.secret_id, 21, "api_key: secret recorded");
		ok(strstr(r.v.detail, "secret=21") && !strstr(r.v.detail, "key-new"), "detail without the key: %s",
		   r.v.detail);
		is_int(r.identified, OUTCOME_OK, "api_key: identified");
		is_int(r.nevs, 2, "api_key: two packages, two events");
		is_str(r.evs[1].key, "3335058071:Picking:1767225075944", "api_key: second key");
		h[3] = "key-old";
		(void)run(page.data, page.len, h, "auth_mode=api_key\n", "key-new", "key-old", &r);
		ok(r.verified == OUTCOME_OK && r.v.secret_id == 9, "api_key rotation: the older key accepted, id 9");
		h[3] = "key-ne";
		(void)run(page.data, page.len, h, NULL, "key-new", "key-old", &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "api_key: a prefix of the key: 401");
		h[3] = "KEY-NEW";
		(void)run(page.data, page.len, h, NULL, "key-new", NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "api_key: compared byte for byte: 401");
		h[2] = NULL;
		(void)run(page.data, page.len, h, NULL, "key-new", NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "api_key: no header: 401 (%s)", r.v.reason);
	}
	/* basic_auth */
	{
		const char *opts = "auth_mode=basic_auth\nusername=webhook-kullanici\n";
		const char *h[] = {"Content-Type", "application/json", "Authorization", auth, NULL};

		basic_header("webhook-kullanici:pw:new", auth);
		(void)run(page.data, page.len, h, opts, "pw:new", "pw-old", &r);
		is_int(r.verified, OUTCOME_OK, "basic_auth: user and password (with a colon) match");
		ok(r.v.secret_id == 21 && r.nevs == 2, "basic_auth: secret 21, two events");
		basic_header("webhook-kullanici:pw-old", auth);
		(void)run(page.data, page.len, h, opts, "pw:new", "pw-old", &r);
		ok(r.verified == OUTCOME_OK && r.v.secret_id == 9, "basic_auth rotation: the older password, id 9");
		auth[0] = 'b';
		(void)run(page.data, page.len, h, opts, "pw:new", "pw-old", &r);
		is_int(r.verified, OUTCOME_OK, "basic_auth: lowercase scheme accepted");
		basic_header("someone-else:pw-old", auth);
		(void)run(page.data, page.len, h, opts, "pw:new", "pw-old", &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "basic_auth: right password, wrong user: 401");
		basic_header("webhook-kullanici:pw-older", auth);
		(void)run(page.data, page.len, h, opts, "pw:new", "pw-old", &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "basic_auth: wrong password: 401");
		basic_header("webhook-kullanici", auth);
		(void)run(page.data, page.len, h, opts, "pw:new", NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "basic_auth: no colon: 401 (%s)", r.v.reason);
		h[2] = "x-api-key";
		h[3] = "pw:new";
		(void)run(page.data, page.len, h, opts, "pw:new", NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "basic_auth: the password in x-api-key does not do: 401");
		h[2] = "Authorization";
		h[3] = auth;
		basic_header("webhook-kullanici:pw:new", auth);
		(void)run(page.data, page.len, h, "auth_mode=basic_auth\n", "pw:new", NULL, &r);
		is_int(r.verified, OUTCOME_INTERNAL, "basic_auth without a username option: fail closed (500)");
	}
	/* seed_hmac */
	{
		const char *h[] = {
		    "Content-Type", "application/json", "X-Trendyol-Signature", sig, "X-Event-Id", "evt-9", NULL};

		b64_hmac("seed-new", page.data, page.len, sig);
		(void)run(page.data, page.len, h, "auth_mode=seed_hmac\n", "seed-new", "seed-old", &r);
		is_int(r.verified, OUTCOME_OK, "seed_hmac: base64 HMAC of the raw body");
		is_int(r.identified, OUTCOME_OK, "seed_hmac: identified");
		ok(r.nevs == 2 && strcmp(r.evs[0].key, "evt-9:0") == 0 && strcmp(r.evs[1].key, "evt-9:1") == 0,
		   "seed_hmac: keys X-Event-Id:0 and :1 (%s, %s)", r.evs[0].key, r.evs[1].key);
		b64_hmac("seed-old", page.data, page.len, sig);
		(void)run(page.data, page.len, h, "auth_mode=seed_hmac\n", "seed-new", "seed-old", &r);
		ok(r.verified == OUTCOME_OK && r.v.secret_id == 9, "seed_hmac rotation: the older secret, id 9");
		(void)run(page.data, page.len, h, "auth_mode=seed_hmac\n", "seed-new", NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "seed_hmac: an unknown secret: 401");
		h[4] = NULL;
		b64_hmac("seed-new", page.data, page.len, sig);
		(void)run(page.data, page.len, h, "auth_mode=seed_hmac\n", "seed-new", NULL, &r);
		{
			unsigned char d[VERIFY_SHA256_LEN];
			char hex[2 * VERIFY_SHA256_LEN + 1], k0[sizeof hex + 2], k1[sizeof hex + 2];

			memset(d, 0, sizeof d);
			(void)!verify_sha256(page.data, page.len, d);
			verify_hex_encode(d, sizeof d, hex);
			snprintf(k0, sizeof k0, "%s:0", hex);
			snprintf(k1, sizeof k1, "%s:1", hex);
			ok(r.verified == OUTCOME_OK && r.identified == OUTCOME_OK && r.nevs == 2 &&
			       strcmp(r.evs[0].key, k0) == 0 && strcmp(r.evs[1].key, k1) == 0,
			   "seed_hmac without X-Event-Id: keys the body's SHA-256:0 and :1 (%s)", r.evs[0].key);
		}
		h[2] = NULL;
		(void)run(page.data, page.len, h, "auth_mode=seed_hmac\n", "seed-new", NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "seed_hmac: no signature header: 401");
	}
	/* body problems after authentication */
	{
		const char *h[] = {"Content-Type", "application/json", "x-api-key", "k", NULL};
		static const char notjson[] = "{\"content\":[";
		(void)run(notjson, sizeof notjson - 1, h, NULL, "k", NULL, &r);
		ok(r.verified == OUTCOME_OK && r.identified == OUTCOME_BAD_REQUEST, "authentic, not JSON: 400 (%s)",
		   r.reason);
		(void)run("{\"content\":[]}", 14, h, NULL, "k", NULL, &r);
		ok(r.identified == OUTCOME_BAD_REQUEST && r.nevs == 0, "authentic, empty content: 400 (%s)", r.reason);
		(void)run(page.data, page.len, h, "auth_mode=hmac\n", "k", NULL, &r);
		is_int(r.verified, OUTCOME_INTERNAL, "an unknown auth_mode in the store: fail closed (500)");
		(void)run(page.data, page.len, h, NULL, NULL, NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "no secret at all: never OK");
	}
	buf_free(&page);
}

static void test_provider(void)
{
	const struct provider *p = registry_find("trendyol");
	struct buf err;

	ok(p && registry_find("ty") == p, "route alias \"ty\" is trendyol");
	if (!p)
		return;
	ok(p->needs_secret && p->no_secret == OUTCOME_INTERNAL, "a source without a secret fails closed (500)");
	buf_init(&err, 1024);
	static const struct {
		const char *opts;
		int good;
	} cases[] = {
	    {"", 1},
	    {"auth_mode=api_key\n", 1},
	    {"auth_mode=seed_hmac\n", 1},
	    {"auth_mode=basic_auth\nusername=webhook-kullanici\n", 1},
	    {"auth_mode=basic_auth\n", 0},
	    {"auth_mode=basic_auth\nusername=a:b\n", 0},
	    {"auth_mode=basic\n", 0},
	    {"auth_mode=API_KEY\n", 0},
	    {"username=u\n", 0},
	    {"auth_mode=seed_hmac\nusername=u\n", 0},
	    {"password=p\n", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc;

		buf_reset(&err);
		rc = p->check_options(cases[i].opts, &err);
		ok((rc == 0) == cases[i].good, "options \"%s\" %s %s", cases[i].opts,
		   cases[i].good ? "accepted" : "refused:", buf_str(&err));
	}
	buf_free(&err);
}

/* ---- tests/vectors.json ------------------------------------------------------------------- */

static void test_vectors(void)
{
	struct json *root;
	const struct json *vs, *counts;
	size_t tested = 0, expected = 0;

	root = harness_load_vectors();
	if (!root)
		return;
	vs = json_get(root, "vectors");
	counts = json_get(json_get(root, "counts"), "trendyol");
	expected = (size_t)json_integer(json_get(counts, "valid")) + (size_t)json_integer(json_get(counts, "invalid"));
	for (size_t i = 0; i < json_array_len(vs); i++) {
		const struct json *v = json_array_at(vs, i), *hdrs = json_get(v, "headers"),
				  *ty = json_get(v, "trendyol");
		const char *prov = json_get_string(v, "provider", NULL), *name = json_get_string(v, "name", NULL);
		const char *b64, *expect, *secret, *type, *key, *mode;
		char keys[32][128], opts[1024] = "";
		const char *hv[66];
		size_t nk, blen, nh = 0;
		unsigned char *body;
		long n;
		struct result r;

		if (!prov || strcmp(prov, "trendyol") != 0)
			continue;
		b64 = json_get_string(v, "body_b64", &blen);
		expect = json_get_string(v, "expect", NULL);
		type = json_get_string(v, "event_type", NULL);
		key = json_get_string(v, "idempotency_key", NULL);
		mode = json_get_string(ty, "auth_mode", NULL);
		/* configured as kancactl would: the secret is the apiKey, the password or the seed secret */
		secret = json_get_string(v, "secret", NULL);
		if (mode && strcmp(mode, "basic_auth") == 0) {
			secret = json_get_string(ty, "password", NULL);
			snprintf(opts, sizeof opts, "auth_mode=basic_auth\nusername=%s\n",
				 json_get_string(ty, "username", NULL) ? json_get_string(ty, "username", NULL) : "");
		} else if (mode) {
			snprintf(opts, sizeof opts, "auth_mode=%s\n", mode);
			if (strcmp(mode, "api_key") == 0 && json_get_string(ty, "api_key", NULL))
				secret = json_get_string(ty, "api_key", NULL);
		}
		nk = harness_object_keys(hdrs, keys, 32);
		body = malloc(blen + 1);
		n = body && b64 ? verify_base64_decode(b64, blen, 0, body, blen + 1) : -1;
		if (!ok(n >= 0 && expect && secret && mode && type && key && nk != (size_t)-1, "%s: vector readable",
			name ? name : "?")) {
			free(body);
			continue;
		}
		for (size_t h = 0; h < nk; h++) {
			hv[nh++] = keys[h];
			hv[nh++] = json_get_string(hdrs, keys[h], NULL);
		}
		hv[nh] = NULL;
		if (run((const char *)body, (size_t)n, hv, opts, secret, NULL, &r) < 0) {
			ok(0, "%s: request built", name);
		} else if (strcmp(expect, "valid") == 0) {
			ok(r.verified == OUTCOME_OK && r.identified == OUTCOME_OK && r.nevs == 1, "%s (%s): valid %s%s",
			   name, mode, r.v.reason, r.reason);
			is_str(r.evs[0].type, type, "%s: event type", name);
			is_str(r.evs[0].key, key, "%s: idempotency key", name);
		} else {
			is_int(r.verified, OUTCOME_UNAUTHORIZED, "%s (%s): rejected with 401 (%s)", name, mode,
			       r.v.reason);
		}
		tested++;
		free(body);
	}
	ok(expected > 0 && tested == expected, "all %zu trendyol vectors tested (counts say %zu)", tested, expected);
	json_free(root);
}

int main(void)
{
	test_basic_parser();
	test_page();
	test_modes();
	test_provider();
	test_vectors();
	return done_testing();
}
