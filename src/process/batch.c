/* batch.c: a batch of claimed events, its actions in rounds, its writes a transaction per step
 * (process/batch.h). */
#include "first.h"
#include "process/batch.h"
#include "process/action.h"
#include "process/pool.h"
#include "process/process.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

struct source_actions {
	long long source_id;
	struct store_rows *rows; /* id, kind, target, options, enabled, position */
};

struct item {
	struct store_job *job;
	struct process_policy pol;
	struct source_actions *sa;
	unsigned char *skip; /* per action: already done (a retry does not repeat it) */
	int failed;
	int given_back; /* an action was not started (the lease): the event is given back, due at once */
	long retry_after;
};

struct batch {
	struct store *s;
	struct item *it;
	size_t n;
	long long lease_until;
	struct source_actions sa[BATCH_MAX];
	size_t nsa;
	long long *gone; /* actions that answered 410 in this batch: the later events skip them */
	size_t ngone;
	/* the round in progress */
	struct process_action *act; /* per item */
	long long *attempt;	    /* per item: its attempt row */
	unsigned char *in_round;    /* per item */
};

/* Runs step in a transaction, again while the claims last when the store fails. 0 or -1. */
static int in_tx(struct batch *b, const char *what, int (*step)(struct batch *b))
{
	for (;;) {
		if (store_batch_begin(b->s) == 0) {
			if (step(b) < 0)
				store_batch_abort(b->s);
			else if (store_batch_commit(b->s) == 0)
				return 0;
		}
		if (!process_hold_on(b->s, b->lease_until, b->it[0].job->event_id, what))
			return -1;
	}
}

static long long action_id(const struct source_actions *sa, size_t r)
{
	return strtoll(store_rows_get(sa->rows, r, 0, NULL), NULL, 10);
}

static int action_enabled(const struct source_actions *sa, size_t r)
{
	return strcmp(store_rows_get(sa->rows, r, 4, NULL), "0") != 0;
}

/* Each source's actions, read once for the batch. 0 or -1. */
static int load_actions(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		long long sid = b->it[i].job->source_id;
		size_t k = 0;
		while (k < b->nsa && b->sa[k].source_id != sid)
			k++;
		if (k == b->nsa) {
			b->sa[k].source_id = sid;
			while (store_actions(b->s, sid, &b->sa[k].rows) < 0)
				if (!process_hold_on(b->s, b->lease_until, b->it[i].job->event_id,
						     "to read the actions"))
					return -1;
			b->nsa++;
		}
		b->it[i].sa = &b->sa[k];
	}
	return 0;
}

static int close_interrupted(struct batch *b)
{
	long long now = clock_now();

	for (size_t i = 0; i < b->n; i++)
		if (b->it[i].job->had_attempts && store_attempts_interrupted(b->s, b->it[i].job->event_id, now) < 0)
			return -1;
	return 0;
}

/* What an earlier claim of an event already did (only an event with attempt rows has any). 0 or -1. */
static int load_done(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->it[i];
		size_t na = store_rows_count(it->sa->rows);
		if (!(it->skip = calloc(na ? na : 1, 1)))
			return -1;
		for (size_t r = 0; r < na && it->job->had_attempts; r++) {
			int done;
			while ((done = store_action_done(b->s, it->job->event_id, action_id(it->sa, r))) < 0)
				if (!process_hold_on(b->s, b->lease_until, it->job->event_id, "to read what succeeded"))
					return -1;
			it->skip[r] = (unsigned char)done;
		}
	}
	return 0;
}

static int is_gone(const struct batch *b, long long aid)
{
	for (size_t g = 0; g < b->ngone; g++)
		if (b->gone[g] == aid)
			return 1;
	return 0;
}

/* Which items have an action to run in round r; how many. */
static size_t pick_round(struct batch *b, size_t r)
{
	size_t count = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->it[i];
		struct process_action *a = &b->act[i];
		b->in_round[i] = 0;
		if (r >= store_rows_count(it->sa->rows) || it->skip[r] || !action_enabled(it->sa, r) ||
		    is_gone(b, action_id(it->sa, r)))
			continue; /* done before, or a disabled (gone) destination: skipped */
		memset(a, 0, sizeof *a);
		a->id = action_id(it->sa, r);
		a->kind = store_rows_get(it->sa->rows, r, 1, NULL);
		a->target = store_rows_get(it->sa->rows, r, 2, NULL);
		a->options = store_rows_get(it->sa->rows, r, 3, NULL);
		b->in_round[i] = 1;
		count++;
	}
	return count;
}

static int begin_attempts(struct batch *b)
{
	struct store_attempt_row rows[BATCH_MAX];
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->in_round[i]) {
			memset(&rows[n], 0, sizeof rows[n]);
			rows[n].event_id = b->it[i].job->event_id;
			rows[n].action_id = b->act[i].id;
			rows[n++].kind = b->act[i].kind;
		}
	if (store_attempts_begin(b->s, rows, n, clock_now()) < 0)
		return -1;
	for (size_t i = 0, k = 0; i < b->n; i++)
		if (b->in_round[i])
			b->attempt[i] = rows[k++].attempt_id;
	return 0;
}

static int end_attempts(struct batch *b)
{
	struct store_attempt_row rows[BATCH_MAX];
	long long now = clock_now();
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct process_action *a = &b->act[i];
		if (!b->in_round[i])
			continue;
		if (a->not_started) {
			if (store_attempt_drop(b->s, b->attempt[i]) < 0)
				return -1;
			continue;
		}
		memset(&rows[n], 0, sizeof rows[n]);
		rows[n].attempt_id = b->attempt[i];
		rows[n].outcome = process_action_outcome(a);
		rows[n].http_status = a->fo.http_status ? a->fo.http_status : -1;
		rows[n].exit_code = a->exit_code;
		rows[n++].error = a->fo.error;
		/* 410: this destination wants no more; the others go on */
		if (a->fo.result == FORWARD_GONE &&
		    (store_action_disable(b->s, a->id) < 0 ||
		     store_audit(b->s, now, "action_disabled", NULL, NULL, b->it[i].job->source_id,
				 b->it[i].job->event_id, 410, "destination answered 410 Gone", NULL) < 0))
			return -1;
	}
	return store_attempts_end(b->s, rows, n, now);
}

/* The round's forwards side by side, then its other actions here, one after the other. */
static void run_round(struct batch *b)
{
	struct pool_task tasks[BATCH_MAX];
	size_t nt = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->in_round[i] && process_action_is_forward(&b->act[i])) {
			tasks[nt].job = b->it[i].job;
			tasks[nt++].action = &b->act[i];
		}
	pool_run(tasks, nt, b->lease_until);
	for (size_t i = 0, first = 1; i < b->n; i++)
		if (b->in_round[i] && !process_action_is_forward(&b->act[i])) {
			if (process_action_fits(&b->act[i], b->lease_until, (int)first))
				process_action_run(b->s, b->it[i].job, &b->act[i]);
			first = 0;
		}
}

static void tally_round(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct process_action *a = &b->act[i];
		struct item *it = &b->it[i];
		if (!b->in_round[i])
			continue;
		if (a->not_started) {
			it->given_back = 1;
			continue;
		}
		if (a->fo.result == FORWARD_OK)
			continue;
		if (a->fo.result == FORWARD_GONE) {
			log_warn("event %lld: %s answered 410 Gone: action %lld disabled", it->job->event_id, a->kind,
				 a->id);
			long long *g = realloc(b->gone, (b->ngone + 1) * sizeof *g);
			if (g) {
				b->gone = g;
				b->gone[b->ngone++] = a->id;
			}
			continue;
		}
		it->failed = 1;
		if (a->fo.retry_after > it->retry_after)
			it->retry_after = a->fo.retry_after;
		log_info("event %lld: %s attempt %d failed (%s)", it->job->event_id, a->kind, it->job->attempts,
			 a->fo.error[0] ? a->fo.error : "no detail");
	}
}

/* How each claim ends: processed, a retry time or dead, with their audit rows. */
static int end_claims(struct batch *b)
{
	long long now = clock_now(), ids[BATCH_MAX];
	size_t nok = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->it[i];
		if (it->given_back && !it->failed) {
			if (store_give_back(b->s, it->job->event_id) < 0)
				return -1;
		} else if (!it->failed) {
			ids[nok++] = it->job->event_id;
		} else if (it->job->attempts >= it->pol.attempts) {
			if (store_finish(b->s, it->job->event_id, "dead", 0, now) < 0 ||
			    store_audit(b->s, now, "processing_failed", NULL, NULL, it->job->source_id,
					it->job->event_id, 0, "dead after the last attempt", NULL) < 0)
				return -1;
		} else if (store_finish(b->s, it->job->event_id, "retry",
					now + process_backoff(&it->pol, it->job->attempts, it->retry_after), now) < 0) {
			return -1;
		}
	}
	return store_finish_processed(b->s, ids, nok, now);
}

static void init_items(struct batch *b, struct store_job *jobs)
{
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->it[i];
		struct buf err;
		it->job = &jobs[i];
		it->retry_after = -1;
		process_policy_defaults(&it->pol);
		buf_init(&err, 256);
		if (process_policy_load(jobs[i].options, &it->pol, &err) < 0)
			log_warn("event %lld: bad retry option (%s): using the defaults", jobs[i].event_id,
				 buf_str(&err));
		buf_free(&err);
	}
}

static void free_batch(struct batch *b)
{
	for (size_t k = 0; k < b->nsa; k++)
		store_rows_free(b->sa[k].rows);
	for (size_t i = 0; b->it && i < b->n; i++)
		free(b->it[i].skip);
	free(b->it);
	free(b->act);
	free(b->attempt);
	free(b->in_round);
	free(b->gone);
}

/* The batch's sources without an enabled action. */
static void note_actionless(const struct batch *b, long long *out, size_t *nout)
{
	for (size_t k = 0; k < b->nsa; k++) {
		size_t r, na = store_rows_count(b->sa[k].rows);
		for (r = 0; r < na; r++)
			if (action_enabled(&b->sa[k], r))
				break;
		if (r == na && *nout < BATCH_MAX)
			out[(*nout)++] = b->sa[k].source_id;
	}
}

void process_batch(struct store *s, struct store_job *jobs, size_t n, int *ends, long long *actionless,
		   size_t *nactionless)
{
	struct batch b;
	size_t rounds = 0;
	int ok = 0;

	*nactionless = 0;
	for (size_t i = 0; i < n; i++)
		ends[i] = -1;
	if (n == 0 || n > BATCH_MAX)
		return;
	memset(&b, 0, sizeof b);
	b.s = s;
	b.n = n;
	b.lease_until = jobs[0].lease_until;
	b.it = calloc(n, sizeof *b.it);
	b.act = calloc(n, sizeof *b.act);
	b.attempt = calloc(n, sizeof *b.attempt);
	b.in_round = calloc(n, 1);
	if (!b.it || !b.act || !b.attempt || !b.in_round)
		goto out; /* the claims stay: their lease expires and they are taken again */
	init_items(&b, jobs);
	/* a claim before this one whose attempt never ended: its processor died mid-action */
	for (size_t i = 0; i < n; i++)
		if (jobs[i].had_attempts) {
			if (in_tx(&b, "to close the interrupted attempts", close_interrupted) < 0)
				goto out;
			break;
		}
	if (load_actions(&b) < 0 || load_done(&b) < 0)
		goto out;
	note_actionless(&b, actionless, nactionless);
	for (size_t k = 0; k < b.nsa; k++)
		if (store_rows_count(b.sa[k].rows) > rounds)
			rounds = store_rows_count(b.sa[k].rows);
	for (size_t r = 0; r < rounds; r++) {
		if (pick_round(&b, r) == 0)
			continue;
		if (in_tx(&b, "to record an attempt", begin_attempts) < 0)
			goto out;
		run_round(&b);
		if (in_tx(&b, "to record an attempt's end", end_attempts) < 0)
			goto out;
		tally_round(&b);
	}
	if (in_tx(&b, "to end the claims", end_claims) < 0)
		goto out;
	ok = 1;
out:
	for (size_t i = 0; ok && i < n; i++) {
		struct item *it = &b.it[i];
		if (it->given_back && !it->failed) {
			ends[i] = PROCESS_RETRY;
		} else if (!it->failed) {
			ends[i] = PROCESS_PROCESSED;
		} else if (it->job->attempts >= it->pol.attempts) {
			log_warn("event %s (%lld) is dead after %d attempts (kancactl replay %lld)", it->job->public_id,
				 it->job->event_id, it->job->attempts, it->job->event_id);
			ends[i] = PROCESS_DEAD;
		} else {
			ends[i] = PROCESS_RETRY;
		}
	}
	free_batch(&b);
}
