/* registry.c: every provider kanca knows, in one table. */
#include "registry.h"

#include <string.h>

extern const struct provider provider_supplier;
extern const struct provider provider_hmac;

static const struct provider *const providers[] = {
	&provider_supplier,
	&provider_hmac,
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
