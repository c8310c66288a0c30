/* serve.h: the two ways kanca is started by a web server: FastCGI responder and plain CGI. */
#ifndef KANCA_SERVE_H
#define KANCA_SERVE_H

struct app;

/* Whether kanca was started as plain CGI (stdin is not a FastCGI listening socket). */
int serve_is_cgi(void);
/* Runs the FastCGI accept loop until a stop signal; returns the exit status. */
int serve_fcgi(struct app *a);
/* Serves one CGI request from the environment and stdin to stdout. Returns the exit status. */
int serve_cgi(struct app *a);
/* Reads and drops what is left of the request body (CONTENT_LENGTH minus consumed; to the end when a
 * Transfer-Encoding says there is a body of unknown length), at most 64 MiB. Called after an answer
 * given without reading the body (404, 405, 411, 413, ...): a web server that writes the whole body
 * before it reads the answer (Apache mod_cgid over a socket) otherwise gets EPIPE, and the close with
 * unread data resets the socket and loses the answer. */
void serve_cgi_drain(long long consumed);

#endif
