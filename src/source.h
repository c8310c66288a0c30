/* source.h: a source (one provider account that may send webhooks) and its secrets, as a provider sees
 * them while it verifies a request. Plain data: the store fills them (store_source_get), nothing here
 * needs the store. */
#ifndef KANCA_SOURCE_H
#define KANCA_SOURCE_H

#include <stddef.h>

#include "caps.h"

struct store_secret {
	long long id;
	char *value;
	size_t len;
	long long expires_at; /* 0: never */
};

struct store_source {
	long long id;
	char provider[KANCA_SEGMENT_MAX + 1];
	char account[KANCA_SEGMENT_MAX + 1];
	int enabled;
	char *options;					/* "key=value\n" lines; never NULL after a get */
	struct store_secret secrets[KANCA_SECRETS_MAX]; /* unexpired only, newest first */
	size_t nsecrets;
};

#endif
