/* http_client.c: one HTTP exchange on libcurl, the only user of libcurl in kanca. */
#include "first.h"
#include "http_client.h"
#include "caps.h"
#include "dynlib.h"
#include "log.h"
#include "wipe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CURL_DISABLE_TYPECHECK /* curl_easy_setopt is called through a pointer (dynlib.h) */
#include <curl/curl.h>

/* libcurl, loaded by the first exchange or check of a process (dynlib.h) */
#define CURL_FUNCTIONS(X)                                                                                              \
	X(curl_easy_cleanup)                                                                                           \
	X(curl_easy_getinfo)                                                                                           \
	X(curl_easy_init)                                                                                              \
	X(curl_easy_perform)                                                                                           \
	X(curl_easy_setopt)                                                                                            \
	X(curl_easy_strerror)                                                                                          \
	X(curl_free)                                                                                                   \
	X(curl_getdate)                                                                                                \
	X(curl_global_cleanup)                                                                                         \
	X(curl_global_init)                                                                                            \
	X(curl_share_cleanup)                                                                                          \
	X(curl_share_init)                                                                                             \
	X(curl_share_setopt)                                                                                           \
	X(curl_slist_append)                                                                                           \
	X(curl_slist_free_all)                                                                                         \
	X(curl_url)                                                                                                    \
	X(curl_url_cleanup)                                                                                            \
	X(curl_url_get)                                                                                                \
	X(curl_url_set)

static struct {
#define CURL_MEMBER(f) __typeof__(f) *f;
	CURL_FUNCTIONS(CURL_MEMBER)
#undef CURL_MEMBER
} cu;

static char load_error[256];

/* 0 once libcurl is loaded, else -1 (load_error says why; every later call gets the same answer). */
static int load_libcurl(void)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
#define CURL_SYMBOL(f) {#f, (void **)&cu.f},
	static const struct dynlib_symbol syms[] = {CURL_FUNCTIONS(CURL_SYMBOL)};
#undef CURL_SYMBOL

	if (state == 0)
		state =
		    dynlib_load("libcurl.so.4", syms, sizeof syms / sizeof syms[0], load_error, sizeof load_error) == 0
			? 1
			: -1;
	return state > 0 ? 0 : -1;
}

#define RETRY_AFTER_LIMIT 1000000000L /* delta-seconds beyond this are clamped (no overflow) */

static int initialised;

/* The kept-alive connections, resolved names and TLS sessions of the exchanges that ask for reuse,
 * shared by the threads of this process. A process forked after they were made must not speak on its
 * parent's connections: it makes its own share (the parent's is left alone, never cleaned up here). */
static CURLSH *share;
static pid_t share_pid;
static pthread_mutex_t share_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *arg)
{
	(void)c;
	(void)access;
	(void)arg;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *arg)
{
	(void)c;
	(void)arg;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&share_locks[data]);
}

/* This process's share, made on first use; NULL when libcurl cannot make one (no reuse then). */
static CURLSH *reuse_share(void)
{
	CURLSH *sh;

	pthread_mutex_lock(&share_mu);
	if (!share || share_pid != getpid()) {
		share = NULL;
		for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
			pthread_mutex_init(&share_locks[i], NULL);
		if ((sh = cu.curl_share_init()) &&
		    (cu.curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
		     cu.curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
		     cu.curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
		     cu.curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
		     cu.curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)) {
			cu.curl_share_cleanup(sh);
			sh = NULL;
		}
		share = sh;
		share_pid = getpid();
	}
	sh = share;
	pthread_mutex_unlock(&share_mu);
	return sh;
}

int http_client_init(void)
{
	if (initialised)
		return 0;
	if (load_libcurl() < 0) {
		log_error("libcurl cannot be loaded (Debian: apt-get install libcurl4): %s", load_error);
		return -1;
	}
	if (cu.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	initialised = 1;
	return 0;
}

void http_client_cleanup(void)
{
	if (!initialised)
		return;
	if (share && share_pid == getpid() && cu.curl_share_cleanup(share) == CURLSHE_OK)
		share = NULL;
	cu.curl_global_cleanup();
	initialised = 0;
}

int http_client_url_ok(const char *url, char *why, size_t whysz)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
	int rc = -1;

	if (!url || !*url || strlen(url) > KANCA_URL_MAX) {
		snprintf(why, whysz, "URL missing or longer than %d bytes", KANCA_URL_MAX);
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
	if (load_libcurl() < 0) {
		snprintf(why, whysz, "libcurl cannot be loaded: %.150s", load_error);
		return -1;
	}
	u = cu.curl_url();
	if (!u) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	if (cu.curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    cu.curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || cu.curl_url_get(u, CURLUPART_HOST, &host, 0) || !host ||
	    !*host)
		snprintf(why, whysz, "URL is not an absolute URL with a host");
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		snprintf(why, whysz, "URL scheme is not http or https");
	else if (cu.curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
		 cu.curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
		snprintf(why, whysz, "URL carries credentials (user:password@)");
	else
		rc = 0;
	cu.curl_free(scheme);
	cu.curl_free(host);
	if (user)
		wipe_bytes(user, strlen(user));
	if (password)
		wipe_bytes(password, strlen(password));
	cu.curl_free(user);
	cu.curl_free(password);
	cu.curl_url_cleanup(u);
	return rc;
}

void http_answer_init(struct http_answer *a, size_t keep)
{
	memset(a, 0, sizeof *a);
	a->retry_after = -1;
	buf_init(&a->body, keep);
}

void http_answer_free(struct http_answer *a)
{
	buf_free(&a->body);
}

/* ---- the transfer ---- */

struct transfer {
	struct http_answer *a;
	size_t read_max; /* 0: no limit */
	size_t received; /* answer body bytes seen */
	int capped;	 /* we hung up at read_max */
	long long date_base;
	const struct http_address_check *check;
	int addr_refused, addr_allowed; /* addresses the check refused and let through */
	char addr_why[sizeof((struct http_answer *)0)->error];
};

/* Retry-After = HTTP-date / delay-seconds (RFC 9110 10.2.3). Only values starting with a digit (delta)
 * or a letter (every HTTP-date form starts with a day name) are considered. */
static long retry_after_parse(const char *v, size_t n, long long base)
{
	char text[KANCA_RETRY_AFTER_TEXT + 1];
	long long secs = 0;
	time_t t;
	size_t i;

	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if (n == 0 || n > KANCA_RETRY_AFTER_TEXT)
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
	t = cu.curl_getdate(text, NULL);
	if (t == (time_t)-1)
		return -1;
	secs = (long long)t - base;
	if (secs < 0)
		return 0;
	return secs > RETRY_AFTER_LIMIT ? RETRY_AFTER_LIMIT : (long)secs;
}

/* The value of a header line (after "name:", name lowercase with its colon) when line is that header;
 * NULL otherwise. *vlen = its length with surrounding white space and the line end removed. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);

	if (len < n || strncasecmp(line, name, n) != 0)
		return NULL;
	line += n;
	len -= n;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*vlen = len;
	return line;
}

/* Copies a header value for display: control bytes become '?', cut to cap - 1. */
static void copy_shown(char *out, size_t cap, const char *v, size_t n)
{
	size_t k = n < cap - 1 ? n : cap - 1;

	for (size_t i = 0; i < k; i++)
		out[i] = (unsigned char)v[i] < 0x20 ? '?' : v[i];
	out[k] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n, vlen;
	const char *v;

	/* a new status line starts a new head (after a 1xx): forget the previous one's headers */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		t->a->retry_after = -1;
		t->a->server[0] = '\0';
		t->a->location[0] = '\0';
	} else if ((v = header_value(p, len, "retry-after:", &vlen))) {
		t->a->retry_after = retry_after_parse(v, vlen, t->date_base);
	} else if ((v = header_value(p, len, "server:", &vlen))) {
		copy_shown(t->a->server, sizeof t->a->server, v, vlen);
	} else if ((v = header_value(p, len, "location:", &vlen))) {
		copy_shown(t->a->location, sizeof t->a->location, v, vlen);
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n, room = t->a->body.max - t->a->body.len;

	if (t->read_max && len > t->read_max - t->received) {
		t->capped = 1;
		return 0; /* CURLE_WRITE_ERROR: hang up instead of reading the rest */
	}
	t->received += len;
	if (room)
		(void)!buf_append(&t->a->body, p, len < room ? len : room);
	return len;
}

/* Opens the socket of every connection: the address check sees the address first (the resolved one,
 * which is where the connection goes: a name cannot get past it by resolving somewhere else). */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *sa)
{
	struct transfer *t = arg;
	int fd;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (t->check && t->check->ok(&sa->addr, sa->addrlen, t->check->arg, t->addr_why, sizeof t->addr_why) < 0) {
		t->addr_refused++;
		return CURL_SOCKET_BAD;
	}
	t->addr_allowed++;
#ifdef SOCK_CLOEXEC
	fd = socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
#else
	fd = socket(sa->family, sa->socktype, sa->protocol);
#endif
	return fd < 0 ? CURL_SOCKET_BAD : (curl_socket_t)fd;
}

/* The request's header lines as libcurl's list, with "Expect:" (no 100-continue round trip: the body
 * goes at once). NULL when memory ran out. */
static struct curl_slist *header_list(const struct buf *lines)
{
	struct curl_slist *list = NULL, *l;
	const char *p = lines ? buf_str(lines) : "";

	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n) {
			char *line = malloc(n + 1);
			if (!line)
				goto fail;
			memcpy(line, p, n);
			line[n] = '\0';
			l = cu.curl_slist_append(list, line);
			wipe_bytes(line, n);
			free(line);
			if (!l)
				goto fail;
			list = l;
		}
		p += n + (p[n] == '\n');
	}
	l = cu.curl_slist_append(list, "Expect:");
	if (l)
		return l;
fail:
	for (l = list; l; l = l->next)
		wipe_bytes(l->data, strlen(l->data));
	cu.curl_slist_free_all(list);
	return NULL;
}

void http_client_exchange(const struct http_request *rq, struct http_answer *a)
{
	http_client_exchange_checked(rq, NULL, a);
}

void http_client_exchange_checked(const struct http_request *rq, const struct http_address_check *check,
				  struct http_answer *a)
{
	struct transfer t = {a, rq->read_max, 0, 0, rq->date_base, check, 0, 0, ""};
	struct curl_slist *list, *l, *pinned = NULL;
	CURL *c;
	CURLSH *sh;
	CURLcode rc;

	if (load_libcurl() < 0) {
		snprintf(a->error, sizeof a->error, "libcurl cannot be loaded: %.150s", load_error);
		return;
	}
	list = header_list(rq->headers);
	c = cu.curl_easy_init();

#if defined(KANCA_TEST_HOOKS)
	const char *pin = getenv("KANCA_TEST_RESOLVE");

	if (pin && *pin && !(pinned = cu.curl_slist_append(NULL, pin))) {
		snprintf(a->error, sizeof a->error, "out of memory");
		goto out;
	}
#endif
	if (!c || !list) {
		snprintf(a->error, sizeof a->error, "out of memory");
		goto out;
	}
	rc = cu.curl_easy_setopt(c, CURLOPT_URL, rq->url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: CURLOPT_PROTOCOLS is deprecated */
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	if (rc == CURLE_OK && rq->user_agent)
		rc = cu.curl_easy_setopt(c, CURLOPT_USERAGENT, rq->user_agent);
	if (rc == CURLE_OK && rq->body) {
		rc = cu.curl_easy_setopt(c, CURLOPT_POST, 1L);
		if (rc == CURLE_OK)
			rc = cu.curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
		if (rc == CURLE_OK)
			rc = cu.curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)rq->body);
	}
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	if (rc == CURLE_OK)
		rc = cu.curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
	if (rc == CURLE_OK && pinned)
		rc = cu.curl_easy_setopt(c, CURLOPT_RESOLVE, pinned);
	if (rc == CURLE_OK && rq->reuse && (sh = reuse_share()))
		rc = cu.curl_easy_setopt(c, CURLOPT_SHARE, sh);
	if (rc != CURLE_OK) {
		snprintf(a->error, sizeof a->error, "libcurl refused an option: %s", cu.curl_easy_strerror(rc));
		goto out;
	}
	rc = cu.curl_easy_perform(c);
	if (cu.curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status) != CURLE_OK || a->status < 100 ||
	    a->status > 999)
		a->status = 0;
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t.capped)) {
		a->complete = 1;
		goto out;
	}
	if (t.addr_refused && !t.addr_allowed) {
		/* nothing was connected to: every address was refused (the reason of the last one) */
		a->address_refused = 1;
		snprintf(a->error, sizeof a->error, "%s", t.addr_why);
		goto out;
	}
	a->refused = rc == CURLE_COULDNT_CONNECT;
	a->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
	if (cu.curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &a->os_errno) != CURLE_OK)
		a->os_errno = 0;
	snprintf(a->error, sizeof a->error, "%s", cu.curl_easy_strerror(rc));
out:
	cu.curl_easy_cleanup(c);
	cu.curl_slist_free_all(pinned);
	for (l = list; l; l = l->next)
		wipe_bytes(l->data, strlen(l->data));
	cu.curl_slist_free_all(list);
}
