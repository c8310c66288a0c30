/* health.c: /healthz (health.h). A read proves little (a read-only file or a full disk still reads),
 * so the probe is a one-row write, bounded by the answer deadline like every delivery. */
#include "first.h"
#include "health.h"
#include "app.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "response.h"
#include "spool.h"
#include "store/store.h"

#include <string.h>
#include <time.h>

void health_serve(struct app *a, long long now, double deadline, struct response *res)
{
	struct store *s;
	struct spool_status sp;
	char dir[1024], reason[300] = "";
	long long backlog = -1, oldest = 0;
	int ok = 0, spool_ok;

	s = app_store(a);
	if (s)
		store_set_deadline(s, deadline);
	if (!s) {
		snprintf(reason, sizeof reason, "the store cannot be opened");
	} else if (store_health_write(s, now) < 0) {
		snprintf(reason, sizeof reason, "the store cannot take a write (%s): %s",
			 store_failure_name(store_failure(s)), store_error(s));
	} else {
		ok = 1;
		if (store_backlog(s, &backlog, &oldest) < 0)
			backlog = -1;
	}
	if (s)
		store_set_deadline(s, 0);
	spool_ok = config_spool_dir(&a->cfg, dir, sizeof dir) == 0 && spool_stat(dir, &sp) == 0;
	response_set(res, ok ? OUTCOME_OK : OUTCOME_UNAVAILABLE);
	if (!ok)
		(void)!response_header(res, "Retry-After", "30");
	(void)!buf_printf(&res->body, "{\"status\":\"%s\",\"store\":\"%s\"", ok ? "ok" : "unavailable",
			  s ? store_backend(s) : "unopened");
	if (!ok) {
		(void)!buf_append_str(&res->body, ",\"reason\":");
		(void)!buf_append_json_string(&res->body, reason, strlen(reason));
	}
	if (spool_ok)
		(void)!buf_printf(&res->body,
				  ",\"spool\":{\"records\":%ld,\"bytes\":%llu,\"oldest_age\":%lld,\"bad\":%ld}",
				  sp.records, sp.bytes,
				  /* record names carry the wall clock, not kanca's (a test may pin that) */
				  sp.records && sp.oldest ? (long long)time(NULL) - sp.oldest : 0, sp.bad);
	else
		(void)!buf_append_str(&res->body, ",\"spool\":null");
	if (backlog >= 0)
		(void)!buf_printf(&res->body, ",\"backlog\":{\"events\":%lld,\"oldest_age\":%lld}", backlog,
				  backlog && oldest ? now - oldest : 0);
	(void)!buf_append_str(&res->body, "}");
}
