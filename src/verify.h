/* verify.h: the cryptography every provider shares (OpenSSL lives only in verify.c).
 * HMAC-SHA256, SHA-256, hex and base64 text forms, constant-time comparison, random bytes. */
#ifndef KANCA_VERIFY_H
#define KANCA_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#define VERIFY_SHA256_LEN 32
#define VERIFY_HEX_LEN 64      /* lowercase hex of a SHA-256 digest */
#define VERIFY_B64_LEN 44      /* padded base64 of a SHA-256 digest */

enum verify_encoding { VERIFY_HEX = 0, VERIFY_BASE64 };

/* out = HMAC-SHA256(key, msg); 0 or -1. A zero-length key is refused (-1): fail closed. */
int verify_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		       unsigned char out[VERIFY_SHA256_LEN]) __attribute__((warn_unused_result));
/* HMAC over several message parts (e.g. "t" "." body) without copying them. */
int verify_hmac_sha256_parts(const void *key, size_t keylen, const void *const *parts,
			     const size_t *lens, size_t nparts, unsigned char out[VERIFY_SHA256_LEN])
	__attribute__((warn_unused_result));
/* out = SHA-256(msg); 0 or -1. */
int verify_sha256(const void *msg, size_t len, unsigned char out[VERIFY_SHA256_LEN])
	__attribute__((warn_unused_result));

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void verify_hex_encode(const unsigned char *in, size_t n, char *out);
/* Standard padded base64 into out (4*ceil(n/3)+1 bytes); returns the length written. */
size_t verify_base64_encode(const unsigned char *in, size_t n, char *out);
/* Decodes standard (url=0) or url-safe (url=1) base64. Padding: required to be correct when
 * present; missing padding accepted only when url=1. Whitespace is invalid.
 * Returns the decoded length, or -1 when invalid or when it would not fit in outcap. */
long verify_base64_decode(const char *in, size_t n, int url, unsigned char *out, size_t outcap);

/* Constant-time equality: lengths are compared first (length is not secret). 1 if equal. */
int verify_equal(const void *a, size_t alen, const void *b, size_t blen);

/* The canonical text form of HMAC-SHA256(key, msg) in enc, into out (>= 65 bytes). 0 or -1. */
int verify_hmac_text(enum verify_encoding enc, const void *key, size_t keylen,
		     const void *const *parts, const size_t *lens, size_t nparts, char out[VERIFY_HEX_LEN + 1])
	__attribute__((warn_unused_result));

/* Fills out with n cryptographically random bytes; 0 or -1. */
int verify_random(unsigned char *out, size_t n) __attribute__((warn_unused_result));
/* Wipes memory in a way the compiler does not drop. */
void verify_wipe(void *p, size_t n);

#endif
