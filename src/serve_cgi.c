/* serve_cgi.c: one request as plain CGI (environment + stdin -> stdout). */
#include "serve.h"
#include "app.h"
#include "buf.h"
#include "process.h"
#include "receive.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

extern char **environ;

static long read_stdin(void *ctx, char *p, size_t n)
{
	(void)ctx;
	for (;;) {
		ssize_t r = read(STDIN_FILENO, p, n);
		if (r >= 0)
			return (long)r;
		if (errno != EINTR)
			return -1;
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int serve_cgi(struct app *a)
{
	struct buf out;
	int rc;

	int stored;

	buf_init(&out, 1024 * 1024);
	stored = receive_serve(a, environ, read_stdin, NULL, &out);
	if (stored)
		app_test_hold();
	rc = write_all(STDOUT_FILENO, buf_str(&out), out.len) < 0 ? 1 : 0;
	buf_free(&out);
	if (stored && a->cfg.processing_fork) {
		/* the answer is complete: let the web server see the end of it now, not at our exit */
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			close(null);
		}
		/* after the answer: a detached child processes, with its own store connection */
		store_close(a->store);
		a->store = NULL;
		process_detached(&a->cfg);
	}
	return rc;
}
