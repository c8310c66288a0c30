/* retention.c: retention.h. Small batches, each its own transaction, so that ingest (which needs the
 * same write lock on SQLite) waits at most one batch, never a whole purge. */
#include "first.h"
#include "process/retention.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "store/store.h"

#define TICK_EVERY  60.0 /* seconds between passes of one processor */
#define TICK_BATCH  500
#define TICK_BUDGET 0.25

int process_retention(struct store *s, const struct config *cfg, long long now, long batch, double budget,
		      struct retention_removed *out)
{
	static const enum store_retain kinds[] = {STORE_RETAIN_DONE, STORE_RETAIN_DEAD, STORE_RETAIN_AUDIT};
	double end = clock_monotonic() + budget;

	out->done = out->dead = out->audit = 0;
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		long long before = now - (kinds[k] == STORE_RETAIN_DEAD ? cfg->retention_dead : cfg->retention);
		long *total = kinds[k] == STORE_RETAIN_DONE   ? &out->done
			      : kinds[k] == STORE_RETAIN_DEAD ? &out->dead
							      : &out->audit;
		long n;

		do {
			if (store_retain_batch(s, kinds[k], before, batch, &n) < 0)
				return -1;
			*total += n;
		} while (n == batch && clock_monotonic() < end);
		if (clock_monotonic() >= end)
			break;
	}
	return 0;
}

void process_retention_tick(struct store *s, const struct config *cfg)
{
	static double next;
	struct retention_removed r;

	if (clock_monotonic() < next)
		return;
	next = clock_monotonic() + TICK_EVERY;
	if (process_retention(s, cfg, clock_now(), TICK_BATCH, TICK_BUDGET, &r) < 0) {
		log_warn("retention: the store failed (%s); trying again in a minute", store_error(s));
		return;
	}
	if (r.done || r.dead || r.audit)
		log_info("retention: removed %ld processed or test events, %ld dead events and %ld audit rows", r.done,
			 r.dead, r.audit);
}
