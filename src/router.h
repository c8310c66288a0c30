/* router.h: request path -> route (webhook provider + account, health, metrics). */
#ifndef KANCA_ROUTER_H
#define KANCA_ROUTER_H

#include "caps.h"

enum route_kind { ROUTE_NONE = 0, ROUTE_WEBHOOK, ROUTE_HEALTHZ };

struct route {
	enum route_kind kind;
	char provider[KANCA_SEGMENT_MAX + 1]; /* as written in the path (an alias is resolved later) */
	char account[KANCA_SEGMENT_MAX + 1];
};

/* Matches path below base_path ("" for none):
 *   /webhook/<provider>/<account>      -> ROUTE_WEBHOOK
 *   /api/suppliers/<id>/webhook        -> ROUTE_WEBHOOK, provider "supplier"
 *   /healthz                           -> ROUTE_HEALTHZ
 * Segments are 1..128 characters of [A-Za-z0-9._~-] and not "." or "..". Returns the kind. */
enum route_kind router_match(const char *base_path, const char *path, struct route *out);
/* Whether s is a valid segment (provider or account names, for kancactl too). */
int router_segment_valid(const char *s);

#endif
