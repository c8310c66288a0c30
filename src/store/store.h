/* store.h: where events, sources and their secrets live. One interface, two backends
 * (SQLite file, PostgreSQL through libpq) with the same schema and the same behaviour. */
#ifndef KANCA_STORE_H
#define KANCA_STORE_H

#include "first.h"

#include <stddef.h>

#include "caps.h"
#include "source.h"

struct store;
struct buf;

/* "evt_" + 32 lowercase hex digits */
#define STORE_PUBLIC_ID_LEN 36

/* What is stored for one authentic delivery. */
struct store_event {
	long long source_id;
	const char *provider, *account; /* for the audit log */
	const char *key;		/* idempotency key */
	const char *type;		/* event type, may be NULL */
	const void *body;
	size_t body_len;
	const char *headers_json;
	const char *verification; /* e.g. "hmac-sha256 hex; secret 3" */
	const char *status;	  /* NULL: "received"; "test" for a provider's test ping */
	const char *decoded;	  /* JSON text decoded from the request by the provider, or NULL */
	long long secret_id;	  /* the secret that verified it; 0 when none */
	long long received_at;
	const char *remote_addr;
};

/* Runs inside the receiving transaction after the event row is inserted (not for duplicates):
 * domain updates, then the answer body to keep for duplicates. 0, or -1 to roll everything back. */
typedef int (*store_apply_fn)(struct store *s, long long event_id, void *arg, struct buf *answer);

/* Result rows for listings (kancactl). */
struct store_rows;

/* Opens "sqlite:/file" or "postgresql://...". A PostgreSQL server that is down is not an error
 * here: statements reconnect. 0, or -1 with a message in err. */
int store_open(const char *uri, struct store **out, struct buf *err) KANCA_MUST_CHECK;
void store_close(struct store *s);
/* "sqlite" or "postgresql". */
const char *store_backend(const struct store *s);
/* The last error, for logs. */
const char *store_error(struct store *s);

/* Why the store last failed. */
enum store_failure {
	STORE_FAIL_NONE = 0,
	STORE_FAIL_LOCKED,   /* a lock (SQLite's, the writer queue) was not free within the deadline */
	STORE_FAIL_TIMEOUT,  /* the server did not answer within the deadline */
	STORE_FAIL_DOWN,     /* no connection (refused, unreachable, the server went away) */
	STORE_FAIL_FULL,     /* the disk (or the server's disk) is full */
	STORE_FAIL_READONLY, /* the file, its directory or the transaction is read-only */
	STORE_FAIL_OTHER
};
enum store_failure store_failure(struct store *s);
/* "locked", "timed out", "down", "disk full", "read-only", "failed", "none". */
const char *store_failure_name(enum store_failure f);
/* Bounds every wait of the following statements (locks, connecting, answers) by this clock_monotonic()
 * time; 0 restores the default limit (10 s per wait). */
void store_set_deadline(struct store *s, double deadline);
/* 0 when the store answers a query. */
int store_ping(struct store *s) KANCA_MUST_CHECK;
/* Proves the store takes a write now (updates kanca_health): 0, or -1 (store_failure says why). */
int store_health_write(struct store *s, long long now) KANCA_MUST_CHECK;
/* Events not yet processed (received, retry, processing) and the received_at of the oldest (0: none). */
int store_backlog(struct store *s, long long *events, long long *oldest) KANCA_MUST_CHECK;
/* The store server's clock (PostgreSQL now()) in unix seconds, for kancactl doctor. 0; -1 on error; -2 when
 * the backend has no clock of its own (SQLite runs inside kanca's process). */
int store_clock(struct store *s, double *unix_seconds) KANCA_MUST_CHECK;
/* Applies pending migrations from sql/ (embedded); *applied = how many. 0 or -1. */
int store_migrate(struct store *s, int *applied, struct buf *err) KANCA_MUST_CHECK;
/* Schema version in the store (0: none) and the newest this build knows. 0 or -1. */
int store_schema_version(struct store *s, int *current, int *latest) KANCA_MUST_CHECK;

/* 1 found (secrets valid at now loaded), 0 not found, -1 error. Free with store_source_free. */
int store_source_get(struct store *s, const char *provider, const char *account, long long now,
		     struct store_source *out) KANCA_MUST_CHECK;
void store_source_free(struct store_source *src);
/* 0 added (*id set), 1 already exists, -1 error. */
int store_source_add(struct store *s, const char *provider, const char *account, const char *options, long long now,
		     long long *id) KANCA_MUST_CHECK;
/* 1 changed, 0 no such source, -1 error. */
int store_source_set_enabled(struct store *s, const char *provider, const char *account, int enabled) KANCA_MUST_CHECK;
/* Adds a secret; expires_at 0 = never. 0 or -1. */
int store_secret_add(struct store *s, long long source_id, const char *value, long long expires_at, long long now,
		     long long *id) KANCA_MUST_CHECK;

/* The secrets of a source, newest first, expired ones included: id, created_at, expires_at (NULL =
 * never). Values are never returned. */
int store_secret_list(struct store *s, long long source_id, struct store_rows **out) KANCA_MUST_CHECK;
/* Removes one secret of a source: 1 removed, 0 no such secret, -1 error. */
int store_secret_remove(struct store *s, long long source_id, long long secret_id) KANCA_MUST_CHECK;
/* Sets (or with 0 clears) the expiry of one secret: 1 changed, 0 no such secret, -1 error. */
int store_secret_expire(struct store *s, long long source_id, long long secret_id,
			long long expires_at) KANCA_MUST_CHECK;

/* Stores an authentic delivery exactly once, committed before return.
 * New: *duplicate = 0, *event_id set, apply (may be NULL) ran in the same transaction, answer holds
 * what it produced. Duplicate: *duplicate = 1 (2 when its body differs from the first delivery's: a
 * sender that reuses a key), *event_id = the first one's, answer = the answer kept for the first
 * delivery (empty if none), nothing else written. 0, or -1 with nothing written. */
int store_receive(struct store *s, const struct store_event *ev, store_apply_fn apply, void *arg, long long *event_id,
		  int *duplicate, struct buf *answer) KANCA_MUST_CHECK;

/* Several deliveries in one transaction (the spool's drain: one commit, one fsync, for many): the
 * store_receive calls between begin and commit join it; after a failure in one of them, call
 * store_batch_abort (nothing of the batch is kept). 0 or -1. */
int store_batch_begin(struct store *s) KANCA_MUST_CHECK;
int store_batch_commit(struct store *s) KANCA_MUST_CHECK;
void store_batch_abort(struct store *s);

/* One audit_log row (its own commit). source_id/event_id 0 = none, status 0 = none. 0 or -1. */
int store_audit(struct store *s, long long at, const char *action, const char *provider, const char *account,
		long long source_id, long long event_id, int status, const char *reason,
		const char *remote_addr) KANCA_MUST_CHECK;

/* The supplier offers domain table (inside store_receive's apply). */
struct store_offer {
	const char *vendor_offer_id;
	const char *title, *price, *currency, *category; /* NULL = keep the stored value */
	const char *start_location, *end_location, *start_at, *end_at, *description;
	const char *available_seats; /* integer text or NULL */
	const char *data_json;	     /* the whole data object */
};
/* Insert or update by (source, vendorOfferId); *inserted = 1 when new. 0 or -1. */
int store_offer_upsert(struct store *s, long long source_id, long long event_id, const struct store_offer *o,
		       long long now, int *inserted) KANCA_MUST_CHECK;
/* Sets status ("deleted", "expired") of an offer; *updated = rows changed (0 or 1). 0 or -1. */
int store_offer_mark(struct store *s, long long source_id, long long event_id, const char *vendor_offer_id,
		     const char *status, long long now, int *updated) KANCA_MUST_CHECK;
/* Updates an existing offer as store_offer_upsert does (NULL members keep their value, status active),
 * never inserting one: *updated = rows changed (0 when the supplier has no such offer). 0 or -1. */
int store_offer_update(struct store *s, long long source_id, long long event_id, const struct store_offer *o,
		       long long now, int *updated) KANCA_MUST_CHECK;

/* Listings for kancactl. Columns are documented at each function. */
/* id, provider, account, enabled, options, secrets, created_at */
int store_list_sources(struct store *s, long long now, struct store_rows **out) KANCA_MUST_CHECK;
/* id, provider, account, event_type, idempotency_key, status, received_at, attempts, body length, public_id;
 * filters may be NULL; newest first. */
int store_list_events(struct store *s, const char *provider, const char *account, const char *status, long limit,
		      struct store_rows **out) KANCA_MUST_CHECK;
/* id, provider, account, event_type, idempotency_key, status, received_at, verification, secret_id,
 * headers, body, attempts, processed_at, response, decoded, public_id -- the event with that id, or with
 * that public id ("evt_...", may be NULL) */
int store_get_event(struct store *s, long long id, const char *public_id, struct store_rows **out) KANCA_MUST_CHECK;
/* provider, account, event_type, status, count, last received_at; events received after since */
int store_stats(struct store *s, long long since, struct store_rows **out) KANCA_MUST_CHECK;
/* action, provider, account (the source's when the row has none), status_code, reason, at, count (requests
 * an aggregated row stands for), the event's public id; newest first */
int store_list_audit(struct store *s, long limit, struct store_rows **out) KANCA_MUST_CHECK;

/* ---- processing after the answer ---- */

/* An event claimed for processing (store_claim_batch). */
struct store_job {
	long long event_id, source_id;
	int attempts;	  /* including this one */
	char *key, *type; /* type may be NULL */
	char *body;	  /* raw bytes, body_len long (NUL-terminated for convenience) */
	size_t body_len;
	char *headers; /* JSON object of the stored request headers */
	char *options; /* the source's options */
	char *provider, *account;
	char *public_id;       /* "evt_" + 32 hex digits: the event's id outside this store (webhook-id) */
	long long lease_until; /* the claim lasts until then (unix seconds) */
	int had_attempts;      /* the event had attempts before this claim (a retry, a replay, a crash) */
};

/* Claims up to max of the oldest due events (received, or retry whose time has come, or processing whose
 * lease expired; only_id > 0 restricts to that event) into jobs[0..*n), in id (arrival) order, by setting
 * them to processing with a lease until now + lease and counting the attempt, in one statement. First,
 * in the same transaction, up to max fresh events of the sources actionless[0..nactionless) that still
 * have no enabled action are set processed with their audit rows (*finished says how many): they have
 * nothing to run. An event of a source whose
 * options say ordered=1 is not due while an earlier event of that source is unfinished (received, retry
 * or processing): such a source has one event in flight at a time, in arrival order. 0 (*n and
 * *finished may be 0) or -1. */
int store_claim_batch(struct store *s, long long now, long lease, long long only_id, const long long *actionless,
		      size_t nactionless, struct store_job *jobs, size_t max, size_t *n,
		      long *finished) KANCA_MUST_CHECK;
/* Ends the claims of the events ids[0..n) as processed at now, with one "processed" audit row each: two
 * statements for all of them (the caller's transaction makes them one commit). 0 or -1. */
int store_finish_processed(struct store *s, const long long *ids, size_t n, long long now) KANCA_MUST_CHECK;
void store_job_free(struct store_job *job);
/* Ends a claim: status "processed" (processed_at = now), "retry" (next_attempt_at = next_at) or "dead". */
int store_finish(struct store *s, long long event_id, const char *status, long long next_at,
		 long long now) KANCA_MUST_CHECK;
/* An attempt of one action begins: recorded (no end, no outcome yet) before the action runs, so one that a
 * crash cut short stays visible. *attempt_id = its row. 0 or -1. */
int store_attempt_begin(struct store *s, long long event_id, long long action_id, const char *action, long long started,
			long long *attempt_id) KANCA_MUST_CHECK;
/* The attempt ends: outcome "ok", "retry", "gone", "failed"; http_status/exit_code -1 = none. 0 or -1. */
int store_attempt_end(struct store *s, long long attempt_id, long long ended, const char *outcome, int http_status,
		      int exit_code, const char *error) KANCA_MUST_CHECK;
/* Closes the event's attempts that never ended (their processor died; the lease expired) as
 * "interrupted" at now. 0 or -1. */
/* One attempt of a round of a batch (process/batch.c): its event and action, and, once it ended, how. */
struct store_attempt_row {
	long long event_id, action_id;
	const char *kind;
	long long attempt_id; /* set by store_attempts_begin (0 before) */
	const char *outcome;  /* for store_attempts_end: ok, retry, failed, gone */
	int http_status;      /* -1: none */
	int exit_code;	      /* -1: none */
	const char *error;    /* NULL or "": none */
};
/* Begins rows[0..n) (at most one per event) in one statement and sets their attempt_id. 0 or -1. */
int store_attempts_begin(struct store *s, struct store_attempt_row *rows, size_t n, long long started) KANCA_MUST_CHECK;
/* Ends rows[0..n) with their outcomes in one statement. 0 or -1. */
int store_attempts_end(struct store *s, const struct store_attempt_row *rows, size_t n,
		       long long ended) KANCA_MUST_CHECK;
/* Removes an attempt row that was begun but not made (the action was not started). 0 or -1. */
int store_attempt_drop(struct store *s, long long attempt_id) KANCA_MUST_CHECK;
/* Ends a claim as if it had not been made: the event is due again at once and the claim's attempt is
 * not counted. 0 or -1. */
int store_give_back(struct store *s, long long event_id) KANCA_MUST_CHECK;
int store_attempts_interrupted(struct store *s, long long event_id, long long now) KANCA_MUST_CHECK;
/* 1 when the action already succeeded for the event (a retry skips it), 0 not, -1 error. */
int store_action_done(struct store *s, long long event_id, long long action_id) KANCA_MUST_CHECK;
/* action_id, kind, target, options, enabled, position -- in order. */
int store_actions(struct store *s, long long source_id, struct store_rows **out) KANCA_MUST_CHECK;
int store_action_add(struct store *s, long long source_id, const char *kind, const char *target, const char *options,
		     long long now, long long *id) KANCA_MUST_CHECK;
/* 1 removed, 0 no such action of that source, -1 error. */
int store_action_remove(struct store *s, long long source_id, long long action_id) KANCA_MUST_CHECK;
/* Stops using an action (a destination answered 410 Gone). 0 or -1. */
int store_action_disable(struct store *s, long long action_id) KANCA_MUST_CHECK;
/* pg_notify(channel, payload) (PostgreSQL). 0, -1 on error, -2 when the store cannot notify (SQLite). */
int store_notify(struct store *s, const char *channel, const char *payload) KANCA_MUST_CHECK;
/* The Trendyol orders table: the package's state unless the stored one is as new or newer
 * (lastModifiedDate); *changed = 1 when written, 0 when an older event was ignored. 0 or -1. */
int store_trendyol_upsert(struct store *s, long long source_id, long long event_id, const char *package_id,
			  const char *order_number, const char *status, long long last_modified,
			  const char *package_json, long long now, int *changed) KANCA_MUST_CHECK;
/* The Sosyal Köprü posts table: the post's state unless the stored one is as new or newer (event_at, ms);
 * a NULL status keeps the stored one. *changed = 1 when written, 0 when an older event was ignored. 0 or -1. */
int store_sosyalkopru_upsert(struct store *s, long long source_id, long long event_id, const char *post_id,
			     const char *status, const char *event_type, long long event_at, const char *data_json,
			     long long now, int *changed) KANCA_MUST_CHECK;
/* Puts events back to received (attempts reset): one id, or every event with status (e.g. "dead"),
 * optionally of one source and received at or after since. *count = how many. 0 or -1. */
int store_replay(struct store *s, long long id, const char *status, const char *provider, const char *account,
		 long long since, long *count) KANCA_MUST_CHECK;
/* replay --force: the event back to received, with an attempt row "forced" after which no earlier success
 * counts, so every enabled action runs again. *count = 1, or 0 when there is no such event. 0 or -1. */
int store_replay_forced(struct store *s, long long id, long long now, long *count) KANCA_MUST_CHECK;
/* An action on (1) or off (0): 1 changed, 0 no such action of that source, -1 error. */
int store_action_set_enabled(struct store *s, long long source_id, long long action_id, int enabled) KANCA_MUST_CHECK;
/* One audit row for a rejection, counted: the same action, source, status and reason within one minute
 * adds 1 to one row's count instead of a new row, so a flood costs bounded space. 0 or -1. */
int store_audit_counted(struct store *s, long long at, const char *action, const char *provider, const char *account,
			long long source_id, int status, const char *reason, const char *remote_addr) KANCA_MUST_CHECK;
/* What retention removes: processed and test events (with their attempts), dead events (with theirs),
 * audit rows. */
enum store_retain { STORE_RETAIN_DONE, STORE_RETAIN_DEAD, STORE_RETAIN_AUDIT };
/* Deletes at most limit of the oldest rows of that kind from before `before` (events by received_at,
 * audit rows by at), in one short transaction; *count = how many. Never an event that is not finished.
 * 0 or -1. */
int store_retain_batch(struct store *s, enum store_retain what, long long before, long limit,
		       long *count) KANCA_MUST_CHECK;
/* id, action_id, action, started_at, ended_at, outcome, http_status, exit_code, error -- oldest first. */
int store_list_attempts(struct store *s, long long event_id, struct store_rows **out) KANCA_MUST_CHECK;

size_t store_rows_count(const struct store_rows *r);
/* Cell text (NULL for SQL NULL); *len gets its byte length when len is not NULL. */
const char *store_rows_get(const struct store_rows *r, size_t row, size_t col, size_t *len);
void store_rows_free(struct store_rows *r);

#endif
