/* doctor_int.h: what kancactl doctor's files share (src/ctl/doctor*.c only): the run's state, the finding
 * writer, answers as judged, the self-test probes, and the fixes per web server. doctor.c runs the checks
 * of doctor_local.c and doctor_url.c; those use doctor_report.c, doctor_probe.c, doctor_judge.c and
 * doctor_fixes.c, which use nothing of each other's but what is declared here. */
#ifndef KANCA_CTL_DOCTOR_INT_H
#define KANCA_CTL_DOCTOR_INT_H

#include "first.h"

#include "buf.h"
#include "caps.h"
#include "config.h"
#include "http_client.h"
#include "source.h"
#include "store/store.h"
#include "verify.h"

#include <stddef.h>

#define DOCTOR_TIMEOUT_MS     20000L  /* one self-test delivery, connect included */
#define DOCTOR_BIG_TIMEOUT_MS 120000L /* the max_body_bytes deliveries */
#define DOCTOR_AGENT	      "kancactl-doctor/" PACKAGE_VERSION

struct store;
struct store_rows;
struct provider;

enum level { OK = 0, WARN, FAIL };

struct doctor {
	struct config cfg;
	const char *config_path;
	struct store *store;
	const char *url; /* the public base URL, without a trailing '/'; NULL: local checks only */
	const char *only_provider, *only_account; /* --source */
	int counts[3];
};

/* ---- doctor_report.c ---- */

/* One finding: "ok   check: text" (warn, FAIL), counted in d->counts. */
void doctor_say(struct doctor *d, enum level lv, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whether --source (if given) selects this source. */
int doctor_wanted(const struct doctor *d, const char *provider, const char *account);

/* ---- doctor_local.c: 0, or -1 when the checks after it cannot run ---- */

int doctor_check_config(struct doctor *d);
int doctor_check_store(struct doctor *d);
int doctor_check_migrations(struct doctor *d);
void doctor_check_clock(struct doctor *d, int pinned);
/* SQLite: the file, its directory, its -wal, -shm and .lock files: owner, mode, writable by kanca's user. */
void doctor_check_store_files(struct doctor *d);
/* The store takes a write now (store_health_write, within answer_deadline); after the migrations. */
void doctor_check_store_write(struct doctor *d);
/* The spool directory: exists or can be created, writable by kanca's user, free space, what waits in it. */
void doctor_check_spool(struct doctor *d);
/* The sources (*out: store_list_sources' rows, freed by the caller). */
int doctor_check_sources(struct doctor *d, struct store_rows **out);

/* ---- doctor_url.c ---- */

/* /healthz, then a self-test delivery per selected source (rows from doctor_check_sources), then the body
 * limit. */
void doctor_check_url(struct doctor *d, struct store_rows *rows);

/* ---- doctor_fixes.c ---- */

enum server_kind { SERVER_UNKNOWN = 0, SERVER_APACHE, SERVER_LIGHTTPD, SERVER_NGINX };

/* The kind of web server a Server header names. */
enum server_kind doctor_server_of(const char *server);
/* How to raise the server's body limit above max (all servers' ways when unknown), into out. */
const char *doctor_fix_body_limit(enum server_kind k, size_t max, char *out, size_t cap);
/* How to route kanca's paths to it; how to let the Authorization header through. */
const char *doctor_fix_route(enum server_kind k);
const char *doctor_fix_authorization(enum server_kind k);

/* How a file or directory becomes writable by user: chmod (the owner is user), chown (another owner), the
 * remount of mount (a read-only file system), or creating the missing directory path. Into out. */
enum fix_write { FIX_WRITE_CHMOD, FIX_WRITE_CHOWN, FIX_WRITE_REMOUNT, FIX_WRITE_CREATE };
const char *doctor_fix_writable(enum fix_write how, const char *path, int is_dir, const char *user, const char *mount,
				char *out, size_t cap);
/* Who kanca runs as in each shipped setup, one sentence, into out. */
const char *doctor_fix_user(char *out, size_t cap);
/* What to do when the store cannot take a write for failure f. */
const char *doctor_fix_store_write(enum store_failure f, int sqlite);

/* ---- doctor_judge.c ---- */

enum reply_kind { REPLY_NONE = 0, REPLY_DOCTOR, REPLY_KANCA, REPLY_OTHER };

struct reply {
	enum reply_kind kind;
	int verified, authorization;
	char reason[KANCA_REASON_MAX + 1]; /* REPLY_DOCTOR: why kanca did not verify it */
	char error[KANCA_REASON_MAX + 1];  /* REPLY_KANCA: kanca's error text */
	long long body_bytes;
	char body_sha256[VERIFY_HEX_LEN + 1];
};

/* ---- doctor_probe.c ---- */

struct probe {
	const struct provider *prov;
	struct store_source src;
	char name[2 * KANCA_SEGMENT_MAX + 16]; /* "provider/account" */
	char url[KANCA_URL_MAX + 2 * KANCA_SEGMENT_MAX + 64];
	char nonce[33];
	struct buf body, headers;
	char sent_sha256[VERIFY_HEX_LEN + 1];
};

/* base URL + base_path (unless the URL already ends with it) + path into out; 0 or -1 (too long). */
int doctor_url(const struct doctor *d, const char *path, char *out, size_t cap);
/* The probe's URL: the route of its provider and account. 0 or -1. */
int doctor_probe_route(const struct doctor *d, struct probe *p);
void doctor_probe_free(struct probe *p);
/* Builds the probe's delivery, signed as its provider's sender would (pad: bytes of padding, -1 none).
 * 0, or -1 with the reason in err. */
int doctor_probe_build(struct probe *p, long pad, struct buf *err);
/* Builds it with a body of exactly size bytes. 0, or -1 with the reason in err. */
int doctor_probe_build_size(struct probe *p, size_t size, struct buf *err);
/* GET (body NULL) or POST url; a failed exchange says why, with the system's error. */
void doctor_exchange(const char *url, const struct buf *lines, const void *body, size_t len, long timeout_ms,
		     struct http_answer *a);
void doctor_probe_send(struct probe *p, long timeout_ms, struct http_answer *a);

/* ---- doctor_judge.c ---- */

/* Classifies an answer: kanca's doctor answer to nonce (NULL: none expected), another answer of kanca's,
 * or somebody else's. */
void doctor_reply_parse(const struct http_answer *a, const char *nonce, struct reply *r);
/* The short form of an answer for messages: "HTTP 404 from Apache/2.4 (not kanca's)". */
void doctor_describe(const struct http_answer *a, const struct reply *r, char *out, size_t cap);
/* An answer that is not kanca's self-test answer: a finding with its fix, and 1; 0 when it is. */
int doctor_judge_not_doctor(struct doctor *d, const char *check, const struct probe *p, const struct http_answer *a,
			    const struct reply *r);
/* A self-test answer whose body differs from what was sent: a finding, and 1; 0 when it arrived whole. */
int doctor_judge_body(struct doctor *d, const char *check, const struct probe *p, const struct reply *r);

#endif
