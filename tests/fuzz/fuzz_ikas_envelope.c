/* fuzz_ikas_envelope.c: libFuzzer target for the ikas envelope parser (ikas_parse_envelope): the
 * decoded "data" bytes the HMAC covers, with the invariants the provider relies on. */
#include "first.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "outcome.h"
#include "verify.h"

/* HMAC-SHA256 of one message part. */
#define hmac_one(k, kl, m, ml, out)                                                                                    \
	verify_hmac_sha256_parts(k, kl, (const void *const[]){m}, (const size_t[]){ml}, 1, out)
#include "providers/ikas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	struct json *root = NULL;
	struct ikas_envelope env;
	const char *why = NULL;
	enum outcome o;

	if (!body)
		return 0;
	if (size)
		memcpy(body, data, size);
	o = ikas_parse_envelope(body, size, &root, &env, &why);
	if (!why)
		__builtin_trap();
	if (o == OUTCOME_OK) {
		unsigned char mac[VERIFY_SHA256_LEN];
		volatile unsigned char sink = 0;

		if (!root || !env.data || !env.signature || json_kind_of(root) != JSON_OBJECT)
			__builtin_trap();
		/* every byte of every member is readable for its stated length, and the HMAC runs over it */
		for (size_t i = 0; i < env.data_len; i++)
			sink ^= (unsigned char)env.data[i];
		for (size_t i = 0; i < env.signature_len; i++)
			sink ^= (unsigned char)env.signature[i];
		if ((env.id && env.id[env.id_len] != '\0') || (env.scope && env.scope[env.scope_len] != '\0') ||
		    env.data[env.data_len] != '\0')
			__builtin_trap();
		if (hmac_one("k", 1, env.data, env.data_len, mac) < 0)
			__builtin_trap();
		(void)sink;
		json_free(root);
	} else if (root || env.data || env.signature ||
		   (o != OUTCOME_BAD_REQUEST && o != OUTCOME_UNAUTHORIZED && o != OUTCOME_INTERNAL)) {
		__builtin_trap();
	}
	free(body);
	return 0;
}
