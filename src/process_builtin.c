/* process_builtin.c: the built-in domain handlers (action kind "builtin"): trendyol_orders keeps the
 * newest state of each Trendyol shipment package; an older event never overwrites a newer one. */
#include "process.h"
#include "buf.h"
#include "caps.h"
#include "clock.h"
#include "json.h"
#include "store.h"

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

		if (text_of(pkg, "shipmentPackageId", id, sizeof id) < 0 || text_of(pkg, "status", status, sizeof status) < 0 ||
		    !json_is_integer(lm)) {
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

int process_builtin_run(struct store *s, const struct store_job *job, const char *name, char *err, size_t errcap)
{
	if (strcmp(name, "trendyol_orders") == 0)
		return trendyol_orders(s, job, err, errcap);
	snprintf(err, errcap, "no built-in handler %s", name);
	return -1;
}

int process_builtin_known(const char *name)
{
	return strcmp(name, "trendyol_orders") == 0;
}
