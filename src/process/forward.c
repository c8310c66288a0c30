/* forward.c: one outgoing webhook POST: the target and message validated, the headers built and signed
 * (Standard Webhooks, stdwebhooks.c, and/or a static X-Webhook-Secret), the exchange through
 * http_client.c, the answer classified. */
#include "first.h"
#include "process/forward.h"
#include "buf.h"
#include "caps.h"
#include "clock.h"
#include "http_client.h"
#include "stdwebhooks.h"
#include "url.h"
#include "wipe.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_TYPE "application/json"
#define USER_AGENT   "kanca/" PACKAGE_VERSION

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

	if (strlen(line) > KANCA_FORWARD_HEADER_LINE_MAX) {
		snprintf(why, whysz, "extra header %zu is longer than %d bytes", index + 1,
			 KANCA_FORWARD_HEADER_LINE_MAX);
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

static int id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > KANCA_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return 0;
	return 1;
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

int forward_url_ok(const char *url, int allow_link_local, char *why, size_t whysz)
{
	if (url_destination_ok(url, allow_link_local, why, whysz) < 0 || http_client_url_ok(url, why, whysz) < 0)
		return -1;
	return 0;
}

/* The exchange's address check: url.c's rule on the address a connection would go to */
static int address_ok(const struct sockaddr *sa, size_t len, void *arg, char *why, size_t whysz)
{
	const struct forward_target *tg = arg;

	return url_address_allowed(sa, len, tg->allow_link_local, why, whysz);
}

static void fail(struct forward_outcome *out, enum forward_result r, const char *why)
{
	out->result = r;
	snprintf(out->error, sizeof out->error, "%s", why);
}

/* Appends one "Name: value" line to the request's header lines; -1 when it does not fit. */
static int add_line(struct buf *lines, const char *name, const char *value)
{
	return buf_printf(lines, "%s: %s\n", name, value);
}

/* Builds the header lines (validating as it goes). FORWARD_OK, or FORWARD_INVALID / FORWARD_RETRY
 * (memory) with out->error set. The lines may hold the signature and the static secret: the caller
 * wipes them. */
static enum forward_result build_headers(const struct forward_target *tg, const struct forward_message *m,
					 struct buf *lines, struct forward_outcome *out)
{
	char ts[32], why[sizeof out->error];
	const char *type = (m->content_type && *m->content_type) ? m->content_type : DEFAULT_TYPE;
	size_t i;

	if (strlen(type) > KANCA_FORWARD_HEADER_LINE_MAX || !value_ok(type)) {
		fail(out, FORWARD_INVALID, "content type has a control character or is too long");
		return FORWARD_INVALID;
	}
	snprintf(ts, sizeof ts, "%lld", m->timestamp);
	if (add_line(lines, "Content-Type", type) < 0 || add_line(lines, "webhook-id", m->id) < 0 ||
	    add_line(lines, "webhook-timestamp", ts) < 0)
		goto nomem;
	if (tg->signing_secret) {
		struct stdwebhooks_msg msg = {m->id, strlen(m->id), m->timestamp, m->body, m->len};
		char sig[STDWEBHOOKS_SIG_TEXT];
		int rc;

		if (stdwebhooks_sign(tg->signing_secret, strlen(tg->signing_secret), &msg, sig) < 0) {
			fail(out, FORWARD_INVALID, "signing secret is not whsec_<base64>");
			return FORWARD_INVALID;
		}
		rc = buf_printf(lines, "webhook-signature: v1,%s\n", sig);
		wipe_bytes(sig, sizeof sig);
		if (rc < 0)
			goto nomem;
	}
	if (tg->static_secret) {
		if (!*tg->static_secret || strlen(tg->static_secret) > KANCA_FORWARD_HEADER_LINE_MAX ||
		    !value_ok(tg->static_secret)) {
			fail(out, FORWARD_INVALID, "static secret is empty, too long or has a control character");
			return FORWARD_INVALID;
		}
		if (add_line(lines, "X-Webhook-Secret", tg->static_secret) < 0)
			goto nomem;
	}
	for (i = 0; tg->extra_headers && tg->extra_headers[i]; i++) {
		if (i == KANCA_FORWARD_EXTRA_HEADERS_MAX) {
			snprintf(why, sizeof why, "more than %d extra headers", KANCA_FORWARD_EXTRA_HEADERS_MAX);
			fail(out, FORWARD_INVALID, why);
			return FORWARD_INVALID;
		}
		if (extra_header_ok(tg->extra_headers[i], why, sizeof why, i) < 0) {
			fail(out, FORWARD_INVALID, why);
			return FORWARD_INVALID;
		}
		if (buf_printf(lines, "%s\n", tg->extra_headers[i]) < 0)
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

void forward_post(const struct forward_target *tg, const struct forward_message *m, struct forward_outcome *out)
{
	double start = clock_monotonic();
	struct http_request rq;
	struct http_address_check check = {address_ok, NULL};
	struct http_answer a;
	struct buf lines;
	char why[sizeof out->error];

	memset(out, 0, sizeof *out);
	out->retry_after = -1;
	http_answer_init(&a, 0);
	/* every line is bounded (ids, types, secrets, extra lines): this holds them all */
	buf_init(&lines, (KANCA_FORWARD_EXTRA_HEADERS_MAX + 8) * (KANCA_FORWARD_HEADER_LINE_MAX + 64));
	if (!tg || !m) {
		fail(out, FORWARD_INVALID, "no target or message");
		goto out;
	}
	if (forward_url_ok(tg->url, tg->allow_link_local, why, sizeof why) < 0) {
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
	if (build_headers(tg, m, &lines, out) != FORWARD_OK)
		goto out;
	memset(&rq, 0, sizeof rq);
	rq.url = tg->url;
	rq.headers = &lines;
	rq.body = m->body ? m->body : "";
	rq.len = m->len;
	rq.timeout_ms = tg->timeout_ms ? tg->timeout_ms : FORWARD_TIMEOUT_DEFAULT_MS;
	rq.user_agent = USER_AGENT;
	rq.read_max = KANCA_FORWARD_RESPONSE_MAX;
	rq.date_base = m->timestamp;
	rq.reuse = 1; /* one process's forwards to a destination share a few kept-alive connections */
	check.arg = (void *)(uintptr_t)tg;
	http_client_exchange_checked(&rq, &check, &a);
	out->retry_after = a.retry_after;
	if (a.address_refused) {
		/* permanent: the name resolves where a destination may not be; nothing was sent */
		snprintf(why, sizeof why, "not connecting: %.170s", a.error);
		fail(out, FORWARD_INVALID, why);
		goto out;
	}
	if (a.complete) {
		if (a.status)
			classify(out, a.status);
		else
			fail(out, FORWARD_RETRY, "no HTTP status in the answer");
		goto out;
	}
	/* the answer did not complete (a status may have arrived: keep it, but the attempt failed) */
	out->http_status = (int)a.status;
	if (a.timed_out)
		snprintf(why, sizeof why, "timed out after %ld ms", rq.timeout_ms);
	else
		snprintf(why, sizeof why, "%.160s%s", a.error, errno_text(a.os_errno));
	fail(out, FORWARD_RETRY, why);
out:
	wipe_bytes(lines.data, lines.len);
	buf_free(&lines);
	http_answer_free(&a);
	out->seconds = clock_monotonic() - start;
}
