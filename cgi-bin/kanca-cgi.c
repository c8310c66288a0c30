/* kanca-cgi.c: the plain CGI entry (kanca.cgi) for hosts without FastCGI: one request per process. */
#include "first.h"
#include "app.h"
#include "buf.h"
#include "serve.h"

#include <stdio.h>

int main(void)
{
	struct app a;
	struct buf err;
	int rc;

	app_standard_fds();
	buf_init(&err, 8192);
	if (app_init(&a, NULL, APP_RESPONDER, &err) < 0) {
		fprintf(stderr, "kanca.cgi: configuration error:\n%s", buf_str(&err));
		buf_free(&err);
		/* the web server would answer 500 for a CGI without output; say so explicitly */
		app_answer_broken();
		serve_cgi_drain(0);
		return 1;
	}
	buf_free(&err);
	rc = serve_cgi(&a);
	app_free(&a);
	return rc;
}
