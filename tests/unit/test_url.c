/* test_url.c: url.c: destination URLs parsed (host, port, literal addresses in every form inet_aton
 * reads) and refused with a reason that never quotes them (no scheme or another one, no host, spaces,
 * control bytes, ports 0 and above 65535, credentials); the kinds of address (link-local, metadata,
 * unspecified, IPv4 inside IPv6) and the forward_allow_link_local switch; credentials masked for display. */
#include "first.h"
#include "url.h"
#include "caps.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tap.h"

struct good {
	const char *url, *host;
	unsigned port;
	int https, family;
};

static void parses(const struct good *g)
{
	struct url_parts p;
	char why[200] = "";
	int rc = url_parse(g->url, &p, why, sizeof why);

	ok(rc == 0 && strcmp(p.host, g->host) == 0 && p.port == g->port && p.https == g->https && p.family == g->family,
	   "parses %s -> host %s port %u%s (rc %d, host %s, port %u, family %d: %s)", g->url, g->host, g->port,
	   g->family == AF_INET	   ? " IPv4"
	   : g->family == AF_INET6 ? " IPv6"
				   : "",
	   rc, rc == 0 ? p.host : "-", rc == 0 ? p.port : 0, rc == 0 ? p.family : 0, why);
}

/* refused, and the reason contains want and nothing of the URL after its scheme */
static void refused(const char *url, const char *want)
{
	struct url_parts p;
	char why[200] = "";
	int rc = url_parse(url, &p, why, sizeof why);

	ok(rc < 0 && strstr(why, want) != NULL, "refused: \"%s\" (%s)", url, why);
	if (url && strstr(url, "s3cret"))
		ok(!strstr(why, "s3cret"), "the reason does not quote the credentials: %s", why);
}

static int addr_of(int family, const char *text, unsigned char out[16])
{
	if (inet_pton(family, text, out) != 1) {
		ok(0, "test address %s parses", text);
		exit(1);
	}
	return family;
}

static const char *kind_name(enum url_address k)
{
	switch (k) {
	case URL_ADDRESS_OK:
		return "ok";
	case URL_ADDRESS_UNSPECIFIED:
		return "unspecified";
	case URL_ADDRESS_LINK_LOCAL:
		return "link-local";
	case URL_ADDRESS_METADATA:
		return "metadata";
	}
	return "?";
}

static void kinds(void)
{
	static const struct {
		int family;
		const char *text;
		enum url_address want;
	} t[] = {
	    {AF_INET, "0.0.0.0", URL_ADDRESS_UNSPECIFIED},
	    {AF_INET, "0.1.2.3", URL_ADDRESS_UNSPECIFIED},
	    {AF_INET, "127.0.0.1", URL_ADDRESS_OK},
	    {AF_INET, "127.255.0.9", URL_ADDRESS_OK},
	    {AF_INET, "10.0.0.1", URL_ADDRESS_OK},
	    {AF_INET, "192.168.1.1", URL_ADDRESS_OK},
	    {AF_INET, "8.8.8.8", URL_ADDRESS_OK},
	    {AF_INET, "169.254.0.1", URL_ADDRESS_LINK_LOCAL},
	    {AF_INET, "169.254.255.255", URL_ADDRESS_LINK_LOCAL},
	    {AF_INET, "169.254.170.2", URL_ADDRESS_LINK_LOCAL},
	    {AF_INET, "169.254.169.254", URL_ADDRESS_METADATA},
	    {AF_INET, "169.253.255.255", URL_ADDRESS_OK},
	    {AF_INET, "169.255.0.0", URL_ADDRESS_OK},
	    {AF_INET, "100.100.100.200", URL_ADDRESS_METADATA},
	    {AF_INET, "100.100.100.201", URL_ADDRESS_OK},
	    {AF_INET, "100.64.0.1", URL_ADDRESS_OK},
	    {AF_INET6, "::", URL_ADDRESS_UNSPECIFIED},
	    {AF_INET6, "::1", URL_ADDRESS_OK},
	    {AF_INET6, "fe80::1", URL_ADDRESS_LINK_LOCAL},
	    {AF_INET6, "febf:ffff::1", URL_ADDRESS_LINK_LOCAL},
	    {AF_INET6, "fe7f::1", URL_ADDRESS_OK},
	    {AF_INET6, "fec0::1", URL_ADDRESS_OK},
	    {AF_INET6, "fd00:ec2::254", URL_ADDRESS_METADATA},
	    {AF_INET6, "fd00:ec2::253", URL_ADDRESS_OK},
	    {AF_INET6, "fd00:ec2:0:0:0:0:0:254", URL_ADDRESS_METADATA},
	    {AF_INET6, "::ffff:169.254.169.254", URL_ADDRESS_METADATA},
	    {AF_INET6, "::ffff:169.254.1.1", URL_ADDRESS_LINK_LOCAL},
	    {AF_INET6, "::ffff:127.0.0.1", URL_ADDRESS_OK},
	    {AF_INET6, "::ffff:0.0.0.0", URL_ADDRESS_UNSPECIFIED},
	    {AF_INET6, "64:ff9b::a9fe:a9fe", URL_ADDRESS_METADATA},
	    {AF_INET6, "64:ff9b::a9fe:101", URL_ADDRESS_LINK_LOCAL},
	    {AF_INET6, "64:ff9b::7f00:1", URL_ADDRESS_OK},
	    {AF_INET6, "2001:db8::1", URL_ADDRESS_OK},
	};
	unsigned char a[16];

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		enum url_address k = url_address_kind(addr_of(t[i].family, t[i].text, a), a);
		ok(k == t[i].want, "%s is %s (got %s)", t[i].text, kind_name(t[i].want), kind_name(k));
	}
}

static void sockaddrs(void)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr_un un;
	char why[200] = "";

	memset(&v4, 0, sizeof v4);
	v4.sin_family = AF_INET;
	v4.sin_port = htons(80);
	(void)inet_pton(AF_INET, "169.254.169.254", &v4.sin_addr);
	ok(url_address_allowed((struct sockaddr *)&v4, sizeof v4, 0, why, sizeof why) < 0,
	   "sockaddr 169.254.169.254: refused by default");
	ok(strstr(why, "169.254.169.254") && strstr(why, "metadata") && strstr(why, "forward_allow_link_local"),
	   "the reason names the address, what it is and the key that allows it: %s", why);
	ok(url_address_allowed((struct sockaddr *)&v4, sizeof v4, 1, why, sizeof why) == 0,
	   "sockaddr 169.254.169.254: allowed with forward_allow_link_local = yes");
	ok(url_address_allowed((struct sockaddr *)&v4, sizeof v4 - 1, 1, why, sizeof why) < 0,
	   "a sockaddr_in cut short is refused");
	(void)inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
	ok(url_address_allowed((struct sockaddr *)&v4, sizeof v4, 0, why, sizeof why) == 0,
	   "sockaddr 127.0.0.1: allowed (loopback: tests and a local n8n)");
	(void)inet_pton(AF_INET, "0.0.0.0", &v4.sin_addr);
	ok(url_address_allowed((struct sockaddr *)&v4, sizeof v4, 0, why, sizeof why) < 0 && strstr(why, "unspecified"),
	   "sockaddr 0.0.0.0: refused (%s)", why);

	memset(&v6, 0, sizeof v6);
	v6.sin6_family = AF_INET6;
	v6.sin6_port = htons(80);
	(void)inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr);
	v6.sin6_scope_id = 1;
	ok(url_address_allowed((struct sockaddr *)&v6, sizeof v6, 0, why, sizeof why) < 0 && strstr(why, "link-local"),
	   "sockaddr fe80::1%%1: refused (%s)", why);
	ok(url_address_allowed((struct sockaddr *)&v6, sizeof v6, 1, why, sizeof why) == 0,
	   "sockaddr fe80::1%%1: allowed with forward_allow_link_local = yes");
	(void)inet_pton(AF_INET6, "::1", &v6.sin6_addr);
	ok(url_address_allowed((struct sockaddr *)&v6, sizeof v6, 0, why, sizeof why) == 0, "sockaddr ::1: allowed");

	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	ok(url_address_allowed((struct sockaddr *)&un, sizeof un, 1, why, sizeof why) < 0,
	   "a Unix socket address is refused, whatever the setting");
	ok(url_address_allowed(NULL, 0, 1, why, sizeof why) < 0, "no address is refused");
}

static void destinations(void)
{
	static const char *const refused_literal[] = {"http://169.254.169.254/latest/meta-data/",
						      "http://169.254.0.1:8080/",
						      "http://[fd00:ec2::254]/",
						      "http://[FE80::1]/",
						      "http://100.100.100.200/",
						      "http://0.0.0.0:8080/",
						      "http://0/",		     /* inet_aton: 0.0.0.0 */
						      "http://2852039166/",	     /* 169.254.169.254 as one number */
						      "http://0xa9fea9fe/",	     /* ... in hex */
						      "http://0251.0376.0251.0376/", /* ... in octal */
						      "http://169.254.43518/",	     /* ... as a.b.c with c 16 bits */
						      "http://0xA9.0xFE.0xA9.0xFE/",
						      "http://[::ffff:169.254.169.254]/",
						      "http://[::ffff:a9fe:a9fe]/",
						      "http://[64:ff9b::169.254.169.254]/",
						      "http://[::]/",
						      NULL};
	static const char *const fine[] = {
	    "http://127.0.0.1:1/x",
	    "http://localhost:8080/webhook",
	    "https://n8n.example.com/webhook/abc?x=1",
	    "http://[::1]:5678/",
	    "http://10.1.2.3/",
	    "http://metadata.google.internal/", /* a name: checked on what it resolves to */
	    NULL};
	char why[200];

	for (size_t i = 0; refused_literal[i]; i++) {
		why[0] = '\0';
		ok(url_destination_ok(refused_literal[i], 0, why, sizeof why) < 0 &&
		       strstr(why, "forward_allow_link_local"),
		   "destination %s refused by default (%s)", refused_literal[i], why);
		ok(url_destination_ok(refused_literal[i], 1, why, sizeof why) == 0,
		   "destination %s allowed with forward_allow_link_local = yes", refused_literal[i]);
	}
	for (size_t i = 0; fine[i]; i++) {
		why[0] = '\0';
		ok(url_destination_ok(fine[i], 0, why, sizeof why) == 0, "destination %s allowed (%s)", fine[i], why);
	}
	ok(url_destination_ok("http:///etc/passwd", 1, why, sizeof why) < 0,
	   "forward_allow_link_local does not let a bad URL through");
}

static void redact(const char *url, const char *want)
{
	char out[256];

	url_redact(url, out, sizeof out);
	ok(strcmp(out, want) == 0, "shown: \"%s\" as \"%s\" (got \"%s\")", url ? url : "(null)", want, out);
}

int main(void)
{
	static const struct good good[] = {
	    {"http://127.0.0.1:8080/x", "127.0.0.1", 8080, 0, AF_INET},
	    {"https://Example.COM/path?q=1#frag", "example.com", 443, 1, 0},
	    {"HTTP://a", "a", 80, 0, 0},
	    {"http://a?x=y", "a", 80, 0, 0},
	    {"http://a#f", "a", 80, 0, 0},
	    {"http://a:1", "a", 1, 0, 0},
	    {"http://a:65535/", "a", 65535, 0, 0},
	    {"http://a:00080/", "a", 80, 0, 0},
	    {"http://[::1]:5678/hook", "::1", 5678, 0, AF_INET6},
	    {"https://[2001:DB8::1]/", "2001:db8::1", 443, 1, AF_INET6},
	    {"http://host_name.local/p@th", "host_name.local", 80, 0, 0},
	    {"http://xn--caf-dma.example/", "xn--caf-dma.example", 80, 0, 0},
	    {"http://3dprinter:8080/", "3dprinter", 8080, 0, 0},
	    {"http://example.com./", "example.com.", 80, 0, 0},
	    {"http://localhost/", "localhost", 80, 0, 0},
	    {"http://0x1g/", "0x1g", 80, 0, 0}, /* not a number: a name */
	    {"http://0x7f.1/", "0x7f.1", 80, 0, AF_INET},
	};
	char longurl[KANCA_URL_MAX + 2], longhost[300], why[200];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		parses(&good[i]);

	refused("", "empty");
	refused(NULL, "empty");
	refused("http:///etc/passwd", "no host");
	refused("http://", "no host");
	refused("http://?x", "no host");
	refused("http://:80/", "no host");
	refused("http:/x", "not absolute");
	refused("//host/x", "not absolute");
	refused("127.0.0.1:1/x", "not absolute");
	refused("localhost:8080", "not absolute");
	refused("ftp://example.com/", "scheme");
	refused("file:///etc/passwd", "scheme");
	refused("gopher://127.0.0.1:70/", "scheme");
	refused("javascript:alert(1)", "not absolute");
	refused("http://a b/", "space");
	refused("http://a/b c", "space");
	refused(" http://a/", "space");
	refused("http://a/\t", "space");
	refused("http://a/\r\nX-Evil: 1", "control");
	refused("http://a/\x7f", "non-ASCII");
	refused("http://caf\xc3\xa9.example/", "non-ASCII");
	refused("http://a:0/", "port");
	refused("http://a:99999/", "port");
	refused("http://a:65536/", "port");
	refused("http://a:123456/", "port");
	refused("http://a:/", "port");
	refused("http://a:-1/", "port");
	refused("http://a:8a/", "port");
	refused("http://[::1]:0/", "port");
	refused("http://user:s3cret@example.com/", "credentials");
	refused("http://s3cret@example.com/", "credentials");
	refused("http://:s3cret@example.com/", "credentials");
	refused("https://a@b@example.com:8443/", "credentials");
	refused("http://example.com:80@s3cret.example/", "credentials");
	refused("http://[::1/", "closing ]");
	refused("http://[::1]x/", "after its IPv6");
	refused("http://[fe80::1%25eth0]/", "zone");
	refused("http://[zz::1]/", "not one");
	refused("http://[]/", "not one");
	refused("http://[1.2.3.4]/", "not one");
	refused("http://::1/", "outside [brackets]");
	refused("http://a:1:2/", "outside [brackets]");
	refused("http://a..b/", "empty label");
	refused("http://.a/", "empty label");
	refused("http://a%2eb/", "letters, digits");
	refused("http://a\\@b/", "credentials");
	refused("http://a\\b/", "letters, digits");
	refused("http://a!b/", "letters, digits");
	refused("http://999.1.1.1/", "not an IPv4");
	refused("http://1.2.3.4.5/", "not an IPv4");
	refused("http://example.123/", "not an IPv4");
	memset(longurl, 'a', sizeof longurl - 1);
	memcpy(longurl, "http://a/", 9);
	longurl[sizeof longurl - 1] = '\0';
	refused(longurl, "longer than");
	longurl[KANCA_URL_MAX] = '\0';
	ok(url_parse(longurl, &(struct url_parts){0}, why, sizeof why) == 0, "a URL of exactly %d bytes parses",
	   KANCA_URL_MAX);
	memset(longhost, 'h', sizeof longhost - 1);
	memcpy(longhost, "http://", 7);
	longhost[7 + 254] = '\0';
	refused(longhost, "longer than 253");
	longhost[7 + 253] = '\0';
	ok(url_parse(longhost, &(struct url_parts){0}, why, sizeof why) == 0, "a host of 253 characters parses");

	kinds();
	sockaddrs();
	destinations();

	redact("http://user:pass@example.com/x", "http://***@example.com/x");
	redact("https://a@b@example.com:8443/p?q", "https://***@example.com:8443/p?q");
	redact("http://example.com/users/@me", "http://example.com/users/@me");
	redact("http://example.com?a@b", "http://example.com?a@b");
	redact("http://127.0.0.1:9/", "http://127.0.0.1:9/");
	redact("/usr/local/bin/handler", "/usr/local/bin/handler");
	redact(NULL, "");
	{
		char small[12];
		url_redact("http://user:password@example.com/", small, sizeof small);
		ok(strlen(small) == sizeof small - 1 && !strstr(small, "pass"),
		   "a short buffer: cut, still without the password (\"%s\")", small);
	}
	return done_testing();
}
