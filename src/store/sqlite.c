/* sqlite.c: the embedded SQLite backend (WAL mode, one connection per process). */
#include "first.h"
#include "store/db.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <sqlite3.h>

#define STMT_CACHE   64
#define DEFAULT_WAIT 10.0 /* seconds a wait for a lock lasts without a deadline */

struct sq {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	size_t ncache;
	double deadline;   /* clock_monotonic() limit of every wait; 0: DEFAULT_WAIT per wait */
	double busy_limit; /* the limit of the wait in progress */
	int failure;	   /* enum store_failure of the last error */
	int reopen;	   /* a read-only failure: open the file again before the next statement */
	char path[4096];
	int lockfd; /* <file>.lock: writers queue on it in the kernel instead of polling SQLite */
	int locked;
	char err[256];
};

/* When a wait that starts now must end. */
static double wait_limit(const struct sq *s)
{
	return s->deadline > 0 ? s->deadline : clock_monotonic() + DEFAULT_WAIT;
}

/* SQLite's own busy timeout sleeps 1, 2, 5, ... up to 100 ms between tries, so a writer that just
 * missed the lock waits far longer than the lock is held (one commit, well under a millisecond).
 * Retry every 100-400 us instead, until the deadline: measured on the monotonic clock, so the time
 * spent outside the sleeps (and a sleep longer than asked) counts. */
static int busy_wait(void *arg, int tries)
{
	struct sq *s = arg;
	struct timespec ts;
	double now = clock_monotonic(), left;
	long us;

	if (tries == 0)
		s->busy_limit = wait_limit(s);
	left = s->busy_limit - now;
	if (left <= 0)
		return 0;
	us = 100 + (long)((unsigned)rand() % 300);
	if ((double)us > left * 1e6)
		us = (long)(left * 1e6) + 1;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

/* Opens (or opens again) the file of s->path: WAL mode, the busy handler. 0, or -1 with the reason in err. */
static int open_db(struct sq *s, struct buf *err)
{
	char *msg = NULL;

	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		(void)!buf_printf(err, "cannot open SQLite file %s: %s", s->path,
				  s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_handler(s->db, busy_wait, s);
	/* WAL: readers never block the writer; synchronous=FULL: an answered event survives power loss */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL, NULL,
			 &msg) != SQLITE_OK) {
		(void)!buf_printf(err, "cannot set up SQLite file %s: %s", s->path, msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	return 0;
fail:
	sqlite3_close(s->db);
	s->db = NULL;
	return -1;
}

static void close_db(struct sq *s)
{
	for (size_t i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	s->ncache = 0;
	sqlite3_close(s->db);
	s->db = NULL;
}

static int sq_open(const char *uri, void **conn, struct buf *err)
{
	struct sq *s;
	const char *path = uri + (strncmp(uri, "sqlite:", 7) == 0 ? 7 : 0);

	s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->lockfd = -1;
	if (snprintf(s->path, sizeof s->path, "%s", path) >= (int)sizeof s->path) {
		(void)!buf_printf(err, "SQLite file name too long");
		free(s);
		return -1;
	}
	if (open_db(s, err) < 0) {
		free(s);
		return -1;
	}
	srand((unsigned)getpid() ^ (unsigned)time(NULL)); /* responders must not retry in step */
	{
		char lockpath[4096 + 8];
		snprintf(lockpath, sizeof lockpath, "%s.lock", path);
		s->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		/* as SQLite does for -wal and -shm: a lock file root creates (kancactl) belongs to the file's
		 * owner, or kanca's own user could never open it */
		if (s->lockfd >= 0 && geteuid() == 0) {
			struct stat db, lk;
			if (stat(path, &db) == 0 && fstat(s->lockfd, &lk) == 0 &&
			    (lk.st_uid != db.st_uid || lk.st_gid != db.st_gid) &&
			    fchown(s->lockfd, db.st_uid, db.st_gid) < 0)
				log_warn("%s: cannot give it to the database's owner: %s", lockpath, strerror(errno));
		}
		if (s->lockfd < 0)
			log_warn("no writer queue (%s.lock: %s); writers will poll for SQLite's lock", path,
				 strerror(errno));
	}
	*conn = s;
	return 0;
}

/* After a read-only failure (a read-only file, directory or -shm that an operator may fix while kanca
 * runs), the file is opened again before the next statement outside a transaction: SQLite would keep
 * using what it opened read-only. 0, or -1 (still not writable: the statement fails as before). */
static int reopen_if_needed(struct sq *s, const char *sql)
{
	struct buf err;
	int rc;

	if (!s->reopen || (s->db && !sqlite3_get_autocommit(s->db)) || strncmp(sql, "COMMIT", 6) == 0 ||
	    strncmp(sql, "ROLLBACK", 8) == 0)
		return s->db ? 0 : -1;
	if (s->db)
		close_db(s);
	buf_init(&err, 512);
	rc = open_db(s, &err);
	if (rc < 0) {
		snprintf(s->err, sizeof s->err, "read-only: %s", buf_str(&err));
		s->failure = STORE_FAIL_READONLY;
	} else {
		s->reopen = 0;
	}
	buf_free(&err);
	return rc;
}

static void sq_close(void *conn)
{
	struct sq *s = conn;

	if (!s)
		return;
	close_db(s);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s);
}

static void on_alarm(int sig)
{
	(void)sig; /* only to interrupt flock() */
}

/* flock(LOCK_EX) that gives up at limit (clock_monotonic()): the blocking call is cut by ITIMER_REAL's
 * SIGALRM (a handler without SA_RESTART, so flock returns EINTR). 0 locked, -1 not within the limit. */
static int flock_until(int fd, double limit)
{
	struct sigaction sa, old;
	int rc;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	for (;;) {
		double left = limit - clock_monotonic();
		struct itimerval it = {{0, 0}, {0, 0}};

		if (left <= 0) {
			rc = -1;
			break;
		}
		it.it_value.tv_sec = (time_t)left;
		it.it_value.tv_usec = (suseconds_t)((left - (double)(time_t)left) * 1e6) + 1;
		setitimer(ITIMER_REAL, &it, NULL);
		rc = flock(fd, LOCK_EX);
		memset(&it, 0, sizeof it);
		setitimer(ITIMER_REAL, &it, NULL);
		if (rc == 0 || errno != EINTR)
			break;
	}
	sigaction(SIGALRM, &old, NULL);
	return rc == 0 ? 0 : -1;
}

/* Write transactions of all processes on this host take an exclusive flock first, so a writer that
 * finds the database busy sleeps in the kernel until its turn instead of retrying (which costs CPU
 * and, with SQLite's own back-off, up to 100 ms per miss). Writers on other hosts (network file
 * systems) or without the lock file still meet SQLite's lock and the busy handler. The wait is
 * bounded like every other (the deadline). 0, or -1 when the queue did not move in time. */
static int writer_queue(struct sq *s, int take)
{
	if (s->lockfd < 0)
		return 0;
	if (take && !s->locked) {
		if (flock_until(s->lockfd, wait_limit(s)) < 0) {
			snprintf(s->err, sizeof s->err, "the writer queue (%s) was not free in time", "<file>.lock");
			s->failure = STORE_FAIL_LOCKED;
			return -1;
		}
		s->locked = 1;
	} else if (!take && s->locked) {
		flock(s->lockfd, LOCK_UN);
		s->locked = 0;
	}
	return 0;
}

/* The cause of SQLite's last error. */
static int classify(struct sq *s, int rc)
{
	int sys = sqlite3_system_errno(s->db);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_FAIL_LOCKED;
	case SQLITE_FULL:
		return STORE_FAIL_FULL;
	case SQLITE_READONLY:
		return STORE_FAIL_READONLY;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		if (sys == ENOSPC || sys == EDQUOT)
			return STORE_FAIL_FULL;
		if (sys == EROFS || sys == EACCES || sys == EPERM || (rc & 0xff) != SQLITE_IOERR)
			return STORE_FAIL_READONLY;
		return STORE_FAIL_OTHER;
	default:
		return STORE_FAIL_OTHER;
	}
}

/* Records the last error (a ROLLBACK's own failure never hides the error that caused it). */
static void set_error(struct sq *s, const char *sql, int rc)
{
	if (strncmp(sql, "ROLLBACK", 8) == 0 && s->failure)
		return;
	s->failure = classify(s, rc);
	if (s->failure == STORE_FAIL_READONLY)
		s->reopen = 1;
	if (s->failure == STORE_FAIL_FULL)
		snprintf(s->err, sizeof s->err, "disk full: %s", sqlite3_errmsg(s->db));
	else if (s->failure == STORE_FAIL_READONLY)
		snprintf(s->err, sizeof s->err, "read-only: %s%s%s%s", sqlite3_errmsg(s->db),
			 sqlite3_system_errno(s->db) ? " (" : "",
			 sqlite3_system_errno(s->db) ? strerror(sqlite3_system_errno(s->db)) : "",
			 sqlite3_system_errno(s->db) ? ")" : "");
	else if (s->failure == STORE_FAIL_LOCKED)
		snprintf(s->err, sizeof s->err, "locked: %s (another process holds the write lock)",
			 sqlite3_errmsg(s->db));
	else
		snprintf(s->err, sizeof s->err, "%s", sqlite3_errmsg(s->db));
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
	int rc;

	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql)
			return s->cache[i].st;
	tr = translate(sql);
	if (!tr)
		return NULL;
	rc = sqlite3_prepare_v2(s->db, tr, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		set_error(s, sql, sqlite3_extended_errcode(s->db));
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
	sqlite3_stmt *st;
	enum db_status rc = DB_ERROR;
	int step, ncols;

	if (rows)
		memset(rows, 0, sizeof *rows);
	if (strncmp(sql, "ROLLBACK", 8) != 0)
		s->failure = STORE_FAIL_NONE;
	if (reopen_if_needed(s, sql) < 0)
		return DB_ERROR;
	st = prepare(s, sql);
	if (!st)
		return DB_ERROR;
	if (strncmp(sql, "BEGIN IMMEDIATE", 15) == 0 && writer_queue(s, 1) < 0)
		goto out;
	for (size_t i = 0; i < nparams; i++) {
		int b;
		if (!params[i].p)
			b = sqlite3_bind_null(st, (int)i + 1);
		else if (params[i].binary)
			b = sqlite3_bind_blob64(st, (int)i + 1, params[i].p, params[i].len, SQLITE_STATIC);
		else
			b = sqlite3_bind_text64(st, (int)i + 1, params[i].p, params[i].len, SQLITE_STATIC, SQLITE_UTF8);
		if (b != SQLITE_OK) {
			set_error(s, sql, b);
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
		set_error(s, sql, sqlite3_extended_errcode(s->db));
		goto out;
	}
	rc = DB_OK;
out:
	if (rc != DB_OK && rows)
		db_rows_free(rows);
	/* release after COMMIT/ROLLBACK, and after a BEGIN that failed */
	if (strncmp(sql, "COMMIT", 6) == 0 || strncmp(sql, "ROLLBACK", 8) == 0 ||
	    (rc != DB_OK && strncmp(sql, "BEGIN", 5) == 0))
		(void)writer_queue(s, 0);
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

	if (reopen_if_needed(s, sql) < 0)
		return DB_ERROR;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		set_error(s, sql, sqlite3_extended_errcode(s->db));
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

static void sq_set_deadline(void *conn, double deadline)
{
	((struct sq *)conn)->deadline = deadline;
}

static int sq_failure(void *conn)
{
	struct sq *s = conn;

	return s ? s->failure : STORE_FAIL_OTHER;
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
    .set_deadline = sq_set_deadline,
    .failure = sq_failure,
};
