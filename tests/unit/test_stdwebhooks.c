/* test_stdwebhooks.c: the signature-list parser, whsec_ secret decoding, every standardwebhooks and
 * svix vector of tests/vectors.json through verify + identify, Svix header fallback, tolerance both
 * ways, and secret rotation. */
#include "first.h"
#include "tap.h"
#include "harness.h"

#include "config.h"
#include "json.h"
#include "providers/provider.h"
#include "stdwebhooks.h"
#include "request.h"
#include "store/store.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct provider provider_standardwebhooks, provider_svix;

#define NOW 1767225600LL
/* a string literal and its length (embedded NULs included) */
#define S(lit) lit, sizeof(lit) - 1

/* ---- request and source fixtures ---- */

static void src_init(struct store_source *s, const char *provider)
{
	memset(s, 0, sizeof *s);
	s->id = 1;
	snprintf(s->provider, sizeof s->provider, "%s", provider);
	snprintf(s->account, sizeof s->account, "acct");
	s->enabled = 1;
	s->options = strdup("");
}

static void src_secret(struct store_source *s, long long id, const char *secret)
{
	struct store_secret *k = &s->secrets[s->nsecrets++];

	k->id = id;
	k->len = strlen(secret);
	k->value = strdup(secret);
	if (!k->value || !s->options)
		abort();
}

struct result {
	enum outcome verdict, identified;
	struct verdict v;
	struct provider_event ev;
	size_t nevs;
};

static void run(const struct provider *p, const struct request *r, const struct store_source *s, long long now,
		int do_identify, struct result *out)
{
	struct config cfg;
	struct provider_call c;
	struct buf reason;
	void *state = NULL;

	config_defaults(&cfg);
	c.req = r;
	c.source = s;
	c.cfg = &cfg;
	c.now = now;
	memset(out, 0, sizeof *out);
	memset(&out->ev, 0x55, sizeof out->ev); /* identify must set every field it reports */
	out->ev.key[KANCA_KEY_MAX] = out->ev.type[KANCA_TYPE_MAX] = '\0';
	out->verdict = p->verify(&c, &out->v);
	if (!do_identify)
		return;
	buf_init(&reason, 4096);
	out->identified = p->identify(&c, &out->ev, &out->nevs, &reason, &state);
	buf_free(&reason);
	if (state && p->state_free)
		p->state_free(state);
}

/* ---- the signature-list parser ---- */

static int sig_is(const struct stdwebhooks_sig *s, int n, int i, const char *want)
{
	return i < n && s[i].len == strlen(want) && memcmp(s[i].p, want, s[i].len) == 0;
}

static void test_sig_list(void)
{
	struct stdwebhooks_sig s[KANCA_SIGNATURES_MAX];
	char many[8192];
	size_t n;
	int k;

	k = stdwebhooks_sig_list_parse(S("v1,abc="), s, KANCA_SIGNATURES_MAX);
	ok(k == 1 && sig_is(s, k, 0, "abc="), "one v1 entry");
	k = stdwebhooks_sig_list_parse(S("v1,a v1,b"), s, KANCA_SIGNATURES_MAX);
	ok(k == 2 && sig_is(s, k, 0, "a") && sig_is(s, k, 1, "b"), "two entries, in order");
	k = stdwebhooks_sig_list_parse(S("v1a,x v2,y v1,b v0,z"), s, KANCA_SIGNATURES_MAX);
	ok(k == 1 && sig_is(s, k, 0, "b"), "v1a, v2, v0 entries are skipped");
	k = stdwebhooks_sig_list_parse(S("V1,a v1 ,b v11,c"), s, KANCA_SIGNATURES_MAX);
	ok(k == 0, "V1, \"v1 \" (split off by the space) and v11 are not v1");

	/* spaces: single spaces separate, so doubled, leading and trailing ones make empty entries */
	k = stdwebhooks_sig_list_parse(S("v1,a  v1,b"), s, KANCA_SIGNATURES_MAX);
	ok(k == 2 && sig_is(s, k, 0, "a") && sig_is(s, k, 1, "b"), "two spaces: an empty entry between");
	k = stdwebhooks_sig_list_parse(S(" v1,a "), s, KANCA_SIGNATURES_MAX);
	ok(k == 1 && sig_is(s, k, 0, "a"), "leading and trailing spaces");
	k = stdwebhooks_sig_list_parse(S("v1,a\tv1,b"), s, KANCA_SIGNATURES_MAX);
	ok(k == 1 && sig_is(s, k, 0, "a\tv1"), "a tab does not separate entries");
	k = stdwebhooks_sig_list_parse(S("v1, a"), s, KANCA_SIGNATURES_MAX);
	ok(k == 1 && sig_is(s, k, 0, ""), "\"v1, a\": the space starts a new entry, the signature is empty");

	/* empty things */
	ok(stdwebhooks_sig_list_parse(S(""), s, KANCA_SIGNATURES_MAX) == 0, "empty value: no signature");
	ok(stdwebhooks_sig_list_parse(NULL, 0, s, KANCA_SIGNATURES_MAX) == 0, "NULL value: no signature");
	ok(stdwebhooks_sig_list_parse(S("   "), s, KANCA_SIGNATURES_MAX) == 0, "only spaces: no signature");
	ok(stdwebhooks_sig_list_parse(S("v1"), s, KANCA_SIGNATURES_MAX) == 0, "\"v1\" without ',' is skipped");
	k = stdwebhooks_sig_list_parse(S("v1,"), s, KANCA_SIGNATURES_MAX);
	ok(k == 1 && sig_is(s, k, 0, ""), "\"v1,\" has an empty signature");
	ok(stdwebhooks_sig_list_parse(S(",abc"), s, KANCA_SIGNATURES_MAX) == 0, "empty version is skipped");

	/* ',' inside the signature: it ends at the next ',' like versionedSignature.split(",")[1] */
	k = stdwebhooks_sig_list_parse(S("v1,abc,def"), s, KANCA_SIGNATURES_MAX);
	ok(k == 1 && sig_is(s, k, 0, "abc"), "v1,abc,def gives \"abc\"");
	k = stdwebhooks_sig_list_parse(S("v1,,abc"), s, KANCA_SIGNATURES_MAX);
	ok(k == 1 && sig_is(s, k, 0, ""), "v1,,abc gives \"\"");

	/* NUL bytes are ordinary bytes */
	k = stdwebhooks_sig_list_parse(S("v1,a\0b v1,c"), s, KANCA_SIGNATURES_MAX);
	ok(k == 2 && s[0].len == 3 && sig_is(s, k, 1, "c"), "embedded NUL bytes do not end the value");

	/* the cap */
	n = 0;
	for (int i = 0; i < KANCA_SIGNATURES_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "%sv1,%02d", i ? " " : "", i);
	k = stdwebhooks_sig_list_parse(many, n, s, KANCA_SIGNATURES_MAX);
	ok(k == KANCA_SIGNATURES_MAX && sig_is(s, k, 15, "15"), "exactly KANCA_SIGNATURES_MAX v1 entries are kept");
	n += (size_t)snprintf(many + n, sizeof many - n, " v1,xx");
	is_int(stdwebhooks_sig_list_parse(many, n, s, KANCA_SIGNATURES_MAX), -1,
	       "one v1 more than KANCA_SIGNATURES_MAX refuses the header");
	is_int(stdwebhooks_sig_list_parse(S("v1,a v1,b v1,c"), s, 2), -1, "the cap is the caller's");
	n = 0;
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "%sv1a,%02d", i ? " " : "", i);
	ok(stdwebhooks_sig_list_parse(many, n, s, KANCA_SIGNATURES_MAX) == 0, "any number of skipped entries");
}

/* ---- secret decoding ---- */

static void test_secret_key(void)
{
	unsigned char key[KANCA_SECRET_MAX];
	long n;

	n = stdwebhooks_secret_key(S("whsec_YWJj"), key, sizeof key);
	ok(n == 3 && memcmp(key, "abc", 3) == 0, "whsec_YWJj is \"abc\"");
	n = stdwebhooks_secret_key(S("YWJj"), key, sizeof key);
	ok(n == 3 && memcmp(key, "abc", 3) == 0, "without the prefix the whole text is base64");
	n = stdwebhooks_secret_key(S("whsec_YWI="), key, sizeof key);
	ok(n == 2 && memcmp(key, "ab", 2) == 0, "padded base64");
	n = stdwebhooks_secret_key(S("whsec_AAEC/f7/"), key, sizeof key);
	ok(n == 6 && memcmp(key, "\x00\x01\x02\xfd\xfe\xff", 6) == 0, "binary key bytes, '/' of the standard alphabet");
	n = stdwebhooks_secret_key(S("whsec_608Fn6XF0zPF9hXfXJtvlRlW/9sWWM3z"), key, sizeof key);
	is_int(n, 24, "the vector secret decodes to 24 bytes");
	is_int(stdwebhooks_secret_key(S("whsec_"), key, sizeof key), -1, "whsec_ alone: no key (fail closed)");
	is_int(stdwebhooks_secret_key(S(""), key, sizeof key), -1, "empty secret: no key");
	is_int(stdwebhooks_secret_key(NULL, 0, key, sizeof key), -1, "NULL secret: no key");
	is_int(stdwebhooks_secret_key(S("whsec_YWI"), key, sizeof key), -1, "unpadded base64 is refused");
	is_int(stdwebhooks_secret_key(S("whsec_AAEC_f7_"), key, sizeof key), -1, "base64url is refused");
	is_int(stdwebhooks_secret_key(S("whsec_!!!!"), key, sizeof key), -1, "not base64 at all");
	is_int(stdwebhooks_secret_key(S("whsec_YW Jj"), key, sizeof key), -1, "white space inside is refused");
	is_int(stdwebhooks_secret_key(S("WHSEC_YWJj"), key, sizeof key), -1, "the prefix is case-sensitive");
	is_int(stdwebhooks_secret_key(S("whsec_whsec_YWJj"), key, sizeof key), -1, "only one prefix is stripped");
	is_int(stdwebhooks_secret_key(S("whsec_YWJjZGVm"), key, 5), -1, "a key larger than cap is refused");
	n = stdwebhooks_secret_key(S("whsec_YWJjZGVm"), key, 6);
	ok(n == 6 && memcmp(key, "abcdef", 6) == 0, "a key of exactly cap bytes fits");
}

/* ---- the vectors ---- */

/* The header names the standardwebhooks and svix vectors use. */
static const char *const vector_headers[] = {"Content-Type", "webhook-id",     "webhook-timestamp", "webhook-signature",
					     "svix-id",	     "svix-timestamp", "svix-signature",    NULL};

static int build_from_vector(const struct json *vec, struct request *r, struct store_source *s, long long *now)
{
	const struct json *headers = json_get(vec, "headers"), *jn = json_get(vec, "now");
	const struct json *jlen = json_get(vec, "body_len");
	const char *b64 = harness_str(vec, "body_b64");
	size_t blen = jlen ? (size_t)json_integer(jlen) : 0;
	unsigned char *body = malloc(blen + 1), d[VERIFY_SHA256_LEN];
	char hex[VERIFY_HEX_LEN + 1];
	long got;

	harness_req_init(r);
	src_init(s, harness_str(vec, "provider"));
	if (!body)
		abort();
	got = verify_base64_decode(b64, strlen(b64), 0, body, blen + 1);
	if (got != (long)blen || verify_sha256(body, blen, d) < 0) {
		free(body);
		return -1;
	}
	verify_hex_encode(d, sizeof d, hex);
	if (strcmp(hex, harness_str(vec, "body_sha256")) != 0) {
		free(body);
		return -1;
	}
	harness_req_body(r, body, blen);
	free(body);
	for (size_t i = 0; vector_headers[i]; i++) {
		size_t vlen = 0;
		const char *v = json_get_string(headers, vector_headers[i], &vlen);
		if (v)
			harness_req_header(r, vector_headers[i], v, vlen);
	}
	if (json_get_string(vec, "secret", NULL))
		src_secret(s, 1, harness_str(vec, "secret"));
	*now = jn ? json_integer(jn) : 0;
	return 0;
}

static void test_vectors(const char *provider, const struct provider *p)
{
	struct json *root = harness_load_vectors();
	const struct json *vs = json_get(root, "vectors");
	const struct json *want = json_get(json_get(json_get(root, "counts"), provider), "valid");
	const struct json *want_bad = json_get(json_get(json_get(root, "counts"), provider), "invalid");
	int seen = 0, seen_valid = 0;

	if (!root)
		return;
	for (size_t i = 0; i < json_array_len(vs); i++) {
		const struct json *vec = json_array_at(vs, i);
		const char *name = harness_str(vec, "name");
		int valid = strcmp(harness_str(vec, "expect"), "valid") == 0;
		struct request r;
		struct store_source s;
		struct result res;
		long long now = 0;
		int has_headers;

		if (strcmp(harness_str(vec, "provider"), provider) != 0)
			continue;
		seen++;
		seen_valid += valid;
		if (!ok(build_from_vector(vec, &r, &s, &now) == 0, "%s/%s: body decodes to body_sha256", provider,
			name)) {
			request_free(&r);
			store_source_free(&s);
			continue;
		}
		has_headers =
		    request_header(&r, "webhook-signature", NULL) || request_header(&r, "svix-signature", NULL);
		run(p, &r, &s, now, has_headers, &res);
		if (valid) {
			is_int(res.verdict, OUTCOME_OK, "%s/%s: valid (%s)", provider, name, res.v.reason);
			is_int(res.v.secret_id, 1, "%s/%s: secret 1 recorded", provider, name);
			ok(strstr(res.v.detail, "secret=1") && !strstr(res.v.detail, "whsec_"),
			   "%s/%s: detail names the secret id, not the secret (%s)", provider, name, res.v.detail);
		} else {
			is_int(res.verdict, OUTCOME_UNAUTHORIZED, "%s/%s: rejected with 401 (%s)", provider, name,
			       res.v.reason);
			ok(res.v.reason[0] != '\0', "%s/%s: with a reason", provider, name);
			is_int(res.v.secret_id, 0, "%s/%s: no secret recorded", provider, name);
			if (strstr(name, "too_old") || strstr(name, "too_new")) {
				/* the MAC itself is right: only the timestamp rejects it */
				struct result again;

				run(p, &r, &s, strstr(name, "too_old") ? now - 1 : now + 1, 0, &again);
				is_int(again.verdict, OUTCOME_OK, "%s/%s: accepted one second closer", provider, name);
			}
		}
		if (has_headers) {
			is_int(res.identified, OUTCOME_OK, "%s/%s: identify ok", provider, name);
			is_int(res.nevs, 1, "%s/%s: one event", provider, name);
			is_str(res.ev.key, harness_str(vec, "idempotency_key"), "%s/%s: idempotency key", provider,
			       name);
			is_str(res.ev.type, harness_str(vec, "event_type"), "%s/%s: event type", provider, name);
		}
		request_free(&r);
		store_source_free(&s);
	}
	ok(seen > 0 && want && want_bad && seen_valid == json_integer(want) &&
	       seen - seen_valid == json_integer(want_bad),
	   "every %s vector was checked (%d: %d valid)", provider, seen, seen_valid);
	json_free(root);
}

/* ---- signing our own requests ---- */

#define SECRET_A "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"     /* base64 of 24 bytes */
#define SECRET_B "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24=" /* "second secret for rotation" */

static const char body_json[] = "{\"type\":\"invoice.paid\",\"data\":{\"n\":1}}";

/* base64 HMAC of id.ts.body under the whsec_ secret, into out (>= 45 bytes). */
static void sign_b64(const char *secret, const char *id, const char *ts, const char *body, size_t blen, char *out)
{
	unsigned char key[KANCA_SECRET_MAX];
	long klen = stdwebhooks_secret_key(secret, strlen(secret), key, sizeof key);
	const void *parts[5] = {id, ".", ts, ".", body};
	size_t lens[5] = {strlen(id), 1, strlen(ts), 1, blen};

	if (klen < 0 || verify_hmac_text(VERIFY_BASE64, key, (size_t)klen, parts, lens, 5, out) < 0)
		abort();
}

struct msg {
	const char *prefix;	   /* "webhook" or "svix"; NULL for no headers */
	const char *id, *ts, *sig; /* NULL: header absent */
	const char *prefix2;	   /* a second header set, or NULL */
	const char *id2, *ts2, *sig2;
	const char *body;
};

static enum outcome check(const struct provider *p, const struct msg *m, const char *const *secrets, long long now,
			  struct result *res)
{
	struct request r;
	struct store_source s;
	char name[64];
	const char *pre[2] = {m->prefix, m->prefix2};
	const char *vals[2][3] = {{m->id, m->ts, m->sig}, {m->id2, m->ts2, m->sig2}};
	static const char *const suffix[3] = {"id", "timestamp", "signature"};
	const char *body = m->body ? m->body : body_json;

	harness_req_init(&r);
	src_init(&s, p->name);
	harness_req_body(&r, body, strlen(body));
	for (int set = 0; set < 2; set++)
		for (int h = 0; pre[set] && h < 3; h++)
			if (vals[set][h]) {
				snprintf(name, sizeof name, "%s-%s", pre[set], suffix[h]);
				harness_req_header(&r, name, vals[set][h], strlen(vals[set][h]));
			}
	for (size_t i = 0; secrets[i]; i++)
		src_secret(&s, (long long)(10 + i), secrets[i]);
	run(p, &r, &s, now, 1, res);
	request_free(&r);
	store_source_free(&s);
	return res->verdict;
}

static void test_rules(void)
{
	static const char *const a[] = {SECRET_A, NULL};
	const struct provider *sw = &provider_standardwebhooks;
	char ts[32], sig[64], hv[2048], sigb[64], zts[40];
	struct result res;
	struct msg m;
	size_t n;

	snprintf(ts, sizeof ts, "%lld", NOW);
	sign_b64(SECRET_A, "msg_1", ts, body_json, strlen(body_json), sig);
	snprintf(hv, sizeof hv, "v1,%s", sig);
	m = (struct msg){.prefix = "webhook", .id = "msg_1", .ts = ts, .sig = hv};
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "self-signed message verifies");
	is_str(res.ev.key, "msg_1", "key is webhook-id");
	is_str(res.ev.type, "invoice.paid", "type is the body type");
	ok(strstr(res.v.detail, "header=webhook-signature") && !strstr(res.v.detail, sig),
	   "detail names the header, not the signature (%s)", res.v.detail);

	/* tolerance both ways, exactly 300 valid */
	is_int(check(sw, &m, a, NOW + 300, &res), OUTCOME_OK, "age 300 is valid");
	is_int(check(sw, &m, a, NOW + 301, &res), OUTCOME_UNAUTHORIZED, "age 301 is invalid");
	is_int(check(sw, &m, a, NOW - 300, &res), OUTCOME_OK, "300 s in the future is valid");
	is_int(check(sw, &m, a, NOW - 301, &res), OUTCOME_UNAUTHORIZED, "301 s in the future is invalid");

	/* the timestamp is parsed like parseInt and signed as the decimal of the integer */
	snprintf(zts, sizeof zts, "00%s", ts);
	m.ts = zts;
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "leading zeros: the parsed integer is signed");
	snprintf(zts, sizeof zts, "%s.5", ts);
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "trailing \".5\": parseInt ignores it");
	m.ts = "soon";
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "a NaN timestamp is invalid");
	m.ts = "99999999999999999999999999";
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "a huge timestamp is invalid");
	m.ts = "-99999999999999999999999999";
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "a hugely negative timestamp is invalid");
	snprintf(zts, sizeof zts, "00%s", ts);
	sign_b64(SECRET_A, "msg_1", zts, body_json, strlen(body_json), sigb);
	snprintf(hv, sizeof hv, "v1,%s", sigb);
	m.ts = zts;
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "a MAC over the raw text \"00...\" is invalid");
	m.ts = ts;

	/* the list */
	snprintf(hv, sizeof hv, "v1a,AAAA v2,%s v1,bm9wZQ== v1,%s", sig, sig);
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "the matching v1 among others");
	snprintf(hv, sizeof hv, "v2,%s v1a,%s", sig, sig);
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "the right MAC under another version is ignored");
	snprintf(hv, sizeof hv, "v1,%s,trailing", sig);
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "v1,<sig>,x: the signature ends at the next ','");
	snprintf(hv, sizeof hv, "v1,%.43s", sig);
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "missing padding is invalid");
	{
		char url[64], hex[VERIFY_HEX_LEN + 1];
		unsigned char raw[64];
		long rn = verify_base64_decode(sig, strlen(sig), 0, raw, sizeof raw);

		snprintf(url, sizeof url, "%s", sig);
		for (char *c = url; *c; c++)
			*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
		snprintf(hv, sizeof hv, "v1,%s", url);
		ok(strcmp(url, sig) != 0, "the test MAC has a '+' or '/' to translate");
		is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "base64url is invalid");
		ok(rn == 32, "the test MAC decodes to 32 bytes");
		verify_hex_encode(raw, 32, hex);
		snprintf(hv, sizeof hv, "v1,%s", hex);
		is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "hex is invalid");
	}
	n = 0;
	for (int i = 0; i < KANCA_SIGNATURES_MAX - 1; i++)
		n += (size_t)snprintf(hv + n, sizeof hv - n, "v1,%043d= ", i);
	snprintf(hv + n, sizeof hv - n, "v1,%s", sig);
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "the %dth v1 matches", KANCA_SIGNATURES_MAX);
	n = 0;
	for (int i = 0; i < KANCA_SIGNATURES_MAX; i++)
		n += (size_t)snprintf(hv + n, sizeof hv - n, "v1,%043d= ", i);
	snprintf(hv + n, sizeof hv - n, "v1,%s", sig);
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "a %dth v1 refuses the header",
	       KANCA_SIGNATURES_MAX + 1);
	snprintf(hv, sizeof hv, "v1,%s", sig);

	/* missing and empty headers */
	m.id = NULL;
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "no webhook-id: 401");
	m.id = "";
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "empty webhook-id counts as missing");
	m.id = "msg_1";
	m.ts = NULL;
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "no webhook-timestamp: 401");
	m.ts = ts;
	m.sig = "";
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "empty webhook-signature: 401");
	m.sig = hv;
	m.id = "msg_2";
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "the id is signed");
	m.id = "msg_1";
	m.prefix = "svix";
	is_int(check(sw, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "standardwebhooks does not read svix-* headers");

	/* Svix: svix-* preferred, the whole webhook-* set as fallback */
	is_int(check(&provider_svix, &m, a, NOW, &res), OUTCOME_OK, "svix: svix-* headers");
	is_str(res.ev.key, "msg_1", "svix: key is svix-id");
	ok(strstr(res.v.detail, "svix v1") && strstr(res.v.detail, "header=svix-signature"), "svix: detail (%s)",
	   res.v.detail);
	m.prefix = "webhook";
	is_int(check(&provider_svix, &m, a, NOW, &res), OUTCOME_OK, "svix: webhook-* headers alone");
	ok(strstr(res.v.detail, "header=webhook-signature") != NULL, "svix: detail names webhook-signature");
	m = (struct msg){.prefix = "svix",
			 .id = "msg_1",
			 .ts = ts,
			 .sig = hv,
			 .prefix2 = "webhook",
			 .id2 = "msg_other",
			 .ts2 = ts,
			 .sig2 = "v1,AAAA"};
	is_int(check(&provider_svix, &m, a, NOW, &res), OUTCOME_OK, "svix: svix-* wins over webhook-*");
	is_str(res.ev.key, "msg_1", "svix: key from the set that verified");
	m = (struct msg){.prefix = "svix",
			 .id = "msg_other",
			 .ts = ts,
			 .sig = NULL,
			 .prefix2 = "webhook",
			 .id2 = "msg_1",
			 .ts2 = ts,
			 .sig2 = hv};
	is_int(check(&provider_svix, &m, a, NOW, &res), OUTCOME_OK,
	       "svix: an incomplete svix-* set falls back to webhook-*");
	is_str(res.ev.key, "msg_1", "svix: key is then webhook-id");
	m = (struct msg){.prefix = "svix",
			 .id = "msg_1",
			 .ts = ts,
			 .sig = "v1,AAAA",
			 .prefix2 = "webhook",
			 .id2 = "msg_1",
			 .ts2 = ts,
			 .sig2 = hv};
	is_int(check(&provider_svix, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED,
	       "svix: a complete svix-* set is used even when only webhook-* would verify");
	m = (struct msg){.prefix = "svix", .id = "msg_1", .ts = ts, .sig = NULL};
	is_int(check(&provider_svix, &m, a, NOW, &res), OUTCOME_UNAUTHORIZED, "svix: nothing complete: 401");

	/* rotation and secret forms */
	m = (struct msg){.prefix = "webhook", .id = "msg_1", .ts = ts, .sig = hv};
	{
		static const char *const rotated[] = {SECRET_B, SECRET_A, NULL};
		static const char *const lost[] = {SECRET_B, NULL};
		static const char *const bare[] = {&SECRET_A[6], NULL};
		static const char *const bad_first[] = {"whsec_", "whsec_not base64!", SECRET_A, NULL};
		static const char *const all_bad[] = {"whsec_", "whsec_%%%%", NULL};
		static const char *const as_text[] = {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw-", NULL};
		char sign_b[64], both[200];

		is_int(check(sw, &m, rotated, NOW, &res), OUTCOME_OK, "rotation: signed with the old secret");
		is_int(res.v.secret_id, 11, "rotation: the old secret (id 11) is recorded");
		ok(strstr(res.v.detail, "secret=11") != NULL, "rotation: detail names secret 11 (%s)", res.v.detail);
		sign_b64(SECRET_B, "msg_1", ts, body_json, strlen(body_json), sign_b);
		snprintf(both, sizeof both, "v1,%s", sign_b);
		m.sig = both;
		is_int(check(sw, &m, rotated, NOW, &res), OUTCOME_OK, "rotation: signed with the new secret");
		is_int(res.v.secret_id, 10, "rotation: the new secret (id 10) is recorded");
		m.sig = hv;
		is_int(check(sw, &m, lost, NOW, &res), OUTCOME_UNAUTHORIZED,
		       "rotation: a secret the source lost fails");
		is_int(res.v.secret_id, 0, "rotation: nothing recorded on failure");
		is_int(check(sw, &m, bare, NOW, &res), OUTCOME_OK, "a secret without whsec_ is the base64 itself");
		is_int(check(sw, &m, bad_first, NOW, &res), OUTCOME_OK,
		       "undecodable secrets are skipped, a good one works");
		is_int(res.v.secret_id, 12, "... and it is the one recorded");
		is_int(check(sw, &m, all_bad, NOW, &res), OUTCOME_INTERNAL, "no decodable secret: fail closed (500)");
		is_int(check(sw, &m, as_text, NOW, &res), OUTCOME_INTERNAL, "a non-base64 secret never keys as text");
	}

	/* identify: non-JSON bodies verify with an empty type; odd ids. JSON kanca refuses to read (a
	 * member twice, \u0000) is 400 (json.h) */
	{
		static const char *const refused[] = {"{\"type\":\"a\\u0000b\"}", "{\"type\":\"a\",\"type\":\"b\"}"};
		static const char *const bodies[] = {
		    "plain text", "", "[1]", "{\"type\":7}", "{\"type\":\"a\\u0001b\"}", "{\"type\":\"user.created\"}"};
		static const char *const types[] = {"", "", "", "", "", "user.created"};
		char long_id[400], hex[VERIFY_HEX_LEN + 1];
		unsigned char d[VERIFY_SHA256_LEN];

		for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
			sign_b64(SECRET_A, "msg_b", ts, refused[i], strlen(refused[i]), sig);
			snprintf(hv, sizeof hv, "v1,%s", sig);
			m = (struct msg){.prefix = "webhook", .id = "msg_b", .ts = ts, .sig = hv, .body = refused[i]};
			is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "refused body %zu verifies", i);
			is_int(res.identified, OUTCOME_BAD_REQUEST, "refused body %zu: 400", i);
		}

		for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
			sign_b64(SECRET_A, "msg_b", ts, bodies[i], strlen(bodies[i]), sig);
			snprintf(hv, sizeof hv, "v1,%s", sig);
			m = (struct msg){.prefix = "webhook", .id = "msg_b", .ts = ts, .sig = hv, .body = bodies[i]};
			is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "body %zu verifies", i);
			is_int(res.identified, OUTCOME_OK, "body %zu is identified", i);
			is_str(res.ev.key, "msg_b", "body %zu: key is webhook-id", i);
			is_str(res.ev.type, types[i], "body %zu: type \"%s\"", i, types[i]);
		}
		memset(long_id, 'x', sizeof long_id - 1);
		long_id[sizeof long_id - 1] = '\0';
		sign_b64(SECRET_A, long_id, ts, body_json, strlen(body_json), sig);
		snprintf(hv, sizeof hv, "v1,%s", sig);
		m = (struct msg){.prefix = "webhook", .id = long_id, .ts = ts, .sig = hv};
		is_int(check(sw, &m, a, NOW, &res), OUTCOME_OK, "a %zu-byte id verifies", strlen(long_id));
		if (verify_sha256(long_id, strlen(long_id), d) < 0)
			abort();
		verify_hex_encode(d, sizeof d, hex);
		is_str(res.ev.key, hex, "an id longer than KANCA_KEY_MAX is keyed by its SHA-256");
	}
}

int main(void)
{
	test_sig_list();
	test_secret_key();
	test_vectors("standardwebhooks", &provider_standardwebhooks);
	test_vectors("svix", &provider_svix);
	test_rules();
	is_int(provider_standardwebhooks.needs_secret && provider_svix.needs_secret, 1, "both need a secret");
	is_int(provider_standardwebhooks.no_secret, OUTCOME_INTERNAL, "standardwebhooks without one fails closed");
	is_int(provider_svix.no_secret, OUTCOME_INTERNAL, "svix without one fails closed");
	return done_testing();
}
