/* config.h: the key = value configuration file. Keys are declared once in config.c's table. */
#ifndef KANCA_CONFIG_H
#define KANCA_CONFIG_H

#include "first.h"

#include <stddef.h>
#include <stdio.h>

struct buf;

struct config {
	char store[1024];		    /* "sqlite:/path/file.db" or a libpq URI "postgresql://..." */
	size_t max_body_bytes;		    /* bodies above it get 413 */
	int log_level;			    /* enum log_level */
	char base_path[256];		    /* prefix before /webhook/... ("" or e.g. "/hooks") */
	long timestamp_tolerance;	    /* seconds a signed timestamp may be off (Stripe, Standard Webhooks) */
	long source_cache_seconds;	    /* how long a responder reuses a source and its secrets; 0 = never */
	int processing_fork;		    /* processing = fork (1) | off (0) */
	long processing_lease;		    /* seconds a claim lasts before another processor may take the event */
	long answer_deadline_ms;	    /* longest time from reading a request to writing its answer */
	char spool_dir[1024];		    /* where deliveries wait while the store cannot commit; "" = the default */
	unsigned long long spool_max_bytes; /* beyond it a delivery the store cannot take gets 503 */
	int forward_allow_link_local;	    /* yes (1): forwards may go to link-local and metadata addresses */
	long long retention;		    /* seconds processed and test events, attempts and audit rows are kept */
	long long retention_dead;	    /* seconds dead events are kept */
};

/* Fills every key with its default. */
void config_defaults(struct config *c);
/* The file to read: $KANCA_CONFIG, else the configure-time default. Never NULL. */
const char *config_path(void);
/* Reads path over the defaults. 0, or -1 with one line per problem in err ("path:line: key: why"). */
int config_load(struct config *c, const char *path, struct buf *err) KANCA_MUST_CHECK;
/* Sets one key from text; 0 or -1 with the reason in err. */
int config_set(struct config *c, const char *key, const char *value, struct buf *err) KANCA_MUST_CHECK;
/* The spool directory in effect: spool_dir, else beside a SQLite file ("<dir of file>/spool"), else
 * (PostgreSQL) KANCA_DEFAULT_SPOOL. Writes into out (outsz bytes); 0, or -1 when it does not fit. */
int config_spool_dir(const struct config *c, char *out, size_t outsz) KANCA_MUST_CHECK;
/* Writes every key, its default and its description (kancactl config keys). */
void config_describe(FILE *out);

#endif
