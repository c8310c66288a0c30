/* forward.h: outgoing webhook deliveries over HTTP(S): one POST per call, signed with Standard Webhooks
 * headers and/or a static X-Webhook-Secret. libcurl lives only in forward.c; nothing here exposes it. */
#ifndef KANCA_FORWARD_H
#define KANCA_FORWARD_H

#include "first.h"

#include <stddef.h>

#include "buf.h"

#define FORWARD_TIMEOUT_DEFAULT_MS 15000L /* forward_target.timeout_ms == 0 */
#define FORWARD_RESPONSE_MAX (64 * 1024)  /* response body bytes read (and discarded), then we hang up */
#define FORWARD_EXTRA_HEADERS_MAX 32	  /* extra header lines of one target */
#define FORWARD_HEADER_LINE_MAX 8192	  /* one extra header line, name included */

/* Where and how to deliver. Every pointer is borrowed for the duration of forward_post. */
struct forward_target {
	const char *url;		  /* http:// or https://; no redirects are followed */
	const char *signing_secret;	  /* "whsec_<base64>" (prefix optional) or NULL: no webhook-signature */
	const char *static_secret;	  /* sent as X-Webhook-Secret, or NULL */
	const char *const *extra_headers; /* "Name: value" lines, NULL-terminated; NULL for none */
	long timeout_ms;		  /* whole attempt, connect included; 0 = FORWARD_TIMEOUT_DEFAULT_MS */
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
	FORWARD_INVALID /* a configuration error, nothing was sent: bad URL, header line, secret or id */
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

/* Initialises libcurl once per process (call from the main thread before any other thread
 * starts); 0 or -1. Later calls return 0. */
int forward_init(void) KANCA_MUST_CHECK;
/* Releases libcurl's global state; forward_init may be called again afterwards. */
void forward_cleanup(void);

/* POSTs msg to target and fills *out (always fully written). Blocks for at most the target's
 * timeout, name resolution included (libcurl's threaded resolver). Thread-safe after forward_init.
 * The answer's body is read up to FORWARD_RESPONSE_MAX bytes and discarded: a 2xx whose body runs
 * past that is still FORWARD_OK. Proxies from the environment (http_proxy, no_proxy) apply. */
void forward_post(const struct forward_target *target, const struct forward_message *msg, struct forward_outcome *out);

/* One plain exchange, for kancactl doctor: what a web server in front of kanca answers. */
struct forward_answer {
	long status;	    /* 0 when no status line arrived */
	int transport;	    /* the exchange failed (refused, timeout, reset, TLS...) */
	int refused, timed_out;
	char error[256];    /* what failed, without URL or header values */
	struct buf body;    /* the first `keep` bytes of the answer's body (the rest is read and dropped) */
	char server[128];   /* the Server header */
	char location[512]; /* a redirect's Location */
};

void forward_answer_init(struct forward_answer *a, size_t keep);
void forward_answer_free(struct forward_answer *a);
/* GET (body NULL) or POST url with the header lines ("Name: value\n" each; they are sent as given, so
 * they may carry a provider's signature headers) and fills a. No redirect is followed. The header lines
 * may hold credentials: libcurl's copies are wiped before they are freed. After forward_init. */
void forward_exchange(const char *url, const struct buf *lines, const void *body, size_t len, long timeout_ms,
		      const char *user_agent, struct forward_answer *a);

/* "ok", "retry", "gone", "invalid". */
const char *forward_result_name(enum forward_result r);

#endif
