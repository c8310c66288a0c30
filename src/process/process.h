/* process.h: the processor. Claims stored events (with a lease) a batch at a time, runs their source's
 * actions in order (process/batch.h), records every attempt, and sets each event to processed, to a
 * retry time, or to dead. process.c holds its policy; run.c its loop. */
#ifndef KANCA_PROCESS_H
#define KANCA_PROCESS_H

#include "first.h"

#include <stddef.h>

struct store;
struct buf;

struct process_policy {
	int attempts;	      /* after this many attempts an event is dead */
	long initial;	      /* seconds before the first retry */
	double factor;	      /* each retry waits factor times longer ... */
	long max;	      /* ... up to this many seconds */
	long retry_after_cap; /* a destination's Retry-After is honoured up to this */
	int ordered;	      /* ordered=1: one event of the source in flight at a time, in arrival order
			       * (store_claim_batch reads the option itself) */
};

/* The default policy (doc/processing.md): 5 attempts, 1 s first delay, x2, 60 s cap; Retry-After up to 3600 s. */
void process_policy_defaults(struct process_policy *p);
/* Reads retry_attempts, retry_initial, retry_factor, retry_max and ordered (0 or 1) from a source's
 * options over the defaults. 0, or -1 with the reason in err. */
int process_policy_load(const char *options, struct process_policy *p, struct buf *err) KANCA_MUST_CHECK;
/* Seconds until the next try after `attempts` failed attempts, with +-20% jitter, at least the
 * destination's retry_after (capped) when it gave one (-1: none). */
long process_backoff(const struct process_policy *p, int attempts, long retry_after);

/* How a claim ended (process_batch). */
enum process_end { PROCESS_PROCESSED = 0, PROCESS_RETRY = 1, PROCESS_DEAD = 2 };

/* Sleeps, cut short by process_stop. */
void process_nap(double seconds);
/* Whether process_stop was called. */
int process_stopping(void);
/* A write of a claim failed (the store is locked, down or full for a moment): whether to try it again,
 * 0.5 s from now (this waits the 0.5 s). Yes while the claim lasts (2 s to spare) and no stop was asked:
 * the event then ends right after the store is back, not a whole lease later, and what an action did is
 * not done twice. Logged once per cause. */
int process_hold_on(struct store *s, long long lease_until, long long event_id, const char *what);

/* What a process_run did, by how each claim ended. */
struct process_counts {
	long processed, retry, dead, failed; /* failed: the store failed; the lease will expire */
	int spool_unreadable;		     /* the spool could not be read (its records wait) */
};

struct config;

struct process_opts {
	const struct config *cfg;      /* its spool is drained into the store first (NULL: none) */
	long lease;		       /* seconds a claim lasts */
	int drain;		       /* stop when nothing is due (kancactl worker --drain) */
	long max_events;	       /* stop after this many (0: no limit) */
	double poll;		       /* seconds between looks when idle */
	double gather;		       /* after a batch that was not full, seconds to let more events
					* arrive before the next claim (0: none); batches of one cost a
					* claim and an end each, full ones a thirty-second of that */
	struct process_counts *counts; /* filled when not NULL */
};

/* Drains the spool (o->cfg's) and claims and processes due events. Returns how many were processed, or
 * -1 on a store error in drain mode; otherwise a store that fails is waited for (logged once per cause). */
long process_run(struct store *s, const struct process_opts *o);
/* Asks process_run to return after the batch in hand (signal-safe). */
void process_stop(void);
/* Forgets an earlier process_stop (process_run does this when it starts). */
void process_stop_clear(void);

#endif
