/* serve_fcgi.c: kanca as a FastCGI responder: the FCGX_Accept_r loop, one request per turn, the
 * processor handed each stored event after its answer. SIGTERM (and SIGUSR1, libfcgi's and multiwatch's
 * "stop") finishes the request in hand and any the web server already queued on the socket, then exits. */
#include "first.h"
#include "serve.h"
#include "app.h"
#include "buf.h"
#include "caps.h"
#include "log.h"
#include "process/child.h"
#include "receive.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

int serve_is_cgi(void)
{
	return FCGX_IsCGI();
}

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t in_request;

/* Whether a connection waits on the listening socket (fd 0), e.g. one the web server queued while this
 * responder was busy: a stopping responder serves those before it exits. Async-signal-safe. */
static int connection_waiting(void)
{
	struct pollfd p = {0, POLLIN, 0};

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* Stops listening at once: a web server that connects from now on is refused and sends the request to
 * another responder (lighttpd retries a refused connect), rather than having it queued on a socket that
 * nobody will accept from. fd 0 stays open, on /dev/null. */
static void stop_listening(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd >= 0) {
		dup2(fd, 0);
		if (fd > 0)
			close(fd);
	}
}

/* libfcgi's accept() retries on EINTR, so a stop signal that arrives while idle in accept ends the
 * process here (nothing is in flight, nothing queued); one that arrives during a request lets it
 * finish, and the loop ends once no connection is waiting. */
static void on_term(int sig)
{
	(void)sig;
	if (!in_request && !connection_waiting())
		_exit(0);
	stopping = 1;
}

static long read_fcgx(void *ctx, char *p, size_t n)
{
	int want = n > 1 << 20 ? 1 << 20 : (int)n;
	int r = FCGX_GetStr(p, want, (FCGX_Stream *)ctx);

	return r < 0 ? -1 : r;
}

int serve_fcgi(struct app *a)
{
	FCGX_Request req;
	struct buf out;
	struct sigaction sa;
	long served = 0;
	int stored;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART: a signal during a request must not break the read of its body */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		log_error("cannot initialise libfcgi");
		return 1;
	}
	/* after FCGX_Init, which installs libfcgi's own SIGUSR1 handler: that one has no SA_RESTART, so a
	 * SIGUSR1 during a body read broke the read (a 400 for an authentic delivery) */
	sigaction(SIGUSR1, &sa, NULL);
	if (a->cfg.processing_fork) {
		/* the processor opens its own connection: none may cross the fork */
		store_close(a->store);
		a->store = NULL;
		(void)process_child_start(&a->cfg);
	}
	log_info("FastCGI responder ready (store %s)", a->cfg.store[0] == 's' ? "sqlite" : "postgresql");
	buf_init(&out, KANCA_ANSWER_MAX);
	while (FCGX_Accept_r(&req) >= 0) {
		in_request = 1;
		buf_reset(&out);
		/* everything needed from req.envp is copied inside receive_serve */
		stored = receive_serve(a, req.envp, read_fcgx, req.in, &out);
		if (stored)
			app_test_hold();
		if (FCGX_PutStr(buf_str(&out), (int)out.len, req.out) < 0)
			log_warn("the web server closed the connection before the answer was sent");
		FCGX_Finish_r(&req);
		receive_after(a);
		in_request = 0;
		served++;
		/* after the answer: hand over to the processor */
		if (a->cfg.processing_fork) {
			if (stored)
				process_child_notify();
			process_child_check(&a->cfg);
		}
		if (stopping && !connection_waiting()) {
			stop_listening();
			break;
		}
	}
	buf_free(&out);
	log_info("FastCGI responder stopping after %ld requests", served);
	return 0;
}
