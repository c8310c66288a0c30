/* github.h: the GitHub provider's header parsing, public for the unit test and a fuzz target. */
#ifndef KANCA_PROVIDERS_GITHUB_H
#define KANCA_PROVIDERS_GITHUB_H

#include "providers/provider.h"

struct request;

/* Fills ev->key from X-GitHub-Delivery and ev->type from X-GitHub-Event (both required, non-empty,
 * no control characters, within the caps). 0, or -1 with the reason appended to reason. */
int github_identify_headers(const struct request *req, struct provider_event *ev, struct buf *reason);

#endif
