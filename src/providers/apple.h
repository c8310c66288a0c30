/* apple.h: Apple App Store Server Notifications V2 (doc/providers.md, apple), in pieces: the compact
 * JWS, its x5c chain, the ES256 signature, the notification claims. Public so that
 * tests/unit/test_apple.c and tests/fuzz/fuzz_jws.c call them directly; the provider itself is
 * the vtable provider_apple (registry.c), and apple_state_decoded gives its decoded texts. */
#ifndef KANCA_PROVIDERS_APPLE_H
#define KANCA_PROVIDERS_APPLE_H

#include "first.h"
#include "caps.h"

#include <stddef.h>

struct verify_cert;
struct json;
struct buf;

#define APPLE_OID_LEAF	       "1.2.840.113635.100.6.11.1" /* on the leaf (App Store receipt signing) */
#define APPLE_OID_INTERMEDIATE "1.2.840.113635.100.6.2.1"  /* on the intermediate (Apple WWDR) */
#define APPLE_CLOCK_SKEW       60			   /* seconds either side of a certificate's validity */
/* SHA-256 fingerprint of the real Apple Root CA - G3, as kancactl prints fingerprints. */
#define APPLE_ROOT_G3_SHA256                                                                                           \
	"63:34:3A:BF:B8:9A:6A:03:EB:B5:7E:9B:3F:5F:A7:BE:7C:4F:5C:75:6F:30:17:B3:A8:C4:88:C3:65:3E:91:79"

/* Why a JWS or a notification was refused. The official library's VerificationStatus, split finer:
 * its FAILURE is APPLE_MALFORMED; INVALID_CHAIN_LENGTH and INVALID_CERTIFICATE are
 * APPLE_CHAIN_LENGTH, APPLE_BAD_CERTIFICATE and APPLE_CERT_DATES; VERIFICATION_FAILURE is
 * APPLE_UNTRUSTED, APPLE_NOT_CA, APPLE_MISSING_OID, APPLE_BAD_ALG, APPLE_BAD_SIGNATURE and
 * APPLE_TOKEN_TIME; INVALID_APP_IDENTIFIER and INVALID_ENVIRONMENT keep their names. */
enum apple_status {
	APPLE_OK = 0,
	APPLE_MALFORMED,       /* not three base64url segments, header/payload not JSON objects, wrong member types */
	APPLE_CHAIN_LENGTH,    /* header x5c is not an array of exactly 3 entries */
	APPLE_BAD_CERTIFICATE, /* x5c[0] or x5c[1] is not standard base64 of a DER certificate */
	APPLE_UNTRUSTED,       /* intermediate not signed/named by the configured root, or leaf by the intermediate */
	APPLE_NOT_CA,	       /* intermediate without basicConstraints CA:TRUE */
	APPLE_MISSING_OID,     /* leaf or intermediate lacks Apple's marker extension */
	APPLE_CERT_DATES,      /* leaf, intermediate or root not valid at the time (+-APPLE_CLOCK_SKEW) */
	APPLE_BAD_ALG,	       /* header alg is not "ES256" */
	APPLE_BAD_SIGNATURE,   /* signature not 64 bytes R||S, leaf key not P-256, or no match */
	APPLE_TOKEN_TIME,      /* payload exp passed or nbf not reached (jsonwebtoken's checks) */
	APPLE_INVALID_APP_IDENTIFIER, /* bundle id (or, in Production, appAppleId) differs from the source's */
	APPLE_INVALID_ENVIRONMENT,    /* environment differs from the source's */
	APPLE_NO_MEMORY,
	APPLE_DUPLICATE_MEMBER, /* a decoded header or payload repeats a member name (json.h: not strict JSON) */
	APPLE_NUL_IN_STRING	/* a decoded header or payload holds \u0000 (json.h: not strict JSON) */
};

/* Short text for logs and answers (no values). */
const char *apple_status_text(enum apple_status s);

/* The three segments of a compact JWS, pointing into the input. The signing input is
 * seg[0] "." seg[1]: the first signing_len bytes of the input. */
struct apple_jws {
	const char *seg[3];
	size_t len[3];
	size_t signing_len;
};

/* Splits s (n bytes) into three non-empty segments of the base64url alphabet (no padding)
 * separated by exactly two dots, as the jws library's isValidJws. 0, or -1 when malformed. */
int apple_jws_split(const char *s, size_t n, struct apple_jws *out) KANCA_MUST_CHECK;

/* Decodes unpadded base64url (a JWS segment) into a new NUL-terminated buffer (*out, free()).
 * Returns the decoded length, or -1 when invalid or out of memory. */
long apple_b64url_decode(const char *s, size_t n, unsigned char **out) KANCA_MUST_CHECK;
/* Standard (url 0) or url-safe (url 1) base64 of n bytes into a new buffer *out (free()). The decoded
 * length, -1 when invalid, -2 when memory runs out. */
long apple_b64_decode(const char *s, size_t n, int url, unsigned char **out) KANCA_MUST_CHECK;
/* Decodes a base64url JWS segment that must be a JSON object: *root (json_free) and, when text is not
 * NULL, the decoded text (*text, free(), *len bytes). APPLE_OK or why not (APPLE_DUPLICATE_MEMBER and
 * APPLE_NUL_IN_STRING for JSON that json_parse refuses as not strict). */
enum apple_status apple_segment_json(const char *s, size_t n, char **text, size_t *len, struct json **root);

/* A decoded JWS header: whether alg is "ES256", and the DER of x5c[0] (leaf) and x5c[1]
 * (intermediate). x5c[2] is never used: trust comes only from the configured root. */
struct apple_header {
	int alg_es256;
	unsigned char *der[2];
	size_t der_len[2];
};

/* Decodes and checks the header segment: a JSON object whose x5c is an array of exactly 3 entries,
 * the first two strings of standard base64. APPLE_OK (free with apple_header_free), or
 * APPLE_MALFORMED / APPLE_CHAIN_LENGTH / APPLE_BAD_CERTIFICATE / APPLE_NO_MEMORY. */
enum apple_status apple_jws_header(const struct apple_jws *j, struct apple_header *h);
void apple_header_free(struct apple_header *h);

/* doc/providers.md, apple steps 2-6: intermediate signed by root with issuer == root subject; leaf
 * signed by intermediate with issuer == intermediate subject; intermediate CA:TRUE; the two OIDs;
 * leaf, intermediate and root valid at t +- APPLE_CLOCK_SKEW. On APPLE_OK and leaf != NULL, *leaf is
 * the parsed leaf (free with verify_cert_free). */
enum apple_status apple_check_chain(const struct verify_cert *root, const struct apple_header *h, long long t,
				    struct verify_cert **leaf);

/* A whole JWS: split, header, chain (at t), ES256 with the leaf key over the signing input as
 * received, then the payload decoded: a JSON object whose exp/nbf (when present) hold at t.
 * On APPLE_OK *payload is the decoded payload text (NUL-terminated, free()) and *root_json the
 * parsed payload (json_free); either may be NULL when not wanted. */
enum apple_status apple_verify_jws(const char *s, size_t n, const struct verify_cert *root, long long t, char **payload,
				   size_t *payload_len, struct json **root_json);

/* A source's options (bundle_id, environment, app_apple_id, root_cert). */
struct apple_config {
	char bundle_id[KANCA_BUNDLE_ID_MAX + 1];
	char environment[16];	  /* "Sandbox" or "Production" */
	long long app_apple_id;	  /* 0 when not set */
	struct verify_cert *root; /* NULL when root_cert is not set */
	unsigned char root_sha256[32];
};

/* Loads and checks options: bundle_id required, environment Sandbox|Production, app_apple_id
 * digits (required in Production), root_cert standard base64 of a DER certificate (required when
 * need_root). 0 (free with apple_config_free), or -1 with the reason in err. */
int apple_config_load(const char *options, int need_root, struct apple_config *cfg, struct buf *err) KANCA_MUST_CHECK;
void apple_config_free(struct apple_config *cfg);

/* What a notification holds, decoded. The texts are NUL-terminated JSON objects (free()). */
struct apple_notification {
	struct json *root; /* the parsed notification payload */
	char *payload;	   /* its text */
	size_t payload_len;
	char *transaction; /* data.signedTransactionInfo decoded; NULL when absent */
	size_t transaction_len;
	char *renewal; /* data.signedRenewalInfo decoded; NULL when absent */
	size_t renewal_len;
};

/* The signedPayload string of a body {"signedPayload": "..."}: 0 with *jws / *n set (pointing into
 * body_root), or -1 when the body has another shape. */
int apple_signed_payload(const struct json *body_root, const char **jws, size_t *n) KANCA_MUST_CHECK;

/* Steps 1-10: the notification JWS verified against cfg->root at t, its members type-checked, its
 * bundle id / appAppleId / environment compared with cfg, and data.signedTransactionInfo and
 * data.signedRenewalInfo verified the same way (the transaction's bundleId and environment and the
 * renewal info's environment checked, as the library's verifyAndDecode* do). When nested is not
 * NULL it names the part that failed ("signedPayload", "data.signedTransactionInfo", ...).
 * On APPLE_OK out is filled (free with apple_notification_free); out may be NULL. */
enum apple_status apple_verify_notification(const struct apple_config *cfg, const char *jws, size_t n, long long t,
					    struct apple_notification *out, const char **nested);
/* Decodes without verifying (after apple_verify_notification accepted the same bytes).
 * APPLE_OK or APPLE_MALFORMED / APPLE_NO_MEMORY. */
enum apple_status apple_decode_notification(const char *jws, size_t n, struct apple_notification *out);
void apple_notification_free(struct apple_notification *note);

/* Event type notificationType "/" subtype (just notificationType without a subtype) into type
 * (cap bytes). 0, or -1 when notificationType is missing or the result does not fit. */
int apple_event_type(const struct json *payload, char *type, size_t cap) KANCA_MUST_CHECK;

/* For the lead's storage: the decoded texts of a request's state (from identify) as one JSON object
 * {"notification":{...},"transaction":{...}|null,"renewal":{...}|null}; NULL when state is NULL. */
const char *apple_state_decoded(const void *state);

#endif
