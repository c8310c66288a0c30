/* spool.c: the durable local spool (spool.h): records written then renamed, checksummed, drained in
 * name (arrival) order under one lock.
 *
 * A record file is a first line "kanca-spool 1 <payload bytes> <sha256 of the payload, hex>\n" and the
 * payload: fields "<name> <bytes>\n<bytes>\n", one header per "h" field as "<name>\0<value>". */
#include "first.h"
#include "spool.h"
#include "buf.h"
#include "fdio.h"
#include "caps.h"
#include "log.h"
#include "testhook.h"
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC		"kanca-spool 1 "
#define STALE_TMP	60 /* seconds after which a file in tmp/ is a crash's leftover */
#define RECORD_OVERHEAD (KANCA_HEADERS_JSON_MAX + 4096)

static int sub(char *out, size_t n, const char *dir, const char *name)
{
	int w = snprintf(out, n, "%s/%s", dir, name);

	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* dir and its parents (mode 0755: only the spool itself is private). 0 or -1. */
static int make_parent(const char *dir)
{
	char p[4096];
	char *slash;

	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return -1;
	slash = strrchr(p, '/');
	if (!slash || slash == p)
		return -1;
	*slash = '\0';
	if (make_parent(p) < 0)
		return -1;
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* dir and its tmp/, new/ and bad/ (mode 0700). 0 or -1 (errno). */
static int make_dirs(const char *dir)
{
	static const char *const subs[] = {"tmp", "new", "bad"};
	char p[4096];

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		/* its parents too (mkdir -p), e.g. /var/lib/kanca/spool on a fresh host */
		char parent[4096];
		char *slash;
		if (errno != ENOENT || snprintf(parent, sizeof parent, "%s", dir) >= (int)sizeof parent)
			return -1;
		slash = strrchr(parent, '/');
		if (!slash || slash == parent)
			return -1;
		*slash = '\0';
		if (make_parent(parent) < 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST))
			return -1;
	}
	for (size_t i = 0; i < 3; i++) {
		if (sub(p, sizeof p, dir, subs[i]) < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

static int field(struct buf *b, const char *name, const void *p, size_t n)
{
	if (buf_printf(b, "%s %zu\n", name, n) < 0 || buf_append(b, p, n) < 0 || buf_append(b, "\n", 1) < 0)
		return -1;
	return 0;
}

static int field_str(struct buf *b, const char *name, const char *s)
{
	return field(b, name, s ? s : "", s ? strlen(s) : 0);
}

static int field_ll(struct buf *b, const char *name, long long v)
{
	char t[24];

	snprintf(t, sizeof t, "%lld", v);
	return field_str(b, name, t);
}

static int encode(const struct spool_record *r, struct buf *payload)
{
	const struct request *q = &r->req;

	if (field_str(payload, "provider", r->provider) < 0 || field_str(payload, "account", r->account) < 0 ||
	    field_str(payload, "verification", r->verification) < 0 ||
	    field_ll(payload, "secret_id", r->secret_id) < 0 || field_ll(payload, "received_at", r->received_at) < 0 ||
	    field_str(payload, "method", q->method) < 0 || field_str(payload, "path", q->path) < 0 ||
	    field_str(payload, "remote_addr", q->remote_addr) < 0 ||
	    field_ll(payload, "content_length", q->content_length) < 0)
		return -1;
	for (size_t i = 0; i < q->nheaders; i++) {
		size_t nl = strlen(q->headers[i].name);
		if (buf_printf(payload, "h %zu\n", nl + 1 + q->headers[i].value_len) < 0 ||
		    buf_append(payload, q->headers[i].name, nl + 1) < 0 ||
		    buf_append(payload, q->headers[i].value, q->headers[i].value_len) < 0 ||
		    buf_append(payload, "\n", 1) < 0)
			return -1;
	}
	return field(payload, "body", q->body.data ? q->body.data : "", q->body.len);
}

/* A name whose order is arrival order: wall-clock nanoseconds, then pid and a counter. */
static void record_name(char *out, size_t n)
{
	static unsigned seq;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, n, "%012lld.%09ld-%d-%u.rec", (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(), seq++);
}

int spool_write(const char *dir, unsigned long long max_bytes, const struct spool_record *r, struct buf *err)
{
	struct buf payload;
	unsigned char sum[VERIFY_SHA256_LEN];
	char hex[2 * VERIFY_SHA256_LEN + 1], head[128], name[96], tmp[4096], dst[4096], newdir[4096];
	struct spool_status st;
	int fd = -1, rc = -1, saved;

	buf_init(&payload, (size_t)r->req.body.len + RECORD_OVERHEAD);
	if (make_dirs(dir) < 0) {
		saved = errno;
		(void)!buf_printf(err, "cannot create the spool directory %s: %s", dir, strerror(saved));
		goto out;
	}
	if (encode(r, &payload) < 0 || verify_sha256(payload.data, payload.len, sum) < 0) {
		(void)!buf_printf(err, "cannot encode a spool record (out of memory)");
		goto out;
	}
	if (spool_stat(dir, &st) == 0 && st.bytes + payload.len + 128 > max_bytes) {
		(void)!buf_printf(err, "the spool is full (%llu of spool_max_bytes %llu bytes)", st.bytes, max_bytes);
		goto out;
	}
	verify_hex_encode(sum, sizeof sum, hex);
	snprintf(head, sizeof head, MAGIC "%zu %s\n", payload.len, hex);
	record_name(name, sizeof name);
	if (sub(newdir, sizeof newdir, dir, "new") < 0 ||
	    snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name) >= (int)sizeof tmp ||
	    snprintf(dst, sizeof dst, "%s/%s", newdir, name) >= (int)sizeof dst) {
		(void)!buf_printf(err, "spool path too long");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fdio_write_all(fd, head, strlen(head)) < 0 ||
	    fdio_write_all(fd, payload.data, payload.len / 2) < 0 || (testhook_hold("KANCA_TEST_SPOOL_HOLD_FILE"), 0) ||
	    fdio_write_all(fd, payload.data + payload.len / 2, payload.len - payload.len / 2) < 0 || fsync(fd) < 0) {
		saved = errno;
		(void)!buf_printf(err, "cannot write to the spool %s: %s", dir, strerror(saved));
		if (fd >= 0)
			unlink(tmp);
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, dst) < 0 || fsync_dir(newdir) < 0) {
		saved = errno;
		(void)!buf_printf(err, "cannot complete a spool record in %s: %s", dir, strerror(saved));
		unlink(tmp);
		unlink(dst);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_free(&payload);
	return rc;
}

/* ---- reading ---- */

struct cursor {
	const char *p, *end;
};

/* The next field: its name (NUL-terminated in name) and its bytes. 1, 0 at the end, -1 malformed. */
static int next_field(struct cursor *c, char *name, size_t namesz, const char **val, size_t *len)
{
	const char *sp, *nl;
	char *e;
	unsigned long long n;

	if (c->p == c->end)
		return 0;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	sp = nl ? memchr(c->p, ' ', (size_t)(nl - c->p)) : NULL;
	if (!sp || (size_t)(sp - c->p) >= namesz)
		return -1;
	memcpy(name, c->p, (size_t)(sp - c->p));
	name[sp - c->p] = '\0';
	errno = 0;
	n = strtoull(sp + 1, &e, 10);
	if (errno || e != nl || n > (unsigned long long)(c->end - nl - 1) || (size_t)(c->end - nl - 1) - n < 1 ||
	    nl[1 + n] != '\n')
		return -1;
	*val = nl + 1;
	*len = (size_t)n;
	c->p = nl + 2 + n;
	return 1;
}

static int copy_text(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap || memchr(v, '\0', n))
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int parse_ll(const char *v, size_t n, long long *out)
{
	char t[24], *e;

	if (copy_text(t, sizeof t, v, n) < 0 || !n)
		return -1;
	errno = 0;
	*out = strtoll(t, &e, 10);
	return errno || *e ? -1 : 0;
}

static int add_header(struct request *q, const char *v, size_t n)
{
	const char *nul = memchr(v, '\0', n);
	struct request_header *h;

	if (!nul || nul == v || q->nheaders >= KANCA_HEADERS_MAX)
		return -1;
	h = &q->headers[q->nheaders];
	h->name = strndup(v, (size_t)(nul - v));
	h->value_len = n - (size_t)(nul - v) - 1;
	h->value = malloc(h->value_len + 1);
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		return -1;
	}
	memcpy(h->value, nul + 1, h->value_len);
	h->value[h->value_len] = '\0';
	q->nheaders++;
	return 0;
}

static int decode(struct spool_record *r, const char *p, size_t n)
{
	struct cursor c = {p, p + n};
	char name[32];
	const char *v;
	size_t len;
	int k, seen_body = 0;

	while ((k = next_field(&c, name, sizeof name, &v, &len)) == 1) {
		int bad = 0;
		if (strcmp(name, "provider") == 0)
			bad = copy_text(r->provider, sizeof r->provider, v, len);
		else if (strcmp(name, "account") == 0)
			bad = copy_text(r->account, sizeof r->account, v, len);
		else if (strcmp(name, "verification") == 0)
			bad = copy_text(r->verification, sizeof r->verification, v, len);
		else if (strcmp(name, "secret_id") == 0)
			bad = parse_ll(v, len, &r->secret_id);
		else if (strcmp(name, "received_at") == 0)
			bad = parse_ll(v, len, &r->received_at);
		else if (strcmp(name, "method") == 0)
			bad = copy_text(r->req.method, sizeof r->req.method, v, len);
		else if (strcmp(name, "path") == 0)
			bad = copy_text(r->req.path, sizeof r->req.path, v, len);
		else if (strcmp(name, "remote_addr") == 0)
			bad = copy_text(r->req.remote_addr, sizeof r->req.remote_addr, v, len);
		else if (strcmp(name, "content_length") == 0)
			bad = parse_ll(v, len, &r->req.content_length);
		else if (strcmp(name, "h") == 0)
			bad = add_header(&r->req, v, len);
		else if (strcmp(name, "body") == 0) {
			bad = buf_append(&r->req.body, v, len);
			seen_body = 1;
		} /* an unknown field is skipped: a newer kanca may add some */
		if (bad)
			return -1;
	}
	return k < 0 || !seen_body || !r->provider[0] || !r->account[0] || !r->received_at ? -1 : 0;
}

int spool_parse(const char *data, size_t len, struct spool_record *r, struct buf *err)
{
	char hex[2 * VERIFY_SHA256_LEN + 1];
	unsigned char sum[VERIFY_SHA256_LEN];
	const char *nl, *sp;
	unsigned long long n;
	char num[24], *e;
	size_t ndig;

	memset(r, 0, sizeof *r);
	buf_init(&r->req.body, KANCA_BODY_LIMIT);
	nl = len ? memchr(data, '\n', len) : NULL;
	if (!nl || len < sizeof MAGIC || memcmp(data, MAGIC, sizeof MAGIC - 1) != 0) {
		(void)!buf_printf(err, "not a spool record");
		goto bad;
	}
	/* "<payload bytes> <sha256 hex>": digits, one space, 64 hex digits, then the newline */
	sp = memchr(data + sizeof MAGIC - 1, ' ', (size_t)(nl - data) - (sizeof MAGIC - 1));
	ndig = sp ? (size_t)(sp - (data + sizeof MAGIC - 1)) : 0;
	if (!sp || ndig == 0 || ndig >= sizeof num || nl - sp - 1 != 2 * VERIFY_SHA256_LEN) {
		(void)!buf_printf(err, "incomplete record (no length and checksum)");
		goto bad;
	}
	memcpy(num, data + sizeof MAGIC - 1, ndig);
	num[ndig] = '\0';
	errno = 0;
	n = strtoull(num, &e, 10);
	if (errno || *e || num[0] < '0' || num[0] > '9' || n != (unsigned long long)(len - (size_t)(nl + 1 - data))) {
		(void)!buf_printf(err, "incomplete record (length does not match)");
		goto bad;
	}
	if (verify_sha256(nl + 1, (size_t)n, sum) < 0)
		goto bad;
	verify_hex_encode(sum, sizeof sum, hex);
	if (memcmp(hex, sp + 1, 2 * VERIFY_SHA256_LEN) != 0) {
		(void)!buf_printf(err, "checksum mismatch");
		goto bad;
	}
	if (decode(r, nl + 1, (size_t)n) < 0) {
		(void)!buf_printf(err, "malformed record");
		goto bad;
	}
	return 0;
bad:
	spool_record_free(r);
	return -1;
}

int spool_read(const char *path, struct spool_record *r, struct buf *err)
{
	struct buf file;
	char tmp[65536];
	int fd, rc = -1;
	ssize_t got;

	memset(r, 0, sizeof *r);
	buf_init(&file, KANCA_BODY_LIMIT + RECORD_OVERHEAD + 256);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		(void)!buf_printf(err, "cannot open: %s", strerror(errno));
		goto out;
	}
	while ((got = read(fd, tmp, sizeof tmp)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || buf_append(&file, tmp, (size_t)got) < 0) {
			(void)!buf_printf(err, "cannot read (or larger than any record)");
			close(fd);
			goto out;
		}
	}
	close(fd);
	rc = spool_parse(file.data ? file.data : "", file.len, r, err);
out:
	buf_free(&file);
	return rc;
}

void spool_record_free(struct spool_record *r)
{
	request_free(&r->req);
}

/* ---- the directory ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the regular files in path, sorted; *n = how many. 0 (a missing directory is empty) or -1. */
static int list_dir(const char *path, char ***names, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			char **g = realloc(*names, (cap = cap ? cap * 2 : 64) * sizeof *g);
			if (!g)
				break;
			*names = g;
		}
		(*names)[*n] = strdup(de->d_name);
		if (!(*names)[*n])
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof **names, by_name);
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static long count_dir(const char *dir, const char *name)
{
	char p[4096], **names;
	size_t n;

	if (sub(p, sizeof p, dir, name) < 0 || list_dir(p, &names, &n) < 0)
		return 0;
	free_names(names, n);
	return (long)n;
}

int spool_stat(const char *dir, struct spool_status *st)
{
	char p[4096], f[4096], **names;
	size_t n;
	struct stat sb;

	memset(st, 0, sizeof *st);
	if (sub(p, sizeof p, dir, "new") < 0 || list_dir(p, &names, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (sub(f, sizeof f, p, names[i]) == 0 && stat(f, &sb) == 0) {
			st->records++;
			st->bytes += (unsigned long long)sb.st_size;
		}
	}
	if (n)
		st->oldest = strtoll(names[0], NULL, 10);
	free_names(names, n);
	st->bad = count_dir(dir, "bad");
	st->partial = count_dir(dir, "tmp");
	return 0;
}

/* Moves a record aside into bad/ (and says why in the log; never its content). */
static void set_aside(const char *dir, const char *name, const char *why)
{
	char from[4096], to[4096];

	if (snprintf(from, sizeof from, "%s/new/%s", dir, name) >= (int)sizeof from ||
	    snprintf(to, sizeof to, "%s/bad/%s", dir, name) >= (int)sizeof to)
		return;
	if (rename(from, to) < 0)
		unlink(from);
	log_error("spool record %s set aside in %s/bad: %s", name, dir, why);
}

/* Removes files left in tmp/ by a crash while writing. */
static void clean_tmp(const char *dir)
{
	char p[4096], f[4096], **names;
	size_t n;
	struct stat sb;
	time_t now = time(NULL);

	if (sub(p, sizeof p, dir, "tmp") < 0 || list_dir(p, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (sub(f, sizeof f, p, names[i]) == 0 && stat(f, &sb) == 0 && now - sb.st_mtime > STALE_TMP &&
		    unlink(f) == 0)
			log_warn(
			    "removed %s: a spool record that a crash left half-written (it was never answered 2xx)", f);
	free_names(names, n);
}

/* names[i..end) in one transaction: 1 all stored and committed (the records removed), 0 not (nothing of
 * the group kept: the caller stores them one at a time). */
static int drain_group(const char *newdir, char **names, size_t i, size_t end, const struct spool_sink *sink,
		       struct spool_drained *out)
{
	char f[4096];
	struct buf err;
	int ok = 1;

	if (!sink->begin || end - i < 2 || sink->begin(sink->arg) < 0)
		return 0;
	buf_init(&err, 256);
	for (size_t j = i; j < end && ok; j++) {
		struct spool_record r;
		buf_reset(&err);
		ok = sub(f, sizeof f, newdir, names[j]) == 0 && spool_read(f, &r, &err) == 0;
		if (ok) {
			ok = sink->store(sink->arg, &r) == 0;
			spool_record_free(&r);
		}
	}
	buf_free(&err);
	if (!ok) {
		sink->abort(sink->arg);
		return 0;
	}
	if (sink->commit(sink->arg) < 0)
		return 0;
	/* stored: only now may the records go (a crash before this drains them again: duplicates) */
	testhook_hold("KANCA_TEST_DRAIN_HOLD_FILE");
	for (size_t j = i; j < end; j++)
		if (sub(f, sizeof f, newdir, names[j]) == 0 && unlink(f) == 0)
			out->stored++;
	return 1;
}

/* One record in its own transaction: 0 handled (stored or set aside), -1 the store failed (stop). */
static int drain_one(const char *dir, const char *newdir, const char *name, const struct spool_sink *sink,
		     struct spool_drained *out)
{
	char f[4096];
	struct spool_record r;
	struct buf err;
	int rc;

	if (sub(f, sizeof f, newdir, name) < 0)
		return 0;
	buf_init(&err, 256);
	if (spool_read(f, &r, &err) < 0) {
		if (access(f, F_OK) == 0) {
			set_aside(dir, name, buf_str(&err));
			out->bad++;
		}
		buf_free(&err);
		return 0;
	}
	buf_free(&err);
	rc = sink->store(sink->arg, &r);
	spool_record_free(&r);
	if (rc == -1)
		return -1;
	if (rc == -2) {
		set_aside(dir, name, "the store refused it");
		out->bad++;
		return 0;
	}
	testhook_hold("KANCA_TEST_DRAIN_HOLD_FILE");
	if (unlink(f) == 0)
		out->stored++;
	return 0;
}

int spool_drain(const char *dir, long max, const struct spool_sink *sink, struct spool_drained *out)
{
	char p[4096], lock[4096], **names;
	size_t n, i = 0;
	int lfd;

	memset(out, 0, sizeof *out);
	if (sub(p, sizeof p, dir, "new") < 0 || sub(lock, sizeof lock, dir, "drain.lock") < 0)
		return -1;
	if (list_dir(p, &names, &n) < 0)
		return -1;
	if (n == 0) {
		free_names(names, n);
		return 0;
	}
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		out->busy = lfd >= 0 && errno == EWOULDBLOCK;
		if (lfd >= 0)
			close(lfd);
		free_names(names, n);
		return out->busy ? 0 : -1;
	}
	free_names(names, n); /* listed again under the lock: another drainer may have just finished */
	if (list_dir(p, &names, &n) < 0) {
		close(lfd);
		return -1;
	}
	while (i < n && !out->stopped) {
		size_t end = i + SPOOL_DRAIN_GROUP < n ? i + SPOOL_DRAIN_GROUP : n;
		long room = max > 0 ? max - (out->stored + out->bad) : 0;

		if (max > 0 && room <= 0)
			break;
		if (max > 0 && end - i > (size_t)room)
			end = i + (size_t)room;
		if (drain_group(p, names, i, end, sink, out)) {
			i = end;
			continue;
		}
		for (; i < end; i++)
			if (drain_one(dir, p, names[i], sink, out) < 0) {
				out->stopped = 1;
				break;
			}
	}
	out->left = (long)(n - i);
	if (out->stored)
		(void)fsync_dir(p);
	clean_tmp(dir);
	free_names(names, n);
	close(lfd);
	return 0;
}
