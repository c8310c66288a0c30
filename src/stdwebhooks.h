/* stdwebhooks.h: the Standard Webhooks signature scheme (standardwebhooks.com), used by the incoming
 * standardwebhooks and svix providers and by the forwarder that signs kanca's own deliveries:
 * HMAC-SHA256 keyed with the base64-decoded part of a "whsec_" secret, over "<id>.<timestamp>.<body>",
 * sent as "v1,<standard padded base64>" entries in a space-separated list. */
#ifndef KANCA_STDWEBHOOKS_H
#define KANCA_STDWEBHOOKS_H

#include "first.h"

#include <stddef.h>

/* Room for one v1 signature's base64 text (44 characters) and its NUL. */
#define STDWEBHOOKS_SIG_TEXT 65

/* One signature: a slice of the parsed header value, not NUL-terminated. */
struct stdwebhooks_sig {
	const char *p;
	size_t len;
};

/* Parses a webhook-signature (svix-signature) value of n bytes (any bytes) like the official
 * libraries: entries separated by single spaces (two spaces make an empty entry); in each entry the
 * version is the text before the first ',' and the signature the text between that ',' and the next
 * ',' (or the end; empty when there is no ','). Only entries whose version is exactly "v1" are kept,
 * in order, into out (slices into s). Returns how many were kept (0 to cap), or -1 when there are
 * more than cap "v1" entries (the header is refused rather than partly checked). */
int stdwebhooks_sig_list_parse(const char *s, size_t n, struct stdwebhooks_sig *out, size_t cap);

/* The HMAC key of a secret as handed out ("whsec_<base64>"): a leading "whsec_" is stripped and the
 * rest base64-decoded (standard alphabet; padding as verify_base64_decode requires). Returns the key
 * length (at least 1) written to out, or -1 when nothing is left, the text is not base64, or the key
 * does not fit in cap bytes: such a secret never verifies anything (fail closed). */
long stdwebhooks_secret_key(const char *secret, size_t len, unsigned char *out, size_t cap);

/* The message as it is signed: its id (idlen bytes), the timestamp as a decimal integer, the raw body. */
struct stdwebhooks_msg {
	const char *id;
	size_t idlen;
	long long timestamp;
	const void *body; /* may be NULL when len is 0 */
	size_t len;
};

/* The base64 text of the v1 signature of m with secret (without "v1,") into out. 0, or -1 when the
 * secret is not whsec_<base64> or the HMAC fails. The caller wipes out after use. */
int stdwebhooks_sign(const char *secret, size_t secret_len, const struct stdwebhooks_msg *m,
		     char out[STDWEBHOOKS_SIG_TEXT]) KANCA_MUST_CHECK;

/* 1 when one of the nsigs signatures matches m signed with secret (constant-time comparisons), 0 when
 * none does, -1 when the secret is unusable (not whsec_<base64>). */
int stdwebhooks_verify(const char *secret, size_t secret_len, const struct stdwebhooks_msg *m,
		       const struct stdwebhooks_sig *sigs, int nsigs) KANCA_MUST_CHECK;

#endif
