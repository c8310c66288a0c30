/* events.c: kancactl migrate, events, event show, stats, audit. */
#include "first.h"
#include "ctl/ctl.h"
#include "app.h"
#include "buf.h"
#include "clock.h"
#include "ctl/util.h"
#include "providers/registry.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_migrate(struct app *a, int argc, char **argv)
{
	struct buf err;
	int applied = 0, current = 0, latest = 0;

	(void)argv;
	if (argc)
		return ctl_usage_error("migrate takes no arguments");
	buf_init(&err, 4096);
	if (store_migrate(a->store, &applied, &err) < 0) {
		int rc = ctl_fail("%s", buf_str(&err));
		buf_free(&err);
		return rc;
	}
	buf_free(&err);
	if (store_schema_version(a->store, &current, &latest) < 0)
		return ctl_fail("cannot read the schema version: %s", store_error(a->store));
	printf("%s store at schema version %d (%d migration%s applied)\n", store_backend(a->store), current, applied,
	       applied == 1 ? "" : "s");
	return CTL_OK;
}

int ctl_events(struct app *a, int argc, char **argv)
{
	const char *provider = NULL, *account = NULL, *status = NULL;
	char srcbuf[300], t[32];
	long long limit = 50;
	int json = 0;
	struct store_rows *rows;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
			const struct provider *p;
			if (ctl_split_source(argv[++i], srcbuf, sizeof srcbuf, &provider, &account) < 0)
				return ctl_usage_error("--source expects PROVIDER/ACCOUNT, got \"%s\"", argv[i]);
			p = registry_find(provider);
			if (!p)
				return ctl_usage_error("unknown provider \"%s\"", provider);
			provider = p->name;
		} else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
			static const char *const known[] = {"received",	 "processing", "retry",
							    "processed", "dead",       "test"};
			int found = 0;
			status = argv[++i];
			for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
				found |= strcmp(known[k], status) == 0;
			if (!found)
				return ctl_usage_error("--status: unknown status \"%s\" (known: received, processing, "
						       "retry, processed, dead, test)",
						       status);
		} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			if (ctl_parse_long(argv[++i], &limit) < 0)
				return ctl_usage_error("--limit expects a positive number, got \"%s\"", argv[i]);
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else {
			return ctl_usage_error("events: unexpected argument \"%s\"", argv[i]);
		}
	}
	if (store_list_events(a->store, provider, account, status, (long)limit, &rows) < 0)
		return ctl_fail("cannot list events: %s", store_error(a->store));
	if (json)
		fputs("[", stdout);
	else
		printf("%-8s %-36s %-24s %-24s %-10s %-20s %-8s %s\n", "ID", "EVENT", "SOURCE", "TYPE", "STATUS",
		       "RECEIVED", "BYTES", "IDEMPOTENCY KEY");
	for (size_t r = 0; r < store_rows_count(rows); r++) {
		const char *type = store_rows_get(rows, r, 3, NULL);
		if (json) {
			printf("%s{\"id\":%s,\"provider\":", r ? "," : "", store_rows_get(rows, r, 0, NULL));
			ctl_json_string(stdout, store_rows_get(rows, r, 1, NULL));
			fputs(",\"account\":", stdout);
			ctl_json_string(stdout, store_rows_get(rows, r, 2, NULL));
			fputs(",\"event_type\":", stdout);
			ctl_json_string(stdout, type);
			fputs(",\"idempotency_key\":", stdout);
			ctl_json_string(stdout, store_rows_get(rows, r, 4, NULL));
			fputs(",\"status\":", stdout);
			ctl_json_string(stdout, store_rows_get(rows, r, 5, NULL));
			printf(",\"received_at\":%s,\"attempts\":%s,\"body_bytes\":%s,\"public_id\":\"%s\"}",
			       store_rows_get(rows, r, 6, NULL), store_rows_get(rows, r, 7, NULL),
			       store_rows_get(rows, r, 8, NULL), store_rows_get(rows, r, 9, NULL));
		} else {
			char src[300];
			snprintf(src, sizeof src, "%s/%s", store_rows_get(rows, r, 1, NULL),
				 store_rows_get(rows, r, 2, NULL));
			printf("%-8s %-36s %-24s %-24s %-10s %-20s %-8s %s\n", store_rows_get(rows, r, 0, NULL),
			       store_rows_get(rows, r, 9, NULL), src, type ? type : "-",
			       store_rows_get(rows, r, 5, NULL),
			       ctl_time(store_rows_get(rows, r, 6, NULL), t, sizeof t),
			       store_rows_get(rows, r, 8, NULL), store_rows_get(rows, r, 4, NULL));
		}
	}
	if (json)
		fputs("]\n", stdout);
	store_rows_free(rows);
	return CTL_OK;
}

int ctl_event_show(struct app *a, int argc, char **argv)
{
	static const char *const labels[] = {"id",	 "provider",	"account",	"event_type", "idempotency_key",
					     "status",	 "received_at", "verification", "secret_id",  "headers",
					     NULL,	 "attempts",	"processed_at", "response",   "decoded",
					     "public_id"};
	struct store_rows *rows;
	long long id = 0;
	int body_only = argc == 2 && strcmp(argv[1], "--body") == 0;
	size_t blen;
	const char *body, *pub = NULL;
	char t[32];

	if (argc == 1 || body_only)
		pub = strncmp(argv[0], "evt_", 4) == 0 ? argv[0] : NULL;
	if ((argc != 1 && !body_only) || (!pub && ctl_parse_long(argv[0], &id) < 0))
		return ctl_usage_error("event show ID|evt_... [--body]");
	if (store_get_event(a->store, id, pub, &rows) < 0)
		return ctl_fail("cannot read the event: %s", store_error(a->store));
	if (store_rows_count(rows) == 0) {
		store_rows_free(rows);
		return ctl_fail("no event %s", argv[0]);
	}
	id = strtoll(store_rows_get(rows, 0, 0, NULL), NULL, 10);
	if (!body_only) {
		for (size_t c = 0; c < sizeof labels / sizeof labels[0]; c++) {
			const char *v = store_rows_get(rows, 0, c, NULL);
			if (!labels[c])
				continue;
			if (c == 6 || c == 12)
				printf("%s: %s\n", labels[c], ctl_time(v, t, sizeof t));
			else
				printf("%s: %s\n", labels[c], v ? v : "-");
		}
		(void)store_rows_get(rows, 0, 10, &blen);
		printf("body_bytes: %zu\n", blen);
	}
	if (!body_only) {
		struct store_rows *att;
		if (store_list_attempts(a->store, id, &att) == 0) {
			for (size_t r = 0; r < store_rows_count(att); r++) {
				const char *st = store_rows_get(att, r, 6, NULL), *ex = store_rows_get(att, r, 7, NULL);
				const char *er = store_rows_get(att, r, 8, NULL);
				printf("attempt: %s %s action=%s outcome=%s%s%s%s%s%s%s\n",
				       ctl_time(store_rows_get(att, r, 3, NULL), t, sizeof t),
				       store_rows_get(att, r, 2, NULL),
				       store_rows_get(att, r, 1, NULL) ? store_rows_get(att, r, 1, NULL) : "-",
				       store_rows_get(att, r, 5, NULL), st ? " http=" : "", st ? st : "",
				       ex ? " exit=" : "", ex ? ex : "", er ? " error=" : "", er ? er : "");
			}
			store_rows_free(att);
		}
		printf("\n");
	}
	body = store_rows_get(rows, 0, 10, &blen);
	fflush(stdout);
	if (body && blen && fwrite(body, 1, blen, stdout) != blen) {
		store_rows_free(rows);
		return ctl_fail("cannot write the body");
	}
	store_rows_free(rows);
	return CTL_OK;
}

int ctl_stats(struct app *a, int argc, char **argv)
{
	struct store_rows *rows;
	int json = argc == 1 && strcmp(argv[0], "--json") == 0;
	char t[32];

	if (argc && !json)
		return ctl_usage_error("stats [--json]");
	if (store_stats(a->store, clock_now() - 86400, &rows) < 0)
		return ctl_fail("cannot compute stats: %s", store_error(a->store));
	if (json)
		fputs("[", stdout);
	else
		printf("%-32s %-24s %-10s %8s  %s\n", "SOURCE", "TYPE", "STATUS", "COUNT", "LAST RECEIVED");
	for (size_t r = 0; r < store_rows_count(rows); r++) {
		if (json) {
			printf("%s{\"provider\":", r ? "," : "");
			ctl_json_string(stdout, store_rows_get(rows, r, 0, NULL));
			fputs(",\"account\":", stdout);
			ctl_json_string(stdout, store_rows_get(rows, r, 1, NULL));
			fputs(",\"event_type\":", stdout);
			ctl_json_string(stdout, store_rows_get(rows, r, 2, NULL));
			fputs(",\"status\":", stdout);
			ctl_json_string(stdout, store_rows_get(rows, r, 3, NULL));
			printf(",\"count\":%s,\"last_received_at\":%s}", store_rows_get(rows, r, 4, NULL),
			       store_rows_get(rows, r, 5, NULL));
		} else {
			char src[300];
			const char *type = store_rows_get(rows, r, 2, NULL);
			snprintf(src, sizeof src, "%s/%s", store_rows_get(rows, r, 0, NULL),
				 store_rows_get(rows, r, 1, NULL));
			printf("%-32s %-24s %-10s %8s  %s\n", src, type ? type : "-", store_rows_get(rows, r, 3, NULL),
			       store_rows_get(rows, r, 4, NULL),
			       ctl_time(store_rows_get(rows, r, 5, NULL), t, sizeof t));
		}
	}
	if (json)
		fputs("]\n", stdout);
	store_rows_free(rows);
	return CTL_OK;
}

int ctl_audit(struct app *a, int argc, char **argv)
{
	struct store_rows *rows;
	long long limit = 50;
	char t[32];

	if (argc == 2 && strcmp(argv[0], "--limit") == 0) {
		if (ctl_parse_long(argv[1], &limit) < 0)
			return ctl_usage_error("--limit expects a positive number");
	} else if (argc) {
		return ctl_usage_error("audit [--limit N]");
	}
	if (store_list_audit(a->store, (long)limit, &rows) < 0)
		return ctl_fail("cannot read the audit log: %s", store_error(a->store));
	printf("%-20s %-18s %-32s %-6s %6s %-36s %s\n", "AT", "ACTION", "SOURCE", "STATUS", "COUNT", "EVENT", "REASON");
	for (size_t r = 0; r < store_rows_count(rows); r++) {
		char src[300];
		const char *st = store_rows_get(rows, r, 3, NULL), *reason = store_rows_get(rows, r, 4, NULL);
		const char *ev = store_rows_get(rows, r, 7, NULL);
		snprintf(src, sizeof src, "%s/%s",
			 store_rows_get(rows, r, 1, NULL) ? store_rows_get(rows, r, 1, NULL) : "-",
			 store_rows_get(rows, r, 2, NULL) ? store_rows_get(rows, r, 2, NULL) : "-");
		printf("%-20s %-18s %-32s %-6s %6s %-36s %s\n", ctl_time(store_rows_get(rows, r, 5, NULL), t, sizeof t),
		       store_rows_get(rows, r, 0, NULL), src, st ? st : "-", store_rows_get(rows, r, 6, NULL),
		       ev ? ev : "-", reason ? reason : "");
	}
	store_rows_free(rows);
	return CTL_OK;
}
