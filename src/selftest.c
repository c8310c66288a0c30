/* selftest.c: kancactl doctor's self-test deliveries, answered with what reached kanca. */
#include "first.h"
#include "selftest.h"
#include "buf.h"
#include "caps.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "verify.h"

#include <string.h>

/* The nonce of a self-test (X-Kanca-Doctor), or NULL when the request is not one. A value that is not 1
 * to KANCA_DOCTOR_NONCE_MAX of [A-Za-z0-9._-] still makes the request a self-test (never stored),
 * echoed as "". */
static const char *nonce_of(const struct request *req, size_t *len)
{
	const char *v = request_header(req, "x-kanca-doctor", len);

	if (!v)
		return NULL;
	if (*len == 0 || *len > KANCA_DOCTOR_NONCE_MAX)
		goto odd;
	for (size_t i = 0; i < *len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
		      v[i] == '.' || v[i] == '_' || v[i] == '-'))
			goto odd;
	return v;
odd:
	*len = 0;
	return "";
}

int selftest_serve(const struct request *req, enum outcome o, const char *reason, struct response *res,
		   const char **audit_reason)
{
	unsigned char d[VERIFY_SHA256_LEN];
	char hex[VERIFY_HEX_LEN + 1] = "";
	size_t nlen = 0, ctlen = 0, alen = 0;
	const char *nonce = nonce_of(req, &nlen);
	const char *ct = request_header(req, "content-type", &ctlen);
	const char *auth = request_header(req, "authorization", &alen);
	struct buf *b = &res->body;
	int verified = o == OUTCOME_OK;

	if (!nonce)
		return 0;
	if (verify_sha256(req->body.data ? req->body.data : "", req->body.len, d) == 0)
		verify_hex_encode(d, sizeof d, hex);
	log_info("%s %s -> %d: doctor self-test %s%s", req->method, req->path, outcome_status(o),
		 verified ? "verified" : "not verified: ", verified ? "" : reason);
	*audit_reason = verified ? "self-test verified" : reason;
	response_set(res, o);
	if (buf_append_str(b, "{\"kanca_doctor\":") < 0 || buf_append_json_string(b, nonce, nlen) < 0 ||
	    buf_printf(b, ",\"verified\":%s", verified ? "true" : "false") < 0 ||
	    (!verified &&
	     (buf_append_str(b, ",\"reason\":") < 0 || buf_append_json_string(b, reason, strlen(reason)) < 0)) ||
	    buf_printf(b, ",\"body_bytes\":%zu,\"body_sha256\":\"%s\",\"authorization\":%s,\"content_type\":",
		       req->body.len, hex, auth && alen ? "true" : "false") < 0 ||
	    (ct ? buf_append_json_string(b, ct, ctlen) : buf_append_str(b, "null")) < 0 || buf_append_str(b, "}") < 0)
		response_error(res, OUTCOME_INTERNAL, "doctor answer does not fit");
	return 1;
}
