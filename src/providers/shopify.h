/* shopify.h: the Shopify provider's header checks, public for the unit test and a fuzz target. */
#ifndef KANCA_PROVIDERS_SHOPIFY_H
#define KANCA_PROVIDERS_SHOPIFY_H

#include "providers/provider.h"

struct request;

/* The headers Shopify's validate() requires once the HMAC is good, in this order. */
#define SHOPIFY_REQUIRED_HEADERS 4

/* After a good HMAC: checks that X-Shopify-Topic, X-Shopify-Shop-Domain, X-Shopify-API-Version and
 * X-Shopify-Webhook-Id are present and non-empty, then fills ev->type from the topic and ev->key from
 * the webhook id. 0, or -1 with the reason appended: "missing_headers: X-Shopify-Topic, ..." when
 * headers are missing, else why a value is unusable (too long, control characters). */
int shopify_identify_headers(const struct request *req, struct provider_event *ev, struct buf *reason);

#endif
