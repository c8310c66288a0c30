/* registry.h: the table of providers. */
#ifndef KANCA_REGISTRY_H
#define KANCA_REGISTRY_H

#include "providers/provider.h"

/* Provider by canonical name or alias, or NULL. */
const struct provider *registry_find(const char *name);
/* The i-th provider, or NULL past the end. */
const struct provider *registry_at(size_t i);

#endif
