/* registry.c: every provider kanca knows, in one table. */
#include "first.h"
#include "providers/registry.h"

#include <string.h>

extern const struct provider provider_supplier, provider_hmac, provider_ikas, provider_trendyol, provider_stripe,
    provider_apple, provider_sosyalkopru, provider_github, provider_shopify, provider_standardwebhooks, provider_svix;

static const struct provider *const providers[] = {
    &provider_ikas,	   &provider_trendyol, &provider_stripe,  &provider_apple,
    &provider_sosyalkopru, &provider_github,   &provider_shopify, &provider_standardwebhooks,
    &provider_svix,	   &provider_supplier, &provider_hmac,
};

const struct provider *registry_find(const char *name)
{
	for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++) {
		const struct provider *p = providers[i];
		if (strcmp(p->name, name) == 0)
			return p;
		for (size_t a = 0; p->aliases && p->aliases[a]; a++)
			if (strcmp(p->aliases[a], name) == 0)
				return p;
	}
	return NULL;
}

const struct provider *registry_at(size_t i)
{
	return i < sizeof providers / sizeof providers[0] ? providers[i] : NULL;
}
