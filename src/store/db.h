/* db.h: the small SQL interface the two store backends implement (internal to the store).
 * SQL uses $1..$n placeholders in both dialects; values travel as text or, when binary, as bytes. */
#ifndef KANCA_STORE_DB_H
#define KANCA_STORE_DB_H

#include <stddef.h>

struct buf;

struct db_param {
	const char *p; /* NULL = SQL NULL */
	size_t len;
	int binary; /* a BLOB/BYTEA value */
};

struct db_rows {
	size_t nrows, ncols;
	char **cells; /* nrows*ncols, row-major; NULL for SQL NULL; each NUL-terminated */
	size_t *lens;
};

enum db_status {
	DB_OK = 0,
	DB_ERROR = -1,
	DB_GONE = -2,	/* connection lost; reconnect and retry */
	DB_UNNAMED = -3 /* pg.c's own: the connection does not keep prepared statements (never returned) */
};

/* Why the last statement failed, for the spool's decision and for logs (store.h's enum store_failure). */

struct db_ops {
	const char *name;
	int dml_cte;	       /* supports INSERT inside WITH (one round trip for event + audit) */
	const char *begin_sql; /* "BEGIN" or "BEGIN IMMEDIATE" */
	int (*open)(const char *uri, void **conn, struct buf *err);
	void (*close)(void *conn);
	/* Runs one statement (prepared and cached by the sql pointer). rows may be NULL. */
	enum db_status (*exec)(void *conn, const char *sql, size_t nparams, const struct db_param *params,
			       struct db_rows *rows);
	/* Runs a script of several statements, no parameters (migrations). */
	enum db_status (*script)(void *conn, const char *sql);
	/* Re-establishes a lost connection; 0 or -1. */
	int (*reconnect)(void *conn);
	/* Last error text for logs (never contains parameter values). */
	const char *(*error)(void *conn);
	/* Every wait from now on (locks, connecting, answers) ends at this clock_monotonic() time; 0 = the
	 * backend's own default limit (10 s). */
	void (*set_deadline)(void *conn, double deadline);
	/* The cause of the last failure (an enum store_failure). */
	int (*failure)(void *conn);
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

void db_rows_free(struct db_rows *r);
/* Cell text or NULL. */
const char *db_cell(const struct db_rows *r, size_t row, size_t col);
/* Appends one row of cells to r (backends use it); 0 or -1. */
int db_rows_add(struct db_rows *r, size_t ncols, char **cells, size_t *lens);

#endif
