/* forward.h: outgoing webhook deliveries over HTTP(S): one POST per call, signed with Standard Webhooks
 * headers and/or a static X-Webhook-Secret. The exchange itself is http_client.c's. */
#ifndef KANCA_FORWARD_H
#define KANCA_FORWARD_H

#include "first.h"

#include <stddef.h>

#define FORWARD_TIMEOUT_DEFAULT_MS 15000L /* forward_target.timeout_ms == 0 */

/* Where and how to deliver. Every pointer is borrowed for the duration of forward_post. */
struct forward_target {
	const char *url;		  /* http:// or https://; no redirects are followed */
	const char *signing_secret;	  /* "whsec_<base64>" (prefix optional) or NULL: no webhook-signature */
	const char *static_secret;	  /* sent as X-Webhook-Secret, or NULL */
	const char *const *extra_headers; /* "Name: value" lines, NULL-terminated; NULL for none */
	long timeout_ms;		  /* whole attempt, connect included; 0 = FORWARD_TIMEOUT_DEFAULT_MS */
	int allow_link_local;		  /* forward_allow_link_local = yes: link-local, cloud metadata and
					   * unspecified addresses may be connected to (url.h) */
};

/* What to deliver. webhook-id and webhook-timestamp are always sent (receivers deduplicate on the
 * id, which must stay the same across retries); webhook-signature only with a signing secret. */
struct forward_message {
	const char *id;	     /* the event id: non-empty, no control characters or spaces */
	long long timestamp; /* unix seconds: webhook-timestamp, and the base of an HTTP-date Retry-After */
	const void *body;    /* len bytes, sent byte for byte; may be NULL when len is 0 */
	size_t len;
	const char *content_type; /* of the original request; NULL or "" = application/json */
};

enum forward_result {
	FORWARD_OK = 0, /* a 2xx answer */
	FORWARD_RETRY,	/* anything else: other statuses (3xx included), timeouts, refused, DNS, TLS, memory */
	FORWARD_GONE,	/* 410: the destination asks to be disabled */
	FORWARD_INVALID /* a configuration error, nothing was sent: bad URL, header line, secret or id, or a
			 * destination whose every address is one kanca may not connect to */
};

struct forward_outcome {
	enum forward_result result;
	int http_status;  /* the answer's status, 0 when there was none */
	long retry_after; /* seconds from the answer's Retry-After (delta-seconds, or an HTTP-date minus the
			   * message timestamp, 0 when earlier); -1 when absent or unparsable. Not capped:
			   * the caller applies its own limit. */
	char error[200];  /* "" on FORWARD_OK; else short text without URL, secret or signature */
	double seconds;	  /* wall time of the attempt */
};

/* The one check of a forward URL, the same in kancactl source action add and in forward_post: url.c's
 * url_destination_ok (scheme, host, port, no credentials, no literal address of a refused kind unless
 * allow_link_local) and libcurl's parser agreeing. 0, or -1 with the reason (never quoting the URL). */
int forward_url_ok(const char *url, int allow_link_local, char *why, size_t whysz) KANCA_MUST_CHECK;

/* POSTs msg to target and fills *out (always fully written). Blocks for at most the target's timeout,
 * name resolution included. Thread-safe after http_client_init. The URL is checked by forward_url_ok,
 * and every address its host resolves to is checked again just before it is connected to
 * (url_address_allowed): a name that resolves only to link-local, metadata or unspecified addresses is
 * FORWARD_INVALID, nothing sent. The answer's body is read up to KANCA_FORWARD_RESPONSE_MAX bytes and
 * discarded: a 2xx whose body runs past that is still FORWARD_OK. Proxies from the environment
 * (http_proxy, no_proxy) apply; through a proxy, the address checked at connect time is the proxy's
 * (the URL's host is then checked only when it is written as an address). */
void forward_post(const struct forward_target *target, const struct forward_message *msg, struct forward_outcome *out);

#endif
