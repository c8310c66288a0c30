/* source_cache.c: per-process source cache (no request globals: it holds only store data). */
#include "first.h"
#include "source_cache.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 64

struct slot {
	int used;
	double fetched_at; /* clock_monotonic(): a pinned test clock must not keep entries forever */
	struct store_source src;
};

static struct slot slots[CACHE_SLOTS];
static unsigned next_victim;

/* Deep copy of a source, leaving out secrets expired at now. 0 or -1 (dst then empty). */
static int copy_source(struct store_source *dst, const struct store_source *src, long long now)
{
	memset(dst, 0, sizeof *dst);
	dst->id = src->id;
	memcpy(dst->provider, src->provider, sizeof dst->provider);
	memcpy(dst->account, src->account, sizeof dst->account);
	dst->enabled = src->enabled;
	dst->options = strdup(src->options ? src->options : "");
	if (!dst->options)
		return -1;
	for (size_t i = 0; i < src->nsecrets; i++) {
		const struct store_secret *k = &src->secrets[i];
		struct store_secret *d = &dst->secrets[dst->nsecrets];
		if (k->expires_at && k->expires_at <= now)
			continue;
		d->value = malloc(k->len + 1);
		if (!d->value) {
			store_source_free(dst);
			return -1;
		}
		memcpy(d->value, k->value, k->len + 1);
		d->len = k->len;
		d->id = k->id;
		d->expires_at = k->expires_at;
		dst->nsecrets++;
	}
	return 0;
}

static struct slot *find(const char *provider, const char *account)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (slots[i].used && strcmp(slots[i].src.provider, provider) == 0 &&
		    strcmp(slots[i].src.account, account) == 0)
			return &slots[i];
	return NULL;
}

int source_cache_stale(const char *provider, const char *account, long long now, struct store_source *out)
{
	struct slot *sl = find(provider, account);

	if (!sl || clock_monotonic() - sl->fetched_at > SOURCE_CACHE_STALE_MAX)
		return 0;
	return copy_source(out, &sl->src, now) < 0 ? -1 : 1;
}

int source_cache_get(struct store *s, const char *provider, const char *account, long long now, long ttl,
		     struct store_source *out)
{
	struct slot *sl = find(provider, account);
	int rc;

	if (sl && ttl > 0 && clock_monotonic() - sl->fetched_at < (double)ttl)
		return copy_source(out, &sl->src, now) < 0 ? -1 : 1;
	rc = s ? store_source_get(s, provider, account, now, out) : -1;
	if (rc < 0)
		return -1;
	if (sl) { /* the store answered: its word replaces the entry (kept even with ttl 0, for trouble) */
		store_source_free(&sl->src);
		sl->used = 0;
	}
	if (rc != 1)
		return rc;
	sl = NULL;
	for (size_t i = 0; i < CACHE_SLOTS && !sl; i++)
		if (!slots[i].used)
			sl = &slots[i];
	if (!sl) {
		sl = &slots[next_victim++ % CACHE_SLOTS];
		store_source_free(&sl->src);
		sl->used = 0;
	}
	if (copy_source(&sl->src, out, now) == 0) {
		sl->used = 1;
		sl->fetched_at = clock_monotonic();
	}
	return 1;
}
