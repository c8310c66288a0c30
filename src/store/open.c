/* open.c: opening a store (SQLite file or PostgreSQL), its health, and the schema migrations of sql/. */
#include "first.h"
#include "store/store_int.h"
#include "buf.h"
#include "clock.h"
#include "log.h"

#include <stdlib.h>

int store_open(const char *uri, struct store **out, struct buf *err)
{
	struct store *s = calloc(1, sizeof *s);

	if (!s)
		return -1;
	if (strncmp(uri, "sqlite:", 7) == 0) {
		s->ops = &db_sqlite_ops;
		s->migrations = migrations_sqlite;
	} else {
		s->ops = &db_pg_ops;
		s->migrations = migrations_pg;
	}
	if (s->ops->open(uri, &s->conn, err) < 0) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	s->ops->close(s->conn);
	free(s);
}

const char *store_backend(const struct store *s)
{
	return s->ops->name;
}

const char *store_error(struct store *s)
{
	return s->ops->error(s->conn);
}

enum store_failure store_failure(struct store *s)
{
	return (enum store_failure)s->ops->failure(s->conn);
}

const char *store_failure_name(enum store_failure f)
{
	static const char *const names[] = {"none", "locked", "timed out", "down", "disk full", "read-only", "failed"};

	return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "failed";
}

void store_set_deadline(struct store *s, double deadline)
{
	s->ops->set_deadline(s->conn, deadline);
}

int store_health_write(struct store *s, long long now)
{
	static const char sql[] = "UPDATE kanca_health SET checked_at = $1 WHERE id = 1";
	struct num n;
	struct db_param p[1] = {PN(&n, now)};

	/* in a transaction begun as deliveries begin theirs, so it meets the same locks (SQLite's writer queue) */
	if (store_exec(s, s->ops->begin_sql, 0, NULL, NULL) != DB_OK)
		return -1;
	if (store_exec(s, sql, 1, p, NULL) != DB_OK || store_exec(s, "COMMIT", 0, NULL, NULL) != DB_OK) {
		(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
		return -1;
	}
	return 0;
}

int store_backlog(struct store *s, long long *events, long long *oldest)
{
	static const char sql[] =
	    "SELECT count(*), min(received_at) FROM events WHERE status IN ('received', 'retry', 'processing')";
	struct db_rows rows;

	if (store_exec(s, sql, 0, NULL, &rows) != DB_OK)
		return -1;
	*events = store_cell_ll(&rows, 0, 0);
	*oldest = store_cell_ll(&rows, 0, 1);
	db_rows_free(&rows);
	return 0;
}

int store_ping(struct store *s)
{
	static const char sql[] = "SELECT 1";
	struct db_rows rows;
	int ok;

	if (store_exec(s, sql, 0, NULL, &rows) != DB_OK)
		return -1;
	ok = rows.nrows == 1;
	db_rows_free(&rows);
	return ok ? 0 : -1;
}

int store_clock(struct store *s, double *unix_seconds)
{
	static const char sql[] = "SELECT extract(epoch from clock_timestamp())";
	struct db_rows rows;
	const char *c;
	char *end;
	int rc = -1;

	if (s->ops == &db_sqlite_ops)
		return -2;
	if (store_exec(s, sql, 0, NULL, &rows) != DB_OK)
		return -1;
	c = rows.nrows == 1 ? db_cell(&rows, 0, 0) : NULL;
	if (c) {
		*unix_seconds = strtod(c, &end);
		rc = end != c ? 0 : -1;
	}
	db_rows_free(&rows);
	return rc;
}

static int latest_version(const struct store *s)
{
	int v = 0;

	for (const struct migration *m = s->migrations; m->version; m++)
		v = m->version;
	return v;
}

int store_schema_version(struct store *s, int *current, int *latest)
{
	static const char sql_has[] = "SELECT count(*) FROM kanca_migrations";
	static const char sql_max[] = "SELECT coalesce(max(version), 0) FROM kanca_migrations";
	struct db_rows rows;

	*latest = latest_version(s);
	*current = 0;
	/* a store without the table has no schema yet; the probe's error is not worth a log line */
	if (s->ops->exec(s->conn, sql_has, 0, NULL, NULL) != DB_OK)
		return store_ping(s) == 0 ? 0 : -1;
	if (store_exec(s, sql_max, 0, NULL, &rows) != DB_OK)
		return -1;
	*current = (int)store_cell_ll(&rows, 0, 0);
	db_rows_free(&rows);
	return 0;
}

/* SQLite: foreign keys on again, after a check that the migrations left no row pointing nowhere. */
static int restore_foreign_keys(struct store *s)
{
	struct db_rows rows;
	int bad;

	if (s->ops != &db_sqlite_ops)
		return 0;
	if (store_exec(s, "PRAGMA foreign_key_check", 0, NULL, &rows) != DB_OK)
		return -1;
	bad = rows.nrows > 0;
	db_rows_free(&rows);
	if (bad) /* the data had them before (the migrations copy rows as they are): say so, go on */
		log_warn("the store has rows that refer to rows that do not exist (PRAGMA foreign_key_check)");
	return s->ops->script(s->conn, "PRAGMA foreign_keys=ON") == DB_OK ? 0 : -1;
}

int store_migrate(struct store *s, int *applied, struct buf *err)
{
	static const char create[] =
	    "CREATE TABLE IF NOT EXISTS kanca_migrations (version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at bigint NOT NULL)";
	static const char record[] = "INSERT INTO kanca_migrations (version, name, applied_at) VALUES ($1, $2, $3)";
	int current, latest;
	struct num n1, n2;

	*applied = 0;
	if (s->ops->script(s->conn, create) != DB_OK) {
		(void)!buf_printf(err, "cannot create kanca_migrations: %s", store_error(s));
		return -1;
	}
	if (store_schema_version(s, &current, &latest) < 0) {
		(void)!buf_printf(err, "cannot read the schema version: %s", store_error(s));
		return -1;
	}
	if (current > latest) {
		(void)!buf_printf(err, "the store is at schema %d, newer than this kanca (%d)", current, latest);
		return -1;
	}
	/* SQLite: a migration that rebuilds a table (008) must not cascade its DROP into the tables that
	 * refer to it; the pragma is a no-op inside a transaction, so it is set around them */
	if (s->ops == &db_sqlite_ops && current < latest &&
	    s->ops->script(s->conn, "PRAGMA foreign_keys=OFF") != DB_OK) {
		(void)!buf_printf(err, "cannot prepare the migrations: %s", store_error(s));
		return -1;
	}
	for (const struct migration *m = s->migrations; m->version; m++) {
		struct db_param p[3];
		if (m->version <= current)
			continue;
		p[0] = PN(&n1, m->version);
		p[1] = P(m->name);
		p[2] = PN(&n2, clock_now());
		if (store_exec(s, s->ops->begin_sql, 0, NULL, NULL) != DB_OK ||
		    s->ops->script(s->conn, m->sql) != DB_OK || store_exec(s, record, 3, p, NULL) != DB_OK ||
		    store_exec(s, "COMMIT", 0, NULL, NULL) != DB_OK) {
			(void)!buf_printf(err, "migration %s failed: %s", m->name, store_error(s));
			(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
			(void)restore_foreign_keys(s);
			return -1;
		}
		(*applied)++;
	}
	if (restore_foreign_keys(s) < 0) {
		(void)!buf_printf(err, "the migrations left a broken reference: %s", store_error(s));
		return -1;
	}
	return 0;
}
