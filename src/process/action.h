/* action.h: running one action of a claimed event: a forward, an exec handler, a builtin domain update
 * or a pg_notify, by the action's kind, with its options. */
#ifndef KANCA_PROCESS_ACTION_H
#define KANCA_PROCESS_ACTION_H

#include "first.h"

#include "process/forward.h"

struct store;
struct store_job;

/* One action of an event, as read from the actions table, and how its run ended. */
struct process_action {
	long long id;
	const char *kind, *target, *options; /* borrowed from the rows they were read from */
	struct forward_outcome fo;	     /* result FORWARD_OK/RETRY/GONE/INVALID, the answer, the error */
	int exit_code;			     /* an exec handler's exit status, -1 for the other kinds */
	int not_started;		     /* process_action_fits held it back: no attempt was made */
};

/* The forward_allow_link_local setting the forwards of this process follow. */
void process_action_allow_link_local(int allow);
/* Whether the action runs without the store (a forward): such actions may run on other threads. */
int process_action_is_forward(const struct process_action *a);
/* Runs a for job and fills a->fo and a->exit_code. A forward is thread-safe after http_client_init;
 * the other kinds use s and run on the thread that owns it. */
void process_action_run(struct store *s, const struct store_job *job, struct process_action *a);
/* The action's timeout option in milliseconds, else its kind's default (forward 15 s, exec 30 s). */
long process_action_timeout_ms(const struct process_action *a);
/* Whether to start a now: yes when first (the first of its destination or sequence in a round, which
 * always runs, as a lone event's action does whatever the lease), else when it ends, at its timeout,
 * 2 s before lease_until. When not, it is marked not_started (FORWARD_RETRY) and 0 returned: the
 * event is given back, due at once, rather than held past its lease. */
int process_action_fits(struct process_action *a, long long lease_until, int first);
/* "ok", "gone", "retry" or "failed", as an attempt row records the outcome. */
const char *process_action_outcome(const struct process_action *a);

#endif
