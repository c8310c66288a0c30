/* apple_jws.c: the compact JWS of Apple's notifications: split, base64url, the x5c header, the
 * certificate chain to the configured root (Apple's OIDs, validity at the receiver's clock) and the ES256
 * signature, as @apple/app-store-server-library's SignedDataVerifier checks them. The notification and
 * the provider built on it are apple.c. */
#include "first.h"
#include "caps.h"
#include "providers/apple.h"
#include "json.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *apple_status_text(enum apple_status s)
{
	switch (s) {
	case APPLE_OK:
		return "ok";
	case APPLE_MALFORMED:
		return "not a compact JWS with a JSON header and payload of the expected shape";
	case APPLE_CHAIN_LENGTH:
		return "x5c must hold exactly 3 certificates";
	case APPLE_BAD_CERTIFICATE:
		return "an x5c entry is not a base64 DER certificate";
	case APPLE_UNTRUSTED:
		return "certificate chain does not lead to the configured root";
	case APPLE_NOT_CA:
		return "intermediate certificate is not a CA";
	case APPLE_MISSING_OID:
		return "certificate lacks Apple's marker extension";
	case APPLE_CERT_DATES:
		return "a certificate is not valid at this time";
	case APPLE_BAD_ALG:
		return "alg must be ES256 with a P-256 key";
	case APPLE_BAD_SIGNATURE:
		return "invalid ES256 signature";
	case APPLE_TOKEN_TIME:
		return "token expired or not yet valid (exp/nbf)";
	case APPLE_INVALID_APP_IDENTIFIER:
		return "bundle id or app Apple id does not match the source";
	case APPLE_INVALID_ENVIRONMENT:
		return "environment does not match the source";
	case APPLE_NO_MEMORY:
		return "out of memory";
	case APPLE_DUPLICATE_MEMBER:
		return "a decoded JWS header or payload has a member name twice";
	case APPLE_NUL_IN_STRING:
		return "a decoded JWS header or payload holds \\u0000 in a string";
	}
	return "unknown";
}

static int b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int apple_jws_split(const char *s, size_t n, struct apple_jws *out)
{
	size_t k = 0, start = 0;

	if (!s)
		return -1;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!b64url_char((unsigned char)s[i]))
				return -1;
			continue;
		}
		if (k == 3 || i == start)
			return -1; /* a fourth segment, or an empty one */
		out->seg[k] = s + start;
		out->len[k++] = i - start;
		start = i + 1;
	}
	if (k != 3)
		return -1;
	out->signing_len = out->len[0] + 1 + out->len[1];
	return 0;
}

long apple_b64_decode(const char *s, size_t n, int url, unsigned char **out)
{
	size_t cap = n / 4 * 3 + 3;
	unsigned char *p = malloc(cap + 1);
	long len;

	*out = NULL;
	if (!p)
		return -2;
	len = verify_base64_decode(s, n, url, p, cap);
	if (len < 0) {
		free(p);
		return -1;
	}
	p[len] = '\0';
	*out = p;
	return len;
}

long apple_b64url_decode(const char *s, size_t n, unsigned char **out)
{
	/* a JWS segment is unpadded (RFC 7515 section 2) */
	if (memchr(s, '=', n)) {
		*out = NULL;
		return -1;
	}
	return apple_b64_decode(s, n, 1, out);
}

enum apple_status apple_segment_json(const char *s, size_t n, char **text, size_t *len, struct json **root)
{
	unsigned char *p;
	long l = apple_b64url_decode(s, n, &p);
	enum json_error e;

	*root = NULL;
	if (l < 0)
		return l == -2 ? APPLE_NO_MEMORY : APPLE_MALFORMED;
	e = json_parse((const char *)p, (size_t)l, KANCA_JSON_DEPTH, root);
	if (e != JSON_OK || json_kind_of(*root) != JSON_OBJECT) {
		json_free(*root);
		*root = NULL;
		free(p);
		return e == JSON_ERR_MEMORY	 ? APPLE_NO_MEMORY
		       : e == JSON_ERR_DUPLICATE ? APPLE_DUPLICATE_MEMBER
		       : e == JSON_ERR_NUL	 ? APPLE_NUL_IN_STRING
						 : APPLE_MALFORMED;
	}
	if (text) {
		*text = (char *)p;
		*len = (size_t)l;
	} else {
		free(p);
	}
	return APPLE_OK;
}

void apple_header_free(struct apple_header *h)
{
	if (!h)
		return;
	free(h->der[0]);
	free(h->der[1]);
	memset(h, 0, sizeof *h);
}

enum apple_status apple_jws_header(const struct apple_jws *j, struct apple_header *h)
{
	struct json *root;
	const struct json *x5c;
	const char *alg;
	size_t alen;
	enum apple_status st;

	memset(h, 0, sizeof *h);
	st = apple_segment_json(j->seg[0], j->len[0], NULL, NULL, &root);
	if (st != APPLE_OK)
		return st;
	alg = json_get_string(root, "alg", &alen);
	h->alg_es256 = alg && alen == 5 && memcmp(alg, "ES256", 5) == 0;
	x5c = json_get(root, "x5c");
	if (json_kind_of(x5c) != JSON_ARRAY || json_array_len(x5c) != 3) {
		st = APPLE_CHAIN_LENGTH;
		goto out;
	}
	for (size_t i = 0; i < 2; i++) {
		size_t n;
		const char *b = json_string(json_array_at(x5c, i), &n);
		long l;

		if (!b || n == 0) {
			st = APPLE_BAD_CERTIFICATE;
			goto out;
		}
		l = apple_b64_decode(b, n, 0, &h->der[i]);
		if (l <= 0) {
			st = l == -2 ? APPLE_NO_MEMORY : APPLE_BAD_CERTIFICATE;
			goto out;
		}
		h->der_len[i] = (size_t)l;
	}
out:
	json_free(root);
	if (st != APPLE_OK)
		apple_header_free(h);
	return st;
}

enum apple_status apple_check_chain(const struct verify_cert *root, const struct apple_header *h, long long t,
				    struct verify_cert **leaf_out)
{
	struct verify_cert *leaf = NULL, *inter = NULL;
	enum apple_status st = APPLE_OK;

	if (leaf_out)
		*leaf_out = NULL;
	if (!root)
		return APPLE_UNTRUSTED;
	leaf = verify_cert_parse(h->der[0], h->der_len[0]);
	inter = verify_cert_parse(h->der[1], h->der_len[1]);
	if (!leaf || !inter)
		st = APPLE_BAD_CERTIFICATE;
	else if (!verify_cert_signed_by(inter, root) || !verify_cert_signed_by(leaf, inter))
		st = APPLE_UNTRUSTED;
	else if (!verify_cert_is_ca(inter))
		st = APPLE_NOT_CA;
	else if (verify_cert_has_extension(leaf, APPLE_OID_LEAF) != 1 ||
		 verify_cert_has_extension(inter, APPLE_OID_INTERMEDIATE) != 1)
		st = APPLE_MISSING_OID;
	else if (!verify_cert_valid_at(leaf, t, APPLE_CLOCK_SKEW) ||
		 !verify_cert_valid_at(inter, t, APPLE_CLOCK_SKEW) || !verify_cert_valid_at(root, t, APPLE_CLOCK_SKEW))
		st = APPLE_CERT_DATES;
	verify_cert_free(inter);
	if (st == APPLE_OK && leaf_out)
		*leaf_out = leaf;
	else
		verify_cert_free(leaf);
	return st;
}

/* jsonwebtoken's exp / nbf checks (Apple sends neither): numbers, exp > t, nbf <= t. */
static enum apple_status token_time(const struct json *payload, long long t)
{
	const struct json *exp = json_get(payload, "exp"), *nbf = json_get(payload, "nbf");
	double v;

	if (exp && (json_number(exp, &v) < 0 || (double)t >= v))
		return APPLE_TOKEN_TIME;
	if (nbf && (json_number(nbf, &v) < 0 || v > (double)t))
		return APPLE_TOKEN_TIME;
	return APPLE_OK;
}

enum apple_status apple_verify_jws(const char *s, size_t n, const struct verify_cert *root, long long t, char **payload,
				   size_t *payload_len, struct json **root_json)
{
	struct apple_jws j;
	struct apple_header h;
	struct verify_cert *leaf = NULL;
	unsigned char *sig = NULL;
	char *text = NULL;
	size_t tlen = 0;
	struct json *pj = NULL;
	long slen;
	enum apple_status st;

	if (payload)
		*payload = NULL;
	if (root_json)
		*root_json = NULL;
	if (apple_jws_split(s, n, &j) < 0)
		return APPLE_MALFORMED;
	st = apple_jws_header(&j, &h);
	if (st != APPLE_OK)
		return st;
	st = apple_segment_json(j.seg[1], j.len[1], &text, &tlen, &pj);
	if (st != APPLE_OK)
		goto out;
	st = apple_check_chain(root, &h, t, &leaf);
	if (st != APPLE_OK)
		goto out;
	if (!h.alg_es256) {
		st = APPLE_BAD_ALG;
		goto out;
	}
	slen = apple_b64url_decode(j.seg[2], j.len[2], &sig);
	if (slen != VERIFY_ES256_SIG_LEN) {
		/* a DER signature, or any other length, is not ES256 */
		st = slen == -2 ? APPLE_NO_MEMORY : APPLE_BAD_SIGNATURE;
		goto out;
	}
	if (!verify_es256(leaf, s, j.signing_len, sig, (size_t)slen)) {
		st = APPLE_BAD_SIGNATURE;
		goto out;
	}
	st = token_time(pj, t);
out:
	apple_header_free(&h);
	verify_cert_free(leaf);
	free(sig);
	if (st == APPLE_OK && payload) {
		*payload = text;
		*payload_len = tlen;
		text = NULL;
	}
	if (st == APPLE_OK && root_json) {
		*root_json = pj;
		pj = NULL;
	}
	free(text);
	json_free(pj);
	return st;
}
