/* child.h: the processor next to a responder (child.c): the only code in kanca that forks. */
#ifndef KANCA_PROCESS_CHILD_H
#define KANCA_PROCESS_CHILD_H

struct config;

/* Forks the long-lived processor child of a FastCGI responder: it opens its own store connection,
 * processes what is due, then waits for process_child_notify (or 1 s) and looks again. The caller
 * must not hold an open store connection across this call. 0, or -1 (logged; the responder goes on,
 * kancactl worker or the next restart will process). */
int process_child_start(const struct config *cfg);
/* Tells the child that new events were stored (never blocks). */
void process_child_notify(void);
/* Restarts the child if it died (called between requests). */
void process_child_check(const struct config *cfg);
/* CGI mode: forks a detached grandchild that processes what is due and exits; the CGI process
 * returns at once. stdout must already be complete. */
void process_child_detached(const struct config *cfg);

#endif
