/* exec.c: the exec action: a handler script with the payload on stdin and the event's metadata
 * in an allow-listed environment; no shell, a timeout that kills its process group, children reaped. */
#include "first.h"
#include "process/exec.h"
#include "clock.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_ENV_MAX 12

static void child(const char *path, char *const *env, int in, int err)
{
	struct sigaction sa;
	char *argv[2];
	int null = open("/dev/null", O_RDWR);

	setpgid(0, 0); /* the timeout kills the script and everything it started */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	{
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	if (dup2(in, 0) < 0 || dup2(null >= 0 ? null : err, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	/* everything else was opened close-on-exec */
	argv[0] = (char *)path;
	argv[1] = NULL;
	execve(path, argv, env);
	dprintf(2, "cannot execute %s: %s\n", path, strerror(errno));
	_exit(127);
}

void process_exec_run(const char *path, const struct store_job *job, long timeout_ms, struct process_exec_outcome *out)
{
	char vars[EXEC_ENV_MAX][512];
	char *env[EXEC_ENV_MAX + 1];
	int inp[2] = {-1, -1}, errp[2] = {-1, -1}, n = 0, status = 0, done = 0;
	size_t sent = 0, got = 0;
	char errbuf[sizeof out->error];
	double deadline;
	pid_t pid;

	memset(out, 0, sizeof *out);
	out->exit_code = -1;
	snprintf(vars[n++], sizeof vars[0], "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(vars[n++], sizeof vars[0], "LANG=C.UTF-8");
	snprintf(vars[n++], sizeof vars[0], "KANCA_EVENT_ID=%s", job->public_id);
	snprintf(vars[n++], sizeof vars[0], "KANCA_EVENT_NUMBER=%lld", job->event_id);
	snprintf(vars[n++], sizeof vars[0], "KANCA_PROVIDER=%s", job->provider ? job->provider : "");
	snprintf(vars[n++], sizeof vars[0], "KANCA_ACCOUNT=%s", job->account ? job->account : "");
	snprintf(vars[n++], sizeof vars[0], "KANCA_EVENT_TYPE=%s", job->type ? job->type : "");
	snprintf(vars[n++], sizeof vars[0], "KANCA_IDEMPOTENCY_KEY=%s", job->key ? job->key : "");
	snprintf(vars[n++], sizeof vars[0], "KANCA_ATTEMPT=%d", job->attempts);
	for (int i = 0; i < n; i++)
		env[i] = vars[i];
	env[n] = NULL;

	if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(out->error, sizeof out->error, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(out->error, sizeof out->error, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(path, env, inp[0], errp[1]);
	close(inp[0]);
	close(errp[1]);
	inp[0] = errp[1] = -1;
	fcntl(inp[1], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	deadline = clock_monotonic() + (double)(timeout_ms > 0 ? timeout_ms : 30000) / 1000.0;
	while (!done) {
		struct pollfd p[2];
		int np = 0, w;
		double left = deadline - clock_monotonic();

		if (left <= 0) {
			kill(-pid, SIGKILL);
			out->timed_out = 1;
			waitpid(pid, &status, 0);
			break;
		}
		if (inp[1] >= 0) {
			p[np].fd = inp[1];
			p[np++].events = POLLOUT;
		}
		if (errp[0] >= 0) {
			p[np].fd = errp[0];
			p[np++].events = POLLIN;
		}
		(void)poll(p, (nfds_t)np, left > 0.05 ? 50 : (int)(left * 1000) + 1);
		if (inp[1] >= 0) {
			ssize_t k = sent < job->body_len ? write(inp[1], job->body + sent, job->body_len - sent) : 0;
			if (k > 0)
				sent += (size_t)k;
			/* all sent, or the script stopped reading (EPIPE): close its stdin */
			if (sent >= job->body_len || (k < 0 && errno != EAGAIN)) {
				close(inp[1]);
				inp[1] = -1;
			}
		}
		if (errp[0] >= 0) {
			char tmp[512];
			ssize_t k = read(errp[0], tmp, sizeof tmp);
			if (k > 0 && got < sizeof errbuf - 1) {
				size_t take = (size_t)k < sizeof errbuf - 1 - got ? (size_t)k : sizeof errbuf - 1 - got;
				memcpy(errbuf + got, tmp, take);
				got += take;
			} else if (k == 0) {
				close(errp[0]);
				errp[0] = -1;
			}
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			done = 1;
	}
	kill(-pid, SIGKILL); /* whatever the script left behind in its group */
	if (!out->timed_out && WIFEXITED(status)) {
		out->exit_code = WEXITSTATUS(status);
		out->ok = out->exit_code == 0;
	}
	errbuf[got] = '\0';
	errbuf[strcspn(errbuf, "\r\n")] = '\0';
	if (out->timed_out)
		snprintf(out->error, sizeof out->error, "killed after %ld ms", timeout_ms > 0 ? timeout_ms : 30000L);
	else if (!out->ok)
		snprintf(out->error, sizeof out->error, "%s", got ? errbuf : "non-zero exit");
out:
	if (inp[0] >= 0)
		close(inp[0]);
	if (inp[1] >= 0)
		close(inp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
}
