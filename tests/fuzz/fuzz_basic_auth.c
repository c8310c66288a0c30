/* fuzz_basic_auth.c: libFuzzer target for the Authorization: Basic parser of the Trendyol provider
 * (trendyol_basic_parse), with the invariants its callers rely on. */
#include "first.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "providers/trendyol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so that ASan sees any read past the n bytes given */
	char *value = malloc(size ? size : 1);
	char out[KANCA_HEADER_VALUE_MAX];
	struct trendyol_basic cred;
	const char *why = NULL;
	int rc;

	if (!value)
		return 0;
	if (size)
		memcpy(value, data, size);
	/* also a small output buffer: credentials that do not fit must be refused, not truncated */
	rc = trendyol_basic_parse(value, size, out, size % 7 == 0 ? 8 : sizeof out, &cred, &why);
	if (!why)
		__builtin_trap();
	if (rc == 0) {
		/* user:pass split at the first colon, both non-empty, inside out, no control characters */
		if (!cred.user || !cred.pass || cred.user_len == 0 || cred.pass_len == 0 || cred.user != out ||
		    cred.pass != cred.user + cred.user_len + 1 || cred.user[cred.user_len] != ':' ||
		    memchr(cred.user, ':', cred.user_len))
			__builtin_trap();
		for (size_t i = 0; i < cred.user_len + 1 + cred.pass_len; i++)
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				__builtin_trap();
	} else if (rc != -1 || cred.user || cred.pass || !*why) {
		__builtin_trap();
	}
	free(value);
	return 0;
}
