/* intake.c: an authentic delivery stored exactly once (with its audit row), and the audit log. */
#include "first.h"
#include "store/store_int.h"
#include "buf.h"
#include "log.h"
#include "verify.h"

#include <stdlib.h>
#include <time.h>

int store_audit(struct store *s, long long at, const char *action, const char *provider, const char *account,
		long long source_id, long long event_id, int status, const char *reason, const char *remote_addr)
{
	static const char sql[] =
	    "INSERT INTO audit_log (at, action, provider, account, source_id, event_id, status_code, reason, "
	    "remote_addr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
	struct db_param p[9];
	struct num n1, n2, n3, n4;
	char r[KANCA_REASON_MAX + 1];

	snprintf(r, sizeof r, "%s", reason ? reason : "");
	p[0] = PN(&n1, at);
	p[1] = P(action);
	p[2] = P(provider);
	p[3] = P(account);
	p[4] = PZ(&n2, source_id);
	p[5] = PZ(&n3, event_id);
	p[6] = PZ(&n4, status);
	p[7] = P(reason ? r : NULL);
	p[8] = P(remote_addr && *remote_addr ? remote_addr : NULL);
	return store_exec(s, sql, 9, p, NULL) == DB_OK ? 0 : -1;
}

/* Parameters of an event insert: $1..$9, $12 (status), $13 (decoded); $10, $11 are set by the caller. */
static void event_params(const struct store_event *ev, struct db_param *p, struct num *n)
{
	p[0] = PN(&n[0], ev->source_id);
	p[1] = P(ev->key);
	p[2] = P(ev->type);
	p[3].p = ev->body ? ev->body : "";
	p[3].len = ev->body_len;
	p[3].binary = 1;
	p[4] = P(ev->headers_json);
	p[5] = PN(&n[1], ev->received_at);
	p[6] = P(ev->verification);
	p[7] = PZ(&n[2], ev->secret_id);
	p[8] = P(ev->remote_addr && *ev->remote_addr ? ev->remote_addr : NULL);
	p[11] = P(ev->status ? ev->status : "received");
	p[12] = P(ev->decoded);
}

int store_audit_counted(struct store *s, long long at, const char *action, const char *provider, const char *account,
			long long source_id, int status, const char *reason, const char *remote_addr)
{
	static const char sql[] =
	    "INSERT INTO audit_log (at, action, provider, account, source_id, status_code, reason, remote_addr, count, "
	    "bucket) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9) "
	    "ON CONFLICT (bucket, action, provider, account, status_code, reason) WHERE bucket IS NOT NULL "
	    "DO UPDATE SET count = audit_log.count + 1, at = excluded.at, remote_addr = excluded.remote_addr, "
	    "source_id = coalesce(excluded.source_id, audit_log.source_id)";
	struct db_param p[9];
	struct num n1, n2, n3, n4;
	char r[KANCA_REASON_MAX + 1];

	snprintf(r, sizeof r, "%s", reason ? reason : "");
	p[0] = PN(&n1, at);
	p[1] = P(action);
	p[2] = P(provider ? provider : "");
	p[3] = P(account ? account : "");
	p[4] = PZ(&n2, source_id);
	p[5] = PN(&n3, status);
	p[6] = P(r);
	p[7] = P(remote_addr && *remote_addr ? remote_addr : NULL);
	p[8] = PN(&n4, at / 60);
	return store_exec(s, sql, 9, p, NULL) == DB_OK ? 0 : -1;
}

/* The first delivery of a duplicate: its id, the answer kept for it, and whether its body is this one's. */
static const char sql_first[] =
    "SELECT id, response, CASE WHEN body = $3 THEN 1 ELSE 0 END FROM events WHERE source_id = $1 AND "
    "idempotency_key = $2";

static enum db_status load_first(struct store *s, const struct db_param *p, long long *event_id, int *duplicate,
				 struct buf *answer)
{
	struct db_rows rows;
	struct db_param q[3] = {p[0], p[1], p[3]}; /* source, key, body */
	enum db_status rc = store_exec(s, sql_first, 3, q, &rows);

	if (rc != DB_OK)
		return rc;
	*event_id = store_cell_ll(&rows, 0, 0);
	*duplicate = store_cell_ll(&rows, 0, 2) ? 1 : 2;
	if (db_cell(&rows, 0, 1) && buf_append_str(answer, db_cell(&rows, 0, 1)) < 0)
		buf_reset(answer);
	db_rows_free(&rows);
	return DB_OK;
}

/* A sender reused a key for a different body: the first answer goes out again and the new body is not
 * stored, so this row (with the new body's SHA-256) is all that shows it. */
static enum db_status audit_conflict(struct store *s, const struct store_event *ev, long long first_id)
{
	unsigned char d[VERIFY_SHA256_LEN];
	char hex[2 * VERIFY_SHA256_LEN + 1], reason[KANCA_REASON_MAX + 1];

	if (verify_sha256(ev->body ? ev->body : "", ev->body_len, d) < 0)
		return DB_ERROR;
	verify_hex_encode(d, sizeof d, hex);
	snprintf(reason, sizeof reason, "same key, different body: sha256 %s", hex);
	log_warn("a delivery reused the key of event %lld with a different body (sha256 %s): answered as a duplicate, "
		 "not stored",
		 first_id, hex);
	return store_audit(s, ev->received_at, "conflict", ev->provider, ev->account, ev->source_id, first_id, 200,
			   reason, ev->remote_addr) == 0
		   ? DB_OK
		   : DB_ERROR;
}

#define EVENT_INSERT                                                                                                   \
	"INSERT INTO events (source_id, idempotency_key, event_type, body, headers, received_at, verification, "       \
	"secret_id, status, decoded, public_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $12, $13, $14) "               \
	"ON CONFLICT (source_id, idempotency_key) DO NOTHING RETURNING id"

/* A new event's public id: "evt_", the wall clock in milliseconds (12 hex digits) and 80 random bits
 * (20 hex digits), unique beyond this store (hosts, store migrations, purges), so a destination that drops
 * repeats by webhook-id never drops a new event. The time first (ULID-style) keeps the index on it
 * growing at its right edge: random keys land on a random page of the index per insert (a read, and a
 * write of that page at the commit), which cost SQLite a third of its hot path (measured). */
static int new_public_id(char out[STORE_PUBLIC_ID_LEN + 1])
{
	unsigned char r[10];
	struct timespec ts;
	unsigned long long ms;

	if (verify_random(r, sizeof r) < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)(ts.tv_nsec / 1000000);
	snprintf(out, STORE_PUBLIC_ID_LEN + 1, "evt_%012llx", ms & 0xffffffffffffULL);
	verify_hex_encode(r, sizeof r, out + 16);
	return 0;
}

/* The event and its 'received' audit row (one statement where the backend allows, else two), or for a
 * duplicate nothing but the first delivery's id and kept answer. Runs in the caller's transaction,
 * or alone (autocommit) when the caller has none. */
static enum db_status insert_event(struct store *s, const struct store_event *ev, long long *event_id, int *duplicate,
				   struct buf *answer)
{
	static const char sql_cte[] =
	    "WITH e AS (" EVENT_INSERT "), a AS (INSERT INTO audit_log (at, action, provider, account, source_id, "
	    "event_id, status_code, remote_addr) SELECT $6, 'received', $10, $11, $1, id, 200, $9 FROM e) "
	    "SELECT id FROM e";
	static const char sql_insert[] = EVENT_INSERT;
	struct db_param p[14];
	struct num n[3];
	struct db_rows rows;
	enum db_status rc;
	char pub[STORE_PUBLIC_ID_LEN + 1];

	if (new_public_id(pub) < 0)
		return DB_ERROR;
	event_params(ev, p, n);
	p[9] = P(ev->provider);
	p[10] = P(ev->account);
	p[13] = P(pub);
	rc = s->ops->dml_cte ? store_exec(s, sql_cte, 14, p, &rows) : store_exec(s, sql_insert, 14, p, &rows);
	if (rc != DB_OK)
		return rc;
	*duplicate = rows.nrows == 0;
	*event_id = *duplicate ? 0 : store_cell_ll(&rows, 0, 0);
	db_rows_free(&rows);
	if (*duplicate) { /* rare: a second round trip only for duplicates */
		rc = load_first(s, p, event_id, duplicate, answer);
		if (rc == DB_OK && *duplicate == 2)
			rc = audit_conflict(s, ev, *event_id);
		return rc;
	}
	if (!s->ops->dml_cte && store_audit(s, ev->received_at, "received", ev->provider, ev->account, ev->source_id,
					    *event_id, 200, NULL, ev->remote_addr) < 0)
		return DB_ERROR;
	return DB_OK;
}

static enum db_status receive_tx(struct store *s, const struct store_event *ev, store_apply_fn apply, void *arg,
				 long long *event_id, int *duplicate, struct buf *answer)
{
	static const char sql_answer[] = "UPDATE events SET response = $2 WHERE id = $1";
	struct num nid;
	enum db_status rc;

	rc = s->batch ? DB_OK : store_exec(s, s->ops->begin_sql, 0, NULL, NULL);
	if (rc != DB_OK)
		return rc;
	rc = insert_event(s, ev, event_id, duplicate, answer);
	if (rc != DB_OK)
		goto fail;
	if (!*duplicate && apply) {
		if (apply(s, *event_id, arg, answer) < 0) {
			rc = DB_ERROR;
			goto fail;
		}
		if (answer->len) {
			struct db_param q[2] = {PN(&nid, *event_id), P(buf_str(answer))};
			rc = store_exec(s, sql_answer, 2, q, NULL);
			if (rc != DB_OK)
				goto fail;
		}
	}
	if (s->batch)
		return DB_OK; /* store_batch_commit commits */
	rc = store_exec(s, "COMMIT", 0, NULL, NULL);
	if (rc != DB_OK)
		goto fail;
	return DB_OK;
fail:
	if (!s->batch) /* a batch is rolled back whole by store_batch_abort */
		(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
	return rc;
}

int store_batch_begin(struct store *s)
{
	if (s->batch || store_exec(s, s->ops->begin_sql, 0, NULL, NULL) != DB_OK)
		return -1;
	s->batch = 1;
	return 0;
}

int store_batch_commit(struct store *s)
{
	enum db_status rc = store_exec(s, "COMMIT", 0, NULL, NULL);

	if (rc != DB_OK)
		(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
	s->batch = 0;
	return rc == DB_OK ? 0 : -1;
}

void store_batch_abort(struct store *s)
{
	(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
	s->batch = 0;
}

int store_receive(struct store *s, const struct store_event *ev, store_apply_fn apply, void *arg, long long *event_id,
		  int *duplicate, struct buf *answer)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		enum db_status rc;

		buf_reset(answer);
		if (s->batch)
			rc = receive_tx(s, ev, apply, arg, event_id, duplicate, answer);
		else if (!apply && s->ops->dml_cte)
			rc = insert_event(s, ev, event_id, duplicate, answer); /* one statement, autocommit */
		else
			rc = receive_tx(s, ev, apply, arg, event_id, duplicate, answer);
		if (rc == DB_OK)
			return 0;
		if (rc != DB_GONE || s->batch || s->ops->reconnect(s->conn) < 0)
			break;
		log_info("store connection was lost; retrying the delivery once on a new connection");
	}
	buf_reset(answer);
	return -1;
}
