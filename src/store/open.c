/* store.c: kanca's storage logic, written once over the two SQL backends of store_db.h. */
#include "first.h"
#include "store/store.h"
#include "buf.h"
#include "log.h"
#include "store/migrations.h"
#include "store/db.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store {
	const struct db_ops *ops;
	void *conn;
	const struct migration *migrations;
};

struct store_rows {
	struct db_rows rows;
};

/* Integer parameters travel as text. */
struct num {
	char s[24];
};

static struct db_param P(const char *s)
{
	struct db_param p = {s, s ? strlen(s) : 0, 0};
	return p;
}

static struct db_param PN(struct num *n, long long v)
{
	snprintf(n->s, sizeof n->s, "%lld", v);
	return P(n->s);
}

/* NULL for 0 (optional foreign keys) */
static struct db_param PZ(struct num *n, long long v)
{
	return v ? PN(n, v) : P(NULL);
}

static int listing(struct store *s, const char *sql, size_t n, const struct db_param *p, struct store_rows **out);
static int change_one(struct store *s, const char *sql, size_t n, const struct db_param *p);

static long long cell_ll(const struct db_rows *r, size_t row, size_t col)
{
	const char *c = db_cell(r, row, col);
	return c ? strtoll(c, NULL, 10) : 0;
}

static enum db_status exec(struct store *s, const char *sql, size_t n, const struct db_param *p,
			   struct db_rows *rows)
{
	enum db_status rc = s->ops->exec(s->conn, sql, n, p, rows);

	if (rc != DB_OK)
		log_error("store (%s): %s", s->ops->name, s->ops->error(s->conn));
	return rc;
}

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

int store_ping(struct store *s)
{
	static const char sql[] = "SELECT 1";
	struct db_rows rows;
	int ok;

	if (exec(s, sql, 0, NULL, &rows) != DB_OK)
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
	if (exec(s, sql, 0, NULL, &rows) != DB_OK)
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
	static const char sql_has[] =
		"SELECT count(*) FROM kanca_migrations";
	static const char sql_max[] = "SELECT coalesce(max(version), 0) FROM kanca_migrations";
	struct db_rows rows;

	*latest = latest_version(s);
	*current = 0;
	/* a store without the table has no schema yet; the probe's error is not worth a log line */
	if (s->ops->exec(s->conn, sql_has, 0, NULL, NULL) != DB_OK)
		return store_ping(s) == 0 ? 0 : -1;
	if (exec(s, sql_max, 0, NULL, &rows) != DB_OK)
		return -1;
	*current = (int)cell_ll(&rows, 0, 0);
	db_rows_free(&rows);
	return 0;
}

int store_migrate(struct store *s, int *applied, struct buf *err)
{
	static const char create[] =
		"CREATE TABLE IF NOT EXISTS kanca_migrations (version integer PRIMARY KEY, name text NOT NULL, "
		"applied_at bigint NOT NULL)";
	static const char record[] =
		"INSERT INTO kanca_migrations (version, name, applied_at) VALUES ($1, $2, $3)";
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
	for (const struct migration *m = s->migrations; m->version; m++) {
		struct db_param p[3];
		if (m->version <= current)
			continue;
		p[0] = PN(&n1, m->version);
		p[1] = P(m->name);
		p[2] = PN(&n2, clock_now());
		if (exec(s, s->ops->begin_sql, 0, NULL, NULL) != DB_OK || s->ops->script(s->conn, m->sql) != DB_OK ||
		    exec(s, record, 3, p, NULL) != DB_OK || exec(s, "COMMIT", 0, NULL, NULL) != DB_OK) {
			(void)!buf_printf(err, "migration %s failed: %s", m->name, store_error(s));
			(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
			return -1;
		}
		(*applied)++;
	}
	return 0;
}

int store_source_get(struct store *s, const char *provider, const char *account, long long now,
		     struct store_source *out)
{
	static const char sql[] =
		"SELECT s.id, s.enabled, s.options, k.id, k.value, k.expires_at FROM sources s "
		"LEFT JOIN secrets k ON k.source_id = s.id AND (k.expires_at IS NULL OR k.expires_at > $3) "
		"WHERE s.provider = $1 AND s.account = $2 ORDER BY k.id DESC";
	struct db_rows rows;
	struct db_param p[3];
	struct num n;
	int rc = -1;

	memset(out, 0, sizeof *out);
	p[0] = P(provider);
	p[1] = P(account);
	p[2] = PN(&n, now);
	if (exec(s, sql, 3, p, &rows) != DB_OK)
		return -1;
	if (rows.nrows == 0) {
		rc = 0;
		goto out;
	}
	out->id = cell_ll(&rows, 0, 0);
	snprintf(out->provider, sizeof out->provider, "%s", provider);
	snprintf(out->account, sizeof out->account, "%s", account);
	out->enabled = cell_ll(&rows, 0, 1) != 0;
	out->options = strdup(db_cell(&rows, 0, 2) ? db_cell(&rows, 0, 2) : "");
	if (!out->options)
		goto out;
	for (size_t r = 0; r < rows.nrows && out->nsecrets < KANCA_SECRETS_MAX; r++) {
		struct store_secret *k = &out->secrets[out->nsecrets];
		const char *v = db_cell(&rows, r, 4);
		if (!db_cell(&rows, r, 3) || !v)
			continue;
		k->id = cell_ll(&rows, r, 3);
		k->len = rows.lens[r * rows.ncols + 4];
		k->value = malloc(k->len + 1);
		if (!k->value)
			goto out;
		memcpy(k->value, v, k->len + 1);
		k->expires_at = cell_ll(&rows, r, 5);
		out->nsecrets++;
	}
	rc = 1;
out:
	/* secrets were copied; wipe the row copies */
	for (size_t r = 0; r < rows.nrows; r++) {
		char *v = rows.cells[r * rows.ncols + 4];
		if (v)
			memset(v, 0, rows.lens[r * rows.ncols + 4]);
	}
	db_rows_free(&rows);
	if (rc < 0)
		store_source_free(out);
	return rc;
}

void store_source_free(struct store_source *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->nsecrets; i++) {
		if (src->secrets[i].value)
			memset(src->secrets[i].value, 0, src->secrets[i].len);
		free(src->secrets[i].value);
	}
	free(src->options);
	memset(src, 0, sizeof *src);
}

int store_source_add(struct store *s, const char *provider, const char *account, const char *options,
		     long long now, long long *id)
{
	static const char sql[] =
		"INSERT INTO sources (provider, account, options, created_at) VALUES ($1, $2, $3, $4) "
		"ON CONFLICT (provider, account) DO NOTHING RETURNING id";
	struct db_rows rows;
	struct db_param p[4];
	struct num n;
	int rc;

	p[0] = P(provider);
	p[1] = P(account);
	p[2] = P(options ? options : "");
	p[3] = PN(&n, now);
	if (exec(s, sql, 4, p, &rows) != DB_OK)
		return -1;
	rc = rows.nrows == 1 ? 0 : 1;
	if (rc == 0)
		*id = cell_ll(&rows, 0, 0);
	db_rows_free(&rows);
	return rc;
}

int store_source_set_enabled(struct store *s, const char *provider, const char *account, int enabled)
{
	static const char sql[] = "UPDATE sources SET enabled = $3 WHERE provider = $1 AND account = $2 RETURNING id";
	struct db_param p[3] = {P(provider), P(account), P(enabled ? "1" : "0")};

	return change_one(s, sql, 3, p);
}

int store_secret_add(struct store *s, long long source_id, const char *value, long long expires_at,
		     long long now, long long *id)
{
	static const char sql[] =
		"INSERT INTO secrets (source_id, value, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id";
	struct db_rows rows;
	struct db_param p[4];
	struct num n1, n2, n3;
	int rc = -1;

	p[0] = PN(&n1, source_id);
	p[1] = P(value);
	p[2] = PN(&n2, now);
	p[3] = PZ(&n3, expires_at);
	if (exec(s, sql, 4, p, &rows) != DB_OK)
		return -1;
	if (rows.nrows == 1) {
		*id = cell_ll(&rows, 0, 0);
		rc = 0;
	}
	db_rows_free(&rows);
	return rc;
}

int store_secret_list(struct store *s, long long source_id, struct store_rows **out)
{
	static const char sql[] =
		"SELECT id, created_at, expires_at FROM secrets WHERE source_id = $1 ORDER BY id DESC";
	struct num n;
	struct db_param p[1] = {PN(&n, source_id)};

	return listing(s, sql, 1, p, out);
}

/* Runs a one-row change returning id: 1 changed, 0 no row, -1 error. */
static int change_one(struct store *s, const char *sql, size_t n, const struct db_param *p)
{
	struct db_rows rows;
	int rc;

	if (exec(s, sql, n, p, &rows) != DB_OK)
		return -1;
	rc = rows.nrows > 0;
	db_rows_free(&rows);
	return rc;
}

int store_secret_remove(struct store *s, long long source_id, long long secret_id)
{
	static const char sql[] = "DELETE FROM secrets WHERE source_id = $1 AND id = $2 RETURNING id";
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, source_id), PN(&n2, secret_id)};

	return change_one(s, sql, 2, p);
}

int store_secret_expire(struct store *s, long long source_id, long long secret_id, long long expires_at)
{
	static const char sql[] = "UPDATE secrets SET expires_at = $3 WHERE source_id = $1 AND id = $2 RETURNING id";
	struct num n1, n2, n3;
	struct db_param p[3] = {PN(&n1, source_id), PN(&n2, secret_id), PZ(&n3, expires_at)};

	return change_one(s, sql, 3, p);
}

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
	return exec(s, sql, 9, p, NULL) == DB_OK ? 0 : -1;
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

/* The first delivery of a duplicate: its id and the answer kept for it. */
static const char sql_first[] = "SELECT id, response FROM events WHERE source_id = $1 AND idempotency_key = $2";

static enum db_status load_first(struct store *s, const struct db_param *p, long long *event_id, struct buf *answer)
{
	struct db_rows rows;
	enum db_status rc = exec(s, sql_first, 2, p, &rows);

	if (rc != DB_OK)
		return rc;
	*event_id = cell_ll(&rows, 0, 0);
	if (db_cell(&rows, 0, 1) && buf_append_str(answer, db_cell(&rows, 0, 1)) < 0)
		buf_reset(answer);
	db_rows_free(&rows);
	return DB_OK;
}

#define EVENT_INSERT \
	"INSERT INTO events (source_id, idempotency_key, event_type, body, headers, received_at, verification, " \
	"secret_id, status, decoded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $12, $13) " \
	"ON CONFLICT (source_id, idempotency_key) DO NOTHING RETURNING id"

/* The event and its 'received' audit row (one statement where the backend allows, else two), or for a
 * duplicate nothing but the first delivery's id and kept answer. Runs in the caller's transaction,
 * or alone (autocommit) when the caller has none. */
static enum db_status insert_event(struct store *s, const struct store_event *ev, long long *event_id,
				   int *duplicate, struct buf *answer)
{
	static const char sql_cte[] =
		"WITH e AS (" EVENT_INSERT "), a AS (INSERT INTO audit_log (at, action, provider, account, source_id, "
		"event_id, status_code, remote_addr) SELECT $6, 'received', $10, $11, $1, id, 200, $9 FROM e) "
		"SELECT id FROM e";
	static const char sql_insert[] = EVENT_INSERT;
	struct db_param p[13];
	struct num n[3];
	struct db_rows rows;
	enum db_status rc;

	event_params(ev, p, n);
	p[9] = P(ev->provider);
	p[10] = P(ev->account);
	rc = s->ops->dml_cte ? exec(s, sql_cte, 13, p, &rows) : exec(s, sql_insert, 13, p, &rows);
	if (rc != DB_OK)
		return rc;
	*duplicate = rows.nrows == 0;
	*event_id = *duplicate ? 0 : cell_ll(&rows, 0, 0);
	db_rows_free(&rows);
	if (*duplicate) /* rare: a second round trip only for duplicates */
		return load_first(s, p, event_id, answer);
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

	rc = exec(s, s->ops->begin_sql, 0, NULL, NULL);
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
			rc = exec(s, sql_answer, 2, q, NULL);
			if (rc != DB_OK)
				goto fail;
		}
	}
	rc = exec(s, "COMMIT", 0, NULL, NULL);
	if (rc != DB_OK)
		goto fail;
	return DB_OK;
fail:
	(void)s->ops->exec(s->conn, "ROLLBACK", 0, NULL, NULL);
	return rc;
}

int store_receive(struct store *s, const struct store_event *ev, store_apply_fn apply, void *arg,
		  long long *event_id, int *duplicate, struct buf *answer)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		enum db_status rc;

		buf_reset(answer);
		if (!apply && s->ops->dml_cte)
			rc = insert_event(s, ev, event_id, duplicate, answer); /* one statement, autocommit */
		else
			rc = receive_tx(s, ev, apply, arg, event_id, duplicate, answer);
		if (rc == DB_OK)
			return 0;
		if (rc != DB_GONE || s->ops->reconnect(s->conn) < 0)
			break;
		log_info("store connection was lost; retrying the delivery once on a new connection");
	}
	buf_reset(answer);
	return -1;
}

int store_offer_upsert(struct store *s, long long source_id, long long event_id, const struct store_offer *o,
		       long long now, int *inserted)
{
	static const char sql[] =
		"INSERT INTO offers (source_id, vendor_offer_id, title, price, currency, category, start_location, "
		"end_location, start_at, end_at, available_seats, description, data, status, created_at, updated_at, "
		"last_event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active', $14, $14, $15) "
		"ON CONFLICT (source_id, vendor_offer_id) DO UPDATE SET "
		"title = coalesce(excluded.title, offers.title), price = coalesce(excluded.price, offers.price), "
		"currency = coalesce(excluded.currency, offers.currency), "
		"category = coalesce(excluded.category, offers.category), "
		"start_location = coalesce(excluded.start_location, offers.start_location), "
		"end_location = coalesce(excluded.end_location, offers.end_location), "
		"start_at = coalesce(excluded.start_at, offers.start_at), "
		"end_at = coalesce(excluded.end_at, offers.end_at), "
		"available_seats = coalesce(excluded.available_seats, offers.available_seats), "
		"description = coalesce(excluded.description, offers.description), "
		"data = excluded.data, status = 'active', updated_at = excluded.updated_at, "
		"last_event_id = excluded.last_event_id, revision = offers.revision + 1 "
		"RETURNING revision";
	struct db_param p[15];
	struct num n1, n2, n3;
	struct db_rows rows;

	p[0] = PN(&n1, source_id);
	p[1] = P(o->vendor_offer_id);
	p[2] = P(o->title);
	p[3] = P(o->price);
	p[4] = P(o->currency);
	p[5] = P(o->category);
	p[6] = P(o->start_location);
	p[7] = P(o->end_location);
	p[8] = P(o->start_at);
	p[9] = P(o->end_at);
	p[10] = P(o->available_seats);
	p[11] = P(o->description);
	p[12] = P(o->data_json);
	p[13] = PN(&n2, now);
	p[14] = PZ(&n3, event_id);
	if (exec(s, sql, 15, p, &rows) != DB_OK)
		return -1;
	*inserted = rows.nrows == 1 && cell_ll(&rows, 0, 0) == 1;
	db_rows_free(&rows);
	return 0;
}

int store_offer_mark(struct store *s, long long source_id, long long event_id, const char *vendor_offer_id,
		     const char *status, long long now, int *updated)
{
	static const char sql[] =
		"UPDATE offers SET status = $3, updated_at = $4, last_event_id = $5, revision = revision + 1 "
		"WHERE source_id = $1 AND vendor_offer_id = $2 RETURNING id";
	struct db_param p[5];
	struct num n1, n2, n3;
	struct db_rows rows;

	p[0] = PN(&n1, source_id);
	p[1] = P(vendor_offer_id);
	p[2] = P(status);
	p[3] = PN(&n2, now);
	p[4] = PZ(&n3, event_id);
	if (exec(s, sql, 5, p, &rows) != DB_OK)
		return -1;
	*updated = (int)rows.nrows;
	db_rows_free(&rows);
	return 0;
}

static int listing(struct store *s, const char *sql, size_t n, const struct db_param *p, struct store_rows **out)
{
	struct store_rows *r = calloc(1, sizeof *r);

	if (!r)
		return -1;
	if (exec(s, sql, n, p, &r->rows) != DB_OK) {
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int store_list_sources(struct store *s, long long now, struct store_rows **out)
{
	static const char sql[] =
		"SELECT s.id, s.provider, s.account, s.enabled, s.options, "
		"(SELECT count(*) FROM secrets k WHERE k.source_id = s.id AND (k.expires_at IS NULL OR k.expires_at > $1)), "
		"s.created_at FROM sources s ORDER BY s.provider, s.account";
	struct num n;
	struct db_param p[1] = {PN(&n, now)};

	return listing(s, sql, 1, p, out);
}

int store_list_events(struct store *s, const char *provider, const char *account, const char *status,
		      long limit, struct store_rows **out)
{
	static const char sql[] =
		"SELECT e.id, s.provider, s.account, e.event_type, e.idempotency_key, e.status, e.received_at, "
		"e.attempts, length(e.body) FROM events e JOIN sources s ON s.id = e.source_id "
		"WHERE ($1::text IS NULL OR s.provider = $1) AND ($2::text IS NULL OR s.account = $2) "
		"AND ($3::text IS NULL OR e.status = $3) ORDER BY e.id DESC LIMIT $4";
	static const char sql_lite[] =
		"SELECT e.id, s.provider, s.account, e.event_type, e.idempotency_key, e.status, e.received_at, "
		"e.attempts, length(e.body) FROM events e JOIN sources s ON s.id = e.source_id "
		"WHERE ($1 IS NULL OR s.provider = $1) AND ($2 IS NULL OR s.account = $2) "
		"AND ($3 IS NULL OR e.status = $3) ORDER BY e.id DESC LIMIT $4";
	struct num n;
	struct db_param p[4] = {P(provider), P(account), P(status), PN(&n, limit)};

	return listing(s, s->ops->dml_cte ? sql : sql_lite, 4, p, out);
}

int store_get_event(struct store *s, long long id, struct store_rows **out)
{
	static const char sql[] =
		"SELECT e.id, s.provider, s.account, e.event_type, e.idempotency_key, e.status, e.received_at, "
		"e.verification, e.secret_id, e.headers, e.body, e.attempts, e.processed_at, e.response, e.decoded "
		"FROM events e JOIN sources s ON s.id = e.source_id WHERE e.id = $1";
	struct num n;
	struct db_param p[1] = {PN(&n, id)};

	return listing(s, sql, 1, p, out);
}

int store_stats(struct store *s, long long since, struct store_rows **out)
{
	static const char sql[] =
		"SELECT s.provider, s.account, e.event_type, e.status, count(*), max(e.received_at) "
		"FROM events e JOIN sources s ON s.id = e.source_id WHERE e.received_at > $1 "
		"GROUP BY s.provider, s.account, e.event_type, e.status ORDER BY count(*) DESC, s.provider, s.account";
	struct num n;
	struct db_param p[1] = {PN(&n, since)};

	return listing(s, sql, 1, p, out);
}

int store_list_audit(struct store *s, long limit, struct store_rows **out)
{
	static const char sql[] =
		"SELECT action, provider, account, status_code, reason, at FROM audit_log ORDER BY id DESC LIMIT $1";
	struct num n;
	struct db_param p[1] = {PN(&n, limit)};

	return listing(s, sql, 1, p, out);
}

/* ---- processing after the answer ---- */

static char *dup_cell(const struct db_rows *r, size_t row, size_t col, size_t *len)
{
	const char *c = db_cell(r, row, col);
	size_t n = c ? r->lens[row * r->ncols + col] : 0;
	char *p;

	if (len)
		*len = n;
	if (!c)
		return NULL;
	p = malloc(n + 1);
	if (p) {
		memcpy(p, c, n);
		p[n] = '\0';
	}
	return p;
}

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
	memset(job, 0, sizeof *job);
}

/* the first conjunct is events_due's predicate (006_due_index.sql), so both stores use that index */
#define CLAIM_WHERE \
	"status IN ('received', 'retry', 'processing') AND " \
	"((status IN ('received', 'retry') AND coalesce(next_attempt_at, 0) <= CAST($1 AS BIGINT)) OR " \
	"(status = 'processing' AND lease_until < $1)) AND (CAST($3 AS BIGINT) = 0 OR id = $3) ORDER BY id LIMIT 1"
/* (SQLite binds parameters as text: the casts make the comparisons numeric) */
#define CLAIM_SET \
	"UPDATE events SET status = 'processing', lease_until = $2, attempts = attempts + 1 WHERE id = "
#define CLAIM_RETURNING \
	" RETURNING id, source_id, attempts, idempotency_key, event_type, body, headers, " \
	"(SELECT options FROM sources WHERE sources.id = events.source_id), " \
	"(SELECT provider FROM sources WHERE sources.id = events.source_id), " \
	"(SELECT account FROM sources WHERE sources.id = events.source_id)"

int store_claim(struct store *s, long long now, long lease, long long only_id, struct store_job *job)
{
	/* SQLite: one statement is atomic under its single writer; its planner would rather read every
	 * unfinished row through events_status and sort them, so the id-ordered partial index is named */
	static const char sql_lite[] = CLAIM_SET "(SELECT id FROM events INDEXED BY events_due WHERE " CLAIM_WHERE ")"
		CLAIM_RETURNING;
	struct num n1, n2, n3;
	struct db_param p[3] = {PN(&n1, now), PN(&n2, now + lease), PN(&n3, only_id)};
	struct db_rows rows;
	int rc = 0;

	memset(job, 0, sizeof *job);
	if (s->ops->dml_cte) {
		/* PostgreSQL: processors on many hosts skip each other's rows */
		static const char sql_pg[] = CLAIM_SET "(SELECT id FROM events WHERE " CLAIM_WHERE
					      " FOR UPDATE SKIP LOCKED)" CLAIM_RETURNING;
		if (exec(s, sql_pg, 3, p, &rows) != DB_OK)
			return -1;
	} else if (exec(s, sql_lite, 3, p, &rows) != DB_OK) {
		return -1;
	}
	if (rows.nrows == 1) {
		job->event_id = cell_ll(&rows, 0, 0);
		job->source_id = cell_ll(&rows, 0, 1);
		job->attempts = (int)cell_ll(&rows, 0, 2);
		job->key = dup_cell(&rows, 0, 3, NULL);
		job->type = dup_cell(&rows, 0, 4, NULL);
		job->body = dup_cell(&rows, 0, 5, &job->body_len);
		job->headers = dup_cell(&rows, 0, 6, NULL);
		job->options = dup_cell(&rows, 0, 7, NULL);
		job->provider = dup_cell(&rows, 0, 8, NULL);
		job->account = dup_cell(&rows, 0, 9, NULL);
		rc = job->key && job->body && job->headers && job->provider && job->account ? 1 : -1;
		if (rc < 0)
			store_job_free(job);
	}
	db_rows_free(&rows);
	return rc;
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

	return change_one(s, s->ops->dml_cte ? sql_pg : sql, 4, p) == 1 ? 0 : -1;
}

int store_attempt_begin(struct store *s, long long event_id, long long action_id, const char *action,
			long long started, long long *attempt_id)
{
	static const char sql[] = "INSERT INTO attempts (event_id, action_id, action, started_at) VALUES ($1, $2, $3, $4) "
				  "RETURNING id";
	struct num n1, n2, n3;
	struct db_param p[4] = {PN(&n1, event_id), PZ(&n2, action_id), P(action), PN(&n3, started)};
	struct db_rows rows;
	int rc = -1;

	if (exec(s, sql, 4, p, &rows) != DB_OK)
		return -1;
	if (rows.nrows == 1) {
		*attempt_id = cell_ll(&rows, 0, 0);
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
	return exec(s, sql, 6, p, NULL) == DB_OK ? 0 : -1;
}

int store_attempts_interrupted(struct store *s, long long event_id, long long now)
{
	static const char sql[] = "UPDATE attempts SET ended_at = $2, outcome = 'interrupted', "
				  "error = 'the processor stopped during this attempt; taken again when its lease expired' "
				  "WHERE event_id = $1 AND ended_at IS NULL";
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, event_id), PN(&n2, now)};

	return exec(s, sql, 2, p, NULL) == DB_OK ? 0 : -1;
}

int store_action_done(struct store *s, long long event_id, long long action_id)
{
	static const char sql[] =
		"SELECT count(*) FROM attempts WHERE event_id = $1 AND action_id = $2 AND outcome = 'ok'";
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, event_id), PN(&n2, action_id)};
	struct db_rows rows;
	int rc;

	if (exec(s, sql, 2, p, &rows) != DB_OK)
		return -1;
	rc = cell_ll(&rows, 0, 0) > 0;
	db_rows_free(&rows);
	return rc;
}

int store_actions(struct store *s, long long source_id, struct store_rows **out)
{
	static const char sql[] =
		"SELECT id, kind, target, options, enabled, position FROM actions WHERE source_id = $1 ORDER BY position, id";
	struct num n;
	struct db_param p[1] = {PN(&n, source_id)};

	return listing(s, sql, 1, p, out);
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

	if (exec(s, sql, 5, p, &rows) != DB_OK)
		return -1;
	if (rows.nrows == 1) {
		*id = cell_ll(&rows, 0, 0);
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

	return change_one(s, sql, 2, p);
}

int store_action_disable(struct store *s, long long action_id)
{
	static const char sql[] = "UPDATE actions SET enabled = 0 WHERE id = $1 RETURNING id";
	struct num n;
	struct db_param p[1] = {PN(&n, action_id)};

	return change_one(s, sql, 1, p) < 0 ? -1 : 0;
}

/* An upsert whose update is guarded by "the stored state is older": *changed = whether it wrote. */
static int upsert_newer(struct store *s, const char *sql, size_t n, const struct db_param *p, int *changed)
{
	int rc = change_one(s, sql, n, p);

	if (rc < 0)
		return -1;
	*changed = rc;
	return 0;
}

int store_trendyol_upsert(struct store *s, long long source_id, long long event_id, const char *package_id,
			  const char *order_number, const char *status, long long last_modified, const char *package_json,
			  long long now, int *changed)
{
	static const char sql[] =
		"INSERT INTO trendyol_orders (source_id, shipment_package_id, order_number, status, last_modified, package, "
		"event_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
		"ON CONFLICT (source_id, shipment_package_id) DO UPDATE SET order_number = excluded.order_number, "
		"status = excluded.status, last_modified = excluded.last_modified, package = excluded.package, "
		"event_id = excluded.event_id, updated_at = excluded.updated_at "
		"WHERE trendyol_orders.last_modified < excluded.last_modified RETURNING id";
	struct num n1, n2, n3, n4;
	struct db_param p[8] = {PN(&n1, source_id), P(package_id), P(order_number), P(status), PN(&n2, last_modified),
				P(package_json), PZ(&n3, event_id), PN(&n4, now)};

	return upsert_newer(s, sql, 8, p, changed);
}

int store_sosyalkopru_upsert(struct store *s, long long source_id, long long event_id, const char *post_id,
			     const char *status, const char *event_type, long long event_at, const char *data_json,
			     long long now, int *changed)
{
	static const char sql[] =
		"INSERT INTO sosyalkopru_posts (source_id, post_id, status, last_event, event_at, data, event_id, "
		"updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
		"ON CONFLICT (source_id, post_id) DO UPDATE SET status = COALESCE(excluded.status, sosyalkopru_posts.status), "
		"last_event = excluded.last_event, event_at = excluded.event_at, data = excluded.data, "
		"event_id = excluded.event_id, updated_at = excluded.updated_at "
		"WHERE sosyalkopru_posts.event_at < excluded.event_at RETURNING id";
	struct num n1, n2, n3, n4;
	struct db_param p[8] = {PN(&n1, source_id), P(post_id), P(status), P(event_type), PN(&n2, event_at),
				P(data_json), PZ(&n3, event_id), PN(&n4, now)};

	return upsert_newer(s, sql, 8, p, changed);
}

int store_notify(struct store *s, const char *channel, const char *payload)
{
	static const char sql[] = "SELECT pg_notify($1, $2)";
	struct db_param p[2] = {P(channel), P(payload)};

	if (!s->ops->dml_cte)
		return -2; /* SQLite has no LISTEN/NOTIFY */
	return exec(s, sql, 2, p, NULL) == DB_OK ? 0 : -1;
}

static int count_rows(struct store *s, const char *sql, size_t n, const struct db_param *p, long *count)
{
	struct db_rows rows;

	if (exec(s, sql, n, p, &rows) != DB_OK)
		return -1;
	*count = (long)rows.nrows;
	db_rows_free(&rows);
	return 0;
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
		return count_rows(s, sql_id, 1, p, count);
	} else {
		struct db_param p[4] = {P(status), PN(&n2, since), P(provider), P(account)};
		return count_rows(s, s->ops->dml_cte ? sql_filter_pg : sql_filter, 4, p, count);
	}
}

int store_purge(struct store *s, long long before, long *count)
{
	static const char sql_attempts[] =
		"DELETE FROM attempts WHERE event_id IN (SELECT id FROM events WHERE status IN ('processed', 'test') "
		"AND received_at < $1)";
	static const char sql_events[] =
		"DELETE FROM events WHERE status IN ('processed', 'test') AND received_at < $1 RETURNING id";
	struct num n;
	struct db_param p[1] = {PN(&n, before)};

	if (exec(s, s->ops->begin_sql, 0, NULL, NULL) != DB_OK)
		return -1;
	if (exec(s, sql_attempts, 1, p, NULL) != DB_OK || count_rows(s, sql_events, 1, p, count) < 0 ||
	    exec(s, "COMMIT", 0, NULL, NULL) != DB_OK) {
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

	return listing(s, sql, 1, p, out);
}

size_t store_rows_count(const struct store_rows *r)
{
	return r ? r->rows.nrows : 0;
}

const char *store_rows_get(const struct store_rows *r, size_t row, size_t col, size_t *len)
{
	const char *c = db_cell(&r->rows, row, col);

	if (len)
		*len = c ? r->rows.lens[row * r->rows.ncols + col] : 0;
	return c;
}

void store_rows_free(struct store_rows *r)
{
	if (!r)
		return;
	db_rows_free(&r->rows);
	free(r);
}
