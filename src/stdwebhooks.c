/* stdwebhooks.c: the Standard Webhooks signature scheme, one implementation for verifying and signing. */
#include "first.h"
#include "stdwebhooks.h"
#include "caps.h"
#include "verify.h"
#include "wipe.h"

#include <stdio.h>
#include <string.h>

#define SECRET_PREFIX "whsec_"

int stdwebhooks_sig_list_parse(const char *s, size_t n, struct stdwebhooks_sig *out, size_t cap)
{
	size_t i = 0, kept = 0;

	if (!s) {
		s = "";
		n = 0;
	}
	for (;;) {
		const char *e = s + i, *sp = n > i ? memchr(e, ' ', n - i) : NULL;
		size_t len = sp ? (size_t)(sp - e) : n - i;
		const char *comma = len ? memchr(e, ',', len) : NULL;

		if (comma && comma - e == 2 && e[0] == 'v' && e[1] == '1') {
			const char *sig = comma + 1;
			const char *next = memchr(sig, ',', (size_t)(e + len - sig));

			if (kept == cap)
				return -1;
			out[kept].p = sig;
			out[kept].len = (size_t)((next ? next : e + len) - sig);
			kept++;
		}
		/* "v1" without ',' has an undefined signature in the library: it never matches, so skip it */
		if (!sp)
			break;
		i += len + 1;
	}
	return (int)kept;
}

long stdwebhooks_secret_key(const char *secret, size_t len, unsigned char *out, size_t cap)
{
	size_t plen = sizeof SECRET_PREFIX - 1;
	long n;

	if (!secret)
		return -1;
	if (len >= plen && memcmp(secret, SECRET_PREFIX, plen) == 0) {
		secret += plen;
		len -= plen;
	}
	if (len == 0)
		return -1;
	n = verify_base64_decode(secret, len, 0, out, cap);
	return n > 0 ? n : -1;
}

int stdwebhooks_sign(const char *secret, size_t secret_len, const struct stdwebhooks_msg *m,
		     char out[STDWEBHOOKS_SIG_TEXT])
{
	unsigned char key[KANCA_SECRET_MAX];
	char ts[32];
	long klen = stdwebhooks_secret_key(secret, secret_len, key, sizeof key);
	const void *parts[5];
	size_t lens[5];
	int rc;

	if (klen < 0)
		return -1;
	/* the libraries sign `${msgId}.${timestampNumber}.${payload}`: the decimal of the integer */
	snprintf(ts, sizeof ts, "%lld", m->timestamp);
	parts[0] = m->id;
	lens[0] = m->idlen;
	parts[1] = ".";
	lens[1] = 1;
	parts[2] = ts;
	lens[2] = strlen(ts);
	parts[3] = ".";
	lens[3] = 1;
	parts[4] = m->body ? m->body : "";
	lens[4] = m->len;
	rc = verify_hmac_text(VERIFY_BASE64, key, (size_t)klen, parts, lens, 5, out);
	wipe_bytes(key, sizeof key);
	return rc < 0 ? -1 : 0;
}

int stdwebhooks_verify(const char *secret, size_t secret_len, const struct stdwebhooks_msg *m,
		       const struct stdwebhooks_sig *sigs, int nsigs)
{
	char expected[STDWEBHOOKS_SIG_TEXT];
	int match = 0;

	if (stdwebhooks_sign(secret, secret_len, m, expected) < 0)
		return -1;
	for (int i = 0; i < nsigs; i++)
		match |= verify_equal(sigs[i].p, sigs[i].len, expected, VERIFY_B64_LEN);
	wipe_bytes(expected, sizeof expected);
	return match;
}
