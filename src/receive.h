/* receive.h: the path of one request, from its parameters to the answer bytes:
 * route, source, verify, identify, store, answer (DESIGN.md steps 2-7). */
#ifndef KANCA_RECEIVE_H
#define KANCA_RECEIVE_H

#include "request.h"

struct app;
struct buf;

/* Handles one request given its environment and a body reader; out receives the complete
 * CGI/FastCGI answer (status line, headers, body). Never fails: errors become answers.
 * Returns how many new events were stored (0 for rejections and duplicates). */
int receive_serve(struct app *a, char *const *envp, request_read_fn read, void *ctx, struct buf *out);

#endif
