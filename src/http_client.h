/* http_client.h: one HTTP exchange, GET or POST, over libcurl (http_client.c is kanca's only libcurl
 * user; nothing here exposes it). The forwarder (process/forward.c) and kancactl doctor's probes both
 * go through it. No redirect is ever followed; only http:// and https:// are spoken. */
#ifndef KANCA_HTTP_CLIENT_H
#define KANCA_HTTP_CLIENT_H

#include "first.h"

#include <stddef.h>

#include "buf.h"

struct sockaddr;

struct http_request {
	const char *url;	   /* an absolute http:// or https:// URL (http_client_url_ok) */
	const struct buf *headers; /* "Name: value\n" lines sent as given, or NULL. They may hold
				    * credentials or signatures: libcurl's copies are wiped before freed */
	const void *body;	   /* NULL: GET; else POST of len bytes, byte for byte */
	size_t len;
	long timeout_ms; /* the whole exchange, name resolution and connect included */
	const char *user_agent;
	size_t read_max;     /* 0: read the whole answer; else hang up after this many body bytes
			      * (the answer still counts as complete) */
	long long date_base; /* unix seconds an HTTP-date Retry-After is counted from */
	int reuse;	     /* the connection may stay open for the next exchange that sets reuse (in
			      * this process, any thread, the same scheme, host and port, and the same
			      * address check); a kept one is used again when it still works */
};

/* Which addresses an exchange may connect to. ok is asked about every address a connection would be
 * opened to, after name resolution and before the socket exists (the proxy's address when a proxy is
 * used): 0 lets it connect, -1 refuses it with the reason written to why (the next address, if any,
 * is tried then). */
struct http_address_check {
	int (*ok)(const struct sockaddr *sa, size_t len, void *arg, char *why, size_t whysz);
	void *arg;
};

struct http_answer {
	int complete;	     /* a whole answer arrived (or we hung up at read_max) */
	long status;	     /* the last status line's code (100-999), 0 when none arrived */
	int refused;	     /* not complete: the connection was refused */
	int timed_out;	     /* not complete: the timeout passed */
	int address_refused; /* not complete: the address check refused every address; error says why */
	long os_errno;	     /* not complete: the system error behind the failure, 0 when none */
	char error[200];     /* not complete: libcurl's description, never a URL or header value */
	struct buf body;     /* the first `keep` bytes of the answer's body (http_answer_init) */
	char server[128];    /* the Server header of the last head ("" when none) */
	char location[512];  /* its Location header */
	long retry_after;    /* its Retry-After in seconds (delta-seconds, or an HTTP-date minus date_base,
			      * 0 when earlier), -1 when absent or unparsable; at most 10^9 */
};

/* Initialises libcurl once per process (from the main thread, before any other thread starts); 0 or
 * -1. Later calls return 0. */
int http_client_init(void) KANCA_MUST_CHECK;
/* Releases libcurl's global state; http_client_init may be called again afterwards. */
void http_client_cleanup(void);

/* 0 when libcurl's URL parser reads url as an http:// or https:// URL with a host and no credentials,
 * no spaces or control bytes and at most KANCA_URL_MAX bytes; else -1 with the reason in why (which
 * never quotes the URL). A second opinion after url.c's url_destination_ok: the two parsers agree. */
int http_client_url_ok(const char *url, char *why, size_t whysz) KANCA_MUST_CHECK;

void http_answer_init(struct http_answer *a, size_t keep);
void http_answer_free(struct http_answer *a);
/* Sends rq and fills a (initialised by the caller). Blocks for at most rq->timeout_ms, name
 * resolution included (libcurl's threaded resolver). Thread-safe after http_client_init. Proxies from
 * the environment (http_proxy, no_proxy) apply. Sockets are opened close-on-exec.
 * Test-hooks builds only: KANCA_TEST_RESOLVE="HOST:PORT:ADDRESS" makes HOST:PORT resolve to ADDRESS
 * without the resolver (libcurl's CURLOPT_RESOLVE), so that a test can give a name any address. */
void http_client_exchange(const struct http_request *rq, struct http_answer *a);
/* http_client_exchange, connecting only to the addresses check allows (NULL: every address, as above).
 * When it refused every address it was given, nothing was sent: a->address_refused is set. */
void http_client_exchange_checked(const struct http_request *rq, const struct http_address_check *check,
				  struct http_answer *a);

#endif
