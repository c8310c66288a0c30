/* main.c: the kanca program. Started by a FastCGI server it is a responder (serve_fcgi.c); started as
 * plain CGI (stdin is not a listening socket) it serves the one request and exits (serve_cgi.c). */
#include "first.h"
#include "app.h"
#include "buf.h"
#include "serve.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct app a;
	struct buf err;
	int rc;

	app_standard_fds();
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		puts("kanca " PACKAGE_VERSION);
		return 0;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: %s   (started by a web server as a FastCGI responder or a CGI program; configuration "
		       "from $KANCA_CONFIG)\n",
		       argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: %s   (started by a web server; configuration from $KANCA_CONFIG)\n", argv[0]);
		return 2;
	}
	buf_init(&err, 8192);
	if (app_init(&a, NULL, APP_RESPONDER, &err) < 0) {
		/* fatal at start: the message names the key (the web server logs stderr) */
		fprintf(stderr, "kanca: configuration error:\n%s", buf_str(&err));
		buf_free(&err);
		if (serve_is_cgi()) { /* plain CGI: the request still gets a complete answer */
			app_answer_broken();
			serve_cgi_drain(0);
		}
		return 1;
	}
	buf_free(&err);
	rc = serve_is_cgi() ? serve_cgi(&a) : serve_fcgi(&a);
	app_free(&a);
	return rc;
}
