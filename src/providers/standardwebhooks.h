/* standardwebhooks.h: parsing shared by the Standard Webhooks and Svix providers, public so the unit
 * test and the fuzz target call it directly. The providers are provider_standardwebhooks and
 * provider_svix (registry.c). */
#ifndef KANCA_PROVIDERS_STANDARDWEBHOOKS_H
#define KANCA_PROVIDERS_STANDARDWEBHOOKS_H

#include <stddef.h>

#include "caps.h"

/* One signature: a slice of the parsed header value, not NUL-terminated. */
struct standardwebhooks_sig {
	const char *p;
	size_t len;
};

/* Parses a webhook-signature (svix-signature) value of n bytes (any bytes) like the official
 * libraries: entries separated by single spaces (two spaces make an empty entry); in each entry the
 * version is the text before the first ',' and the signature the text between that ',' and the next
 * ',' (or the end; empty when there is no ','). Only entries whose version is exactly "v1" are kept,
 * in order, into out (slices into s). Returns how many were kept (0 to cap), or -1 when there are
 * more than cap "v1" entries (the header is refused rather than partly checked). */
int standardwebhooks_sig_list_parse(const char *s, size_t n, struct standardwebhooks_sig *out, size_t cap);

/* The HMAC key of a secret as handed out ("whsec_<base64>"): a leading "whsec_" is stripped and the
 * rest base64-decoded (standard alphabet; padding as verify_base64_decode requires). Returns the key
 * length (at least 1) written to out, or -1 when nothing is left, the text is not base64, or the key
 * does not fit in cap bytes: such a secret never verifies anything (fail closed). */
long standardwebhooks_secret_key(const char *secret, size_t len, unsigned char *out, size_t cap);

#endif
