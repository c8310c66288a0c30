/* fuzz_sig_list.c: libFuzzer target for the Standard Webhooks / Svix signature-list parser and the
 * whsec_ secret decoder. */
#include "first.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "caps.h"
#include "stdwebhooks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct stdwebhooks_sig sigs[KANCA_SIGNATURES_MAX];
	unsigned char key[KANCA_SECRET_MAX];
	size_t spaces = 0;
	long klen;
	int n;

	klen = stdwebhooks_secret_key(s, size, key, sizeof key);
	if (klen == 0 || klen > (long)sizeof key)
		__builtin_trap();
	n = stdwebhooks_sig_list_parse(s, size, sigs, KANCA_SIGNATURES_MAX);
	if (n < -1 || n > KANCA_SIGNATURES_MAX)
		__builtin_trap();
	for (size_t i = 0; i < size; i++)
		spaces += data[i] == ' ';
	/* at most one v1 per entry */
	if (n > 0 && (size_t)n > spaces + 1)
		__builtin_trap();
	for (int i = 0; i < n; i++) {
		const struct stdwebhooks_sig *g = &sigs[i];

		/* a slice of the input right after "v1,", without ' ' or ',' */
		if (g->p < s + 3 || g->p + g->len > s + size || memcmp(g->p - 3, "v1,", 3) != 0 ||
		    (g->p > s + 3 && g->p[-4] != ' ') || memchr(g->p, ' ', g->len) || memchr(g->p, ',', g->len))
			__builtin_trap();
		if (i && g->p <= sigs[i - 1].p)
			__builtin_trap();
	}
	return 0;
}
