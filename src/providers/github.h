/* github.h: the GitHub provider's header parsing, public for the unit test and a fuzz target. */
#ifndef KANCA_PROVIDERS_GITHUB_H
#define KANCA_PROVIDERS_GITHUB_H

#include "providers/provider.h"

struct request;

/* Fills ev->type from X-GitHub-Event (required, non-empty, no control characters, within the cap) and
 * ev->key from X-GitHub-Delivery. 0; 1 when X-GitHub-Delivery is absent or unusable (ev->key left empty:
 * the caller keys the delivery by its body); -1 with the reason appended to reason. */
int github_identify_headers(const struct request *req, struct provider_event *ev, struct buf *reason);

#endif
