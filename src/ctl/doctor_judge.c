/* doctor_judge.c: what an answer to kancactl doctor says: kanca's self-test answer, another answer of
 * kanca's, or the web server's; and the findings it gives. */
#include "first.h"
#include "ctl/doctor_int.h"
#include "buf.h"
#include "json.h"
#include "providers/provider.h"

#include <stdio.h>
#include <string.h>

static int json_true(const struct json *j)
{
	struct buf b;
	int yes;

	if (json_kind_of(j) != JSON_BOOL)
		return 0;
	buf_init(&b, 16);
	yes = json_serialize(j, &b) == 0 && strcmp(buf_str(&b), "true") == 0;
	buf_free(&b);
	return yes;
}

static void copy_string(const struct json *obj, const char *key, char *out, size_t cap)
{
	size_t n = 0;
	const char *s = json_get_string(obj, key, &n);

	snprintf(out, cap, "%.*s", s ? (int)n : 0, s ? s : "");
}

/* Classifies an answer: kanca's doctor answer to this nonce, another answer of kanca's (its JSON error
 * shapes, or /healthz), or somebody else's. */
void doctor_reply_parse(const struct http_answer *a, const char *nonce, struct reply *r)
{
	struct json *root = NULL;
	const struct json *j;
	const char *s;
	double num;

	memset(r, 0, sizeof *r);
	if (!a->complete && a->status == 0)
		return;
	r->kind = REPLY_OTHER;
	if (a->body.len == 0 || json_parse(a->body.data, a->body.len, KANCA_JSON_DEPTH, &root) != JSON_OK)
		return;
	if (json_kind_of(root) != JSON_OBJECT)
		goto out;
	s = nonce ? json_get_string(root, "kanca_doctor", NULL) : NULL;
	if (s && strcmp(s, nonce) == 0) {
		r->kind = REPLY_DOCTOR;
		r->verified = json_true(json_get(root, "verified"));
		r->authorization = json_true(json_get(root, "authorization"));
		copy_string(root, "reason", r->reason, sizeof r->reason);
		copy_string(root, "body_sha256", r->body_sha256, sizeof r->body_sha256);
		r->body_bytes = json_number(json_get(root, "body_bytes"), &num) == 0 ? (long long)num : -1;
		goto out;
	}
	j = json_get(root, "success");
	if (j && json_kind_of(j) == JSON_BOOL && !json_true(j) && json_get_string(root, "error", NULL)) {
		r->kind = REPLY_KANCA;
		copy_string(root, "error", r->error, sizeof r->error);
	} else if (json_get_string(root, "message", NULL) && json_get(root, "statusCode")) { /* ikas' shape */
		r->kind = REPLY_KANCA;
		copy_string(root, "message", r->error, sizeof r->error);
	} else if (json_get_string(root, "status", NULL) && json_get_string(root, "store", NULL)) { /* /healthz */
		r->kind = REPLY_KANCA;
		copy_string(root, "status", r->error, sizeof r->error);
	} else if (j && json_true(j)) { /* a success answer: a kanca that does not know doctor stored it */
		r->kind = REPLY_KANCA;
	}
out:
	json_free(root);
}

/* The short form of an answer for messages: "HTTP 404 from Apache/2.4 (not kanca's)". */
void doctor_describe(const struct http_answer *a, const struct reply *r, char *out, size_t cap)
{
	if (a->status == 0) {
		snprintf(out, cap, "no answer (%s)", a->error);
		return;
	}
	snprintf(out, cap, "HTTP %ld%s%s%s%s%s", a->status, a->server[0] ? " from " : "", a->server,
		 r->kind == REPLY_KANCA	  ? " (kanca: "
		 : r->kind == REPLY_OTHER ? " (not kanca's answer)"
					  : "",
		 r->kind == REPLY_KANCA ? (r->error[0] ? r->error : "success") : "", r->kind == REPLY_KANCA ? ")" : "");
	if (!a->complete && strlen(out) + 8 < cap)
		snprintf(out + strlen(out), cap - strlen(out), ", then %s", a->error);
}

/* Reports a transport failure or an answer that is not doctor's; 1 when it did, 0 when r is doctor's. */
int doctor_judge_not_doctor(struct doctor *d, const char *check, const struct probe *p, const struct http_answer *a,
			    const struct reply *r)
{
	enum server_kind k = doctor_server_of(a->server);
	char what[512], fix[768];

	if (r->kind == REPLY_DOCTOR)
		return 0;
	doctor_describe(a, r, what, sizeof what);
	if (r->kind == REPLY_NONE) {
		doctor_say(
		    d, FAIL, check, "POST %s: %s. Fix: %s", p->url, what,
		    a->refused
			? "nothing listens there: the URL (scheme, host, port) is wrong or the web server is down"
		    : a->timed_out ? "the web server did not answer in time: check the URL, a firewall, and the web "
				     "server's error log (a kanca that hangs on its store)"
				   : "check the URL and the web server's error log");
	} else if (a->status >= 300 && a->status < 400) {
		doctor_say(
		    d, FAIL, check,
		    "POST %s: %s to %s: senders do not follow redirects of a POST. Fix: give providers the URL it "
		    "redirects to (e.g. https://), or stop redirecting kanca's routes",
		    p->url, what, a->location[0] ? a->location : "(no Location)");
	} else if (r->kind == REPLY_KANCA) {
		if (a->status == 404 && strcmp(r->error, "Not found") == 0)
			doctor_say(
			    d, FAIL, check,
			    "POST %s: %s: kanca is reached but the path it sees is not one of its routes. Fix: "
			    "base_path (now \"%s\") must be the prefix in front of /webhook/ in the path the web "
			    "server hands kanca (REQUEST_URI)",
			    p->url, what, d->cfg.base_path);
		else if (a->status == 404 || a->status == 403 || strcmp(r->error, "no secret configured") == 0)
			doctor_say(
			    d, FAIL, check,
			    "POST %s: %s: the kanca behind the URL does not have this source as %s has it: it reads "
			    "another store. Fix: point the web server's KANCA_CONFIG (FcgidInitialEnv, SetEnv, "
			    "bin-environment) at %s, or run doctor with -c and that file",
			    p->url, what, d->config_path, d->config_path);
		else if (a->status == 411)
			doctor_say(d, FAIL, check,
				   "POST %s: %s: the body reached kanca without Content-Length (chunked). Fix: Apache "
				   "mod_proxy_fcgi: SetEnv proxy-sendcl 1 on kanca's routes",
				   p->url, what);
		else if (a->status == 413 && p->body.len > d->cfg.max_body_bytes)
			doctor_say(
			    d, FAIL, check,
			    "POST %s: %s: max_body_bytes (%zu) is below even this %zu-byte self-test. Fix: raise "
			    "max_body_bytes in %s (providers send far larger bodies; the default is 1M)",
			    p->url, what, d->cfg.max_body_bytes, p->body.len, d->config_path);
		else if (a->status == 413)
			doctor_say(
			    d, FAIL, check,
			    "POST %s: %s: the kanca behind the URL has a smaller max_body_bytes than %s. Fix: it reads "
			    "another configuration: check the web server's KANCA_CONFIG",
			    p->url, what, d->config_path);
		else if (a->status == 500)
			doctor_say(
			    d, FAIL, check,
			    "POST %s: %s: kanca could not look the source up: its store does not answer from the web "
			    "server. Fix: the store must be readable and writable by the web server's user (SQLite: "
			    "the file and its directory); see the web server's error log",
			    p->url, what);
		else if (a->status >= 200 && a->status < 300)
			doctor_say(
			    d, FAIL, check,
			    "POST %s: %s without a doctor answer: the kanca behind the URL is older than this kancactl "
			    "and stored the self-test as an event. Fix: install the same kanca version as kancactl",
			    p->url, what);
		else
			doctor_say(d, FAIL, check, "POST %s: %s. Fix: see the web server's error log (kanca logs why)",
				   p->url, what);
	} else if (a->status == 404) {
		doctor_say(d, FAIL, check,
			   "POST %s: %s: wrong route: the web server does not send this path to kanca. Fix: %s", p->url,
			   what, doctor_fix_route(k));
	} else if (a->status == 401 || a->status == 403) {
		doctor_say(d, FAIL, check,
			   "POST %s: %s: the web server itself refuses the request before kanca. Fix: remove the "
			   "authentication or access rule (Require, .htaccess, a WAF) from kanca's routes",
			   p->url, what);
	} else if (a->status == 413) {
		doctor_say(d, FAIL, check, "POST %s: %s: the web server refuses even a %zu-byte body. Fix: %s", p->url,
			   what, p->body.len, doctor_fix_body_limit(k, d->cfg.max_body_bytes, fix, sizeof fix));
	} else if (a->status >= 500) {
		doctor_say(
		    d, FAIL, check,
		    "POST %s: %s: the web server could not run kanca. Fix: see its error log: mod_fcgid needs "
		    "FcgidInitialEnv KANCA_CONFIG (SetEnv does not reach kanca); the kanca binary must be executable "
		    "by the web server's user; mod_proxy_fcgi: the socket must be writable by it (AH02454)",
		    p->url, what);
	} else {
		doctor_say(
		    d, FAIL, check,
		    "POST %s: %s: the answer does not come from kanca. Fix: check the web server's configuration for "
		    "kanca's routes",
		    p->url, what);
	}
	return 1;
}

/* A body that arrived other than it was sent; 1 when so (reported). */
int doctor_judge_body(struct doctor *d, const char *check, const struct probe *p, const struct reply *r)
{
	if ((size_t)r->body_bytes == p->body.len && strcmp(r->body_sha256, p->sent_sha256) == 0)
		return 0;
	doctor_say(
	    d, FAIL, check,
	    "the body changed on the way: sent %zu bytes (sha256 %.12s...), kanca got %lld bytes (sha256 %.12s...)%s. "
	    "Fix: keep request filters off kanca's routes: Apache mod_deflate with SetInputFilter DEFLATE, "
	    "mod_security, a proxy that re-encodes or recompresses%s",
	    p->body.len, p->sent_sha256, r->body_bytes, r->body_sha256, r->body_bytes == 0 ? ": the body is gone" : "",
	    r->body_bytes == 0 ? "; with mod_fcgid never set LimitRequestBody on kanca's routes (mod_fcgid then "
				 "hands kanca an empty body)"
			       : "");
	return 1;
}
