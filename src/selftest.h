/* selftest.h: the receiving half of kancactl doctor. A delivery carrying X-Kanca-Doctor is verified like
 * any other, then answered with what arrived instead of being identified and stored. */
#ifndef KANCA_SELFTEST_H
#define KANCA_SELFTEST_H

#include "outcome.h"

struct request;
struct response;

/* When req is a self-test (it has an X-Kanca-Doctor header): logs it, writes the answer into res (the
 * verification outcome o, and {"kanca_doctor": nonce, "verified", "reason" when not, "body_bytes",
 * "body_sha256", "authorization", "content_type"}), sets *audit_reason to the text for its audit row,
 * and returns 1. Returns 0 (and touches nothing) for any other request. reason says why verification
 * failed (o != OUTCOME_OK). No secret or signature value is echoed: the sender knows the body, so its
 * digest tells it nothing new. */
int selftest_serve(const struct request *req, enum outcome o, const char *reason, struct response *res,
		   const char **audit_reason);

#endif
