/* github.c: placeholder until the provider is written (issue 3); refuses every request. */
#include "common.h"

#include <stdio.h>

static enum outcome verify(const struct provider_call *c, struct verdict *v)
{
	(void)c;
	snprintf(v->reason, sizeof v->reason, "provider not implemented yet");
	return OUTCOME_INTERNAL;
}

static enum outcome identify(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
			     struct buf *reason, void **state)
{
	(void)c; (void)evs; (void)nevs; (void)reason; (void)state;
	return OUTCOME_INTERNAL;
}

const struct provider provider_github = {
	.name = "github",
	.summary = "not implemented yet",
	.needs_secret = 1,
	.no_secret = OUTCOME_INTERNAL,
	.verify = verify,
	.identify = identify,
};
