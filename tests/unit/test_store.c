/* test_store.c: the store interface against a fresh SQLite file and, when KANCA_TEST_PG_URI names an
 * empty PostgreSQL database, the same test body against it. */
#include "first.h"
#include "store/store.h"
#include "buf.h"
#include "caps.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "tap.h"

#define NOW 1700000000LL

/* ---- an independent look at the offers table (the store API has no reader for it) ---------------- */

#define PEEK_COLS 7
struct peek {
	int found;
	int isnull[PEEK_COLS];
	char v[PEEK_COLS][512];
};

static const char peek_sql_lite[] = "SELECT title, price, currency, category, status, available_seats, description "
				    "FROM offers WHERE source_id = ?1 AND vendor_offer_id = ?2";
static const char peek_sql_pg[] = "SELECT title, price, currency, category, status, available_seats, description "
				  "FROM offers WHERE source_id = $1 AND vendor_offer_id = $2";

static int peek_offer(const char *uri, long long source_id, const char *vid, struct peek *out)
{
	char sid[32];

	memset(out, 0, sizeof *out);
	snprintf(sid, sizeof sid, "%lld", source_id);
	if (strncmp(uri, "sqlite:", 7) == 0) {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		int rc = -1;

		if (sqlite3_open_v2(uri + 7, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(db, peek_sql_lite, -1, &st, NULL) != SQLITE_OK)
			goto lite_out;
		sqlite3_bind_int64(st, 1, source_id);
		sqlite3_bind_text(st, 2, vid, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out->found = 1;
			for (int c = 0; c < PEEK_COLS; c++) {
				const unsigned char *t = sqlite3_column_text(st, c);
				out->isnull[c] = t == NULL;
				snprintf(out->v[c], sizeof out->v[c], "%s", t ? (const char *)t : "");
			}
			rc = 0;
		} else {
			rc = rc == SQLITE_DONE ? 0 : -1;
		}
	lite_out:
		if (rc < 0)
			diag("peek: %s", db ? sqlite3_errmsg(db) : "no db");
		sqlite3_finalize(st);
		sqlite3_close(db);
		return rc;
	} else {
		PGconn *c = PQconnectdb(uri);
		PGresult *r = NULL;
		const char *params[2] = {sid, vid};
		int rc = -1;

		if (PQstatus(c) != CONNECTION_OK) {
			diag("peek: %s", PQerrorMessage(c));
			goto pg_out;
		}
		r = PQexecParams(c, peek_sql_pg, 2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			diag("peek: %s", PQerrorMessage(c));
			goto pg_out;
		}
		if (PQntuples(r) == 1) {
			out->found = 1;
			for (int k = 0; k < PEEK_COLS; k++) {
				out->isnull[k] = PQgetisnull(r, 0, k);
				snprintf(out->v[k], sizeof out->v[k], "%s", PQgetvalue(r, 0, k));
			}
		}
		rc = 0;
	pg_out:
		PQclear(r);
		PQfinish(c);
		return rc;
	}
}

/* ---- helpers over the public API ---------------------------------------------------------------- */

static long count_events(struct store *s)
{
	struct store_rows *r = NULL;
	long n;

	if (store_list_events(s, NULL, NULL, NULL, 100000, &r) < 0)
		return -1;
	n = (long)store_rows_count(r);
	store_rows_free(r);
	return n;
}

static long count_audit(struct store *s)
{
	struct store_rows *r = NULL;
	long n;

	if (store_list_audit(s, 100000, &r) < 0)
		return -1;
	n = (long)store_rows_count(r);
	store_rows_free(r);
	return n;
}

/* Cell text; NULL also when a listing failed and left r NULL. */
static const char *cell(const struct store_rows *r, size_t row, size_t col)
{
	return r ? store_rows_get(r, row, col, NULL) : NULL;
}

/* Cell as a number; -1 for a NULL cell. */
static long long cell_num(const struct store_rows *r, size_t row, size_t col)
{
	const char *c = cell(r, row, col);

	return c ? strtoll(c, NULL, 10) : -1;
}

struct apply_ctx {
	int calls;
	int fail;	     /* return -1 */
	const char *answer;  /* written to the answer buffer */
	long long source_id; /* when set, also upserts an offer "rolled-back" (to see the rollback) */
	long long seen_event_id;
};

static int apply_cb(struct store *s, long long event_id, void *arg, struct buf *answer)
{
	struct apply_ctx *a = arg;

	a->calls++;
	a->seen_event_id = event_id;
	if (a->source_id) {
		struct store_offer o = {
		    .vendor_offer_id = "rolled-back", .title = "t", .price = "1", .data_json = "{}"};
		int inserted = 0;
		if (store_offer_upsert(s, a->source_id, event_id, &o, NOW, &inserted) < 0)
			return -1;
	}
	if (a->answer && buf_append_str(answer, a->answer) < 0)
		return -1;
	return a->fail ? -1 : 0;
}

static struct store_event make_event(long long source_id, const char *provider, const char *account, const char *key,
				     const char *type, const void *body, size_t len, long long at)
{
	struct store_event ev;

	memset(&ev, 0, sizeof ev);
	ev.source_id = source_id;
	ev.provider = provider;
	ev.account = account;
	ev.key = key;
	ev.type = type;
	ev.body = body;
	ev.body_len = len;
	ev.headers_json = "{\"content-type\":\"application/json\",\"authorization\":\"[redacted]\"}";
	ev.verification = "hmac-sha256 hex; secret 1";
	ev.secret_id = 0;
	ev.received_at = at;
	ev.remote_addr = "127.0.0.1";
	return ev;
}

/* ---- the test body, once per backend ----------------------------------------------------------- */

static void run(const char *uri, const char *label)
{
	struct store *s = NULL;
	struct buf err, answer;
	int current = -1, latest = -1, applied = -1, rc;
	long long sup_id = 0, hmac_id = 0, other_id = 0, id = 0, sec_old = 0, sec_new = 0, sec_exp = 0;
	struct store_source src;
	struct store_rows *rows = NULL;
	static const unsigned char body1[] = "{\"eventId\":\"e1\",\"event\":\"offer.created\"}\0\xff\x01\x80 end";
	const size_t body1_len = sizeof body1 - 1;
	long long ev1 = 0, ev2 = 0, ev3 = 0, evdup = 0;
	int dup = -1;
	long events_before, audit_before;
	struct apply_ctx actx;
	struct store_event ev;
	const char *c;
	size_t len;

	buf_init(&err, 4096);
	buf_init(&answer, 65536);
	rc = store_open(uri, &s, &err);
	is_int(rc, 0, "%s: store_open", label);
	if (rc < 0) {
		diag("%s: %s", label, buf_str(&err));
		buf_free(&err);
		buf_free(&answer);
		return;
	}
	is_str(store_backend(s), strncmp(uri, "sqlite:", 7) == 0 ? "sqlite" : "postgresql", "%s: store_backend", label);
	if (!is_int(store_ping(s), 0, "%s: store_ping", label)) {
		diag("%s: the store does not answer (%s); skipping the rest of its tests", label, store_error(s));
		store_close(s);
		buf_free(&err);
		buf_free(&answer);
		return;
	}
	ok(store_error(s) != NULL, "%s: store_error is never NULL", label);

	/* migrations */
	is_int(store_schema_version(s, &current, &latest), 0, "%s: schema version of an empty store", label);
	is_int(current, 0, "%s: an empty store is at schema 0", label);
	ok(latest >= 1, "%s: this build knows at least one migration (latest %d)", label, latest);
	is_int(store_migrate(s, &applied, &err), 0, "%s: store_migrate", label);
	is_int(applied, latest, "%s: every migration applied", label);
	if (err.len)
		diag("%s: %s", label, buf_str(&err));
	is_int(store_schema_version(s, &current, &latest), 0, "%s: schema version after migrate", label);
	is_int(current, latest, "%s: schema is at the latest version", label);
	applied = -1;
	is_int(store_migrate(s, &applied, &err), 0, "%s: store_migrate again", label);
	is_int(applied, 0, "%s: a second migrate applies nothing", label);

	/* sources */
	is_int(store_source_add(s, "supplier", "42", "events=offer.created,offer.updated\n", NOW, &sup_id), 0,
	       "%s: source add", label);
	ok(sup_id > 0, "%s: source id set (%lld)", label, sup_id);
	is_int(store_source_add(s, "supplier", "42", "", NOW, &id), 1, "%s: duplicate source add is 1", label);
	is_int(store_source_add(s, "hmac", "acme", "header=X-Sig\n", NOW, &hmac_id), 0, "%s: second source", label);
	is_int(store_source_add(s, "hmac", "42", NULL, NOW, &other_id), 0, "%s: same account, other provider", label);
	ok(hmac_id != sup_id && other_id != sup_id && other_id != hmac_id, "%s: distinct source ids", label);

	rc = store_source_get(s, "supplier", "42", NOW, &src);
	is_int(rc, 1, "%s: source get finds it", label);
	is_int(src.id, sup_id, "%s: source get id", label);
	is_str(src.provider, "supplier", "%s: source get provider", label);
	is_str(src.account, "42", "%s: source get account", label);
	is_int(src.enabled, 1, "%s: a new source is enabled", label);
	is_str(src.options, "events=offer.created,offer.updated\n", "%s: source get options", label);
	is_int(src.nsecrets, 0, "%s: no secrets yet", label);
	store_source_free(&src);
	rc = store_source_get(s, "hmac", "42", NOW, &src);
	is_int(rc, 1, "%s: source added with NULL options", label);
	is_str(src.options, "", "%s: NULL options read back as \"\"", label);
	store_source_free(&src);
	is_int(store_source_get(s, "supplier", "43", NOW, &src), 0, "%s: unknown account not found", label);
	store_source_free(&src);
	is_int(store_source_get(s, "Supplier", "42", NOW, &src), 0, "%s: provider match is exact", label);
	store_source_free(&src);

	/* secrets: newest first, expired ones not returned */
	is_int(store_secret_add(s, sup_id, "old-secret", 0, NOW - 100, &sec_old), 0, "%s: secret add (never expires)",
	       label);
	is_int(store_secret_add(s, sup_id, "new-secret-2", NOW + 3600, NOW - 50, &sec_new), 0,
	       "%s: secret add (expires in an hour)", label);
	is_int(store_secret_add(s, sup_id, "expired", NOW - 1, NOW - 10, &sec_exp), 0, "%s: secret add (expired)",
	       label);
	ok(sec_old > 0 && sec_new > sec_old && sec_exp > sec_new, "%s: secret ids increase", label);
	rc = store_source_get(s, "supplier", "42", NOW, &src);
	is_int(rc, 1, "%s: source get with secrets", label);
	is_int(src.nsecrets, 2, "%s: two unexpired secrets", label);
	if (src.nsecrets == 2) {
		is_int(src.secrets[0].id, sec_new, "%s: newest secret first", label);
		is_mem(src.secrets[0].value, src.secrets[0].len, "new-secret-2", 12, "%s: newest secret value", label);
		is_int(src.secrets[0].expires_at, NOW + 3600, "%s: newest secret expiry", label);
		is_int(src.secrets[1].id, sec_old, "%s: older secret second", label);
		is_str(src.secrets[1].value, "old-secret", "%s: older secret value (NUL-terminated)", label);
		is_int(src.secrets[1].len, 10, "%s: older secret length", label);
		is_int(src.secrets[1].expires_at, 0, "%s: a secret that never expires has expires_at 0", label);
	}
	store_source_free(&src);
	rc = store_source_get(s, "supplier", "42", NOW + 3601, &src);
	is_int(src.nsecrets, 1, "%s: after its expiry time the second secret is gone", label);
	ok(src.nsecrets == 1 && src.secrets[0].id == sec_old, "%s: only the never-expiring secret remains", label);
	store_source_free(&src);
	rc = store_source_get(s, "supplier", "42", NOW - 20, &src);
	is_int(src.nsecrets, 3, "%s: before its expiry the third secret is returned", label);
	ok(src.nsecrets == 3 && src.secrets[0].id == sec_exp, "%s: and it is the newest", label);
	store_source_free(&src);

	/* at most KANCA_SECRETS_MAX secrets, the newest */
	{
		long long last = 0;
		int good = 1;
		for (int i = 0; i < KANCA_SECRETS_MAX + 2; i++) {
			char v[32];
			snprintf(v, sizeof v, "rot-%d", i);
			if (store_secret_add(s, other_id, v, 0, NOW, &last) < 0)
				good = 0;
		}
		ok(good, "%s: %d secrets added to one source", label, KANCA_SECRETS_MAX + 2);
		rc = store_source_get(s, "hmac", "42", NOW, &src);
		is_int(src.nsecrets, KANCA_SECRETS_MAX, "%s: at most KANCA_SECRETS_MAX secrets loaded", label);
		ok(src.nsecrets > 0 && src.secrets[0].id == last, "%s: the newest of them first", label);
		is_str(src.nsecrets > 0 ? src.secrets[0].value : NULL, "rot-9", "%s: newest rotation value", label);
		store_source_free(&src);
	}

	/* enable / disable */
	is_int(store_source_set_enabled(s, "hmac", "acme", 0), 1, "%s: disable", label);
	rc = store_source_get(s, "hmac", "acme", NOW, &src);
	is_int(src.enabled, 0, "%s: disabled source reads enabled=0", label);
	store_source_free(&src);
	is_int(store_source_set_enabled(s, "hmac", "acme", 1), 1, "%s: enable", label);
	rc = store_source_get(s, "hmac", "acme", NOW, &src);
	is_int(src.enabled, 1, "%s: enabled again", label);
	store_source_free(&src);
	is_int(store_source_set_enabled(s, "hmac", "nobody", 0), 0, "%s: set_enabled of an unknown source is 0", label);

	/* store_receive without apply */
	events_before = count_events(s);
	audit_before = count_audit(s);
	is_int(events_before, 0, "%s: no events yet", label);
	ev = make_event(sup_id, "supplier", "42", "e1", "offer.created", body1, body1_len, NOW - 10);
	ev.secret_id = sec_new;
	rc = store_receive(s, &ev, NULL, NULL, &ev1, &dup, &answer);
	is_int(rc, 0, "%s: receive a new event", label);
	is_int(dup, 0, "%s: new event is not a duplicate", label);
	ok(ev1 > 0, "%s: event id set (%lld)", label, ev1);
	is_int(answer.len, 0, "%s: no answer without apply", label);
	is_int(count_events(s), 1, "%s: one event stored", label);
	is_int(count_audit(s), audit_before + 1, "%s: one 'received' audit row", label);
	if (store_list_audit(s, 1, &rows) == 0 && store_rows_count(rows) == 1) {
		is_str(cell(rows, 0, 0), "received", "%s: audit action received", label);
		is_str(cell(rows, 0, 1), "supplier", "%s: audit provider", label);
		is_str(cell(rows, 0, 2), "42", "%s: audit account", label);
		is_str(cell(rows, 0, 3), "200", "%s: audit status 200", label);
	} else {
		ok(0, "%s: list the received audit row", label);
	}
	store_rows_free(rows);
	rows = NULL;

	dup = -1;
	evdup = 0;
	audit_before = count_audit(s);
	rc = store_receive(s, &ev, NULL, NULL, &evdup, &dup, &answer);
	is_int(rc, 0, "%s: receive the same key again", label);
	is_int(dup, 1, "%s: it is a duplicate", label);
	is_int(evdup, ev1, "%s: duplicate gets the first event id", label);
	is_int(answer.len, 0, "%s: no stored answer for it", label);
	is_int(count_events(s), 1, "%s: still one event", label);
	is_int(count_audit(s), audit_before, "%s: a duplicate writes no audit row", label);

	/* the same key for another source is a new event */
	ev = make_event(hmac_id, "hmac", "acme", "e1", NULL, "{}", 2, NOW - 9);
	rc = store_receive(s, &ev, NULL, NULL, &ev2, &dup, &answer);
	ok(rc == 0 && dup == 0 && ev2 > ev1, "%s: the same key at another source is new", label);

	/* apply writes an answer; a duplicate gets that answer back without running apply */
	memset(&actx, 0, sizeof actx);
	actx.answer = "{\"success\":true,\"message\":\"Offer created\"}";
	ev = make_event(sup_id, "supplier", "42", "e2", "offer.created", "{\"eventId\":\"e2\"}", 16, NOW - 8);
	rc = store_receive(s, &ev, apply_cb, &actx, &ev3, &dup, &answer);
	is_int(rc, 0, "%s: receive with apply", label);
	is_int(dup, 0, "%s: with apply: new", label);
	is_int(actx.calls, 1, "%s: apply ran once", label);
	is_int(actx.seen_event_id, ev3, "%s: apply saw the new event id", label);
	is_str(buf_str(&answer), actx.answer, "%s: answer holds what apply produced", label);
	buf_reset(&answer);
	memset(&actx, 0, sizeof actx);
	actx.answer = "{\"different\":1}";
	rc = store_receive(s, &ev, apply_cb, &actx, &evdup, &dup, &answer);
	is_int(rc, 0, "%s: duplicate with apply", label);
	is_int(dup, 1, "%s: duplicate with apply: duplicate", label);
	is_int(evdup, ev3, "%s: duplicate with apply: the first id", label);
	is_int(actx.calls, 0, "%s: apply does not run for a duplicate", label);
	is_str(buf_str(&answer), "{\"success\":true,\"message\":\"Offer created\"}",
	       "%s: the duplicate gets the stored answer", label);
	evdup = 0;
	rc = store_receive(s, &ev, NULL, NULL, &evdup, &dup, &answer);
	ok(rc == 0 && dup == 1, "%s: duplicate without apply", label);
	is_int(evdup, ev3, "%s: duplicate without apply: the first id", label);
	is_str(buf_str(&answer), "{\"success\":true,\"message\":\"Offer created\"}",
	       "%s: the stored answer comes back without apply too", label);
	is_int(count_events(s), 3, "%s: three events", label);

	/* apply fails: everything rolled back */
	events_before = count_events(s);
	audit_before = count_audit(s);
	memset(&actx, 0, sizeof actx);
	actx.fail = 1;
	actx.answer = "{\"never\":1}";
	actx.source_id = sup_id;
	ev = make_event(sup_id, "supplier", "42", "e-fail", "offer.created", "{\"x\":1}", 7, NOW - 7);
	dup = -1;
	buf_reset(&answer);
	rc = store_receive(s, &ev, apply_cb, &actx, &id, &dup, &answer);
	is_int(rc, -1, "%s: apply returning -1 fails the receive", label);
	is_int(actx.calls, 1, "%s: apply ran", label);
	is_int(count_events(s), events_before, "%s: no event row kept", label);
	is_int(count_audit(s), audit_before, "%s: no audit row kept", label);
	is_int(answer.len, 0, "%s: no answer after a failed receive", label);
	{
		struct peek pk;
		is_int(peek_offer(uri, sup_id, "rolled-back", &pk), 0, "%s: peek at offers", label);
		is_int(pk.found, 0, "%s: the offer written inside the failed apply was rolled back", label);
	}
	/* the key is free again: a later delivery with it is new */
	memset(&actx, 0, sizeof actx);
	rc = store_receive(s, &ev, apply_cb, &actx, &id, &dup, &answer);
	ok(rc == 0 && dup == 0 && actx.calls == 1, "%s: after a failed receive the same key is new", label);
	is_int(answer.len, 0, "%s: apply without an answer leaves it empty", label);
	evdup = 0;
	rc = store_receive(s, &ev, NULL, NULL, &evdup, &dup, &answer);
	ok(rc == 0 && dup == 1, "%s: then a duplicate", label);
	is_int(evdup, id, "%s: with the id of the delivery that succeeded", label);
	is_int(answer.len, 0, "%s: and an empty answer", label);

	/* an event from long ago (for stats) */
	ev = make_event(sup_id, "supplier", "42", "old", "stock.updated", "{}", 2, NOW - 100000);
	rc = store_receive(s, &ev, NULL, NULL, &id, &dup, &answer);
	ok(rc == 0 && dup == 0, "%s: an old event", label);

	/* store_audit and NULL cells */
	is_int(store_audit(s, NOW, "rejected", "hmac", "acme", hmac_id, 0, 401, "Invalid signature", "10.0.0.1"), 0,
	       "%s: store_audit", label);
	if (store_list_audit(s, 1, &rows) == 0 && store_rows_count(rows) == 1) {
		is_str(cell(rows, 0, 0), "rejected", "%s: audit action", label);
		is_str(cell(rows, 0, 1), "hmac", "%s: audit provider", label);
		is_str(cell(rows, 0, 2), "acme", "%s: audit account", label);
		is_str(cell(rows, 0, 3), "401", "%s: audit status", label);
		is_str(cell(rows, 0, 4), "Invalid signature", "%s: audit reason", label);
		is_int(cell_num(rows, 0, 5), NOW, "%s: audit at", label);
	} else {
		ok(0, "%s: list the audit row", label);
	}
	store_rows_free(rows);
	rows = NULL;
	{
		char longr[KANCA_REASON_MAX + 100];
		memset(longr, 'r', sizeof longr - 1);
		longr[sizeof longr - 1] = '\0';
		is_int(store_audit(s, NOW + 1, "error", NULL, NULL, 0, 0, 0, NULL, NULL), 0,
		       "%s: store_audit with NULLs", label);
		is_int(store_audit(s, NOW + 2, "error", "x", "y", 0, 0, 500, longr, ""), 0,
		       "%s: store_audit with a long reason", label);
	}
	if (store_list_audit(s, 2, &rows) == 0 && store_rows_count(rows) == 2) {
		size_t l = 99;
		is_int(strlen(cell(rows, 0, 4) ? cell(rows, 0, 4) : ""), KANCA_REASON_MAX,
		       "%s: a long reason is cut to KANCA_REASON_MAX", label);
		ok(store_rows_get(rows, 1, 1, &l) == NULL, "%s: NULL provider is a NULL cell", label);
		is_int(l, 0, "%s: a NULL cell has length 0", label);
		ok(cell(rows, 1, 2) == NULL, "%s: NULL account is a NULL cell", label);
		ok(cell(rows, 1, 3) == NULL, "%s: status 0 is a NULL cell", label);
		ok(cell(rows, 1, 4) == NULL, "%s: NULL reason is a NULL cell", label);
		is_str(cell(rows, 1, 0), "error", "%s: the NULL row's action", label);
		ok(store_rows_get(rows, 2, 0, &l) == NULL && l == 0, "%s: a row past the end is NULL", label);
		ok(store_rows_get(rows, 0, 99, NULL) == NULL, "%s: a column past the end is NULL", label);
	} else {
		ok(0, "%s: list two audit rows", label);
	}
	store_rows_free(rows);
	rows = NULL;
	is_int(store_list_audit(s, 0, &rows), 0, "%s: audit limit 0", label);
	is_int(store_rows_count(rows), 0, "%s: audit limit 0 lists nothing", label);
	store_rows_free(rows);
	rows = NULL;
	is_int(store_rows_count(NULL), 0, "store_rows_count(NULL) is 0");
	store_rows_free(NULL);

	/* offers */
	{
		struct store_offer o = {
		    .vendor_offer_id = "OFF-1",
		    .title = "Boat trip",
		    .price = "150.00",
		    .currency = "EUR",
		    .category = "tour",
		    .start_location = "Kas",
		    .end_location = "Kekova",
		    .start_at = "2026-06-01T09:00:00Z",
		    .end_at = "2026-06-01T17:00:00Z",
		    .description = "A day at sea",
		    .available_seats = "12",
		    .data_json = "{\"vendorOfferId\":\"OFF-1\"}",
		};
		struct store_offer upd = {.vendor_offer_id = "OFF-1", .price = "99.50", .data_json = "{}"};
		struct peek pk;
		int inserted = -1, updated = -1;

		is_int(store_offer_upsert(s, sup_id, ev3, &o, NOW, &inserted), 0, "%s: offer upsert (new)", label);
		is_int(inserted, 1, "%s: a new offer is inserted=1", label);
		inserted = -1;
		is_int(store_offer_upsert(s, sup_id, ev3, &upd, NOW + 1, &inserted), 0, "%s: offer upsert (existing)",
		       label);
		is_int(inserted, 0, "%s: an existing offer is inserted=0", label);
		is_int(peek_offer(uri, sup_id, "OFF-1", &pk), 0, "%s: peek at OFF-1", label);
		ok(pk.found, "%s: OFF-1 is stored", label);
		is_str(pk.v[0], "Boat trip", "%s: NULL title keeps the stored title", label);
		is_str(pk.v[1], "99.50", "%s: the new price is stored as text", label);
		is_str(pk.v[2], "EUR", "%s: NULL currency keeps the stored one", label);
		is_str(pk.v[3], "tour", "%s: NULL category keeps the stored one", label);
		is_str(pk.v[4], "active", "%s: status active", label);
		is_str(pk.v[5], "12", "%s: NULL available_seats keeps the stored one", label);
		is_str(pk.v[6], "A day at sea", "%s: NULL description keeps the stored one", label);

		is_int(store_offer_mark(s, sup_id, ev3, "OFF-1", "deleted", NOW + 2, &updated), 0, "%s: offer mark",
		       label);
		is_int(updated, 1, "%s: marking a known offer updates 1", label);
		peek_offer(uri, sup_id, "OFF-1", &pk);
		is_str(pk.v[4], "deleted", "%s: status deleted", label);
		updated = -1;
		is_int(store_offer_mark(s, sup_id, ev3, "OFF-404", "expired", NOW + 2, &updated), 0,
		       "%s: mark an unknown offer", label);
		is_int(updated, 0, "%s: marking an unknown offer updates 0", label);
		updated = -1;
		is_int(store_offer_mark(s, hmac_id, 0, "OFF-1", "expired", NOW + 2, &updated), 0,
		       "%s: mark at another source", label);
		is_int(updated, 0, "%s: an offer of another source is not touched", label);
		inserted = -1;
		is_int(store_offer_upsert(s, sup_id, 0, &upd, NOW + 3, &inserted), 0, "%s: upsert a deleted offer",
		       label);
		is_int(inserted, 0, "%s: still inserted=0", label);
		peek_offer(uri, sup_id, "OFF-1", &pk);
		is_str(pk.v[4], "active", "%s: an upsert makes it active again", label);
		inserted = -1;
		is_int(store_offer_upsert(s, hmac_id, 0, &o, NOW, &inserted), 0, "%s: same vendor id at another source",
		       label);
		is_int(inserted, 1, "%s: is a new offer", label);
	}

	/* listings */
	rows = NULL;
	is_int(store_list_events(s, NULL, NULL, NULL, 100, &rows), 0, "%s: list events", label);
	is_int(store_rows_count(rows), 5, "%s: five events", label);
	{
		int desc = 1;
		for (size_t i = 1; i < store_rows_count(rows); i++)
			if (cell_num(rows, i - 1, 0) <= cell_num(rows, i, 0))
				desc = 0;
		ok(desc, "%s: events newest first", label);
	}
	store_rows_free(rows);
	rows = NULL;
	is_int(store_list_events(s, "hmac", NULL, NULL, 100, &rows), 0, "%s: list events of provider hmac", label);
	is_int(store_rows_count(rows), 1, "%s: one hmac event", label);
	is_str(cell(rows, 0, 1), "hmac", "%s: provider column", label);
	is_str(cell(rows, 0, 2), "acme", "%s: account column", label);
	ok(cell(rows, 0, 3) == NULL, "%s: an event without a type has a NULL type", label);
	is_str(cell(rows, 0, 4), "e1", "%s: idempotency key column", label);
	store_rows_free(rows);
	rows = NULL;
	is_int(store_list_events(s, "supplier", "42", "received", 100, &rows), 0, "%s: provider+account+status", label);
	is_int(store_rows_count(rows), 4, "%s: four supplier events received", label);
	store_rows_free(rows);
	rows = NULL;
	is_int(store_list_events(s, "supplier", "43", NULL, 100, &rows), 0, "%s: unknown account", label);
	is_int(store_rows_count(rows), 0, "%s: no events for an unknown account", label);
	store_rows_free(rows);
	rows = NULL;
	is_int(store_list_events(s, NULL, NULL, "processed", 100, &rows), 0, "%s: status filter", label);
	is_int(store_rows_count(rows), 0, "%s: no processed events", label);
	store_rows_free(rows);
	rows = NULL;
	is_int(store_list_events(s, "supplier", NULL, NULL, 2, &rows), 0, "%s: limit 2", label);
	is_int(store_rows_count(rows), 2, "%s: limit 2 gives two rows", label);
	store_rows_free(rows);
	rows = NULL;
	is_int(store_list_events(s, NULL, NULL, NULL, 100, &rows), 0, "%s: list events for e1", label);
	{
		int found = 0;
		for (size_t i = 0; i < store_rows_count(rows); i++)
			if (cell_num(rows, i, 0) == ev1) {
				found = 1;
				is_str(cell(rows, i, 5), "received", "%s: status column", label);
				is_int(cell_num(rows, i, 6), NOW - 10, "%s: received_at column", label);
				is_str(cell(rows, i, 7), "0", "%s: attempts column", label);
				is_int(cell_num(rows, i, 8), (long long)body1_len,
				       "%s: body length column counts bytes", label);
			}
		ok(found, "%s: e1 is listed", label);
	}
	store_rows_free(rows);
	rows = NULL;

	is_int(store_get_event(s, ev1, NULL, &rows), 0, "%s: get event", label);
	is_int(store_rows_count(rows), 1, "%s: one row", label);
	if (store_rows_count(rows) == 1) {
		c = store_rows_get(rows, 0, 10, &len);
		is_mem(c, len, body1, body1_len, "%s: the raw body comes back byte for byte (0x00, 0xff)", label);
		is_str(cell(rows, 0, 1), "supplier", "%s: get event provider", label);
		is_str(cell(rows, 0, 3), "offer.created", "%s: get event type", label);
		is_str(cell(rows, 0, 4), "e1", "%s: get event key", label);
		is_str(cell(rows, 0, 7), "hmac-sha256 hex; secret 1", "%s: get event verification", label);
		is_int(cell_num(rows, 0, 8), sec_new, "%s: get event secret_id", label);
		is_str(cell(rows, 0, 9), "{\"content-type\":\"application/json\",\"authorization\":\"[redacted]\"}",
		       "%s: get event headers", label);
		ok(cell(rows, 0, 12) == NULL, "%s: processed_at is NULL", label);
		ok(cell(rows, 0, 13) == NULL, "%s: no response for an event without apply", label);
	}
	store_rows_free(rows);
	rows = NULL;
	is_int(store_get_event(s, ev3, NULL, &rows), 0, "%s: get the event with an answer", label);
	is_str(cell(rows, 0, 13), "{\"success\":true,\"message\":\"Offer created\"}", "%s: response column", label);
	ok(cell(rows, 0, 8) == NULL, "%s: secret_id 0 is stored as NULL", label);
	store_rows_free(rows);
	rows = NULL;
	is_int(store_get_event(s, 999999, NULL, &rows), 0, "%s: get an unknown event", label);
	is_int(store_rows_count(rows), 0, "%s: no row for an unknown event", label);
	store_rows_free(rows);
	rows = NULL;

	/* stats: grouped by provider, account, type, status; since excludes older events */
	is_int(store_stats(s, NOW - 1000, &rows), 0, "%s: stats", label);
	{
		int sup_created = 0, sup_stock = 0, hmac_null = 0, nrows = (int)store_rows_count(rows);
		for (size_t i = 0; i < store_rows_count(rows); i++) {
			const char *p = cell(rows, i, 0), *a = cell(rows, i, 1), *t = cell(rows, i, 2);
			if (p && a && strcmp(p, "supplier") == 0 && strcmp(a, "42") == 0 && t &&
			    strcmp(t, "offer.created") == 0) {
				sup_created = 1;
				is_str(cell(rows, i, 3), "received", "%s: stats status", label);
				is_str(cell(rows, i, 4), "3", "%s: stats count for supplier/42 offer.created", label);
				is_int(cell_num(rows, i, 5), NOW - 7, "%s: stats last received_at", label);
			}
			if (t && strcmp(t, "stock.updated") == 0)
				sup_stock = 1;
			if (p && strcmp(p, "hmac") == 0 && t == NULL) {
				hmac_null = 1;
				is_str(cell(rows, i, 4), "1", "%s: stats count for hmac/acme without type", label);
			}
		}
		is_int(nrows, 2, "%s: two groups since NOW-1000", label);
		ok(sup_created, "%s: the supplier offer.created group is there", label);
		ok(hmac_null, "%s: the hmac group without a type is there", label);
		ok(!sup_stock, "%s: the old stock.updated event is not counted", label);
	}
	store_rows_free(rows);
	rows = NULL;
	is_int(store_stats(s, 0, &rows), 0, "%s: stats since 0", label);
	is_int(store_rows_count(rows), 3, "%s: three groups since 0", label);
	store_rows_free(rows);
	rows = NULL;

	is_int(store_list_sources(s, NOW, &rows), 0, "%s: list sources", label);
	is_int(store_rows_count(rows), 3, "%s: three sources", label);
	{
		int seen = 0;
		for (size_t i = 0; i < store_rows_count(rows); i++)
			if (cell(rows, i, 1) && strcmp(cell(rows, i, 1), "supplier") == 0) {
				seen = 1;
				is_str(cell(rows, i, 2), "42", "%s: source account", label);
				is_str(cell(rows, i, 3), "1", "%s: source enabled", label);
				is_str(cell(rows, i, 5), "2", "%s: unexpired secrets counted", label);
				is_int(cell_num(rows, i, 6), NOW, "%s: created_at", label);
			}
		ok(seen, "%s: the supplier source is listed", label);
	}
	store_rows_free(rows);
	rows = NULL;

	store_close(s);
	buf_free(&err);
	buf_free(&answer);
}

int main(void)
{
	const char *t = getenv("TMPDIR"), *pg = getenv("KANCA_TEST_PG_URI");
	char dir[256], path[300], uri[320];
	struct store *s = NULL;
	struct buf err;

	snprintf(dir, sizeof dir, "%s/kanca-store-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(path, sizeof path, "%s/t.db", dir);
	snprintf(uri, sizeof uri, "sqlite:%s", path);
	run(uri, "SQLite");

	/* a SQLite file in a directory that does not exist cannot be opened */
	buf_init(&err, 4096);
	snprintf(uri, sizeof uri, "sqlite:%s/no/such/dir/t.db", dir);
	is_int(store_open(uri, &s, &err), -1, "SQLite: a file in a missing directory is an error");
	ok(err.len > 0, "SQLite: with a message: %s", buf_str(&err));
	buf_free(&err);

	if (pg && *pg)
		run(pg, "PostgreSQL");
	else
		diag("PostgreSQL: not configured (set KANCA_TEST_PG_URI to an empty database)");

	snprintf(uri, sizeof uri, "%s-wal", path);
	unlink(uri);
	snprintf(uri, sizeof uri, "%s-shm", path);
	unlink(uri);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
