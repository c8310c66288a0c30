/* test_forward.c: forward_post against a scripted HTTP/1.1 responder thread on 127.0.0.1 (ephemeral
 * port): body and headers as sent, Standard Webhooks signatures checked independently, outcome of
 * every class of answer (2xx, 410, 3xx, 429/5xx with Retry-After, hang, refused, TLS, huge bodies)
 * and refusal of bad configuration without sending anything. */
#include "first.h"
#include "http_client.h"
#include "tap.h"

#include "process/forward.h"
#include "url.h"
#include "verify.h"

/* HMAC-SHA256 of one message part. */
#define hmac_one(k, kl, m, ml, out)                                                                                    \
	verify_hmac_sha256_parts(k, kl, (const void *const[]){m}, (const size_t[]){ml}, 1, out)

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TS	1767225600LL /* 2026-01-01T00:00:00Z, a Thursday */
#define SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define REQ_MAX (2 * 1024 * 1024)
#define WAIT_MS 3000 /* the responder never waits longer than this for the client */

/* ---- the responder ---- */

enum mode {
	ANSWER, /* read the request, send head + body_bytes of filler, wait for the client to hang up */
	HANG,	/* read the request, never answer */
	STALL,	/* read the request, send head + body_bytes, then neither more nor close */
	CLOSE,	/* read the request, close without a byte */
	EARLY,	/* send head at once without reading (a plain-text answer to a TLS hello) */
};

struct script {
	enum mode mode;
	char head[1024];
	size_t body_bytes;
};

static struct {
	pthread_mutex_t mu;
	struct script next;
	char *req; /* the last complete request, raw */
	size_t reqlen;
	size_t headlen; /* up to and including the blank line */
	int nrequests;
	int lfd, stop[2];
	int port;
} R = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Case-insensitive search of header name in the head of a raw request; value (trimmed) or NULL. */
static const char *find_header(const char *raw, size_t headlen, const char *name, size_t *vlen, int *count)
{
	size_t n = strlen(name);
	const char *found = NULL, *p = memchr(raw, '\n', headlen);

	if (count)
		*count = 0;
	while (p && (size_t)(p + 1 - raw) < headlen) {
		const char *line = p + 1, *end = memchr(line, '\n', headlen - (size_t)(line - raw));

		if (!end)
			break;
		if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1, *e = end;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (!found) {
				found = v;
				*vlen = (size_t)(e - v);
			}
			if (count)
				(*count)++;
		}
		p = end;
	}
	return found;
}

/* Waits until fd is readable; 1 readable, 0 timeout, -1 stop requested. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = R.stop[0], .events = POLLIN}};
	int n = poll(p, 2, ms);

	if (n > 0 && (p[1].revents & POLLIN))
		return -1;
	return n > 0 ? 1 : 0;
}

/* Waits (bounded) until the client hangs up. */
static void wait_hangup(int fd)
{
	char b[4096];

	while (wait_readable(fd, WAIT_MS) == 1)
		if (read(fd, b, sizeof b) <= 0)
			return;
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the client hung up (the response cap at work) */
		s += w;
		n -= (size_t)w;
	}
}

static void send_filler(int fd, size_t n)
{
	static char fill[16384];

	memset(fill, 'x', sizeof fill);
	while (n) {
		size_t k = n < sizeof fill ? n : sizeof fill;
		ssize_t w = send(fd, fill, k, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		n -= (size_t)w;
	}
}

/* Reads one whole request (head + Content-Length body) into a new buffer; NULL when incomplete. */
static char *read_request(int fd, size_t *len, size_t *headlen)
{
	char *b = malloc(REQ_MAX);
	size_t n = 0, want = 0;

	if (!b)
		return NULL;
	for (;;) {
		ssize_t r;

		if (!want) {
			char *e = n >= 4 ? memmem(b, n, "\r\n\r\n", 4) : NULL;

			if (e) {
				size_t vlen = 0;
				const char *cl;

				*headlen = (size_t)(e + 4 - b);
				cl = find_header(b, *headlen, "content-length", &vlen, NULL);
				want = *headlen + (cl ? strtoul(cl, NULL, 10) : 0);
				if (want > REQ_MAX)
					break;
			}
		}
		if (want && n >= want) {
			*len = n;
			return b;
		}
		if (n == REQ_MAX || wait_readable(fd, WAIT_MS) != 1)
			break;
		r = read(fd, b + n, REQ_MAX - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	free(b);
	return NULL;
}

static void serve(int fd)
{
	struct script s;
	size_t len = 0, headlen = 0;
	char *req;

	pthread_mutex_lock(&R.mu);
	s = R.next;
	pthread_mutex_unlock(&R.mu);
	if (s.mode == EARLY) {
		send_all(fd, s.head, strlen(s.head));
		wait_hangup(fd);
		return;
	}
	req = read_request(fd, &len, &headlen);
	if (!req)
		return;
	pthread_mutex_lock(&R.mu);
	free(R.req);
	R.req = req;
	R.reqlen = len;
	R.headlen = headlen;
	R.nrequests++;
	pthread_mutex_unlock(&R.mu);
	switch (s.mode) {
	case ANSWER:
	case STALL:
		send_all(fd, s.head, strlen(s.head));
		send_filler(fd, s.body_bytes);
		if (s.mode == ANSWER)
			shutdown(fd, SHUT_WR);
		wait_hangup(fd);
		break;
	case HANG:
		wait_hangup(fd);
		break;
	case CLOSE:
	case EARLY:
		break;
	}
}

static void *responder(void *arg)
{
	(void)arg;
	for (;;) {
		int fd;

		if (wait_readable(R.lfd, 60000) != 1)
			return NULL;
		fd = accept(R.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
}

/* A socket bound to 127.0.0.1:0; listening when listen_too. Its port in *port. */
static int loopback_socket(int listen_too, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || (listen_too && listen(fd, 16) < 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		perror("loopback socket");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void script(enum mode mode, size_t body_bytes, const char *head)
{
	pthread_mutex_lock(&R.mu);
	R.next.mode = mode;
	R.next.body_bytes = body_bytes;
	snprintf(R.next.head, sizeof R.next.head, "%s", head);
	pthread_mutex_unlock(&R.mu);
}

static int nrequests(void)
{
	int n;

	pthread_mutex_lock(&R.mu);
	n = R.nrequests;
	pthread_mutex_unlock(&R.mu);
	return n;
}

/* The last request's header value as a new string ("" when absent: see count). */
static char *last_header(const char *name, int *count)
{
	size_t vlen = 0;
	const char *v;
	char *s;

	pthread_mutex_lock(&R.mu);
	v = R.req ? find_header(R.req, R.headlen, name, &vlen, count) : NULL;
	s = malloc(vlen + 1);
	if (!s)
		abort();
	memcpy(s, v ? v : "", vlen);
	s[vlen] = '\0';
	pthread_mutex_unlock(&R.mu);
	return s;
}

static void is_header(const char *name, const char *want, const char *what)
{
	int count = 0;
	char *v = last_header(name, &count);

	is_str(v, want, "%s: %s", what, name);
	free(v);
	if (want)
		is_int(count, 1, "%s: %s sent once", what, name);
}

static int has_header(const char *name)
{
	int count = 0;

	free(last_header(name, &count));
	return count;
}

/* ---- expectations computed without forward.c ---- */

/* "v1," + base64(HMAC-SHA256(base64-decode(secret minus whsec_), id "." ts "." body)) */
static void expected_signature(const char *secret, const char *id, long long ts, const void *body, size_t len,
			       char *out, size_t outsz)
{
	unsigned char key[256], mac[VERIFY_SHA256_LEN];
	char b64[VERIFY_B64_LEN + 1], head[512];
	const char *k = secret + 6; /* "whsec_" */
	long klen = verify_base64_decode(k, strlen(k), 0, key, sizeof key);
	int hl = snprintf(head, sizeof head, "%s.%lld.", id, ts);
	unsigned char *msg = malloc((size_t)hl + len + 1);

	if (klen <= 0 || !msg || hl < 0)
		abort();
	memcpy(msg, head, (size_t)hl);
	memcpy(msg + hl, body, len);
	if (hmac_one(key, (size_t)klen, msg, (size_t)hl + len, mac) < 0)
		abort();
	verify_base64_encode(mac, sizeof mac, b64);
	snprintf(out, outsz, "v1,%s", b64);
	free(msg);
}

/* ---- helpers ---- */

static char url_buf[256];

static const char *url(const char *path)
{
	snprintf(url_buf, sizeof url_buf, "http://127.0.0.1:%d%s", R.port, path);
	return url_buf;
}

static const struct forward_message *message(const char *id, const char *body, const char *type)
{
	static struct forward_message m;

	m.id = id;
	m.timestamp = TS;
	m.body = body;
	m.len = strlen(body);
	m.content_type = type;
	return &m;
}

static void post(const char *path, const char *signing, const char *stat, const char *const *extra, long timeout_ms,
		 const struct forward_message *m, struct forward_outcome *o)
{
	struct forward_target t = {.url = url(path),
				   .signing_secret = signing,
				   .static_secret = stat,
				   .extra_headers = extra,
				   .timeout_ms = timeout_ms};

	forward_post(&t, m, o);
}

/* Nothing secret in an error text. */
static void error_clean(const struct forward_outcome *o, const char *what)
{
	ok(!strstr(o->error, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") && !strstr(o->error, "v1,") &&
	       !strstr(o->error, "s3cr3t-static"),
	   "%s: error text carries no secret or signature", what);
}

#define HEAD_200 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

/* ---- the cases ---- */

static void test_signed_post(void)
{
	/* every byte value a body can carry, CR LF and NUL included */
	static unsigned char body[300];
	struct forward_message m = {.id = "evt_2b1f",
				    .timestamp = TS,
				    .body = body,
				    .len = sizeof body,
				    .content_type = "application/vnd.test+json; charset=utf-8"};
	struct forward_outcome o;
	char want[128], *sig1, *v;
	int before = nrequests();

	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (unsigned char)(i * 7 + 3);
	script(ANSWER, 0, HEAD_200);
	post("/hook/a?x=1", SECRET, NULL, NULL, 5000, &m, &o);
	is_int(o.result, FORWARD_OK, "200: OK");
	is_int(o.http_status, 200, "200: status kept");
	is_int(o.retry_after, -1, "200: no Retry-After");
	is_str(o.error, "", "200: no error text");
	ok(o.seconds >= 0 && o.seconds < 5, "200: seconds measured (%.3f)", o.seconds);
	is_int(nrequests(), before + 1, "200: one request arrived");

	pthread_mutex_lock(&R.mu);
	ok(R.reqlen > 28 && memcmp(R.req, "POST /hook/a?x=1 HTTP/1.1\r\n", 27) == 0,
	   "request line: POST, path and query");
	is_mem(R.req + R.headlen, R.reqlen - R.headlen, body, sizeof body, "body arrives byte for byte");
	pthread_mutex_unlock(&R.mu);
	is_header("content-length", "300", "signed");
	is_header("content-type", "application/vnd.test+json; charset=utf-8", "signed: original type passed");
	is_header("webhook-id", "evt_2b1f", "signed");
	is_header("webhook-timestamp", "1767225600", "signed");
	is_header("user-agent", "kanca/" PACKAGE_VERSION, "signed");
	expected_signature(SECRET, "evt_2b1f", TS, body, sizeof body, want, sizeof want);
	is_header("webhook-signature", want, "signed: verifies as Standard Webhooks");
	ok(!has_header("x-webhook-secret"), "signed: no X-Webhook-Secret without a static secret");
	ok(!has_header("expect"), "signed: no Expect: 100-continue");
	sig1 = last_header("webhook-signature", NULL);

	/* a retry of the same event: same id, a new timestamp and signature */
	m.timestamp = TS + 30;
	post("/hook/a?x=1", SECRET, NULL, NULL, 5000, &m, &o);
	is_int(o.result, FORWARD_OK, "second post: OK");
	is_header("webhook-id", "evt_2b1f", "second post: same webhook-id");
	is_header("webhook-timestamp", "1767225630", "second post");
	expected_signature(SECRET, "evt_2b1f", TS + 30, body, sizeof body, want, sizeof want);
	is_header("webhook-signature", want, "second post: signature over the new timestamp");
	v = last_header("webhook-signature", NULL);
	ok(strcmp(v, sig1) != 0, "second post: signature changed with the timestamp");
	free(v);
	free(sig1);

	/* a secret without the prefix is the same key */
	post("/hook/b", &SECRET[6], NULL, NULL, 5000, message("evt_x", "{}", NULL), &o);
	is_int(o.result, FORWARD_OK, "secret without whsec_: OK");
	expected_signature(SECRET, "evt_x", TS, "{}", 2, want, sizeof want);
	is_header("webhook-signature", want, "secret without whsec_: same key");
	is_header("content-type", "application/json", "NULL content type: application/json");
}

static void test_static_and_extra(void)
{
	const char *const extra[] = {"Authorization: Bearer abc.def", "X-Tenant:\t t1", "User-Agent: custom/1", NULL};
	struct forward_outcome o;

	script(ANSWER, 0, HEAD_200);
	post("/n8n", NULL, "s3cr3t-static", extra, 5000, message("evt_n8n", "{\"a\":1}", ""), &o);
	is_int(o.result, FORWARD_OK, "static secret: OK");
	is_header("x-webhook-secret", "s3cr3t-static", "static");
	ok(!has_header("webhook-signature"), "static: no webhook-signature without a signing secret");
	is_header("webhook-id", "evt_n8n", "static: webhook-id still sent");
	is_header("content-type", "application/json", "static: empty content type -> application/json");
	is_header("authorization", "Bearer abc.def", "extra");
	is_header("x-tenant", "t1", "extra");
	is_header("user-agent", "custom/1", "extra header replaces the User-Agent");
}

static void test_statuses(void)
{
	struct forward_outcome o;
	int before;

	script(ANSWER, 0, "HTTP/1.1 204 No Content\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.result, FORWARD_OK, "204: OK");
	is_int(o.http_status, 204, "204: status");

	script(ANSWER, 0, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "500: RETRY");
	is_int(o.http_status, 500, "500: status");
	is_int(o.retry_after, -1, "500: no Retry-After");
	is_str(o.error, "HTTP 500", "500: error text");
	error_clean(&o, "500");

	script(ANSWER, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "404: RETRY (any other status)");

	script(ANSWER, 0, "HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\nContent-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "429: RETRY");
	is_int(o.http_status, 429, "429: status");
	is_int(o.retry_after, 7, "429: Retry-After: 7");

	script(ANSWER, 0, "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.retry_after, -1, "429 without Retry-After: -1");

	script(ANSWER, 0,
	       "HTTP/1.1 503 Service Unavailable\r\nRetry-After: Thu, 01 Jan 2026 00:02:00 GMT\r\n"
	       "Content-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "503: RETRY");
	is_int(o.retry_after, 120, "503: HTTP-date Retry-After is 120 s after the message timestamp");

	script(ANSWER, 0,
	       "HTTP/1.1 503 Service Unavailable\r\nRetry-After: Wed, 31 Dec 2025 23:00:00 GMT\r\n"
	       "Content-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.retry_after, 0, "503: an HTTP-date before the timestamp is 0");

	script(ANSWER, 0, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.retry_after, -1, "503: unparsable Retry-After is -1");

	script(ANSWER, 0, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7s\r\nContent-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.retry_after, -1, "503: Retry-After 7s is -1");

	script(ANSWER, 0, "HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.result, FORWARD_GONE, "410: GONE");
	is_int(o.http_status, 410, "410: status");
	ok(strstr(o.error, "410") != NULL, "410: error names the status (%s)", o.error);

	before = nrequests();
	script(ANSWER, 0, "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "302: RETRY");
	is_int(o.http_status, 302, "302: status");
	is_int(nrequests(), before + 1, "302: the redirect is not followed");

	script(CLOSE, 0, "");
	post("/s", SECRET, NULL, NULL, 5000, message("e1", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "closed without an answer: RETRY");
	is_int(o.http_status, 0, "closed without an answer: no status");
	ok(o.error[0] != '\0', "closed without an answer: error text (%s)", o.error);
}

static void test_failures(void)
{
	struct forward_target t = {.signing_secret = SECRET, .static_secret = "s3cr3t-static", .timeout_ms = 300};
	struct forward_outcome o;
	char u[256];
	int fd, port;

	script(HANG, 0, "");
	post("/hang", SECRET, "s3cr3t-static", NULL, 300, message("e2", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "no answer: RETRY");
	is_int(o.http_status, 0, "no answer: no status");
	ok(o.seconds >= 0.25 && o.seconds < 2.0, "no answer: gave up after the 300 ms timeout (%.3f s)", o.seconds);
	ok(strstr(o.error, "timed out") != NULL, "no answer: error says timed out (%s)", o.error);
	error_clean(&o, "no answer");

	/* a bound socket that does not listen refuses connections, and nobody else can take its port */
	fd = loopback_socket(0, &port);
	snprintf(u, sizeof u, "http://127.0.0.1:%d/x?token=pa55word", port);
	t.url = u;
	forward_post(&t, message("e2", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "connection refused: RETRY");
	is_int(o.http_status, 0, "connection refused: no status");
	ok(strstr(o.error, "refused") != NULL, "connection refused: error says so (%s)", o.error);
	ok(!strstr(o.error, "pa55word") && !strstr(o.error, "127.0.0.1"), "connection refused: error omits the URL");
	error_clean(&o, "connection refused");
	/* credentials in the URL are refused (url.h), nothing sent, and the reason does not quote them */
	snprintf(u, sizeof u, "http://user:pa55word@127.0.0.1:%d/x", port);
	forward_post(&t, message("e2", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "credentials in the URL: INVALID (%s)", o.error);
	ok(!strstr(o.error, "pa55word") && !strstr(o.error, "127.0.0.1"),
	   "credentials in the URL: error omits the URL");
	close(fd);

	/* TLS to a server that answers in plain text */
	script(EARLY, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	snprintf(u, sizeof u, "https://127.0.0.1:%d/tls", R.port);
	t.url = u;
	t.timeout_ms = 2000;
	forward_post(&t, message("e2", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "TLS failure: RETRY");
	is_int(o.http_status, 0, "TLS failure: no status");
	ok(o.seconds < 1.9, "TLS failure: not a timeout (%.3f s, %s)", o.seconds, o.error);
	error_clean(&o, "TLS failure");
}

static void test_invalid(void)
{
	static const char *const bad_urls[] = {"",
					       "not a url",
					       "ftp://127.0.0.1:1/x",
					       "file:///etc/passwd",
					       "http://127.0.0.1:1/a b",
					       "http://127.0.0.1:1/a\r\nX: y",
					       "http:///x",
					       "http:/x",
					       "127.0.0.1:1/x",
					       NULL};
	static const char *const bad_headers[] = {"NoColon",
						  "X-A: b\r\nX-Evil: 1",
						  ": v",
						  "Bad Name: v",
						  "X-Empty:",
						  "X-Blank:   ",
						  "Content-Length: 3",
						  "webhook-id: other",
						  "WEBHOOK-SIGNATURE: v1,x",
						  "Content-Type: text/plain",
						  "X-Ctl: a\001b",
						  "Host: evil",
						  NULL};
	static const char *const bad_secrets[] = {"whsec_", "whsec_!!!notbase64", "whsec_abc", "", "whsec_ab cd", NULL};
	struct forward_target t = {.timeout_ms = 1000};
	struct forward_outcome o;
	int before = nrequests();
	char u[128];

	script(ANSWER, 0, HEAD_200);
	for (size_t i = 0; bad_urls[i]; i++) {
		t.url = bad_urls[i];
		forward_post(&t, message("e3", "{}", NULL), &o);
		is_int(o.result, FORWARD_INVALID, "bad URL %zu: INVALID (%s)", i, o.error);
		ok(!strchr(o.error, '\n'), "bad URL %zu: error is one line", i);
	}
	t.url = NULL;
	forward_post(&t, message("e3", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "NULL URL: INVALID");

	snprintf(u, sizeof u, "http://127.0.0.1:%d/x", R.port);
	t.url = u;
	for (size_t i = 0; bad_headers[i]; i++) {
		const char *const extra[] = {"X-Good: yes", bad_headers[i], NULL};

		t.extra_headers = extra;
		forward_post(&t, message("e3", "{}", NULL), &o);
		is_int(o.result, FORWARD_INVALID, "bad extra header %zu: INVALID (%s)", i, o.error);
		ok(strstr(o.error, "extra header 2") != NULL, "bad extra header %zu: error names its position", i);
	}
	t.extra_headers = NULL;
	for (size_t i = 0; bad_secrets[i]; i++) {
		t.signing_secret = bad_secrets[i];
		forward_post(&t, message("e3", "{}", NULL), &o);
		is_int(o.result, FORWARD_INVALID, "undecodable signing secret %zu: INVALID (%s)", i, o.error);
		ok(!strstr(o.error, "notbase64"), "undecodable signing secret %zu: error does not quote it", i);
	}
	t.signing_secret = NULL;
	t.static_secret = "line\r\nX-Evil: 1";
	forward_post(&t, message("e3", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "static secret with CR LF: INVALID");
	ok(!strstr(o.error, "Evil"), "static secret with CR LF: error does not quote it");
	t.static_secret = "";
	forward_post(&t, message("e3", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "empty static secret: INVALID");
	t.static_secret = NULL;

	forward_post(&t, message("", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "empty message id: INVALID");
	forward_post(&t, message("a b", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "message id with a space: INVALID");
	forward_post(&t, message("a\nb", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "message id with LF: INVALID");
	forward_post(&t, message("e3", "{}", "text/plain\r\nX-Evil: 1"), &o);
	is_int(o.result, FORWARD_INVALID, "content type with CR LF: INVALID");
	t.timeout_ms = -1;
	forward_post(&t, message("e3", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "negative timeout: INVALID");
	t.timeout_ms = 1000;
	forward_post(&t, NULL, &o);
	is_int(o.result, FORWARD_INVALID, "NULL message: INVALID");
	is_int(o.http_status, 0, "INVALID: no status");
	is_int(nrequests(), before, "nothing was sent for any invalid configuration");

	/* the same target with a good header line does go out: the refusals above were the bad parts */
	{
		const char *const extra[] = {"X-Good: yes", "X-Also:good", NULL};

		t.extra_headers = extra;
		forward_post(&t, message("e3", "{}", NULL), &o);
		is_int(o.result, FORWARD_OK, "control: the valid form is sent (%s)", o.error);
		is_header("x-also", "good", "control");
	}
}

static void test_big_body(void)
{
	size_t n = 1536 * 1024;
	unsigned char *body = malloc(n);
	struct forward_message m = {.id = "evt_big", .timestamp = TS, .len = n};
	struct forward_outcome o;
	char want[128];

	if (!body)
		abort();
	for (size_t i = 0; i < n; i++)
		body[i] = (unsigned char)((i * 2654435761u) >> 13);
	m.body = body;
	script(ANSWER, 0, HEAD_200);
	post("/bigbody", SECRET, NULL, NULL, 5000, &m, &o);
	is_int(o.result, FORWARD_OK, "1.5 MiB body: OK (%s)", o.error);
	ok(o.seconds < 0.9, "1.5 MiB body: no 1 s wait for a 100 Continue (%.3f s)", o.seconds);
	ok(!has_header("expect"), "1.5 MiB body: no Expect: 100-continue");
	pthread_mutex_lock(&R.mu);
	is_mem(R.req + R.headlen, R.reqlen - R.headlen, body, n, "1.5 MiB body arrives byte for byte");
	pthread_mutex_unlock(&R.mu);
	expected_signature(SECRET, "evt_big", TS, body, n, want, sizeof want);
	is_header("webhook-signature", want, "1.5 MiB body: signature");
	free(body);
}

static void test_big_answers(void)
{
	char head[256];
	struct forward_outcome o;

	/* 1 MiB answered in full: OK, reading stops at the cap */
	snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 1024 * 1024);
	script(ANSWER, 1024 * 1024, head);
	post("/big", SECRET, NULL, NULL, 5000, message("e4", "{}", NULL), &o);
	is_int(o.result, FORWARD_OK, "1 MiB answer: OK (%s)", o.error);
	is_int(o.http_status, 200, "1 MiB answer: status");

	/* 1 MiB announced, 100 KiB sent, then silence: only a client that stops at the cap returns
	 * before the timeout */
	script(STALL, 100 * 1024, head);
	post("/big", SECRET, NULL, NULL, 3000, message("e4", "{}", NULL), &o);
	is_int(o.result, FORWARD_OK, "stalled 1 MiB answer: OK after the first 64 KiB (%s)", o.error);
	ok(o.seconds < 2.5, "stalled 1 MiB answer: did not wait for the rest (%.3f s)", o.seconds);

	/* the converse: an answer under the cap is read to its end, so a stall in it times out */
	snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 20 * 1024);
	script(STALL, 10 * 1024, head);
	post("/big", SECRET, NULL, NULL, 300, message("e4", "{}", NULL), &o);
	is_int(o.result, FORWARD_RETRY, "stalled 20 KiB answer: RETRY (timed out)");
	is_int(o.http_status, 200, "stalled 20 KiB answer: the status that did arrive is kept");
}

/* ---- the address check at connect time ---- */

/* Whether a connection waits in fd's (a listener nobody accepts from) queue; takes it off when so. */
static int pending_connection(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int c;

	if (poll(&p, 1, 200) != 1)
		return 0;
	c = accept(fd, NULL, NULL);
	if (c >= 0)
		close(c);
	return 1;
}

static struct {
	int calls, loopback;
} seen;

/* refuses every address, noting whether each was a loopback one (what "localhost" resolves to) */
static int refuse_all(const struct sockaddr *sa, size_t len, void *arg, char *why, size_t whysz)
{
	(void)arg;
	seen.calls++;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in) &&
	    ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) == INADDR_LOOPBACK)
		seen.loopback++;
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6) &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr))
		seen.loopback++;
	snprintf(why, whysz, "refused by the test");
	return -1;
}

static int url_rule(const struct sockaddr *sa, size_t len, void *arg, char *why, size_t whysz)
{
	return url_address_allowed(sa, len, *(const int *)arg, why, whysz);
}

/* A name or address that must not be connected to is refused before its socket exists. 0.0.0.0 is the
 * probe: were the check not there, a connect to it reaches this host's loopback (the listener below),
 * never the network; the runs with the check switched off show that it would have. */
static void test_address_check(void)
{
	struct http_answer a;
	struct http_request rq;
	struct forward_target t = {.timeout_ms = 1000};
	struct forward_outcome o;
	int port, allow = 0, lfd = loopback_socket(1, &port);
	struct http_address_check rule = {url_rule, &allow}, none = {refuse_all, NULL};
	char u[128];

	memset(&rq, 0, sizeof rq);
	rq.timeout_ms = 500;
	snprintf(u, sizeof u, "http://0.0.0.0:%d/x", port);
	rq.url = u;

	http_answer_init(&a, 0);
	http_client_exchange_checked(&rq, &rule, &a);
	ok(!a.complete && a.address_refused, "0.0.0.0: the exchange is refused at connect time (%s)", a.error);
	ok(strstr(a.error, "0.0.0.0") && strstr(a.error, "forward_allow_link_local"),
	   "0.0.0.0: the reason names the address and the key (%s)", a.error);
	ok(!pending_connection(lfd), "0.0.0.0: nothing connected");
	http_answer_free(&a);

	allow = 1;
	http_answer_init(&a, 0);
	http_client_exchange_checked(&rq, &rule, &a);
	ok(!a.address_refused, "0.0.0.0 with forward_allow_link_local = yes: not refused (%s)", a.error);
	ok(pending_connection(lfd), "0.0.0.0 with forward_allow_link_local = yes: it connects (to this host)");
	http_answer_free(&a);
	allow = 0;

	http_answer_init(&a, 0);
	http_client_exchange(&rq, &a);
	ok(!a.address_refused && pending_connection(lfd), "0.0.0.0 without a check: it connects (control)");
	http_answer_free(&a);

	/* a name: the check sees what it resolved to */
	snprintf(u, sizeof u, "http://localhost:%d/x", port);
	memset(&seen, 0, sizeof seen);
	http_answer_init(&a, 0);
	http_client_exchange_checked(&rq, &none, &a);
	ok(!a.complete && a.address_refused && strcmp(a.error, "refused by the test") == 0,
	   "localhost, every address refused: address_refused, the check's reason (%s)", a.error);
	ok(seen.calls >= 1 && seen.loopback == seen.calls,
	   "the check was asked about the resolved addresses of localhost (%d, %d loopback)", seen.calls,
	   seen.loopback);
	ok(!pending_connection(lfd), "localhost, every address refused: nothing connected");
	http_answer_free(&a);

	/* forward_post refuses a literal address before any exchange */
	snprintf(u, sizeof u, "http://0.0.0.0:%d/x", port);
	t.url = u;
	forward_post(&t, message("e4", "{}", NULL), &o);
	is_int(o.result, FORWARD_INVALID, "forward to 0.0.0.0: INVALID (%s)", o.error);
	ok(!pending_connection(lfd), "forward to 0.0.0.0: nothing connected");
	t.allow_link_local = 1;
	forward_post(&t, message("e4", "{}", NULL), &o);
	ok(o.result == FORWARD_RETRY && pending_connection(lfd),
	   "forward to 0.0.0.0 with allow_link_local: it connects (and times out: %s)", o.error);
	t.allow_link_local = 0;

#if defined(KANCA_TEST_HOOKS)
	{
		char pin[128];

		/* a name that resolves to 0.0.0.0: refused at connect time, not by the URL check */
		snprintf(pin, sizeof pin, "zero.kanca.test:%d:0.0.0.0", port);
		setenv("KANCA_TEST_RESOLVE", pin, 1);
		snprintf(u, sizeof u, "http://zero.kanca.test:%d/x", port);
		forward_post(&t, message("e4", "{}", NULL), &o);
		is_int(o.result, FORWARD_INVALID, "a name resolving to 0.0.0.0: INVALID (%s)", o.error);
		ok(strncmp(o.error, "not connecting: 0.0.0.0 is the unspecified address", 50) == 0,
		   "its error says why (%s)", o.error);
		ok(!pending_connection(lfd), "a name resolving to 0.0.0.0: nothing connected");
		t.allow_link_local = 1;
		forward_post(&t, message("e4", "{}", NULL), &o);
		ok(o.result == FORWARD_RETRY && pending_connection(lfd),
		   "a name resolving to 0.0.0.0, allow_link_local: it connects (%s)", o.error);
		t.allow_link_local = 0;

		/* a name resolving to 127.0.0.1: delivered (the pin works, loopback is allowed) */
		snprintf(pin, sizeof pin, "sink.kanca.test:%d:127.0.0.1", R.port);
		setenv("KANCA_TEST_RESOLVE", pin, 1);
		snprintf(u, sizeof u, "http://sink.kanca.test:%d/x", R.port);
		script(ANSWER, 0, HEAD_200);
		forward_post(&t, message("e4", "{}", NULL), &o);
		is_int(o.result, FORWARD_OK, "a name resolving to 127.0.0.1: delivered (%s)", o.error);

		/* the metadata service's address, only once the check is known to refuse: never connected to */
		if (url_address_kind(AF_INET, "\xa9\xfe\xa9\xfe") == URL_ADDRESS_METADATA && tap_failures == 0) {
			setenv("KANCA_TEST_RESOLVE", "metadata.kanca.test:80:169.254.169.254", 1);
			t.url = "http://metadata.kanca.test/latest/meta-data/";
			forward_post(&t, message("e4", "{}", NULL), &o);
			is_int(o.result, FORWARD_INVALID, "a name resolving to 169.254.169.254: INVALID (%s)", o.error);
			ok(strstr(o.error, "169.254.169.254 is a cloud metadata service address") != NULL,
			   "its error names the metadata service (%s)", o.error);
			ok(o.seconds < 0.5, "refused at once, no connect attempt timed out (%.3f s)", o.seconds);
		} else {
			ok(0, "the refusals above failed: the metadata address is not tried");
		}
		unsetenv("KANCA_TEST_RESOLVE");
	}
#else
	diag("no test hooks in this build: names pinned to an address (KANCA_TEST_RESOLVE) are not tried");
#endif
	close(lfd);
}

int main(void)
{
	pthread_t th;
	double t0;

	/* the environment's proxy must not capture loopback requests */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");

	is_int(http_client_init(), 0, "http_client_init");
	is_int(http_client_init(), 0, "http_client_init again is harmless");
	R.lfd = loopback_socket(1, &R.port);
	if (pipe(R.stop) < 0 || pthread_create(&th, NULL, responder, NULL) != 0) {
		perror("responder");
		return 1;
	}
	t0 = (double)time(NULL);

	test_signed_post();
	test_static_and_extra();
	test_statuses();
	test_failures();
	test_invalid();
	test_big_body();
	test_big_answers();
	test_address_check();

	ok((double)time(NULL) - t0 < 10, "the whole test took under 10 s");
	if (write(R.stop[1], "x", 1) != 1)
		perror("stop");
	pthread_join(th, NULL);
	close(R.lfd);
	free(R.req);
	http_client_cleanup();
	return done_testing();
}
