/* url.c: a destination URL parsed and checked, and the kinds of address a destination may not have. */
#include "first.h"
#include "url.h"
#include "caps.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int fail(char *why, size_t whysz, const char *text)
{
	snprintf(why, whysz, "%s", text);
	return -1;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A host name's bytes: letters, digits, '-', '.', '_' (no percent-encoding, no IDN but punycode). */
static int is_name_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* Whether the name's last label is a number (all digits, or 0x and hex digits): the name is then an
 * IPv4 address in one of the forms inet_aton reads (and libcurl and the resolver with it), never a
 * name to look up. A trailing dot does not count as a label. */
static int ends_in_number(const char *h, size_t n)
{
	size_t start;

	if (n && h[n - 1] == '.')
		n--;
	start = n;
	while (start && h[start - 1] != '.')
		start--;
	if (start == n)
		return 0;
	if (n - start > 2 && h[start] == '0' && (h[start + 1] == 'x' || h[start + 1] == 'X')) {
		for (size_t i = start + 2; i < n; i++)
			if (!is_hex((unsigned char)h[i]))
				return 0;
		return 1;
	}
	for (size_t i = start; i < n; i++)
		if (!is_digit((unsigned char)h[i]))
			return 0;
	return 1;
}

/* host[:port] of a URL without brackets: fills out->host, ->family, ->addr; *port_at = where the port
 * text starts (after ':'), or NULL. */
static int parse_name(const char *a, size_t n, struct url_parts *out, const char **port_at, char *why, size_t whysz)
{
	const char *colon = memchr(a, ':', n);
	size_t hlen = colon ? (size_t)(colon - a) : n;
	struct in_addr v4;

	if (colon && memchr(colon + 1, ':', n - hlen - 1))
		return fail(why, whysz, "URL has an IPv6 address outside [brackets], or two ports");
	if (hlen == 0)
		return fail(why, whysz, "URL has no host");
	if (hlen > URL_HOST_MAX)
		return fail(why, whysz, "URL host is longer than 253 characters");
	for (size_t i = 0; i < hlen; i++) {
		if (!is_name_char((unsigned char)a[i]))
			return fail(why, whysz,
				    "URL host may only have letters, digits, '-', '.' and '_' (an international name "
				    "in punycode, an IPv6 address in [brackets])");
		if (a[i] == '.' && (i == 0 || a[i - 1] == '.'))
			return fail(why, whysz, "URL host has an empty label (\"..\" or a leading dot)");
	}
	for (size_t i = 0; i < hlen; i++)
		out->host[i] = (char)((a[i] >= 'A' && a[i] <= 'Z') ? a[i] - 'A' + 'a' : a[i]);
	out->host[hlen] = '\0';
	if (ends_in_number(out->host, hlen)) {
		if (!inet_aton(out->host, &v4))
			return fail(why, whysz, "URL host ends in a number but is not an IPv4 address");
		out->family = AF_INET;
		memcpy(out->addr, &v4, 4);
	}
	*port_at = colon ? colon + 1 : NULL;
	return 0;
}

/* [IPv6][:port] */
static int parse_bracketed(const char *a, size_t n, struct url_parts *out, const char **port_at, char *why,
			   size_t whysz)
{
	const char *close = memchr(a, ']', n);
	size_t hlen = close ? (size_t)(close - a - 1) : 0;

	if (!close)
		return fail(why, whysz, "URL has an IPv6 address without its closing ]");
	if (memchr(a + 1, '%', hlen))
		return fail(why, whysz, "URL has an IPv6 address with a zone (%...), which a destination cannot use");
	if (hlen == 0 || hlen >= INET6_ADDRSTRLEN)
		return fail(why, whysz, "URL has an IPv6 address in brackets that is not one");
	memcpy(out->host, a + 1, hlen);
	out->host[hlen] = '\0';
	for (size_t i = 0; i < hlen; i++)
		if (out->host[i] >= 'A' && out->host[i] <= 'F')
			out->host[i] = (char)(out->host[i] - 'A' + 'a');
	if (inet_pton(AF_INET6, out->host, out->addr) != 1)
		return fail(why, whysz, "URL has an IPv6 address in brackets that is not one");
	out->family = AF_INET6;
	if ((size_t)(close + 1 - a) < n && close[1] != ':')
		return fail(why, whysz, "URL has something other than :port after its IPv6 address");
	*port_at = (size_t)(close + 1 - a) < n ? close + 2 : NULL;
	return 0;
}

int url_parse(const char *url, struct url_parts *out, char *why, size_t whysz)
{
	const char *a, *port_at = NULL;
	size_t n, skip, alen;
	int rc;

	memset(out, 0, sizeof *out);
	if (!url || !*url)
		return fail(why, whysz, "URL is empty");
	n = strlen(url);
	if (n > KANCA_URL_MAX) {
		snprintf(why, whysz, "URL is longer than %d bytes", KANCA_URL_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return fail(why, whysz, "URL contains a space, control or non-ASCII byte");
	if (strncasecmp(url, "https://", 8) == 0) {
		out->https = 1;
		skip = 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		skip = 7;
	} else {
		size_t s = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
		if (s && is_alpha((unsigned char)url[0]) && url[s] == ':' && strncmp(url + s, "://", 3) == 0)
			return fail(why, whysz, "URL scheme is not http or https");
		return fail(why, whysz, "URL is not absolute: it must start with http:// or https:// and a host");
	}
	a = url + skip;
	alen = strcspn(a, "/?#");
	out->authority = skip;
	out->authority_len = alen;
	if (memchr(a, '@', alen))
		return fail(why, whysz,
			    "URL carries credentials (user:password@), which kanca does not keep in a URL: send them "
			    "in a header (--header 'Authorization: ...')");
	if (alen == 0)
		return fail(why, whysz, "URL has no host (http:///path is not a destination)");
	rc = a[0] == '[' ? parse_bracketed(a, alen, out, &port_at, why, whysz)
			 : parse_name(a, alen, out, &port_at, why, whysz);
	if (rc < 0)
		return -1;
	if (port_at) {
		size_t plen = alen - (size_t)(port_at - a);
		unsigned long p = 0;

		if (plen == 0 || plen > 5)
			return fail(why, whysz, "URL port must be a number from 1 to 65535");
		for (size_t i = 0; i < plen; i++) {
			if (!is_digit((unsigned char)port_at[i]))
				return fail(why, whysz, "URL port must be a number from 1 to 65535");
			p = p * 10 + (unsigned long)(port_at[i] - '0');
		}
		if (p < 1 || p > 65535)
			return fail(why, whysz, "URL port must be a number from 1 to 65535");
		out->port = (unsigned)p;
	} else {
		out->port = out->https ? 443 : 80;
	}
	return 0;
}

static enum url_address kind_v4(const unsigned char *a)
{
	if (a[0] == 0)
		return URL_ADDRESS_UNSPECIFIED;
	if ((a[0] == 169 && a[1] == 254 && a[2] == 169 && a[3] == 254) ||
	    (a[0] == 100 && a[1] == 100 && a[2] == 100 && a[3] == 200))
		return URL_ADDRESS_METADATA;
	if (a[0] == 169 && a[1] == 254)
		return URL_ADDRESS_LINK_LOCAL;
	return URL_ADDRESS_OK;
}

enum url_address url_address_kind(int family, const void *addr)
{
	static const unsigned char zero[16], mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
					     nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0},
					     aws[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
	const unsigned char *a = addr;

	if (family == AF_INET)
		return kind_v4(a);
	if (family != AF_INET6)
		return URL_ADDRESS_OK;
	if (memcmp(a, zero, 16) == 0)
		return URL_ADDRESS_UNSPECIFIED;
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return kind_v4(a + 12);
	if (memcmp(a, aws, 16) == 0)
		return URL_ADDRESS_METADATA;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return URL_ADDRESS_LINK_LOCAL;
	return URL_ADDRESS_OK;
}

/* 0, or -1 with the reason naming the address */
static int address_allowed(int family, const void *addr, int allow_link_local, char *why, size_t whysz)
{
	enum url_address k = url_address_kind(family, addr);
	char text[INET6_ADDRSTRLEN];
	const char *what;

	if (k == URL_ADDRESS_OK || allow_link_local)
		return 0;
	if (!inet_ntop(family, addr, text, sizeof text))
		snprintf(text, sizeof text, "the address");
	what = k == URL_ADDRESS_METADATA     ? "a cloud metadata service address"
	       : k == URL_ADDRESS_LINK_LOCAL ? "a link-local address"
					     : "the unspecified address (this host)";
	snprintf(why, whysz, "%s is %s, refused as a destination unless forward_allow_link_local = yes", text, what);
	return -1;
}

int url_address_allowed(const struct sockaddr *sa, size_t len, int allow_link_local, char *why, size_t whysz)
{
	if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return address_allowed(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				       allow_link_local, why, whysz);
	if (sa && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return address_allowed(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				       allow_link_local, why, whysz);
	return fail(why, whysz, "the destination is not an IPv4 or IPv6 address");
}

int url_destination_ok(const char *url, int allow_link_local, char *why, size_t whysz)
{
	struct url_parts p;

	if (url_parse(url, &p, why, whysz) < 0)
		return -1;
	if (p.family && address_allowed(p.family, p.addr, allow_link_local, why, whysz) < 0)
		return -1;
	return 0;
}

void url_redact(const char *url, char *out, size_t outsz)
{
	const char *start, *at = NULL;
	size_t alen;

	if (!outsz)
		return;
	start = url ? strstr(url, "://") : NULL;
	if (start) {
		start += 3;
		alen = strcspn(start, "/?#");
		for (size_t i = 0; i < alen; i++)
			if (start[i] == '@')
				at = start + i;
	}
	if (at)
		snprintf(out, outsz, "%.*s***%s", (int)(start - url), url, at);
	else
		snprintf(out, outsz, "%s", url ? url : "");
}
