/* source.c: kancactl source add|list|enable|disable. */
#include "first.h"
#include "ctl/ctl.h"
#include "app.h"
#include "buf.h"
#include "caps.h"
#include "clock.h"
#include "ctl/util.h"
#include "options.h"
#include "process/process.h"
#include "providers/apple.h"
#include "providers/registry.h"
#include "router.h"
#include "store/store.h"
#include "verify.h"
#include "wipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --root-cert FILE (apple): a PEM or DER certificate, stored as option root_cert=<base64 DER>;
 * fp gets its SHA-256 fingerprint as XX:XX:... 0, or -1 with the reason in err. */
static int load_root_cert(const char *path, struct buf *opts, char fp[3 * VERIFY_SHA256_LEN], struct buf *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *raw = NULL, *der = NULL, d[VERIFY_SHA256_LEN];
	char *b64 = NULL;
	size_t n = 0;
	long dlen;
	struct verify_cert *cert = NULL;
	int rc = -1;

	if (!f)
		return buf_fail(err, "--root-cert %s: cannot open it", path);
	raw = malloc(KANCA_CERT_FILE_MAX + 1);
	der = malloc(KANCA_CERT_FILE_MAX);
	if (!raw || !der) {
		buf_fail(err, "out of memory");
		goto out;
	}
	n = fread(raw, 1, KANCA_CERT_FILE_MAX + 1, f);
	if (ferror(f) || n == 0 || n > KANCA_CERT_FILE_MAX) {
		buf_fail(err, "--root-cert %s: cannot read it, or it is empty or larger than %d bytes", path,
			 KANCA_CERT_FILE_MAX);
		goto out;
	}
	raw[n] = '\0';
	if (strstr((char *)raw, "-----BEGIN")) {
		dlen = verify_pem_certificate((const char *)raw, n, der, KANCA_CERT_FILE_MAX);
	} else {
		memcpy(der, raw, n);
		dlen = (long)n;
	}
	cert = dlen > 0 ? verify_cert_parse(der, (size_t)dlen) : NULL;
	if (!cert) {
		buf_fail(err, "--root-cert %s: not a certificate (PEM CERTIFICATE block or DER)", path);
		goto out;
	}
	if (verify_cert_sha256(cert, d) < 0) {
		buf_fail(err, "cannot hash the certificate");
		goto out;
	}
	for (size_t i = 0; i < sizeof d; i++)
		snprintf(fp + 3 * i, 4, "%02X%s", d[i], i + 1 < sizeof d ? ":" : "");
	b64 = malloc(((size_t)dlen + 2) / 3 * 4 + 1);
	if (!b64) {
		buf_fail(err, "out of memory");
		goto out;
	}
	verify_base64_encode(der, (size_t)dlen, b64);
	rc = options_set(opts, "root_cert", b64, err);
out:
	verify_cert_free(cert);
	free(raw);
	free(der);
	free(b64);
	fclose(f);
	return rc;
}

int ctl_source_add(struct app *a, int argc, char **argv)
{
	const struct provider *p;
	char secret[KANCA_SECRET_MAX + 2] = "", root_fp[3 * VERIFY_SHA256_LEN] = "";
	int generate = 0, have_secret = 0, rc = CTL_FAIL;
	struct buf opts, err;
	struct process_policy policy;
	long long id = 0, sid = 0;

	if (argc < 2)
		return ctl_usage_error("source add PROVIDER ACCOUNT [--secret S | --secret-stdin | --generate-secret] "
				       "[--set KEY=VALUE]... [--root-cert FILE (apple)]");
	p = registry_find(argv[0]);
	if (!p)
		return ctl_usage_error("unknown provider \"%s\" (see kancactl providers)", argv[0]);
	if (!router_segment_valid(argv[1]))
		return ctl_usage_error("account \"%s\": use 1-128 characters of A-Z a-z 0-9 . _ ~ -", argv[1]);
	buf_init(&opts, 64 * 1024);
	buf_init(&err, 1024);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--secret") == 0 && i + 1 < argc) {
			if (strlen(argv[++i]) > KANCA_SECRET_MAX) {
				rc = ctl_usage_error("--secret: longer than %d bytes", KANCA_SECRET_MAX);
				goto out;
			}
			snprintf(secret, sizeof secret, "%s", argv[i]);
			have_secret = 1;
		} else if (strcmp(argv[i], "--secret-stdin") == 0) {
			if (ctl_secret_read_stdin(secret, sizeof secret) < 0) {
				rc = ctl_usage_error(
				    "--secret-stdin: no secret on standard input, or longer than %d bytes",
				    KANCA_SECRET_MAX);
				goto out;
			}
			have_secret = 1;
		} else if (strcmp(argv[i], "--generate-secret") == 0) {
			generate = 1;
		} else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
			char *kv = argv[++i], *eq = strchr(kv, '=');
			if (!eq) {
				rc = ctl_usage_error("--set expects KEY=VALUE, got \"%s\"", kv);
				goto out;
			}
			*eq = '\0';
			if (options_set(&opts, kv, eq + 1, &err) < 0) {
				rc = ctl_usage_error("%s", buf_str(&err));
				goto out;
			}
		} else if (strcmp(argv[i], "--root-cert") == 0 && i + 1 < argc) {
			if (strcmp(p->name, "apple") != 0) {
				rc = ctl_usage_error("--root-cert is for the apple provider");
				goto out;
			}
			if (load_root_cert(argv[++i], &opts, root_fp, &err) < 0) {
				rc = ctl_usage_error("%s", buf_str(&err));
				goto out;
			}
		} else {
			rc = ctl_usage_error("source add: unexpected argument \"%s\"", argv[i]);
			goto out;
		}
	}
	if (generate && have_secret) {
		rc = ctl_usage_error("give either --secret/--secret-stdin or --generate-secret, not both");
		goto out;
	}
	if (have_secret && !secret[0]) {
		rc = ctl_usage_error("the secret is empty");
		goto out;
	}
	process_policy_defaults(&policy);
	if (p->check_options(buf_str(&opts), &err) < 0 || process_policy_load(buf_str(&opts), &policy, &err) < 0) {
		rc = ctl_usage_error("%s: %s", p->name, buf_str(&err));
		goto out;
	}
	if (generate) {
		if (ctl_secret_generate(secret) < 0) {
			rc = ctl_fail("no random bytes available");
			goto out;
		}
		have_secret = 1;
	}
	switch (store_source_add(a->store, p->name, argv[1], buf_str(&opts), clock_now(), &id)) {
	case 0:
		break;
	case 1:
		rc = ctl_fail("source %s/%s already exists", p->name, argv[1]);
		goto out;
	default:
		rc = ctl_fail("cannot add the source: %s", store_error(a->store));
		goto out;
	}
	if (have_secret && store_secret_add(a->store, id, secret, 0, clock_now(), &sid) < 0) {
		rc = ctl_fail("source added, but its secret could not be stored: %s", store_error(a->store));
		goto out;
	}
	printf("added source %s/%s (id %lld)%s\n", p->name, argv[1], id,
	       have_secret	 ? ""
	       : p->needs_secret ? "; it has no secret yet and refuses deliveries until it has one"
				 : "");
	if (generate)
		printf("secret: %s\n(shown once: give it to the sender now)\n", secret);
	if (root_fp[0]) {
		printf("root certificate SHA-256 fingerprint: %s\n", root_fp);
		puts(
		    strcmp(root_fp, APPLE_ROOT_G3_SHA256) == 0
			? "this is Apple Root CA - G3"
			: "this is not Apple Root CA - G3: only notifications signed under this root will be accepted");
	}
	rc = CTL_OK;
out:
	wipe_bytes(secret, sizeof secret);
	buf_free(&opts);
	buf_free(&err);
	return rc;
}

int ctl_source_list(struct app *a, int argc, char **argv)
{
	struct store_rows *rows;
	int json = argc == 1 && strcmp(argv[0], "--json") == 0;
	char t[32];

	if (argc && !json)
		return ctl_usage_error("source list [--json]");
	if (store_list_sources(a->store, clock_now(), &rows) < 0)
		return ctl_fail("cannot list sources: %s", store_error(a->store));
	if (json)
		fputs("[", stdout);
	else
		printf("%-6s %-12s %-24s %-8s %-7s %-20s %s\n", "ID", "PROVIDER", "ACCOUNT", "STATE", "SECRETS",
		       "CREATED", "OPTIONS");
	for (size_t r = 0; r < store_rows_count(rows); r++) {
		const char *opts = store_rows_get(rows, r, 4, NULL);
		int enabled = strcmp(store_rows_get(rows, r, 3, NULL), "0") != 0;
		if (json) {
			printf("%s{\"id\":%s,\"provider\":", r ? "," : "", store_rows_get(rows, r, 0, NULL));
			ctl_json_string(stdout, store_rows_get(rows, r, 1, NULL));
			fputs(",\"account\":", stdout);
			ctl_json_string(stdout, store_rows_get(rows, r, 2, NULL));
			printf(",\"enabled\":%s,\"secrets\":%s,\"options\":", enabled ? "true" : "false",
			       store_rows_get(rows, r, 5, NULL));
			ctl_json_string(stdout, opts);
			fputs("}", stdout);
		} else {
			char flat[256];
			size_t k;
			for (k = 0; opts && opts[k] && k < sizeof flat - 1; k++)
				flat[k] = opts[k] == '\n' ? ' ' : opts[k];
			flat[k] = '\0';
			printf("%-6s %-12s %-24s %-8s %-7s %-20s %s\n", store_rows_get(rows, r, 0, NULL),
			       store_rows_get(rows, r, 1, NULL), store_rows_get(rows, r, 2, NULL),
			       enabled ? "enabled" : "disabled", store_rows_get(rows, r, 5, NULL),
			       ctl_time(store_rows_get(rows, r, 6, NULL), t, sizeof t), flat);
		}
	}
	if (json)
		fputs("]\n", stdout);
	store_rows_free(rows);
	return CTL_OK;
}

static int set_enabled(struct app *a, int argc, char **argv, int enabled)
{
	const struct provider *p;

	if (argc != 2)
		return ctl_usage_error("source %s PROVIDER ACCOUNT", enabled ? "enable" : "disable");
	p = registry_find(argv[0]);
	if (!p)
		return ctl_usage_error("unknown provider \"%s\"", argv[0]);
	switch (store_source_set_enabled(a->store, p->name, argv[1], enabled)) {
	case 1:
		printf("%s/%s %s\n", p->name, argv[1], enabled ? "enabled" : "disabled");
		return CTL_OK;
	case 0:
		return ctl_fail("no source %s/%s", p->name, argv[1]);
	default:
		return ctl_fail("cannot change the source: %s", store_error(a->store));
	}
}

int ctl_source_enable(struct app *a, int argc, char **argv)
{
	return set_enabled(a, argc, argv, 1);
}

int ctl_source_disable(struct app *a, int argc, char **argv)
{
	return set_enabled(a, argc, argv, 0);
}
