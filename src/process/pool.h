/* pool.h: the forwards of one round of a batch, run side by side on threads, at most a destination's
 * concurrency at a time to each destination (the forward action's concurrency option, default
 * POOL_CONCURRENCY_DEFAULT). libcurl's connections are shared between the threads (http_client.c), so
 * a destination sees a few kept-alive connections, not one per delivery. */
#ifndef KANCA_PROCESS_POOL_H
#define KANCA_PROCESS_POOL_H

#include "first.h"

#include <stddef.h>

#define POOL_CONCURRENCY_DEFAULT 4
#define POOL_CONCURRENCY_MAX	 64
#define POOL_THREADS_MAX	 32

struct store_job;
struct process_action;

struct pool_task {
	const struct store_job *job;
	struct process_action *action; /* a forward (process_action_is_forward); its outcome is filled */
};

/* An action's concurrency option: 1..POOL_CONCURRENCY_MAX, else the default. */
int pool_concurrency(const char *options);
/* Runs every task (process_action_run without a store) and returns when all have ended. Tasks to one
 * destination start in the order given. A task that would not end before lease_until when started is
 * not started (process_action_fits). */
void pool_run(struct pool_task *tasks, size_t n, long long lease_until);

#endif
