/* verify.c: HMAC, digests, encodings and comparison on OpenSSL libcrypto; X.509 and ES256 for Apple. */
/* SHA256_Init and friends: see verify_hmac_sha256_parts */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "first.h"
#include "wipe.h"
#include "verify.h"
#include "clock.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* HMAC-SHA256 (RFC 2104) and SHA-256 on OpenSSL's SHA-256 primitive (SHA256_Init and friends,
 * deprecated in 3.0 but kept). The EVP route (EVP_MAC_fetch, EVP_Digest) first activates OpenSSL's
 * provider machinery, which touches about 1.9 MiB of libcrypto pages in every responder process;
 * the primitive touches none of that. RFC 4231's vectors in tests/unit/test_verify.c hold it. */
#define HMAC_BLOCK 64

int verify_hmac_sha256_parts(const void *key, size_t keylen, const void *const *parts, const size_t *lens,
			     size_t nparts, unsigned char out[VERIFY_SHA256_LEN])
{
	unsigned char k[HMAC_BLOCK], pad[HMAC_BLOCK], inner[VERIFY_SHA256_LEN];
	SHA256_CTX ctx;
	int ok;

	if (!key || keylen == 0)
		return -1;
	memset(k, 0, sizeof k);
	if (keylen > HMAC_BLOCK) {
		ok = SHA256_Init(&ctx) && SHA256_Update(&ctx, key, keylen) && SHA256_Final(k, &ctx);
		if (!ok)
			goto out;
	} else {
		memcpy(k, key, keylen);
	}
	for (size_t i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	ok = SHA256_Init(&ctx) && SHA256_Update(&ctx, pad, sizeof pad);
	for (size_t i = 0; ok && i < nparts; i++)
		ok = !lens[i] || SHA256_Update(&ctx, parts[i], lens[i]);
	ok = ok && SHA256_Final(inner, &ctx);
	for (size_t i = 0; ok && i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	ok = ok && SHA256_Init(&ctx) && SHA256_Update(&ctx, pad, sizeof pad) &&
	     SHA256_Update(&ctx, inner, sizeof inner) && SHA256_Final(out, &ctx);
out:
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
	OPENSSL_cleanse(inner, sizeof inner);
	OPENSSL_cleanse(&ctx, sizeof ctx);
	return ok ? 0 : -1;
}

int verify_sha256(const void *msg, size_t len, unsigned char out[VERIFY_SHA256_LEN])
{
	SHA256_CTX ctx;
	int ok = SHA256_Init(&ctx) && SHA256_Update(&ctx, msg, len) && SHA256_Final(out, &ctx);

	OPENSSL_cleanse(&ctx, sizeof ctx);
	return ok ? 0 : -1;
}

void verify_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t verify_base64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

long verify_base64_decode(const char *in, size_t n, int url, unsigned char *out, size_t outcap)
{
	size_t pad = 0, data, o = 0, i;
	unsigned acc = 0;
	int bits = 0;

	while (pad < 2 && pad < n && in[n - 1 - pad] == '=')
		pad++;
	data = n - pad;
	if (pad && n % 4)
		return -1;
	if (!pad && data % 4 && !url)
		return -1;
	if (data % 4 == 1)
		return -1;
	if (pad && (data + pad) % 4)
		return -1;
	for (i = 0; i < data; i++) {
		int v = b64_value((unsigned char)in[i], url);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* leftover bits must be zero (canonical encoding) */
	if (acc != 0)
		return -1;
	return (long)o;
}

int verify_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int verify_hmac_text(enum verify_encoding enc, const void *key, size_t keylen, const void *const *parts,
		     const size_t *lens, size_t nparts, char out[VERIFY_HEX_LEN + 1])
{
	unsigned char mac[VERIFY_SHA256_LEN];

	if (verify_hmac_sha256_parts(key, keylen, parts, lens, nparts, mac) < 0)
		return -1;
	if (enc == VERIFY_HEX)
		verify_hex_encode(mac, sizeof mac, out);
	else
		verify_base64_encode(mac, sizeof mac, out);
	wipe_bytes(mac, sizeof mac);
	return 0;
}

int verify_random(unsigned char *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

/* ---- X.509 certificates and ES256 ----------------------------------------------------------- */

struct verify_cert {
	X509 *x;
	unsigned char *der; /* the bytes parsed: the fingerprint is theirs, not a re-encoding's */
	size_t len;
};

struct verify_cert *verify_cert_parse(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	struct verify_cert *c;
	X509 *x;

	if (!der || len == 0 || len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	c = malloc(sizeof *c);
	if (c)
		c->der = malloc(len);
	if (!c || !c->der) {
		free(c);
		X509_free(x);
		return NULL;
	}
	memcpy(c->der, der, len);
	c->len = len;
	c->x = x;
	return c;
}

void verify_cert_free(struct verify_cert *c)
{
	if (!c)
		return;
	X509_free(c->x);
	free(c->der);
	free(c);
}

int verify_cert_signed_by(const struct verify_cert *child, const struct verify_cert *issuer)
{
	EVP_PKEY *k = X509_get0_pubkey(issuer->x);
	int ok;

	ok = k && X509_NAME_cmp(X509_get_issuer_name(child->x), X509_get_subject_name(issuer->x)) == 0 &&
	     X509_verify(child->x, k) == 1;
	ERR_clear_error();
	return ok;
}

int verify_cert_is_ca(const struct verify_cert *c)
{
	int ok = X509_check_ca(c->x) == 1;

	ERR_clear_error();
	return ok;
}

int verify_cert_has_extension(const struct verify_cert *c, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int rc;

	if (!o) {
		ERR_clear_error();
		return -1;
	}
	rc = X509_get_ext_by_OBJ(c->x, o, -1) >= 0;
	ASN1_OBJECT_free(o);
	return rc;
}

static int asn1_time_unix(const ASN1_TIME *t, long long *out)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return -1;
	}
	*out = clock_days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
	       tm.tm_hour * 3600LL + tm.tm_min * 60LL + tm.tm_sec;
	return 0;
}

int verify_cert_validity(const struct verify_cert *c, long long *not_before, long long *not_after)
{
	if (asn1_time_unix(X509_get0_notBefore(c->x), not_before) < 0 ||
	    asn1_time_unix(X509_get0_notAfter(c->x), not_after) < 0)
		return -1;
	return 0;
}

int verify_cert_valid_at(const struct verify_cert *c, long long t, long long slack)
{
	long long nb, na;

	if (verify_cert_validity(c, &nb, &na) < 0)
		return 0;
	return nb <= t + slack && na >= t - slack;
}

int verify_cert_sha256(const struct verify_cert *c, unsigned char out[VERIFY_SHA256_LEN])
{
	return verify_sha256(c->der, c->len, out);
}

/* One DER INTEGER of an unsigned big-endian number: leading zero bytes dropped, one zero byte
 * added when the high bit is set (DER integers are signed). */
static size_t der_uint(const unsigned char *v, size_t n, unsigned char *out)
{
	size_t o = 0;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	out[o++] = 0x02;
	out[o++] = (unsigned char)(n + (v[0] & 0x80 ? 1 : 0));
	if (v[0] & 0x80)
		out[o++] = 0;
	memcpy(out + o, v, n);
	return o + n;
}

long verify_ecdsa_raw_to_der(const unsigned char *rs, size_t rslen, unsigned char *out, size_t cap)
{
	unsigned char tmp[2 * (3 + 66)];
	size_t half = rslen / 2, n;

	/* up to P-521 (2 x 66 bytes): every length then fits in one DER length byte */
	if (!rs || rslen == 0 || rslen % 2 || half > 66)
		return -1;
	n = der_uint(rs, half, tmp);
	n += der_uint(rs + half, half, tmp + n);
	if (n > 127 || n + 2 > cap)
		return -1;
	out[0] = 0x30;
	out[1] = (unsigned char)n;
	memcpy(out + 2, tmp, n);
	return (long)(n + 2);
}

int verify_es256(const struct verify_cert *c, const void *msg, size_t len, const unsigned char *sig, size_t siglen)
{
	unsigned char der[VERIFY_ECDSA_DER_MAX];
	char group[64];
	size_t glen = 0;
	EVP_PKEY *k = X509_get0_pubkey(c->x);
	EVP_MD_CTX *ctx = NULL;
	long dlen;
	int ok = 0;

	if (!k || siglen != VERIFY_ES256_SIG_LEN || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    EVP_PKEY_get_group_name(k, group, sizeof group, &glen) != 1 || strcmp(group, SN_X9_62_prime256v1) != 0)
		goto out;
	dlen = verify_ecdsa_raw_to_der(sig, siglen, der, sizeof der);
	if (dlen < 0)
		goto out;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
	     EVP_DigestVerify(ctx, der, (size_t)dlen, msg, len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

long verify_pem_certificate(const char *pem, size_t n, unsigned char *out, size_t cap)
{
	BIO *bio;
	long rc = -1;

	if (!pem || n == 0 || n > INT_MAX)
		return -1;
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio)
		return -1;
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long len = 0;
		int found;

		if (PEM_read_bio(bio, &name, &header, &data, &len) != 1)
			break;
		found = strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0;
		if (found && len > 0 && (size_t)len <= cap) {
			memcpy(out, data, (size_t)len);
			rc = len;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (found)
			break;
	}
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}
