/* test_simple_providers.c: the github, shopify and sosyalkopru providers through verify, identify and
 * answer: every vector of theirs in tests/vectors.json (read via KANCA_SRCDIR), then edge cases; last, every
 * provider's sign (kancactl doctor's self-test deliveries) against the same provider's verify. */
#include "first.h"
#include "tap.h"

#include "buf.h"
#include "config.h"
#include "json.h"
#include "request.h"
#include "response.h"
#include "verify.h"
#include "providers/common.h"
#include "providers/github.h"
#include "providers/registry.h"
#include "providers/shopify.h"
#include "providers/sosyalkopru.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDRS_MAX 32
#define NOW	 1767225600LL

/* ---- building requests ------------------------------------------------------------------------- */

struct hdr {
	char name[64];
	char value[KANCA_HEADER_VALUE_MAX + 1];
};

struct spec {
	struct hdr h[HDRS_MAX];
	size_t n;
	const char *body;
	size_t len;
};

struct secret {
	long long id;
	const char *value;
};

/* Sets (value != NULL) or removes (value == NULL) a header, names compared case-insensitively. */
static void spec_set(struct spec *s, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcasecmp(s->h[i].name, name) == 0)
			break;
	if (!value) {
		if (i < s->n) {
			memmove(&s->h[i], &s->h[i + 1], (s->n - i - 1) * sizeof s->h[0]);
			s->n--;
		}
		return;
	}
	if (i == s->n) {
		if (s->n == HDRS_MAX) {
			diag("too many headers in a test request");
			exit(2);
		}
		snprintf(s->h[s->n].name, sizeof s->h[0].name, "%s", name);
		s->n++;
	}
	snprintf(s->h[i].value, sizeof s->h[0].value, "%s", value);
}

static const char *spec_get(const struct spec *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(s->h[i].name, name) == 0)
			return s->h[i].value;
	return NULL;
}

struct reader {
	const char *p;
	size_t left;
};

static long mem_read(void *ctx, char *p, size_t n)
{
	struct reader *r = ctx;

	if (n > r->left)
		n = r->left;
	memcpy(p, r->p, n);
	r->p += n;
	r->left -= n;
	return (long)n;
}

/* Turns the spec into CGI variables (HTTP_X_HUB_SIGNATURE_256=..., CONTENT_TYPE=...) and a request. */
static int build_request(struct request *r, const struct spec *s, const char *path)
{
	static char vars[HDRS_MAX + 4][KANCA_HEADER_VALUE_MAX + 128];
	char *env[HDRS_MAX + 5];
	size_t k = 0;
	struct reader rd = {s->body ? s->body : "", s->len};

	snprintf(vars[k], sizeof vars[k], "REQUEST_METHOD=POST");
	env[k] = vars[k], k++;
	snprintf(vars[k], sizeof vars[k], "REQUEST_URI=%s", path);
	env[k] = vars[k], k++;
	snprintf(vars[k], sizeof vars[k], "CONTENT_LENGTH=%zu", s->len);
	env[k] = vars[k], k++;
	for (size_t i = 0; i < s->n; i++, k++) {
		char name[80];
		size_t j;

		if (strcasecmp(s->h[i].name, "Content-Type") == 0) {
			snprintf(name, sizeof name, "CONTENT_TYPE");
		} else {
			memcpy(name, "HTTP_", 5);
			for (j = 0; s->h[i].name[j] && j + 6 < sizeof name; j++) {
				char c = s->h[i].name[j];
				name[5 + j] = c == '-' ? '_' : (char)toupper((unsigned char)c);
			}
			name[5 + j] = '\0';
		}
		snprintf(vars[k], sizeof vars[k], "%s=%s", name, s->h[i].value);
		env[k] = vars[k];
	}
	env[k] = NULL;
	if (request_from_env(r, env) != OUTCOME_OK)
		return -1;
	return request_read_body(r, KANCA_BODY_DEFAULT, mem_read, &rd) == OUTCOME_OK ? 0 : -1;
}

/* ---- running a provider like receive.c does ---------------------------------------------------- */

struct result {
	enum outcome verify, final;
	struct verdict v;
	struct provider_event ev;
	size_t nevs;
	char reason[KANCA_REASON_MAX + 1];
	int status, dup_status;
	char answer[2048], dup_answer[2048];
	char headers[16384];
};

static struct provider_event evs[KANCA_EVENTS_MAX];

static void copy_out(char *dst, size_t cap, const struct buf *b)
{
	snprintf(dst, cap, "%s", buf_str(b));
}

static void give_answer(const struct provider *p, const struct provider_call *c, enum outcome o,
			const struct provider_event *ev, const char *msg, int *status, char *out, size_t cap)
{
	struct response res;

	response_init(&res);
	if (p->answer)
		p->answer(c, o, ev, msg, &res);
	else
		common_answer(c, o, ev, msg, &res);
	*status = res.status;
	copy_out(out, cap, &res.body);
	response_free(&res);
}

static int run(const char *provider, const struct spec *s, const struct secret *secrets, size_t nsecrets,
	       struct result *out)
{
	const struct provider *p = registry_find(provider);
	struct request req;
	struct store_source src;
	struct config cfg;
	struct provider_call c;
	struct buf reason, hj;
	void *state = NULL;
	char path[256];
	int rc = -1;

	memset(out, 0, sizeof *out);
	memset(&src, 0, sizeof src);
	memset(evs, 0, sizeof evs);
	config_defaults(&cfg);
	buf_init(&reason, KANCA_REASON_MAX);
	buf_init(&hj, sizeof out->headers - 1);
	snprintf(path, sizeof path, "/webhook/%s/acc", provider);
	if (!p || build_request(&req, s, path) < 0) {
		diag("could not build the request for %s", provider);
		request_free(&req);
		goto done;
	}
	src.id = 1;
	snprintf(src.provider, sizeof src.provider, "%s", p->name);
	snprintf(src.account, sizeof src.account, "acc");
	src.enabled = 1;
	src.options = (char *)"";
	for (size_t i = 0; i < nsecrets && i < KANCA_SECRETS_MAX; i++) {
		src.secrets[i].id = secrets[i].id;
		src.secrets[i].value = (char *)secrets[i].value;
		src.secrets[i].len = strlen(secrets[i].value);
		src.nsecrets++;
	}
	c.req = &req;
	c.source = &src;
	c.cfg = &cfg;
	c.now = NOW;
	out->verify = out->final = p->verify(&c, &out->v);
	if (out->verify == OUTCOME_OK) {
		out->final = p->identify(&c, evs, &out->nevs, &reason, &state);
		if (out->final == OUTCOME_OK && out->nevs == 0)
			out->final = OUTCOME_BAD_REQUEST;
		copy_out(out->reason, sizeof out->reason, &reason);
	} else {
		snprintf(out->reason, sizeof out->reason, "%s", out->v.reason);
	}
	out->ev = evs[0];
	give_answer(p, &c, out->final, out->final == OUTCOME_OK ? &evs[0] : NULL,
		    out->final == OUTCOME_OK ? NULL : out->reason, &out->status, out->answer, sizeof out->answer);
	if (out->final == OUTCOME_OK)
		give_answer(p, &c, OUTCOME_DUPLICATE, &evs[0], NULL, &out->dup_status, out->dup_answer,
			    sizeof out->dup_answer);
	if (request_headers_json(&req, &hj) == 0)
		copy_out(out->headers, sizeof out->headers, &hj);
	if (state && p->state_free)
		p->state_free(state);
	request_free(&req);
	rc = 0;
done:
	buf_free(&reason);
	buf_free(&hj);
	return rc;
}

/* ---- the vectors ------------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
		p[n] = '\0';
		*len = (size_t)n;
	} else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

/* Fills spec headers from a JSON object of string members. json.h has no member iteration, so
 * the names are read from the compact serialisation (header names need no escapes; anything
 * unexpected fails) and every value is then fetched through json_get_string. */
static int headers_from_json(const struct json *obj, struct spec *s)
{
	struct buf ser;
	const char *p;
	int rc = -1;

	buf_init(&ser, 1 << 20);
	if (json_kind_of(obj) != JSON_OBJECT || json_serialize(obj, &ser) < 0)
		goto out;
	p = buf_str(&ser);
	if (*p++ != '{')
		goto out;
	while (*p && *p != '}') {
		char name[64];
		const char *end = strchr(p + 1, '"'), *value;
		size_t n;

		if (*p != '"' || !end || (size_t)(end - p - 1) >= sizeof name ||
		    memchr(p + 1, '\\', (size_t)(end - p - 1)))
			goto out;
		memcpy(name, p + 1, (size_t)(end - p - 1));
		name[end - p - 1] = '\0';
		value = json_get_string(obj, name, &n);
		if (!value || n > KANCA_HEADER_VALUE_MAX || end[1] != ':' || end[2] != '"')
			goto out;
		spec_set(s, name, value);
		for (p = end + 3; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		if (*p != '"')
			goto out;
		p++;
		if (*p == ',')
			p++;
	}
	rc = *p == '}' ? 0 : -1;
out:
	buf_free(&ser);
	return rc;
}

static int mine(const char *provider)
{
	return provider &&
	       (!strcmp(provider, "github") || !strcmp(provider, "shopify") || !strcmp(provider, "sosyalkopru"));
}

/* No secret and no signature value may show in what kanca stores or answers. */
static void no_leaks(const char *tag, const struct result *r, const char *secret, const char *sig)
{
	int leak = 0;

	if (secret && *secret)
		leak |= strstr(r->v.detail, secret) || strstr(r->v.reason, secret) || strstr(r->answer, secret);
	if (sig && strlen(sig) > 8)
		leak |= strstr(r->v.detail, sig) || strstr(r->v.reason, sig) || strstr(r->answer, sig) ||
			strstr(r->reason, sig);
	ok(!leak, "%s: neither the secret nor the signature value appears in detail, reason or answer", tag);
}

static const char *sig_header_of(const char *provider)
{
	return !strcmp(provider, "github")    ? "X-Hub-Signature-256"
	       : !strcmp(provider, "shopify") ? "X-Shopify-Hmac-Sha256"
					      : "X-SosyalKopru-Signature";
}

static void one_vector(const struct json *vec, int *walked)
{
	const char *provider = json_get_string(vec, "provider", NULL);
	const char *name = json_get_string(vec, "name", NULL), *secret = json_get_string(vec, "secret", NULL);
	const char *expect = json_get_string(vec, "expect", NULL), *b64 = json_get_string(vec, "body_b64", NULL);
	const char *type = json_get_string(vec, "event_type", NULL);
	const char *key = json_get_string(vec, "idempotency_key", NULL);
	const char *verdict = json_get_string(vec, "library_verdict", NULL);
	const struct json *blen = json_get(vec, "body_len");
	static struct spec s;
	static struct result r;
	unsigned char *body;
	size_t b64len;
	long n;
	char tag[160];
	struct secret sec[1];

	if (!mine(provider))
		return;
	snprintf(tag, sizeof tag, "%s/%s", provider, name ? name : "?");
	memset(&s, 0, sizeof s);
	if (!name || !secret || !expect || !b64 || !blen || headers_from_json(json_get(vec, "headers"), &s) < 0) {
		ok(0, "%s: the vector has the fields this test reads", tag);
		return;
	}
	b64len = strlen(b64);
	body = malloc(b64len / 4 * 3 + 4);
	n = body ? verify_base64_decode(b64, b64len, 0, body, b64len / 4 * 3 + 4) : -1;
	if (!is_int(n, json_integer(blen), "%s: body_b64 decodes to body_len bytes", tag)) {
		free(body);
		return;
	}
	s.body = (const char *)body;
	s.len = (size_t)n;
	sec[0].id = 1;
	sec[0].value = secret;
	(*walked)++;
	if (run(provider, &s, sec, 1, &r) < 0) {
		ok(0, "%s: ran", tag);
		free(body);
		return;
	}
	if (!strcmp(expect, "valid")) {
		is_int(r.final, OUTCOME_OK, "%s: accepted (%s)", tag, r.reason);
		is_int(r.status, 200, "%s: answered 200", tag);
		is_str(r.ev.type, type, "%s: event type", tag);
		is_str(r.ev.key, key, "%s: idempotency key", tag);
		is_int(r.nevs, 1, "%s: one event", tag);
		is_int(r.v.secret_id, 1, "%s: the secret that verified it is recorded", tag);
		ok(strstr(r.v.detail, "secret=1") != NULL, "%s: verification detail names secret 1 (%s)", tag,
		   r.v.detail);
	} else {
		/* the library's verdict says why: a good HMAC with missing headers is a 400, the rest 401 */
		int headers = verdict && strstr(verdict, "missing_headers") != NULL;

		is_int(r.final, headers ? OUTCOME_BAD_REQUEST : OUTCOME_UNAUTHORIZED, "%s: rejected (%s)", tag,
		       r.reason);
		is_int(r.verify, headers ? OUTCOME_OK : OUTCOME_UNAUTHORIZED, "%s: the signature check %s", tag,
		       headers ? "passed" : "failed");
		is_int(r.status, headers ? 400 : 401, "%s: answered %d", tag, headers ? 400 : 401);
		is_int(r.v.secret_id, headers ? 1 : 0, "%s: secret_id %s", tag, headers ? "recorded" : "not set");
	}
	no_leaks(tag, &r, secret, spec_get(&s, sig_header_of(provider)));
	free(body);
}

static void vectors(void)
{
	const char *dir = getenv("KANCA_SRCDIR");
	char path[1024];
	char *text;
	size_t len = 0;
	struct json *root = NULL;
	const struct json *list, *counts;
	static const char *const names[] = {"github", "shopify", "sosyalkopru"};
	int walked = 0, want = 0;

	snprintf(path, sizeof path, "%s/tests/vectors.json", dir && *dir ? dir : "..");
	text = slurp(path, &len);
	if (!ok(text != NULL, "read %s (set KANCA_SRCDIR to the source directory)", path))
		return;
	if (!ok(json_parse(text, len, 64, &root) == JSON_OK, "tests/vectors.json parses")) {
		free(text);
		return;
	}
	list = json_get(root, "vectors");
	for (size_t i = 0; i < json_array_len(list); i++)
		one_vector(json_array_at(list, i), &walked);
	counts = json_get(root, "counts");
	for (size_t i = 0; i < 3; i++) {
		const struct json *c = json_get(counts, names[i]);
		want += (int)(json_integer(json_get(c, "valid")) + json_integer(json_get(c, "invalid")));
	}
	ok(want > 0, "the vector file counts vectors for github, shopify and sosyalkopru (%d)", want);
	is_int(walked, want, "every github/shopify/sosyalkopru vector was walked");
	json_free(root);
	free(text);
}

/* ---- edge cases -------------------------------------------------------------------------------- */

static const char *const GH_SECRET = "gh_GUSVj9QhlZ6lLVyJbc9HmZOR99fTxJSm";
static const char *const SHOP_SECRET = "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";
#define SK_SECRET_LITERAL "skw_doctor_round_trip_secret"
static const char *const SK_SECRET = "skw_25ca01b3391e2256dbc76726992a5978c0024f6a70c6306a";

/* The vector file, read once for the edge cases. */
static char *vec_text;
static struct json *vec_root;

static void vector_cache_free(void)
{
	json_free(vec_root);
	free(vec_text);
	vec_root = NULL;
	vec_text = NULL;
}

/* The first vector of provider/name from the file, as a spec (body owned by the caller). */
static int vector_spec(const char *provider, const char *name, struct spec *s)
{
	size_t len = 0;
	const struct json *list;
	const char *dir = getenv("KANCA_SRCDIR");
	char path[1024];

	if (!vec_root) {
		snprintf(path, sizeof path, "%s/tests/vectors.json", dir && *dir ? dir : "..");
		vec_text = slurp(path, &len);
		if (!vec_text || json_parse(vec_text, len, 64, &vec_root) != JSON_OK) {
			vector_cache_free();
			return -1;
		}
	}
	list = json_get(vec_root, "vectors");
	for (size_t i = 0; i < json_array_len(list); i++) {
		const struct json *v = json_array_at(list, i);
		const char *p = json_get_string(v, "provider", NULL), *n = json_get_string(v, "name", NULL);
		const char *b64 = json_get_string(v, "body_b64", NULL);
		unsigned char *body;
		long bl;

		if (!p || !n || !b64 || strcmp(p, provider) || strcmp(n, name))
			continue;
		memset(s, 0, sizeof *s);
		if (headers_from_json(json_get(v, "headers"), s) < 0)
			return -1;
		body = malloc(strlen(b64) / 4 * 3 + 4);
		bl = body ? verify_base64_decode(b64, strlen(b64), 0, body, strlen(b64) / 4 * 3 + 4) : -1;
		if (bl < 0) {
			free(body);
			return -1;
		}
		s->body = (const char *)body;
		s->len = (size_t)bl;
		return 0;
	}
	return -1;
}

static void spec_free(struct spec *s)
{
	free((void *)s->body);
	s->body = NULL;
}

static void upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* Hex text -> bytes; the count, or -1. */
static long unhex(const char *h, unsigned char *out, size_t cap)
{
	size_t n = strlen(h);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;
		if (sscanf(h + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return (long)(n / 2);
}

/* Runs and checks verdict + status; returns the result for further checks. */
/* The lowercase hex SHA-256 of a spec's body: the key of a delivery without a usable id. */
static void body_sha256(const struct spec *s, char out[2 * VERIFY_SHA256_LEN + 1])
{
	unsigned char d[VERIFY_SHA256_LEN];

	if (verify_sha256(s->body ? s->body : "", s->len, d) < 0) {
		out[0] = '\0';
		return;
	}
	verify_hex_encode(d, sizeof d, out);
}

static struct result *expect_outcome(const char *provider, const struct spec *s, const struct secret *sec, size_t nsec,
				     enum outcome want, const char *what)
{
	static struct result r;

	if (run(provider, s, sec, nsec, &r) < 0) {
		ok(0, "%s/%s: ran", provider, what);
		return &r;
	}
	is_int(r.final, want, "%s: %s -> %s (%s)", provider, what, outcome_name(want), r.reason);
	return &r;
}

static void hex_signature_variants(const char *provider, const char *vector, const char *header, const char *secret)
{
	static struct spec s;
	struct secret one[1] = {{1, secret}};
	char good[256], bad[512];
	unsigned char raw[64];
	char b64[128];
	long n;

	if (!ok(vector_spec(provider, vector, &s) == 0, "%s: vector %s loaded", provider, vector))
		return;
	snprintf(good, sizeof good, "%s", spec_get(&s, header));
	expect_outcome(provider, &s, one, 1, OUTCOME_OK, "the vector as sent");

	snprintf(bad, sizeof bad, "SHA256=%s", good + 7);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "prefix in upper case (SHA256=)");
	snprintf(bad, sizeof bad, "Sha256=%s", good + 7);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "prefix in mixed case (Sha256=)");
	snprintf(bad, sizeof bad, "sha256=%s", good + 7);
	upper(bad + 7);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "upper-case hex");
	snprintf(bad, sizeof bad, "sha1=%s", good + 7);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "sha1= prefix");
	snprintf(bad, sizeof bad, "%s", good);
	bad[strlen(bad) - 1] = '\0';
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "truncated by one hex digit");
	snprintf(bad, sizeof bad, "sha256=%.32s", good + 7);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "truncated to half the digest");
	snprintf(bad, sizeof bad, "%s0", good);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "one hex digit too many");
	snprintf(bad, sizeof bad, "%s ", good);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "trailing space");
	snprintf(bad, sizeof bad, "sha256= %s", good + 7);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "space after the prefix");
	snprintf(bad, sizeof bad, "%s", good + 7);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "bare hex");
	n = unhex(good + 7, raw, sizeof raw);
	ok(n == 32, "%s: the vector's digest is 32 bytes", provider);
	verify_base64_encode(raw, 32, b64);
	snprintf(bad, sizeof bad, "sha256=%s", b64);
	spec_set(&s, header, bad);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "the same digest in base64");
	spec_set(&s, header, "sha256=");
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "prefix without a digest");
	spec_set(&s, header, "");
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "empty header");
	spec_set(&s, header, NULL);
	expect_outcome(provider, &s, one, 1, OUTCOME_UNAUTHORIZED, "no signature header");
	spec_free(&s);
}

static void rotation(const char *provider, const char *vector, const char *secret)
{
	static struct spec s;
	struct result *r;
	struct secret newer_wrong[2] = {{7, "a-newer-secret-that-does-not-match"}, {3, secret}};
	struct secret newer_right[2] = {{9, secret}, {8, "the-older-secret"}};
	struct secret none_right[2] = {{5, "first-wrong"}, {4, "second-wrong"}};

	if (!ok(vector_spec(provider, vector, &s) == 0, "%s: vector %s loaded", provider, vector))
		return;
	r = expect_outcome(provider, &s, newer_wrong, 2, OUTCOME_OK, "rotation: the older of two secrets matches");
	is_int(r->v.secret_id, 3, "%s: rotation: secret_id 3 (the older one) recorded", provider);
	ok(strstr(r->v.detail, "secret=3") != NULL, "%s: rotation: detail says secret=3 (%s)", provider, r->v.detail);
	r = expect_outcome(provider, &s, newer_right, 2, OUTCOME_OK, "rotation: the newer of two secrets matches");
	is_int(r->v.secret_id, 9, "%s: rotation: secret_id 9 (the newer one) recorded", provider);
	r = expect_outcome(provider, &s, none_right, 2, OUTCOME_UNAUTHORIZED, "rotation: neither secret matches");
	is_int(r->v.secret_id, 0, "%s: rotation: no secret recorded on failure", provider);
	spec_free(&s);
}

static void github_edges(void)
{
	static struct spec s;
	struct secret one[1] = {{1, GH_SECRET}};
	char want[2 * VERIFY_SHA256_LEN + 1];
	struct result *r;
	struct provider_event ev;
	struct buf reason;
	char key[300];

	hex_signature_variants("github", "push_valid", "X-Hub-Signature-256", GH_SECRET);
	rotation("github", "issues_opened_valid", GH_SECRET);
	if (!ok(vector_spec("github", "push_valid", &s) == 0, "github: push_valid loaded"))
		return;
	spec_set(&s, "X-Hub-Signature", "sha1=0000000000000000000000000000000000000000");
	expect_outcome("github", &s, one, 1, OUTCOME_OK,
		       "a wrong legacy X-Hub-Signature beside a good -256 is ignored");
	spec_set(&s, "X-Hub-Signature", NULL);
	expect_outcome("github", &s, one, 1, OUTCOME_OK, "no legacy X-Hub-Signature at all");
	spec_set(&s, "Content-Type", "text/plain");
	expect_outcome("github", &s, one, 1, OUTCOME_OK, "any content type");
	spec_set(&s, "Content-Type", "application/json");
	/* authentic without a usable delivery id: stored, keyed by the body's SHA-256 (never a 4xx) */
	body_sha256(&s, want);
	spec_set(&s, "X-GitHub-Delivery", NULL);
	r = expect_outcome("github", &s, one, 1, OUTCOME_OK, "no X-GitHub-Delivery: kept");
	is_str(r->ev.key, want, "github: no X-GitHub-Delivery: the key is the body's SHA-256");
	spec_set(&s, "X-GitHub-Delivery", "");
	r = expect_outcome("github", &s, one, 1, OUTCOME_OK, "empty X-GitHub-Delivery: kept");
	is_str(r->ev.key, want, "github: empty X-GitHub-Delivery: the key is the body's SHA-256");
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	spec_set(&s, "X-GitHub-Delivery", key);
	r = expect_outcome("github", &s, one, 1, OUTCOME_OK, "X-GitHub-Delivery longer than the key cap: kept");
	is_str(r->ev.key, want, "github: an over-long X-GitHub-Delivery: the key is the body's SHA-256");
	spec_set(&s, "X-GitHub-Delivery", "abc\tdef");
	r = expect_outcome("github", &s, one, 1, OUTCOME_OK, "X-GitHub-Delivery with a control character: kept");
	is_str(r->ev.key, want, "github: a control character: the key is the body's SHA-256");
	spec_set(&s, "X-GitHub-Delivery", "47cc34fa-d40d-4b35-a7db-d12c985f1123");
	spec_set(&s, "X-GitHub-Event", NULL);
	expect_outcome("github", &s, one, 1, OUTCOME_BAD_REQUEST, "no X-GitHub-Event");
	spec_set(&s, "X-GitHub-Event", "pull_request");
	r = expect_outcome("github", &s, one, 1, OUTCOME_OK, "the event header is not covered by the MAC");
	is_str(r->ev.type, "pull_request", "github: type comes from X-GitHub-Event as sent");
	ok(strstr(r->v.detail, "x-hub-signature-256") != NULL, "github: detail names the header (%s)", r->v.detail);
	is_str(r->answer, "{\"success\":true,\"event\":\"pull_request\"}", "github: the default answer");
	is_str(r->dup_answer, "{\"success\":true,\"event\":\"pull_request\"}",
	       "github: the duplicate answer is the first answer");
	spec_free(&s);

	/* a form-encoded delivery is MACed as sent, never parsed (HMAC from Python's hmac module) */
	memset(&s, 0, sizeof s);
	s.body = "payload=%7B%22zen%22%3A%22x%22%7D";
	s.len = strlen(s.body);
	spec_set(&s, "Content-Type", "application/x-www-form-urlencoded");
	spec_set(&s, "X-GitHub-Event", "ping");
	spec_set(&s, "X-GitHub-Delivery", "d-form-1");
	spec_set(&s, "X-Hub-Signature-256", "sha256=2ca10ee69b52debbc9b61111d2bc587d900cc7f16013c5a207ececdc72a20af2");
	r = expect_outcome("github", &s, one, 1, OUTCOME_OK, "form-encoded body");
	is_str(r->ev.key, "d-form-1", "github: form-encoded body keeps the delivery key");

	/* the public header parser on its own */
	memset(&s, 0, sizeof s);
	spec_set(&s, "X-GitHub-Event", "issues");
	spec_set(&s, "X-GitHub-Delivery", "g-1");
	{
		struct request req;
		memset(&ev, 0, sizeof ev);
		buf_init(&reason, KANCA_REASON_MAX);
		ok(build_request(&req, &s, "/webhook/github/acc") == 0 &&
		       github_identify_headers(&req, &ev, &reason) == 0,
		   "github_identify_headers: accepts both headers");
		is_str(ev.type, "issues", "github_identify_headers: type");
		is_str(ev.key, "g-1", "github_identify_headers: key");
		request_free(&req);
		buf_free(&reason);
	}
}

static void shopify_edges(void)
{
	static struct spec s;
	struct secret one[1] = {{1, SHOP_SECRET}};
	struct result *r;
	char good[128], bad[256];
	static const char *const required[] = {"X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-API-Version",
					       "X-Shopify-Webhook-Id"};

	rotation("shopify", "products_update_valid", SHOP_SECRET);
	if (!ok(vector_spec("shopify", "orders_create_valid", &s) == 0, "shopify: orders_create_valid loaded"))
		return;
	snprintf(good, sizeof good, "%s", spec_get(&s, "X-Shopify-Hmac-Sha256"));
	ok(strchr(good, '/') || strchr(good, '+'), "shopify: the vector's base64 has a character base64url changes");
	r = expect_outcome("shopify", &s, one, 1, OUTCOME_OK, "the vector as sent");
	ok(strstr(r->headers, "\"x-shopify-event-id\":\"1aff8956-e3f1-4582-9635-b63e0ce060b7\"") != NULL,
	   "shopify: X-Shopify-Event-Id is kept in the stored headers");
	ok(strstr(r->v.detail, "base64") && strstr(r->v.detail, "x-shopify-hmac-sha256"),
	   "shopify: detail names base64 and the header (%s)", r->v.detail);
	is_str(r->answer, "{\"success\":true,\"event\":\"orders/create\"}", "shopify: the answer");

	snprintf(bad, sizeof bad, "%s", good);
	for (char *p = bad; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	spec_set(&s, "X-Shopify-Hmac-Sha256", bad);
	expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "base64url alphabet (padding kept)");
	*strchr(bad, '=') = '\0';
	spec_set(&s, "X-Shopify-Hmac-Sha256", bad);
	expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "base64url alphabet, padding stripped");
	snprintf(bad, sizeof bad, "%s", good);
	*strchr(bad, '=') = '\0';
	spec_set(&s, "X-Shopify-Hmac-Sha256", bad);
	expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "padding stripped");
	snprintf(bad, sizeof bad, "%s", good);
	bad[20] = '\0';
	spec_set(&s, "X-Shopify-Hmac-Sha256", bad);
	expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "truncated");
	snprintf(bad, sizeof bad, "%s=", good);
	spec_set(&s, "X-Shopify-Hmac-Sha256", bad);
	expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "extra padding");
	snprintf(bad, sizeof bad, " %s", good);
	spec_set(&s, "X-Shopify-Hmac-Sha256", bad);
	expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "leading space");
	snprintf(bad, sizeof bad, "sha256=%s", good);
	spec_set(&s, "X-Shopify-Hmac-Sha256", bad);
	expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "a sha256= prefix");
	spec_set(&s, "X-Shopify-Hmac-Sha256", "");
	expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "empty HMAC header");
	spec_set(&s, "X-Shopify-Hmac-Sha256", good);

	for (size_t i = 0; i < 4; i++) {
		char want[200], what[80];
		const char *saved = spec_get(&s, required[i]);
		char keep[256];

		snprintf(keep, sizeof keep, "%s", saved ? saved : "");
		spec_set(&s, required[i], NULL);
		snprintf(what, sizeof what, "good HMAC without %s", required[i]);
		r = expect_outcome("shopify", &s, one, 1, OUTCOME_BAD_REQUEST, what);
		is_int(r->verify, OUTCOME_OK, "shopify: without %s the HMAC still passed first", required[i]);
		is_int(r->status, 400, "shopify: without %s answers 400", required[i]);
		snprintf(want, sizeof want, "{\"success\":false,\"error\":\"missing_headers\",\"missing\":[\"%s\"]}",
			 required[i]);
		is_str(r->answer, want, "shopify: without %s the answer lists it", required[i]);
		spec_set(&s, required[i], "");
		snprintf(what, sizeof what, "good HMAC with an empty %s", required[i]);
		expect_outcome("shopify", &s, one, 1, OUTCOME_BAD_REQUEST, what);
		spec_set(&s, required[i], keep);
	}
	for (size_t i = 0; i < 4; i++)
		spec_set(&s, required[i], NULL);
	r = expect_outcome("shopify", &s, one, 1, OUTCOME_BAD_REQUEST, "good HMAC without any required header");
	is_str(r->reason,
	       "missing_headers: X-Shopify-Topic, X-Shopify-Shop-Domain, X-Shopify-API-Version, "
	       "X-Shopify-Webhook-Id",
	       "shopify: the reason lists all four");
	is_str(r->answer,
	       "{\"success\":false,\"error\":\"missing_headers\",\"missing\":[\"X-Shopify-Topic\","
	       "\"X-Shopify-Shop-Domain\",\"X-Shopify-API-Version\",\"X-Shopify-Webhook-Id\"]}",
	       "shopify: the answer lists all four");
	spec_set(&s, "X-Shopify-Hmac-Sha256", NULL);
	r = expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "no HMAC and no required headers: HMAC first");
	is_int(r->status, 401, "shopify: no HMAC answers 401");
	spec_free(&s);

	if (!ok(vector_spec("shopify", "orders_create_valid", &s) == 0, "shopify: orders_create_valid loaded"))
		return;
	spec_set(&s, "X-Shopify-Event-Id", NULL);
	spec_set(&s, "X-Shopify-Triggered-At", NULL);
	r = expect_outcome("shopify", &s, one, 1, OUTCOME_OK, "the optional Event-Id and Triggered-At may be absent");
	is_str(r->ev.key, "08595887-7381-404d-8b01-eb25d9c84e60", "shopify: key is X-Shopify-Webhook-Id");
	spec_set(&s, "X-Shopify-Topic", "orders/\x01create");
	expect_outcome("shopify", &s, one, 1, OUTCOME_BAD_REQUEST, "topic with a control character");
	spec_free(&s);

	/* empty body: its HMAC (from Python's hmac module) is right, and still refused */
	memset(&s, 0, sizeof s);
	s.body = "";
	s.len = 0;
	spec_set(&s, "X-Shopify-Topic", "orders/create");
	spec_set(&s, "X-Shopify-Shop-Domain", "ornek-magaza.myshopify.com");
	spec_set(&s, "X-Shopify-API-Version", "2026-01");
	spec_set(&s, "X-Shopify-Webhook-Id", "w-empty");
	spec_set(&s, "X-Shopify-Hmac-Sha256", "Z2etH/X9mCYBnFa5ddf/QN3q8OVOsi+Zymmr7ErJoso=");
	r = expect_outcome("shopify", &s, one, 1, OUTCOME_UNAUTHORIZED, "empty body with its correct HMAC");
	is_int(r->status, 401, "shopify: empty body answers 401");
}

static void sosyalkopru_body(const char *body, const char *sig, enum outcome want, const char *what, const char *type)
{
	static struct spec s;
	struct secret one[1] = {{1, SK_SECRET}};
	char h[128];
	struct result *r;

	memset(&s, 0, sizeof s);
	s.body = body;
	s.len = strlen(body);
	snprintf(h, sizeof h, "sha256=%s", sig);
	spec_set(&s, "Content-Type", "application/json");
	spec_set(&s, "X-SosyalKopru-Signature", h);
	spec_set(&s, "X-SosyalKopru-Delivery", "sk-edge-1");
	r = expect_outcome("sosyalkopru", &s, one, 1, want, what);
	is_int(r->verify, OUTCOME_OK, "sosyalkopru: %s: the signature itself was good", what);
	if (type)
		is_str(r->ev.type, type, "sosyalkopru: %s: type", what);
	else
		is_int(r->status, 400, "sosyalkopru: %s: answers 400", what);
}

static void sosyalkopru_edges(void)
{
	char hashed[2 * VERIFY_SHA256_LEN + 1];
	static struct spec s;
	struct secret one[1] = {{1, SK_SECRET}};
	struct result *r;
	struct buf reason;
	char type[KANCA_TYPE_MAX + 1];

	hex_signature_variants("sosyalkopru", "post_published_valid", "X-SosyalKopru-Signature", SK_SECRET);
	rotation("sosyalkopru", "post_failed_valid", SK_SECRET);
	if (!ok(vector_spec("sosyalkopru", "webhook_test_valid", &s) == 0, "sosyalkopru: webhook_test_valid loaded"))
		return;
	r = expect_outcome("sosyalkopru", &s, one, 1, OUTCOME_OK, "the test ping");
	is_int(r->status, 200, "sosyalkopru: the test ping answers 200");
	is_str(r->answer, "{\"success\":true,\"event\":\"webhook.test\",\"test\":true}",
	       "sosyalkopru: test ping answer");
	is_int(r->dup_status, 200, "sosyalkopru: a repeated test ping answers 200");
	{
		/* a repeat answers like any duplicate (common_answer), plus the test flag */
		struct response res;
		struct provider_event ev;
		char want[256];

		memset(&ev, 0, sizeof ev);
		snprintf(ev.type, sizeof ev.type, "webhook.test");
		response_init(&res);
		common_answer(NULL, OUTCOME_DUPLICATE, &ev, NULL, &res);
		snprintf(want, sizeof want, "%.*s,\"test\":true}", (int)res.body.len - 1, buf_str(&res.body));
		response_free(&res);
		is_str(r->dup_answer, want,
		       "sosyalkopru: repeated test ping answer is the duplicate answer + test flag");
		ok(strstr(r->dup_answer, "\"test\":true") && strncmp(r->dup_answer, "{\"success\":true", 15) == 0,
		   "sosyalkopru: repeated test ping answer still says success and test (%s)", r->dup_answer);
	}
	/* authentic without a usable delivery id: stored, keyed by the body's SHA-256 (never a 4xx) */
	body_sha256(&s, hashed);
	spec_set(&s, "X-SosyalKopru-Delivery", NULL);
	r = expect_outcome("sosyalkopru", &s, one, 1, OUTCOME_OK, "no X-SosyalKopru-Delivery: kept");
	is_str(r->ev.key, hashed, "sosyalkopru: no delivery header: the key is the body's SHA-256");
	is_int(r->status, 200, "sosyalkopru: no delivery header answers 200");
	spec_set(&s, "X-SosyalKopru-Delivery", "");
	r = expect_outcome("sosyalkopru", &s, one, 1, OUTCOME_OK, "empty X-SosyalKopru-Delivery: kept");
	is_str(r->ev.key, hashed, "sosyalkopru: an empty delivery header: the key is the body's SHA-256");
	spec_free(&s);

	if (!ok(vector_spec("sosyalkopru", "post_published_valid", &s) == 0,
		"sosyalkopru: post_published_valid loaded"))
		return;
	r = expect_outcome("sosyalkopru", &s, one, 1, OUTCOME_OK, "a normal event");
	is_str(r->answer, "{\"success\":true,\"event\":\"post.published\"}",
	       "sosyalkopru: normal answer (no test flag)");
	spec_set(&s, "X-SosyalKopru-Signature", "sha256=0000");
	r = expect_outcome("sosyalkopru", &s, one, 1, OUTCOME_UNAUTHORIZED, "a wrong signature");
	ok(r->status == 401 && strncmp(r->answer, "{\"success\":false,\"error\":", 25) == 0,
	   "sosyalkopru: a wrong signature answers 401 {\"success\":false,...} (%s)", r->answer);
	spec_free(&s);

	/* bodies signed correctly (HMACs from Python's hmac module) but not usable */
	sosyalkopru_body("[1,2]", "dc7f001ba0514370786aa70e30dca09dc117f51020fcb7c6d0a31bf920a65b87",
			 OUTCOME_BAD_REQUEST, "body is a JSON array", NULL);
	sosyalkopru_body("{\"event\":5}", "cfe8c1586ed35a38ccecaf9e54e65ce103663dc14a7faf10cecf872dc000e0a8",
			 OUTCOME_BAD_REQUEST, "event is a number", NULL);
	sosyalkopru_body("{\"data\":{}}", "7de6cea96e3fd6bff5637fb6c868a4cdff86e89424062f854bc3256bb0cd8bd4",
			 OUTCOME_BAD_REQUEST, "no event", NULL);
	sosyalkopru_body("{\"event\":\"\"}", "45b24b00b3372ad214b76f33701549c84f6be5d11694d528bb90752cf42c402f",
			 OUTCOME_BAD_REQUEST, "empty event", NULL);
	sosyalkopru_body("{\"event\":null}", "f85031451e30abd15787cf0c12a77049793cb32cfabb22a222f5ab491f4b367a",
			 OUTCOME_BAD_REQUEST, "event is null", NULL);
	sosyalkopru_body("not json", "224ae55e9e66ddf307f2553a9ff9636cfb5e836468c90f22d30533ce394f5ff9",
			 OUTCOME_BAD_REQUEST, "body is not JSON", NULL);
	sosyalkopru_body("{\"event\":\"post.published\"",
			 "6648654b9a3c8e2ecc8e1f0609ae0e49285d031fa17eb817068828b3adeceae5", OUTCOME_BAD_REQUEST,
			 "truncated JSON", NULL);
	sosyalkopru_body("{\"event\":\"a\\u0001b\"}",
			 "75b8b13fec079f76fc6b8146c272c1192eaa26eb52844199f93c26142c738218", OUTCOME_BAD_REQUEST,
			 "event with a control character", NULL);
	sosyalkopru_body("\"webhook.test\"", "df9adb0c5e5f9e6613d2bf66167d4a316ce104da43419428196e6335d73a46a5",
			 OUTCOME_BAD_REQUEST, "body is a bare JSON string", NULL);
	sosyalkopru_body("{\"event\":\"custom.thing\",\"data\":{}}",
			 "d096dce2bb3e89e7765e0efee79270e802f312faa90c88100bd30611ee3a0717", OUTCOME_OK,
			 "an event not in the documented list", "custom.thing");

	/* the public body parser on its own */
	buf_init(&reason, KANCA_REASON_MAX);
	is_int(sosyalkopru_event_type("{\"event\":\"post.failed\",\"data\":{\"postId\":\"p\"}}", 45, type, &reason),
	       OUTCOME_OK, "sosyalkopru_event_type: a documented body");
	is_str(type, "post.failed", "sosyalkopru_event_type: the event");
	buf_reset(&reason);
	is_int(sosyalkopru_event_type("{\"event\":\"x\"} trailing", 22, type, &reason), OUTCOME_BAD_REQUEST,
	       "sosyalkopru_event_type: trailing bytes after the object");
	is_str(buf_str(&reason), "Invalid JSON", "sosyalkopru_event_type: reason for invalid JSON");
	buf_reset(&reason);
	is_int(sosyalkopru_event_type(NULL, 0, type, &reason), OUTCOME_BAD_REQUEST, "sosyalkopru_event_type: no body");
	buf_reset(&reason);
	{
		char deep[200];
		size_t n = 0;
		n += (size_t)snprintf(deep, sizeof deep, "{\"event\":\"x\",\"d\":");
		for (int i = 0; i < 40 && n + 2 < sizeof deep; i++)
			deep[n++] = '[';
		for (int i = 0; i < 40 && n + 2 < sizeof deep; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		deep[n] = '\0';
		is_int(sosyalkopru_event_type(deep, n, type, &reason), OUTCOME_BAD_REQUEST,
		       "sosyalkopru_event_type: nesting beyond the depth cap");
		is_str(buf_str(&reason), "Invalid JSON: nested too deeply", "sosyalkopru_event_type: depth reason");
	}
	buf_free(&reason);
}

static void options(void)
{
	static const char *const names[] = {"github", "shopify", "sosyalkopru"};
	struct buf err;

	buf_init(&err, 1024);
	for (size_t i = 0; i < 3; i++) {
		const struct provider *p = registry_find(names[i]);

		if (!ok(p != NULL, "%s is in the registry", names[i]))
			continue;
		ok(p->needs_secret && p->no_secret == OUTCOME_INTERNAL, "%s: needs a secret, fails closed with 500",
		   names[i]);
		ok(strstr(p->summary, "not implemented") == NULL, "%s: has a real summary", names[i]);
		ok(p->check_options && p->check_options("", &err) == 0, "%s: no options is fine", names[i]);
		buf_reset(&err);
		ok(p->check_options && p->check_options("header=x\n", &err) < 0 && err.len > 0,
		   "%s: an unknown option is refused (%s)", names[i], buf_str(&err));
		buf_reset(&err);
	}
	buf_free(&err);
}

/* ---- provider.sign: kancactl doctor's self-test deliveries verify ----------------------------- */

/* Turns sign's "Name: value\n" lines and body into a spec. 0 or -1. */
static int spec_from_signed(struct spec *s, const struct buf *headers, const struct buf *body)
{
	const char *p = buf_str(headers);
	char name[64], value[KANCA_HEADER_VALUE_MAX + 1];

	memset(s, 0, sizeof *s);
	while (*p) {
		size_t n = strcspn(p, "\n"), k = strcspn(p, ":");
		if (k >= n || k >= sizeof name || p[k + 1] != ' ' || n - k - 2 >= sizeof value)
			return -1;
		memcpy(name, p, k);
		name[k] = '\0';
		memcpy(value, p + k + 2, n - k - 2);
		value[n - k - 2] = '\0';
		spec_set(s, name, value);
		p += n + (p[n] == '\n');
	}
	s->body = buf_str(body);
	s->len = body->len;
	return 0;
}

/* Verifies a signed delivery as receive.c would, with one secret and the source's options. */
static enum outcome verify_signed(const struct provider *p, const char *options, const char *secret,
				  const struct spec *s, long long now, char *reason, size_t cap)
{
	struct request req;
	struct store_source src;
	struct config cfg;
	struct provider_call c;
	struct verdict v;
	enum outcome o = OUTCOME_INTERNAL;
	char path[256];

	memset(&src, 0, sizeof src);
	memset(&v, 0, sizeof v);
	config_defaults(&cfg);
	snprintf(path, sizeof path, "/webhook/%s/acc", p->name);
	if (build_request(&req, s, path) == 0) {
		src.id = 1;
		src.enabled = 1;
		src.options = (char *)options;
		src.secrets[0].id = 7;
		src.secrets[0].value = (char *)secret;
		src.secrets[0].len = strlen(secret);
		src.nsecrets = 1;
		c.req = &req;
		c.source = &src;
		c.cfg = &cfg;
		c.now = now;
		o = p->verify(&c, &v);
	}
	snprintf(reason, cap, "%s", v.reason);
	request_free(&req);
	return o;
}

static void sign_round_trips(void)
{
	static const struct {
		const char *provider, *options, *secret;
		int body_signed, timestamped, secret_in_headers;
	} cases[] = {
	    {"supplier", "", "sup-secret-1", 1, 0, 0},
	    {"hmac", "header=X-Sig\n", "hmac-secret", 1, 0, 0},
	    {"hmac", "header=X-Sig\nencoding=base64\nprefix=v1=\n", "hmac-secret", 1, 0, 0},
	    {"ikas", "merchant_id=m-1\nauthorized_app_id=app-2\n", "ikas-client-secret", 1, 0, 0},
	    {"trendyol", "", "api-key-1", 0, 0, 1},
	    {"trendyol", "auth_mode=basic_auth\nusername=kanca\n", "pass:with:colons", 0, 0, 0},
	    {"trendyol", "auth_mode=seed_hmac\n", "seed-secret", 1, 0, 0},
	    {"stripe", "", "whsec_stripe_test_secret", 1, 1, 0},
	    {"sosyalkopru", "", SK_SECRET_LITERAL, 1, 0, 0},
	    {"github", "", "gh-secret", 1, 0, 0},
	    {"shopify", "", "shpss_secret", 1, 0, 0},
	    {"standardwebhooks", "", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1, 1, 0},
	    {"svix", "", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1, 1, 0},
	};
	static const char payload[] = "{\"kanca_doctor\":\"n0nce\",\"event\":\"kanca.doctor\",\"pad\":\"x\"}";
	struct buf body, headers, err;
	struct spec s;
	char reason[KANCA_REASON_MAX + 1];

	buf_init(&body, 1 << 20);
	buf_init(&headers, 1 << 16);
	buf_init(&err, 1024);
	ok(registry_find("apple")->sign == NULL, "apple has no sign (Apple signs with its own certificates)");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct provider *p = registry_find(cases[i].provider);
		struct provider_sign_in in = {cases[i].secret,
					      strlen(cases[i].secret),
					      cases[i].options,
					      payload,
					      sizeof payload - 1,
					      "n0nce",
					      NOW};
		const char *tag = cases[i].provider;
		enum outcome o;

		buf_reset(&body);
		buf_reset(&headers);
		buf_reset(&err);
		if (!ok(p && p->sign, "%s: has sign", tag))
			continue;
		if (!ok(p->sign(&in, &body, &headers, &err) == 0, "%s [%s]: sign succeeds (%s)", tag, cases[i].options,
			buf_str(&err)))
			continue;
		ok(strstr(buf_str(&headers), "Content-Type: application/json\n") != NULL, "%s: sends application/json",
		   tag);
		ok((strstr(buf_str(&headers), cases[i].secret) != NULL) == cases[i].secret_in_headers,
		   "%s: the secret is %sin the header lines", tag, cases[i].secret_in_headers ? "" : "not ");
		if (strcmp(tag, "ikas") == 0)
			ok(strstr(buf_str(&body), "\"merchantId\":\"m-1\"") &&
			       strstr(buf_str(&body), "\"authorizedAppId\":\"app-2\""),
			   "ikas: the envelope carries the source's merchantId and authorizedAppId");
		else
			ok(body.len == sizeof payload - 1 && memcmp(body.data, payload, body.len) == 0,
			   "%s: the body is the payload byte for byte", tag);
		if (!ok(spec_from_signed(&s, &headers, &body) == 0, "%s: the header lines are Name: value", tag))
			continue;
		o = verify_signed(p, cases[i].options, cases[i].secret, &s, NOW, reason, sizeof reason);
		ok(o == OUTCOME_OK, "%s [%s]: the signed delivery verifies (%s)", tag, cases[i].options, reason);
		/* another usable secret (whsec_ + base64 of "another secret" for the Standard Webhooks key) */
		o = verify_signed(p, cases[i].options, "whsec_YW5vdGhlciBzZWNyZXQ=", &s, NOW, reason, sizeof reason);
		ok(o == OUTCOME_UNAUTHORIZED || o == OUTCOME_BAD_REQUEST, "%s: not with another secret (%s)", tag,
		   reason);
		if (cases[i].body_signed) {
			char *b = (char *)s.body;
			size_t at = strcmp(tag, "ikas") == 0 ? (size_t)(strstr(b, "kanca.doctor") - b) : s.len - 3;
			b[at] ^= 1; /* one bit of the signed content */
			o = verify_signed(p, cases[i].options, cases[i].secret, &s, NOW, reason, sizeof reason);
			ok(o != OUTCOME_OK, "%s: not with a changed body (%s)", tag, reason);
			b[at] ^= 1;
		}
		if (cases[i].timestamped) {
			o = verify_signed(p, cases[i].options, cases[i].secret, &s, NOW + 3600, reason, sizeof reason);
			ok(o != OUTCOME_OK && strstr(reason, "old"), "%s: not an hour later (%s)", tag, reason);
		}
	}
	buf_free(&body);
	buf_free(&headers);
	buf_free(&err);
}

/* Every provider checks its options: an unknown key, an unknown retry_ key and a retry value out of range
 * are refused with the key named; no options at all are fine for the providers that need none. */
static void every_provider_checks_options(void)
{
	const struct provider *p;
	struct buf err;
	int refused;

	buf_init(&err, 4096);
	for (size_t i = 0; (p = registry_at(i)); i++) {
		if (!ok(p->check_options != NULL, "%s has an options check", p->name))
			continue;
		buf_reset(&err);
		refused = p->check_options("nonsense=1\n", &err) < 0 && strstr(buf_str(&err), "\"nonsense\"");
		ok(refused, "%s: an unknown option is refused, named (%s)", p->name, buf_str(&err));
		buf_reset(&err);
		refused =
		    p->check_options("retry_nonsense=1\n", &err) < 0 && strstr(buf_str(&err), "\"retry_nonsense\"");
		ok(refused, "%s: an unknown retry_ option is refused, named (%s)", p->name, buf_str(&err));
	}
	buf_free(&err);
}

int main(void)
{
	every_provider_checks_options();
	vectors();
	github_edges();
	shopify_edges();
	sosyalkopru_edges();
	options();
	sign_round_trips();
	vector_cache_free();
	return done_testing();
}
