/* receive.c: the path of one request, steps 2-7 of README's "What happens to a request". The answer is decided here;
 * response.c writes it. */
#include "first.h"
#include "receive.h"
#include "caps.h"
#include "app.h"
#include "clock.h"
#include "health.h"
#include "intake.h"
#include "log.h"
#include "providers/registry.h"
#include "response.h"
#include "router.h"
#include "selftest.h"
#include "source_cache.h"
#include "spool.h"
#include "store/store.h"
#include "providers/common.h"

#include <stdlib.h>
#include <string.h>

#define TROUBLE_WAIT   0.25 /* a store that made a delivery wait longer than this and failed ... */
#define TROUBLE_WINDOW 1.0  /* ... is not asked again for this long: deliveries go to the spool at once */
#define RETRY_AFTER    "30"
#define PENDING_AUDITS 4

struct turn {
	struct app *app;
	struct request *req;
	struct response *res;
	struct route route;
	const struct provider *prov;
	struct store_source source;
	long long now;
	double store_deadline; /* clock_monotonic(): the store's waits end here, leaving time to spool */
};

/* Audit rows wait until the answer is written (receive_after): a rejection never waits on the store. */
struct pending_audit {
	long long at, source_id;
	int status;
	char action[24];
	char provider[KANCA_SEGMENT_MAX + 1], account[KANCA_SEGMENT_MAX + 1];
	char reason[KANCA_REASON_MAX + 1];
	char remote_addr[64];
};
static struct pending_audit pending[PENDING_AUDITS];
static size_t npending;

/* Until this clock_monotonic() time deliveries are spooled without asking the store (see keep). */
static double trouble_until;
/* After a trouble, until this time the store is asked with a short deadline (TROUBLE_WAIT): a store that
 * is still in trouble then costs a delivery a quarter of a second, not the whole deadline. */
#define TROUBLE_MEMORY 30.0
static double careful_until;
static struct log_every store_trouble, spool_trouble;

static void audit(struct turn *t, const char *action, enum outcome o, const char *reason)
{
	struct pending_audit *p;

	if (!t->prov || npending >= PENDING_AUDITS)
		return;
	p = &pending[npending++];
	p->at = t->now;
	p->source_id = t->source.id;
	p->status = outcome_status(o);
	snprintf(p->action, sizeof p->action, "%s", action);
	snprintf(p->provider, sizeof p->provider, "%s", t->prov->name);
	snprintf(p->account, sizeof p->account, "%s", t->route.account);
	snprintf(p->reason, sizeof p->reason, "%s", reason ? reason : "");
	snprintf(p->remote_addr, sizeof p->remote_addr, "%s", t->req->remote_addr);
}

void receive_after(struct app *a)
{
	struct store *s;

	if (!npending)
		return;
	/* best effort, bounded: a store in trouble costs the next request at most one deadline */
	s = clock_monotonic() < trouble_until ? NULL : app_store(a);
	if (s)
		store_set_deadline(s, clock_monotonic() + (double)a->cfg.answer_deadline_ms / 1000.0);
	for (size_t i = 0; i < npending && s; i++) {
		struct pending_audit *p = &pending[i];
		/* a refusal is counted: a flood of the same one adds to one row per minute (doc/operations.md);
		 * a verified doctor self-test (200) keeps its own row */
		int rc = p->status >= 400 ? store_audit_counted(s, p->at, p->action, p->provider, p->account,
								p->source_id, p->status, p->reason, p->remote_addr)
					  : store_audit(s, p->at, p->action, p->provider, p->account, p->source_id, 0,
							p->status, p->reason[0] ? p->reason : NULL, p->remote_addr);
		if (rc < 0) {
			if (log_every(&store_trouble, (int)store_failure(s) + 100))
				log_warn("audit log rows were not written: the store is %s (%s)",
					 store_failure_name(store_failure(s)), store_error(s));
			break;
		}
	}
	if (s)
		store_set_deadline(s, 0);
	npending = 0;
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
	audit(t, action, o, reason);
	answer(t, o, NULL, reason);
}

static void serve_healthz(struct turn *t)
{
	if (strcmp(t->req->method, "GET") != 0 && strcmp(t->req->method, "HEAD") != 0) {
		response_error(t->res, OUTCOME_METHOD, "Method not allowed");
		(void)!response_header(t->res, "Allow", "GET, HEAD");
		return;
	}
	health_serve(t->app, t->now, t->store_deadline, t->res);
}

/* The answer when neither the store nor the spool can keep a delivery: 503, try again later. */
static void unavailable(struct turn *t, const char *why)
{
	answer(t, OUTCOME_UNAVAILABLE, NULL, why);
	(void)!response_header(t->res, "Retry-After", RETRY_AFTER);
}

/* Whether a failure is trouble the spool is for (the store will take the delivery later), rather than
 * an error of this delivery or of kanca. */
static int is_trouble(enum store_failure f)
{
	return f != STORE_FAIL_NONE && f != STORE_FAIL_OTHER;
}

/* The source: from the cache or the store; while the store is in trouble, from an older cache entry
 * (up to an hour), so that deliveries for a known source are still verified and spooled. 1, 0 (no such
 * source), -1 (cannot tell now). */
static int find_source(struct turn *t, struct store *s)
{
	int rc;

	if (clock_monotonic() >= trouble_until || !s) {
		rc = source_cache_get(s, t->prov->name, t->route.account, t->now, t->app->cfg.source_cache_seconds,
				      &t->source);
		if (rc >= 0)
			return rc;
		if (s && !is_trouble(store_failure(s)))
			return -1;
	}
	store_source_free(&t->source);
	rc = source_cache_stale(t->prov->name, t->route.account, t->now, &t->source);
	return rc == 1 ? 1 : -1;
}

/* Keeps an authentic, identified delivery: in the store, or when the store cannot commit it within the
 * deadline (down, locked, full, read-only), in the spool. 1 stored (res filled), 0 spooled, -1 neither. */
static int keep(struct turn *t, struct store *s, const struct provider_call *c, const struct verdict *v,
		struct provider_event *evs, size_t nevs, void *state, struct buf *stored, struct intake_result *res)
{
	struct spool_record rec;
	struct buf err;
	char dir[1024];
	double t0 = clock_monotonic();
	enum store_failure f = STORE_FAIL_DOWN;
	int rc;

	if (s && t0 >= trouble_until) {
		if (intake_store(s, t->prov, c, t->route.account, v->detail, v->secret_id, t->now, evs, nevs, state,
				 stored, res) == 0)
			return 1;
		f = store_failure(s);
		if (!is_trouble(f)) {
			log_error("could not store the event: %s", store_error(s));
			return -1;
		}
		if (clock_monotonic() - t0 > TROUBLE_WAIT * 0.9) {
			trouble_until = clock_monotonic() + TROUBLE_WINDOW;
			careful_until = clock_monotonic() + TROUBLE_MEMORY;
		}
		if (log_every(&store_trouble, (int)f))
			log_error("the store is %s (%s): deliveries go to the spool until it commits again",
				  store_failure_name(f), store_error(s));
	}
	memset(&rec, 0, sizeof rec);
	snprintf(rec.provider, sizeof rec.provider, "%s", t->prov->name);
	snprintf(rec.account, sizeof rec.account, "%s", t->route.account);
	snprintf(rec.verification, sizeof rec.verification, "%s", v->detail);
	rec.secret_id = v->secret_id;
	rec.received_at = t->now;
	rec.req = *t->req; /* borrowed for the write, not freed here */
	buf_init(&err, 512);
	rc = config_spool_dir(&t->app->cfg, dir, sizeof dir) == 0 &&
		     spool_write(dir, t->app->cfg.spool_max_bytes, &rec, &err) == 0
		 ? 0
		 : -1;
	if (rc == 0)
		log_info("delivery queued in the spool (the store is %s)", store_failure_name(f));
	else if (log_every(&spool_trouble, 1))
		log_error("cannot keep deliveries: the store is %s and %s; answering 503", store_failure_name(f),
			  err.len ? buf_str(&err) : "the spool directory name is too long");
	buf_free(&err);
	return rc;
}

static int serve_webhook(struct turn *t, request_read_fn read, void *ctx)
{
	struct provider_call c;
	struct verdict v;
	struct provider_event evs[KANCA_EVENTS_MAX];
	size_t nevs = 0;
	struct buf reason, stored;
	struct intake_result res;
	void *state = NULL;
	enum outcome o;
	struct store *s = NULL;
	const char *note;
	int rc, no_secret, kept = 0, spooled = 0;

	memset(&v, 0, sizeof v);
	memset(evs, 0, sizeof evs);
	buf_init(&reason, KANCA_REASON_MAX);
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
	s = clock_monotonic() < trouble_until ? t->app->store : app_store(t->app);
	if (s)
		store_set_deadline(s, t->store_deadline);
	rc = find_source(t, s);
	if (rc < 0) {
		if (log_every(&store_trouble, 50))
			log_error("the store cannot be asked for sources now%s%s: answering 503",
				  s ? ": " : " (it cannot be opened)", s ? store_error(s) : "");
		unavailable(t, "Service temporarily unavailable");
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
		audit(t, "doctor", o, note);
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
	rc = keep(t, s, &c, &v, evs, nevs, state, &stored, &res);
	if (rc < 0) {
		if (s && !is_trouble(store_failure(s))) {
			/* nothing of this event was written: the sender retries */
			audit(t, "error", OUTCOME_INTERNAL, "store failed");
			answer(t, OUTCOME_INTERNAL, NULL, NULL);
		} else {
			unavailable(t, "Service temporarily unavailable");
		}
		goto out;
	}
	if (rc == 0) {
		answer(t, OUTCOME_OK, &evs[0], PROVIDER_QUEUED);
		spooled = 1;
		goto out;
	}
	kept = res.kept;
	o = res.dup_all ? OUTCOME_DUPLICATE : OUTCOME_OK;
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
	buf_free(&stored);
	if (s)
		store_set_deadline(s, 0);
	return kept ? kept : spooled ? -1 : 0;
}

int receive_serve(struct app *a, char *const *envp, request_read_fn read, void *ctx, struct buf *out)
{
	int kept = 0, spooled = 0;
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
	{
		double d = (double)a->cfg.answer_deadline_ms / 1000.0, reserve = d / 4 < 0.5 ? d / 4 : 0.5;
		double now = clock_monotonic();
		t.store_deadline = now + d - reserve;
		if (now < careful_until && t.store_deadline > now + TROUBLE_WAIT)
			t.store_deadline = now + TROUBLE_WAIT;
	}
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
			if (kept < 0) { /* spooled: the processor drains it as soon as the store commits */
				kept = 0;
				spooled = 1;
			}
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
	return kept ? kept : spooled ? RECEIVE_SPOOLED : 0;
}
