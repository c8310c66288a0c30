/* process.c: the processor's policy: retry options, backoff, the stop request, waiting on the store. */
#include "first.h"
#include "process/process.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
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

void process_stop(void)
{
	stop_requested = 1;
}

void process_stop_clear(void)
{
	stop_requested = 0;
}

void process_policy_defaults(struct process_policy *p)
{
	p->attempts = 5;
	p->initial = 1;
	p->factor = 2.0;
	p->max = 60;
	p->retry_after_cap = 3600;
	p->ordered = 0;
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

/* A 0/1 option, written exactly so (the claim statement matches "ordered=1" as text). */
static int opt_flag(const char *options, const char *key, double *out, struct buf *err)
{
	char v[8];

	switch (options_get(options, key, v, sizeof v)) {
	case 0:
		return 0;
	case 1:
		if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) {
			*out = v[0] == '1';
			return 0;
		}
		/* fall through */
	default:
		return buf_fail(err, "%s: expected 0 or 1", key);
	}
}

int process_policy_load(const char *options, struct process_policy *p, struct buf *err)
{
	double a = p->attempts, i = (double)p->initial, f = p->factor, m = (double)p->max, o = p->ordered;

	if (opt_number(options, "retry_attempts", 1, 100, &a, err) < 0 || opt_flag(options, "ordered", &o, err) < 0 ||
	    opt_number(options, "retry_initial", 1, 86400, &i, err) < 0 ||
	    opt_number(options, "retry_factor", 1, 10, &f, err) < 0 ||
	    opt_number(options, "retry_max", 1, 604800, &m, err) < 0)
		return -1;
	p->attempts = (int)a;
	p->initial = (long)i;
	p->factor = f;
	p->max = (long)m;
	p->ordered = (int)o;
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

void process_nap(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_requested)
		;
}

static struct log_every hold_log;

int process_stopping(void)
{
	return stop_requested != 0;
}

int process_hold_on(struct store *s, long long lease_until, long long event_id, const char *what)
{
	if (stop_requested || clock_now() + 2 >= lease_until)
		return 0;
	if (log_every(&hold_log, (int)store_failure(s) + 1))
		log_warn("event %lld: the store failed %s (%s: %s); trying again while the claim lasts", event_id, what,
			 store_failure_name(store_failure(s)), store_error(s));
	process_nap(0.5);
	return 1;
}
