/* doctor_fixes.c: what to change, as data, the texts kancactl doctor's findings end with: in each web server
 * (one row per server kind), for the store's and the spool's files (the chown/chmod commands), and for a store
 * that cannot take a write (one row per cause). */
#include "first.h"
#include "ctl/doctor_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The body limit's text is in pieces: the number (twice max_body_bytes, in the row's unit) goes between
 * them. */
struct fixes {
	enum server_kind kind;
	const char *banner; /* how its Server header begins */
	const char *route;
	const char *authorization;
	int limit_kib; /* the body limit's number in KiB (rounded up) rather than bytes */
	const char *limit[4];
};

static const char apache_auth[] =
    "Apache does not pass Authorization to FastCGI or CGI programs unless told to: CGIPassAuth On in kanca's "
    "<LocationMatch> (or in .htaccess, which needs AllowOverride AuthConfig); with mod_fcgid, FcgidPassHeader "
    "Authorization (server or vhost) works too; on hosts without AuthConfig: SetEnvIf Authorization \"(.+)\" "
    "HTTP_AUTHORIZATION=$1. A proxy in front may strip it too";
static const char other_auth[] = "the web server or a proxy in front of it drops the Authorization header on the way "
				 "to kanca";

/* clang-format off: a table */
static const struct fixes table[] = {
    {SERVER_APACHE,
     "apache",
     "Apache: kanca's routes ^/(webhook/|api/suppliers/|healthz$) must reach kanca: the AliasMatch + SetHandler "
     "fcgid-script of the mod_fcgid config, the ProxyPassMatch of the mod_proxy_fcgi config, or the .htaccess "
     "RewriteRule to cgi-bin/kanca.cgi (shared hosting; needs mod_rewrite and AllowOverride FileInfo); with "
     "base_path, the prefix in front of them",
     apache_auth,
     0,
     {"Apache with mod_fcgid: FcgidMaxRequestLen ",
      " (twice max_body_bytes; mod_fcgid's default is 131072, 128 KiB, which breaks every larger delivery); with "
      "mod_proxy_fcgi or CGI: LimitRequestBody ",
      " (never LimitRequestBody with mod_fcgid: it then hands kanca an empty body); a proxy in front has its own "
      "limit",
      NULL}},
    {SERVER_LIGHTTPD,
     "lighttpd",
     "lighttpd: the $HTTP[\"url\"] =~ \"^/(webhook/|api/|healthz$)\" condition around fastcgi.server (or "
     "cgi.assign) must match kanca's paths, base_path included",
     other_auth,
     1,
     {"lighttpd: server.max-request-size = ", " (KiB: twice max_body_bytes); a proxy in front has its own limit", NULL,
      NULL}},
    {SERVER_NGINX,
     "nginx",
     "nginx: a location for /webhook/, /api/suppliers/ and /healthz with fastcgi_pass to kanca",
     other_auth,
     1,
     {"nginx: client_max_body_size ", "k (twice max_body_bytes)", NULL, NULL}},
    {SERVER_UNKNOWN,
     NULL,
     "the web server must pass /webhook/..., /api/suppliers/.../webhook and /healthz (behind base_path) to kanca: "
     "Apache AliasMatch/ProxyPassMatch/RewriteRule, lighttpd $HTTP[\"url\"] around fastcgi.server",
     apache_auth,
     0,
     {"raise the limit to twice max_body_bytes (",
      " bytes): Apache with mod_fcgid: FcgidMaxRequestLen (default 131072, 128 KiB); Apache otherwise: "
      "LimitRequestBody; lighttpd: server.max-request-size (KiB); nginx: client_max_body_size; a proxy in front "
      "has its own limit",
      NULL, NULL}},
};
/* clang-format on */

static const struct fixes *row(enum server_kind k)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].kind == k)
			return &table[i];
	return &table[sizeof table / sizeof table[0] - 1];
}

enum server_kind doctor_server_of(const char *s)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].banner && strncasecmp(s, table[i].banner, strlen(table[i].banner)) == 0)
			return table[i].kind;
	return SERVER_UNKNOWN;
}

const char *doctor_fix_body_limit(enum server_kind k, size_t max, char *out, size_t cap)
{
	const struct fixes *f = row(k);
	unsigned long long twice = 2ULL * max, n = f->limit_kib ? twice / 1024 + 1 : twice;
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < 4 && f->limit[i] && o < cap; i++) {
		int w = snprintf(out + o, cap - o, "%s", f->limit[i]);
		if (w < 0)
			break;
		o += (size_t)w;
		if (i + 1 < 4 && f->limit[i + 1] && o < cap) {
			w = snprintf(out + o, cap - o, "%llu", n);
			if (w < 0)
				break;
			o += (size_t)w;
		}
	}
	return out;
}

const char *doctor_fix_route(enum server_kind k)
{
	return row(k)->route;
}

const char *doctor_fix_authorization(enum server_kind k)
{
	return row(k)->authorization;
}

/* ---- the store and the spool on this host ---- */

/* Who kanca runs as in each shipped setup (doc/operations.md, "Running behind a web server"). */
static const char *const runs_as[] = {
    "www-data (Debian) under Apache mod_fcgid and lighttpd bin-path or CGI: the web server's User or "
    "server.username",
    "User= of systemd/kanca-fcgi.service (kanca) under spawn-fcgi/systemd, for mod_proxy_fcgi or lighttpd",
    "your own account under shared-hosting CGI (suEXEC)",
};

const char *doctor_fix_user(char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof runs_as / sizeof runs_as[0] && o < cap; i++) {
		int w = snprintf(out + o, cap - o, "%s%s", i ? "; " : "the user kanca runs as: ", runs_as[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return out;
}

const char *doctor_fix_writable(enum fix_write how, const char *path, int is_dir, const char *user, const char *mount,
				char *out, size_t cap)
{
	const char *bits = is_dir ? "u+rwx" : "u+rw";

	switch (how) {
	case FIX_WRITE_CHMOD:
		snprintf(out, cap, "chmod %s %s", bits, path);
		break;
	case FIX_WRITE_CHOWN:
		snprintf(out, cap, "chown %s: %s && chmod %s %s", user, path, bits, path);
		break;
	case FIX_WRITE_CREATE:
		snprintf(out, cap, "install -d -m 0700 -o %s %s", user, path);
		break;
	case FIX_WRITE_REMOUNT:
	default:
		snprintf(out, cap,
			 "%s is on a file system mounted read-only: mount -o remount,rw %s, or move it to a "
			 "writable one",
			 path, mount && *mount ? mount : "MOUNTPOINT");
		break;
	}
	return out;
}

/* What to do when the store cannot take a write, per cause and backend. */
struct write_fix {
	enum store_failure failure;
	const char *sqlite, *pg;
};

/* clang-format off: a table */
static const struct write_fix write_fixes[] = {
    {STORE_FAIL_READONLY,
     "make the SQLite file, its directory and its -wal and -shm files writable by the user kanca runs as (the store "
     "files lines name them); a read-only mount: remount it read-write",
     "the connection is read-only (a standby, or default_transaction_read_only): point store = at the primary, or "
     "ALTER DATABASE ... SET default_transaction_read_only = off"},
    {STORE_FAIL_FULL, "free space on the file system of the SQLite file (df), or move the store",
     "free space on PostgreSQL's disk (its log says which file system)"},
    {STORE_FAIL_LOCKED,
     "another process holds SQLite's write lock beyond answer_deadline (a long kancactl purge, a sqlite3 shell inside "
     "BEGIN): fuser -v on the SQLite file names it",
     "another session holds the lock: pg_stat_activity (wait_event_type Lock) shows who"},
    {STORE_FAIL_TIMEOUT,
     "the SQLite file's disk did not answer within answer_deadline (an overloaded or network file system)",
     "PostgreSQL did not answer within answer_deadline: check its load and the network to it"},
    {STORE_FAIL_DOWN, "check the path of the SQLite file and its directory",
     "start PostgreSQL or correct store = in the configuration (host, port, user, database, password)"},
    {STORE_FAIL_OTHER, "the error above says why; kanca's log has it too",
     "the error above says why; PostgreSQL's log has it too"},
};
/* clang-format on */

const char *doctor_fix_store_write(enum store_failure f, int sqlite)
{
	size_t n = sizeof write_fixes / sizeof write_fixes[0], i;

	for (i = 0; i < n - 1; i++)
		if (write_fixes[i].failure == f)
			break;
	return sqlite ? write_fixes[i].sqlite : write_fixes[i].pg;
}
