/* process.h: the processor. Claims stored events (with a lease), runs their source's actions in
 * order, records every attempt, and sets each event to processed, to a retry time, or to dead. */
#ifndef KANCA_PROCESS_H
#define KANCA_PROCESS_H

#include "first.h"

#include <stddef.h>

struct store;
struct store_job;
struct buf;

struct process_policy {
	int attempts;	      /* after this many attempts an event is dead */
	long initial;	      /* seconds before the first retry */
	double factor;	      /* each retry waits factor times longer ... */
	long max;	      /* ... up to this many seconds */
	long retry_after_cap; /* a destination's Retry-After is honoured up to this */
};

/* The default policy (doc/processing.md): 5 attempts, 1 s first delay, x2, 60 s cap; Retry-After up to 3600 s. */
void process_policy_defaults(struct process_policy *p);
/* Reads retry_attempts, retry_initial, retry_factor, retry_max from a source's options over the
 * defaults. 0, or -1 with the reason in err. */
int process_policy_load(const char *options, struct process_policy *p, struct buf *err) KANCA_MUST_CHECK;
/* Seconds until the next try after `attempts` failed attempts, with +-20% jitter, at least the
 * destination's retry_after (capped) when it gave one (-1: none). */
long process_backoff(const struct process_policy *p, int attempts, long retry_after);

/* How process_job ended a claim. */
enum process_end { PROCESS_PROCESSED = 0, PROCESS_RETRY = 1, PROCESS_DEAD = 2 };
/* Runs the actions of one claimed job and ends the claim: an enum process_end, or -1 when the store failed
 * (the lease then expires and the event is claimed again). */
int process_job(struct store *s, struct store_job *job);

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
	struct process_counts *counts; /* filled when not NULL */
};

/* Drains the spool (o->cfg's) and claims and processes due events. Returns how many were processed, or
 * -1 on a store error in drain mode; otherwise a store that fails is waited for (logged once per cause). */
long process_run(struct store *s, const struct process_opts *o);
/* Asks process_run to return after the event in hand (signal-safe). */
void process_stop(void);

#endif
