/* test_stripe.c: the Stripe-Signature parser and parseInt edge cases, every stripe vector of
 * tests/vectors.json through verify + identify, tolerance both ways, and secret rotation. */
#include "first.h"
#include "tap.h"
#include "harness.h"

#include "config.h"
#include "json.h"
#include "providers/provider.h"
#include "providers/common.h"
#include "providers/stripe.h"
#include "request.h"
#include "store/store.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct provider provider_stripe;

#define NOW 1767225600LL
/* a string literal and its length (embedded NULs included) */
#define S(lit) lit, sizeof(lit) - 1

/* ---- request and source fixtures ---- */

static void src_init(struct store_source *s)
{
	memset(s, 0, sizeof *s);
	s->id = 1;
	snprintf(s->provider, sizeof s->provider, "stripe");
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
	char reason[256];
};

static void run(const struct request *r, const struct store_source *s, long long now, struct result *out)
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
	out->verdict = provider_stripe.verify(&c, &out->v);
	buf_init(&reason, 4096);
	out->identified = provider_stripe.identify(&c, &out->ev, &out->nevs, &reason, &state);
	snprintf(out->reason, sizeof out->reason, "%s", buf_str(&reason));
	buf_free(&reason);
	if (state && provider_stripe.state_free)
		provider_stripe.state_free(state);
}

/* ---- the parser ---- */

static void test_parse_int(void)
{
	static const struct {
		const char *in;
		int ok;
		long long v;
	} cases[] = {
	    {"1767225600", 1, 1767225600LL},
	    {"0001767225600", 1, 1767225600LL},
	    {"+42", 1, 42},
	    {"-42", 1, -42},
	    {"-0", 1, 0},
	    {"  \t\r\n\v\f7", 1, 7},
	    {"12abc", 1, 12},
	    {"12.9", 1, 12},
	    {"1e3", 1, 1},
	    {"0x10", 1, 0},
	    {"", 0, 0},
	    {"abc", 0, 0},
	    {"-", 0, 0},
	    {"+", 0, 0},
	    {"- 5", 0, 0},
	    {"+-5", 0, 0},
	    {"x12", 0, 0},
	    {"99999999999999999999999999999", 1, COMMON_JS_INT_MAX},
	    {"-99999999999999999999999999999", 1, -COMMON_JS_INT_MAX},
	    {"999999999999999", 1, 999999999999999LL},
	    {"1000000000000000", 1, COMMON_JS_INT_MAX},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long long v = -12345;
		int ok = common_parse_js_int(cases[i].in, strlen(cases[i].in), &v);

		is_int(ok, cases[i].ok, "parseInt(\"%s\") %s", cases[i].in, cases[i].ok ? "is a number" : "is NaN");
		if (cases[i].ok)
			is_int(v, cases[i].v, "parseInt(\"%s\") == %lld", cases[i].in, cases[i].v);
	}
	{
		long long v = 0;
		/* a NUL ends the digits like any other non-digit; bytes after it are ignored */
		is_int(common_parse_js_int("12\0"
					   "34",
					   5, &v),
		       1, "parseInt stops at an embedded NUL");
		is_int(v, 12, "... with the digits before it");
		is_int(common_parse_js_int("1234", 2, &v), 1, "parseInt reads only n bytes");
		is_int(v, 12, "... 12 of \"1234\" with n=2");
	}
}

static int sig_is(const struct stripe_header *h, size_t i, const char *want)
{
	return i < h->nv1 && h->v1[i].len == strlen(want) && memcmp(h->v1[i].p, want, h->v1[i].len) == 0;
}

static void test_header_parser(void)
{
	struct stripe_header h;
	char many[4096];
	size_t n;

	ok(stripe_header_parse(S("t=1767225600,v1=abc"), &h) == 0 && h.has_t && h.t_ok && h.t == 1767225600 &&
	       h.nv1 == 1 && sig_is(&h, 0, "abc") && !h.bad_v1,
	   "plain header: t and one v1");
	ok(stripe_header_parse(S("v1=aa,t=5,v1=bb,v0=cc,v2=dd"), &h) == 0 && h.t == 5 && h.nv1 == 2 &&
	       sig_is(&h, 0, "aa") && sig_is(&h, 1, "bb"),
	   "v1 items kept in order, v0/v2 ignored, t anywhere");

	/* spaces: keys are compared exactly, values keep them (parseInt trims t's leading blanks) */
	ok(stripe_header_parse(S("t=5, v1=aa"), &h) == 0 && h.has_t && h.nv1 == 0, "\" v1\" is not v1 (no trimming)");
	ok(stripe_header_parse(S(" t=5,v1=aa"), &h) == 0 && !h.has_t && h.nv1 == 1, "\" t\" is not t");
	ok(stripe_header_parse(S("t =5,v1 =aa"), &h) == 0 && !h.has_t && h.nv1 == 0, "\"t \" and \"v1 \" are not keys");
	ok(stripe_header_parse(S("t= 5,v1= aa "), &h) == 0 && h.t_ok && h.t == 5 && sig_is(&h, 0, " aa "),
	   "value blanks: t parsed like parseInt, v1 kept as is");
	ok(stripe_header_parse(S("T=5,V1=aa"), &h) == 0 && !h.has_t && h.nv1 == 0, "keys are case-sensitive");

	/* empty items and empty input */
	ok(stripe_header_parse(S(",,t=5,,v1=aa,,"), &h) == 0 && h.t == 5 && h.nv1 == 1 && sig_is(&h, 0, "aa"),
	   "empty items are skipped");
	ok(stripe_header_parse(S(""), &h) == 0 && !h.has_t && h.nv1 == 0, "empty header: nothing");
	ok(stripe_header_parse(NULL, 0, &h) == 0 && !h.has_t && h.nv1 == 0, "NULL header: nothing");
	ok(stripe_header_parse(S(","), &h) == 0 && !h.has_t && h.nv1 == 0, "\",\": nothing");

	/* '=' inside values: the value ends at the next '=' like item.split('=')[1] */
	ok(stripe_header_parse(S("t=5,v1=ab=cd"), &h) == 0 && sig_is(&h, 0, "ab"), "v1=ab=cd gives \"ab\"");
	ok(stripe_header_parse(S("t=5=6,v1=x"), &h) == 0 && h.t_ok && h.t == 5, "t=5=6 gives 5");
	ok(stripe_header_parse(S("t=5,v1==ab"), &h) == 0 && h.nv1 == 1 && h.bad_v1, "v1==ab has an empty value");
	ok(stripe_header_parse(S("t=5,v1="), &h) == 0 && h.nv1 == 1 && h.bad_v1, "v1= has an empty value");
	ok(stripe_header_parse(S("t=5,v1"), &h) == 0 && h.nv1 == 1 && h.bad_v1, "v1 without '=' has no value");
	ok(stripe_header_parse(S("t=5,v1=aa,v1"), &h) == 0 && h.nv1 == 2 && h.bad_v1,
	   "a valueless v1 among good ones still marks the header");
	ok(stripe_header_parse(S("=5,v1=aa"), &h) == 0 && !h.has_t, "empty key is not t");

	/* duplicate and odd t */
	ok(stripe_header_parse(S("t=1,t=2,v1=aa"), &h) == 0 && h.t_ok && h.t == 2, "the last t wins");
	ok(stripe_header_parse(S("t=2,t=x,v1=aa"), &h) == 0 && h.has_t && !h.t_ok, "a last t that is NaN wins too");
	ok(stripe_header_parse(S("t=2,t,v1=aa"), &h) == 0 && h.has_t && !h.t_ok, "a last t without value is NaN");
	ok(stripe_header_parse(S("t=x,t=7,v1=aa"), &h) == 0 && h.t_ok && h.t == 7, "an earlier NaN t is replaced");
	ok(stripe_header_parse(S("t=-1767225600,v1=a"), &h) == 0 && h.t_ok && h.t == -1767225600LL, "negative t");
	n = (size_t)snprintf(many, sizeof many, "t=%s,v1=aa", "123456789012345678901234567890123456789");
	ok(stripe_header_parse(many, n, &h) == 0 && h.t_ok && h.t == COMMON_JS_INT_MAX, "huge t saturates");
	ok(stripe_header_parse(S("t=00001767225600,v1=a"), &h) == 0 && h.t == 1767225600LL, "leading zeros");

	/* NUL bytes are ordinary bytes */
	ok(stripe_header_parse(S("t=5\0,v1=a\0b"), &h) == 0 && h.t == 5 && h.nv1 == 1 && h.v1[0].len == 3,
	   "embedded NUL bytes do not end the header");

	/* the cap on v1 items */
	n = (size_t)snprintf(many, sizeof many, "t=5");
	for (int i = 0; i < KANCA_SIGNATURES_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, ",v1=%02d", i);
	ok(stripe_header_parse(many, n, &h) == 0 && h.nv1 == KANCA_SIGNATURES_MAX && sig_is(&h, 15, "15"),
	   "exactly KANCA_SIGNATURES_MAX v1 items are kept");
	n += (size_t)snprintf(many + n, sizeof many - n, ",v1=xx");
	is_int(stripe_header_parse(many, n, &h), -1, "one v1 more than KANCA_SIGNATURES_MAX refuses the header");
	n = (size_t)snprintf(many, sizeof many, "t=5");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, ",v0=%02d", i);
	ok(stripe_header_parse(many, n, &h) == 0 && h.nv1 == 0, "any number of ignored items is fine");
}

/* ---- the vectors ---- */

/* The header names the stripe vectors use. */
static const char *const vector_headers[] = {"Content-Type", "User-Agent", "Stripe-Signature", NULL};

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
	src_init(s);
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

static void test_vectors(void)
{
	struct json *root = harness_load_vectors();
	const struct json *vs = json_get(root, "vectors");
	const struct json *want = json_get(json_get(json_get(root, "counts"), "stripe"), "valid");
	const struct json *want_bad = json_get(json_get(json_get(root, "counts"), "stripe"), "invalid");
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

		if (strcmp(harness_str(vec, "provider"), "stripe") != 0)
			continue;
		seen++;
		seen_valid += valid;
		if (!ok(build_from_vector(vec, &r, &s, &now) == 0, "stripe/%s: body decodes to body_sha256", name)) {
			request_free(&r);
			store_source_free(&s);
			continue;
		}
		run(&r, &s, now, &res);
		if (valid) {
			is_int(res.verdict, OUTCOME_OK, "stripe/%s: valid (%s)", name, res.v.reason);
			is_int(res.v.secret_id, 1, "stripe/%s: secret 1 recorded", name);
			ok(strstr(res.v.detail, "secret=1") && !strstr(res.v.detail, "whsec_"),
			   "stripe/%s: detail names the secret id, not the secret (%s)", name, res.v.detail);
		} else {
			is_int(res.verdict, OUTCOME_BAD_REQUEST, "stripe/%s: rejected with 400 (%s)", name,
			       res.v.reason);
			ok(res.v.reason[0] != '\0', "stripe/%s: with a reason", name);
			is_int(res.v.secret_id, 0, "stripe/%s: no secret recorded", name);
			if (strstr(name, "expired")) {
				/* the MAC itself is right: only the age rejects it */
				struct result again;

				run(&r, &s, now - 1, &again);
				is_int(again.verdict, OUTCOME_OK, "stripe/%s: accepted one second earlier", name);
			}
		}
		is_int(res.identified, OUTCOME_OK, "stripe/%s: identify ok", name);
		is_int(res.nevs, 1, "stripe/%s: one event", name);
		is_str(res.ev.key, harness_str(vec, "idempotency_key"), "stripe/%s: idempotency key", name);
		is_str(res.ev.type, harness_str(vec, "event_type"), "stripe/%s: event type", name);
		request_free(&r);
		store_source_free(&s);
	}
	ok(seen > 0 && want && want_bad && seen_valid == json_integer(want) &&
	       seen - seen_valid == json_integer(want_bad),
	   "every stripe vector was checked (%d: %d valid)", seen, seen_valid);
	json_free(root);
}

/* ---- signing our own requests ---- */

static const char body_json[] =
    "{\n  \"id\": \"evt_test_1\",\n  \"object\": \"event\",\n  \"type\": \"charge.refunded\"\n}";

static void sign_hex(const char *secret, const char *tstext, const char *body, size_t blen, char out[65])
{
	const void *parts[3] = {tstext, ".", body};
	size_t lens[3] = {strlen(tstext), 1, blen};

	if (verify_hmac_text(VERIFY_HEX, secret, strlen(secret), parts, lens, 3, out) < 0)
		abort();
}

/* Verifies body_json with header value hv against the secrets (id 1.. in order given). */
static enum outcome check(const char *hv, const char *const *secrets, long long now, struct result *res)
{
	struct request r;
	struct store_source s;

	harness_req_init(&r);
	src_init(&s);
	harness_req_body(&r, body_json, strlen(body_json));
	if (hv)
		harness_req_header(&r, "Stripe-Signature", hv, strlen(hv));
	for (size_t i = 0; secrets[i]; i++)
		src_secret(&s, (long long)(10 + i), secrets[i]);
	run(&r, &s, now, res);
	request_free(&r);
	store_source_free(&s);
	return res->verdict;
}

static void test_rules(void)
{
	static const char *const one[] = {"whsec_test_secret_one", NULL};
	char sig[65], other[65], hv[2048], ts[32];
	struct result res;
	size_t n;

	snprintf(ts, sizeof ts, "%lld", NOW);
	sign_hex(one[0], ts, body_json, strlen(body_json), sig);
	snprintf(hv, sizeof hv, "t=%s,v1=%s", ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_OK, "self-signed request verifies");
	is_str(res.ev.key, "evt_test_1", "key is the body id");
	is_str(res.ev.type, "charge.refunded", "type is the body type");
	ok(!strstr(res.v.detail, sig) && !strstr(res.v.detail, one[0]), "detail carries no signature nor secret");

	/* tolerance: the library's past bound, and the hardening on the future side */
	is_int(check(hv, one, NOW + 300, &res), OUTCOME_OK, "age 300 is valid");
	is_int(check(hv, one, NOW + 301, &res), OUTCOME_BAD_REQUEST, "age 301 is invalid");
	is_int(check(hv, one, NOW - 300, &res), OUTCOME_OK, "300 s in the future is valid");
	is_int(check(hv, one, NOW - 301, &res), OUTCOME_BAD_REQUEST, "301 s in the future is refused (hardening)");

	/* what is signed is the decimal of the parsed integer */
	snprintf(hv, sizeof hv, "t=000%s,v1=%s", ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_OK, "t with leading zeros: the parsed integer is signed");
	snprintf(hv, sizeof hv, "t=%sxyz,v1=%s", ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_OK, "t with trailing junk: parseInt ignores it");
	snprintf(hv, sizeof hv, "t= %s,v1=%s", ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_OK, "t with a leading blank: parseInt skips it");
	{
		char zsig[65], zts[40];

		snprintf(zts, sizeof zts, "00%s", ts);
		sign_hex(one[0], zts, body_json, strlen(body_json), zsig);
		snprintf(hv, sizeof hv, "t=%s,v1=%s", zts, zsig);
		is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST,
		       "a MAC over the raw t text \"00...\" is invalid");
	}

	/* parsing rules seen through verify */
	snprintf(hv, sizeof hv, "t=%s, v1=%s", ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "\" v1=\" after \", \" is not a signature");
	snprintf(hv, sizeof hv, "t=%s,v1=%s=extra", ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_OK, "v1=<sig>=extra: the value ends at the second '='");
	snprintf(hv, sizeof hv, "t=%s,v1=%s,v1=", ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST,
	       "an empty v1 beside a good one is refused (library throws)");
	snprintf(hv, sizeof hv, "t=%s,v0=%s", ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "a good MAC under v0 is ignored");
	snprintf(hv, sizeof hv, "v1=%s", sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "no t is invalid");
	snprintf(hv, sizeof hv, "t=abc,v1=%s", sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "a NaN t is invalid");
	snprintf(hv, sizeof hv, "t=%s,t=%lld,v1=%s", ts, NOW - 1000, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "the last t counts (an old one after a fresh one)");
	snprintf(hv, sizeof hv, "t=%lld,t=%s,v1=%s", NOW - 1000, ts, sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_OK, "the last t counts (a fresh one after an old one)");
	snprintf(hv, sizeof hv, "t=99999999999999999999999,v1=%s", sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "a huge t is refused");
	snprintf(hv, sizeof hv, "t=-99999999999999999999999,v1=%s", sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "a hugely negative t is refused");
	is_int(check(NULL, one, NOW, &res), OUTCOME_BAD_REQUEST, "no header: 400");
	is_int(check("", one, NOW, &res), OUTCOME_BAD_REQUEST, "empty header: 400");

	/* encodings: only lowercase hex counts */
	{
		char upper[65];

		for (size_t i = 0; i < 65; i++)
			upper[i] = (sig[i] >= 'a' && sig[i] <= 'f') ? (char)(sig[i] - 32) : sig[i];
		snprintf(hv, sizeof hv, "t=%s,v1=%s", ts, upper);
		is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "upper-case hex is invalid");
		snprintf(hv, sizeof hv, "t=%s,v1=%.63s", ts, sig);
		is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "a truncated signature is invalid");
	}

	/* the v1 cap: 16 signatures are checked, 17 refuse the header */
	n = (size_t)snprintf(hv, sizeof hv, "t=%s", ts);
	for (int i = 0; i < KANCA_SIGNATURES_MAX - 1; i++)
		n += (size_t)snprintf(hv + n, sizeof hv - n, ",v1=%064d", i);
	snprintf(hv + n, sizeof hv - n, ",v1=%s", sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_OK, "the %dth v1 matches", KANCA_SIGNATURES_MAX);
	n = (size_t)snprintf(hv, sizeof hv, "t=%s", ts);
	for (int i = 0; i < KANCA_SIGNATURES_MAX; i++)
		n += (size_t)snprintf(hv + n, sizeof hv - n, ",v1=%064d", i);
	snprintf(hv + n, sizeof hv - n, ",v1=%s", sig);
	is_int(check(hv, one, NOW, &res), OUTCOME_BAD_REQUEST, "a %dth v1 refuses the header",
	       KANCA_SIGNATURES_MAX + 1);

	/* rotation: the source's secrets are newest first; each is tried, the matching one recorded */
	{
		static const char *const rotated[] = {"whsec_new_secret", "whsec_test_secret_one", NULL};
		static const char *const others[] = {"whsec_new_secret", "whsec_unrelated", NULL};
		static const char *const empty[] = {"", NULL};

		snprintf(hv, sizeof hv, "t=%s,v1=%s", ts, sig);
		is_int(check(hv, rotated, NOW, &res), OUTCOME_OK, "rotation: signed with the old secret");
		is_int(res.v.secret_id, 11, "rotation: the old secret (id 11) is recorded");
		ok(strstr(res.v.detail, "secret=11") != NULL, "rotation: detail names secret 11 (%s)", res.v.detail);
		sign_hex(rotated[0], ts, body_json, strlen(body_json), other);
		snprintf(hv, sizeof hv, "t=%s,v1=%s", ts, other);
		is_int(check(hv, rotated, NOW, &res), OUTCOME_OK, "rotation: signed with the new secret");
		is_int(res.v.secret_id, 10, "rotation: the new secret (id 10) is recorded");
		snprintf(hv, sizeof hv, "t=%s,v1=%s", ts, sig);
		is_int(check(hv, others, NOW, &res), OUTCOME_BAD_REQUEST,
		       "rotation: a secret the source lost is refused");
		is_int(res.v.secret_id, 0, "rotation: nothing recorded on failure");
		snprintf(hv, sizeof hv, "t=%s,v1=%s,v1=%s", ts, other, sig);
		is_int(check(hv, one, NOW, &res), OUTCOME_OK, "Stripe's own rotation: second v1 matches");
		is_int(check(hv, empty, NOW, &res), OUTCOME_INTERNAL, "only an empty secret: fail closed with 500");
	}

	/* the key is the whole whsec_ string: neither stripped nor base64-decoded */
	{
		static const char *const bare[] = {"test_secret_one", NULL};

		snprintf(hv, sizeof hv, "t=%s,v1=%s", ts, sig);
		is_int(check(hv, bare, NOW, &res), OUTCOME_BAD_REQUEST, "the secret without whsec_ does not verify");
	}
}

static void test_identify_fallbacks(void)
{
	static const char *const one[] = {"whsec_k", NULL};
	static const char *const bodies[] = {"not json",
					     "{\"type\":\"a.b\"}",
					     "{\"id\":7,\"type\":\"x\"}",
					     "[1,2]",
					     "{\"id\":\"evt_\\u0001\",\"type\":\"t\\nx\"}",
					     ""};
	char sig[65], hv[256], ts[32], hex[65];
	unsigned char d[32];

	snprintf(ts, sizeof ts, "%lld", NOW);
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		struct request r;
		struct store_source s;
		struct result res;
		size_t blen = strlen(bodies[i]);

		sign_hex(one[0], ts, bodies[i], blen, sig);
		snprintf(hv, sizeof hv, "t=%s,v1=%s", ts, sig);
		harness_req_init(&r);
		src_init(&s);
		harness_req_body(&r, bodies[i], blen);
		harness_req_header(&r, "Stripe-Signature", hv, strlen(hv));
		src_secret(&s, 1, one[0]);
		run(&r, &s, NOW, &res);
		if (verify_sha256(bodies[i], blen, d) < 0)
			abort();
		verify_hex_encode(d, sizeof d, hex);
		is_int(res.verdict, OUTCOME_OK, "body %zu verifies", i);
		is_int(res.identified, OUTCOME_OK, "body %zu identified", i);
		is_str(res.ev.key, hex, "body %zu without a usable id: key is the body SHA-256", i);
		is_str(res.ev.type, i == 1 ? "a.b" : i == 2 ? "x" : "", "body %zu: type when a clean string", i);
		request_free(&r);
		store_source_free(&s);
	}
}

int main(void)
{
	test_parse_int();
	test_header_parser();
	test_vectors();
	test_rules();
	test_identify_fallbacks();
	is_int(provider_stripe.needs_secret, 1, "stripe needs a secret");
	is_int(provider_stripe.no_secret, OUTCOME_INTERNAL, "a source without one fails closed (500)");
	return done_testing();
}
