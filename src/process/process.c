/* process.c: the processor loop: claim, run actions, record attempts, schedule retries. */
#include "first.h"
#include "wipe.h"
#include "process/process.h"
#include "process/builtin.h"
#include "process/exec.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "process/forward.h"
#include "process/retention.h"
#include "log.h"
#include "intake.h"
#include "options.h"
#include "store/store.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static int allow_link_local; /* forward_allow_link_local of the configuration process_run was given */

void process_stop(void)
{
	stop_requested = 1;
}

void process_policy_defaults(struct process_policy *p)
{
	p->attempts = 5;
	p->initial = 1;
	p->factor = 2.0;
	p->max = 60;
	p->retry_after_cap = 3600;
}

static int opt_number(const char *options, const char *key, double lo, double hi, double *out, struct buf *err)
{
	char v[64], *end;
	double d;

	switch (options_get(options, key, v, sizeof v)) {
	case 0:
		return 0;
	case 1:
		errno = 0;
		d = strtod(v, &end);
		if (!errno && end != v && !*end && d >= lo && d <= hi) {
			*out = d;
			return 0;
		}
		/* fall through */
	default:
		return buf_fail(err, "%s: expected a number from %g to %g", key, lo, hi);
	}
}

int process_policy_load(const char *options, struct process_policy *p, struct buf *err)
{
	double a = p->attempts, i = (double)p->initial, f = p->factor, m = (double)p->max;

	if (opt_number(options, "retry_attempts", 1, 100, &a, err) < 0 ||
	    opt_number(options, "retry_initial", 1, 86400, &i, err) < 0 ||
	    opt_number(options, "retry_factor", 1, 10, &f, err) < 0 ||
	    opt_number(options, "retry_max", 1, 604800, &m, err) < 0)
		return -1;
	p->attempts = (int)a;
	p->initial = (long)i;
	p->factor = f;
	p->max = (long)m;
	return 0;
}

long process_backoff(const struct process_policy *p, int attempts, long retry_after)
{
	double d = (double)p->initial * pow(p->factor, attempts > 1 ? attempts - 1 : 0);
	double jitter = 0.8 + 0.4 * ((double)rand() / (double)RAND_MAX);
	long s;

	if (d > (double)p->max)
		d = (double)p->max;
	s = (long)llround(d * jitter);
	if (s < 1)
		s = 1;
	if (retry_after > s)
		s = retry_after < p->retry_after_cap ? retry_after : p->retry_after_cap;
	return s;
}

/* An action's timeout option (whole seconds, checked by kancactl action add) in milliseconds; dflt when
 * it is absent or unusable. */
static long timeout_ms(const char *text, long dflt)
{
	char *end;
	long v;

	if (!text[0])
		return dflt;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v <= 0 || v > 86400)
		return dflt;
	return v * 1000;
}

/* Options of a forward action: secret (whsec_...), static_secret, header ("Name: value"), timeout. */
static void run_forward(const struct store_job *job, const char *target, const char *options,
			struct forward_outcome *fo)
{
	char secret[512] = "", stat[512] = "", header[1024] = "", timeout[32] = "";
	const char *extra[2] = {NULL, NULL};
	struct forward_target t;
	struct forward_message m;

	(void)options_get(options, "secret", secret, sizeof secret);
	(void)options_get(options, "static_secret", stat, sizeof stat);
	(void)options_get(options, "header", header, sizeof header);
	(void)options_get(options, "timeout", timeout, sizeof timeout);
	if (header[0])
		extra[0] = header;
	memset(&t, 0, sizeof t);
	t.url = target;
	t.allow_link_local = allow_link_local;
	t.signing_secret = secret[0] ? secret : NULL;
	t.static_secret = stat[0] ? stat : NULL;
	t.extra_headers = extra;
	t.timeout_ms = timeout_ms(timeout, 0);
	/* the event's public id is the delivery id: the same on every retry and replay, never reused */
	memset(&m, 0, sizeof m);
	m.id = job->public_id;
	m.timestamp = clock_now();
	m.body = job->body;
	m.len = job->body_len;
	m.content_type = NULL;
	forward_post(&t, &m, fo);
	wipe_bytes(secret, sizeof secret);
	memset(stat, 0, sizeof stat);
}

static void nap(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_requested)
		;
}

static struct log_every hold_log, run_log;

/* A write of a claim failed (the store is locked, down or full for a moment): whether to try it again,
 * 0.5 s from now. Yes while the claim lasts (2 s to spare) and no stop was asked: the event then ends
 * right after the store is back, not a whole lease later, and what an action did is not done twice. */
static int hold_on(struct store *s, const struct store_job *job, const char *what)
{
	if (stop_requested || clock_now() + 2 >= job->lease_until)
		return 0;
	if (log_every(&hold_log, (int)store_failure(s) + 1))
		log_warn("event %lld: the store failed %s (%s: %s); trying again while the claim lasts", job->event_id,
			 what, store_failure_name(store_failure(s)), store_error(s));
	nap(0.5);
	return 1;
}

/* Ends the claim with status (and its audit row when audit_action is set), each write held on. 0 or -1. */
static int end_claim(struct store *s, const struct store_job *job, const char *status, long long next_at,
		     const char *audit_action, int audit_status, const char *reason)
{
	long long now = clock_now();

	while (store_finish(s, job->event_id, status, next_at, now) < 0)
		if (!hold_on(s, job, "to end the claim"))
			return -1;
	while (audit_action && store_audit(s, now, audit_action, NULL, NULL, job->source_id, job->event_id,
					   audit_status, reason, NULL) < 0)
		if (!hold_on(s, job, "to write the audit row"))
			return -1;
	return 0;
}

int process_job(struct store *s, struct store_job *job)
{
	struct store_rows *actions = NULL;
	struct process_policy pol;
	struct buf err;
	long retry_after = -1;
	int failed = 0;
	long long now;

	process_policy_defaults(&pol);
	buf_init(&err, 256);
	if (process_policy_load(job->options, &pol, &err) < 0)
		log_warn("event %lld: bad retry option (%s): using the defaults", job->event_id, buf_str(&err));
	buf_free(&err);
	/* a claim before this one whose attempt never ended: its processor died mid-action */
	while (job->attempts > 1 && store_attempts_interrupted(s, job->event_id, clock_now()) < 0)
		if (!hold_on(s, job, "to close the interrupted attempts"))
			return -1;
	while (store_actions(s, job->source_id, &actions) < 0)
		if (!hold_on(s, job, "to read the actions"))
			return -1;
	for (size_t i = 0; i < store_rows_count(actions); i++) {
		long long aid = strtoll(store_rows_get(actions, i, 0, NULL), NULL, 10);
		const char *kind = store_rows_get(actions, i, 1, NULL), *target = store_rows_get(actions, i, 2, NULL);
		const char *opts = store_rows_get(actions, i, 3, NULL);
		int enabled = strcmp(store_rows_get(actions, i, 4, NULL), "0") != 0;
		struct forward_outcome fo;
		long long attempt;
		const char *outcome;
		int done, exit_code = -1;

		while ((done = store_action_done(s, job->event_id, aid)) < 0)
			if (!hold_on(s, job, "to read what succeeded"))
				goto store_error;
		if (done || !enabled)
			continue; /* a retry does not repeat what succeeded; a gone destination is skipped */
		while (store_attempt_begin(s, job->event_id, aid, kind, clock_now(), &attempt) < 0)
			if (!hold_on(s, job, "to record an attempt"))
				goto store_error;
		memset(&fo, 0, sizeof fo);
		if (strcmp(kind, "forward") == 0) {
			run_forward(job, target, opts, &fo);
		} else if (strcmp(kind, "exec") == 0) {
			struct process_exec_outcome eo;
			char timeout[32] = "";
			(void)options_get(opts, "timeout", timeout, sizeof timeout);
			process_exec_run(target, job, timeout_ms(timeout, 30000), &eo);
			fo.result = eo.ok ? FORWARD_OK : FORWARD_RETRY;
			fo.retry_after = -1;
			exit_code = eo.exit_code;
			snprintf(fo.error, sizeof fo.error, "%s", eo.error);
		} else if (strcmp(kind, "builtin") == 0) {
			fo.result = process_builtin_run(s, job, target, fo.error, sizeof fo.error) == 0 ? FORWARD_OK
													: FORWARD_RETRY;
			fo.retry_after = -1;
		} else if (strcmp(kind, "notify") == 0) {
			char payload[32];
			int n;
			snprintf(payload, sizeof payload, "%lld", job->event_id);
			n = store_notify(s, target, payload);
			fo.result = n == 0 ? FORWARD_OK : FORWARD_RETRY;
			fo.retry_after = -1;
			if (n == -2)
				snprintf(fo.error, sizeof fo.error, "notify needs the PostgreSQL store");
			else if (n < 0)
				snprintf(fo.error, sizeof fo.error, "pg_notify failed");
		} else {
			fo.result = FORWARD_INVALID;
			snprintf(fo.error, sizeof fo.error, "action kind %s is not supported by this kanca", kind);
		}
		outcome = fo.result == FORWARD_OK      ? "ok"
			  : fo.result == FORWARD_GONE  ? "gone"
			  : fo.result == FORWARD_RETRY ? "retry"
						       : "failed";
		while (store_attempt_end(s, attempt, clock_now(), outcome, fo.http_status ? fo.http_status : -1,
					 exit_code, fo.error) < 0)
			if (!hold_on(s, job, "to record an attempt's end"))
				goto store_error;
		switch (fo.result) {
		case FORWARD_OK:
			break;
		case FORWARD_GONE:
			/* 410: this destination wants no more; the others go on */
			log_warn("event %lld: %s answered 410 Gone: action %lld disabled", job->event_id, kind, aid);
			if (store_action_disable(s, aid) < 0 ||
			    store_audit(s, clock_now(), "action_disabled", NULL, NULL, job->source_id, job->event_id,
					410, "destination answered 410 Gone", NULL) < 0)
				goto store_error;
			break;
		default:
			failed = 1;
			if (fo.retry_after > retry_after)
				retry_after = fo.retry_after;
			log_info("event %lld: %s attempt %d failed (%s)", job->event_id, kind, job->attempts,
				 fo.error[0] ? fo.error : "no detail");
			break;
		}
	}
	store_rows_free(actions);
	if (!failed)
		return end_claim(s, job, "processed", 0, "processed", 0, NULL) < 0 ? -1 : PROCESS_PROCESSED;
	if (job->attempts >= pol.attempts) {
		log_warn("event %s (%lld) is dead after %d attempts (kancactl replay %lld)", job->public_id,
			 job->event_id, job->attempts, job->event_id);
		return end_claim(s, job, "dead", 0, "processing_failed", 0, "dead after the last attempt") < 0
			   ? -1
			   : PROCESS_DEAD;
	}
	now = clock_now();
	return end_claim(s, job, "retry", now + process_backoff(&pol, job->attempts, retry_after), NULL, 0, NULL) < 0
		   ? -1
		   : PROCESS_RETRY;
store_error:
	store_rows_free(actions);
	return -1;
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

long process_run(struct store *s, const struct process_opts *o)
{
	long done = 0;
	double next_look = 0;

	stop_requested = 0;
	allow_link_local = o->cfg && o->cfg->forward_allow_link_local;
	srand((unsigned)clock_monotonic() ^ (unsigned)getpid());
	while (!stop_requested && (!o->max_events || done < o->max_events)) {
		struct store_job job;
		int rc;

		if (done % 64 == 0)
			(void)drain_spool(s, o, &next_look);
		rc = store_claim(s, clock_now(), o->lease, 0, &job);
		if (rc < 0) {
			if (o->drain)
				return -1;
			if (log_every(&run_log, (int)store_failure(s) + 1))
				log_error("processor: the store is %s (%s); waiting for it",
					  store_failure_name(store_failure(s)), store_error(s));
			nap(0.5);
			continue;
		}
		if (rc == 0) {
			if (drain_spool(s, o, &next_look) > 0)
				continue; /* the spool's deliveries are due now */
			if (o->cfg)
				process_retention_tick(s, o->cfg); /* idle: old rows go, a few at a time */
			if (o->drain)
				break;
			nap(o->poll);
			continue;
		}
		rc = process_job(s, &job);
		if (rc < 0)
			log_error("event %s: the store failed while processing; its lease will expire", job.public_id);
		if (o->counts) {
			long *c[] = {&o->counts->processed, &o->counts->retry, &o->counts->dead};
			(*(rc >= 0 && rc <= PROCESS_DEAD ? c[rc] : &o->counts->failed))++;
		}
		store_job_free(&job);
		done++;
	}
	return done;
}
