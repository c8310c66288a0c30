/* serve.h: the two ways kanca is started by a web server: FastCGI responder and plain CGI. */
#ifndef KANCA_SERVE_H
#define KANCA_SERVE_H

struct app;

/* Serves one CGI request from the environment and stdin to stdout. Returns the exit status. */
int serve_cgi(struct app *a);

#endif
