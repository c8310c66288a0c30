/* intake.h: an identified, authentic delivery into the store, the one way: for the live path
 * (receive.c) and for the spool's drain (the processors, kancactl spool drain). */
#ifndef KANCA_INTAKE_H
#define KANCA_INTAKE_H

#include "first.h"

#include <stddef.h>

struct buf;
struct config;
struct provider;
struct provider_call;
struct provider_event;
struct store;

/* How one request's events were stored. */
struct intake_result {
	int dup_all; /* every event was a duplicate */
	int kept;    /* events in the store (new or duplicates) */
};

/* Stores the request's identified events (evs, nevs; state is identify's) exactly once each, with the
 * provider's domain update where it has one. verification/secret_id say how it was verified;
 * received_at is when it arrived. stored receives the answer kept for the first event (duplicates).
 * 0, or -1 when the store failed (the events before the failing one may be stored: a second intake
 * of the same request stores only the rest). */
int intake_store(struct store *s, const struct provider *prov, const struct provider_call *c, const char *account,
		 const char *verification, long long secret_id, long long received_at, struct provider_event *evs,
		 size_t nevs, void *state, struct buf *stored, struct intake_result *out) KANCA_MUST_CHECK;

/* What a drain of the spool did. */
struct intake_drained {
	long stored, bad, left;
	int busy;    /* another process is draining */
	int stopped; /* the store failed: the rest waits */
};

/* Drains cfg's spool into s in arrival order, up to max records (0: all). 0 with *out filled, or -1
 * when the spool cannot be read (logged). */
int intake_drain(struct store *s, const struct config *cfg, long max, struct intake_drained *out) KANCA_MUST_CHECK;

#endif
