/* doctor.c: kancactl doctor: checks the configuration, the store, its schema, the clock and the sources;
 * given the public URL, sends each source a self-test delivery signed as its provider signs (X-Kanca-Doctor)
 * through the web server and tells from kanca's answer what the way in between changed, each finding with
 * its fix. The HTTP exchanges go through http_client.c, which owns libcurl. */
#include "first.h"
#include "wipe.h"
#include "buf.h"
#include "caps.h"
#include "clock.h"
#include "config.h"
#include "http_client.h"
#include "ctl/ctl.h"
#include "json.h"
#include "log.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "store/store.h"
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __linux__
#include <sys/timex.h>
#endif

#define DOCTOR_TIMEOUT_MS 20000L      /* one self-test delivery, connect included */
#define DOCTOR_BIG_TIMEOUT_MS 120000L /* the max_body_bytes deliveries */
#define DOCTOR_AGENT "kancactl-doctor/" PACKAGE_VERSION
#define DOCTOR_SKEW_WARN 5.0			       /* seconds of clock difference worth a warning */
#define DOCTOR_CLOCK_FLOOR 1735689600LL		       /* 2025-01-01: a clock before this is certainly wrong */

enum level { OK = 0, WARN, FAIL };

struct doctor {
	struct config cfg;
	const char *config_path;
	struct store *store;
	const char *url; /* the public base URL, without a trailing '/'; NULL: local checks only */
	const char *only_provider, *only_account; /* --source */
	int counts[3];
};

/* One line per finding: control characters (libpq's messages hold line breaks) become single spaces. */
__attribute__((format(printf, 4, 5))) static void say(struct doctor *d, enum level lv, const char *check,
						      const char *fmt, ...)
{
	static const char *const words[] = {"ok", "warn", "FAIL"};
	char text[4096];
	size_t o = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	for (size_t i = 0; text[i]; i++) {
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) {
			if (o > 0 && text[o - 1] != ' ')
				text[o++] = ' ';
		} else {
			text[o++] = text[i];
		}
	}
	while (o > 0 && text[o - 1] == ' ')
		o--;
	text[o] = '\0';
	d->counts[lv]++;
	printf("%-4s %s: %s\n", words[lv], check, text);
	fflush(stdout);
}

/* ---- local checks ------------------------------------------------------------------------------ */

static int check_config(struct doctor *d)
{
	struct buf err;
	const char *line;

	config_defaults(&d->cfg);
	buf_init(&err, 64 * 1024);
	if (config_load(&d->cfg, d->config_path, &err) < 0) {
		line = buf_str(&err);
		if (!*line)
			say(d, FAIL, "config",
			    "%s cannot be loaded. Fix: check that the file exists and is readable (kancactl -c PATH, "
			    "or KANCA_CONFIG)",
			    d->config_path);
		while (*line) {
			size_t n = strcspn(line, "\n");
			char one[KANCA_CONFIG_LINE_MAX + 512];

			snprintf(one, sizeof one, "%.*s", (int)n, line);
			if (strstr(one, ": cannot open"))
				say(d, FAIL, "config",
				    "%.*s. Fix: name the file kanca uses: kancactl -c PATH doctor, or KANCA_CONFIG (the web "
				    "server sets it for kanca: FcgidInitialEnv, SetEnv, bin-environment)",
				    (int)n, line);
			else
				say(d, FAIL, "config",
				    "%.*s. Fix: edit %s (kancactl config keys lists every key, its default and what it "
				    "takes)",
				    (int)n, line, d->config_path);
			line += n + (line[n] == '\n');
		}
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	say(d, OK, "config", "%s loads: store %s, max_body_bytes %zu, timestamp_tolerance %ld, base_path \"%s\"",
	    d->config_path, strncmp(d->cfg.store, "sqlite:", 7) == 0 ? "sqlite" : "postgresql", d->cfg.max_body_bytes,
	    d->cfg.timestamp_tolerance, d->cfg.base_path);
	return 0;
}

/* The store's name for messages: the SQLite path, never a PostgreSQL URI (it may hold a password). */
static const char *store_shown(const struct doctor *d)
{
	return strncmp(d->cfg.store, "sqlite:", 7) == 0 ? d->cfg.store : "PostgreSQL (the store URI)";
}

static int check_store(struct doctor *d)
{
	struct buf err;
	int sqlite = strncmp(d->cfg.store, "sqlite:", 7) == 0;
	const char *fix = sqlite ? "check the path and that its directory exists and is writable by the user kanca "
				   "runs as (the web server's User; SQLite writes a -wal file next to it)"
				 : "start PostgreSQL or correct store = in the configuration (host, port, user, "
				   "database, password)";

	buf_init(&err, 4096);
	if (store_open(d->cfg.store, &d->store, &err) < 0) {
		say(d, FAIL, "store", "%s cannot be opened: %s. Fix: %s", store_shown(d), buf_str(&err), fix);
		d->store = NULL;
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	if (store_ping(d->store) < 0) {
		say(d, FAIL, "store", "%s does not answer: %s. Fix: %s", store_shown(d), store_error(d->store), fix);
		return -1;
	}
	say(d, OK, "store", "%s answers", sqlite ? d->cfg.store : "PostgreSQL");
	return 0;
}

static int check_migrations(struct doctor *d)
{
	int current, latest;

	if (store_schema_version(d->store, &current, &latest) < 0) {
		say(d, FAIL, "migrations", "the schema version cannot be read: %s. Fix: check the store's permissions",
		    store_error(d->store));
		return -1;
	}
	if (current == 0) {
		say(d, FAIL, "migrations",
		    "the store has no schema (this kanca needs version %d). Fix: run kancactl migrate",
		    latest);
		return -1;
	}
	if (current < latest) {
		say(d, FAIL, "migrations",
		    "schema version %d, this kanca needs %d: kanca refuses to start. Fix: run kancactl migrate",
		    current, latest);
		return -1;
	}
	if (current > latest) {
		say(d, FAIL, "migrations",
		    "schema version %d is newer than this kanca knows (%d). Fix: install the kanca that migrated the "
		    "store (this kancactl is older)",
		    current, latest);
		return -1;
	}
	say(d, OK, "migrations", "schema version %d is current", current);
	return 0;
}

#if defined(KANCA_TEST_HOOKS)
#define PINNED_NOTE " (pinned by KANCA_TEST_NOW)"
#else
#define PINNED_NOTE "" /* a release build never pins its clock */
#endif

/* SQLite has no server clock: the kernel's NTP state is what can be checked without another machine. */
static void check_clock_local(struct doctor *d, long long now, int pinned)
{
	char when[32];

	clock_format(now, when, sizeof when);
#if defined(KANCA_TEST_HOOKS)
	if (pinned) {
		say(d, WARN, "clock", "pinned by KANCA_TEST_NOW to %s (for tests only). Fix: unset KANCA_TEST_NOW",
		    when);
		return;
	}
#endif
	if (now < DOCTOR_CLOCK_FLOOR) {
		say(d, FAIL, "clock",
		    "the system clock says %s, which cannot be right: Stripe, Standard Webhooks and Svix deliveries "
		    "are refused. Fix: set the clock and keep it synchronised (timedatectl set-ntp true, or chrony)",
		    when);
		return;
	}
#ifdef __linux__
	{
		struct timex tx;
		int st;

		memset(&tx, 0, sizeof tx);
		st = adjtimex(&tx);
		if (st != -1 && st != TIME_ERROR && !(tx.status & STA_UNSYNC)) {
			say(d, OK, "clock", "%s; the kernel says the clock is synchronised (estimated error %ld ms)",
			    when, tx.esterror / 1000);
			return;
		}
		if (st != -1) {
			say(d, WARN, "clock",
			    "%s; the kernel says the clock is not synchronised, and a SQLite store has no clock of its "
			    "own to compare with, so this check is limited: a clock off by more than "
			    "timestamp_tolerance (%lds) makes kanca refuse Stripe, Standard Webhooks and Svix "
			    "deliveries. Fix: enable NTP (timedatectl set-ntp true, or chrony) on the host",
			    when, d->cfg.timestamp_tolerance);
			return;
		}
	}
#endif
	say(d, WARN, "clock",
	    "%s; the clock's synchronisation cannot be read here and a SQLite store has no clock of its own, so this "
	    "check is limited. Fix: make sure the host runs NTP (timedatectl, chrony)",
	    when);
}

static void check_clock(struct doctor *d, int pinned)
{
	long long now = clock_now();
	double theirs, skew, limit = (double)d->cfg.timestamp_tolerance / 2;
	int rc = store_clock(d->store, &theirs);

	if (rc == -2) {
		check_clock_local(d, now, pinned);
		return;
	}
	if (rc < 0) {
		say(d, WARN, "clock", "PostgreSQL's clock cannot be read (%s); not compared. Fix: see the store line",
		    store_error(d->store));
		return;
	}
	skew = (double)now - theirs;
	if (skew > limit || -skew > limit) {
		say(d, FAIL, "clock",
		    "kanca's clock is %.0f s %s PostgreSQL's%s; more than timestamp_tolerance/2 (%.0f s): Stripe, "
		    "Standard Webhooks and Svix deliveries are refused when the difference to the sender passes "
		    "timestamp_tolerance. Fix: synchronise both hosts with NTP (timedatectl set-ntp true, or chrony)",
		    skew > 0 ? skew : -skew, skew > 0 ? "ahead of" : "behind",
		    pinned ? PINNED_NOTE : "", limit);
	} else if (skew > DOCTOR_SKEW_WARN || -skew > DOCTOR_SKEW_WARN) {
		say(d, WARN, "clock",
		    "kanca's clock is %.0f s %s PostgreSQL's (the limit is %.0f s). Fix: synchronise both hosts with "
		    "NTP",
		    skew > 0 ? skew : -skew, skew > 0 ? "ahead of" : "behind", limit);
	} else {
		say(d, OK, "clock", "kanca's clock is within %.1f s of PostgreSQL's", skew > 0 ? skew : -skew);
	}
}

static void check_spool(struct doctor *d)
{
	say(d, WARN, "spool",
	    "no spool: while the store is down kanca answers 500 and the provider retries (kanca has no local spool "
	    "yet). Fix: keep the store available; watch GET /healthz");
}

static int wanted(const struct doctor *d, const char *provider, const char *account)
{
	return !d->only_provider || (strcmp(d->only_provider, provider) == 0 && strcmp(d->only_account, account) == 0);
}

static int check_sources(struct doctor *d, struct store_rows **out)
{
	size_t n, enabled = 0, disabled = 0, found = 0;
	struct store_rows *rows;

	*out = NULL;
	if (store_list_sources(d->store, clock_now(), &rows) < 0) {
		say(d, FAIL, "sources", "cannot be listed: %s. Fix: see the store and migrations lines",
		    store_error(d->store));
		return -1;
	}
	n = store_rows_count(rows);
	for (size_t r = 0; r < n; r++) {
		const char *prov = store_rows_get(rows, r, 1, NULL), *acc = store_rows_get(rows, r, 2, NULL);
		int on = strcmp(store_rows_get(rows, r, 3, NULL), "0") != 0;
		long secrets = strtol(store_rows_get(rows, r, 5, NULL), NULL, 10);
		const struct provider *p = registry_find(prov);
		char name[2 * KANCA_SEGMENT_MAX + 16];

		if (!wanted(d, prov, acc))
			continue;
		found++;
		snprintf(name, sizeof name, "source %s/%s", prov, acc);
		if (!on) {
			disabled++;
			if (d->only_provider)
				say(d, WARN, name,
				    "is disabled: kanca answers 403 and doctor sends it nothing. Fix: kancactl source "
				    "enable %s %s",
				    prov, acc);
			continue;
		}
		enabled++;
		if (!p)
			say(d, WARN, name,
			    "names a provider this kanca does not know: its deliveries get 404. Fix: kancactl "
			    "providers lists the known ones");
		else if (p->needs_secret && secrets == 0)
			say(d, WARN, name,
			    "has no unexpired secret: kanca refuses every delivery (fail closed). Fix: kancactl source "
			    "secret add %s %s --secret-stdin",
			    prov, acc);
	}
	if (d->only_provider && !found) {
		say(d, FAIL, "sources", "no source %s/%s. Fix: kancactl source list shows the sources",
		    d->only_provider, d->only_account);
		store_rows_free(rows);
		return -1;
	}
	if (enabled == 0)
		say(d, WARN, "sources",
		    "no enabled source: kanca accepts nothing. Fix: kancactl source add PROVIDER ACCOUNT "
		    "--secret-stdin");
	else if (!d->only_provider)
		say(d, OK, "sources", "%zu enabled, %zu disabled", enabled, disabled);
	*out = rows;
	return 0;
}

/* ---- what an answer says ------------------------------------------------------------------------ */

enum reply_kind { REPLY_NONE = 0, REPLY_DOCTOR, REPLY_KANCA, REPLY_OTHER };

struct reply {
	enum reply_kind kind;
	int verified, authorization;
	char reason[KANCA_REASON_MAX + 1]; /* REPLY_DOCTOR: why kanca did not verify it */
	char error[KANCA_REASON_MAX + 1];  /* REPLY_KANCA: kanca's error text */
	long long body_bytes;
	char body_sha256[VERIFY_HEX_LEN + 1];
};

static int json_true(const struct json *j)
{
	struct buf b;
	int yes;

	if (json_kind_of(j) != JSON_BOOL)
		return 0;
	buf_init(&b, 16);
	yes = json_serialize(j, &b) == 0 && strcmp(buf_str(&b), "true") == 0;
	buf_free(&b);
	return yes;
}

static void copy_string(const struct json *obj, const char *key, char *out, size_t cap)
{
	size_t n = 0;
	const char *s = json_get_string(obj, key, &n);

	snprintf(out, cap, "%.*s", s ? (int)n : 0, s ? s : "");
}

/* Classifies an answer: kanca's doctor answer to this nonce, another answer of kanca's (its JSON error
 * shapes, or /healthz), or somebody else's. */
static void reply_parse(const struct http_answer *a, const char *nonce, struct reply *r)
{
	struct json *root = NULL;
	const struct json *j;
	const char *s;
	double num;

	memset(r, 0, sizeof *r);
	if (!a->complete && a->status == 0)
		return;
	r->kind = REPLY_OTHER;
	if (a->body.len == 0 || json_parse(a->body.data, a->body.len, KANCA_JSON_DEPTH, &root) != JSON_OK)
		return;
	if (json_kind_of(root) != JSON_OBJECT)
		goto out;
	s = nonce ? json_get_string(root, "kanca_doctor", NULL) : NULL;
	if (s && strcmp(s, nonce) == 0) {
		r->kind = REPLY_DOCTOR;
		r->verified = json_true(json_get(root, "verified"));
		r->authorization = json_true(json_get(root, "authorization"));
		copy_string(root, "reason", r->reason, sizeof r->reason);
		copy_string(root, "body_sha256", r->body_sha256, sizeof r->body_sha256);
		r->body_bytes = json_number(json_get(root, "body_bytes"), &num) == 0 ? (long long)num : -1;
		goto out;
	}
	j = json_get(root, "success");
	if (j && json_kind_of(j) == JSON_BOOL && !json_true(j) && json_get_string(root, "error", NULL)) {
		r->kind = REPLY_KANCA;
		copy_string(root, "error", r->error, sizeof r->error);
	} else if (json_get_string(root, "message", NULL) && json_get(root, "statusCode")) { /* ikas' shape */
		r->kind = REPLY_KANCA;
		copy_string(root, "message", r->error, sizeof r->error);
	} else if (json_get_string(root, "status", NULL) && json_get_string(root, "store", NULL)) { /* /healthz */
		r->kind = REPLY_KANCA;
		copy_string(root, "status", r->error, sizeof r->error);
	} else if (j && json_true(j)) { /* a success answer: a kanca that does not know doctor stored it */
		r->kind = REPLY_KANCA;
	}
out:
	json_free(root);
}

/* ---- the web server, and its directives ------------------------------------------------------- */

enum server_kind { SERVER_UNKNOWN = 0, SERVER_APACHE, SERVER_LIGHTTPD, SERVER_NGINX };

static enum server_kind server_of(const char *s)
{
	if (strncasecmp(s, "apache", 6) == 0)
		return SERVER_APACHE;
	if (strncasecmp(s, "lighttpd", 8) == 0)
		return SERVER_LIGHTTPD;
	if (strncasecmp(s, "nginx", 5) == 0)
		return SERVER_NGINX;
	return SERVER_UNKNOWN;
}

/* How to raise the web server's body limit above max, for the server that answered (all when unknown). */
static const char *fix_body_limit(enum server_kind k, size_t max, char *out, size_t cap)
{
	unsigned long long twice = 2ULL * max;

	switch (k) {
	case SERVER_APACHE:
		snprintf(out, cap,
			 "Apache with mod_fcgid: FcgidMaxRequestLen %llu (twice max_body_bytes; mod_fcgid's default is "
			 "131072, 128 KiB, which breaks every larger delivery); with mod_proxy_fcgi or CGI: "
			 "LimitRequestBody %llu (never LimitRequestBody with mod_fcgid: it then hands kanca an empty "
			 "body); a proxy in front has its own limit",
			 twice, twice);
		break;
	case SERVER_LIGHTTPD:
		snprintf(out, cap,
			 "lighttpd: server.max-request-size = %llu (KiB: twice max_body_bytes); a proxy in front has "
			 "its own limit",
			 twice / 1024 + 1);
		break;
	case SERVER_NGINX:
		snprintf(out, cap, "nginx: client_max_body_size %lluk (twice max_body_bytes)", twice / 1024 + 1);
		break;
	default:
		snprintf(
		    out, cap,
		    "raise the limit to twice max_body_bytes (%llu bytes): Apache with mod_fcgid: FcgidMaxRequestLen "
		    "(default 131072, 128 KiB); Apache otherwise: LimitRequestBody; lighttpd: server.max-request-size "
		    "(KiB); nginx: client_max_body_size; a proxy in front has its own limit",
		    twice);
		break;
	}
	return out;
}

static const char *fix_route(enum server_kind k)
{
	switch (k) {
	case SERVER_APACHE:
		return "Apache: kanca's routes ^/(webhook/|api/suppliers/|healthz$) must reach kanca: the AliasMatch + "
		       "SetHandler fcgid-script of the mod_fcgid config, the ProxyPassMatch of the mod_proxy_fcgi "
		       "config, or the .htaccess RewriteRule to cgi-bin/kanca.cgi (shared hosting; needs mod_rewrite "
		       "and AllowOverride FileInfo); with base_path, the prefix in front of them";
	case SERVER_LIGHTTPD:
		return "lighttpd: the $HTTP[\"url\"] =~ \"^/(webhook/|api/|healthz$)\" condition around fastcgi.server "
		       "(or cgi.assign) must match kanca's paths, base_path included";
	case SERVER_NGINX:
		return "nginx: a location for /webhook/, /api/suppliers/ and /healthz with fastcgi_pass to kanca";
	default:
		return "the web server must pass /webhook/..., /api/suppliers/.../webhook and /healthz (behind "
		       "base_path) to kanca: Apache AliasMatch/ProxyPassMatch/RewriteRule, lighttpd $HTTP[\"url\"] "
		       "around fastcgi.server";
	}
}

static const char *fix_authorization(enum server_kind k)
{
	if (k == SERVER_APACHE || k == SERVER_UNKNOWN)
		return "Apache does not pass Authorization to FastCGI or CGI programs unless told to: CGIPassAuth On "
		       "in kanca's <LocationMatch> (or in .htaccess, which needs AllowOverride AuthConfig); with "
		       "mod_fcgid, FcgidPassHeader Authorization (server or vhost) works too; on hosts without "
		       "AuthConfig: SetEnvIf Authorization \"(.+)\" HTTP_AUTHORIZATION=$1. A proxy in front may strip "
		       "it too";
	return "the web server or a proxy in front of it drops the Authorization header on the way to kanca";
}

/* ---- self-test deliveries ---------------------------------------------------------------------- */

struct probe {
	const struct provider *prov;
	struct store_source src;
	char name[2 * KANCA_SEGMENT_MAX + 16]; /* "provider/account" */
	char url[KANCA_URL_MAX + 2 * KANCA_SEGMENT_MAX + 64];
	char nonce[33];
	struct buf body, headers;
	char sent_sha256[VERIFY_HEX_LEN + 1];
};

/* base URL + base_path (unless the URL already ends with it) + path */
static int full_url(const struct doctor *d, const char *path, char *out, size_t cap)
{
	const char *after = strstr(d->url, "://"), *upath;
	size_t blen = strlen(d->cfg.base_path), plen;
	int n;

	upath = after ? strchr(after + 3, '/') : NULL;
	plen = upath ? strlen(upath) : 0;
	if (blen && plen >= blen && strcmp(upath + plen - blen, d->cfg.base_path) == 0)
		blen = 0;
	n = snprintf(out, cap, "%s%s%s", d->url, blen ? d->cfg.base_path : "", path);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int probe_route(const struct doctor *d, struct probe *p)
{
	char path[2 * KANCA_SEGMENT_MAX + 64];

	if (strcmp(p->prov->name, "supplier") == 0)
		snprintf(path, sizeof path, "/api/suppliers/%s/webhook", p->src.account);
	else
		snprintf(path, sizeof path, "/webhook/%s/%s", p->prov->name, p->src.account);
	return full_url(d, path, p->url, sizeof p->url);
}

static void probe_free(struct probe *p)
{
	if (p->headers.data)
		wipe_bytes(p->headers.data, p->headers.len);
	buf_free(&p->headers);
	buf_free(&p->body);
	store_source_free(&p->src);
}

/* The payload: a JSON object naming the nonce; pad < 0 gives a short text (with UTF-8, so a re-encoding
 * shows), else pad bytes of 'x'. */
static int payload(struct buf *out, const char *nonce, long pad)
{
	static const char text[] = "kanca doctor K\xc3\xbcnye \xe2\x9c\x93 0123456789";

	buf_reset(out);
	if (buf_printf(out, "{\"kanca_doctor\":\"%s\",\"event\":\"kanca.doctor\",\"pad\":\"", nonce) < 0)
		return -1;
	if (pad < 0) {
		if (buf_append_str(out, text) < 0)
			return -1;
	} else {
		char xs[4096];

		memset(xs, 'x', sizeof xs);
		for (long left = pad; left > 0; left -= (long)sizeof xs)
			if (buf_append(out, xs, left < (long)sizeof xs ? (size_t)left : sizeof xs) < 0)
				return -1;
	}
	return buf_append_str(out, "\"}");
}

/* Builds the delivery: a fresh nonce, the body and header lines as the provider's sender makes them. */
static int probe_build(struct probe *p, long pad, struct buf *err)
{
	unsigned char raw[16], d[VERIFY_SHA256_LEN];
	struct buf pl;
	int rc = -1;

	if (verify_random(raw, sizeof raw) < 0)
		return buf_fail(err, "%s", "no random bytes for the nonce");
	verify_hex_encode(raw, sizeof raw, p->nonce);
	if (p->headers.data)
		wipe_bytes(p->headers.data, p->headers.len);
	buf_reset(&p->headers);
	buf_reset(&p->body);
	buf_init(&pl, KANCA_DOCTOR_BODY_MAX);
	if (payload(&pl, p->nonce, pad) < 0) {
		(void)buf_fail(err, "%s", "the payload does not fit");
		goto out;
	}
	if (p->prov->sign && p->src.nsecrets > 0) {
		struct provider_sign_in in = {
		    .secret = p->src.secrets[0].value,
		    .secret_len = p->src.secrets[0].len,
		    .options = p->src.options ? p->src.options : "",
		    .payload = buf_str(&pl),
		    .payload_len = pl.len,
		    .id = p->nonce,
		    .now = clock_now(),
		};
		if (p->prov->sign(&in, &p->body, &p->headers, err) < 0)
			goto out;
	} else if (buf_append(&p->body, pl.data, pl.len) < 0 ||
		   buf_append_str(&p->headers, "Content-Type: application/json\n") < 0) {
		(void)buf_fail(err, "%s", "the payload does not fit");
		goto out;
	}
	if (buf_printf(&p->headers, "X-Kanca-Doctor: %s\n", p->nonce) < 0) {
		(void)buf_fail(err, "%s", "the headers do not fit");
		goto out;
	}
	if (verify_sha256(buf_str(&p->body), p->body.len, d) < 0) {
		(void)buf_fail(err, "%s", "SHA-256 failed");
		goto out;
	}
	verify_hex_encode(d, sizeof d, p->sent_sha256);
	rc = 0;
out:
	buf_free(&pl);
	return rc;
}

/* Builds a delivery whose body is exactly size bytes (the envelope of some providers adds to the payload:
 * the pad is corrected until it fits). 0, 1 when size is below the smallest delivery, -1 with err. */
static int probe_build_size(struct probe *p, size_t size, struct buf *err)
{
	long pad = (long)size > 200 ? (long)size - 200 : 0;

	for (int i = 0; i < 6; i++) {
		if (probe_build(p, pad, err) < 0)
			return -1;
		if (p->body.len == size)
			return 0;
		pad += (long)size - (long)p->body.len;
		if (pad < 0)
			return 1;
	}
	return buf_fail(err, "%s", "no pad gives the exact size");
}

/* GET (body NULL) or POST url with the header lines; an exchange that fails says why, with the system's
 * error ("Couldn't connect to server: Connection refused"). */
static void exchange(const char *url, const struct buf *lines, const void *body, size_t len, long timeout_ms,
		     struct http_answer *a)
{
	struct http_request rq = {url, lines, body, len, timeout_ms, DOCTOR_AGENT, 0, 0};
	size_t n;

	http_client_exchange(&rq, a);
	n = strlen(a->error);
	if (!a->complete && a->os_errno && n + 3 < sizeof a->error)
		snprintf(a->error + n, sizeof a->error - n, ": %s", strerror((int)a->os_errno));
}

static void probe_send(struct probe *p, long timeout_ms, struct http_answer *a)
{
	exchange(p->url, &p->headers, buf_str(&p->body), p->body.len, timeout_ms, a);
}

/* The short form of an answer for messages: "HTTP 404 from Apache/2.4 (not kanca's)". */
static void describe(const struct http_answer *a, const struct reply *r, char *out, size_t cap)
{
	if (a->status == 0) {
		snprintf(out, cap, "no answer (%s)", a->error);
		return;
	}
	snprintf(out, cap, "HTTP %ld%s%s%s%s%s", a->status, a->server[0] ? " from " : "", a->server,
		 r->kind == REPLY_KANCA	  ? " (kanca: "
		 : r->kind == REPLY_OTHER ? " (not kanca's answer)"
					  : "",
		 r->kind == REPLY_KANCA ? (r->error[0] ? r->error : "success") : "", r->kind == REPLY_KANCA ? ")" : "");
	if (!a->complete && strlen(out) + 8 < cap)
		snprintf(out + strlen(out), cap - strlen(out), ", then %s", a->error);
}

/* Reports a transport failure or an answer that is not doctor's; 1 when it did, 0 when r is doctor's. */
static int judge_not_doctor(struct doctor *d, const char *check, const struct probe *p, const struct http_answer *a,
			    const struct reply *r)
{
	enum server_kind k = server_of(a->server);
	char what[512], fix[768];

	if (r->kind == REPLY_DOCTOR)
		return 0;
	describe(a, r, what, sizeof what);
	if (r->kind == REPLY_NONE) {
		say(d, FAIL, check, "POST %s: %s. Fix: %s", p->url, what,
		    a->refused
			? "nothing listens there: the URL (scheme, host, port) is wrong or the web server is down"
		    : a->timed_out ? "the web server did not answer in time: check the URL, a firewall, and the web "
				     "server's error log (a kanca that hangs on its store)"
				   : "check the URL and the web server's error log");
	} else if (a->status >= 300 && a->status < 400) {
		say(d, FAIL, check,
		    "POST %s: %s to %s: senders do not follow redirects of a POST. Fix: give providers the URL it "
		    "redirects to (e.g. https://), or stop redirecting kanca's routes",
		    p->url, what, a->location[0] ? a->location : "(no Location)");
	} else if (r->kind == REPLY_KANCA) {
		if (a->status == 404 && strcmp(r->error, "Not found") == 0)
			say(d, FAIL, check,
			    "POST %s: %s: kanca is reached but the path it sees is not one of its routes. Fix: "
			    "base_path (now \"%s\") must be the prefix in front of /webhook/ in the path the web "
			    "server hands kanca (REQUEST_URI)",
			    p->url, what, d->cfg.base_path);
		else if (a->status == 404 || a->status == 403 || strcmp(r->error, "no secret configured") == 0)
			say(d, FAIL, check,
			    "POST %s: %s: the kanca behind the URL does not have this source as %s has it: it reads "
			    "another store. Fix: point the web server's KANCA_CONFIG (FcgidInitialEnv, SetEnv, "
			    "bin-environment) at %s, or run doctor with -c and that file",
			    p->url, what, d->config_path, d->config_path);
		else if (a->status == 411)
			say(d, FAIL, check,
			    "POST %s: %s: the body reached kanca without Content-Length (chunked). Fix: Apache "
			    "mod_proxy_fcgi: SetEnv proxy-sendcl 1 on kanca's routes",
			    p->url, what);
		else if (a->status == 413 && p->body.len > d->cfg.max_body_bytes)
			say(d, FAIL, check,
			    "POST %s: %s: max_body_bytes (%zu) is below even this %zu-byte self-test. Fix: raise "
			    "max_body_bytes in %s (providers send far larger bodies; the default is 1M)",
			    p->url, what, d->cfg.max_body_bytes, p->body.len, d->config_path);
		else if (a->status == 413)
			say(d, FAIL, check,
			    "POST %s: %s: the kanca behind the URL has a smaller max_body_bytes than %s. Fix: it reads "
			    "another configuration: check the web server's KANCA_CONFIG",
			    p->url, what, d->config_path);
		else if (a->status == 500)
			say(d, FAIL, check,
			    "POST %s: %s: kanca could not look the source up: its store does not answer from the web "
			    "server. Fix: the store must be readable and writable by the web server's user (SQLite: "
			    "the file and its directory); see the web server's error log",
			    p->url, what);
		else if (a->status >= 200 && a->status < 300)
			say(d, FAIL, check,
			    "POST %s: %s without a doctor answer: the kanca behind the URL is older than this kancactl "
			    "and stored the self-test as an event. Fix: install the same kanca version as kancactl",
			    p->url, what);
		else
			say(d, FAIL, check, "POST %s: %s. Fix: see the web server's error log (kanca logs why)", p->url,
			    what);
	} else if (a->status == 404) {
		say(d, FAIL, check,
		    "POST %s: %s: wrong route: the web server does not send this path to kanca. Fix: %s", p->url, what,
		    fix_route(k));
	} else if (a->status == 401 || a->status == 403) {
		say(d, FAIL, check,
		    "POST %s: %s: the web server itself refuses the request before kanca. Fix: remove the "
		    "authentication or access rule (Require, .htaccess, a WAF) from kanca's routes",
		    p->url, what);
	} else if (a->status == 413) {
		say(d, FAIL, check, "POST %s: %s: the web server refuses even a %zu-byte body. Fix: %s", p->url, what,
		    p->body.len, fix_body_limit(k, d->cfg.max_body_bytes, fix, sizeof fix));
	} else if (a->status >= 500) {
		say(d, FAIL, check,
		    "POST %s: %s: the web server could not run kanca. Fix: see its error log: mod_fcgid needs "
		    "FcgidInitialEnv KANCA_CONFIG (SetEnv does not reach kanca); the kanca binary must be executable "
		    "by the web server's user; mod_proxy_fcgi: the socket must be writable by it (AH02454)",
		    p->url, what);
	} else {
		say(d, FAIL, check,
		    "POST %s: %s: the answer does not come from kanca. Fix: check the web server's configuration for "
		    "kanca's routes",
		    p->url, what);
	}
	return 1;
}

/* A body that arrived other than it was sent; 1 when so (reported). */
static int judge_body(struct doctor *d, const char *check, const struct probe *p, const struct reply *r)
{
	if ((size_t)r->body_bytes == p->body.len && strcmp(r->body_sha256, p->sent_sha256) == 0)
		return 0;
	say(d, FAIL, check,
	    "the body changed on the way: sent %zu bytes (sha256 %.12s...), kanca got %lld bytes (sha256 %.12s...)%s. "
	    "Fix: keep request filters off kanca's routes: Apache mod_deflate with SetInputFilter DEFLATE, "
	    "mod_security, a proxy that re-encodes or recompresses%s",
	    p->body.len, p->sent_sha256, r->body_bytes, r->body_sha256, r->body_bytes == 0 ? ": the body is gone" : "",
	    r->body_bytes == 0 ? "; with mod_fcgid never set LimitRequestBody on kanca's routes (mod_fcgid then "
				 "hands kanca an empty body)"
			       : "");
	return 1;
}

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
	if (probe_route(d, p) < 0 || probe_build(p, -1, &err) < 0) {
		say(d, FAIL, check,
		    "cannot build the self-test: %s. Fix: check the source's options (kancactl source list)",
		    err.len ? buf_str(&err) : "the URL is too long");
		buf_free(&err);
		return 0;
	}
	buf_free(&err);
	http_answer_init(&a, KANCA_DOCTOR_ANSWER_MAX);
	probe_send(p, DOCTOR_TIMEOUT_MS, &a);
	reply_parse(&a, p->nonce, &r);
	if (a.server[0] && *seen == SERVER_UNKNOWN)
		*seen = server_of(a.server);
	if (judge_not_doctor(d, check, p, &a, &r))
		goto out;
	reached = 1;
	if (judge_body(d, check, p, &r))
		goto out;
	if (r.verified) {
		say(d, OK, check, "POST %s: kanca verified the self-test (%zu bytes arrived intact%s)", p->url,
		    p->body.len, r.authorization ? ", Authorization arrived" : "");
	} else if (!p->prov->sign) {
		say(d, OK, check,
		    "POST %s: the route and the body reach kanca (%zu bytes intact); signature skipped: %s", p->url,
		    p->body.len,
		    strcmp(p->prov->name, "apple") == 0 ? "Apple signs with its own certificates"
							: "kanca cannot sign as this provider's sender");
	} else if (strstr(r.reason, "missing Authorization header")) {
		say(d, FAIL, check,
		    "POST %s: HTTP %ld: kanca says \"%s\": the Authorization header does not arrive. Fix: %s", p->url,
		    a.status, r.reason, fix_authorization(server_of(a.server)));
	} else if (strstr(r.reason, "timestamp") || strstr(r.reason, "too old") || strstr(r.reason, "too new")) {
		say(d, FAIL, check,
		    "POST %s: HTTP %ld: kanca says \"%s\": its clock and this host's differ by more than "
		    "timestamp_tolerance (%ld s). Fix: synchronise the clocks with NTP (timedatectl set-ntp true, or "
		    "chrony)",
		    p->url, a.status, r.reason, d->cfg.timestamp_tolerance);
	} else if (strcmp(r.reason, "no secret configured") == 0) {
		say(d, FAIL, check,
		    "POST %s: HTTP %ld: the kanca behind the URL finds no secret for this source: it reads another "
		    "store than %s. Fix: point the web server's KANCA_CONFIG at this file",
		    p->url, a.status, d->config_path);
	} else if (strncmp(r.reason, "missing ", 8) == 0) {
		say(d, FAIL, check,
		    "POST %s: HTTP %ld: kanca says \"%s\": a header the provider sends does not arrive. Fix: the web "
		    "server or a proxy drops it; pass every request header to kanca",
		    p->url, a.status, r.reason);
	} else {
		say(d, FAIL, check,
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
	rc = probe_build_size(p, max, &err);
	if (rc != 0) {
		say(d, WARN, "body limit", "not checked: %s",
		    rc > 0 ? "max_body_bytes is below the smallest self-test" : buf_str(&err));
		buf_free(&err);
		return;
	}
	http_answer_init(&a, KANCA_DOCTOR_ANSWER_MAX);
	probe_send(p, DOCTOR_BIG_TIMEOUT_MS, &a);
	reply_parse(&a, p->nonce, &r);
	if (a.server[0])
		seen = server_of(a.server);
	describe(&a, &r, what, sizeof what);
	if (r.kind == REPLY_DOCTOR) {
		if (!judge_body(d, "body limit", p, &r))
			say(d, OK, "body limit", "a body of max_body_bytes (%zu bytes) reaches kanca whole through %s",
			    max, p->url);
		else
			goto out;
	} else if (r.kind == REPLY_KANCA && a.status == 413) {
		say(d, FAIL, "body limit",
		    "POST %s with %zu bytes: %s: the kanca behind the URL has a smaller max_body_bytes than %s. Fix: "
		    "it reads another configuration: check the web server's KANCA_CONFIG",
		    p->url, max, what, d->config_path);
		goto out;
	} else if (r.kind == REPLY_KANCA) {
		say(d, FAIL, "body limit", "POST %s with %zu bytes: %s. Fix: see the web server's error log", p->url,
		    max, what);
		goto out;
	} else {
		say(d, FAIL, "body limit",
		    "POST %s with a body of max_body_bytes (%zu bytes): %s: the web server's body limit is below "
		    "max_body_bytes, so such deliveries never reach kanca and the sender retries them. Fix: %s",
		    p->url, max, what, fix_body_limit(seen, max, fix, sizeof fix));
		goto out;
	}

	/* one byte over: kanca answers 413 itself (a web server's own refusal is acceptable) */
	http_answer_free(&a);
	rc = probe_build_size(p, max + 1, &err);
	if (rc != 0) {
		say(d, WARN, "body over limit", "not checked: %s", buf_str(&err));
		goto out;
	}
	http_answer_init(&a, KANCA_DOCTOR_ANSWER_MAX);
	probe_send(p, DOCTOR_BIG_TIMEOUT_MS, &a);
	reply_parse(&a, p->nonce, &r);
	describe(&a, &r, what, sizeof what);
	if (r.kind == REPLY_KANCA && a.status == 413)
		say(d, OK, "body over limit", "a body of max_body_bytes + 1 gets kanca's own 413");
	else if (r.kind == REPLY_DOCTOR)
		say(d, WARN, "body over limit",
		    "kanca accepted %zu bytes, more than max_body_bytes in %s: the kanca behind the URL reads another "
		    "configuration. Fix: check the web server's KANCA_CONFIG",
		    max + 1, d->config_path);
	else
		say(d, WARN, "body over limit",
		    "a body of max_body_bytes + 1 gets %s instead of kanca's 413: acceptable if the web server's limit "
		    "lies just above max_body_bytes, but senders retry a 5xx or a reset forever. Fix: %s",
		    what, fix_body_limit(seen, max, fix, sizeof fix));
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

	if (full_url(d, "/healthz", url, sizeof url) < 0) {
		say(d, FAIL, "healthz", "the URL is too long. Fix: give the base URL only");
		return -1;
	}
	http_answer_init(&a, KANCA_DOCTOR_ANSWER_MAX);
	exchange(url, NULL, NULL, 0, DOCTOR_TIMEOUT_MS, &a);
	reply_parse(&a, NULL, &r);
	describe(&a, &r, what, sizeof what);
	if (r.kind == REPLY_NONE) {
		say(d, FAIL, "healthz", "GET %s: %s. Fix: %s", url, what,
		    a.refused ? "nothing listens there: the URL (scheme, host, port) is wrong or the web server is down"
			      : "check the URL, a firewall, and the web server's error log");
		rc = -1;
	} else if (r.kind == REPLY_KANCA && a.status == 200 && strcmp(r.error, "ok") == 0) {
		const char *theirs = "";
		if (json_parse(a.body.data, a.body.len, KANCA_JSON_DEPTH, &root) == JSON_OK)
			theirs = json_get_string(root, "store", NULL);
		if (theirs && strcmp(theirs, mine) != 0)
			say(d, WARN, "healthz",
			    "GET %s: the kanca behind the URL uses a %s store, %s names %s. Fix: point the web "
			    "server's KANCA_CONFIG at %s",
			    url, theirs, d->config_path, mine, d->config_path);
		else
			say(d, OK, "healthz", "GET %s: kanca answers, its store is up", url);
		json_free(root);
	} else if (r.kind == REPLY_KANCA && a.status == 503) {
		say(d, FAIL, "healthz",
		    "GET %s: %s: the kanca behind the URL cannot reach its store. Fix: the store must be reachable, "
		    "readable and writable by the web server's user (SQLite: the file and its directory)",
		    url, what);
	} else {
		say(d, WARN, "healthz",
		    "GET %s: %s: /healthz does not reach kanca, so monitoring cannot use it. Fix: %s", url, what,
		    fix_route(server_of(a.server)));
	}
	http_answer_free(&a);
	return rc;
}

static void check_url(struct doctor *d, struct store_rows *rows)
{
	struct probe *limit = NULL, *probes;
	size_t n = rows ? store_rows_count(rows) : 0, np = 0;
	enum server_kind seen = SERVER_UNKNOWN;
	int limit_verified = 0;

	if (check_healthz(d) < 0) {
		say(d, WARN, "deliveries", "not sent: nothing answers at the URL");
		return;
	}
	probes = calloc(n ? n : 1, sizeof *probes);
	if (!probes) {
		say(d, FAIL, "deliveries", "out of memory");
		return;
	}
	for (size_t r = 0; r < n; r++) {
		const char *prov = store_rows_get(rows, r, 1, NULL), *acc = store_rows_get(rows, r, 2, NULL);
		struct probe *p = &probes[np];
		int rc, reached;

		if (!wanted(d, prov, acc) || strcmp(store_rows_get(rows, r, 3, NULL), "0") == 0 ||
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
			say(d, FAIL, check, "the source cannot be read from the store: %s. Fix: see the store line",
			    store_error(d->store));
			continue;
		}
		if (p->prov->needs_secret && p->src.nsecrets == 0) {
			char check[sizeof p->name + 16];

			snprintf(check, sizeof check, "delivery %s", p->name);
			say(d, WARN, check, "not sent: the source has no unexpired secret (see its source line)");
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
		say(d, WARN, "deliveries", "no enabled source to send a self-test to");
	else if (!limit)
		say(d, WARN, "body limit", "not checked: no self-test reached kanca (see the delivery lines)");
	else
		check_body_limit(d, limit, seen);
	for (size_t i = 0; i < np; i++)
		probe_free(&probes[i]);
	free(probes);
}

/* ---- the command -------------------------------------------------------------------------------- */

int ctl_doctor(const char *config, int argc, char **argv)
{
	struct doctor d;
	struct store_rows *rows = NULL;
	char source[2 * KANCA_SEGMENT_MAX + 2], url[KANCA_URL_MAX + 1];
	int pinned;

	memset(&d, 0, sizeof d);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
			if (ctl_split_source(argv[++i], source, sizeof source, &d.only_provider, &d.only_account) < 0)
				return ctl_usage_error("--source takes PROVIDER/ACCOUNT");
		} else if (argv[i][0] != '-' && !d.url) {
			size_t n = strlen(argv[i]);
			if ((strncmp(argv[i], "http://", 7) != 0 && strncmp(argv[i], "https://", 8) != 0) ||
			    n > KANCA_URL_MAX)
				return ctl_usage_error(
				    "doctor: URL must be http://... or https://... (the public base URL)");
			while (n > 8 && argv[i][n - 1] == '/')
				n--;
			memcpy(url, argv[i], n);
			url[n] = '\0';
			d.url = url;
		} else {
			return ctl_usage_error("doctor [URL] [--source PROVIDER/ACCOUNT]");
		}
	}
	if (d.only_provider) {
		const struct provider *p = registry_find(d.only_provider);
		if (p)
			d.only_provider = p->name; /* an alias names the canonical provider */
	}
	d.config_path = config ? config : config_path();
	pinned = clock_init();
	if (check_config(&d) < 0)
		goto done;
	log_set_level((enum log_level)d.cfg.log_level);
	if (check_store(&d) < 0) {
		say(&d, WARN, "migrations", "not checked: the store does not answer");
		goto done;
	}
	if (check_migrations(&d) < 0) {
		check_clock(&d, pinned);
		goto done;
	}
	check_clock(&d, pinned);
	check_spool(&d);
	if (check_sources(&d, &rows) < 0)
		goto done;
	if (d.url) {
		if (http_client_init() < 0) {
			say(&d, FAIL, "deliveries", "libcurl cannot start");
		} else {
			check_url(&d, rows);
			http_client_cleanup();
		}
	}
done:
	store_rows_free(rows);
	store_close(d.store);
	printf("doctor: %d ok, %d warn, %d FAIL\n", d.counts[OK], d.counts[WARN], d.counts[FAIL]);
	return d.counts[FAIL] ? CTL_FAIL : CTL_OK;
}
