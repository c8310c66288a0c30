/* receive.h: the path of one request, from its parameters to the answer bytes:
 * route, source, verify, identify, store, answer (README, "What happens to a request"). */
#ifndef KANCA_RECEIVE_H
#define KANCA_RECEIVE_H

#include "request.h"

struct app;
struct buf;

/* Handles one request given its environment and a body reader; out receives the complete
 * CGI/FastCGI answer (status line, headers, body). Never fails: errors become answers.
 * Returns how many of the request's events are in the store, new or duplicates (0 for rejections):
 * the caller then has the processor look, so a duplicate of an event whose first answer was lost
 * to a crash also gets it processed. */
int receive_serve(struct app *a, char *const *envp, request_read_fn read, void *ctx, struct buf *out);
/* What receive_serve returns for a delivery kept in the spool (the store could not commit it in time). */
#define RECEIVE_SPOOLED (-1)
/* After the answer is written: the audit rows of the request (rejections), bounded by the answer
 * deadline and best effort. */
void receive_after(struct app *a);

#endif
