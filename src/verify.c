/* verify.c: HMAC, digests, encodings and comparison on OpenSSL libcrypto. */
#include "verify.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* Fetching an algorithm is a locked lookup through OpenSSL's providers: do it once per process. */
static EVP_MAC *hmac_alg(void)
{
	static EVP_MAC *mac;

	if (!mac)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return mac;
}

static const EVP_MD *sha256_alg(void)
{
	static EVP_MD *md;

	if (!md)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return md;
}

int verify_hmac_sha256_parts(const void *key, size_t keylen, const void *const *parts,
			     const size_t *lens, size_t nparts, unsigned char out[VERIFY_SHA256_LEN])
{
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outlen = 0;
	int rc = -1;

	if (!key || keylen == 0)
		return -1;
	mac = hmac_alg();
	if (!mac)
		goto out;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, keylen, params))
		goto out;
	for (size_t i = 0; i < nparts; i++)
		if (lens[i] && !EVP_MAC_update(ctx, parts[i], lens[i]))
			goto out;
	if (!EVP_MAC_final(ctx, out, &outlen, VERIFY_SHA256_LEN) || outlen != VERIFY_SHA256_LEN)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	return rc;
}

int verify_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		       unsigned char out[VERIFY_SHA256_LEN])
{
	const void *parts[1] = {msg};
	size_t lens[1] = {msglen};

	return verify_hmac_sha256_parts(key, keylen, parts, lens, 1, out);
}

int verify_sha256(const void *msg, size_t len, unsigned char out[VERIFY_SHA256_LEN])
{
	unsigned int n = 0;
	const EVP_MD *md = sha256_alg();

	return md && EVP_Digest(msg, len, out, &n, md, NULL) && n == VERIFY_SHA256_LEN ? 0 : -1;
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

int verify_hmac_text(enum verify_encoding enc, const void *key, size_t keylen,
		     const void *const *parts, const size_t *lens, size_t nparts, char out[VERIFY_HEX_LEN + 1])
{
	unsigned char mac[VERIFY_SHA256_LEN];

	if (verify_hmac_sha256_parts(key, keylen, parts, lens, nparts, mac) < 0)
		return -1;
	if (enc == VERIFY_HEX)
		verify_hex_encode(mac, sizeof mac, out);
	else
		verify_base64_encode(mac, sizeof mac, out);
	verify_wipe(mac, sizeof mac);
	return 0;
}

int verify_random(unsigned char *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

void verify_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}
