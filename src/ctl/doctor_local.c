/* doctor_local.c: kancactl doctor's checks on this host: the configuration, the store, its schema, the
 * clock, the spool and the sources. */
#include "first.h"
#include "ctl/doctor_int.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "providers/registry.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/timex.h>
#endif

#define DOCTOR_SKEW_WARN   5.0		/* seconds of clock difference worth a warning */
#define DOCTOR_CLOCK_FLOOR 1735689600LL /* 2025-01-01: a clock before this is certainly wrong */

#if defined(KANCA_TEST_HOOKS)
#define PINNED_NOTE " (pinned by KANCA_TEST_NOW)"
#else
#define PINNED_NOTE "" /* a release build never pins its clock */
#endif

int doctor_check_config(struct doctor *d)
{
	struct buf err;
	const char *line;

	config_defaults(&d->cfg);
	buf_init(&err, 64 * 1024);
	if (config_load(&d->cfg, d->config_path, &err) < 0) {
		line = buf_str(&err);
		if (!*line)
			doctor_say(
			    d, FAIL, "config",
			    "%s cannot be loaded. Fix: check that the file exists and is readable (kancactl -c PATH, "
			    "or KANCA_CONFIG)",
			    d->config_path);
		while (*line) {
			size_t n = strcspn(line, "\n");
			char one[KANCA_CONFIG_LINE_MAX + 512];

			snprintf(one, sizeof one, "%.*s", (int)n, line);
			if (strstr(one, ": cannot open"))
				doctor_say(d, FAIL, "config",
					   "%.*s. Fix: name the file kanca uses: kancactl -c PATH doctor, or "
					   "KANCA_CONFIG (the web "
					   "server sets it for kanca: FcgidInitialEnv, SetEnv, bin-environment)",
					   (int)n, line);
			else
				doctor_say(
				    d, FAIL, "config",
				    "%.*s. Fix: edit %s (kancactl config keys lists every key, its default and what it "
				    "takes)",
				    (int)n, line, d->config_path);
			line += n + (line[n] == '\n');
		}
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	doctor_say(d, OK, "config", "%s loads: store %s, max_body_bytes %zu, timestamp_tolerance %ld, base_path \"%s\"",
		   d->config_path, strncmp(d->cfg.store, "sqlite:", 7) == 0 ? "sqlite" : "postgresql",
		   d->cfg.max_body_bytes, d->cfg.timestamp_tolerance, d->cfg.base_path);
	return 0;
}

/* The store's name for messages: the SQLite path, never a PostgreSQL URI (it may hold a password). */
static const char *store_shown(const struct doctor *d)
{
	return strncmp(d->cfg.store, "sqlite:", 7) == 0 ? d->cfg.store : "PostgreSQL (the store URI)";
}

int doctor_check_store(struct doctor *d)
{
	struct buf err;
	int sqlite = strncmp(d->cfg.store, "sqlite:", 7) == 0;
	const char *fix = sqlite ? "check the path and that its directory exists and is writable by the user kanca "
				   "runs as (the web server's User; SQLite writes a -wal file next to it)"
				 : "start PostgreSQL or correct store = in the configuration (host, port, user, "
				   "database, password)";

	buf_init(&err, 4096);
	if (store_open(d->cfg.store, &d->store, &err) < 0) {
		doctor_say(d, FAIL, "store", "%s cannot be opened: %s. Fix: %s", store_shown(d), buf_str(&err), fix);
		d->store = NULL;
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	if (store_ping(d->store) < 0) {
		doctor_say(d, FAIL, "store", "%s does not answer: %s. Fix: %s", store_shown(d), store_error(d->store),
			   fix);
		return -1;
	}
	doctor_say(d, OK, "store", "%s answers", sqlite ? d->cfg.store : "PostgreSQL");
	return 0;
}

int doctor_check_migrations(struct doctor *d)
{
	int current, latest;

	if (store_schema_version(d->store, &current, &latest) < 0) {
		doctor_say(d, FAIL, "migrations",
			   "the schema version cannot be read: %s. Fix: check the store's permissions",
			   store_error(d->store));
		return -1;
	}
	if (current == 0) {
		doctor_say(d, FAIL, "migrations",
			   "the store has no schema (this kanca needs version %d). Fix: run kancactl migrate", latest);
		return -1;
	}
	if (current < latest) {
		doctor_say(d, FAIL, "migrations",
			   "schema version %d, this kanca needs %d: kanca refuses to start. Fix: run kancactl migrate",
			   current, latest);
		return -1;
	}
	if (current > latest) {
		doctor_say(
		    d, FAIL, "migrations",
		    "schema version %d is newer than this kanca knows (%d). Fix: install the kanca that migrated the "
		    "store (this kancactl is older)",
		    current, latest);
		return -1;
	}
	doctor_say(d, OK, "migrations", "schema version %d is current", current);
	return 0;
}

/* SQLite has no server clock: the kernel's NTP state is what can be checked without another machine. */
static void check_clock_local(struct doctor *d, long long now, int pinned)
{
	char when[32];

	clock_format(now, when, sizeof when);
#if defined(KANCA_TEST_HOOKS)
	if (pinned) {
		doctor_say(d, WARN, "clock",
			   "pinned by KANCA_TEST_NOW to %s (for tests only). Fix: unset KANCA_TEST_NOW", when);
		return;
	}
#endif
	if (now < DOCTOR_CLOCK_FLOOR) {
		doctor_say(
		    d, FAIL, "clock",
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
			doctor_say(d, OK, "clock",
				   "%s; the kernel says the clock is synchronised (estimated error %ld ms)", when,
				   tx.esterror / 1000);
			return;
		}
		if (st != -1) {
			doctor_say(
			    d, WARN, "clock",
			    "%s; the kernel says the clock is not synchronised, and a SQLite store has no clock of its "
			    "own to compare with, so this check is limited: a clock off by more than "
			    "timestamp_tolerance (%lds) makes kanca refuse Stripe, Standard Webhooks and Svix "
			    "deliveries. Fix: enable NTP (timedatectl set-ntp true, or chrony) on the host",
			    when, d->cfg.timestamp_tolerance);
			return;
		}
	}
#endif
	doctor_say(
	    d, WARN, "clock",
	    "%s; the clock's synchronisation cannot be read here and a SQLite store has no clock of its own, so this "
	    "check is limited. Fix: make sure the host runs NTP (timedatectl, chrony)",
	    when);
}

void doctor_check_clock(struct doctor *d, int pinned)
{
	long long now = clock_now();
	double theirs, skew, limit = (double)d->cfg.timestamp_tolerance / 2;
	int rc = store_clock(d->store, &theirs);

	if (rc == -2) {
		check_clock_local(d, now, pinned);
		return;
	}
	if (rc < 0) {
		doctor_say(d, WARN, "clock",
			   "PostgreSQL's clock cannot be read (%s); not compared. Fix: see the store line",
			   store_error(d->store));
		return;
	}
	skew = (double)now - theirs;
	if (skew > limit || -skew > limit) {
		doctor_say(
		    d, FAIL, "clock",
		    "kanca's clock is %.0f s %s PostgreSQL's%s; more than timestamp_tolerance/2 (%.0f s): Stripe, "
		    "Standard Webhooks and Svix deliveries are refused when the difference to the sender passes "
		    "timestamp_tolerance. Fix: synchronise both hosts with NTP (timedatectl set-ntp true, or chrony)",
		    skew > 0 ? skew : -skew, skew > 0 ? "ahead of" : "behind", pinned ? PINNED_NOTE : "", limit);
	} else if (skew > DOCTOR_SKEW_WARN || -skew > DOCTOR_SKEW_WARN) {
		doctor_say(
		    d, WARN, "clock",
		    "kanca's clock is %.0f s %s PostgreSQL's (the limit is %.0f s). Fix: synchronise both hosts with "
		    "NTP",
		    skew > 0 ? skew : -skew, skew > 0 ? "ahead of" : "behind", limit);
	} else {
		doctor_say(d, OK, "clock", "kanca's clock is within %.1f s of PostgreSQL's", skew > 0 ? skew : -skew);
	}
}

void doctor_check_spool(struct doctor *d)
{
	doctor_say(
	    d, WARN, "spool",
	    "no spool: while the store is down kanca answers 500 and the provider retries (kanca has no local spool "
	    "yet). Fix: keep the store available; watch GET /healthz");
}

int doctor_check_sources(struct doctor *d, struct store_rows **out)
{
	size_t n, enabled = 0, disabled = 0, found = 0;
	struct store_rows *rows;

	*out = NULL;
	if (store_list_sources(d->store, clock_now(), &rows) < 0) {
		doctor_say(d, FAIL, "sources", "cannot be listed: %s. Fix: see the store and migrations lines",
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

		if (!doctor_wanted(d, prov, acc))
			continue;
		found++;
		snprintf(name, sizeof name, "source %s/%s", prov, acc);
		if (!on) {
			disabled++;
			if (d->only_provider)
				doctor_say(
				    d, WARN, name,
				    "is disabled: kanca answers 403 and doctor sends it nothing. Fix: kancactl source "
				    "enable %s %s",
				    prov, acc);
			continue;
		}
		enabled++;
		if (!p)
			doctor_say(d, WARN, name,
				   "names a provider this kanca does not know: its deliveries get 404. Fix: kancactl "
				   "providers lists the known ones");
		else if (p->needs_secret && secrets == 0)
			doctor_say(
			    d, WARN, name,
			    "has no unexpired secret: kanca refuses every delivery (fail closed). Fix: kancactl source "
			    "secret add %s %s --secret-stdin",
			    prov, acc);
	}
	if (d->only_provider && !found) {
		doctor_say(d, FAIL, "sources", "no source %s/%s. Fix: kancactl source list shows the sources",
			   d->only_provider, d->only_account);
		store_rows_free(rows);
		return -1;
	}
	if (enabled == 0)
		doctor_say(d, WARN, "sources",
			   "no enabled source: kanca accepts nothing. Fix: kancactl source add PROVIDER ACCOUNT "
			   "--secret-stdin");
	else if (!d->only_provider)
		doctor_say(d, OK, "sources", "%zu enabled, %zu disabled", enabled, disabled);
	*out = rows;
	return 0;
}
