/* source_cache.h: a small per-process cache of sources and their secrets, so a delivery costs one
 * store round trip instead of two. Entries live source_cache_seconds (config); a change made with
 * kancactl (disable, a new secret) reaches every responder within that time. */
#ifndef KANCA_SOURCE_CACHE_H
#define KANCA_SOURCE_CACHE_H

#include "first.h"

#include "store/store.h"

/* Like store_source_get (1 found, 0 not found, -1 error; out freed with store_source_free), served
 * from the cache when an entry younger than ttl seconds (monotonic time) exists. ttl 0 always asks the store.
 * Secrets that expired since the entry was fetched are left out. Misses are not cached. */
int source_cache_get(struct store *s, const char *provider, const char *account, long long now, long ttl,
		     struct store_source *out) KANCA_MUST_CHECK;

/* While the store is in trouble (s NULL, or the lookup failed), an entry up to this old is used:
 * deliveries for a known source are verified and spooled instead of refused. */
#define SOURCE_CACHE_STALE_MAX 3600.0

/* The entry for provider/account if one at most SOURCE_CACHE_STALE_MAX old exists, whatever ttl says
 * (1, out filled; 0 none; -1 out of memory). */
int source_cache_stale(const char *provider, const char *account, long long now,
		       struct store_source *out) KANCA_MUST_CHECK;

#endif
