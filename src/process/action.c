/* action.c: one action of a claimed event, dispatched on its kind (doc/processing.md). */
#include "first.h"
#include "process/action.h"
#include "process/builtin.h"
#include "process/exec.h"
#include "clock.h"
#include "options.h"
#include "store/store.h"
#include "wipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int allow_link_local;

void process_action_allow_link_local(int allow)
{
	allow_link_local = allow;
}

int process_action_is_forward(const struct process_action *a)
{
	return strcmp(a->kind, "forward") == 0;
}

/* An action's timeout option (whole seconds, checked by kancactl action add) in milliseconds; dflt when
 * it is absent or unusable. */
static long timeout_ms(const char *options, long dflt)
{
	char text[32] = "", *end;
	long v;

	(void)options_get(options, "timeout", text, sizeof text);
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
	char secret[512] = "", stat[512] = "", header[1024] = "";
	const char *extra[2] = {NULL, NULL};
	struct forward_target t;
	struct forward_message m;

	(void)options_get(options, "secret", secret, sizeof secret);
	(void)options_get(options, "static_secret", stat, sizeof stat);
	(void)options_get(options, "header", header, sizeof header);
	if (header[0])
		extra[0] = header;
	memset(&t, 0, sizeof t);
	t.url = target;
	t.allow_link_local = allow_link_local;
	t.signing_secret = secret[0] ? secret : NULL;
	t.static_secret = stat[0] ? stat : NULL;
	t.extra_headers = extra;
	t.timeout_ms = timeout_ms(options, 0);
	/* the event's public id is the delivery id: the same on every retry and replay, never reused */
	memset(&m, 0, sizeof m);
	m.id = job->public_id;
	m.timestamp = clock_now();
	m.body = job->body;
	m.len = job->body_len;
	m.content_type = NULL;
	forward_post(&t, &m, fo);
	wipe_bytes(secret, sizeof secret);
	wipe_bytes(stat, sizeof stat);
}

void process_action_run(struct store *s, const struct store_job *job, struct process_action *a)
{
	struct forward_outcome *fo = &a->fo;

	memset(fo, 0, sizeof *fo);
	fo->retry_after = -1;
	a->exit_code = -1;
	if (strcmp(a->kind, "forward") == 0) {
		run_forward(job, a->target, a->options, fo);
	} else if (strcmp(a->kind, "exec") == 0) {
		struct process_exec_outcome eo;
		process_exec_run(a->target, job, process_action_timeout_ms(a), &eo);
		fo->result = eo.ok ? FORWARD_OK : FORWARD_RETRY;
		a->exit_code = eo.exit_code;
		snprintf(fo->error, sizeof fo->error, "%s", eo.error);
	} else if (strcmp(a->kind, "builtin") == 0) {
		fo->result = process_builtin_run(s, job, a->target, fo->error, sizeof fo->error) == 0 ? FORWARD_OK
												      : FORWARD_RETRY;
	} else if (strcmp(a->kind, "notify") == 0) {
		char payload[32];
		int n;
		snprintf(payload, sizeof payload, "%lld", job->event_id);
		n = store_notify(s, a->target, payload);
		fo->result = n == 0 ? FORWARD_OK : FORWARD_RETRY;
		if (n == -2)
			snprintf(fo->error, sizeof fo->error, "notify needs the PostgreSQL store");
		else if (n < 0)
			snprintf(fo->error, sizeof fo->error, "pg_notify failed");
	} else {
		fo->result = FORWARD_INVALID;
		snprintf(fo->error, sizeof fo->error, "action kind %s is not supported by this kanca", a->kind);
	}
}

long process_action_timeout_ms(const struct process_action *a)
{
	return timeout_ms(a->options, process_action_is_forward(a) ? FORWARD_TIMEOUT_DEFAULT_MS : 30000);
}

int process_action_fits(struct process_action *a, long long lease_until, int first)
{
	memset(&a->fo, 0, sizeof a->fo);
	a->fo.retry_after = -1;
	a->exit_code = -1;
	a->not_started = 0;
	if (first || clock_now() + (process_action_timeout_ms(a) + 999) / 1000 + 2 < lease_until)
		return 1;
	a->fo.result = FORWARD_RETRY;
	a->not_started = 1;
	snprintf(a->fo.error, sizeof a->fo.error, "not started: its timeout would outlast the claim's lease");
	return 0;
}

const char *process_action_outcome(const struct process_action *a)
{
	switch (a->fo.result) {
	case FORWARD_OK:
		return "ok";
	case FORWARD_GONE:
		return "gone";
	case FORWARD_RETRY:
		return "retry";
	default:
		return "failed";
	}
}
