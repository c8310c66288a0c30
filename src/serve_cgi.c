/* serve_cgi.c: one request as plain CGI (environment + stdin -> stdout). */
#include "first.h"
#include "caps.h"
#include "serve.h"
#include "app.h"
#include "buf.h"
#include "fdio.h"
#include "process/child.h"
#include "receive.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern char **environ;

static long read_stdin(void *ctx, char *p, size_t n)
{
	long long *consumed = ctx;

	for (;;) {
		ssize_t r = read(STDIN_FILENO, p, n);
		if (r >= 0) {
			*consumed += r;
			return (long)r;
		}
		if (errno != EINTR)
			return -1;
	}
}

void serve_cgi_drain(long long consumed)
{
	const char *cl = getenv("CONTENT_LENGTH"), *te = getenv("HTTP_TRANSFER_ENCODING");
	long long left = -1, total = 0;
	char tmp[16384];

	if (cl && *cl) {
		char *end;
		left = strtoll(cl, &end, 10);
		if (*end || left < 0)
			return;
		left -= consumed;
	} else if (!te || !*te) {
		return; /* no body at all */
	}
	while (left != 0 && total < KANCA_DRAIN_MAX) {
		size_t want = left > 0 && left < (long long)sizeof tmp ? (size_t)left : sizeof tmp;
		ssize_t r = read(STDIN_FILENO, tmp, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		total += r;
		if (left > 0)
			left -= r;
	}
}

int serve_cgi(struct app *a)
{
	struct buf out;
	long long consumed = 0;
	int rc, stored;

	buf_init(&out, KANCA_ANSWER_MAX);
	stored = receive_serve(a, environ, read_stdin, &consumed, &out);
	if (stored)
		app_test_hold();
	rc = fdio_write_all(STDOUT_FILENO, buf_str(&out), out.len) < 0 ? 1 : 0;
	buf_free(&out);
	serve_cgi_drain(consumed);
	/* the answer is complete: let the web server see the end of it now, not at our exit */
	{
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			close(null);
		}
	}
	receive_after(a); /* the audit rows of a rejection: after the answer, never before */
	if (stored && a->cfg.processing_fork) {
		/* after the answer: a detached child processes, with its own store connection */
		store_close(a->store);
		a->store = NULL;
		process_child_detached(&a->cfg);
	}
	return rc;
}
