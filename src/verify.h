/* verify.h: the cryptography every provider shares (OpenSSL lives only in verify.c).
 * HMAC-SHA256, SHA-256, hex and base64 text forms, constant-time comparison, random bytes. */
#ifndef KANCA_VERIFY_H
#define KANCA_VERIFY_H

#include "first.h"

#include <stddef.h>
#include <stdint.h>

#define VERIFY_SHA256_LEN 32
#define VERIFY_HEX_LEN	  64 /* lowercase hex of a SHA-256 digest */
#define VERIFY_B64_LEN	  44 /* padded base64 of a SHA-256 digest */

enum verify_encoding { VERIFY_HEX = 0, VERIFY_BASE64 };

/* out = HMAC-SHA256(key, parts...): the parts are hashed in order as one message (e.g. "t" "." body)
 * without copying them. 0 or -1. A zero-length key is refused (-1): fail closed. */
int verify_hmac_sha256_parts(const void *key, size_t keylen, const void *const *parts, const size_t *lens,
			     size_t nparts, unsigned char out[VERIFY_SHA256_LEN]) KANCA_MUST_CHECK;
/* out = SHA-256(msg); 0 or -1. */
int verify_sha256(const void *msg, size_t len, unsigned char out[VERIFY_SHA256_LEN]) KANCA_MUST_CHECK;

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
int verify_hmac_text(enum verify_encoding enc, const void *key, size_t keylen, const void *const *parts,
		     const size_t *lens, size_t nparts, char out[VERIFY_HEX_LEN + 1]) KANCA_MUST_CHECK;

/* Fills out with n cryptographically random bytes; 0 or -1. */
int verify_random(unsigned char *out, size_t n) KANCA_MUST_CHECK;

/* ---- X.509 certificates and ES256 (Apple App Store notifications, providers/apple.c) ----
 * These use OpenSSL's EVP layer, so only the requests that need them pay for its provider
 * machinery (see verify.c on HMAC). All take and return plain bytes; certificates are opaque. */

#define VERIFY_ES256_SIG_LEN 64 /* a JWS ES256 signature: R || S, 32 bytes each, big-endian */
#define VERIFY_ECDSA_DER_MAX 72 /* the longest DER ECDSA-Sig-Value of a P-256 signature */

/* A parsed X.509 certificate. */
struct verify_cert;

/* Parses exactly len bytes of DER as a certificate (trailing bytes are refused). NULL when the
 * bytes are not a certificate (or memory ran out). Free with verify_cert_free. */
struct verify_cert *verify_cert_parse(const unsigned char *der, size_t len);
/* NULL is fine. */
void verify_cert_free(struct verify_cert *c);
/* 1 when child's signature verifies with issuer's public key AND child's issuer name equals
 * issuer's subject name; 0 otherwise. No other path building, no trust store. */
int verify_cert_signed_by(const struct verify_cert *child, const struct verify_cert *issuer);
/* 1 when basicConstraints says CA:TRUE (and keyUsage, when present, allows keyCertSign): OpenSSL's
 * X509_check_ca() == 1, which is what Node's X509Certificate.ca reports. 0 otherwise. */
int verify_cert_is_ca(const struct verify_cert *c);
/* 1 when the certificate carries an extension with this dotted OID (any value, critical or not),
 * 0 when not, -1 when oid is not a dotted OID. */
int verify_cert_has_extension(const struct verify_cert *c, const char *oid);
/* notBefore and notAfter as unix seconds; 0, or -1 when a date cannot be read. */
int verify_cert_validity(const struct verify_cert *c, long long *not_before, long long *not_after) KANCA_MUST_CHECK;
/* 1 when not_before <= t + slack and not_after >= t - slack (unix seconds), 0 otherwise. */
int verify_cert_valid_at(const struct verify_cert *c, long long t, long long slack);
/* out = SHA-256 of the certificate's DER (its fingerprint); 0 or -1. */
int verify_cert_sha256(const struct verify_cert *c, unsigned char out[VERIFY_SHA256_LEN]) KANCA_MUST_CHECK;
/* ES256 (RFC 7518 3.4): 1 when sig is exactly VERIFY_ES256_SIG_LEN bytes of R || S and is a valid
 * ECDSA P-256 / SHA-256 signature of msg by the certificate's public key; 0 otherwise, also when
 * the key is not an EC key on P-256. A DER-encoded signature is refused (wrong length). */
int verify_es256(const struct verify_cert *c, const void *msg, size_t len, const unsigned char *sig, size_t siglen);
/* Converts a raw ECDSA signature R || S (rslen bytes, even, at most 132) to DER
 * (SEQUENCE { INTEGER r, INTEGER s }, minimal integers). Returns the DER length, or -1 when rslen is
 * odd or 0, or the result would not fit in cap. */
long verify_ecdsa_raw_to_der(const unsigned char *rs, size_t rslen, unsigned char *out, size_t cap);
/* Decodes the first PEM "CERTIFICATE" block in n bytes (blocks of other types are skipped) into
 * DER. Returns the DER length, or -1 when there is none or it would not fit in cap. */
long verify_pem_certificate(const char *pem, size_t n, unsigned char *out, size_t cap);

#endif
