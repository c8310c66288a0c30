/* pg.c: the PostgreSQL backend on libpq: prepared statements, one connection per process,
 * reconnect after the server went away. */
#include "first.h"
#include "store/db.h"
#include "buf.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define STMT_CACHE 64
#define BYTEAOID   17

struct pg {
	PGconn *conn;
	char *uri;
	const char *prepared[STMT_CACHE]; /* sql pointers; statement name is "k<index>" */
	size_t nprepared;
	int in_tx;
	char err[256];
};

static void set_err(struct pg *p, const char *what)
{
	const char *m = p->conn ? PQerrorMessage(p->conn) : "no connection";
	size_t n;

	snprintf(p->err, sizeof p->err, "%s: %s", what, m);
	n = strlen(p->err);
	while (n && (p->err[n - 1] == '\n' || p->err[n - 1] == ' '))
		p->err[--n] = '\0';
}

static int connect_now(struct pg *p)
{
	if (p->conn)
		PQfinish(p->conn);
	p->conn = PQconnectdb(p->uri);
	p->nprepared = 0;
	p->in_tx = 0;
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		set_err(p, "connect");
		return -1;
	}
	return 0;
}

static int pg_open(const char *uri, void **conn, struct buf *err)
{
	struct pg *p = calloc(1, sizeof *p);

	if (!p)
		return -1;
	p->uri = strdup(uri);
	if (!p->uri) {
		free(p);
		return -1;
	}
	/* a connection that fails now is retried on the first statement (the server may come back) */
	if (connect_now(p) < 0) {
		(void)!buf_printf(err, "%s", p->err);
		log_warn("PostgreSQL store not reachable yet: %s", p->err);
	}
	*conn = p;
	return 0;
}

static void pg_close(void *conn)
{
	struct pg *p = conn;

	if (!p)
		return;
	if (p->conn)
		PQfinish(p->conn);
	free(p->uri);
	free(p);
}

static int gone(struct pg *p)
{
	return !p->conn || PQstatus(p->conn) != CONNECTION_OK;
}

static int copy_rows(PGresult *res, struct db_rows *rows)
{
	int nr = PQntuples(res), nc = PQnfields(res);

	if (nc > 32)
		return -1;
	for (int r = 0; r < nr; r++) {
		char *cells[32];
		size_t lens[32];
		int c;
		for (c = 0; c < nc; c++) {
			if (PQgetisnull(res, r, c)) {
				cells[c] = NULL;
				lens[c] = 0;
				continue;
			}
			if (PQftype(res, c) == BYTEAOID) {
				size_t n = 0;
				unsigned char *u = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, c), &n);
				cells[c] = u ? malloc(n + 1) : NULL;
				if (cells[c]) {
					memcpy(cells[c], u, n);
					cells[c][n] = '\0';
				}
				PQfreemem(u);
				lens[c] = n;
			} else {
				size_t n = (size_t)PQgetlength(res, r, c);
				cells[c] = malloc(n + 1);
				if (cells[c]) {
					memcpy(cells[c], PQgetvalue(res, r, c), n);
					cells[c][n] = '\0';
				}
				lens[c] = n;
			}
			if (!cells[c])
				break;
		}
		if (c < nc || db_rows_add(rows, (size_t)nc, cells, lens) < 0) {
			for (int k = 0; k < c; k++)
				free(cells[k]);
			return -1;
		}
	}
	return 0;
}

static void track_tx(struct pg *p, const char *sql)
{
	if (strncmp(sql, "BEGIN", 5) == 0)
		p->in_tx = 1;
	else if (strncmp(sql, "COMMIT", 6) == 0 || strncmp(sql, "ROLLBACK", 8) == 0)
		p->in_tx = 0;
}

static enum db_status run_once(struct pg *p, const char *sql, size_t nparams, const struct db_param *params,
			       struct db_rows *rows)
{
	const char *values[32];
	int lengths[32], formats[32];
	char name[16];
	size_t idx;
	PGresult *res;
	ExecStatusType st;
	enum db_status rc = DB_OK;

	if (nparams > 32)
		return DB_ERROR;
	for (idx = 0; idx < p->nprepared; idx++)
		if (p->prepared[idx] == sql)
			break;
	snprintf(name, sizeof name, "k%zu", idx);
	if (idx == p->nprepared) {
		if (idx >= STMT_CACHE)
			return DB_ERROR;
		res = PQprepare(p->conn, name, sql, (int)nparams, NULL);
		st = PQresultStatus(res);
		if (st != PGRES_COMMAND_OK) {
			set_err(p, "prepare");
			PQclear(res);
			return gone(p) ? DB_GONE : DB_ERROR;
		}
		PQclear(res);
		p->prepared[p->nprepared++] = sql;
	}
	for (size_t i = 0; i < nparams; i++) {
		values[i] = params[i].p;
		lengths[i] = (int)params[i].len;
		formats[i] = params[i].binary ? 1 : 0;
	}
	res = PQexecPrepared(p->conn, name, (int)nparams, values, lengths, formats, 0);
	st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		if (rows && copy_rows(res, rows) < 0) {
			snprintf(p->err, sizeof p->err, "out of memory copying rows");
			rc = DB_ERROR;
		}
		track_tx(p, sql);
	} else {
		set_err(p, "execute");
		rc = gone(p) ? DB_GONE : DB_ERROR;
	}
	PQclear(res);
	return rc;
}

static enum db_status pg_exec(void *conn, const char *sql, size_t nparams, const struct db_param *params,
			      struct db_rows *rows)
{
	struct pg *p = conn;
	enum db_status rc;

	if (rows)
		memset(rows, 0, sizeof *rows);
	if (gone(p)) {
		/* inside a transaction the work so far is lost: the caller must start over */
		if (p->in_tx || connect_now(p) < 0)
			return DB_GONE;
	}
	rc = run_once(p, sql, nparams, params, rows);
	if (rc == DB_GONE && !p->in_tx && strncmp(sql, "COMMIT", 6) != 0) {
		/* the server restarted since the last statement: reconnect and try once more */
		if (rows)
			db_rows_free(rows);
		if (connect_now(p) == 0) {
			log_info("reconnected to PostgreSQL");
			rc = run_once(p, sql, nparams, params, rows);
		}
	}
	if (rc != DB_OK && rows)
		db_rows_free(rows);
	return rc;
}

static enum db_status pg_script(void *conn, const char *sql)
{
	struct pg *p = conn;
	PGresult *res;
	enum db_status rc = DB_OK;

	if (gone(p) && connect_now(p) < 0)
		return DB_GONE;
	res = PQexec(p->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(p, "script");
		rc = gone(p) ? DB_GONE : DB_ERROR;
	}
	PQclear(res);
	return rc;
}

static int pg_reconnect(void *conn)
{
	return connect_now(conn);
}

static const char *pg_error(void *conn)
{
	struct pg *p = conn;

	return p && p->err[0] ? p->err : "postgresql error";
}

const struct db_ops db_pg_ops = {
    .name = "postgresql",
    .dml_cte = 1,
    .begin_sql = "BEGIN",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .script = pg_script,
    .reconnect = pg_reconnect,
    .error = pg_error,
};
