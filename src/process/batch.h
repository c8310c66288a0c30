/* batch.h: processing a batch of claimed events. Their actions run in rounds (the first action of
 * every event, then the second, ...; an event's actions stay in their order); each round's attempt
 * rows are written in one transaction before its actions run and in one after, the forwards of a
 * round run side by side (process/pool.h), and the batch's ends are written in one transaction. An
 * event whose source has no action to run costs no statement of its own. */
#ifndef KANCA_PROCESS_BATCH_H
#define KANCA_PROCESS_BATCH_H

#include "first.h"

#include <stddef.h>

#define BATCH_MAX 32 /* events claimed at a time */

struct store;
struct store_job;

/* Runs the actions of jobs[0..n) (claimed together, one lease) and ends their claims; ends[i] is an
 * enum process_end, or -1 when the store failed for that job (its lease then expires and it is claimed
 * again). The batch's sources that had no enabled action go to actionless[0..*nactionless) (room for
 * BATCH_MAX): the next claims finish such sources' events without a claim (store_claim_batch). */
void process_batch(struct store *s, struct store_job *jobs, size_t n, int *ends, long long *actionless,
		   size_t *nactionless);

#endif
