/* receive.c: the path of one request, steps 2-7 of README's "What happens to a request". The answer is decided here;
 * response.c writes it. */
#include "first.h"
#include "receive.h"
#include "caps.h"
#include "app.h"
#include "clock.h"
#include "log.h"
#include "providers/registry.h"
#include "response.h"
#include "router.h"
#include "selftest.h"
#include "source_cache.h"
#include "store/store.h"
#include "providers/common.h"

#include <stdlib.h>
#include <string.h>

struct turn {
	struct app *app;
	struct request *req;
	struct response *res;
	struct route route;
	const struct provider *prov;
	struct store_source source;
	long long now;
};

static void audit(struct turn *t, const char *action, enum outcome o, const char *reason, long long event_id)
{
	struct store *s = t->app->store;

	if (!s || !t->prov)
		return;
	if (store_audit(s, t->now, action, t->prov->name, t->route.account, t->source.id, event_id, outcome_status(o),
			reason, t->req->remote_addr) < 0)
		log_error("could not write the audit log row (%s)", action);
}

static void answer(struct turn *t, enum outcome o, const struct provider_event *ev, const char *message)
{
	struct provider_call c = {t->req, &t->source, &t->app->cfg, t->now};

	if (t->prov && t->prov->answer)
		t->prov->answer(&c, o, ev, message, t->res);
	else
		common_answer(&c, o, ev, message, t->res);
}

/* A rejection: audit row (when the store answers), log line, answer. */
static void reject(struct turn *t, enum outcome o, const char *action, const char *reason)
{
	log_info("%s %s -> %d: %s", t->req->method, t->req->path, outcome_status(o), reason);
	audit(t, action, o, reason, 0);
	answer(t, o, NULL, reason);
}

static void serve_healthz(struct turn *t)
{
	struct store *s;

	if (strcmp(t->req->method, "GET") != 0 && strcmp(t->req->method, "HEAD") != 0) {
		response_error(t->res, OUTCOME_METHOD, "Method not allowed");
		(void)!response_header(t->res, "Allow", "GET, HEAD");
		return;
	}
	s = app_store(t->app);
	if (s && store_ping(s) == 0) {
		response_set(t->res, OUTCOME_OK);
		(void)!buf_printf(&t->res->body, "{\"status\":\"ok\",\"store\":\"%s\"}", store_backend(s));
	} else {
		response_set(t->res, OUTCOME_UNAVAILABLE);
		(void)!buf_printf(&t->res->body, "{\"status\":\"unavailable\",\"store\":\"%s\"}",
				  s ? store_backend(s) : "unopened");
	}
}

static int serve_webhook(struct turn *t, request_read_fn read, void *ctx)
{
	struct provider_call c;
	struct verdict v;
	struct provider_event evs[KANCA_EVENTS_MAX];
	size_t nevs = 0;
	struct buf reason, headers, stored;
	void *state = NULL;
	enum outcome o;
	struct store *s;
	const char *note;
	int rc, no_secret, dup_all = 1, kept = 0;
	store_apply_fn apply = NULL;

	memset(&v, 0, sizeof v);
	memset(evs, 0, sizeof evs);
	buf_init(&reason, KANCA_REASON_MAX);
	buf_init(&headers, KANCA_HEADERS_JSON_MAX);
	buf_init(&stored, KANCA_STORED_ANSWER_MAX);

	t->prov = registry_find(t->route.provider);
	if (!t->prov) {
		response_error(t->res, OUTCOME_NOT_FOUND, "Unknown provider");
		goto out;
	}
	log_set_request(t->prov->name, NULL);
	if (strcmp(t->req->method, "POST") != 0) {
		response_error(t->res, OUTCOME_METHOD, "Method not allowed");
		(void)!response_header(t->res, "Allow", "POST");
		goto out;
	}
	o = request_read_body(t->req, t->app->cfg.max_body_bytes, read, ctx);
	if (o != OUTCOME_OK) {
		reject(t, o, "rejected",
		       o == OUTCOME_TOO_LARGE	      ? "body larger than max_body_bytes"
		       : o == OUTCOME_LENGTH_REQUIRED ? "no Content-Length"
						      : "body shorter than Content-Length");
		goto out;
	}
	s = app_store(t->app);
	rc = s ? source_cache_get(s, t->prov->name, t->route.account, t->now, t->app->cfg.source_cache_seconds,
				  &t->source)
	       : -1;
	if (rc < 0) {
		log_error("store unavailable: cannot look up the source");
		answer(t, OUTCOME_INTERNAL, NULL, NULL);
		goto out;
	}
	if (rc == 0) {
		reject(t, OUTCOME_NOT_FOUND, "rejected", "unknown account");
		goto out;
	}
	if (!t->source.enabled) {
		reject(t, OUTCOME_FORBIDDEN, "rejected", "source is disabled");
		goto out;
	}
	c.req = t->req;
	c.source = &t->source;
	c.cfg = &t->app->cfg;
	c.now = t->now;
	no_secret = t->prov->needs_secret && t->source.nsecrets == 0;
	if (no_secret) {
		o = t->prov->no_secret;
		snprintf(v.reason, sizeof v.reason, "no secret configured");
	} else {
		o = t->prov->verify(&c, &v);
		if (o != OUTCOME_OK && !v.reason[0])
			snprintf(v.reason, sizeof v.reason, "verification failed");
	}
	/* kancactl doctor's self-test is answered here, verified or not, and never stored */
	if (selftest_serve(t->req, o, v.reason, t->res, &note)) {
		audit(t, "doctor", o, note, 0);
		goto out;
	}
	if (o != OUTCOME_OK) {
		if (no_secret)
			log_error("source %s/%s has no unexpired secret: refusing (fail closed)", t->prov->name,
				  t->route.account);
		reject(t, o, "rejected", v.reason);
		goto out;
	}
	o = t->prov->identify(&c, evs, &nevs, &reason, &state);
	if (o != OUTCOME_OK || nevs == 0) {
		if (o == OUTCOME_OK)
			o = OUTCOME_BAD_REQUEST;
		reject(t, o, o == OUTCOME_UNPROCESSABLE ? "processing_failed" : "rejected",
		       reason.len ? buf_str(&reason) : "no event in the request");
		goto out;
	}
	log_set_request(t->prov->name, evs[0].key);
	if (request_headers_json(t->req, &headers) < 0) {
		answer(t, OUTCOME_INTERNAL, NULL, NULL);
		goto out;
	}
	if (t->prov->apply && (!t->prov->apply_needed || t->prov->apply_needed(state)))
		apply = t->prov->apply;
	for (size_t i = 0; i < nevs; i++) {
		struct store_event ev = {
		    .source_id = t->source.id,
		    .provider = t->prov->name,
		    .account = t->route.account,
		    .key = evs[i].key,
		    .type = evs[i].type[0] ? evs[i].type : NULL,
		    .body = t->req->body.data,
		    .body_len = t->req->body.len,
		    .headers_json = buf_str(&headers),
		    .verification = v.detail,
		    .secret_id = v.secret_id,
		    .received_at = t->now,
		    .remote_addr = t->req->remote_addr,
		    .status = evs[i].status[0] ? evs[i].status : NULL,
		    .decoded = evs[i].decoded,
		};
		long long id = 0;
		int dup = 0;

		if (store_receive(s, &ev, apply, state, &id, &dup, &stored) < 0) {
			/* nothing of this event was written: the sender retries */
			log_error("could not store the event: %s", store_error(s));
			audit(t, "error", OUTCOME_INTERNAL, "store failed", 0);
			answer(t, OUTCOME_INTERNAL, NULL, NULL);
			goto out;
		}
		dup_all = dup_all && dup;
		kept++;
		log_info("%s event %lld type=%s", dup ? "duplicate of" : "stored", id,
			 evs[i].type[0] ? evs[i].type : "-");
	}
	o = dup_all ? OUTCOME_DUPLICATE : OUTCOME_OK;
	if (stored.len && nevs == 1) {
		response_set(t->res, o);
		if (buf_append(&t->res->body, stored.data, stored.len) < 0)
			answer(t, o, &evs[0], NULL);
	} else {
		answer(t, o, &evs[0], NULL);
	}
out:
	if (state && t->prov && t->prov->state_free)
		t->prov->state_free(state);
	buf_free(&reason);
	buf_free(&headers);
	buf_free(&stored);
	return kept;
}

int receive_serve(struct app *a, char *const *envp, request_read_fn read, void *ctx, struct buf *out)
{
	int kept = 0;
	struct request req;
	struct response res;
	struct turn t;
	enum outcome o;

	memset(&t, 0, sizeof t);
	response_init(&res);
	o = request_from_env(&req, envp);
	t.app = a;
	t.req = &req;
	t.res = &res;
	t.now = clock_now();
	log_set_request(NULL, NULL);
	if (o != OUTCOME_OK) {
		response_error(&res, o, outcome_phrase(o));
	} else {
		switch (router_match(a->cfg.base_path, req.path, &t.route)) {
		case ROUTE_HEALTHZ:
			serve_healthz(&t);
			break;
		case ROUTE_WEBHOOK:
			kept = serve_webhook(&t, read, ctx);
			break;
		default:
			response_error(&res, OUTCOME_NOT_FOUND, "Not found");
			break;
		}
	}
	if (response_serialize(&res, out) < 0) {
		buf_reset(out);
		(void)!buf_append_str(out, "Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n"
					   "Content-Length: 2\r\n\r\n{}");
	}
	log_set_request(NULL, NULL);
	store_source_free(&t.source);
	response_free(&res);
	request_free(&req);
	return kept;
}
