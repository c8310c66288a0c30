/* secret.c: kancactl source secret add|list|remove|expire -- secret rotation. */
#include "first.h"
#include "ctl/ctl.h"
#include "app.h"
#include "buf.h"
#include "caps.h"
#include "clock.h"
#include "ctl/util.h"
#include "providers/registry.h"
#include "store/store.h"
#include "verify.h"
#include "wipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The source named by argv[0] argv[1]; 0 ok, else an exit status (message printed). */
static int find_source(struct app *a, char **argv, struct store_source *src)
{
	const struct provider *p = registry_find(argv[0]);

	if (!p)
		return ctl_usage_error("unknown provider \"%s\" (see kancactl providers)", argv[0]);
	switch (store_source_get(a->store, p->name, argv[1], clock_now(), src)) {
	case 1:
		return 0;
	case 0:
		return ctl_fail("no source %s/%s", p->name, argv[1]);
	default:
		return ctl_fail("cannot read the source: %s", store_error(a->store));
	}
}

/* "--expires 30d" (from now) or "--expires-at UNIX"; 0, or -1 when the value is bad. */
static int parse_expiry(const char *opt, const char *v, long long *at)
{
	long long d;

	if (strcmp(opt, "--expires-at") == 0)
		return ctl_parse_long(v, at);
	if (ctl_parse_duration(v, &d) < 0 || d <= 0)
		return -1;
	*at = clock_now() + d;
	return 0;
}

int ctl_secret_add(struct app *a, int argc, char **argv)
{
	struct store_source src;
	char secret[KANCA_SECRET_MAX + 2] = "";
	long long expires = 0, id = 0;
	int have = 0, generate = 0, rc;

	if (argc < 2)
		return ctl_usage_error(
		    "source secret add PROVIDER ACCOUNT [--secret S | --secret-stdin | --generate-secret] "
		    "[--expires DURATION | --expires-at UNIX]");
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--secret") == 0 && i + 1 < argc) {
			if (strlen(argv[++i]) > KANCA_SECRET_MAX)
				return ctl_usage_error("--secret: longer than %d bytes", KANCA_SECRET_MAX);
			snprintf(secret, sizeof secret, "%s", argv[i]);
			have = 1;
		} else if (strcmp(argv[i], "--secret-stdin") == 0) {
			if (ctl_secret_read_stdin(secret, sizeof secret) < 0)
				return ctl_usage_error(
				    "--secret-stdin: no secret on standard input, or longer than %d bytes",
				    KANCA_SECRET_MAX);
			have = 1;
		} else if (strcmp(argv[i], "--generate-secret") == 0) {
			generate = 1;
		} else if ((strcmp(argv[i], "--expires") == 0 || strcmp(argv[i], "--expires-at") == 0) &&
			   i + 1 < argc) {
			if (parse_expiry(argv[i], argv[i + 1], &expires) < 0)
				return ctl_usage_error("%s: expected %s, got \"%s\"", argv[i],
						       strcmp(argv[i], "--expires") == 0
							   ? "a duration such as 30d or 12h"
							   : "unix seconds",
						       argv[i + 1]);
			i++;
		} else {
			return ctl_usage_error("source secret add: unexpected argument \"%s\"", argv[i]);
		}
	}
	if (have == generate)
		return ctl_usage_error("give exactly one of --secret, --secret-stdin, --generate-secret");
	if (have && !secret[0])
		return ctl_usage_error("the secret is empty");
	if (generate && ctl_secret_generate(secret) < 0)
		return ctl_fail("no random bytes available");
	rc = find_source(a, argv, &src);
	if (rc) {
		wipe_bytes(secret, sizeof secret);
		return rc;
	}
	if (store_secret_add(a->store, src.id, secret, expires, clock_now(), &id) < 0) {
		rc = ctl_fail("cannot add the secret: %s", store_error(a->store));
	} else {
		char t[32];
		printf("added secret %lld to %s/%s%s%s\n", id, src.provider, src.account, expires ? ", expires " : "",
		       expires ? (clock_format(expires, t, sizeof t), t) : "");
		if (generate)
			printf("secret: %s\n(shown once: give it to the sender now)\n", secret);
		rc = CTL_OK;
	}
	wipe_bytes(secret, sizeof secret);
	store_source_free(&src);
	return rc;
}

int ctl_secret_list(struct app *a, int argc, char **argv)
{
	struct store_source src;
	struct store_rows *rows;
	long long now = clock_now();
	int rc;
	char t1[32], t2[32];

	if (argc != 2)
		return ctl_usage_error("source secret list PROVIDER ACCOUNT");
	rc = find_source(a, argv, &src);
	if (rc)
		return rc;
	if (store_secret_list(a->store, src.id, &rows) < 0) {
		store_source_free(&src);
		return ctl_fail("cannot list secrets: %s", store_error(a->store));
	}
	printf("%-8s %-20s %-20s %s\n", "ID", "CREATED", "EXPIRES", "STATE");
	for (size_t r = 0; r < store_rows_count(rows); r++) {
		const char *exp = store_rows_get(rows, r, 2, NULL);
		int expired = exp && strtoll(exp, NULL, 10) <= now;
		printf("%-8s %-20s %-20s %s\n", store_rows_get(rows, r, 0, NULL),
		       ctl_time(store_rows_get(rows, r, 1, NULL), t1, sizeof t1),
		       exp ? ctl_time(exp, t2, sizeof t2) : "never", expired ? "expired" : "valid");
	}
	store_rows_free(rows);
	store_source_free(&src);
	return CTL_OK;
}

static int change(struct app *a, int argc, char **argv, int remove)
{
	struct store_source src;
	long long id, expires = 0;
	int rc;

	if (remove ? argc != 3 : argc != 5 || ctl_parse_long(argv[2], &id) < 0)
		return ctl_usage_error(
		    remove ? "source secret remove PROVIDER ACCOUNT ID"
			   : "source secret expire PROVIDER ACCOUNT ID --expires DURATION|--expires-at UNIX");
	if (remove && ctl_parse_long(argv[2], &id) < 0)
		return ctl_usage_error("source secret remove PROVIDER ACCOUNT ID");
	if (!remove && ((strcmp(argv[3], "--expires") != 0 && strcmp(argv[3], "--expires-at") != 0) ||
			parse_expiry(argv[3], argv[4], &expires) < 0))
		return ctl_usage_error("source secret expire PROVIDER ACCOUNT ID --expires DURATION|--expires-at UNIX");
	rc = find_source(a, argv, &src);
	if (rc)
		return rc;
	switch (remove ? store_secret_remove(a->store, src.id, id)
		       : store_secret_expire(a->store, src.id, id, expires)) {
	case 1:
		printf("secret %lld of %s/%s %s\n", id, src.provider, src.account, remove ? "removed" : "expiry set");
		rc = CTL_OK;
		break;
	case 0:
		rc = ctl_fail("%s/%s has no secret %lld", src.provider, src.account, id);
		break;
	default:
		rc = ctl_fail("cannot change the secret: %s", store_error(a->store));
	}
	store_source_free(&src);
	return rc;
}

int ctl_secret_remove(struct app *a, int argc, char **argv)
{
	return change(a, argc, argv, 1);
}

int ctl_secret_expire(struct app *a, int argc, char **argv)
{
	return change(a, argc, argv, 0);
}
