/* verify.c: HMAC, digests, encodings and comparison on OpenSSL libcrypto. */
/* SHA256_Init and friends: see verify_hmac_sha256_parts */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "verify.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* HMAC-SHA256 (RFC 2104) and SHA-256 on OpenSSL's SHA-256 primitive (SHA256_Init and friends,
 * deprecated in 3.0 but kept). The EVP route (EVP_MAC_fetch, EVP_Digest) first activates OpenSSL's
 * provider machinery, which touches about 1.9 MiB of libcrypto pages in every responder process;
 * the primitive touches none of that. RFC 4231's vectors in tests/unit/test_verify.c hold it. */
#define HMAC_BLOCK 64

int verify_hmac_sha256_parts(const void *key, size_t keylen, const void *const *parts,
			     const size_t *lens, size_t nparts, unsigned char out[VERIFY_SHA256_LEN])
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

int verify_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		       unsigned char out[VERIFY_SHA256_LEN])
{
	const void *parts[1] = {msg};
	size_t lens[1] = {msglen};

	return verify_hmac_sha256_parts(key, keylen, parts, lens, 1, out);
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
