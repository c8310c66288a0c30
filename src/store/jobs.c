/* jobs.c: processing state in the store: claims with leases, attempts, actions, replay and purge. */
#include "first.h"
#include "store/store_int.h"

#include <stdlib.h>

void store_job_free(struct store_job *job)
{
	if (!job)
		return;
	free(job->key);
	free(job->type);
	free(job->body);
	free(job->headers);
	free(job->options);
	free(job->provider);
	free(job->account);
	free(job->public_id);
	memset(job, 0, sizeof *job);
}

int store_finish(struct store *s, long long event_id, const char *status, long long next_at, long long now)
{
	static const char sql[] =
	    "UPDATE events SET status = $2, next_attempt_at = $3, lease_until = NULL, "
	    "processed_at = CASE WHEN $2 = 'processed' THEN $4 ELSE processed_at END WHERE id = $1 RETURNING id";
	static const char sql_pg[] =
	    "UPDATE events SET status = $2, next_attempt_at = $3, lease_until = NULL, "
	    "processed_at = CASE WHEN $2::text = 'processed' THEN $4 ELSE processed_at END WHERE id = $1 RETURNING id";
	struct num n1, n2, n3;
	struct db_param p[4] = {PN(&n1, event_id), P(status), PZ(&n2, next_at), PN(&n3, now)};

	return store_change_one(s, s->ops->dml_cte ? sql_pg : sql, 4, p) == 1 ? 0 : -1;
}

int store_attempt_begin(struct store *s, long long event_id, long long action_id, const char *action, long long started,
			long long *attempt_id)
{
	static const char sql[] =
	    "INSERT INTO attempts (event_id, action_id, action, started_at) VALUES ($1, $2, $3, $4) "
	    "RETURNING id";
	struct num n1, n2, n3;
	struct db_param p[4] = {PN(&n1, event_id), PZ(&n2, action_id), P(action), PN(&n3, started)};
	struct db_rows rows;
	int rc = -1;

	if (store_exec(s, sql, 4, p, &rows) != DB_OK)
		return -1;
	if (rows.nrows == 1) {
		*attempt_id = store_cell_ll(&rows, 0, 0);
		rc = 0;
	}
	db_rows_free(&rows);
	return rc;
}

int store_attempt_end(struct store *s, long long attempt_id, long long ended, const char *outcome, int http_status,
		      int exit_code, const char *error)
{
	static const char sql[] = "UPDATE attempts SET ended_at = $2, outcome = $3, http_status = $4, exit_code = $5, "
				  "error = $6 WHERE id = $1";
	struct num n1, n2, n3, n4;
	struct db_param p[6];

	p[0] = PN(&n1, attempt_id);
	p[1] = PN(&n2, ended);
	p[2] = P(outcome);
	p[3] = http_status >= 0 ? PN(&n3, http_status) : P(NULL);
	p[4] = exit_code >= 0 ? PN(&n4, exit_code) : P(NULL);
	p[5] = P(error && *error ? error : NULL);
	return store_exec(s, sql, 6, p, NULL) == DB_OK ? 0 : -1;
}

int store_attempt_drop(struct store *s, long long attempt_id)
{
	static const char sql[] = "DELETE FROM attempts WHERE id = $1 AND ended_at IS NULL";
	struct num n;
	struct db_param p[1] = {PN(&n, attempt_id)};

	return store_exec(s, sql, 1, p, NULL) == DB_OK ? 0 : -1;
}

int store_give_back(struct store *s, long long event_id)
{
	/* as if this claim had not been made: due again at once, its attempt not counted */
	static const char sql[] = "UPDATE events SET status = CASE WHEN attempts > 1 THEN 'retry' ELSE 'received' END, "
				  "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
				  "next_attempt_at = NULL, lease_until = NULL WHERE id = $1 AND status = 'processing'";
	struct num n;
	struct db_param p[1] = {PN(&n, event_id)};

	return store_exec(s, sql, 1, p, NULL) == DB_OK ? 0 : -1;
}

int store_attempts_interrupted(struct store *s, long long event_id, long long now)
{
	static const char sql[] =
	    "UPDATE attempts SET ended_at = $2, outcome = 'interrupted', "
	    "error = 'the processor stopped before this attempt ended (the delivery may or may not have gone out); "
	    "taken again when its lease expired' "
	    "WHERE event_id = $1 AND ended_at IS NULL";
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, event_id), PN(&n2, now)};

	return store_exec(s, sql, 2, p, NULL) == DB_OK ? 0 : -1;
}

int store_action_done(struct store *s, long long event_id, long long action_id)
{
	/* an ok attempt counts unless a forced replay came after it (replay --force runs everything again) */
	static const char sql[] =
	    "SELECT count(*) FROM attempts WHERE event_id = $1 AND action_id = $2 AND outcome = 'ok' AND id > "
	    "coalesce((SELECT max(id) FROM attempts WHERE event_id = $1 AND outcome = 'forced'), 0)";
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, event_id), PN(&n2, action_id)};
	struct db_rows rows;
	int rc;

	if (store_exec(s, sql, 2, p, &rows) != DB_OK)
		return -1;
	rc = store_cell_ll(&rows, 0, 0) > 0;
	db_rows_free(&rows);
	return rc;
}

int store_actions(struct store *s, long long source_id, struct store_rows **out)
{
	static const char sql[] = "SELECT id, kind, target, options, enabled, position FROM actions WHERE source_id = "
				  "$1 ORDER BY position, id";
	struct num n;
	struct db_param p[1] = {PN(&n, source_id)};

	return store_listing(s, sql, 1, p, out);
}

int store_action_add(struct store *s, long long source_id, const char *kind, const char *target, const char *options,
		     long long now, long long *id)
{
	static const char sql[] =
	    "INSERT INTO actions (source_id, position, kind, target, options, created_at) VALUES ($1, "
	    "(SELECT coalesce(max(position), 0) + 1 FROM actions WHERE source_id = $1), $2, $3, $4, $5) RETURNING id";
	struct num n1, n2;
	struct db_param p[5] = {PN(&n1, source_id), P(kind), P(target), P(options ? options : ""), PN(&n2, now)};
	struct db_rows rows;
	int rc = -1;

	if (store_exec(s, sql, 5, p, &rows) != DB_OK)
		return -1;
	if (rows.nrows == 1) {
		*id = store_cell_ll(&rows, 0, 0);
		rc = 0;
	}
	db_rows_free(&rows);
	return rc;
}

int store_action_remove(struct store *s, long long source_id, long long action_id)
{
	static const char sql[] = "DELETE FROM actions WHERE source_id = $1 AND id = $2 RETURNING id";
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, source_id), PN(&n2, action_id)};

	return store_change_one(s, sql, 2, p);
}

int store_action_disable(struct store *s, long long action_id)
{
	static const char sql[] = "UPDATE actions SET enabled = 0 WHERE id = $1 RETURNING id";
	struct num n;
	struct db_param p[1] = {PN(&n, action_id)};

	return store_change_one(s, sql, 1, p) < 0 ? -1 : 0;
}

int store_notify(struct store *s, const char *channel, const char *payload)
{
	static const char sql[] = "SELECT pg_notify($1, $2)";
	struct db_param p[2] = {P(channel), P(payload)};

	if (!s->ops->dml_cte)
		return -2; /* SQLite has no LISTEN/NOTIFY */
	return store_exec(s, sql, 2, p, NULL) == DB_OK ? 0 : -1;
}

int store_replay(struct store *s, long long id, const char *status, const char *provider, const char *account,
		 long long since, long *count)
{
	static const char sql_id[] =
	    "UPDATE events SET status = 'received', attempts = 0, next_attempt_at = NULL, lease_until = NULL "
	    "WHERE id = $1 AND status <> 'test' RETURNING id";
	static const char sql_filter[] =
	    "UPDATE events SET status = 'received', attempts = 0, next_attempt_at = NULL, lease_until = NULL "
	    "WHERE status = $1 AND received_at >= $2 AND source_id IN (SELECT id FROM sources WHERE "
	    "($3 IS NULL OR provider = $3) AND ($4 IS NULL OR account = $4)) RETURNING id";
	static const char sql_filter_pg[] =
	    "UPDATE events SET status = 'received', attempts = 0, next_attempt_at = NULL, lease_until = NULL "
	    "WHERE status = $1 AND received_at >= $2 AND source_id IN (SELECT id FROM sources WHERE "
	    "($3::text IS NULL OR provider = $3) AND ($4::text IS NULL OR account = $4)) RETURNING id";
	struct num n1, n2;

	if (id > 0) {
		struct db_param p[1] = {PN(&n1, id)};
		return store_count_rows(s, sql_id, 1, p, count);
	} else {
		struct db_param p[4] = {P(status), PN(&n2, since), P(provider), P(account)};
		return store_count_rows(s, s->ops->dml_cte ? sql_filter_pg : sql_filter, 4, p, count);
	}
}

int store_replay_forced(struct store *s, long long id, long long now, long *count)
{
	static const char sql_mark[] = "INSERT INTO attempts (event_id, action, started_at, ended_at, outcome, error) "
				       "SELECT id, 'replay', $2, $2, "
				       "'forced', 'kancactl replay --force: every action runs again' FROM events WHERE "
				       "id = $1 AND status <> 'test'";
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, id), PN(&n2, now)};

	if (store_exec(s, s->ops->begin_sql, 0, NULL, NULL) != DB_OK)
		return -1;
	if (store_exec(s, sql_mark, 2, p, NULL) != DB_OK || store_replay(s, id, NULL, NULL, NULL, 0, count) < 0 ||
	    store_exec(s, "COMMIT", 0, NULL, NULL) != DB_OK) {
		(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
		return -1;
	}
	return 0;
}

int store_action_set_enabled(struct store *s, long long source_id, long long action_id, int enabled)
{
	static const char sql[] = "UPDATE actions SET enabled = $3 WHERE id = $2 AND source_id = $1 RETURNING id";
	struct num n1, n2, n3;
	struct db_param p[3] = {PN(&n1, source_id), PN(&n2, action_id), PN(&n3, enabled ? 1 : 0)};

	return store_change_one(s, sql, 3, p);
}

int store_retain_batch(struct store *s, enum store_retain what, long long before, long limit, long *count)
{
	/* the same rows for both statements: the oldest ids that match, in one transaction */
#define DONE_IDS "SELECT id FROM events WHERE status IN ('processed', 'test') AND received_at < $1 ORDER BY id LIMIT $2"
#define DEAD_IDS "SELECT id FROM events WHERE status = 'dead' AND received_at < $1 ORDER BY id LIMIT $2"
	static const char sql_done_attempts[] = "DELETE FROM attempts WHERE event_id IN (" DONE_IDS ")";
	static const char sql_done[] = "DELETE FROM events WHERE id IN (" DONE_IDS ") RETURNING id";
	static const char sql_dead_attempts[] = "DELETE FROM attempts WHERE event_id IN (" DEAD_IDS ")";
	static const char sql_dead[] = "DELETE FROM events WHERE id IN (" DEAD_IDS ") RETURNING id";
	static const char sql_audit[] = "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 "
					"ORDER BY id LIMIT $2) RETURNING id";
	/* PostgreSQL: one statement, the attempts going by the foreign key's cascade, and rows that another
	 * purger (another host's processor, a kancactl purge) has locked skipped, not waited for: two
	 * transactions that each deleted attempts and then events, choosing their ids twice, took their
	 * locks in different orders and deadlocked */
	static const char pg_done[] =
	    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE status IN ('processed', "
	    "'test') AND received_at < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id";
	static const char pg_dead[] = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE status = 'dead' AND "
				      "received_at < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id";
	static const char pg_audit[] =
	    "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY "
	    "id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id";
#undef DONE_IDS
#undef DEAD_IDS
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, before), PN(&n2, limit)};
	int pg = s->ops->dml_cte != 0;
	const char *first = pg				? NULL
			    : what == STORE_RETAIN_DONE ? sql_done_attempts
			    : what == STORE_RETAIN_DEAD ? sql_dead_attempts
							: NULL;
	const char *rows = what == STORE_RETAIN_DONE   ? (pg ? pg_done : sql_done)
			   : what == STORE_RETAIN_DEAD ? (pg ? pg_dead : sql_dead)
						       : (pg ? pg_audit : sql_audit);

	*count = 0;
	if (store_exec(s, s->ops->begin_sql, 0, NULL, NULL) != DB_OK)
		return -1;
	if ((first && store_exec(s, first, 2, p, NULL) != DB_OK) || store_count_rows(s, rows, 2, p, count) < 0 ||
	    store_exec(s, "COMMIT", 0, NULL, NULL) != DB_OK) {
		(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
		return -1;
	}
	return 0;
}

int store_list_attempts(struct store *s, long long event_id, struct store_rows **out)
{
	static const char sql[] =
	    "SELECT id, action_id, action, started_at, ended_at, outcome, http_status, exit_code, error "
	    "FROM attempts WHERE event_id = $1 ORDER BY id";
	struct num n;
	struct db_param p[1] = {PN(&n, event_id)};

	return store_listing(s, sql, 1, p, out);
}
