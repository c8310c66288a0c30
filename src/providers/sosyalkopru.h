/* sosyalkopru.h: the Sosyal Köprü provider's body parsing, public for the unit test and a fuzz target. */
#ifndef KANCA_PROVIDERS_SOSYALKOPRU_H
#define KANCA_PROVIDERS_SOSYALKOPRU_H

#include <stddef.h>

#include "providers/provider.h"

/* The test ping Sosyal Köprü sends from POST /v1/webhooks/<id>/test. */
#define SOSYALKOPRU_TEST_EVENT "webhook.test"

/* Reads the event type from a raw body: a JSON object whose member "event" is a non-empty string
 * without control characters that fits type. OUTCOME_OK; OUTCOME_BAD_REQUEST with the reason appended
 * (invalid JSON, not an object, no usable event); OUTCOME_INTERNAL when memory runs out. */
enum outcome sosyalkopru_event_type(const char *body, size_t len, char type[KANCA_TYPE_MAX + 1], struct buf *reason);

#endif
