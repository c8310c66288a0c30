/* claims.c: taking due events for processing: a batch of claims in one statement (and the events that
 * have nothing to run finished in the same transaction), a round's attempt rows in one statement each
 * way, and the end of a batch's processed claims in one statement each for the events and their audit
 * rows. */
#include "first.h"
#include "store/store_int.h"
#include "buf.h"

#include <stdlib.h>

/* The first conjunct is events_due's predicate (006_due_index.sql), so both stores use that index. An
 * event of a source with ordered=1 waits while an earlier event of its source is unfinished: one of
 * that source in flight at a time, in arrival order (the options are "key=value\n" lines). */
#define CLAIM_WHERE                                                                                                    \
	"status IN ('received', 'retry', 'processing') AND "                                                           \
	"((status IN ('received', 'retry') AND coalesce(next_attempt_at, 0) <= CAST($1 AS BIGINT)) OR "                \
	"(status = 'processing' AND lease_until < $1)) AND (CAST($3 AS BIGINT) = 0 OR id = $3) AND NOT ("              \
	"(SELECT '\n' || options FROM sources WHERE sources.id = events.source_id) LIKE '%\nordered=1\n%' AND "        \
	"EXISTS (SELECT 1 FROM events e2 WHERE e2.source_id = events.source_id AND e2.id < events.id AND "             \
	"e2.status IN ('received', 'retry', 'processing'))) ORDER BY id LIMIT CAST($4 AS BIGINT)"
/* (SQLite binds parameters as text: the casts make the comparisons numeric) */
#define CLAIM_SET "UPDATE events SET status = 'processing', lease_until = $2, attempts = attempts + 1 WHERE id IN "
#define CLAIM_RETURNING                                                                                                \
	" RETURNING id, source_id, attempts, idempotency_key, event_type, body, headers, "                             \
	"(SELECT options FROM sources WHERE sources.id = events.source_id), "                                          \
	"(SELECT provider FROM sources WHERE sources.id = events.source_id), "                                         \
	"(SELECT account FROM sources WHERE sources.id = events.source_id), public_id, "                               \
	"CASE WHEN EXISTS (SELECT 1 FROM attempts WHERE attempts.event_id = events.id) THEN 1 ELSE 0 END"

static int job_from_row(const struct db_rows *rows, size_t r, long long lease_until, struct store_job *job)
{
	memset(job, 0, sizeof *job);
	job->event_id = store_cell_ll(rows, r, 0);
	job->source_id = store_cell_ll(rows, r, 1);
	job->attempts = (int)store_cell_ll(rows, r, 2);
	job->key = store_dup_cell(rows, r, 3, NULL);
	job->type = store_dup_cell(rows, r, 4, NULL);
	job->body = store_dup_cell(rows, r, 5, &job->body_len);
	job->headers = store_dup_cell(rows, r, 6, NULL);
	job->options = store_dup_cell(rows, r, 7, NULL);
	job->provider = store_dup_cell(rows, r, 8, NULL);
	job->account = store_dup_cell(rows, r, 9, NULL);
	job->public_id = store_dup_cell(rows, r, 10, NULL);
	job->had_attempts = store_cell_ll(rows, r, 11) != 0;
	job->lease_until = lease_until;
	if (job->key && job->body && job->headers && job->provider && job->account && job->public_id)
		return 0;
	store_job_free(job);
	return -1;
}

static int by_id(const void *a, const void *b)
{
	const struct store_job *x = a, *y = b;

	return x->event_id < y->event_id ? -1 : x->event_id > y->event_id;
}

/* SQLite: whether anything is due at all, read without the write lock, so that an idle or rung
 * processor does not queue behind the responders' commits to learn that nothing is. 1, 0 or -1. */
static int lite_anything_due(struct store *s, const struct db_param *p)
{
	static const char sql[] = "SELECT id FROM events INDEXED BY events_due WHERE " CLAIM_WHERE;
	struct db_param q[4] = {p[0], p[1], p[2], P("1")};
	struct db_rows rows;
	int rc;

	if (store_exec(s, sql, 4, q, &rows) != DB_OK)
		return -1;
	rc = rows.nrows > 0;
	db_rows_free(&rows);
	return rc;
}

/* n items written by each, between open and close and separated by commas, as one string for a statement
 * parameter. NULL when memory ran out. */
static char *list_text(size_t n, size_t per_item, const char *open, const char *close,
		       int (*each)(struct buf *b, const void *items, size_t i), const void *items)
{
	struct buf b;
	char *out = NULL;
	int rc;

	buf_init(&b, 64 + n * per_item);
	rc = buf_append_str(&b, open);
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = i ? buf_append_str(&b, ",") : 0) == 0)
			rc = each(&b, items, i);
	if (rc == 0 && buf_append_str(&b, close) == 0)
		out = strdup(buf_str(&b));
	buf_free(&b);
	return out;
}

static int id_item(struct buf *b, const void *items, size_t i)
{
	return buf_printf(b, "%lld", ((const long long *)items)[i]);
}

/* ids as the statements below take them: a JSON array for SQLite's json_each, an array literal for
 * PostgreSQL. NULL when memory ran out. */
static char *id_list(const long long *ids, size_t n, int pg)
{
	return list_text(n, 21, pg ? "{" : "[", pg ? "}" : "]", id_item, ids);
}

/* Fresh events of sources with no enabled action: nothing to run, so they are set processed (with
 * their audit rows) in the claim's transaction, one row version each instead of a claim and an end. Only
 * the sources named in $4 are looked at (the ones the processor last saw without an action): a look at
 * every due event would cost as much as the backlog on every claim when the due events have actions.
 * Through events_due_source, by source; in no particular order (they have nothing to run, so nothing
 * waits for them, ordered=1 or not). The first conjunct is the index's predicate. $1 now, $2 only_id,
 * $3 max. */
#define ACTIONLESS_WHERE                                                                                               \
	"status IN ('received', 'retry', 'processing') AND status = 'received' AND "                                   \
	"coalesce(next_attempt_at, 0) <= CAST($1 AS BIGINT) AND (CAST($2 AS BIGINT) = 0 OR id = $2) AND NOT EXISTS "   \
	"(SELECT 1 FROM actions WHERE actions.source_id = events.source_id AND actions.enabled <> 0) "
#define ACTIONLESS_SET                                                                                                 \
	"UPDATE events SET status = 'processed', next_attempt_at = NULL, lease_until = NULL, processed_at = $1, "      \
	"attempts = attempts + 1 WHERE id IN "

static int finish_actionless(struct store *s, int lite, long long now, long long only_id, size_t max,
			     const long long *hint, size_t nhint, long *done)
{
	/* the same rows twice in one write transaction (nothing else writes in between, and the named index
	 * gives both the same order) */
#define LITE_IDS                                                                                                       \
	"SELECT id FROM events INDEXED BY events_due_source WHERE source_id IN (SELECT value FROM json_each($4)) "     \
	"AND " ACTIONLESS_WHERE "LIMIT CAST($3 AS BIGINT)"
	static const char audit[] = "INSERT INTO audit_log (at, action, source_id, event_id) SELECT $1, 'processed', "
				    "source_id, id FROM events WHERE id IN (" LITE_IDS ") ORDER BY id";
	static const char set[] = ACTIONLESS_SET "(" LITE_IDS ") RETURNING id";
#undef LITE_IDS
	struct num n1, n2, n3;
	char *list;
	int rc = -1;

	*done = 0;
	/* SQLite only. On PostgreSQL, in the claim's transaction with sort and bitmap scans off, the planner
	 * took a plan for this statement whose cost grew with the table (bench/fork.py: 4-9 ms of
	 * PostgreSQL per request, processors falling behind); such events take a claim and an end there */
	if (nhint == 0 || !lite)
		return 0;
	if (!(list = id_list(hint, nhint, 0)))
		return -1;
	{
		struct db_param p[4] = {PN(&n1, now), PN(&n2, only_id), PN(&n3, (long long)max), P(list)};
		if (store_exec(s, audit, 4, p, NULL) == DB_OK)
			rc = store_count_rows(s, set, 4, p, done);
	}
	free(list);
	return rc;
}

int store_claim_batch(struct store *s, long long now, long lease, long long only_id, const long long *actionless,
		      size_t nactionless, struct store_job *jobs, size_t max, size_t *n, long *finished)
{
	/* SQLite: the statement runs in a write transaction begun through the writer queue, as the
	 * responders' are; its planner would rather read every unfinished row through events_status and
	 * sort them, so the id-ordered partial index is named */
	static const char sql_lite[] =
	    CLAIM_SET "(SELECT id FROM events INDEXED BY events_due WHERE " CLAIM_WHERE ")" CLAIM_RETURNING;
	/* PostgreSQL: processors on many hosts skip each other's rows. The planner must walk events_due in
	 * id order and stop after max rows; with statistics taken when few events were unfinished (a
	 * burst after a quiet hour; autovacuum re-analyzes only after 10% of the table changed) it would
	 * rather fetch every due row by status and sort them, a cost that grows with the backlog. So the
	 * claim's transaction turns the sort and the bitmap scan off for itself (SET LOCAL). */
	static const char pg_index_order[] =
	    "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)";
	static const char sql_pg[] =
	    CLAIM_SET "(SELECT id FROM events WHERE " CLAIM_WHERE " FOR UPDATE SKIP LOCKED)" CLAIM_RETURNING;
	struct num n1, n2, n3, n4;
	struct db_param p[4] = {PN(&n1, now), PN(&n2, now + lease), PN(&n3, only_id), PN(&n4, (long long)max)};
	struct db_rows rows;
	int lite = !s->ops->dml_cte, rc;

	*n = 0;
	*finished = 0;
	if (max == 0)
		return 0;
	if (lite && (rc = lite_anything_due(s, p)) <= 0)
		return rc;
	if (store_batch_begin(s) < 0)
		return -1;
	memset(&rows, 0, sizeof rows);
	if (!lite && store_exec(s, pg_index_order, 0, NULL, NULL) != DB_OK)
		goto fail;
	if (finish_actionless(s, lite, now, only_id, max, actionless, nactionless, finished) < 0)
		goto fail;
	if ((long long)max > *finished) {
		/* the claim takes what the batch has room for after them */
		p[3] = PN(&n4, (long long)max - *finished);
		if (store_exec(s, lite ? sql_lite : sql_pg, 4, p, &rows) != DB_OK)
			goto fail;
	}
	if (store_batch_commit(s) < 0) {
		*finished = 0;
		db_rows_free(&rows);
		return -1;
	}
	for (size_t r = 0; r < rows.nrows && *n < max; r++)
		if (job_from_row(&rows, r, now + lease, &jobs[*n]) == 0)
			(*n)++;
	/* a row that could not be copied (memory) stays claimed: its lease expires and it is taken again */
	db_rows_free(&rows);
	qsort(jobs, *n, sizeof *jobs, by_id);
	return 0;
fail:
	*finished = 0;
	store_batch_abort(s);
	return -1;
}

int store_finish_processed(struct store *s, const long long *ids, size_t n, long long now)
{
	static const char up_lite[] = "UPDATE events SET status = 'processed', next_attempt_at = NULL, lease_until = "
				      "NULL, processed_at = $2 WHERE id IN (SELECT value FROM json_each($1))";
	static const char up_pg[] = "UPDATE events SET status = 'processed', next_attempt_at = NULL, lease_until = "
				    "NULL, processed_at = $2 WHERE id = ANY(CAST($1 AS BIGINT[]))";
	static const char au_lite[] = "INSERT INTO audit_log (at, action, source_id, event_id) SELECT $2, 'processed', "
				      "source_id, id FROM events WHERE id IN (SELECT value FROM json_each($1)) "
				      "ORDER BY id";
	static const char au_pg[] = "INSERT INTO audit_log (at, action, source_id, event_id) SELECT $2, 'processed', "
				    "source_id, id FROM events WHERE id = ANY(CAST($1 AS BIGINT[])) ORDER BY id";
	int pg = s->ops->dml_cte != 0, rc;
	char *list;
	struct num n2;

	if (n == 0)
		return 0;
	if (!(list = id_list(ids, n, pg)))
		return -1;
	{
		struct db_param p[2] = {P(list), PN(&n2, now)};
		rc = store_exec(s, pg ? up_pg : up_lite, 2, p, NULL) == DB_OK &&
			     store_exec(s, pg ? au_pg : au_lite, 2, p, NULL) == DB_OK
			 ? 0
			 : -1;
	}
	free(list);
	return rc;
}

/* A round's rows as one JSON array of objects, which both stores take apart in SQL (SQLite's json_each,
 * PostgreSQL's json_to_recordset). */
static int begin_item(struct buf *b, const void *items, size_t i)
{
	const struct store_attempt_row *r = (const struct store_attempt_row *)items + i;
	int rc = buf_printf(b, "{\"e\":%lld,\"a\":%lld,\"k\":", r->event_id, r->action_id);

	if (rc == 0)
		rc = buf_append_json_string(b, r->kind, strlen(r->kind));
	return rc == 0 ? buf_append_str(b, "}") : rc;
}

static int end_item(struct buf *b, const void *items, size_t i)
{
	const struct store_attempt_row *r = (const struct store_attempt_row *)items + i;
	int rc = buf_printf(b, "{\"i\":%lld,\"o\":", r->attempt_id);

	if (rc == 0)
		rc = buf_append_json_string(b, r->outcome, strlen(r->outcome));
	if (rc == 0)
		rc =
		    r->http_status >= 0 ? buf_printf(b, ",\"h\":%d", r->http_status) : buf_append_str(b, ",\"h\":null");
	if (rc == 0)
		rc = r->exit_code >= 0 ? buf_printf(b, ",\"x\":%d", r->exit_code) : buf_append_str(b, ",\"x\":null");
	if (rc == 0)
		rc = buf_append_str(b, ",\"r\":");
	if (rc == 0)
		rc = r->error && *r->error ? buf_append_json_string(b, r->error, strlen(r->error))
					   : buf_append_str(b, "null");
	return rc == 0 ? buf_append_str(b, "}") : rc;
}

int store_attempts_begin(struct store *s, struct store_attempt_row *rows, size_t n, long long started)
{
	static const char lite[] =
	    "INSERT INTO attempts (event_id, action_id, action, started_at) SELECT "
	    "json_extract(value, '$.e'), json_extract(value, '$.a'), json_extract(value, '$.k'), $2 "
	    "FROM json_each($1) RETURNING id, event_id";
	static const char pg[] = "INSERT INTO attempts (event_id, action_id, action, started_at) SELECT e, a, k, $2 "
				 "FROM json_to_recordset(CAST($1 AS json)) AS x(e bigint, a bigint, k text) "
				 "RETURNING id, event_id";
	struct db_rows out;
	struct num n2;
	char *list;
	int rc = -1;

	if (n == 0)
		return 0;
	if (!(list = list_text(n, 64, "[", "]", begin_item, rows)))
		return -1;
	{
		struct db_param p[2] = {P(list), PN(&n2, started)};
		if (store_exec(s, s->ops->dml_cte ? pg : lite, 2, p, &out) == DB_OK) {
			/* the order of RETURNING is the store's: each row is found again by its event (one attempt
			 * per event in a round) */
			size_t found = 0;
			for (size_t r = 0; r < out.nrows; r++) {
				long long id = store_cell_ll(&out, r, 0), ev = store_cell_ll(&out, r, 1);
				for (size_t i = 0; i < n; i++)
					if (rows[i].event_id == ev && !rows[i].attempt_id) {
						rows[i].attempt_id = id;
						found++;
						break;
					}
			}
			rc = found == n ? 0 : -1;
			db_rows_free(&out);
		}
	}
	free(list);
	return rc;
}

int store_attempts_end(struct store *s, const struct store_attempt_row *rows, size_t n, long long ended)
{
	static const char lite[] =
	    "UPDATE attempts SET ended_at = $2, outcome = j.o, http_status = j.h, exit_code = j.x, error = j.r FROM "
	    "(SELECT json_extract(value, '$.i') AS i, json_extract(value, '$.o') AS o, json_extract(value, '$.h') AS "
	    "h, "
	    "json_extract(value, '$.x') AS x, json_extract(value, '$.r') AS r FROM json_each($1)) AS j "
	    "WHERE attempts.id = j.i";
	static const char pg[] =
	    "UPDATE attempts SET ended_at = $2, outcome = x.o, http_status = x.h, exit_code = x.x, "
	    "error = x.r FROM json_to_recordset(CAST($1 AS json)) AS x(i bigint, o text, h int, x "
	    "int, r text) WHERE attempts.id = x.i";
	struct num n2;
	char *list;
	int rc;

	if (n == 0)
		return 0;
	if (!(list = list_text(n, 128, "[", "]", end_item, rows)))
		return -1;
	{
		struct db_param p[2] = {P(list), PN(&n2, ended)};
		rc = store_exec(s, s->ops->dml_cte ? pg : lite, 2, p, NULL) == DB_OK ? 0 : -1;
	}
	free(list);
	return rc;
}
