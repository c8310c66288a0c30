/* builtin.c: the built-in domain handlers (action kind "builtin"), as the integration guides describe them:
 * trendyol_orders keeps the newest state of each Trendyol shipment package, sosyalkopru_posts the newest state of each
 * Sosyal Köprü post; in both an older event never overwrites a newer one. */
#include "first.h"
#include "process/builtin.h"
#include "process/process.h"
#include "buf.h"
#include "caps.h"
#include "clock.h"
#include "json.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* A member that is a string, or an integer written as text, into out. 0 or -1. */
static int text_of(const struct json *obj, const char *key, char *out, size_t cap)
{
	const struct json *j = json_get(obj, key);
	size_t n;
	const char *s = json_string(j, &n);

	if (s && n && n < cap) {
		memcpy(out, s, n + 1);
		return 0;
	}
	if (json_is_integer(j)) {
		snprintf(out, cap, "%lld", json_integer(j));
		return 0;
	}
	return -1;
}

static int trendyol_orders(struct store *s, const struct store_job *job, char *err, size_t errcap)
{
	struct json *root = NULL;
	const struct json *content;
	int rc = -1;

	if (json_parse(job->body, job->body_len, KANCA_JSON_DEPTH, &root) != JSON_OK) {
		snprintf(err, errcap, "body is not JSON");
		return -1;
	}
	content = json_get(root, "content");
	if (json_array_len(content) == 0) {
		snprintf(err, errcap, "no content packages");
		goto out;
	}
	for (size_t i = 0; i < json_array_len(content); i++) {
		const struct json *pkg = json_array_at(content, i);
		const struct json *lm = json_get(pkg, "lastModifiedDate");
		char id[KANCA_KEY_MAX], order[KANCA_KEY_MAX] = "", status[KANCA_TYPE_MAX];
		struct buf js;
		int changed = 0, bad;

		if (text_of(pkg, "shipmentPackageId", id, sizeof id) < 0 ||
		    text_of(pkg, "status", status, sizeof status) < 0 || !json_is_integer(lm)) {
			snprintf(err, errcap, "package %zu lacks shipmentPackageId, status or lastModifiedDate", i);
			goto out;
		}
		(void)text_of(pkg, "orderNumber", order, sizeof order);
		buf_init(&js, KANCA_BODY_LIMIT);
		bad = json_serialize(pkg, &js) < 0 ||
		      store_trendyol_upsert(s, job->source_id, job->event_id, id, order[0] ? order : NULL, status,
					    json_integer(lm), buf_str(&js), clock_now(), &changed) < 0;
		buf_free(&js);
		if (bad) {
			snprintf(err, errcap, "the store failed");
			goto out;
		}
	}
	rc = 0;
out:
	json_free(root);
	return rc;
}

/* The status a post.* event implies when data.status is absent: post.published -> PUBLISHED;
 * post.updated (and any other) implies none, and the stored status is kept. */
static void implied_status(const char *type, char *out, size_t cap)
{
	static const char *const known[] = {"publishing", "published", "failed", "scheduled"};
	const char *what = type + strlen("post.");

	out[0] = '\0';
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(what, known[i]) == 0 && strlen(what) < cap) {
			for (size_t k = 0; what[k]; k++)
				out[k] = (char)(what[k] - 'a' + 'A');
			out[strlen(what)] = '\0';
		}
}

static int sosyalkopru_posts(struct store *s, const struct store_job *job, char *err, size_t errcap)
{
	struct json *root = NULL;
	const struct json *data;
	const char *type, *stamp;
	char post[KANCA_KEY_MAX], status[KANCA_TYPE_MAX];
	struct buf js;
	int64_t at;
	int changed = 0, rc = -1;

	if (json_parse(job->body, job->body_len, KANCA_JSON_DEPTH, &root) != JSON_OK) {
		snprintf(err, errcap, "body is not JSON");
		return -1;
	}
	type = json_get_string(root, "event", NULL);
	if (!type || strncmp(type, "post.", 5) != 0) {
		rc = 0; /* webhook.test and other events carry no post */
		goto out;
	}
	data = json_get(root, "data");
	stamp = json_get_string(root, "timestamp", NULL);
	if (text_of(data, "postId", post, sizeof post) < 0 || !stamp || clock_parse_iso8601(stamp, &at) < 0) {
		snprintf(err, errcap, "%s lacks data.postId or an ISO 8601 timestamp", type);
		goto out;
	}
	if (text_of(data, "status", status, sizeof status) < 0)
		implied_status(type, status, sizeof status);
	buf_init(&js, KANCA_BODY_LIMIT);
	if (json_serialize(data, &js) < 0 ||
	    store_sosyalkopru_upsert(s, job->source_id, job->event_id, post, status[0] ? status : NULL, type, at,
				     buf_str(&js), clock_now(), &changed) < 0)
		snprintf(err, errcap, "the store failed");
	else
		rc = 0;
	buf_free(&js);
out:
	json_free(root);
	return rc;
}

static const struct builtin {
	const char *name, *provider;
	int (*run)(struct store *s, const struct store_job *job, char *err, size_t errcap);
} builtins[] = {
    {"trendyol_orders", "trendyol", trendyol_orders},
    {"sosyalkopru_posts", "sosyalkopru", sosyalkopru_posts},
};

static const struct builtin *find(const char *name)
{
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

int process_builtin_run(struct store *s, const struct store_job *job, const char *name, char *err, size_t errcap)
{
	const struct builtin *b = find(name);

	if (b)
		return b->run(s, job, err, errcap);
	snprintf(err, errcap, "no built-in handler %s", name);
	return -1;
}

const char *process_builtin_provider(const char *name)
{
	const struct builtin *b = find(name);

	return b ? b->provider : NULL;
}

const char *process_builtin_names(void)
{
	return "trendyol_orders (trendyol), sosyalkopru_posts (sosyalkopru)";
}
