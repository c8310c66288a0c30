/* builtin.h: the built-in domain handlers (action kind "builtin", builtin.c). */
#ifndef KANCA_PROCESS_BUILTIN_H
#define KANCA_PROCESS_BUILTIN_H

#include <stddef.h>

struct store;
struct store_job;

/* Runs the handler name ("trendyol_orders") on a job: 0, or -1 with the reason in err (retried). */
int process_builtin_run(struct store *s, const struct store_job *job, const char *name, char *err, size_t errcap);
/* The provider whose events the handler name reads, or NULL when there is no such handler. */
const char *process_builtin_provider(const char *name);
/* "name (provider), ..." of every handler, for messages. */
const char *process_builtin_names(void);

#endif
