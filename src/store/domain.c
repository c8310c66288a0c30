/* domain.c: the domain tables providers and built-in handlers update: supplier offers, Trendyol
 * orders, Sosyal Köprü posts. */
#include "first.h"
#include "store/store_int.h"

/* $1..$15 of the offer statements: source, vendorOfferId, the fields, data, now, event. */
static void offer_params(struct db_param *p, struct num *n, long long source_id, long long event_id,
			 const struct store_offer *o, long long now)
{
	p[0] = PN(&n[0], source_id);
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
	p[13] = PN(&n[1], now);
	p[14] = PZ(&n[2], event_id);
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
	struct num n[3];
	struct db_rows rows;

	offer_params(p, n, source_id, event_id, o, now);
	if (store_exec(s, sql, 15, p, &rows) != DB_OK)
		return -1;
	*inserted = rows.nrows == 1 && store_cell_ll(&rows, 0, 0) == 1;
	db_rows_free(&rows);
	return 0;
}

int store_offer_update(struct store *s, long long source_id, long long event_id, const struct store_offer *o,
		       long long now, int *updated)
{
	static const char sql[] =
	    "UPDATE offers SET title = coalesce($3, title), price = coalesce($4, price), "
	    "currency = coalesce($5, currency), category = coalesce($6, category), "
	    "start_location = coalesce($7, start_location), end_location = coalesce($8, end_location), "
	    "start_at = coalesce($9, start_at), end_at = coalesce($10, end_at), "
	    "available_seats = coalesce($11, available_seats), description = coalesce($12, description), "
	    "data = $13, status = 'active', updated_at = $14, last_event_id = $15, revision = revision + 1 "
	    "WHERE source_id = $1 AND vendor_offer_id = $2 RETURNING id";
	struct db_param p[15];
	struct num n[3];
	struct db_rows rows;

	offer_params(p, n, source_id, event_id, o, now);
	if (store_exec(s, sql, 15, p, &rows) != DB_OK)
		return -1;
	*updated = (int)rows.nrows;
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
	if (store_exec(s, sql, 5, p, &rows) != DB_OK)
		return -1;
	*updated = (int)rows.nrows;
	db_rows_free(&rows);
	return 0;
}

int store_trendyol_upsert(struct store *s, long long source_id, long long event_id, const char *package_id,
			  const char *order_number, const char *status, long long last_modified,
			  const char *package_json, long long now, int *changed)
{
	static const char sql[] =
	    "INSERT INTO trendyol_orders (source_id, shipment_package_id, order_number, status, last_modified, "
	    "package, "
	    "event_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
	    "ON CONFLICT (source_id, shipment_package_id) DO UPDATE SET order_number = excluded.order_number, "
	    "status = excluded.status, last_modified = excluded.last_modified, package = excluded.package, "
	    "event_id = excluded.event_id, updated_at = excluded.updated_at "
	    "WHERE trendyol_orders.last_modified < excluded.last_modified RETURNING id";
	struct num n1, n2, n3, n4;
	struct db_param p[8] = {PN(&n1, source_id),	P(package_id),	 P(order_number),   P(status),
				PN(&n2, last_modified), P(package_json), PZ(&n3, event_id), PN(&n4, now)};

	return store_upsert_newer(s, sql, 8, p, changed);
}

int store_sosyalkopru_upsert(struct store *s, long long source_id, long long event_id, const char *post_id,
			     const char *status, const char *event_type, long long event_at, const char *data_json,
			     long long now, int *changed)
{
	static const char sql[] =
	    "INSERT INTO sosyalkopru_posts (source_id, post_id, status, last_event, event_at, data, event_id, "
	    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
	    "ON CONFLICT (source_id, post_id) DO UPDATE SET status = COALESCE(excluded.status, "
	    "sosyalkopru_posts.status), "
	    "last_event = excluded.last_event, event_at = excluded.event_at, data = excluded.data, "
	    "event_id = excluded.event_id, updated_at = excluded.updated_at "
	    "WHERE sosyalkopru_posts.event_at < excluded.event_at RETURNING id";
	struct num n1, n2, n3, n4;
	struct db_param p[8] = {PN(&n1, source_id), P(post_id),	  P(status),	     P(event_type),
				PN(&n2, event_at),  P(data_json), PZ(&n3, event_id), PN(&n4, now)};

	return store_upsert_newer(s, sql, 8, p, changed);
}
