/* exec.h: the exec action (exec.c): a handler script run with an event's raw body on stdin. */
#ifndef KANCA_PROCESS_EXEC_H
#define KANCA_PROCESS_EXEC_H

struct store_job;

struct process_exec_outcome {
	int ok;	       /* exit status 0 */
	int exit_code; /* -1 when killed or not started */
	int timed_out;
	char error[200]; /* first line of the script's stderr, or why it did not run */
};

/* Runs the executable path (no shell) with the job's raw body on stdin and only these variables:
 * PATH, LANG, KANCA_EVENT_ID, KANCA_PROVIDER, KANCA_ACCOUNT, KANCA_EVENT_TYPE, KANCA_IDEMPOTENCY_KEY,
 * KANCA_ATTEMPT (never a secret). Killed (its whole process group) after timeout_ms. */
void process_exec_run(const char *path, const struct store_job *job, long timeout_ms, struct process_exec_outcome *out);

#endif
