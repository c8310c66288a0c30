/* provider.h: what a provider is. Each provider is one const vtable in its own file, listed in
 * registry.c. A new provider starts from providers/skeleton.c (doc/providers.md, "Adding a provider"). */
#ifndef KANCA_PROVIDER_H
#define KANCA_PROVIDER_H

#include <stddef.h>

#include "buf.h"
#include "caps.h"
#include "outcome.h"
#include "source.h"

struct request;
struct response;
struct config;
struct store;

/* The message of an OUTCOME_OK answer for a delivery kept in the spool (the store could not commit it
 * in time): a provider whose success answer carries a result computed in the store says "queued". */
#define PROVIDER_QUEUED "queued"

/* Everything a provider may look at for one request. */
struct provider_call {
	const struct request *req;
	const struct store_source *source; /* enabled, with its unexpired secrets */
	const struct config *cfg;
	long long now;
};

/* What verification found. */
struct verdict {
	long long secret_id;		   /* the secret that verified the request, 0 if none was used */
	char detail[128];		   /* stored with the event, e.g. "hmac-sha256/hex secret=3" */
	char reason[KANCA_REASON_MAX + 1]; /* why it was rejected; safe to log and answer (no values) */
};

/* One event identified in a request (a request may carry several, e.g. Trendyol pages). */
struct provider_event {
	char key[KANCA_KEY_MAX + 1];
	char type[KANCA_TYPE_MAX + 1];
	char status[16];     /* "" stores the event as "received"; "test" records a provider's test ping */
	const char *decoded; /* JSON text stored with the event (Apple's verified, decoded JWS payloads);
			      * NULL for none; points into the provider's state */
};

/* A self-test delivery to sign as the provider's sender would (kancactl doctor, provider.sign). */
struct provider_sign_in {
	const char *secret; /* the source's newest unexpired secret (secret_len bytes) */
	size_t secret_len;
	const char *options; /* the source's options, "key=value\n" lines; never NULL */
	const char *payload; /* a JSON object: what the delivery carries (payload_len bytes) */
	size_t payload_len;
	const char *id; /* a unique delivery id (doctor's nonce), for senders that put one in a header */
	long long now;	/* unix seconds, for signed timestamps */
};

struct provider {
	const char *name;	    /* canonical, as stored in sources.provider */
	const char *const *aliases; /* other route names, NULL-terminated; may be NULL */
	const char *summary;	    /* one line for kancactl and the README */
	int needs_secret;	    /* a source without an unexpired secret is refused */
	enum outcome no_secret;	    /* what such a request gets (fail closed) */

	/* Checks per-source options when kancactl adds a source: an unknown key, or a value the provider
	 * cannot use, is refused with the key named in err. Required (common_check_no_options for a
	 * provider without options of its own). 0 or -1. */
	int (*check_options)(const char *options, struct buf *err);
	/* Authenticity. OUTCOME_OK, or UNAUTHORIZED / BAD_REQUEST with v->reason. Required. */
	enum outcome (*verify)(const struct provider_call *c, struct verdict *v);
	/* After verification: event type(s) and idempotency key(s), and any validation
	 * (400, 422 with a reason). *state may hold parsed data for apply/answer. Required. */
	enum outcome (*identify)(const struct provider_call *c, struct provider_event *evs, size_t *nevs,
				 struct buf *reason, void **state);
	/* Domain update inside the storing transaction, after the event row is inserted (not for duplicates):
	 * it may write the domain tables and the answer to keep for duplicates; state is identify's. A
	 * store_apply_fn (store/store.h). 0, or -1 to roll everything back. May be NULL. */
	int (*apply)(struct store *s, long long event_id, void *state, struct buf *answer);
	/* Whether apply must run for this request's state; NULL = whenever apply is set. Without it the
	 * event is stored in a single statement where the backend allows (the fast path). */
	int (*apply_needed)(const void *state);
	/* The answer for an outcome; NULL gives the default JSON answers. message is the reason text. */
	void (*answer)(const struct provider_call *c, enum outcome o, const struct provider_event *ev,
		       const char *message, struct response *res);
	void (*state_free)(void *state);
	/* Builds a delivery as the provider's sender builds it: the body (the payload byte for byte, or
	 * the provider's envelope around it) and its headers, one "Name: value\n" line each, signed with
	 * in->secret. The header lines may hold the secret itself (Trendyol's credentials): wipe them
	 * after use. 0, or -1 with the reason in err (never a value). NULL when kanca cannot sign as the
	 * sender (Apple signs with its own certificates). */
	int (*sign)(const struct provider_sign_in *in, struct buf *body, struct buf *headers, struct buf *err);
};

#endif
