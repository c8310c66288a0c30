/* health.h: the /healthz answer: whether the store takes a write now, the spool, the backlog. */
#ifndef KANCA_HEALTH_H
#define KANCA_HEALTH_H

struct app;
struct response;

/* Fills res: 200 {"status":"ok",...} when the store took a write within the answer deadline, else 503
 * {"status":"unavailable","reason":...} with Retry-After; both with the spool's depth and the backlog
 * of unprocessed events (count and age of the oldest). The store's waits end at deadline (clock_monotonic()). */
void health_serve(struct app *a, long long now, double deadline, struct response *res);

#endif
