/* app.h: the process-wide state of kanca and kancactl: configuration and the store connection. */
#ifndef KANCA_APP_H
#define KANCA_APP_H

#include "first.h"

#include "config.h"

struct store;
struct buf;

struct app {
	struct config cfg;
	const char *config_path;
	struct store *store; /* NULL while it cannot be opened; reopened on demand */
};

/* Puts /dev/null on any of descriptors 0-2 that is closed. A FastCGI application may be started
 * with stdout and stderr closed (cgi-fcgi -start does); otherwise the first files or sockets opened
 * would take those numbers and log lines would go into them. Call first thing in main. */
void app_standard_fds(void);
/* app_init's flags. APP_RESPONDER: kanca itself. A store whose schema is behind is an error ("run kancactl
 * migrate"); a store that cannot be opened now is not (logged; each request tries again, and deliveries
 * go to the spool meanwhile). Without it (kancactl) a store that cannot be opened is an error. */
#define APP_RESPONDER 1
/* Loads the configuration (path NULL = config_path()), sets up logging and the clock, opens the
 * store. 0, or -1 with every problem in err. Fatal problems only: a store that is down is not one. */
int app_init(struct app *a, const char *path, int flags, struct buf *err) KANCA_MUST_CHECK;
/* The answer of a responder that cannot start (a configuration error): a complete CGI answer, 500 with a
 * JSON body, on stdout. */
void app_answer_broken(void);
/* The store, opening it if needed; NULL when it cannot be opened now. */
struct store *app_store(struct app *a);
void app_free(struct app *a);
/* For the crash tests, in a build configured with --enable-test-hooks (else it does nothing): when
 * $KANCA_TEST_HOLD_FILE names a file that exists, removes it and sleeps up to
 * 60 s. The responders call it after a new event is committed and before its answer is written, so
 * that a test can kill -9 a responder between the two. Does nothing when the variable is unset. */
void app_test_hold(void);

#endif
