/* forward.c: one outgoing webhook POST on libcurl (the only user of libcurl), Standard Webhooks signed. */
#include "first.h"
#include "wipe.h"
#include "process/forward.h"

#include "buf.h"
#include "caps.h"
#include "clock.h"
#include "providers/standardwebhooks.h"
#include "verify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#define FORWARD_URL_MAX 4096
#define FORWARD_ID_MAX KANCA_KEY_MAX
#define RETRY_AFTER_TEXT 64	      /* longest Retry-After value we look at */
#define RETRY_AFTER_LIMIT 1000000000L /* delta-seconds beyond this are clamped (no overflow) */
#define DEFAULT_TYPE "application/json"
#define USER_AGENT "kanca/" PACKAGE_VERSION

static int initialised;

int forward_init(void)
{
	if (initialised)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	initialised = 1;
	return 0;
}

void forward_cleanup(void)
{
	if (!initialised)
		return;
	curl_global_cleanup();
	initialised = 0;
}

const char *forward_result_name(enum forward_result r)
{
	switch (r) {
	case FORWARD_OK:
		return "ok";
	case FORWARD_RETRY:
		return "retry";
	case FORWARD_GONE:
		return "gone";
	case FORWARD_INVALID:
		return "invalid";
	}
	return "?";
}

/* ---- validation (nothing is sent when any of it fails) ---- */

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int name_is(const char *name, size_t n, const char *want)
{
	size_t i;

	for (i = 0; i < n && want[i]; i++)
		if (lower((unsigned char)name[i]) != want[i])
			return 0;
	return i == n && want[i] == '\0';
}

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A header value: visible ASCII, obs-text, SP and HTAB; never CR, LF or another control byte. */
static int value_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

/* Names that forward_post sets itself or that frame the message: an extra line must not change them. */
/* clang-format off */
static const char *const reserved[] = {
	"host", "content-length", "transfer-encoding", "expect", "connection", "content-type",
	"webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-secret", NULL,
};
/* clang-format on */

/* 0 when line is "Name: value" with a token name, a non-empty value (curl would drop "Name:" silently)
 * and no control bytes; else -1 with the reason in why (which never quotes the value). */
static int extra_header_ok(const char *line, char *why, size_t whysz, size_t index)
{
	const char *colon, *v;
	size_t n;

	if (strlen(line) > FORWARD_HEADER_LINE_MAX) {
		snprintf(why, whysz, "extra header %zu is longer than %d bytes", index + 1, FORWARD_HEADER_LINE_MAX);
		return -1;
	}
	colon = strchr(line, ':');
	n = colon ? (size_t)(colon - line) : 0;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)line[i]))
			n = 0;
	if (!colon || n == 0) {
		snprintf(why, whysz, "extra header %zu is not a \"Name: value\" line", index + 1);
		return -1;
	}
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	if (*v == '\0' || !value_ok(v)) {
		snprintf(why, whysz, "extra header %zu has an empty value or a control character", index + 1);
		return -1;
	}
	for (size_t i = 0; reserved[i]; i++)
		if (name_is(line, n, reserved[i])) {
			snprintf(why, whysz, "extra header %zu sets %s, which kanca sets itself", index + 1,
				 reserved[i]);
			return -1;
		}
	return 0;
}

/* 0 when url is an absolute http:// or https:// URL with a host and no spaces or control bytes. */
static int url_ok(const char *url, char *why, size_t whysz)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (!url || !*url || strlen(url) > FORWARD_URL_MAX) {
		snprintf(why, whysz, "URL missing or longer than %d bytes", FORWARD_URL_MAX);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f) {
			snprintf(why, whysz, "URL contains a space, control or non-ASCII byte");
			return -1;
		}
	/* exactly "http://host..." or "https://host...": no "http:/x" or "http:///x" that the URL parser
	 * would repair into a host name nobody wrote */
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		snprintf(why, whysz, "URL scheme is not http or https");
		return -1;
	}
	if (url[strncasecmp(url, "http://", 7) == 0 ? 7 : 8] == '/') {
		snprintf(why, whysz, "URL is not an absolute URL with a host");
		return -1;
	}
	u = curl_url();
	if (!u) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) || !host || !*host)
		snprintf(why, whysz, "URL is not an absolute URL with a host");
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		snprintf(why, whysz, "URL scheme is not http or https");
	else
		rc = 0;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static int id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > FORWARD_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return 0;
	return 1;
}

/* ---- the transfer ---- */

struct transfer {
	size_t received;     /* response body bytes seen */
	int capped;	     /* we hung up at FORWARD_RESPONSE_MAX */
	long long timestamp; /* base of an HTTP-date */
	long retry_after;    /* of the latest response head; -1 none */
};

/* Retry-After = HTTP-date / delay-seconds (RFC 9110 10.2.3). Only values starting with a digit (delta)
 * or a letter (every HTTP-date form starts with a day name) are considered. */
static long retry_after_parse(const char *v, size_t n, long long base)
{
	char text[RETRY_AFTER_TEXT + 1];
	long long secs = 0;
	time_t t;
	size_t i;

	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if (n == 0 || n > RETRY_AFTER_TEXT)
		return -1;
	if (v[0] >= '0' && v[0] <= '9') {
		for (i = 0; i < n; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			if (secs < RETRY_AFTER_LIMIT)
				secs = secs * 10 + (v[i] - '0');
		}
		return secs > RETRY_AFTER_LIMIT ? RETRY_AFTER_LIMIT : (long)secs;
	}
	if (!((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z')))
		return -1;
	memcpy(text, v, n);
	text[n] = '\0';
	t = curl_getdate(text, NULL);
	if (t == (time_t)-1)
		return -1;
	secs = (long long)t - base;
	if (secs < 0)
		return 0;
	return secs > RETRY_AFTER_LIMIT ? RETRY_AFTER_LIMIT : (long)secs;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	/* a new status line starts a new head (after a 1xx): forget the previous one's header */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
		t->retry_after = -1;
	else if (len >= sizeof name - 1 && name_is(p, sizeof name - 1, name))
		t->retry_after = retry_after_parse(p + sizeof name - 1, len - (sizeof name - 1), t->timestamp);
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;

	(void)p;
	if (len > FORWARD_RESPONSE_MAX - t->received) {
		t->capped = 1;
		return 0; /* CURLE_WRITE_ERROR: hang up instead of reading the rest */
	}
	t->received += len;
	return len;
}

static const char *errno_text(long e)
{
	switch (e) {
	case ECONNREFUSED:
		return " (connection refused)";
	case ECONNRESET:
		return " (connection reset)";
	case ETIMEDOUT:
		return " (timed out)";
	case EHOSTUNREACH:
		return " (host unreachable)";
	case ENETUNREACH:
		return " (network unreachable)";
	default:
		return "";
	}
}

/* Appends "Name: value" to *list; -1 when out of memory. */
static int add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return -1;
	*list = l;
	return 0;
}

static void fail(struct forward_outcome *out, enum forward_result r, const char *why)
{
	out->result = r;
	snprintf(out->error, sizeof out->error, "%s", why);
}

/* Builds the header list (validating as it goes). FORWARD_OK, or FORWARD_INVALID / FORWARD_RETRY (memory)
 * with out->error set. */
static enum forward_result build_headers(const struct forward_target *tg, const struct forward_message *m,
					 struct curl_slist **list, struct forward_outcome *out)
{
	char line[FORWARD_HEADER_LINE_MAX + 64], ts[32], why[sizeof out->error];
	const char *type = (m->content_type && *m->content_type) ? m->content_type : DEFAULT_TYPE;
	enum forward_result r = FORWARD_OK;
	size_t i;

	if (strlen(type) > FORWARD_HEADER_LINE_MAX || !value_ok(type)) {
		fail(out, FORWARD_INVALID, "content type has a control character or is too long");
		return FORWARD_INVALID;
	}
	snprintf(ts, sizeof ts, "%lld", m->timestamp);
	snprintf(line, sizeof line, "Content-Type: %s", type);
	if (add_header(list, line) < 0)
		goto nomem;
	snprintf(line, sizeof line, "webhook-id: %s", m->id);
	if (add_header(list, line) < 0)
		goto nomem;
	snprintf(line, sizeof line, "webhook-timestamp: %s", ts);
	if (add_header(list, line) < 0)
		goto nomem;
	/* no "Expect: 100-continue" round trip (older libcurl asks for bodies over 1 KiB) */
	if (add_header(list, "Expect:") < 0)
		goto nomem;

	if (tg->signing_secret) {
		unsigned char key[KANCA_SECRET_MAX];
		char sig[VERIFY_HEX_LEN + 1];
		long klen =
		    standardwebhooks_secret_key(tg->signing_secret, strlen(tg->signing_secret), key, sizeof key);
		const void *parts[5] = {m->id, ".", ts, ".", m->body ? m->body : ""};
		size_t lens[5] = {strlen(m->id), 1, strlen(ts), 1, m->len};
		int bad = klen <= 0 || verify_hmac_text(VERIFY_BASE64, key, (size_t)klen, parts, lens, 5, sig) < 0;

		wipe_bytes(key, sizeof key);
		if (bad) {
			fail(out, FORWARD_INVALID, "signing secret is not whsec_<base64>");
			return FORWARD_INVALID;
		}
		snprintf(line, sizeof line, "webhook-signature: v1,%s", sig);
		r = add_header(list, line) < 0 ? FORWARD_RETRY : FORWARD_OK;
		wipe_bytes(sig, sizeof sig);
		wipe_bytes(line, sizeof line);
		if (r != FORWARD_OK)
			goto nomem;
	}
	if (tg->static_secret) {
		if (!*tg->static_secret || strlen(tg->static_secret) > FORWARD_HEADER_LINE_MAX ||
		    !value_ok(tg->static_secret)) {
			fail(out, FORWARD_INVALID, "static secret is empty, too long or has a control character");
			return FORWARD_INVALID;
		}
		snprintf(line, sizeof line, "X-Webhook-Secret: %s", tg->static_secret);
		r = add_header(list, line) < 0 ? FORWARD_RETRY : FORWARD_OK;
		wipe_bytes(line, sizeof line);
		if (r != FORWARD_OK)
			goto nomem;
	}
	for (i = 0; tg->extra_headers && tg->extra_headers[i]; i++) {
		if (i == FORWARD_EXTRA_HEADERS_MAX) {
			snprintf(why, sizeof why, "more than %d extra headers", FORWARD_EXTRA_HEADERS_MAX);
			fail(out, FORWARD_INVALID, why);
			return FORWARD_INVALID;
		}
		if (extra_header_ok(tg->extra_headers[i], why, sizeof why, i) < 0) {
			fail(out, FORWARD_INVALID, why);
			return FORWARD_INVALID;
		}
		if (add_header(list, tg->extra_headers[i]) < 0)
			goto nomem;
	}
	return FORWARD_OK;
nomem:
	fail(out, FORWARD_RETRY, "out of memory");
	return FORWARD_RETRY;
}

static void classify(struct forward_outcome *out, long status)
{
	out->http_status = (int)status;
	if (status >= 200 && status <= 299) {
		out->result = FORWARD_OK;
		out->error[0] = '\0';
	} else if (status == 410) {
		out->result = FORWARD_GONE;
		snprintf(out->error, sizeof out->error, "HTTP 410 Gone");
	} else if (status >= 300 && status <= 399) {
		out->result = FORWARD_RETRY;
		snprintf(out->error, sizeof out->error, "HTTP %ld (redirects are not followed)", status);
	} else {
		out->result = FORWARD_RETRY;
		snprintf(out->error, sizeof out->error, "HTTP %ld", status);
	}
}

/* What every exchange sets: the URL, http(s) only, no redirects, no signals, the whole-attempt timeout. */
static CURLcode easy_basics(CURL *c, const char *url, long timeout_ms)
{
	CURLcode rc = curl_easy_setopt(c, CURLOPT_URL, url);

#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: CURLOPT_PROTOCOLS is deprecated */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	return rc;
}

void forward_post(const struct forward_target *tg, const struct forward_message *m, struct forward_outcome *out)
{
	double start = clock_monotonic();
	struct transfer t = {.retry_after = -1};
	struct curl_slist *headers = NULL;
	char why[sizeof out->error];
	CURL *c = NULL;
	CURLcode rc;
	long status = 0, oserr = 0, timeout;

	memset(out, 0, sizeof *out);
	out->retry_after = -1;
	if (!tg || !m) {
		fail(out, FORWARD_INVALID, "no target or message");
		goto out;
	}
	if (url_ok(tg->url, why, sizeof why) < 0) {
		fail(out, FORWARD_INVALID, why);
		goto out;
	}
	if (!id_ok(m->id)) {
		fail(out, FORWARD_INVALID, "message id is empty, too long or has a space or control byte");
		goto out;
	}
	if (!m->body && m->len) {
		fail(out, FORWARD_INVALID, "message body is NULL");
		goto out;
	}
	if (tg->timeout_ms < 0) {
		fail(out, FORWARD_INVALID, "negative timeout");
		goto out;
	}
	if (build_headers(tg, m, &headers, out) != FORWARD_OK)
		goto out;
	c = curl_easy_init();
	if (!c) {
		fail(out, FORWARD_RETRY, "out of memory");
		goto out;
	}
	timeout = tg->timeout_ms ? tg->timeout_ms : FORWARD_TIMEOUT_DEFAULT_MS;
	t.timestamp = m->timestamp;
	rc = easy_basics(c, tg->url, timeout);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_POST, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->len);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, m->body ? (const char *)m->body : "");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
	if (rc != CURLE_OK) {
		snprintf(why, sizeof why, "libcurl refused an option: %s", curl_easy_strerror(rc));
		fail(out, FORWARD_RETRY, why);
		goto out;
	}

	rc = curl_easy_perform(c);
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	out->retry_after = t.retry_after;
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t.capped)) {
		if (status >= 100 && status <= 999) {
			classify(out, status);
		} else {
			fail(out, FORWARD_RETRY, "no HTTP status in the answer");
		}
		goto out;
	}
	/* the answer did not complete (a status may have arrived: keep it, but the attempt failed) */
	out->http_status = status >= 100 && status <= 999 ? (int)status : 0;
	if (curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr) != CURLE_OK)
		oserr = 0;
	if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, sizeof why, "timed out after %ld ms", timeout);
	else
		snprintf(why, sizeof why, "%s%s", curl_easy_strerror(rc), errno_text(oserr));
	fail(out, FORWARD_RETRY, why);
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	out->seconds = clock_monotonic() - start;
}

/* ---- one plain exchange (kancactl doctor): the answer is kept, nothing is signed ---- */

void forward_answer_init(struct forward_answer *a, size_t keep)
{
	memset(a, 0, sizeof *a);
	buf_init(&a->body, keep);
}

void forward_answer_free(struct forward_answer *a)
{
	buf_free(&a->body);
}

static size_t exchange_body(char *p, size_t size, size_t n, void *arg)
{
	struct forward_answer *a = arg;
	size_t len = size * n, room = a->body.max - a->body.len;

	(void)!buf_append(&a->body, p, len < room ? len : room);
	return len;
}

/* Copies a header's value (after "name:") when line is that header. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), v;

	if (len <= n || strncasecmp(line, name, n) != 0)
		return;
	line += n;
	len -= n;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	v = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < v; i++)
		out[i] = (unsigned char)line[i] < 0x20 ? '?' : line[i];
	out[v] = '\0';
}

static size_t exchange_header(char *p, size_t size, size_t n, void *arg)
{
	struct forward_answer *a = arg;
	size_t len = size * n;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		a->server[0] = '\0';
		a->location[0] = '\0';
	}
	header_value(p, len, "server:", a->server, sizeof a->server);
	header_value(p, len, "location:", a->location, sizeof a->location);
	return len;
}

void forward_exchange(const char *url, const struct buf *lines, const void *body, size_t len, long timeout_ms,
		      const char *user_agent, struct forward_answer *a)
{
	struct curl_slist *list = NULL, *l;
	const char *p = lines ? buf_str(lines) : "";
	char line[KANCA_HEADER_VALUE_MAX + 256];
	CURLcode rc = CURLE_OK;
	long oserr = 0;
	CURL *c = curl_easy_init();

	if (!c) {
		a->transport = 1;
		snprintf(a->error, sizeof a->error, "out of memory");
		return;
	}
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n && n < sizeof line) {
			memcpy(line, p, n);
			line[n] = '\0';
			l = curl_slist_append(list, line);
			if (l)
				list = l;
			else
				rc = CURLE_OUT_OF_MEMORY;
		}
		p += n + (p[n] == '\n');
	}
	wipe_bytes(line, sizeof line);
	l = curl_slist_append(list, "Expect:"); /* no 100-continue round trip: the body goes at once */
	if (l)
		list = l;
	if (rc == CURLE_OK)
		rc = easy_basics(c, url, timeout_ms);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent);
	if (rc == CURLE_OK && body) {
		rc = curl_easy_setopt(c, CURLOPT_POST, 1L);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
	}
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, exchange_header);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, exchange_body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c);
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status) != CURLE_OK || a->status < 100 || a->status > 999)
		a->status = 0;
	if (rc != CURLE_OK) {
		a->transport = 1;
		a->refused = rc == CURLE_COULDNT_CONNECT;
		a->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		if (curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr) != CURLE_OK)
			oserr = 0;
		snprintf(a->error, sizeof a->error, "%s%s%s", curl_easy_strerror(rc), oserr ? ": " : "",
			 oserr ? strerror((int)oserr) : "");
	}
	curl_easy_cleanup(c);
	for (l = list; l; l = l->next)
		wipe_bytes(l->data, strlen(l->data));
	curl_slist_free_all(list);
}
