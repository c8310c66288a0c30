/* url.h: a destination URL parsed and checked, the one rule kancactl source action add and the forwarder
 * (process/forward.c) both apply, and the addresses a destination may not have. No I/O and no resolver:
 * a host name is checked on the addresses it resolves to, when the connection is opened (forward.c hands
 * url_address_allowed to http_client.c, which calls it before every connect).
 *
 * A destination URL is http:// or https://, a host (a name of letters, digits, '-', '.' and '_', an IPv4
 * address, or an IPv6 address in brackets), an optional port from 1 to 65535, and any path and query;
 * at most KANCA_URL_MAX bytes of visible ASCII (no space, control or non-ASCII byte: an IDN host is
 * written in punycode). Credentials in the URL (user:pass@host) are refused: a URL is shown by kancactl
 * and could end up in logs, a header is not (--header 'Authorization: ...' carries them instead). */
#ifndef KANCA_URL_H
#define KANCA_URL_H

#include "first.h"

#include <stddef.h>

struct sockaddr;

#define URL_HOST_MAX 253 /* a DNS name's longest text form */

struct url_parts {
	int https;			 /* 1: https://, 0: http:// */
	char host[URL_HOST_MAX + 1];	 /* lowercase; an IPv6 address without its brackets */
	unsigned port;			 /* as written, else 80 or 443 */
	int family;			 /* AF_INET or AF_INET6 when host is an address, else 0 */
	unsigned char addr[16];		 /* that address, network order (4 or 16 bytes) */
	size_t authority, authority_len; /* where "host[:port]" is in the URL */
};

/* Parses url; 0, or -1 with the reason in why (which never quotes the URL: it may hold a secret). */
int url_parse(const char *url, struct url_parts *out, char *why, size_t whysz) KANCA_MUST_CHECK;

enum url_address {
	URL_ADDRESS_OK = 0,
	URL_ADDRESS_UNSPECIFIED, /* 0.0.0.0/8, ::: "this host", which a connect reaches as loopback */
	URL_ADDRESS_LINK_LOCAL,	 /* 169.254.0.0/16, fe80::/10 */
	URL_ADDRESS_METADATA	 /* a cloud's instance metadata service: 169.254.169.254 (AWS, Google, Azure,
				  * OpenStack, DigitalOcean, Oracle), fd00:ec2::254 (AWS over IPv6),
				  * 100.100.100.200 (Alibaba Cloud) */
};

/* What kind of address addr is: family AF_INET (4 bytes) or AF_INET6 (16 bytes). An IPv4-mapped
 * (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address is the IPv4 address it carries. Loopback
 * and private addresses are URL_ADDRESS_OK. */
enum url_address url_address_kind(int family, const void *addr);

/* 0 when a destination may be at sa (len bytes; AF_INET or AF_INET6): any kind when allow_link_local
 * (forward_allow_link_local = yes), else only URL_ADDRESS_OK. Else -1 with the reason, which names the
 * address and the key that allows it. Other families are refused. */
int url_address_allowed(const struct sockaddr *sa, size_t len, int allow_link_local, char *why,
			size_t whysz) KANCA_MUST_CHECK;

/* The destination check: url_parse, and a host that is an address must pass url_address_allowed.
 * 0, or -1 with the reason in why (never quoting the URL). */
int url_destination_ok(const char *url, int allow_link_local, char *why, size_t whysz) KANCA_MUST_CHECK;

/* url for display: the userinfo of its authority (what precedes an '@' there), if any, becomes "***";
 * cut to outsz - 1 bytes. A URL that was refused can be shown this way. */
void url_redact(const char *url, char *out, size_t outsz);

#endif
