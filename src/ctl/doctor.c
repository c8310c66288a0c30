/* doctor.c: kancactl doctor: checks the configuration, the store (its files, a write), its schema, the clock,
 * the spool and the sources; given the public URL, sends each source a self-test delivery signed as its
 * provider signs (X-Kanca-Doctor) through the web server and tells from kanca's answer what the way in
 * between changed, each finding with its fix. The checks live in doctor_local.c and doctor_url.c. */
#include "first.h"
#include "ctl/doctor_int.h"
#include "app.h"
#include "clock.h"
#include "config.h"
#include "ctl/ctl.h"
#include "ctl/util.h"
#include "http_client.h"
#include "log.h"
#include "providers/registry.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

int ctl_doctor(struct app *a, int argc, char **argv)
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
	d.config_path = a->config_path ? a->config_path : config_path();
	pinned = clock_init();
	if (doctor_check_config(&d) < 0)
		goto done;
	log_set_level((enum log_level)d.cfg.log_level);
	/* the store's files and the spool are checked whatever the store says: they are why it fails, or where
	 * the deliveries go meanwhile */
	if (doctor_check_store(&d) < 0) {
		doctor_check_store_files(&d);
		doctor_say(&d, WARN, "migrations", "not checked: the store does not answer");
		doctor_check_spool(&d);
		goto done;
	}
	doctor_check_store_files(&d);
	if (doctor_check_migrations(&d) < 0) {
		doctor_check_clock(&d, pinned);
		doctor_check_spool(&d);
		goto done;
	}
	doctor_check_store_write(&d);
	doctor_check_clock(&d, pinned);
	doctor_check_spool(&d);
	if (doctor_check_sources(&d, &rows) < 0)
		goto done;
	if (d.url) {
		if (http_client_init() < 0) {
			doctor_say(&d, FAIL, "deliveries", "libcurl cannot start");
		} else {
			doctor_check_url(&d, rows);
			http_client_cleanup();
		}
	}
done:
	store_rows_free(rows);
	store_close(d.store);
	printf("doctor: %d ok, %d warn, %d FAIL\n", d.counts[OK], d.counts[WARN], d.counts[FAIL]);
	return d.counts[FAIL] ? CTL_FAIL : CTL_OK;
}
