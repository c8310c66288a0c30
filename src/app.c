/* app.c: start-up checks shared by kanca and kancactl; fatal at start, tolerant per request. */
#include "first.h"
#include "app.h"
#include "buf.h"
#include "clock.h"
#include "fdio.h"
#include "log.h"
#include "store/store.h"
#include "testhook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void app_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* open returns the lowest free descriptor: this one */
		int n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd)
			close(n);
	}
}

int app_init(struct app *a, const char *path, int flags, struct buf *err)
{
	struct buf serr;
	int current, latest;

	memset(a, 0, sizeof *a);
	a->config_path = path ? path : config_path();
	config_defaults(&a->cfg);
	if (config_load(&a->cfg, a->config_path, err) < 0)
		return -1;
	log_set_level((enum log_level)a->cfg.log_level);
#if defined(KANCA_TEST_HOOKS)
	if (clock_init())
		log_warn("the clock is pinned by KANCA_TEST_NOW: for tests only");
#else
	(void)clock_init();
#endif
	buf_init(&serr, 1024);
	if (store_open(a->cfg.store, &a->store, &serr) < 0) {
		if (flags & APP_RESPONDER) {
			log_error("the store cannot be opened now (%s): deliveries go to the spool until it can",
				  buf_str(&serr));
			a->store = NULL;
			buf_free(&serr);
			return 0;
		}
		(void)!buf_printf(err, "%s: store: %s\n", a->config_path, buf_str(&serr));
		buf_free(&serr);
		return -1;
	}
	buf_free(&serr);
	if ((flags & APP_RESPONDER) && store_schema_version(a->store, &current, &latest) == 0 && current != latest) {
		(void)!buf_printf(err, "%s: store: schema version %d, this kanca needs %d: run kancactl migrate\n",
				  a->config_path, current, latest);
		return -1;
	}
	return 0;
}

struct store *app_store(struct app *a)
{
	struct buf err;

	if (a->store)
		return a->store;
	buf_init(&err, 1024);
	if (store_open(a->cfg.store, &a->store, &err) < 0) {
		log_error("store cannot be opened: %s", buf_str(&err));
		a->store = NULL;
	}
	buf_free(&err);
	return a->store;
}

void app_answer_broken(void)
{
	static const char answer[] =
	    "Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n"
	    "Content-Length: 49\r\n\r\n{\"success\":false,\"error\":\"Internal server error\"}";
	(void)fdio_write_all(STDOUT_FILENO, answer, sizeof answer - 1); /* nothing more to do if it fails */
}

void app_free(struct app *a)
{
	store_close(a->store);
	a->store = NULL;
}

void app_test_hold(void)
{
	testhook_hold("KANCA_TEST_HOLD_FILE");
}
