/* doctor_url.c: kancactl doctor through the public URL: /healthz, a self-test delivery per source, and the
 * web server's body limit, each judged with its fix. */
#include "first.h"
#include "ctl/doctor_int.h"
#include "buf.h"
#include "clock.h"
#include "http_client.h"
#include "json.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One self-test delivery to a source. 1 when kanca answered it as doctor (route and body fine), else 0. */
static int deliver(struct doctor *d, struct probe *p, enum server_kind *seen)
{
	struct http_answer a;
	struct reply r;
	struct buf err;
	char check[sizeof p->name + 16];
	int reached = 0;

	snprintf(check, sizeof check, "delivery %s", p->name);
	buf_init(&err, 512);
	if (doctor_probe_route(d, p) < 0 || doctor_probe_build(p, -1, &err) < 0) {
		doctor_say(d, FAIL, check,
			   "cannot build the self-test: %s. Fix: check the source's options (kancactl source list)",
			   err.len ? buf_str(&err) : "the URL is too long");
		buf_free(&err);
		return 0;
	}
	buf_free(&err);
	http_answer_init(&a, KANCA_DOCTOR_ANSWER_MAX);
	doctor_probe_send(p, DOCTOR_TIMEOUT_MS, &a);
	doctor_reply_parse(&a, p->nonce, &r);
	if (a.server[0] && *seen == SERVER_UNKNOWN)
		*seen = doctor_server_of(a.server);
	if (doctor_judge_not_doctor(d, check, p, &a, &r))
		goto out;
	reached = 1;
	if (doctor_judge_body(d, check, p, &r))
		goto out;
	if (r.verified) {
		doctor_say(d, OK, check, "POST %s: kanca verified the self-test (%zu bytes arrived intact%s)", p->url,
			   p->body.len, r.authorization ? ", Authorization arrived" : "");
	} else if (!p->prov->sign) {
		doctor_say(d, OK, check,
			   "POST %s: the route and the body reach kanca (%zu bytes intact); signature skipped: %s",
			   p->url, p->body.len,
			   strcmp(p->prov->name, "apple") == 0 ? "Apple signs with its own certificates"
							       : "kanca cannot sign as this provider's sender");
	} else if (strstr(r.reason, "missing Authorization header")) {
		doctor_say(d, FAIL, check,
			   "POST %s: HTTP %ld: kanca says \"%s\": the Authorization header does not arrive. Fix: %s",
			   p->url, a.status, r.reason, doctor_fix_authorization(doctor_server_of(a.server)));
	} else if (strstr(r.reason, "timestamp") || strstr(r.reason, "too old") || strstr(r.reason, "too new")) {
		doctor_say(
		    d, FAIL, check,
		    "POST %s: HTTP %ld: kanca says \"%s\": its clock and this host's differ by more than "
		    "timestamp_tolerance (%ld s). Fix: synchronise the clocks with NTP (timedatectl set-ntp true, or "
		    "chrony)",
		    p->url, a.status, r.reason, d->cfg.timestamp_tolerance);
	} else if (strcmp(r.reason, "no secret configured") == 0) {
		doctor_say(
		    d, FAIL, check,
		    "POST %s: HTTP %ld: the kanca behind the URL finds no secret for this source: it reads another "
		    "store than %s. Fix: point the web server's KANCA_CONFIG at this file",
		    p->url, a.status, d->config_path);
	} else if (strncmp(r.reason, "missing ", 8) == 0) {
		doctor_say(
		    d, FAIL, check,
		    "POST %s: HTTP %ld: kanca says \"%s\": a header the provider sends does not arrive. Fix: the web "
		    "server or a proxy drops it; pass every request header to kanca",
		    p->url, a.status, r.reason);
	} else {
		doctor_say(
		    d, FAIL, check,
		    "POST %s: HTTP %ld: kanca did not verify the self-test: \"%s\" (doctor signed it with the source's "
		    "newest secret, as %s does). Fix: a secret changed less than source_cache_seconds ago (%ld s): "
		    "retry; else the kanca behind the URL reads another store than %s",
		    p->url, a.status, r.reason, p->prov->name, d->cfg.source_cache_seconds, d->config_path);
	}
out:
	http_answer_free(&a);
	return reached;
}

/* A body of exactly max_body_bytes must reach kanca whole; one byte more should get kanca's own 413. */
static void check_body_limit(struct doctor *d, struct probe *p, enum server_kind seen)
{
	size_t max = d->cfg.max_body_bytes;
	struct http_answer a;
	struct reply r;
	struct buf err;
	char what[512], fix[768];
	int rc;

	buf_init(&err, 512);
	rc = doctor_probe_build_size(p, max, &err);
	if (rc != 0) {
		doctor_say(d, WARN, "body limit", "not checked: %s",
			   rc > 0 ? "max_body_bytes is below the smallest self-test" : buf_str(&err));
		buf_free(&err);
		return;
	}
	http_answer_init(&a, KANCA_DOCTOR_ANSWER_MAX);
	doctor_probe_send(p, DOCTOR_BIG_TIMEOUT_MS, &a);
	doctor_reply_parse(&a, p->nonce, &r);
	if (a.server[0])
		seen = doctor_server_of(a.server);
	doctor_describe(&a, &r, what, sizeof what);
	if (r.kind == REPLY_DOCTOR) {
		if (!doctor_judge_body(d, "body limit", p, &r))
			doctor_say(d, OK, "body limit",
				   "a body of max_body_bytes (%zu bytes) reaches kanca whole through %s", max, p->url);
		else
			goto out;
	} else if (r.kind == REPLY_KANCA && a.status == 413) {
		doctor_say(
		    d, FAIL, "body limit",
		    "POST %s with %zu bytes: %s: the kanca behind the URL has a smaller max_body_bytes than %s. Fix: "
		    "it reads another configuration: check the web server's KANCA_CONFIG",
		    p->url, max, what, d->config_path);
		goto out;
	} else if (r.kind == REPLY_KANCA) {
		doctor_say(d, FAIL, "body limit", "POST %s with %zu bytes: %s. Fix: see the web server's error log",
			   p->url, max, what);
		goto out;
	} else {
		doctor_say(
		    d, FAIL, "body limit",
		    "POST %s with a body of max_body_bytes (%zu bytes): %s: the web server's body limit is below "
		    "max_body_bytes, so such deliveries never reach kanca and the sender retries them. Fix: %s",
		    p->url, max, what, doctor_fix_body_limit(seen, max, fix, sizeof fix));
		goto out;
	}

	/* one byte over: kanca answers 413 itself (a web server's own refusal is acceptable) */
	http_answer_free(&a);
	rc = doctor_probe_build_size(p, max + 1, &err);
	if (rc != 0) {
		doctor_say(d, WARN, "body over limit", "not checked: %s", buf_str(&err));
		goto out;
	}
	http_answer_init(&a, KANCA_DOCTOR_ANSWER_MAX);
	doctor_probe_send(p, DOCTOR_BIG_TIMEOUT_MS, &a);
	doctor_reply_parse(&a, p->nonce, &r);
	doctor_describe(&a, &r, what, sizeof what);
	if (r.kind == REPLY_KANCA && a.status == 413)
		doctor_say(d, OK, "body over limit", "a body of max_body_bytes + 1 gets kanca's own 413");
	else if (r.kind == REPLY_DOCTOR)
		doctor_say(
		    d, WARN, "body over limit",
		    "kanca accepted %zu bytes, more than max_body_bytes in %s: the kanca behind the URL reads another "
		    "configuration. Fix: check the web server's KANCA_CONFIG",
		    max + 1, d->config_path);
	else
		doctor_say(
		    d, WARN, "body over limit",
		    "a body of max_body_bytes + 1 gets %s instead of kanca's 413: acceptable if the web server's limit "
		    "lies just above max_body_bytes, but senders retry a 5xx or a reset forever. Fix: %s",
		    what, doctor_fix_body_limit(seen, max, fix, sizeof fix));
out:
	buf_free(&err);
	http_answer_free(&a);
}

/* GET /healthz: kanca answers it with its store's state. 0, or -1 when nothing answers at all. */
static int check_healthz(struct doctor *d)
{
	char url[KANCA_URL_MAX + 64], what[512];
	struct http_answer a;
	struct reply r;
	struct json *root = NULL;
	const char *mine = strncmp(d->cfg.store, "sqlite:", 7) == 0 ? "sqlite" : "postgresql";
	int rc = 0;

	if (doctor_url(d, "/healthz", url, sizeof url) < 0) {
		doctor_say(d, FAIL, "healthz", "the URL is too long. Fix: give the base URL only");
		return -1;
	}
	http_answer_init(&a, KANCA_DOCTOR_ANSWER_MAX);
	doctor_exchange(url, NULL, NULL, 0, DOCTOR_TIMEOUT_MS, &a);
	doctor_reply_parse(&a, NULL, &r);
	doctor_describe(&a, &r, what, sizeof what);
	if (r.kind == REPLY_NONE) {
		doctor_say(
		    d, FAIL, "healthz", "GET %s: %s. Fix: %s", url, what,
		    a.refused ? "nothing listens there: the URL (scheme, host, port) is wrong or the web server is down"
			      : "check the URL, a firewall, and the web server's error log");
		rc = -1;
	} else if (r.kind == REPLY_KANCA && a.status == 200 && strcmp(r.error, "ok") == 0) {
		const char *theirs = "";
		if (json_parse(a.body.data, a.body.len, KANCA_JSON_DEPTH, &root) == JSON_OK)
			theirs = json_get_string(root, "store", NULL);
		if (theirs && strcmp(theirs, mine) != 0)
			doctor_say(d, WARN, "healthz",
				   "GET %s: the kanca behind the URL uses a %s store, %s names %s. Fix: point the web "
				   "server's KANCA_CONFIG at %s",
				   url, theirs, d->config_path, mine, d->config_path);
		else
			doctor_say(d, OK, "healthz", "GET %s: kanca answers, its store is up", url);
		json_free(root);
	} else if (r.kind == REPLY_KANCA && a.status == 503) {
		doctor_say(
		    d, FAIL, "healthz",
		    "GET %s: %s: the kanca behind the URL cannot reach its store. Fix: the store must be reachable, "
		    "readable and writable by the web server's user (SQLite: the file and its directory)",
		    url, what);
	} else {
		doctor_say(d, WARN, "healthz",
			   "GET %s: %s: /healthz does not reach kanca, so monitoring cannot use it. Fix: %s", url, what,
			   doctor_fix_route(doctor_server_of(a.server)));
	}
	http_answer_free(&a);
	return rc;
}

void doctor_check_url(struct doctor *d, struct store_rows *rows)
{
	struct probe *limit = NULL, *probes;
	size_t n = rows ? store_rows_count(rows) : 0, np = 0;
	enum server_kind seen = SERVER_UNKNOWN;
	int limit_verified = 0;

	if (check_healthz(d) < 0) {
		doctor_say(d, WARN, "deliveries", "not sent: nothing answers at the URL");
		return;
	}
	probes = calloc(n ? n : 1, sizeof *probes);
	if (!probes) {
		doctor_say(d, FAIL, "deliveries", "out of memory");
		return;
	}
	for (size_t r = 0; r < n; r++) {
		const char *prov = store_rows_get(rows, r, 1, NULL), *acc = store_rows_get(rows, r, 2, NULL);
		struct probe *p = &probes[np];
		int rc, reached;

		if (!doctor_wanted(d, prov, acc) || strcmp(store_rows_get(rows, r, 3, NULL), "0") == 0 ||
		    !(p->prov = registry_find(prov)))
			continue;
		buf_init(&p->body, KANCA_DOCTOR_BODY_MAX);
		buf_init(&p->headers, 64 * 1024);
		snprintf(p->name, sizeof p->name, "%s/%s", prov, acc);
		np++;
		rc = store_source_get(d->store, prov, acc, clock_now(), &p->src);
		if (rc != 1) {
			char check[sizeof p->name + 16];

			snprintf(check, sizeof check, "delivery %s", p->name);
			doctor_say(d, FAIL, check,
				   "the source cannot be read from the store: %s. Fix: see the store line",
				   store_error(d->store));
			continue;
		}
		if (p->prov->needs_secret && p->src.nsecrets == 0) {
			char check[sizeof p->name + 16];

			snprintf(check, sizeof check, "delivery %s", p->name);
			doctor_say(d, WARN, check,
				   "not sent: the source has no unexpired secret (see its source line)");
			continue;
		}
		reached = deliver(d, p, &seen);
		/* the body limit is the web server's, not a source's: checked once, through a source that verified */
		if (reached && (!limit || (!limit_verified && p->prov->sign))) {
			limit = p;
			limit_verified = p->prov->sign != NULL;
		}
	}
	if (!np)
		doctor_say(d, WARN, "deliveries", "no enabled source to send a self-test to");
	else if (!limit)
		doctor_say(d, WARN, "body limit", "not checked: no self-test reached kanca (see the delivery lines)");
	else
		check_body_limit(d, limit, seen);
	for (size_t i = 0; i < np; i++)
		doctor_probe_free(&probes[i]);
	free(probes);
}
