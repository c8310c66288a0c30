/* sqlite.c: the embedded SQLite backend (WAL mode, one connection per process). */
#include "first.h"
#include "store/db.h"
#include "buf.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#define STMT_CACHE	64
#define BUSY_TIMEOUT_US (10 * 1000 * 1000)

struct sq {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	size_t ncache;
	long long busy_waited;
	int lockfd; /* <file>.lock: writers queue on it in the kernel instead of polling SQLite */
	int locked;
	char err[256];
};

/* SQLite's own busy timeout sleeps 1, 2, 5, ... up to 100 ms between tries, so a writer that just
 * missed the lock waits far longer than the lock is held (one commit, well under a millisecond).
 * Retry every 100-400 us instead, for up to 10 s in all. */
static int busy_wait(void *arg, int tries)
{
	struct timespec ts;
	long long *waited = arg;
	long us;

	if (tries == 0)
		*waited = 0;
	if (*waited >= BUSY_TIMEOUT_US)
		return 0;
	us = 100 + (long)((unsigned)rand() % 300);
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	*waited += us;
	return 1;
}

static int sq_open(const char *uri, void **conn, struct buf *err)
{
	struct sq *s;
	const char *path = uri + (strncmp(uri, "sqlite:", 7) == 0 ? 7 : 0);
	char *msg = NULL;

	s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->lockfd = -1;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		(void)!buf_printf(err, "cannot open SQLite file %s: %s", path,
				  s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	srand((unsigned)getpid() ^ (unsigned)time(NULL)); /* responders must not retry in step */
	{
		char lockpath[4096];
		snprintf(lockpath, sizeof lockpath, "%s.lock", path);
		s->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (s->lockfd < 0)
			log_warn("no writer queue (%s.lock: %s); writers will poll for SQLite's lock", path,
				 strerror(errno));
	}
	sqlite3_busy_handler(s->db, busy_wait, &s->busy_waited);
	/* WAL: readers never block the writer; synchronous=FULL: an answered event survives power loss */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL, NULL,
			 &msg) != SQLITE_OK) {
		(void)!buf_printf(err, "cannot set up SQLite file %s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	*conn = s;
	return 0;
fail:
	sqlite3_close(s->db);
	free(s);
	return -1;
}

static void sq_close(void *conn)
{
	struct sq *s = conn;

	if (!s)
		return;
	for (size_t i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	sqlite3_close(s->db);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s);
}

/* Write transactions of all processes on this host take an exclusive flock first, so a writer that
 * finds the database busy sleeps in the kernel until its turn instead of retrying (which costs CPU
 * and, with SQLite's own back-off, up to 100 ms per miss). Writers on other hosts (network file
 * systems) or without the lock file still meet SQLite's lock and the busy handler. */
static void writer_queue(struct sq *s, const char *sql)
{
	if (s->lockfd < 0)
		return;
	if (!s->locked && strncmp(sql, "BEGIN IMMEDIATE", 15) == 0) {
		while (flock(s->lockfd, LOCK_EX) < 0 && errno == EINTR)
			;
		s->locked = 1;
	} else if (s->locked && (strncmp(sql, "COMMIT", 6) == 0 || strncmp(sql, "ROLLBACK", 8) == 0)) {
		flock(s->lockfd, LOCK_UN);
		s->locked = 0;
	}
}

/* "$3" -> "?3", outside string literals. */
static char *translate(const char *sql)
{
	size_t n = strlen(sql);
	char *out = malloc(n + 1);
	int quoted = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i <= n; i++) {
		char c = sql[i];
		if (c == '\'')
			quoted = !quoted;
		out[i] = (!quoted && c == '$' && sql[i + 1] >= '0' && sql[i + 1] <= '9') ? '?' : c;
	}
	return out;
}

static sqlite3_stmt *prepare(struct sq *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *tr;

	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql)
			return s->cache[i].st;
	tr = translate(sql);
	if (!tr)
		return NULL;
	if (sqlite3_prepare_v2(s->db, tr, -1, &st, NULL) != SQLITE_OK) {
		snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
		free(tr);
		return NULL;
	}
	free(tr);
	if (s->ncache < STMT_CACHE) {
		s->cache[s->ncache].sql = sql;
		s->cache[s->ncache].st = st;
		s->ncache++;
	}
	return st;
}

static int is_cached(struct sq *s, sqlite3_stmt *st)
{
	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].st == st)
			return 1;
	return 0;
}

static enum db_status sq_exec(void *conn, const char *sql, size_t nparams, const struct db_param *params,
			      struct db_rows *rows)
{
	struct sq *s = conn;
	sqlite3_stmt *st = prepare(s, sql);
	enum db_status rc = DB_ERROR;
	int step, ncols;

	if (rows)
		memset(rows, 0, sizeof *rows);
	if (!st)
		return DB_ERROR;
	if (strncmp(sql, "BEGIN IMMEDIATE", 15) == 0)
		writer_queue(s, sql);
	for (size_t i = 0; i < nparams; i++) {
		int b;
		if (!params[i].p)
			b = sqlite3_bind_null(st, (int)i + 1);
		else if (params[i].binary)
			b = sqlite3_bind_blob64(st, (int)i + 1, params[i].p, params[i].len, SQLITE_STATIC);
		else
			b = sqlite3_bind_text64(st, (int)i + 1, params[i].p, params[i].len, SQLITE_STATIC, SQLITE_UTF8);
		if (b != SQLITE_OK) {
			snprintf(s->err, sizeof s->err, "bind: %s", sqlite3_errmsg(s->db));
			goto out;
		}
	}
	ncols = sqlite3_column_count(st);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		char *cells[32];
		size_t lens[32];
		int c;

		if (!rows)
			continue;
		if (ncols > 32)
			goto out;
		for (c = 0; c < ncols; c++) {
			int t = sqlite3_column_type(st, c);
			const void *p;
			int len;

			if (t == SQLITE_NULL) {
				cells[c] = NULL;
				lens[c] = 0;
				continue;
			}
			p = t == SQLITE_BLOB ? sqlite3_column_blob(st, c) : (const void *)sqlite3_column_text(st, c);
			len = sqlite3_column_bytes(st, c);
			cells[c] = malloc((size_t)len + 1);
			if (!cells[c])
				break;
			if (len)
				memcpy(cells[c], p, (size_t)len);
			cells[c][len] = '\0';
			lens[c] = (size_t)len;
		}
		if (c < ncols || db_rows_add(rows, (size_t)ncols, cells, lens) < 0) {
			for (int k = 0; k < c; k++)
				free(cells[k]);
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
		goto out;
	}
	rc = DB_OK;
out:
	if (rc != DB_OK && rows)
		db_rows_free(rows);
	/* release after COMMIT/ROLLBACK, and after a BEGIN that failed */
	if (strncmp(sql, "COMMIT", 6) == 0 || strncmp(sql, "ROLLBACK", 8) == 0 ||
	    (rc != DB_OK && strncmp(sql, "BEGIN", 5) == 0))
		writer_queue(s, "COMMIT");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!is_cached(s, st))
		sqlite3_finalize(st);
	return rc;
}

static enum db_status sq_script(void *conn, const char *sql)
{
	struct sq *s = conn;
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, sizeof s->err, "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return DB_ERROR;
	}
	return DB_OK;
}

static int sq_reconnect(void *conn)
{
	(void)conn;
	return 0; /* a file does not go away */
}

static const char *sq_error(void *conn)
{
	struct sq *s = conn;

	return s && s->err[0] ? s->err : "sqlite error";
}

const struct db_ops db_sqlite_ops = {
    .name = "sqlite",
    .dml_cte = 0,
    .begin_sql = "BEGIN IMMEDIATE",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .script = sq_script,
    .reconnect = sq_reconnect,
    .error = sq_error,
};
