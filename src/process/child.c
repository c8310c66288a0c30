/* child.c: the processor forked off by a responder (doc/processing.md).
 * Close-on-exec descriptors, signals reset in the child, _exit in the child, children reaped. */
#include "first.h"
#include "http_client.h"
#include "process/child.h"
#include "process/process.h"
#include "config.h"
#include "process/forward.h"
#include "log.h"
#include "store/store.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define IDLE_SWEEP_MS  1000
#define GATHER_SECONDS 0.02 /* process_opts.gather of the responders' processors */

static pid_t child = -1;
static int doorbell = -1; /* write end, in the responder */

/* In a new child: a fresh process state with only stdio (fd 0, the listening socket, must go). */
static void child_reset(void)
{
	struct sigaction sa;
	int fd = open("/dev/null", O_RDWR);

	if (fd >= 0) {
		dup2(fd, 0);
		if (fd > 2)
			close(fd);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void on_term(int sig)
{
	(void)sig;
	process_stop();
}

static struct log_every trouble;

/* One processor per host at a time: the responders' processors take turns on <spool>/processor.lock
 * (flock), so that they do not compete for the store's write lock (SQLite has one writer) or for the
 * same rows. A rung processor whose turn comes finds the event its responder stored, since the one
 * before it released the lock after its last look. -1 when there is no lock file (each processor then
 * works on its own, as kancactl workers always do). Opened read-only (flock needs no more), so that it
 * does not keep the spool's file system from being remounted read-only. */
static int turn_lock(const struct config *cfg)
{
	static int fd = -2;
	char dir[1024], path[1100];

	if (fd != -2)
		return fd;
	fd = -1;
	if (config_spool_dir(cfg, dir, sizeof dir) < 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    snprintf(path, sizeof path, "%s/processor.lock", dir) >= (int)sizeof path ||
	    (fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		log_warn("processor: no turn lock in the spool directory (%s); the processors of this host work "
			 "side by side",
			 strerror(errno));
	return fd;
}

/* Processes everything due, in this processor's turn when take_turn; returns after a store error too (the caller
 * waits and tries again). */
static void drain(struct store *s, const struct config *cfg, int take_turn)
{
	struct process_opts o = {.cfg = cfg,
				 .lease = cfg->processing_lease,
				 .drain = 1,
				 .max_events = 0,
				 .poll = 0,
				 .gather = take_turn ? GATHER_SECONDS : 0};
	int fd = take_turn ? turn_lock(cfg) : -1;

	while (fd >= 0 && flock(fd, LOCK_EX) < 0)
		if (errno != EINTR || process_stopping()) {
			fd = -1; /* no turn to be had: work anyway, as without the lock */
			break;
		}
	if (process_run(s, &o) < 0 && log_every(&trouble, (int)store_failure(s) + 1))
		log_error("processor: the store is %s (%s); trying again every second",
			  store_failure_name(store_failure(s)), store_error(s));
	if (fd >= 0)
		(void)flock(fd, LOCK_UN);
}

static void child_main(const struct config *cfg, int bell)
{
	struct store *s = NULL;
	struct buf err;
	struct sigaction sa;

	child_reset();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	buf_init(&err, 1024);
	if (http_client_init() < 0) {
		log_error("processor: cannot start (libcurl)");
		_exit(1);
	}
	/* a store that cannot be opened now (a read-only directory, say) is waited for, not a crash loop */
	while (store_open(cfg->store, &s, &err) < 0) {
		struct pollfd p = {bell, POLLIN, 0};
		char tmp[256];
		if (log_every(&trouble, 99))
			log_error("processor: the store cannot be opened (%s); trying again every second",
				  buf_str(&err));
		buf_reset(&err);
		if (poll(&p, 1, IDLE_SWEEP_MS) > 0 && (p.revents & (POLLIN | POLLHUP)) &&
		    read(bell, tmp, sizeof tmp) <= 0)
			_exit(0); /* the responder is gone */
	}
	buf_free(&err);
	log_info("processor ready");
	for (;;) {
		struct pollfd p = {bell, POLLIN, 0};
		char tmp[256];
		int n;

		drain(s, cfg, 1);
		n = poll(&p, 1, IDLE_SWEEP_MS);
		if (n > 0 && (p.revents & POLLIN)) {
			ssize_t r = read(bell, tmp, sizeof tmp);
			if (r == 0)
				break; /* the responder is gone: finish what is due, then exit */
		} else if (n > 0 && (p.revents & (POLLHUP | POLLERR))) {
			break;
		}
	}
	drain(s, cfg, 1);
	store_close(s);
	_exit(0);
}

int process_child_start(const struct config *cfg)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_error("processor: pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("processor: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[1]);
		child_main(cfg, fds[0]);
	}
	close(fds[0]);
	if (doorbell >= 0)
		close(doorbell);
	doorbell = fds[1];
	fcntl(doorbell, F_SETFL, fcntl(doorbell, F_GETFL) | O_NONBLOCK);
	child = pid;
	return 0;
}

void process_child_notify(void)
{
	/* a full pipe already says "look": a failed write loses nothing */
	if (doorbell >= 0 && write(doorbell, "!", 1) < 0 && errno != EAGAIN)
		log_warn("processor: cannot notify (%s); it will find the event within a second", strerror(errno));
}

void process_child_check(const struct config *cfg)
{
	int st;

	if (child <= 0 || waitpid(child, &st, WNOHANG) != child)
		return;
	log_warn("processor %ld ended (%s %d): starting another", (long)child, WIFSIGNALED(st) ? "signal" : "status",
		 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	child = -1;
	(void)process_child_start(cfg);
}

void process_child_detached(const struct config *cfg)
{
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		log_warn("processor: fork: %s; kancactl worker will process the event", strerror(errno));
		return;
	}
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return;
	}
	/* the first child leaves at once so the web server is not kept waiting; the grandchild works */
	setsid();
	if (fork() != 0)
		_exit(0);
	{
		/* the answer is complete: the web server must see the end of stdout and of stderr (a web
		 * server waits for both), so the detached processor logs nowhere; its attempts are in the store */
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	}
	child_reset();
	{
		struct store *s = NULL;
		struct buf err;
		buf_init(&err, 1024);
		/* no turn: a CGI request's processor that gave up its turn could leave its event to wait
		 * for the next request; these work side by side, as before */
		if (http_client_init() == 0 && store_open(cfg->store, &s, &err) == 0) {
			drain(s, cfg, 0);
			store_close(s);
		}
		buf_free(&err);
	}
	_exit(0);
}
