/* test_router.c: the request's path from the CGI environment, path -> route, segment rules, base_path. */
#include "first.h"
#include "router.h"
#include "outcome.h"
#include "request.h"

#include <string.h>

#include "tap.h"

/* A printable copy of a path for test names (control and non-ASCII bytes as \xNN). */
static const char *show(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

/* Expects path (below base) to match kind, with provider and account for a webhook. */
static void expect(const char *base, const char *path, enum route_kind kind, const char *provider, const char *account)
{
	struct route r;
	enum route_kind k;
	char p[600];
	const char *b = base ? base : "NULL";

	show(path, p, sizeof p);
	memset(&r, 0x55, sizeof r); /* junk, to see that the router sets every field */
	k = router_match(base, path, &r);
	is_int(k, kind, "[%s] %s -> kind %d", b, p, (int)kind);
	is_int(r.kind, kind, "[%s] %s: out->kind agrees with the return value", b, p);
	if (kind == ROUTE_WEBHOOK) {
		is_str(r.provider, provider, "[%s] %s: provider", b, p);
		is_str(r.account, account, "[%s] %s: account", b, p);
	}
}

static void test_forms(void)
{
	expect("", "/webhook/github/acme", ROUTE_WEBHOOK, "github", "acme");
	expect(NULL, "/webhook/github/acme", ROUTE_WEBHOOK, "github", "acme");
	expect("", "/webhook/Stripe-2/a.b_c~d-e", ROUTE_WEBHOOK, "Stripe-2", "a.b_c~d-e");
	expect("", "/api/suppliers/42/webhook", ROUTE_WEBHOOK, "supplier", "42");
	expect("", "/api/suppliers/acme-co/webhook", ROUTE_WEBHOOK, "supplier", "acme-co");
	expect("", "/healthz", ROUTE_HEALTHZ, NULL, NULL);
	expect("", "/", ROUTE_NONE, NULL, NULL);
	expect("", "", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/42", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/42/", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers//webhook", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/42/webhooks", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/42/hook", ROUTE_NONE, NULL, NULL);
	expect("", "/metrics", ROUTE_NONE, NULL, NULL);
	expect("", "/WEBHOOK/github/acme", ROUTE_NONE, NULL, NULL);
	expect("", "/Healthz", ROUTE_NONE, NULL, NULL);
	expect("", "webhook/github/acme", ROUTE_NONE, NULL, NULL);
	expect("", "//webhook/github/acme", ROUTE_NONE, NULL, NULL);
}

static void test_trailing_and_extra(void)
{
	expect("", "/webhook/github/acme/", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/42/webhook/", ROUTE_NONE, NULL, NULL);
	expect("", "/healthz/", ROUTE_NONE, NULL, NULL);
	expect("", "/healthzz", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/acme/extra", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/42/webhook/extra", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/4/2/webhook", ROUTE_NONE, NULL, NULL);
	expect("", "/healthz/x", ROUTE_NONE, NULL, NULL);
}

static void test_empty_and_dots(void)
{
	expect("", "/webhook//acme", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github//acme", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook//", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/./acme", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/../acme", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/.", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/..", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/./webhook", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/../webhook", ROUTE_NONE, NULL, NULL);
	/* dots are fine inside a longer segment */
	expect("", "/webhook/.../a..b", ROUTE_WEBHOOK, "...", "a..b");
	expect("", "/webhook/.x/x.", ROUTE_WEBHOOK, ".x", "x.");
}

static void test_bad_characters(void)
{
	expect("", "/webhook/git%68ub/acme", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/ac%2Fme", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/%2e%2e", ROUTE_NONE, NULL, NULL);
	expect("", "/api/suppliers/4%32/webhook", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/git hub/acme", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/ac+me", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/acme?x=1", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/acme#f", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/ac\\me", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/ac:me", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/ac@me", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/ac\tme", ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/ac\nme", ROUTE_NONE, NULL, NULL);
	expect("",
	       "/webhook/gith\xc3\xbc"
	       "b/acme",
	       ROUTE_NONE, NULL, NULL);
	expect("", "/webhook/github/acme\x7f", ROUTE_NONE, NULL, NULL);
}

static void test_lengths(void)
{
	char s128[129], s129[130], path[400];

	memset(s128, 'a', 128);
	s128[128] = '\0';
	memset(s129, 'b', 129);
	s129[129] = '\0';

	snprintf(path, sizeof path, "/webhook/%s/%s", s128, s128);
	expect("", path, ROUTE_WEBHOOK, s128, s128);
	snprintf(path, sizeof path, "/webhook/%s/acme", s129);
	expect("", path, ROUTE_NONE, NULL, NULL);
	snprintf(path, sizeof path, "/webhook/github/%s", s129);
	expect("", path, ROUTE_NONE, NULL, NULL);
	snprintf(path, sizeof path, "/api/suppliers/%s/webhook", s128);
	expect("", path, ROUTE_WEBHOOK, "supplier", s128);
	snprintf(path, sizeof path, "/api/suppliers/%s/webhook", s129);
	expect("", path, ROUTE_NONE, NULL, NULL);
	snprintf(path, sizeof path, "/webhook/x/y");
	expect("", path, ROUTE_WEBHOOK, "x", "y");
}

static void test_base_path(void)
{
	expect("/hooks", "/hooks/webhook/github/acme", ROUTE_WEBHOOK, "github", "acme");
	expect("/hooks", "/hooks/api/suppliers/7/webhook", ROUTE_WEBHOOK, "supplier", "7");
	expect("/hooks", "/hooks/healthz", ROUTE_HEALTHZ, NULL, NULL);
	expect("/hooks", "/healthz", ROUTE_NONE, NULL, NULL);
	expect("/hooks", "/webhook/github/acme", ROUTE_NONE, NULL, NULL);
	expect("/hooks", "/hookswebhook/github/acme", ROUTE_NONE, NULL, NULL);
	expect("/hooks", "/hooksx/webhook/github/acme", ROUTE_NONE, NULL, NULL);
	expect("/hooks", "/hooks", ROUTE_NONE, NULL, NULL);
	expect("/hooks", "/hooks/", ROUTE_NONE, NULL, NULL);
	expect("/hooks", "/Hooks/webhook/github/acme", ROUTE_NONE, NULL, NULL);
	expect("/hooks", "/other/hooks/webhook/github/acme", ROUTE_NONE, NULL, NULL);
	expect("/a/b", "/a/b/webhook/github/acme", ROUTE_WEBHOOK, "github", "acme");
	expect("/a/b", "/a/b/healthz", ROUTE_HEALTHZ, NULL, NULL);
	expect("/a/b", "/a/webhook/github/acme", ROUTE_NONE, NULL, NULL);
}

static void test_segment_valid(void)
{
	char s128[129], s129[130];

	memset(s128, 'Z', 128);
	s128[128] = '\0';
	memset(s129, '9', 129);
	s129[129] = '\0';
	is_int(router_segment_valid("github"), 1, "segment: github");
	is_int(router_segment_valid("A-z_0.9~"), 1, "segment: every allowed character class");
	is_int(router_segment_valid("a"), 1, "segment: one character");
	is_int(router_segment_valid("..."), 1, "segment: three dots");
	is_int(router_segment_valid(s128), 1, "segment: 128 characters");
	is_int(router_segment_valid(s129), 0, "segment: 129 characters");
	is_int(router_segment_valid(""), 0, "segment: empty");
	is_int(router_segment_valid("."), 0, "segment: .");
	is_int(router_segment_valid(".."), 0, "segment: ..");
	is_int(router_segment_valid("a/b"), 0, "segment: slash");
	is_int(router_segment_valid("a/"), 0, "segment: trailing slash");
	is_int(router_segment_valid("/a"), 0, "segment: leading slash");
	is_int(router_segment_valid("a%20b"), 0, "segment: percent sign");
	is_int(router_segment_valid("a b"), 0, "segment: space");
	is_int(router_segment_valid("a\nb"), 0, "segment: newline");
	is_int(router_segment_valid("caf\xc3\xa9"), 0, "segment: non-ASCII");
	is_int(router_segment_valid("a=b"), 0, "segment: =");
}

/* The path request_from_env derives from REQUEST_URI (or SCRIPT_NAME + PATH_INFO without it). */
static void path_of(const char *uri, const char *script, const char *info, const char *want)
{
	char e1[300], e2[300], e3[300];
	char *env[5] = {"REQUEST_METHOD=POST", NULL, NULL, NULL, NULL};
	struct request r;
	enum outcome o;
	int n = 1;

	if (uri)
		snprintf(e1, sizeof e1, "REQUEST_URI=%s", uri), env[n++] = e1;
	if (script)
		snprintf(e2, sizeof e2, "SCRIPT_NAME=%s", script), env[n++] = e2;
	if (info)
		snprintf(e3, sizeof e3, "PATH_INFO=%s", info), env[n++] = e3;
	o = request_from_env(&r, env);
	is_int(o, OUTCOME_OK, "request from REQUEST_URI=%s SCRIPT_NAME=%s PATH_INFO=%s", uri ? uri : "-",
	       script ? script : "-", info ? info : "-");
	is_str(r.path, want, "  path %s", want);
	request_free(&r);
}

static void test_request_path(void)
{
	path_of("/webhook/ty/555", NULL, NULL, "/webhook/ty/555");
	path_of("/webhook/ty/555?q=1&r=/x", NULL, NULL, "/webhook/ty/555");
	/* absolute form, as Apache passes it on when a proxy sent one */
	path_of("http://127.0.0.1:8080/webhook/ty/555?q=1", NULL, NULL, "/webhook/ty/555");
	path_of("https://hooks.example.com/api/suppliers/42/webhook", NULL, NULL, "/api/suppliers/42/webhook");
	path_of("http://127.0.0.1:8080", NULL, NULL, "/");
	path_of("http://127.0.0.1:8080?x=/webhook/a/b", NULL, NULL, "/");
	/* REQUEST_URI wins over what the web server split off; without it they are joined */
	path_of("/webhook/ty/555", "/cgi-bin/kanca.cgi", NULL, "/webhook/ty/555");
	path_of(NULL, "/webhook", "/ty/555", "/webhook/ty/555");
}

int main(void)
{
	test_request_path();
	test_forms();
	test_trailing_and_extra();
	test_empty_and_dots();
	test_bad_characters();
	test_lengths();
	test_base_path();
	test_segment_valid();
	return done_testing();
}
