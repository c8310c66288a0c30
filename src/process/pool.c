/* pool.c: a round's forwards on threads, bounded per destination (pool.h). */
#include "first.h"
#include "process/pool.h"
#include "process/action.h"
#include "log.h"
#include "options.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct dest {
	const char *url;
	int limit, busy, launched;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_task *tasks;
	size_t n, next_waiting; /* tasks before next_waiting have all been started */
	unsigned char *started;
	size_t *dest_of;
	struct dest *dests;
	long long lease_until;
};

int pool_concurrency(const char *options)
{
	char v[16] = "", *end;
	long c;

	if (options_get(options, "concurrency", v, sizeof v) != 1)
		return POOL_CONCURRENCY_DEFAULT;
	c = strtol(v, &end, 10);
	return *end || end == v || c < 1 || c > POOL_CONCURRENCY_MAX ? POOL_CONCURRENCY_DEFAULT : (int)c;
}

/* The first task not yet started whose destination has room, or n. Called with the lock held. */
static size_t pick(struct pool *p)
{
	while (p->next_waiting < p->n && p->started[p->next_waiting])
		p->next_waiting++;
	for (size_t i = p->next_waiting; i < p->n; i++)
		if (!p->started[i] && p->dests[p->dest_of[i]].busy < p->dests[p->dest_of[i]].limit)
			return i;
	return p->n;
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t i = pick(p);
		struct dest *d;
		int first;
		if (i == p->n) {
			if (p->next_waiting == p->n)
				break; /* everything has started: the rest is others' to finish */
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		d = &p->dests[p->dest_of[i]];
		p->started[i] = 1;
		d->busy++;
		first = d->launched++ < d->limit;
		pthread_mutex_unlock(&p->mu);
		if (process_action_fits(p->tasks[i].action, p->lease_until, first))
			process_action_run(NULL, p->tasks[i].job, p->tasks[i].action);
		pthread_mutex_lock(&p->mu);
		d->busy--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

void pool_run(struct pool_task *tasks, size_t n, long long lease_until)
{
	struct pool p;
	pthread_t th[POOL_THREADS_MAX];
	size_t nd = 0, nth = 0, room = 0;

	if (n == 0)
		return;
	memset(&p, 0, sizeof p);
	p.tasks = tasks;
	p.n = n;
	p.lease_until = lease_until;
	p.started = calloc(n, 1);
	p.dest_of = calloc(n, sizeof *p.dest_of);
	p.dests = calloc(n, sizeof *p.dests);
	if (!p.started || !p.dest_of || !p.dests || n == 1) {
		/* one task, or no memory for the bookkeeping: one after the other, here */
		for (size_t i = 0; i < n; i++)
			if (process_action_fits(tasks[i].action, lease_until, i == 0))
				process_action_run(NULL, tasks[i].job, tasks[i].action);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *url = tasks[i].action->target;
		int c = pool_concurrency(tasks[i].action->options);
		size_t d = 0;
		while (d < nd && strcmp(p.dests[d].url, url) != 0)
			d++;
		if (d == nd) {
			p.dests[nd].url = url;
			p.dests[nd++].limit = c;
			room += (size_t)c;
		} else if (c < p.dests[d].limit) {
			room -= (size_t)(p.dests[d].limit - c);
			p.dests[d].limit = c; /* actions to one URL share the smallest limit */
		}
		p.dest_of[i] = d;
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	/* this thread works too: room - 1 more, bounded by the tasks and POOL_THREADS_MAX */
	for (size_t want = (room < n ? room : n) - 1; nth < want && nth < POOL_THREADS_MAX - 1; nth++)
		if (pthread_create(&th[nth], NULL, worker, &p) != 0) {
			log_warn("processor: cannot start a forwarding thread; fewer run side by side");
			break;
		}
	worker(&p);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
out:
	free(p.started);
	free(p.dest_of);
	free(p.dests);
}
