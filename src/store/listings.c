/* listings.c: the read-only listings kancactl shows (events, one event, stats, audit log). */
#include "first.h"
#include "store/store_int.h"

int store_list_events(struct store *s, const char *provider, const char *account, const char *status, long limit,
		      struct store_rows **out)
{
	static const char sql[] =
	    "SELECT e.id, s.provider, s.account, e.event_type, e.idempotency_key, e.status, e.received_at, "
	    "e.attempts, length(e.body), e.public_id FROM events e JOIN sources s ON s.id = e.source_id "
	    "WHERE ($1::text IS NULL OR s.provider = $1) AND ($2::text IS NULL OR s.account = $2) "
	    "AND ($3::text IS NULL OR e.status = $3) ORDER BY e.id DESC LIMIT $4";
	static const char sql_lite[] =
	    "SELECT e.id, s.provider, s.account, e.event_type, e.idempotency_key, e.status, e.received_at, "
	    "e.attempts, length(e.body), e.public_id FROM events e JOIN sources s ON s.id = e.source_id "
	    "WHERE ($1 IS NULL OR s.provider = $1) AND ($2 IS NULL OR s.account = $2) "
	    "AND ($3 IS NULL OR e.status = $3) ORDER BY e.id DESC LIMIT $4";
	struct num n;
	struct db_param p[4] = {P(provider), P(account), P(status), PN(&n, limit)};

	return store_listing(s, s->ops->dml_cte ? sql : sql_lite, 4, p, out);
}

int store_get_event(struct store *s, long long id, const char *public_id, struct store_rows **out)
{
	static const char sql[] =
	    "SELECT e.id, s.provider, s.account, e.event_type, e.idempotency_key, e.status, e.received_at, "
	    "e.verification, e.secret_id, e.headers, e.body, e.attempts, e.processed_at, e.response, e.decoded, "
	    "e.public_id FROM events e JOIN sources s ON s.id = e.source_id WHERE e.id = $1 OR e.public_id = $2";
	struct num n;
	struct db_param p[2] = {PN(&n, id), P(public_id ? public_id : "")};

	return store_listing(s, sql, 2, p, out);
}

int store_stats(struct store *s, long long since, struct store_rows **out)
{
	static const char sql[] =
	    "SELECT s.provider, s.account, e.event_type, e.status, count(*), max(e.received_at) "
	    "FROM events e JOIN sources s ON s.id = e.source_id WHERE e.received_at > $1 "
	    "GROUP BY s.provider, s.account, e.event_type, e.status ORDER BY count(*) DESC, s.provider, s.account";
	struct num n;
	struct db_param p[1] = {PN(&n, since)};

	return store_listing(s, sql, 1, p, out);
}

int store_list_audit(struct store *s, long limit, struct store_rows **out)
{
	/* rows written by the processor carry only the source's id: its name comes from sources */
	static const char sql[] =
	    "SELECT a.action, coalesce(a.provider, s.provider), coalesce(a.account, s.account), a.status_code, "
	    "a.reason, "
	    "a.at, a.count, (SELECT public_id FROM events e WHERE e.id = a.event_id) FROM audit_log a "
	    "LEFT JOIN sources s ON s.id = a.source_id ORDER BY a.id DESC LIMIT $1";
	struct num n;
	struct db_param p[1] = {PN(&n, limit)};

	return store_listing(s, sql, 1, p, out);
}
