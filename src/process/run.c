/* run.c: the processor's loop (process_run): the spool into the store, a batch of claims at a time,
 * retention when idle. */
#include "first.h"
#include "process/process.h"
#include "process/action.h"
#include "process/batch.h"
#include "process/retention.h"
#include "clock.h"
#include "config.h"
#include "intake.h"
#include "log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct log_every run_log;

/* Sources the last batches found without an enabled action, newest last: the claims finish their fresh
 * events at once. Only a hint (the claim checks again that they have none); at most HINTS of them. */
#define HINTS 16
static long long hints[HINTS];
static size_t nhints;

static void remember_actionless(const long long *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < nhints && hints[k] != ids[i])
			k++;
		if (k < nhints)
			continue;
		if (nhints == HINTS) {
			memmove(hints, hints + 1, (HINTS - 1) * sizeof hints[0]);
			nhints--;
		}
		hints[nhints++] = ids[i];
	}
}

/* The spool's deliveries into the store, oldest first, a batch at a time; a spool the store cannot take
 * yet (or that another process drains) is looked at again half a second later. */
static long drain_spool(struct store *s, const struct process_opts *o, double *next_look)
{
	struct intake_drained d;

	if (!o->cfg || clock_monotonic() < *next_look)
		return 0;
	if (intake_drain(s, o->cfg, 256, &d) < 0) {
		if (o->counts)
			o->counts->spool_unreadable = 1;
		*next_look = clock_monotonic() + 0.5;
		return 0;
	}
	if (d.stopped || d.busy) {
		*next_look = clock_monotonic() + 0.5;
		return 0;
	}
	return d.stored;
}

static void count_ends(const struct process_opts *o, const int *ends, size_t n)
{
	if (!o->counts)
		return;
	for (size_t i = 0; i < n; i++) {
		long *c[] = {&o->counts->processed, &o->counts->retry, &o->counts->dead};
		(*(ends[i] >= 0 && ends[i] <= PROCESS_DEAD ? c[ends[i]] : &o->counts->failed))++;
	}
}

long process_run(struct store *s, const struct process_opts *o)
{
	long done = 0, since_spool = 0;
	double next_look = 0;

	process_stop_clear();
	process_action_allow_link_local(o->cfg && o->cfg->forward_allow_link_local);
	srand((unsigned)clock_monotonic() ^ (unsigned)getpid());
	while (!process_stopping() && (!o->max_events || done < o->max_events)) {
		struct store_job jobs[BATCH_MAX];
		int ends[BATCH_MAX];
		long long actionless[BATCH_MAX];
		size_t max = BATCH_MAX, n, nactionless;
		long finished;

		if (o->max_events && (size_t)(o->max_events - done) < max)
			max = (size_t)(o->max_events - done);
		if (since_spool == 0 || since_spool >= 64) {
			(void)drain_spool(s, o, &next_look);
			since_spool = 0;
		}
		if (store_claim_batch(s, clock_now(), o->lease, 0, hints, nhints, jobs, max, &n, &finished) < 0) {
			if (o->drain)
				return -1;
			if (log_every(&run_log, (int)store_failure(s) + 1))
				log_error("processor: the store is %s (%s); waiting for it",
					  store_failure_name(store_failure(s)), store_error(s));
			process_nap(0.5);
			continue;
		}
		if (finished > 0) {
			/* events with nothing to run, processed in the claim's transaction */
			if (o->counts)
				o->counts->processed += finished;
			done += finished;
			since_spool += finished;
		}
		if (n == 0 && finished > 0) {
			if (o->max_events && done >= o->max_events)
				break;
			continue; /* more may be due: claim again */
		}
		if (n == 0) {
			if (drain_spool(s, o, &next_look) > 0)
				continue; /* the spool's deliveries are due now */
			if (o->cfg)
				process_retention_tick(s, o->cfg); /* idle: old rows go, a few at a time */
			if (o->drain)
				break;
			process_nap(o->poll);
			continue;
		}
		process_batch(s, jobs, n, ends, actionless, &nactionless);
		remember_actionless(actionless, nactionless);
		for (size_t i = 0; i < n; i++) {
			if (ends[i] < 0)
				log_error("event %s: the store failed while processing; its lease will expire",
					  jobs[i].public_id);
			store_job_free(&jobs[i]);
		}
		count_ends(o, ends, n);
		done += (long)n;
		since_spool += (long)n;
		if (n < max && o->gather > 0)
			process_nap(o->gather);
	}
	return done;
}
