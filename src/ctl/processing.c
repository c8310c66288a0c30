/* processing.c: kancactl worker, replay, purge and source action add|list|remove. */
#include "first.h"
#include "ctl/ctl.h"
#include "app.h"
#include "buf.h"
#include "caps.h"
#include "clock.h"
#include "ctl/util.h"
#include "http_client.h"
#include "options.h"
#include "process/builtin.h"
#include "process/forward.h"
#include "process/pool.h"
#include "process/process.h"
#include "providers/registry.h"
#include "store/store.h"
#include "url.h"
#include "verify.h"
#include "wipe.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_stop(int sig)
{
	(void)sig;
	process_stop();
}

int ctl_worker(struct app *a, int argc, char **argv)
{
	struct process_counts counts = {0, 0, 0, 0, 0};
	struct process_opts o = {.cfg = &a->cfg,
				 .lease = a->cfg.processing_lease,
				 .drain = 0,
				 .max_events = 0,
				 .poll = 1.0,
				 .counts = &counts};
	struct sigaction sa;
	long long v;
	long n;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--drain") == 0) {
			o.drain = 1;
		} else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) {
			if (ctl_parse_long(argv[++i], &v) < 0)
				return ctl_usage_error("--max expects a positive number");
			o.max_events = (long)v;
		} else if (strcmp(argv[i], "--lease") == 0 && i + 1 < argc) {
			if (ctl_parse_long(argv[++i], &v) < 0 || v > 86400)
				return ctl_usage_error("--lease expects seconds from 1 to 86400");
			o.lease = (long)v;
		} else {
			return ctl_usage_error("worker [--drain] [--max N] [--lease SECONDS]");
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* an exec script that exits without reading its input must fail its attempt, not kill the worker */
	signal(SIGPIPE, SIG_IGN);
	if (http_client_init() < 0)
		return ctl_fail("cannot initialise libcurl");
	n = process_run(a->store, &o);
	if (n < 0)
		return ctl_fail("the store failed: %s", store_error(a->store));
	printf("%ld event%s: %ld processed, %ld to retry, %ld dead%s\n", n, n == 1 ? "" : "s", counts.processed,
	       counts.retry, counts.dead,
	       counts.failed ? " (the store failed for some: their leases will expire)" : "");
	if (counts.spool_unreadable)
		return ctl_fail(
		    "the spool could not be read (the log says why): its deliveries wait; run this as the user "
		    "kanca runs as, or see kancactl doctor");
	return CTL_OK;
}

int ctl_replay(struct app *a, int argc, char **argv)
{
	const char *provider = NULL, *account = NULL, *status = NULL;
	char srcbuf[300];
	long long id = 0, since = 0, d;
	long count = 0;

	if ((argc == 1 || (argc == 2 && strcmp(argv[1], "--force") == 0)) && ctl_parse_long(argv[0], &id) == 0) {
		if (argc == 2) { /* every action again, those that succeeded too */
			if (store_replay_forced(a->store, id, clock_now(), &count) < 0)
				return ctl_fail("cannot replay: %s", store_error(a->store));
			if (count == 0)
				return ctl_fail("no event %lld (or it is a test ping)", id);
			printf("1 event put back for processing; every enabled action runs again (--force)\n");
			return CTL_OK;
		}
	} else {
		for (int i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
				status = argv[++i];
			} else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
				const struct provider *p;
				if (ctl_split_source(argv[++i], srcbuf, sizeof srcbuf, &provider, &account) < 0 ||
				    !(p = registry_find(provider)))
					return ctl_usage_error("--source expects PROVIDER/ACCOUNT");
				provider = p->name;
			} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
				if (ctl_parse_duration(argv[++i], &d) < 0)
					return ctl_usage_error("--since expects a duration such as 24h or 7d");
				since = clock_now() - d;
			} else {
				return ctl_usage_error(
				    "replay ID [--force] | replay --status dead|processed [--source P/A] "
				    "[--since DURATION]");
			}
		}
		if (!status)
			return ctl_usage_error(
			    "replay ID [--force] | replay --status dead|processed [--source P/A] [--since DURATION]");
		if (strcmp(status, "dead") != 0 && strcmp(status, "processed") != 0)
			return ctl_usage_error("replay --status takes dead or processed, not \"%s\"", status);
	}
	if (store_replay(a->store, id, status, provider, account, since, &count) < 0)
		return ctl_fail("cannot replay: %s", store_error(a->store));
	if (id && count == 0)
		return ctl_fail("no event %lld (or it is a test ping)", id);
	printf("%ld event%s put back for processing\n", count, count == 1 ? "" : "s");
	return CTL_OK;
}

/* Removes one kind of old rows in batches until none is left; -1 on a store error. */
static long purge_kind(struct app *a, enum store_retain what, long long before)
{
	long total = 0, n;

	do {
		if (store_retain_batch(a->store, what, before, 1000, &n) < 0)
			return -1;
		total += n;
	} while (n == 1000);
	return total;
}

int ctl_purge(struct app *a, int argc, char **argv)
{
	static const char usage[] = "purge [--older-than DURATION] [--dead DURATION] [--audit DURATION] | purge "
				    "--retention   (e.g. --older-than 30d)";
	long long age[3] = {-1, -1, -1}, d; /* processed/test events, dead events, audit rows */
	static const char *const what[3] = {"processed or test events", "dead events", "audit rows"};
	static const enum store_retain kinds[3] = {STORE_RETAIN_DONE, STORE_RETAIN_DEAD, STORE_RETAIN_AUDIT};
	int any = 0;

	for (int i = 0; i < argc; i++) {
		int k = strcmp(argv[i], "--older-than") == 0 ? 0
			: strcmp(argv[i], "--dead") == 0     ? 1
			: strcmp(argv[i], "--audit") == 0    ? 2
							     : -1;
		if (strcmp(argv[i], "--retention") == 0) {
			age[0] = age[2] = a->cfg.retention;
			age[1] = a->cfg.retention_dead;
			continue;
		}
		if (k < 0 || i + 1 >= argc || ctl_parse_duration(argv[++i], &d) < 0 || d <= 0)
			return ctl_usage_error("%s", usage);
		age[k] = d;
	}
	for (int k = 0; k < 3; k++)
		any |= age[k] >= 0;
	if (!any)
		return ctl_usage_error("%s", usage);
	for (int k = 0; k < 3; k++) {
		long n;
		if (age[k] < 0)
			continue;
		n = purge_kind(a, kinds[k], clock_now() - age[k]);
		if (n < 0)
			return ctl_fail("cannot purge: %s", store_error(a->store));
		printf("purged %ld %s older than %llds%s\n", n, what[k], age[k],
		       k == 0 ? " (unprocessed events are never purged)" : "");
	}
	return CTL_OK;
}

/* The source named by argv[0] argv[1]: its id, or 0 with a message printed (*rc set). */
static long long source_id(struct app *a, char **argv, int *rc)
{
	const struct provider *p = registry_find(argv[0]);
	struct store_source src;
	long long id = 0;

	if (!p) {
		*rc = ctl_usage_error("unknown provider \"%s\"", argv[0]);
		return 0;
	}
	switch (store_source_get(a->store, p->name, argv[1], clock_now(), &src)) {
	case 1:
		id = src.id;
		store_source_free(&src);
		return id;
	case 0:
		*rc = ctl_fail("no source %s/%s", p->name, argv[1]);
		return 0;
	default:
		*rc = ctl_fail("cannot read the source: %s", store_error(a->store));
		return 0;
	}
}

static int action_set(struct app *a, int argc, char **argv, int enabled)
{
	long long sid, aid;
	int rc = CTL_FAIL;

	if (argc != 3 || ctl_parse_long(argv[2], &aid) < 0)
		return ctl_usage_error("source action %s PROVIDER ACCOUNT ID", enabled ? "enable" : "disable");
	sid = source_id(a, argv, &rc);
	if (!sid)
		return rc;
	switch (store_action_set_enabled(a->store, sid, aid, enabled)) {
	case 1:
		printf("action %lld %s\n", aid, enabled ? "enabled" : "disabled");
		return CTL_OK;
	case 0:
		return ctl_fail("no action %lld of %s/%s", aid, argv[0], argv[1]);
	default:
		return ctl_fail("cannot change the action: %s", store_error(a->store));
	}
}

int ctl_action_enable(struct app *a, int argc, char **argv)
{
	return action_set(a, argc, argv, 1);
}

int ctl_action_disable(struct app *a, int argc, char **argv)
{
	return action_set(a, argc, argv, 0);
}

static int channel_valid(const char *c)
{
	size_t n = strlen(c);

	if (n == 0 || n > 63 || !((c[0] >= 'a' && c[0] <= 'z') || c[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
			return 0;
	return 1;
}

/* source action add P A notify CHANNEL: pg_notify(CHANNEL, event id) after the answer. */
static int add_notify(struct app *a, char **argv)
{
	long long sid, id;
	int rc = CTL_FAIL;

	if (strcmp(store_backend(a->store), "postgresql") != 0)
		return ctl_usage_error("notify needs the PostgreSQL store (LISTEN/NOTIFY); this store is %s",
				       store_backend(a->store));
	if (!channel_valid(argv[3]))
		return ctl_usage_error("notify CHANNEL: 1-63 characters of a-z, 0-9 and _, not starting with a digit");
	sid = source_id(a, argv, &rc);
	if (!sid)
		return rc;
	if (store_action_add(a->store, sid, "notify", argv[3], "", clock_now(), &id) < 0)
		return ctl_fail("cannot add the action: %s", store_error(a->store));
	printf("added action %lld: notify %s (LISTEN %s; the payload is the event id)\n", id, argv[3], argv[3]);
	return CTL_OK;
}

/* source action add P A builtin NAME: a built-in domain handler of P's events. */
static int add_builtin(struct app *a, char **argv)
{
	const char *serves = process_builtin_provider(argv[3]);
	const struct provider *p = registry_find(argv[0]);
	long long sid, id;
	int rc = CTL_FAIL;

	if (!serves)
		return ctl_usage_error("builtin: unknown handler \"%s\" (known: %s)", argv[3], process_builtin_names());
	if (p && strcmp(p->name, serves) != 0)
		return ctl_usage_error("builtin: %s reads %s events, not %s", argv[3], serves, p->name);
	sid = source_id(a, argv, &rc);
	if (!sid)
		return rc;
	if (store_action_add(a->store, sid, "builtin", argv[3], "", clock_now(), &id) < 0)
		return ctl_fail("cannot add the action: %s", store_error(a->store));
	printf("added action %lld: builtin %s\n", id, argv[3]);
	return CTL_OK;
}

int ctl_action_add(struct app *a, int argc, char **argv)
{
	struct buf opts, err;
	char secret[80] = "", why[200];
	long long sid, id, v;
	int rc = CTL_FAIL, generate = 0, exec_kind;

	if (argc == 4 && strcmp(argv[2], "notify") == 0)
		return add_notify(a, argv);
	if (argc == 4 && strcmp(argv[2], "builtin") == 0)
		return add_builtin(a, argv);
	if (argc < 4 || (strcmp(argv[2], "forward") != 0 && strcmp(argv[2], "exec") != 0))
		return ctl_usage_error(
		    "source action add PROVIDER ACCOUNT forward URL [--generate-secret | --secret whsec_...] "
		    "[--static-secret S] [--header 'Name: value'] [--timeout SECONDS] [--concurrency N]\n"
		    "          source action add PROVIDER ACCOUNT exec /path/to/script [--timeout SECONDS]");
	exec_kind = strcmp(argv[2], "exec") == 0;
	/* the forwarder's own check (forward_post applies it again to every attempt) */
	if (!exec_kind && http_client_init() < 0)
		return ctl_fail("cannot initialise libcurl");
	if (!exec_kind && forward_url_ok(argv[3], a->cfg.forward_allow_link_local, why, sizeof why) < 0)
		return ctl_usage_error("forward URL refused: %s", why);
	if (exec_kind && (argv[3][0] != '/' || access(argv[3], X_OK) != 0))
		return ctl_usage_error("exec needs the absolute path of an executable file (no shell is used): %s",
				       argv[3]);
	buf_init(&opts, 16 * 1024);
	buf_init(&err, 512);
	for (int i = 4; i < argc; i++) {
		const char *key = NULL;
		if (strcmp(argv[i], "--generate-secret") == 0) {
			generate = 1;
			continue;
		}
		if (i + 1 >= argc)
			goto usage;
		if (exec_kind && strcmp(argv[i], "--timeout") != 0)
			goto usage;
		if (strcmp(argv[i], "--secret") == 0) {
			key = "secret";
			if (strncmp(argv[i + 1], "whsec_", 6) != 0)
				goto usage;
		} else if (strcmp(argv[i], "--static-secret") == 0) {
			key = "static_secret";
		} else if (strcmp(argv[i], "--header") == 0) {
			key = "header";
			if (!strchr(argv[i + 1], ':'))
				goto usage;
		} else if (strcmp(argv[i], "--timeout") == 0) {
			key = "timeout";
			if (ctl_parse_long(argv[i + 1], &v) < 0 || v > 300)
				goto usage;
		} else if (strcmp(argv[i], "--concurrency") == 0) {
			key = "concurrency";
			if (ctl_parse_long(argv[i + 1], &v) < 0 || v < 1 || v > POOL_CONCURRENCY_MAX) {
				rc = ctl_usage_error("--concurrency: a number from 1 to %d", POOL_CONCURRENCY_MAX);
				goto out;
			}
		} else {
			goto usage;
		}
		if (options_set(&opts, key, argv[++i], &err) < 0) {
			rc = ctl_usage_error("%s", buf_str(&err));
			goto out;
		}
	}
	if (generate && !exec_kind) {
		unsigned char raw[24];
		char b64[40];
		if (verify_random(raw, sizeof raw) < 0) {
			rc = ctl_fail("no random bytes available");
			goto out;
		}
		verify_base64_encode(raw, sizeof raw, b64);
		wipe_bytes(raw, sizeof raw);
		snprintf(secret, sizeof secret, "whsec_%s", b64);
		if (options_set(&opts, "secret", secret, &err) < 0) {
			rc = ctl_usage_error("%s", buf_str(&err));
			goto out;
		}
	}
	sid = source_id(a, argv, &rc);
	if (!sid)
		goto out;
	if (store_action_add(a->store, sid, argv[2], argv[3], buf_str(&opts), clock_now(), &id) < 0) {
		rc = ctl_fail("cannot add the action: %s", store_error(a->store));
		goto out;
	}
	printf("added action %lld: %s %s\n", id, exec_kind ? "exec" : "forward to", argv[3]);
	if (generate)
		printf("signing secret: %s\n(Standard Webhooks; shown once: give it to the destination now)\n", secret);
	rc = CTL_OK;
	goto out;
usage:
	rc = ctl_usage_error("source action add PROVIDER ACCOUNT forward URL [--generate-secret | --secret whsec_...] "
			     "[--static-secret S] [--header 'Name: value'] [--timeout SECONDS] [--concurrency N]");
out:
	wipe_bytes(secret, sizeof secret);
	buf_free(&opts);
	buf_free(&err);
	return rc;
}

int ctl_action_list(struct app *a, int argc, char **argv)
{
	struct store_rows *rows;
	long long sid;
	int rc = CTL_FAIL;

	if (argc != 2)
		return ctl_usage_error("source action list PROVIDER ACCOUNT");
	sid = source_id(a, argv, &rc);
	if (!sid)
		return rc;
	if (store_actions(a->store, sid, &rows) < 0)
		return ctl_fail("cannot list actions: %s", store_error(a->store));
	printf("%-6s %-8s %-9s %-48s %s\n", "ID", "KIND", "STATE", "TARGET", "SIGNED");
	for (size_t r = 0; r < store_rows_count(rows); r++) {
		const char *o = store_rows_get(rows, r, 3, NULL);
		char tmp[8], shown[KANCA_URL_MAX + 8];
		/* credentials are refused in a URL; one stored by an older kanca is still never printed */
		url_redact(store_rows_get(rows, r, 2, NULL), shown, sizeof shown);
		printf("%-6s %-8s %-9s %-48s %s\n", store_rows_get(rows, r, 0, NULL), store_rows_get(rows, r, 1, NULL),
		       strcmp(store_rows_get(rows, r, 4, NULL), "0") ? "enabled" : "disabled", shown,
		       options_get(o, "secret", tmp, 1) != 0	      ? "standard-webhooks"
		       : options_get(o, "static_secret", tmp, 1) != 0 ? "x-webhook-secret"
								      : "no");
	}
	store_rows_free(rows);
	return CTL_OK;
}

int ctl_action_remove(struct app *a, int argc, char **argv)
{
	long long sid, id;
	int rc = CTL_FAIL;

	if (argc != 3 || ctl_parse_long(argv[2], &id) < 0)
		return ctl_usage_error("source action remove PROVIDER ACCOUNT ID");
	sid = source_id(a, argv, &rc);
	if (!sid)
		return rc;
	switch (store_action_remove(a->store, sid, id)) {
	case 1:
		printf("action %lld removed\n", id);
		return CTL_OK;
	case 0:
		return ctl_fail("%s/%s has no action %lld", argv[0], argv[1], id);
	default:
		return ctl_fail("cannot remove the action: %s", store_error(a->store));
	}
}
