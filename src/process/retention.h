/* retention.h: old rows removed by the processors, a little at a time (doc/operations.md, "Retention"). */
#ifndef KANCA_PROCESS_RETENTION_H
#define KANCA_PROCESS_RETENTION_H

struct config;
struct store;

/* What one retention pass removed. */
struct retention_removed {
	long done, dead, audit; /* processed and test events, dead events, audit rows */
};

/* Removes what cfg's retention and retention_dead say is too old, as of now: processed and test events
 * (with their attempts) and audit rows older than retention, dead events older than retention_dead, in
 * batches of at most batch rows, each its own short transaction, for at most budget seconds. Events
 * that are not finished are never removed. 0, or -1 when the store failed (what was removed stays
 * removed). */
int process_retention(struct store *s, const struct config *cfg, long long now, long batch, double budget,
		      struct retention_removed *out);
/* The processors' way: a pass at most once a minute per process (0 when not due), 500-row batches, a
 * quarter of a second at most, logged when it removed anything. */
void process_retention_tick(struct store *s, const struct config *cfg);

#endif
