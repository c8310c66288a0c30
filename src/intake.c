/* intake.c: identified, authentic deliveries into the store (intake.h), live and from the spool. */
#include "first.h"
#include "intake.h"
#include "buf.h"
#include "caps.h"
#include "config.h"
#include "log.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "request.h"
#include "source_cache.h"
#include "spool.h"
#include "store/store.h"

#include <errno.h>
#include <string.h>

int intake_store(struct store *s, const struct provider *prov, const struct provider_call *c, const char *account,
		 const char *verification, long long secret_id, long long received_at, struct provider_event *evs,
		 size_t nevs, void *state, struct buf *stored, struct intake_result *out)
{
	struct buf headers;
	store_apply_fn apply = NULL;
	int rc = -1;

	out->dup_all = 1;
	out->kept = 0;
	buf_init(&headers, KANCA_HEADERS_JSON_MAX);
	if (request_headers_json(c->req, &headers) < 0)
		goto out;
	if (prov->apply && (!prov->apply_needed || prov->apply_needed(state)))
		apply = prov->apply;
	for (size_t i = 0; i < nevs; i++) {
		struct store_event ev = {
		    .source_id = c->source->id,
		    .provider = prov->name,
		    .account = account,
		    .key = evs[i].key,
		    .type = evs[i].type[0] ? evs[i].type : NULL,
		    .body = c->req->body.data,
		    .body_len = c->req->body.len,
		    .headers_json = buf_str(&headers),
		    .verification = verification,
		    .secret_id = secret_id,
		    .received_at = received_at,
		    .remote_addr = c->req->remote_addr,
		    .status = evs[i].status[0] ? evs[i].status : NULL,
		    .decoded = evs[i].decoded,
		};
		long long id = 0;
		int dup = 0;

		log_set_request(prov->name, evs[i].key); /* each event's lines carry its own key */
		if (store_receive(s, &ev, apply, state, &id, &dup, stored) < 0)
			goto out; /* nothing of this event was written */
		out->dup_all = out->dup_all && dup;
		out->kept++;
		log_info("%s event %lld type=%s", dup ? "duplicate of" : "stored", id,
			 evs[i].type[0] ? evs[i].type : "-");
	}
	rc = 0;
out:
	if (nevs > 0)
		log_set_request(prov->name, evs[0].key); /* the request's context again, as the caller set it */
	buf_free(&headers);
	return rc;
}

struct drain_ctx {
	struct store *s;
	const struct config *cfg;
};

/* One spooled delivery into the store: identified again exactly as it was live (it was verified
 * then; its source's secrets may have rotated since). */
static int store_spooled(void *arg, const struct spool_record *r)
{
	struct drain_ctx *d = arg;
	const struct provider *prov = registry_find(r->provider);
	struct provider_event evs[KANCA_EVENTS_MAX];
	struct store_source src;
	struct provider_call c;
	struct intake_result res;
	struct buf reason, stored;
	size_t nevs = 0;
	void *state = NULL;
	int rc, found;

	if (!prov) {
		log_error("spooled delivery for unknown provider %s", r->provider);
		return -2;
	}
	memset(&src, 0, sizeof src);
	/* a spool holds runs of deliveries for the same source: the cache saves a query per record */
	found = source_cache_get(d->s, prov->name, r->account, r->received_at, d->cfg->source_cache_seconds, &src);
	if (found < 0)
		return -1;
	if (found == 0) {
		log_error("spooled delivery for %s/%s: the source no longer exists", prov->name, r->account);
		return -2;
	}
	memset(evs, 0, sizeof evs);
	buf_init(&reason, KANCA_REASON_MAX);
	buf_init(&stored, KANCA_STORED_ANSWER_MAX);
	c.req = &r->req;
	c.source = &src;
	c.cfg = d->cfg;
	c.now = r->received_at;
	log_set_request(prov->name, NULL);
	if (prov->identify(&c, evs, &nevs, &reason, &state) != OUTCOME_OK || nevs == 0) {
		log_error("spooled delivery for %s/%s no longer identifies (%s)", prov->name, r->account,
			  reason.len ? buf_str(&reason) : "no event");
		rc = -2;
	} else {
		log_set_request(prov->name, evs[0].key);
		rc = intake_store(d->s, prov, &c, r->account, r->verification, r->secret_id, r->received_at, evs, nevs,
				  state, &stored, &res);
		/* a store in trouble keeps the record for later; an error of this delivery sets it aside */
		if (rc < 0 && store_failure(d->s) == STORE_FAIL_OTHER) {
			log_error("a spooled delivery for %s/%s cannot be stored: %s", prov->name, r->account,
				  store_error(d->s));
			rc = -2;
		}
	}
	log_set_request(NULL, NULL);
	if (state && prov->state_free)
		prov->state_free(state);
	buf_free(&reason);
	buf_free(&stored);
	store_source_free(&src);
	return rc;
}

static int batch_begin(void *arg)
{
	return store_batch_begin(((struct drain_ctx *)arg)->s);
}

static int batch_commit(void *arg)
{
	return store_batch_commit(((struct drain_ctx *)arg)->s);
}

static void batch_abort(void *arg)
{
	store_batch_abort(((struct drain_ctx *)arg)->s);
}

int intake_drain(struct store *s, const struct config *cfg, long max, struct intake_drained *out)
{
	struct drain_ctx d = {s, cfg};
	struct spool_sink sink = {store_spooled, batch_begin, batch_commit, batch_abort, &d};
	struct spool_drained sd;
	char dir[1024];

	memset(out, 0, sizeof *out);
	if (config_spool_dir(cfg, dir, sizeof dir) < 0) {
		log_error("the spool directory's name is too long");
		return -1;
	}
	if (spool_drain(dir, max, &sink, &sd) < 0) {
		log_error("cannot read the spool %s: %s", dir, strerror(errno));
		return -1;
	}
	out->stored = sd.stored;
	out->bad = sd.bad;
	out->left = sd.left;
	out->busy = sd.busy;
	out->stopped = sd.stopped;
	if (sd.stored || sd.bad)
		log_info("spool %s: %ld deliveries stored, %ld set aside, %ld waiting", dir, sd.stored, sd.bad,
			 sd.left);
	return 0;
}
