/* doctor_probe.c: kancactl doctor's self-test deliveries: built and signed as each provider's sender
 * would, sent through http_client.c. */
#include "first.h"
#include "ctl/doctor_int.h"
#include "buf.h"
#include "clock.h"
#include "http_client.h"
#include "providers/provider.h"
#include "store/store.h"
#include "verify.h"
#include "wipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* base URL + base_path (unless the URL already ends with it) + path */
int doctor_url(const struct doctor *d, const char *path, char *out, size_t cap)
{
	const char *after = strstr(d->url, "://"), *upath;
	size_t blen = strlen(d->cfg.base_path), plen;
	int n;

	upath = after ? strchr(after + 3, '/') : NULL;
	plen = upath ? strlen(upath) : 0;
	if (blen && plen >= blen && strcmp(upath + plen - blen, d->cfg.base_path) == 0)
		blen = 0;
	n = snprintf(out, cap, "%s%s%s", d->url, blen ? d->cfg.base_path : "", path);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

int doctor_probe_route(const struct doctor *d, struct probe *p)
{
	char path[2 * KANCA_SEGMENT_MAX + 64];

	if (strcmp(p->prov->name, "supplier") == 0)
		snprintf(path, sizeof path, "/api/suppliers/%s/webhook", p->src.account);
	else
		snprintf(path, sizeof path, "/webhook/%s/%s", p->prov->name, p->src.account);
	return doctor_url(d, path, p->url, sizeof p->url);
}

void doctor_probe_free(struct probe *p)
{
	if (p->headers.data)
		wipe_bytes(p->headers.data, p->headers.len);
	buf_free(&p->headers);
	buf_free(&p->body);
	store_source_free(&p->src);
}

/* The payload: a JSON object naming the nonce; pad < 0 gives a short text (with UTF-8, so a re-encoding
 * shows), else pad bytes of 'x'. */
static int payload(struct buf *out, const char *nonce, long pad)
{
	static const char text[] = "kanca doctor K\xc3\xbcnye \xe2\x9c\x93 0123456789";

	buf_reset(out);
	if (buf_printf(out, "{\"kanca_doctor\":\"%s\",\"event\":\"kanca.doctor\",\"pad\":\"", nonce) < 0)
		return -1;
	if (pad < 0) {
		if (buf_append_str(out, text) < 0)
			return -1;
	} else {
		char xs[4096];

		memset(xs, 'x', sizeof xs);
		for (long left = pad; left > 0; left -= (long)sizeof xs)
			if (buf_append(out, xs, left < (long)sizeof xs ? (size_t)left : sizeof xs) < 0)
				return -1;
	}
	return buf_append_str(out, "\"}");
}

/* Builds the delivery: a fresh nonce, the body and header lines as the provider's sender makes them. */
int doctor_probe_build(struct probe *p, long pad, struct buf *err)
{
	unsigned char raw[16], d[VERIFY_SHA256_LEN];
	struct buf pl;
	int rc = -1;

	if (verify_random(raw, sizeof raw) < 0)
		return buf_fail(err, "%s", "no random bytes for the nonce");
	verify_hex_encode(raw, sizeof raw, p->nonce);
	if (p->headers.data)
		wipe_bytes(p->headers.data, p->headers.len);
	buf_reset(&p->headers);
	buf_reset(&p->body);
	buf_init(&pl, KANCA_DOCTOR_BODY_MAX);
	if (payload(&pl, p->nonce, pad) < 0) {
		(void)buf_fail(err, "%s", "the payload does not fit");
		goto out;
	}
	if (p->prov->sign && p->src.nsecrets > 0) {
		struct provider_sign_in in = {
		    .secret = p->src.secrets[0].value,
		    .secret_len = p->src.secrets[0].len,
		    .options = p->src.options ? p->src.options : "",
		    .payload = buf_str(&pl),
		    .payload_len = pl.len,
		    .id = p->nonce,
		    .now = clock_now(),
		};
		if (p->prov->sign(&in, &p->body, &p->headers, err) < 0)
			goto out;
	} else if (buf_append(&p->body, pl.data, pl.len) < 0 ||
		   buf_append_str(&p->headers, "Content-Type: application/json\n") < 0) {
		(void)buf_fail(err, "%s", "the payload does not fit");
		goto out;
	}
	if (buf_printf(&p->headers, "X-Kanca-Doctor: %s\n", p->nonce) < 0) {
		(void)buf_fail(err, "%s", "the headers do not fit");
		goto out;
	}
	if (verify_sha256(buf_str(&p->body), p->body.len, d) < 0) {
		(void)buf_fail(err, "%s", "SHA-256 failed");
		goto out;
	}
	verify_hex_encode(d, sizeof d, p->sent_sha256);
	rc = 0;
out:
	buf_free(&pl);
	return rc;
}

/* Builds a delivery whose body is exactly size bytes (the envelope of some providers adds to the payload:
 * the pad is corrected until it fits). 0, 1 when size is below the smallest delivery, -1 with err. */
int doctor_probe_build_size(struct probe *p, size_t size, struct buf *err)
{
	long pad = (long)size > 200 ? (long)size - 200 : 0;

	for (int i = 0; i < 6; i++) {
		if (doctor_probe_build(p, pad, err) < 0)
			return -1;
		if (p->body.len == size)
			return 0;
		pad += (long)size - (long)p->body.len;
		if (pad < 0)
			return 1;
	}
	return buf_fail(err, "%s", "no pad gives the exact size");
}

/* GET (body NULL) or POST url with the header lines; an exchange that fails says why, with the system's
 * error ("Couldn't connect to server: Connection refused"). */
void doctor_exchange(const char *url, const struct buf *lines, const void *body, size_t len, long timeout_ms,
		     struct http_answer *a)
{
	struct http_request rq = {url, lines, body, len, timeout_ms, DOCTOR_AGENT, 0, 0, 0};
	size_t n;

	http_client_exchange(&rq, a);
	n = strlen(a->error);
	if (!a->complete && a->os_errno && n + 3 < sizeof a->error)
		snprintf(a->error + n, sizeof a->error - n, ": %s", strerror((int)a->os_errno));
}

void doctor_probe_send(struct probe *p, long timeout_ms, struct http_answer *a)
{
	doctor_exchange(p->url, &p->headers, buf_str(&p->body), p->body.len, timeout_ms, a);
}
