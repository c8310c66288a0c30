/* stripe.h: the Stripe provider's header parsing, public so the unit test and the fuzz target call it
 * directly. The provider itself is provider_stripe (registry.c). */
#ifndef KANCA_PROVIDERS_STRIPE_H
#define KANCA_PROVIDERS_STRIPE_H

#include <stddef.h>

#include "caps.h"

/* One signature: a slice of the parsed header value, not NUL-terminated. */
struct stripe_sig {
	const char *p;
	size_t len;
};

/* Stripe-Signature as stripe-node's parseHeader reads it. */
struct stripe_header {
	int has_t;				    /* an item whose key is exactly "t" was seen */
	int t_ok;				    /* the last such item's value is an integer (not NaN) */
	long long t;				    /* that integer (common_parse_js_int), 0 unless t_ok */
	int bad_v1;				    /* a "v1" item had no value: the library throws */
	struct stripe_sig v1[KANCA_SIGNATURES_MAX]; /* every "v1" value, in order */
	size_t nv1;
};

/* Parses a Stripe-Signature value of n bytes (any bytes) exactly like stripe-node: items split on
 * ','; an item's key is the text before its first '=' and its value the text between that '=' and
 * the next '=' (or the end); keys compared exactly (no trimming). Key "t": the timestamp, the last
 * one wins; key "v1": one more signature; every other key ("v0", " v1", ...) is ignored. out's
 * slices point into s. 0, or -1 when there are more than KANCA_SIGNATURES_MAX "v1" items (the
 * header is refused rather than partly checked). Missing t or v1 is for the caller to judge. */
int stripe_header_parse(const char *s, size_t n, struct stripe_header *out);

#endif
