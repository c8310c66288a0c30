/* fuzz_stripe_header.c: libFuzzer target for the Stripe-Signature parser and the parseInt it uses. */
#include "first.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "caps.h"
#include "providers/common.h"
#include "providers/stripe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct stripe_header h;
	long long v = 0;
	size_t commas = 0;

	if (common_parse_js_int(s, size, &v) && (v > COMMON_JS_INT_MAX || v < -COMMON_JS_INT_MAX))
		__builtin_trap();
	if (stripe_header_parse(s, size, &h) < 0)
		return 0;
	for (size_t i = 0; i < size; i++)
		commas += data[i] == ',';
	/* at most one v1 per item, never more than the cap */
	if (h.nv1 > KANCA_SIGNATURES_MAX || h.nv1 > commas + 1)
		__builtin_trap();
	if (h.t_ok && !h.has_t)
		__builtin_trap();
	if (h.t_ok && (h.t > COMMON_JS_INT_MAX || h.t < -COMMON_JS_INT_MAX))
		__builtin_trap();
	for (size_t i = 0; i < h.nv1; i++) {
		const struct stripe_sig *g = &h.v1[i];

		if (g->len == 0) {
			if (!h.bad_v1)
				__builtin_trap();
			continue;
		}
		/* a signature is a slice of the input, preceded by "v1=", without ',' or '=' */
		if (g->p < s + 3 || g->p + g->len > s + size || memcmp(g->p - 3, "v1=", 3) != 0 ||
		    (g->p > s + 3 && g->p[-4] != ',') || memchr(g->p, ',', g->len) || memchr(g->p, '=', g->len))
			__builtin_trap();
	}
	return 0;
}
