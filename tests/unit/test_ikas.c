/* test_ikas.c: the ikas envelope parser, the provider's verify/identify/answer through requests built
 * from a CGI environment, and every ikas vector of tests/vectors.json. */
#include "first.h"
#include "tap.h"
#include "harness.h"

#include "buf.h"
#include "caps.h"
#include "config.h"
#include "json.h"
#include "request.h"
#include "response.h"
#include "store/store.h"
#include "verify.h"

/* HMAC-SHA256 of one message part. */
#define hmac_one(k, kl, m, ml, out)                                                                                    \
	verify_hmac_sha256_parts(k, kl, (const void *const[]){m}, (const size_t[]){ml}, 1, out)
#include "providers/ikas.h"
#include "providers/provider.h"
#include "providers/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET	   "ikas_client_secret_for_tests"
#define OLD_SECRET "ikas_previous_client_secret"

/* ---- requests and sources ---------------------------------------------------------------- */

/* A source with up to two secrets (newest first): ids 11 and 7. */
static void make_source(struct store_source *s, const char *options, const char *secret, const char *older)
{
	memset(s, 0, sizeof *s);
	s->id = 1;
	s->enabled = 1;
	snprintf(s->provider, sizeof s->provider, "ikas");
	snprintf(s->account, sizeof s->account, "acc");
	s->options = (char *)(options ? options : "");
	if (secret) {
		s->secrets[s->nsecrets].id = 11;
		s->secrets[s->nsecrets].value = (char *)secret;
		s->secrets[s->nsecrets++].len = strlen(secret);
	}
	if (older) {
		s->secrets[s->nsecrets].id = 7;
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

/* verify, then identify when verify said OK (as receive.c does). */
static const char *const json_ct[] = {"Content-Type", "application/json", NULL};

static int run_with(const char *body, size_t n, const char *const *hdrs, const char *options, const char *secret,
		    const char *older, struct result *res)
{
	const struct provider *p = registry_find("ikas");
	struct request req;
	struct store_source src;
	struct config cfg;
	struct buf reason;
	void *state = NULL;

	memset(res, 0, sizeof *res);
	res->identified = OUTCOME__COUNT;
	if (!p || harness_request(&req, "/webhook/ikas/acc", hdrs, body, n) < 0) {
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

static int run(const char *body, size_t n, const char *options, const char *secret, const char *older,
	       struct result *res)
{
	return run_with(body, n, json_ct, options, secret, older, res);
}

static void hmac_hex(const char *key, const void *msg, size_t n, char out[VERIFY_HEX_LEN + 1])
{
	unsigned char d[VERIFY_SHA256_LEN];

	if (hmac_one(key, strlen(key), msg, n, d) < 0)
		memset(d, 0, sizeof d);
	verify_hex_encode(d, sizeof d, out);
}

/* ---- the envelope parser ------------------------------------------------------------------ */

/* The decoded data below, written independently of any JSON escaping: U+0130, U+1F6A2, '/', '"', '\', LF. */
static const char decoded_data[] =
    "{\"name\":\"\xc4\xb0stanbul \xf0\x9f\x9a\xa2\",\"url\":\"a/b\",\"q\":\"\\\"x\\\\\\n\"}";

static const char escaped_body_fmt[] =
    "{\"id\":\"7d1f3c5a-0c4e-4f3e-9a55-0d3f2b1c9e01\",\"createdAt\":\"2025-12-31T23:59:58.000Z\","
    "\"scope\":\"store/order/created\",\"merchantId\":\"m-1\",\"authorizedAppId\":\"app-1\","
    "\"data\":\"{\\\"name\\\":\\\"\\u0130stanbul \\ud83d\\udea2\\\",\\\"url\\\":\\\"a\\/b\\\","
    "\\\"q\\\":\\\"\\\\\\\"x\\\\\\\\\\\\n\\\"}\",\"signature\":\"%s\"}";

static const char pretty_body_fmt[] =
    "{\n"
    "  \"signature\" : \"%s\",\n"
    "\t\"data\": \"{\\\"name\\\":\\\"\\u0130stanbul \\uD83D\\uDEA2\\\",\\\"url\\\":\\\"a\\/b\\\","
    "\\\"q\\\":\\\"\\\\\\\"x\\\\\\\\\\\\n\\\"}\",\r\n"
    "  \"authorizedAppId\" : \"app-1\",\n"
    "  \"merchantId\": \"m-1\",\n"
    "  \"scope\":\"store/order/created\",\n"
    "  \"createdAt\": \"2025-12-31T23:59:58.000Z\",\n"
    "  \"id\": \"7d1f3c5a-0c4e-4f3e-9a55-0d3f2b1c9e01\"\n"
    "}\n";

static void test_parser(void)
{
	struct json *root = (struct json *)1;
	struct ikas_envelope env;
	const char *why = NULL;
	char body[2048];
	int n;
	enum outcome o;

	n = snprintf(body, sizeof body, escaped_body_fmt, "abc");
	o = ikas_parse_envelope(body, (size_t)n, &root, &env, &why);
	is_int(o, OUTCOME_OK, "escaped envelope parses");
	is_mem(env.data, env.data_len, decoded_data, sizeof decoded_data - 1,
	       "data is decoded: \\u0130, surrogate pair \\ud83d\\udea2, \\/, \\\", \\\\, \\n");
	is_mem(env.id, env.id_len, "7d1f3c5a-0c4e-4f3e-9a55-0d3f2b1c9e01", 36, "id");
	is_mem(env.scope, env.scope_len, "store/order/created", 19, "scope");
	is_mem(env.merchant_id, env.merchant_id_len, "m-1", 3, "merchantId");
	is_mem(env.authorized_app_id, env.authorized_app_id_len, "app-1", 5, "authorizedAppId");
	is_mem(env.signature, env.signature_len, "abc", 3, "signature");
	json_free(root);

	n = snprintf(body, sizeof body, pretty_body_fmt, "abc");
	o = ikas_parse_envelope(body, (size_t)n, &root, &env, &why);
	is_int(o, OUTCOME_OK, "pretty-printed, reordered envelope (upper-case \\uD83D) parses");
	is_mem(env.data, env.data_len, decoded_data, sizeof decoded_data - 1, "same decoded data");
	is_mem(env.scope, env.scope_len, "store/order/created", 19, "same scope");
	json_free(root);

	{
		static const char nul[] = "{\"data\":\"a\\u0000b\",\"signature\":\"s\"}";
		static const char bare[] = "{\"data\":\"ab\",\"signature\":\"s\"}";
		o = ikas_parse_envelope(nul, sizeof nul - 1, &root, &env, &why);
		is_int(o, OUTCOME_BAD_REQUEST, "data with an escaped NUL is refused (json.h: never cut at a NUL)");
		is_str(why, "Invalid JSON: \\u0000 in a string", "... saying why");
		ok(root == NULL && env.data == NULL, "... and nothing is returned");
		o = ikas_parse_envelope(bare, sizeof bare - 1, &root, &env, &why);
		ok(env.id == NULL && env.scope == NULL && env.merchant_id == NULL, "absent members are NULL");
		json_free(root);
	}
	{
		static const char empty[] = "{\"data\":\"\",\"signature\":\"\"}";
		o = ikas_parse_envelope(empty, sizeof empty - 1, &root, &env, &why);
		ok(o == OUTCOME_OK && env.data && env.data_len == 0, "empty data string is a string");
		json_free(root);
	}

	static const struct {
		const char *body;
		enum outcome want;
		const char *what;
	} bad[] = {
	    {"{\"data\":{\"id\":1},\"signature\":\"s\"}", OUTCOME_UNAUTHORIZED, "data an object"},
	    {"{\"data\":null,\"signature\":\"s\"}", OUTCOME_UNAUTHORIZED, "data null"},
	    {"{\"data\":5,\"signature\":\"s\"}", OUTCOME_UNAUTHORIZED, "data a number"},
	    {"{\"signature\":\"s\"}", OUTCOME_UNAUTHORIZED, "data missing"},
	    {"{\"data\":\"{}\"}", OUTCOME_UNAUTHORIZED, "signature missing"},
	    {"{\"data\":\"{}\",\"signature\":[\"s\"]}", OUTCOME_UNAUTHORIZED, "signature an array"},
	    {"{\"data\":\"{}\",\"signature\":123}", OUTCOME_UNAUTHORIZED, "signature a number"},
	    {"[{\"data\":\"{}\",\"signature\":\"s\"}]", OUTCOME_BAD_REQUEST, "top level an array"},
	    {"{\"data\":\"{}\",\"signature\":\"s\"", OUTCOME_BAD_REQUEST, "truncated JSON"},
	    {"{\"data\":\"\\ud83d\",\"signature\":\"s\"}", OUTCOME_BAD_REQUEST, "lone surrogate escape"},
	    {"{\"data\":\"\xc0\xaf\",\"signature\":\"s\"}", OUTCOME_BAD_REQUEST, "overlong UTF-8"},
	    {"", OUTCOME_BAD_REQUEST, "empty body"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		root = (struct json *)1;
		why = NULL;
		o = ikas_parse_envelope(bad[i].body, strlen(bad[i].body), &root, &env, &why);
		ok(o == bad[i].want && root == NULL && why && *why && env.data == NULL, "%s: %s (%s)", bad[i].what,
		   outcome_name(bad[i].want), why ? why : "no reason");
	}
}

/* ---- verify / identify / answer ----------------------------------------------------------- */

static void test_verify(void)
{
	char sig[VERIFY_HEX_LEN + 1], body[2048], upper[VERIFY_HEX_LEN + 1];
	struct result r;
	int n;

	hmac_hex(SECRET, decoded_data, sizeof decoded_data - 1, sig);

	n = snprintf(body, sizeof body, escaped_body_fmt, sig);
	ok(run(body, (size_t)n, NULL, SECRET, NULL, &r) == 0, "request built");
	is_int(r.verified, OUTCOME_OK, "escaped unicode envelope verifies (HMAC over the decoded data)");
	is_int(r.v.secret_id, 11, "the secret is recorded");
	ok(strstr(r.v.detail, "secret=11") && !strstr(r.v.detail, SECRET) && !strstr(r.v.detail, sig),
	   "detail names the secret id, neither secret nor signature: %s", r.v.detail);
	is_int(r.identified, OUTCOME_OK, "identified");
	is_int(r.nevs, 1, "one event");
	is_str(r.evs[0].key, "7d1f3c5a-0c4e-4f3e-9a55-0d3f2b1c9e01", "key = id");
	is_str(r.evs[0].type, "store/order/created", "type = scope");

	n = snprintf(body, sizeof body, pretty_body_fmt, sig);
	(void)run(body, (size_t)n, NULL, SECRET, NULL, &r);
	is_int(r.verified, OUTCOME_OK, "pretty-printed, reordered envelope verifies");
	is_str(r.evs[0].key, "7d1f3c5a-0c4e-4f3e-9a55-0d3f2b1c9e01", "same key");

	/* the same request signed the wrong ways */
	{
		/* the data literal as written in the body, escapes and all */
		const char *lit = strstr(escaped_body_fmt, "\"data\":\"") + 8, *end = strstr(lit, "\",\"signature\"");
		hmac_hex(SECRET, lit, (size_t)(end - lit), sig);
		n = snprintf(body, sizeof body, escaped_body_fmt, sig);
		(void)run(body, (size_t)n, NULL, SECRET, NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "HMAC over the still-escaped data literal: 401");
	}
	{
		char raw[2048];
		int m = snprintf(raw, sizeof raw, escaped_body_fmt, "");
		hmac_hex(SECRET, raw, (size_t)m, sig);
		n = snprintf(body, sizeof body, escaped_body_fmt, sig);
		(void)run(body, (size_t)n, NULL, SECRET, NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "HMAC over the raw body: 401");
		is_str(r.v.reason, "invalid signature", "reason");
	}
	hmac_hex(SECRET, decoded_data, sizeof decoded_data - 1, sig);
	for (size_t i = 0; i <= VERIFY_HEX_LEN; i++)
		upper[i] = (sig[i] >= 'a' && sig[i] <= 'f') ? (char)(sig[i] - 32) : sig[i];
	n = snprintf(body, sizeof body, escaped_body_fmt, upper);
	(void)run(body, (size_t)n, NULL, SECRET, NULL, &r);
	is_int(r.verified, OUTCOME_UNAUTHORIZED, "upper-case hex: 401");
	sig[63] = '\0';
	n = snprintf(body, sizeof body, escaped_body_fmt, sig);
	(void)run(body, (size_t)n, NULL, SECRET, NULL, &r);
	is_int(r.verified, OUTCOME_UNAUTHORIZED, "truncated signature: 401");

	/* embedded NUL: refused before any MAC (json.h), signed over all three bytes or not */
	{
		char b2[256];
		hmac_hex(SECRET, "a\0b", 3, sig);
		n = snprintf(b2, sizeof b2,
			     "{\"id\":\"n1\",\"scope\":\"s\",\"data\":\"a\\u0000b\",\"signature\":\"%s\"}", sig);
		(void)run(b2, (size_t)n, NULL, SECRET, NULL, &r);
		is_int(r.verified, OUTCOME_BAD_REQUEST, "data with a NUL, signed over its full length: 400");
		hmac_hex(SECRET, "a", 1, sig);
		n = snprintf(b2, sizeof b2,
			     "{\"id\":\"n1\",\"scope\":\"s\",\"data\":\"a\\u0000b\",\"signature\":\"%s\"}", sig);
		(void)run(b2, (size_t)n, NULL, SECRET, NULL, &r);
		is_int(r.verified, OUTCOME_BAD_REQUEST, "signed over the bytes before the NUL: 400 as well");
	}

	/* rotation: newest first, the older one still accepted and recorded */
	hmac_hex(OLD_SECRET, decoded_data, sizeof decoded_data - 1, sig);
	n = snprintf(body, sizeof body, escaped_body_fmt, sig);
	(void)run(body, (size_t)n, NULL, SECRET, OLD_SECRET, &r);
	is_int(r.verified, OUTCOME_OK, "rotation: signed with the older secret verifies");
	is_int(r.v.secret_id, 7, "rotation: the older secret's id is recorded");
	(void)run(body, (size_t)n, NULL, SECRET, NULL, &r);
	is_int(r.verified, OUTCOME_UNAUTHORIZED, "without the older secret: 401");
	(void)run(body, (size_t)n, NULL, NULL, NULL, &r);
	is_int(r.verified, OUTCOME_UNAUTHORIZED, "no secret at all: never OK");

	/* merchant_id / authorized_app_id */
	hmac_hex(SECRET, decoded_data, sizeof decoded_data - 1, sig);
	n = snprintf(body, sizeof body, escaped_body_fmt, sig);
	(void)run(body, (size_t)n, "merchant_id=m-1\nauthorized_app_id=app-1\n", SECRET, NULL, &r);
	is_int(r.verified, OUTCOME_OK, "merchant_id and authorized_app_id match");
	(void)run(body, (size_t)n, "merchant_id=m-2\n", SECRET, NULL, &r);
	is_int(r.verified, OUTCOME_UNAUTHORIZED, "merchant_id differs: 401");
	ok(strstr(r.v.reason, "merchantId") != NULL, "reason names merchantId: %s", r.v.reason);
	(void)run(body, (size_t)n, "authorized_app_id=app-2\n", SECRET, NULL, &r);
	is_int(r.verified, OUTCOME_UNAUTHORIZED, "authorized_app_id differs: 401");
	(void)run(body, (size_t)n, "merchant_id=m-\n", SECRET, NULL, &r);
	is_int(r.verified, OUTCOME_UNAUTHORIZED, "merchant_id a prefix of merchantId: 401");
	{
		char b2[512];
		hmac_hex(SECRET, "{}", 2, sig);
		n = snprintf(b2, sizeof b2, "{\"id\":\"x\",\"scope\":\"s\",\"data\":\"{}\",\"signature\":\"%s\"}", sig);
		(void)run(b2, (size_t)n, "merchant_id=m-1\n", SECRET, NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "merchant_id set, merchantId absent: 401");
		(void)run(b2, (size_t)n, NULL, SECRET, NULL, &r);
		is_int(r.verified, OUTCOME_OK, "no options: merchantId not required");

		/* no id: still stored (authentic), keyed by the body's SHA-256 */
		n = snprintf(b2, sizeof b2, "{\"scope\":\"store/stock/updated\",\"data\":\"{}\",\"signature\":\"%s\"}",
			     sig);
		(void)run(b2, (size_t)n, NULL, SECRET, NULL, &r);
		{
			unsigned char d[VERIFY_SHA256_LEN];
			char hex[VERIFY_HEX_LEN + 1] = "";
			if (verify_sha256(b2, (size_t)n, d) == 0)
				verify_hex_encode(d, sizeof d, hex);
			ok(r.verified == OUTCOME_OK && r.identified == OUTCOME_OK,
			   "authentic envelope without id accepted");
			is_str(r.evs[0].key, hex, "without id the key is the body's SHA-256");
			is_str(r.evs[0].type, "store/stock/updated", "type = scope");
		}
	}

	/* bad envelopes through verify */
	{
		static const char b[] = "{\"id\":\"x\",\"data\":{\"a\":1},\"signature\":\"00\"}";
		(void)run(b, sizeof b - 1, NULL, SECRET, NULL, &r);
		is_int(r.verified, OUTCOME_UNAUTHORIZED, "data not a string: 401");
	}
	{
		static const char b[] = "not json";
		(void)run(b, sizeof b - 1, NULL, SECRET, NULL, &r);
		is_int(r.verified, OUTCOME_BAD_REQUEST, "body not JSON: 400");
	}
}

static void test_answer(void)
{
	const struct provider *p = registry_find("ikas");
	struct response res;
	struct provider_event ev;

	if (!ok(p && p->answer, "ikas has its own answer"))
		return;
	response_init(&res);
	p->answer(NULL, OUTCOME_UNAUTHORIZED, NULL, "merchantId does not match", &res);
	is_int(res.status, 401, "401");
	is_str(buf_str(&res.body), "{\"message\":\"invalid signature\",\"statusCode\":401}",
	       "401 body as the SDK middleware answers");
	p->answer(NULL, OUTCOME_BAD_REQUEST, NULL, "Invalid JSON", &res);
	is_int(res.status, 400, "400");
	is_str(buf_str(&res.body), "{\"message\":\"Invalid JSON\",\"statusCode\":400}", "400 body, same shape");
	memset(&ev, 0, sizeof ev);
	snprintf(ev.type, sizeof ev.type, "store/order/created");
	p->answer(NULL, OUTCOME_OK, &ev, NULL, &res);
	is_int(res.status, 200, "success is exactly 200");
	p->answer(NULL, OUTCOME_DUPLICATE, &ev, NULL, &res);
	is_int(res.status, 200, "a duplicate is exactly 200 too");
	response_free(&res);
}

static void test_options(void)
{
	const struct provider *p = registry_find("ikas");
	struct buf err;

	buf_init(&err, 1024);
	ok(p->check_options("", &err) == 0, "no options");
	ok(p->check_options("merchant_id=44509d60-6454-491f-a9b0-834542c062a5\nauthorized_app_id=f667e750\n", &err) ==
	       0,
	   "merchant_id and authorized_app_id");
	buf_reset(&err);
	ok(p->check_options("merchant=x\n", &err) < 0 && strstr(buf_str(&err), "merchant_id"),
	   "unknown option refused, known ones listed: %s", buf_str(&err));
	buf_reset(&err);
	ok(p->check_options("merchant_id=\n", &err) < 0, "empty merchant_id refused: %s", buf_str(&err));
	ok(p->needs_secret && p->no_secret == OUTCOME_INTERNAL, "a source without a secret fails closed (500)");
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
	counts = json_get(json_get(root, "counts"), "ikas");
	expected = (size_t)json_integer(json_get(counts, "valid")) + (size_t)json_integer(json_get(counts, "invalid"));
	for (size_t i = 0; i < json_array_len(vs); i++) {
		const struct json *v = json_array_at(vs, i), *hdrs = json_get(v, "headers"), *ik = json_get(v, "ikas");
		const char *prov = json_get_string(v, "provider", NULL), *name = json_get_string(v, "name", NULL);
		const char *b64, *expect, *secret, *type, *key;
		char keys[32][128], opts[1024] = "";
		const char *hv[66];
		size_t nk, blen, nh = 0;
		unsigned char *body;
		long n;
		struct result r;
		int valid;

		if (!prov || strcmp(prov, "ikas") != 0)
			continue;
		b64 = json_get_string(v, "body_b64", &blen);
		expect = json_get_string(v, "expect", NULL);
		secret = json_get_string(v, "secret", NULL);
		type = json_get_string(v, "event_type", NULL);
		key = json_get_string(v, "idempotency_key", NULL);
		nk = harness_object_keys(hdrs, keys, 32);
		body = malloc(blen + 1);
		n = body && b64 ? verify_base64_decode(b64, blen, 0, body, blen + 1) : -1;
		if (!ok(n >= 0 && expect && secret && nk != (size_t)-1, "%s: vector readable", name ? name : "?")) {
			free(body);
			continue;
		}
		for (size_t h = 0; h < nk; h++) {
			hv[nh++] = keys[h];
			hv[nh++] = json_get_string(hdrs, keys[h], NULL);
		}
		hv[nh] = NULL;
		valid = strcmp(expect, "valid") == 0;
		/* without options, as the SDK checks; then with the account's merchant/app ids */
		for (int with_opts = 0; with_opts < 2; with_opts++) {
			if (with_opts) {
				const char *m = json_get_string(ik, "merchant_id", NULL),
					   *a = json_get_string(ik, "authorized_app_id", NULL);
				if (!m || !a)
					continue;
				snprintf(opts, sizeof opts, "merchant_id=%s\nauthorized_app_id=%s\n", m, a);
			}
			if (run_with((const char *)body, (size_t)n, hv, opts, secret, NULL, &r) < 0) {
				ok(0, "%s: request built", name);
				continue;
			}
			if (valid) {
				ok(r.verified == OUTCOME_OK && r.identified == OUTCOME_OK && r.nevs == 1,
				   "%s%s: valid (%s)", name, with_opts ? " +options" : "", r.v.reason);
				is_str(r.evs[0].type, type, "%s: event type", name);
				is_str(r.evs[0].key, key, "%s: idempotency key", name);
			} else {
				is_int(r.verified, OUTCOME_UNAUTHORIZED, "%s%s: rejected with 401 (%s)", name,
				       with_opts ? " +options" : "", r.v.reason);
			}
		}
		tested++;
		free(body);
	}
	ok(expected > 0 && tested == expected, "all %zu ikas vectors tested (counts say %zu)", tested, expected);
	json_free(root);
}

int main(void)
{
	test_parser();
	test_verify();
	test_answer();
	test_options();
	test_vectors();
	return done_testing();
}
