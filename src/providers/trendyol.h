/* trendyol.h: Trendyol's order-package webhook parsers, public so that the unit test and the fuzz
 * targets call exactly what the provider uses (doc/providers.md, trendyol). */
#ifndef KANCA_PROVIDERS_TRENDYOL_H
#define KANCA_PROVIDERS_TRENDYOL_H

#include <stddef.h>

#include "outcome.h"
#include "providers/provider.h"

struct json;
struct buf;

/* Decoded credentials of "Authorization: Basic <base64(user:password)>". user and pass point into
 * the caller's buffer and are not NUL-terminated. */
struct trendyol_basic {
	const char *user, *pass;
	size_t user_len, pass_len;
};

/* Parses an Authorization header value (n bytes): optional spaces/tabs around it, the scheme word
 * "Basic" in any case, one or more spaces, then standard padded base64 of user ":" password, split at
 * the FIRST colon (a password may hold colons; a user may not). The decoded bytes go to out (cap
 * bytes). 0 and *cred set; -1 when it is another scheme, bad base64, has no colon, an empty user or
 * password, or a control character; *why (never NULL) then says which, without any value. */
int trendyol_basic_parse(const char *value, size_t n, char *out, size_t cap, struct trendyol_basic *cred,
			 const char **why);

/* One event per element of the page's "content" array. */
enum trendyol_key_mode {
	TRENDYOL_KEY_PACKAGE = 0, /* shipmentPackageId:status:lastModifiedDate */
	TRENDYOL_KEY_EVENT_ID,	  /* event_id, or event_id:<index from 0> when content has several elements */
};

/* Fills evs[0..*nevs) from a parsed shipment-package page {totalElements, totalPages, page, size,
 * content: [...]}: type = content[i].status, key per mode (event_id is used only with
 * TRENDYOL_KEY_EVENT_ID). OUTCOME_OK, or OUTCOME_BAD_REQUEST with the reason appended: content missing,
 * not an array, empty or longer than KANCA_EVENTS_MAX; an element that is not an object or lacks
 * shipmentPackageId (integer or string), status (string) or lastModifiedDate (integer); a key or
 * type that does not fit. */
enum outcome trendyol_page_events(const struct json *page, enum trendyol_key_mode mode, const char *event_id,
				  size_t event_id_len, struct provider_event *evs, size_t *nevs, struct buf *reason);

#endif
