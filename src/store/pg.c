/* pg.c: the PostgreSQL backend on libpq: prepared statements, one connection per process,
 * reconnect after the server went away. */
#include "first.h"
#include "store/db.h"
#include "buf.h"
#include "clock.h"
#include "dynlib.h"
#include "log.h"
#include "store/store.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* libpq, loaded by the first PostgreSQL store a process opens (dynlib.h) */
#define PQ_FUNCTIONS(X)                                                                                                \
	X(PQclear)                                                                                                     \
	X(PQconnectPoll)                                                                                               \
	X(PQconnectStart)                                                                                              \
	X(PQconsumeInput)                                                                                              \
	X(PQerrorMessage)                                                                                              \
	X(PQfinish)                                                                                                    \
	X(PQflush)                                                                                                     \
	X(PQfreemem)                                                                                                   \
	X(PQftype)                                                                                                     \
	X(PQgetResult)                                                                                                 \
	X(PQgetisnull)                                                                                                 \
	X(PQgetlength)                                                                                                 \
	X(PQgetvalue)                                                                                                  \
	X(PQisBusy)                                                                                                    \
	X(PQnfields)                                                                                                   \
	X(PQntuples)                                                                                                   \
	X(PQresultErrorField)                                                                                          \
	X(PQresultStatus)                                                                                              \
	X(PQsendPrepare)                                                                                               \
	X(PQsendQuery)                                                                                                 \
	X(PQsendQueryParams)                                                                                           \
	X(PQsendQueryPrepared)                                                                                         \
	X(PQsetnonblocking)                                                                                            \
	X(PQsocket)                                                                                                    \
	X(PQstatus)                                                                                                    \
	X(PQunescapeBytea)

static struct {
#define PQ_MEMBER(f) __typeof__(f) *f;
	PQ_FUNCTIONS(PQ_MEMBER)
#undef PQ_MEMBER
} pq;

/* 0, or -1 with the reason in err (every open of a process gets the first load's answer). */
static int load_libpq(struct buf *err)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	static char why[256];
#define PQ_SYMBOL(f) {#f, (void **)&pq.f},
	static const struct dynlib_symbol syms[] = {PQ_FUNCTIONS(PQ_SYMBOL)};
#undef PQ_SYMBOL

	/* libpq's LDAP library links GnuTLS, whose constructor would initialise it (and p11-kit: about
	 * 1.5 MiB per process) although kanca never looks a service up in LDAP; libldap initialises
	 * GnuTLS itself when it is used */
	if (state == 0)
		(void)setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
	if (state == 0)
		state = dynlib_load("libpq.so.5", syms, sizeof syms / sizeof syms[0], why, sizeof why) == 0 ? 1 : -1;
	if (state < 0)
		(void)buf_fail(err, "the PostgreSQL store needs libpq (Debian: apt-get install libpq5): %s", why);
	return state > 0 ? 0 : -1;
}

#define STMT_CACHE   64
#define BYTEAOID     17
#define CONNECT_WAIT 10.0 /* seconds a connection attempt lasts without a deadline */

struct pg {
	PGconn *conn;
	char *uri;
	unsigned long long prepared[STMT_CACHE]; /* statement_hash of each statement prepared on conn */
	size_t nprepared;
	int in_tx;
	int unnamed;	 /* statements are sent unnamed (a pooler that does not keep prepared statements) */
	double deadline; /* clock_monotonic() limit of every wait; 0: CONNECT_WAIT to connect, answers unbounded */
	int failure;	 /* enum store_failure of the last error */
	char err[256];
};

static void set_err(struct pg *p, const char *what)
{
	const char *m = p->conn ? pq.PQerrorMessage(p->conn) : "no connection";
	size_t n;

	snprintf(p->err, sizeof p->err, "%s: %s", what, m);
	n = strlen(p->err);
	while (n && (p->err[n - 1] == '\n' || p->err[n - 1] == ' '))
		p->err[--n] = '\0';
}

/* The cause of a failed statement, from its SQLSTATE (no result: the connection). */
static int classify(const PGresult *res)
{
	const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!state)
		return STORE_FAIL_DOWN;
	if (strcmp(state, "25006") == 0)
		return STORE_FAIL_READONLY; /* read_only_sql_transaction */
	if (strcmp(state, "53100") == 0)
		return STORE_FAIL_FULL; /* disk_full */
	if (strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0)
		return STORE_FAIL_DOWN; /* shutting down, cannot connect now, connection exceptions */
	if (strcmp(state, "57014") == 0)
		return STORE_FAIL_TIMEOUT; /* statement_timeout */
	if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0)
		return STORE_FAIL_LOCKED;
	return STORE_FAIL_OTHER;
}

/* Waits until the connection's socket can be read (or written) or limit passes. 0 ready, -1 not in time. */
static int wait_socket(struct pg *p, int for_write, double limit)
{
	int fd = pq.PQsocket(p->conn);

	if (fd < 0)
		return -1;
	for (;;) {
		double left = limit - clock_monotonic();
		struct pollfd pf = {fd, (short)(for_write ? POLLOUT : POLLIN), 0};
		int r;

		if (left <= 0)
			return -1;
		r = poll(&pf, 1, left > 3600 ? -1 : (int)(left * 1000) + 1);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* The answer did not come in time: the connection is in an unknown state and is dropped (the server
 * rolls back whatever it was doing); the next statement connects again. */
static void timed_out(struct pg *p, const char *what)
{
	snprintf(p->err, sizeof p->err, "%s: no answer from PostgreSQL within the deadline", what);
	p->failure = STORE_FAIL_TIMEOUT;
	pq.PQfinish(p->conn);
	p->conn = NULL;
}

/* Connects without blocking past the deadline (CONNECT_WAIT without one). */
static int connect_now(struct pg *p)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	double limit = p->deadline > 0 ? p->deadline : clock_monotonic() + CONNECT_WAIT;

	if (p->conn)
		pq.PQfinish(p->conn);
	p->nprepared = 0;
	p->in_tx = 0;
	p->conn = pq.PQconnectStart(p->uri);
	if (!p->conn || pq.PQstatus(p->conn) == CONNECTION_BAD) {
		set_err(p, "connect");
		p->failure = STORE_FAIL_DOWN;
		return -1;
	}
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			set_err(p, "connect");
			p->failure = STORE_FAIL_DOWN;
			pq.PQfinish(p->conn);
			p->conn = NULL;
			return -1;
		}
		if (wait_socket(p, st == PGRES_POLLING_WRITING, limit) < 0) {
			timed_out(p, "connect");
			return -1;
		}
		st = pq.PQconnectPoll(p->conn);
	}
	if (pq.PQsetnonblocking(p->conn, 1) != 0) {
		set_err(p, "connect");
		p->failure = STORE_FAIL_DOWN;
		return -1;
	}
	return 0;
}

/* After a PQsend*: sends what is buffered and collects the answer, within the deadline. The last
 * result (the caller clears it), or NULL with p->failure set. */
static PGresult *await(struct pg *p, const char *what)
{
	double limit = p->deadline > 0 ? p->deadline : clock_monotonic() + 1e9;
	PGresult *last = NULL, *r;
	int f;

	while ((f = pq.PQflush(p->conn)) == 1) {
		if (wait_socket(p, 1, limit) < 0) {
			timed_out(p, what);
			return NULL;
		}
		if (!pq.PQconsumeInput(p->conn))
			break;
	}
	for (;;) {
		while (pq.PQisBusy(p->conn)) {
			if (wait_socket(p, 0, limit) < 0) {
				pq.PQclear(last);
				timed_out(p, what);
				return NULL;
			}
			if (!pq.PQconsumeInput(p->conn))
				break;
		}
		r = pq.PQgetResult(p->conn);
		if (!r)
			break;
		pq.PQclear(last);
		last = r;
		if (pq.PQstatus(p->conn) == CONNECTION_BAD)
			break;
	}
	if (!last) {
		set_err(p, what);
		p->failure = STORE_FAIL_DOWN;
	}
	return last;
}

static int pg_open(const char *uri, void **conn, struct buf *err)
{
	struct pg *p;

	if (load_libpq(err) < 0)
		return -1;
	if (!(p = calloc(1, sizeof *p)))
		return -1;
	p->uri = strdup(uri);
	if (!p->uri) {
		free(p);
		return -1;
	}
	/* the first statement connects, within the deadline in force then (a responder sets one per
	 * request); a server that is down is not an error here */
	*conn = p;
	return 0;
}

static void pg_close(void *conn)
{
	struct pg *p = conn;

	if (!p)
		return;
	if (p->conn)
		pq.PQfinish(p->conn);
	free(p->uri);
	free(p);
}

static int gone(struct pg *p)
{
	return !p->conn || pq.PQstatus(p->conn) != CONNECTION_OK;
}

static int copy_rows(PGresult *res, struct db_rows *rows)
{
	int nr = pq.PQntuples(res), nc = pq.PQnfields(res);

	if (nc > 32)
		return -1;
	for (int r = 0; r < nr; r++) {
		char *cells[32];
		size_t lens[32];
		int c;
		for (c = 0; c < nc; c++) {
			if (pq.PQgetisnull(res, r, c)) {
				cells[c] = NULL;
				lens[c] = 0;
				continue;
			}
			if (pq.PQftype(res, c) == BYTEAOID) {
				size_t n = 0;
				unsigned char *u =
				    pq.PQunescapeBytea((const unsigned char *)pq.PQgetvalue(res, r, c), &n);
				cells[c] = u ? malloc(n + 1) : NULL;
				if (cells[c]) {
					memcpy(cells[c], u, n);
					cells[c][n] = '\0';
				}
				pq.PQfreemem(u);
				lens[c] = n;
			} else {
				size_t n = (size_t)pq.PQgetlength(res, r, c);
				cells[c] = malloc(n + 1);
				if (cells[c]) {
					memcpy(cells[c], pq.PQgetvalue(res, r, c), n);
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

/* The 64-bit FNV-1a hash of a statement's text. Its prepared name is "k" and these 16 hex digits, so that
 * a name always means the same statement, on every connection and in every kanca process: a pooler that
 * hands a server connection from one client to another (PgBouncer in transaction mode) can never make
 * kanca run another statement than the one it named. */
static unsigned long long statement_hash(const char *sql)
{
	unsigned long long h = 1469598103934665603ULL;

	for (const unsigned char *c = (const unsigned char *)sql; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return h;
}

/* Whether a statement failed because this connection's prepared statements are not the ones kanca made
 * (SQLSTATE 42P05 duplicate or 26000 unknown prepared statement: a pooler in transaction mode, PgBouncer
 * before 1.21, hands each transaction another server connection); the connection then goes unnamed and
 * run_once answers DB_UNNAMED. */
static int not_kept(struct pg *p, const PGresult *res)
{
	const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!state || (strcmp(state, "42P05") != 0 && strcmp(state, "26000") != 0))
		return 0;
	if (!p->unnamed)
		log_warn("PostgreSQL: this connection does not keep prepared statements (a pooler in transaction "
			 "mode?): kanca sends its statements unnamed from now on");
	p->unnamed = 1;
	return 1;
}

static enum db_status run_once(struct pg *p, const char *sql, size_t nparams, const struct db_param *params,
			       struct db_rows *rows)
{
	const char *values[32];
	int lengths[32], formats[32];
	char name[24];
	unsigned long long hash;
	size_t idx;
	PGresult *res;
	ExecStatusType st;
	enum db_status rc = DB_OK;

	if (nparams > 32)
		return DB_ERROR;
	for (size_t i = 0; i < nparams; i++) {
		values[i] = params[i].p;
		lengths[i] = (int)params[i].len;
		formats[i] = params[i].binary ? 1 : 0;
	}
	if (p->unnamed) {
		if (!pq.PQsendQueryParams(p->conn, sql, (int)nparams, NULL, values, lengths, formats, 0)) {
			set_err(p, "execute");
			p->failure = STORE_FAIL_DOWN;
			return gone(p) ? DB_GONE : DB_ERROR;
		}
		goto answer;
	}
	/* by the text's hash, not the pointer: two copies of one text (a build that does not merge string
	 * literals, ASan's) are one statement, under one name */
	hash = statement_hash(sql);
	for (idx = 0; idx < p->nprepared; idx++)
		if (p->prepared[idx] == hash)
			break;
	snprintf(name, sizeof name, "k%016llx", hash);
	if (idx == p->nprepared) {
		if (idx >= STMT_CACHE)
			return DB_ERROR;
		if (!pq.PQsendPrepare(p->conn, name, sql, (int)nparams, NULL)) {
			set_err(p, "prepare");
			p->failure = STORE_FAIL_DOWN;
			return gone(p) ? DB_GONE : DB_ERROR;
		}
		res = await(p, "prepare");
		if (!res)
			return p->failure == STORE_FAIL_TIMEOUT ? DB_ERROR : DB_GONE;
		st = pq.PQresultStatus(res);
		if (st != PGRES_COMMAND_OK) {
			set_err(p, "prepare");
			p->failure = classify(res);
			rc = not_kept(p, res) ? DB_UNNAMED : gone(p) ? DB_GONE : DB_ERROR;
			pq.PQclear(res);
			return rc;
		}
		pq.PQclear(res);
		p->prepared[p->nprepared++] = hash;
	}
	if (!pq.PQsendQueryPrepared(p->conn, name, (int)nparams, values, lengths, formats, 0)) {
		set_err(p, "execute");
		p->failure = STORE_FAIL_DOWN;
		return gone(p) ? DB_GONE : DB_ERROR;
	}
answer:
	res = await(p, "execute");
	if (!res)
		return p->failure == STORE_FAIL_TIMEOUT ? DB_ERROR : DB_GONE;
	st = pq.PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		if (rows && copy_rows(res, rows) < 0) {
			snprintf(p->err, sizeof p->err, "out of memory copying rows");
			rc = DB_ERROR;
		}
		track_tx(p, sql);
	} else {
		set_err(p, "execute");
		p->failure = gone(p) ? STORE_FAIL_DOWN : classify(res);
		rc = not_kept(p, res) ? DB_UNNAMED : gone(p) ? DB_GONE : DB_ERROR;
	}
	pq.PQclear(res);
	return rc;
}

static enum db_status pg_exec(void *conn, const char *sql, size_t nparams, const struct db_param *params,
			      struct db_rows *rows)
{
	struct pg *p = conn;
	enum db_status rc;

	if (rows)
		memset(rows, 0, sizeof *rows);
	if (strncmp(sql, "ROLLBACK", 8) != 0)
		p->failure = STORE_FAIL_NONE;
	if (gone(p)) {
		if (p->in_tx && strncmp(sql, "ROLLBACK", 8) == 0) {
			p->in_tx = 0; /* the server rolled back when the connection ended */
			return DB_OK;
		}
		/* inside a transaction the work so far is lost: the caller must start over */
		if (p->in_tx || connect_now(p) < 0)
			return p->failure == STORE_FAIL_TIMEOUT ? DB_ERROR : DB_GONE;
	}
	if (p->deadline > 0 && clock_monotonic() >= p->deadline) {
		snprintf(p->err, sizeof p->err, "no time left within the deadline");
		p->failure = STORE_FAIL_TIMEOUT;
		return DB_ERROR;
	}
	rc = run_once(p, sql, nparams, params, rows);
	if (rc == DB_UNNAMED) {
		/* outside a transaction the statement is sent again, unnamed; inside one the server has
		 * aborted the transaction: the caller starts it over (and its statements go unnamed) */
		if (rows)
			db_rows_free(rows);
		rc = p->in_tx ? DB_ERROR : run_once(p, sql, nparams, params, rows);
		if (rc == DB_UNNAMED)
			rc = DB_ERROR;
	}
	if (rc == DB_GONE && !p->in_tx && strncmp(sql, "COMMIT", 6) != 0 && strncmp(sql, "ROLLBACK", 8) != 0) {
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

	p->failure = STORE_FAIL_NONE;
	if (gone(p) && connect_now(p) < 0)
		return DB_GONE;
	if (!pq.PQsendQuery(p->conn, sql)) {
		set_err(p, "script");
		p->failure = STORE_FAIL_DOWN;
		return gone(p) ? DB_GONE : DB_ERROR;
	}
	res = await(p, "script");
	if (!res)
		return p->failure == STORE_FAIL_TIMEOUT ? DB_ERROR : DB_GONE;
	if (pq.PQresultStatus(res) != PGRES_COMMAND_OK && pq.PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(p, "script");
		p->failure = classify(res);
		rc = gone(p) ? DB_GONE : DB_ERROR;
	}
	pq.PQclear(res);
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

static void pg_set_deadline(void *conn, double deadline)
{
	((struct pg *)conn)->deadline = deadline;
}

static int pg_failure(void *conn)
{
	struct pg *p = conn;

	return p ? p->failure : STORE_FAIL_OTHER;
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
    .set_deadline = pg_set_deadline,
    .failure = pg_failure,
};
