/* supplier.c: the supplier offers webhook (doc/providers.md, supplier).
 * X-Signature = lowercase hex HMAC-SHA256(secret as text, raw body). offer.* events write the offers
 * table in the same transaction that stores the event (offer.created inserts or updates, offer.updated
 * only updates an offer that exists); the answer carries the result. */
#include "first.h"
#include "providers/common.h"
#include "clock.h"
#include "json.h"
#include "options.h"
#include "request.h"
#include "response.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum offer_op { OP_NONE = 0, OP_CREATED, OP_UPDATED, OP_DELETED, OP_EXPIRED };

/* The numbers an offer may hold (doc/providers.md, supplier): a price of 0, or of a magnitude from
 * PRICE_MIN up to (not including) PRICE_MAX, so that it is finite and a double holds it to the cent;
 * availableSeats an integer from 0 to SEATS_MAX. */
#define PRICE_MIN 1e-15
#define PRICE_MAX 1e15
#define SEATS_MAX 2147483647LL

static const struct {
	const char *event;
	enum offer_op op;
	const char *message;
} offer_events[] = {
    {"offer.created", OP_CREATED, "Offer created"},
    {"offer.updated", OP_UPDATED, "Offer updated"},
    {"offer.deleted", OP_DELETED, "Offer marked as deleted"},
    {"offer.expired", OP_EXPIRED, "Offer marked as expired"},
};

struct supplier_state {
	struct json *root;
	enum offer_op op;
	const char *message;
	char event[KANCA_TYPE_MAX + 1];
	long long source_id;
	long long now;
	struct store_offer offer;
	struct buf data; /* the data object, serialised for the offers table */
	char seats[24];
};

static void state_free(void *p)
{
	struct supplier_state *st = p;

	if (!st)
		return;
	json_free(st->root);
	buf_free(&st->data);
	free(st);
}

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	const void *parts[1] = {c->req->body.data ? c->req->body.data : ""};
	size_t lens[1] = {c->req->body.len};

	return common_verify_hmac_header(c, "x-signature", "", VERIFY_HEX, parts, lens, 1, v);
}

static int sign(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err)
{
	return common_sign_body_hmac(in, "X-Signature", "", VERIFY_HEX, body, headers, err);
}

/* A member that must be a string when present; NULL when absent or JSON null. -1 when of another type. */
static int opt_string(const struct json *data, const char *key, const char **out, struct buf *reason)
{
	const struct json *j = json_get(data, key);

	*out = NULL;
	if (!j || json_kind_of(j) == JSON_NULL)
		return 0;
	*out = json_string(j, NULL);
	if (!*out) {
		(void)!buf_printf(reason, "%s must be a string", key);
		return -1;
	}
	return 0;
}

static enum outcome validate_offer(struct supplier_state *st, const struct json *data, struct buf *reason)
{
	struct store_offer *o = &st->offer;
	const struct json *j;
	const char *bad_date;
	size_t n;

	if (json_kind_of(data) != JSON_OBJECT) {
		(void)!buf_append_str(reason, "data must be an object");
		return OUTCOME_UNPROCESSABLE;
	}
	o->vendor_offer_id = json_get_string(data, "vendorOfferId", &n);
	if (!o->vendor_offer_id || n == 0 || n > KANCA_KEY_MAX) {
		(void)!buf_append_str(reason, "vendorOfferId is required (a non-empty string)");
		return OUTCOME_UNPROCESSABLE;
	}
	if (st->op == OP_DELETED || st->op == OP_EXPIRED)
		return OUTCOME_OK;
	if (opt_string(data, "title", &o->title, reason) < 0 ||
	    opt_string(data, "currency", &o->currency, reason) < 0 ||
	    opt_string(data, "category", &o->category, reason) < 0 ||
	    opt_string(data, "startLocation", &o->start_location, reason) < 0 ||
	    opt_string(data, "endLocation", &o->end_location, reason) < 0 ||
	    opt_string(data, "startAt", &o->start_at, reason) < 0 ||
	    opt_string(data, "endAt", &o->end_at, reason) < 0 ||
	    opt_string(data, "description", &o->description, reason) < 0)
		return OUTCOME_UNPROCESSABLE;
	j = json_get(data, "price");
	if (j && json_kind_of(j) != JSON_NULL) {
		if (json_kind_of(j) != JSON_NUMBER) {
			(void)!buf_append_str(reason, "price must be a number");
			return OUTCOME_UNPROCESSABLE;
		}
		/* 1e999 (infinite), 1e-99999 (reads as 0), integers beyond 64 bits (they saturate) */
		if (!json_number_within(j, PRICE_MIN, PRICE_MAX, NULL)) {
			(void)!buf_append_str(reason,
					      "price is out of range (0, or a magnitude from 1e-15 to below 1e15)");
			return OUTCOME_UNPROCESSABLE;
		}
		o->price = json_number_text(j);
	}
	if (st->op == OP_CREATED) {
		const char *missing = !o->title	     ? "title"
				      : !o->price    ? "price"
				      : !o->currency ? "currency"
				      : !o->category ? "category"
						     : NULL;
		if (missing) {
			(void)!buf_printf(reason, "%s is required for offer.created", missing);
			return OUTCOME_UNPROCESSABLE;
		}
	}
	bad_date = o->start_at && clock_parse_iso8601(o->start_at, NULL) < 0 ? "startAt"
		   : o->end_at && clock_parse_iso8601(o->end_at, NULL) < 0   ? "endAt"
									     : NULL;
	if (bad_date) {
		(void)!buf_printf(reason, "%s must be an ISO 8601 date", bad_date);
		return OUTCOME_UNPROCESSABLE;
	}
	j = json_get(data, "availableSeats");
	if (j && json_kind_of(j) != JSON_NULL) {
		if (!json_is_integer(j) || json_integer(j) < 0 || json_integer(j) > SEATS_MAX) {
			(void)!buf_append_str(reason, "availableSeats must be an integer from 0 to 2147483647");
			return OUTCOME_UNPROCESSABLE;
		}
		snprintf(st->seats, sizeof st->seats, "%lld", json_integer(j));
		o->available_seats = st->seats;
	}
	if (json_serialize(data, &st->data) < 0)
		return OUTCOME_INTERNAL;
	o->data_json = buf_str(&st->data);
	return OUTCOME_OK;
}

/* The optional "events" option lists the event types this supplier may send. */
static int event_allowed(const char *options, const char *event)
{
	char list[KANCA_OPTION_MAX + 1];
	const char *p;
	size_t n = strlen(event);

	if (options_get(options, "events", list, sizeof list) != 1 || !list[0])
		return 1;
	for (p = list; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && memcmp(p, event, n) == 0)
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	struct supplier_state *st = calloc(1, sizeof *st);
	const char *event;
	size_t n;
	enum outcome o;

	if (!st)
		return OUTCOME_INTERNAL;
	*state = st;
	buf_init(&st->data, KANCA_BODY_LIMIT);
	st->source_id = c->source->id;
	st->now = c->now;
	o = common_parse_body(c, &st->root, reason);
	if (o != OUTCOME_OK)
		return o;
	if (json_kind_of(st->root) != JSON_OBJECT) {
		(void)!buf_append_str(reason, "Invalid JSON: expected an object");
		return OUTCOME_BAD_REQUEST;
	}
	event = json_get_string(st->root, "event", &n);
	if (!event || common_copy_text(st->event, sizeof st->event, event, n) < 0 ||
	    !event_allowed(c->source->options, st->event)) {
		(void)!buf_append_str(reason, "Invalid event type");
		return OUTCOME_BAD_REQUEST;
	}
	if (strncmp(st->event, "offer.", 6) == 0) {
		for (size_t i = 0; i < sizeof offer_events / sizeof offer_events[0]; i++)
			if (strcmp(st->event, offer_events[i].event) == 0) {
				st->op = offer_events[i].op;
				st->message = offer_events[i].message;
			}
		if (st->op == OP_NONE) {
			(void)!buf_append_str(reason, "Invalid event type");
			return OUTCOME_BAD_REQUEST;
		}
		o = validate_offer(st, json_get(st->root, "data"), reason);
		if (o != OUTCOME_OK)
			return o;
	}
	memcpy(evs[0].type, st->event, sizeof st->event);
	*nevs = 1;
	return common_key_or_body_hash(c, st->root, "eventId", evs[0].key);
}

static int apply(struct store *s, long long event_id, void *arg, struct buf *answer)
{
	struct supplier_state *st = arg;
	int inserted = 0, updated = 0;
	const char *word, *message = st->message;
	int count;

	switch (st->op) {
	case OP_CREATED:
		if (store_offer_upsert(s, st->source_id, event_id, &st->offer, st->now, &inserted) < 0)
			return -1;
		word = inserted ? "inserted" : "updated";
		count = 1;
		break;
	case OP_UPDATED:
		/* an update never creates: an unknown offer lacks what offer.created requires */
		if (store_offer_update(s, st->source_id, event_id, &st->offer, st->now, &updated) < 0)
			return -1;
		if (!updated)
			message = "Offer not found";
		word = "updated";
		count = updated;
		break;
	case OP_DELETED:
	case OP_EXPIRED:
		if (store_offer_mark(s, st->source_id, event_id, st->offer.vendor_offer_id,
				     st->op == OP_DELETED ? "deleted" : "expired", st->now, &updated) < 0)
			return -1;
		word = "updated";
		count = updated;
		break;
	default:
		return 0; /* not an offer event: nothing to update, answer() says "Event received" */
	}
	if (buf_printf(answer, "{\"success\":true,\"message\":\"%s\",\"event\":\"%s\",\"result\":{\"%s\":%d}}", message,
		       st->event, word, count) < 0)
		return -1;
	return 0;
}

static int apply_needed(const void *state)
{
	const struct supplier_state *st = state;

	return st && st->op != OP_NONE;
}

static void answer(const struct provider_call *c, enum outcome o, const struct provider_event *ev, const char *message,
		   struct response *res)
{
	const char *text;

	switch (o) {
	case OUTCOME_UNAUTHORIZED:
		text = message && strncmp(message, "missing", 7) == 0 ? "Missing signature" : "Invalid signature";
		break;
	case OUTCOME_NOT_FOUND:
		text = "Supplier not found";
		break;
	case OUTCOME_FORBIDDEN:
		text = message && strstr(message, "disabled") ? "Supplier is disabled"
							      : "Webhook not configured for supplier";
		break;
	case OUTCOME_UNPROCESSABLE:
		response_set(res, o);
		if (buf_append_str(&res->body,
				   "{\"success\":false,\"error\":\"Failed to process offer\",\"details\":") < 0 ||
		    buf_append_json_string(&res->body, message ? message : "", message ? strlen(message) : 0) < 0 ||
		    buf_append_str(&res->body, "}") < 0)
			buf_reset(&res->body);
		return;
	case OUTCOME_INTERNAL:
		text = "Internal server error";
		break;
	case OUTCOME_OK:
	case OUTCOME_DUPLICATE:
		/* offer events answer with what apply stored; the others are acknowledged like this */
		response_set(res, OUTCOME_OK);
		if (buf_append_str(&res->body,
				   message && strcmp(message, PROVIDER_QUEUED) == 0
				       ? "{\"success\":true,\"message\":\"Event queued\",\"queued\":true,\"event\":"
				       : "{\"success\":true,\"message\":\"Event received\",\"event\":") < 0 ||
		    buf_append_json_string(&res->body, ev ? ev->type : "", ev ? strlen(ev->type) : 0) < 0 ||
		    buf_append_str(&res->body, "}") < 0)
			buf_reset(&res->body);
		return;
	default:
		common_answer(c, o, ev, message, res);
		return;
	}
	response_error(res, o, text);
}

static int check_options(const char *options, struct buf *err)
{
	static const char *const known[] = {"events", NULL};

	return common_check_keys(options, known, err);
}

const struct provider provider_supplier = {
    .name = "supplier",
    .summary = "supplier offers: X-Signature hex HMAC-SHA256 of the body, offers upserted",
    .needs_secret = 1,
    .no_secret = OUTCOME_FORBIDDEN,
    .check_options = check_options,
    .verify = verify,
    .identify = identify,
    .apply = apply,
    .apply_needed = apply_needed,
    .answer = answer,
    .state_free = state_free,
    .sign = sign,
};
