/* doctor_local.c: kancactl doctor's checks on this host: the configuration, the store (whether it opens,
 * its files' owners and modes, whether it takes a write), its schema, the clock, the spool directory and the
 * sources. */
#include "first.h"
#include "ctl/doctor_int.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "providers/registry.h"
#include "spool.h"
#include "store/store.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/timex.h>
#endif

#define DOCTOR_SKEW_WARN   5.0		/* seconds of clock difference worth a warning */
#define DOCTOR_CLOCK_FLOOR 1735689600LL /* 2025-01-01: a clock before this is certainly wrong */

#if defined(KANCA_TEST_HOOKS)
#define PINNED_NOTE " (pinned by KANCA_TEST_NOW)"
#else
#define PINNED_NOTE "" /* a release build never pins its clock */
#endif

int doctor_check_config(struct doctor *d)
{
	struct buf err;
	const char *line;

	config_defaults(&d->cfg);
	buf_init(&err, 64 * 1024);
	if (config_load(&d->cfg, d->config_path, &err) < 0) {
		line = buf_str(&err);
		if (!*line)
			doctor_say(
			    d, FAIL, "config",
			    "%s cannot be loaded. Fix: check that the file exists and is readable (kancactl -c PATH, "
			    "or KANCA_CONFIG)",
			    d->config_path);
		while (*line) {
			size_t n = strcspn(line, "\n");
			char one[KANCA_CONFIG_LINE_MAX + 512];

			snprintf(one, sizeof one, "%.*s", (int)n, line);
			if (strstr(one, ": cannot open"))
				doctor_say(d, FAIL, "config",
					   "%.*s. Fix: name the file kanca uses: kancactl -c PATH doctor, or "
					   "KANCA_CONFIG (the web "
					   "server sets it for kanca: FcgidInitialEnv, SetEnv, bin-environment)",
					   (int)n, line);
			else
				doctor_say(
				    d, FAIL, "config",
				    "%.*s. Fix: edit %s (kancactl config keys lists every key, its default and what it "
				    "takes)",
				    (int)n, line, d->config_path);
			line += n + (line[n] == '\n');
		}
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	doctor_say(d, OK, "config", "%s loads: store %s, max_body_bytes %zu, timestamp_tolerance %ld, base_path \"%s\"",
		   d->config_path, strncmp(d->cfg.store, "sqlite:", 7) == 0 ? "sqlite" : "postgresql",
		   d->cfg.max_body_bytes, d->cfg.timestamp_tolerance, d->cfg.base_path);
	return 0;
}

/* The store's name for messages: the SQLite path, never a PostgreSQL URI (it may hold a password). */
static const char *store_shown(const struct doctor *d)
{
	return strncmp(d->cfg.store, "sqlite:", 7) == 0 ? d->cfg.store : "PostgreSQL (the store URI)";
}

int doctor_check_store(struct doctor *d)
{
	struct buf err;
	int sqlite = strncmp(d->cfg.store, "sqlite:", 7) == 0;
	const char *fix = sqlite ? "check the path and that its directory exists and is writable by the user kanca "
				   "runs as (the web server's User; SQLite writes a -wal file next to it)"
				 : "start PostgreSQL or correct store = in the configuration (host, port, user, "
				   "database, password)";

	buf_init(&err, 4096);
	if (store_open(d->cfg.store, &d->store, &err) < 0) {
		doctor_say(d, FAIL, "store", "%s cannot be opened: %s. Fix: %s", store_shown(d), buf_str(&err), fix);
		d->store = NULL;
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	if (store_ping(d->store) < 0) {
		doctor_say(d, FAIL, "store", "%s does not answer: %s. Fix: %s", store_shown(d), store_error(d->store),
			   fix);
		return -1;
	}
	doctor_say(d, OK, "store", "%s answers", sqlite ? d->cfg.store : "PostgreSQL");
	return 0;
}

int doctor_check_migrations(struct doctor *d)
{
	int current, latest;

	if (store_schema_version(d->store, &current, &latest) < 0) {
		doctor_say(d, FAIL, "migrations",
			   "the schema version cannot be read: %s. Fix: check the store's permissions",
			   store_error(d->store));
		return -1;
	}
	if (current == 0) {
		doctor_say(d, FAIL, "migrations",
			   "the store has no schema (this kanca needs version %d). Fix: run kancactl migrate", latest);
		return -1;
	}
	if (current < latest) {
		doctor_say(d, FAIL, "migrations",
			   "schema version %d, this kanca needs %d: kanca refuses to start. Fix: run kancactl migrate",
			   current, latest);
		return -1;
	}
	if (current > latest) {
		doctor_say(
		    d, FAIL, "migrations",
		    "schema version %d is newer than this kanca knows (%d). Fix: install the kanca that migrated the "
		    "store (this kancactl is older)",
		    current, latest);
		return -1;
	}
	doctor_say(d, OK, "migrations", "schema version %d is current", current);
	return 0;
}

/* SQLite has no server clock: the kernel's NTP state is what can be checked without another machine. */
static void check_clock_local(struct doctor *d, long long now, int pinned)
{
	char when[32];

	clock_format(now, when, sizeof when);
#if defined(KANCA_TEST_HOOKS)
	if (pinned) {
		doctor_say(d, WARN, "clock",
			   "pinned by KANCA_TEST_NOW to %s (for tests only). Fix: unset KANCA_TEST_NOW", when);
		return;
	}
#endif
	if (now < DOCTOR_CLOCK_FLOOR) {
		doctor_say(
		    d, FAIL, "clock",
		    "the system clock says %s, which cannot be right: Stripe, Standard Webhooks and Svix deliveries "
		    "are refused. Fix: set the clock and keep it synchronised (timedatectl set-ntp true, or chrony)",
		    when);
		return;
	}
#ifdef __linux__
	{
		struct timex tx;
		int st;

		memset(&tx, 0, sizeof tx);
		st = adjtimex(&tx);
		if (st != -1 && st != TIME_ERROR && !(tx.status & STA_UNSYNC)) {
			doctor_say(d, OK, "clock",
				   "%s; the kernel says the clock is synchronised (estimated error %ld ms)", when,
				   tx.esterror / 1000);
			return;
		}
		if (st != -1) {
			doctor_say(
			    d, WARN, "clock",
			    "%s; the kernel says the clock is not synchronised, and a SQLite store has no clock of its "
			    "own to compare with, so this check is limited: a clock off by more than "
			    "timestamp_tolerance (%lds) makes kanca refuse Stripe, Standard Webhooks and Svix "
			    "deliveries. Fix: enable NTP (timedatectl set-ntp true, or chrony) on the host",
			    when, d->cfg.timestamp_tolerance);
			return;
		}
	}
#endif
	doctor_say(
	    d, WARN, "clock",
	    "%s; the clock's synchronisation cannot be read here and a SQLite store has no clock of its own, so this "
	    "check is limited. Fix: make sure the host runs NTP (timedatectl, chrony)",
	    when);
}

void doctor_check_clock(struct doctor *d, int pinned)
{
	long long now = clock_now();
	double theirs, skew, limit = (double)d->cfg.timestamp_tolerance / 2;
	int rc = store_clock(d->store, &theirs);

	if (rc == -2) {
		check_clock_local(d, now, pinned);
		return;
	}
	if (rc < 0) {
		doctor_say(d, WARN, "clock",
			   "PostgreSQL's clock cannot be read (%s); not compared. Fix: see the store line",
			   store_error(d->store));
		return;
	}
	skew = (double)now - theirs;
	if (skew > limit || -skew > limit) {
		doctor_say(
		    d, FAIL, "clock",
		    "kanca's clock is %.0f s %s PostgreSQL's%s; more than timestamp_tolerance/2 (%.0f s): Stripe, "
		    "Standard Webhooks and Svix deliveries are refused when the difference to the sender passes "
		    "timestamp_tolerance. Fix: synchronise both hosts with NTP (timedatectl set-ntp true, or chrony)",
		    skew > 0 ? skew : -skew, skew > 0 ? "ahead of" : "behind", pinned ? PINNED_NOTE : "", limit);
	} else if (skew > DOCTOR_SKEW_WARN || -skew > DOCTOR_SKEW_WARN) {
		doctor_say(
		    d, WARN, "clock",
		    "kanca's clock is %.0f s %s PostgreSQL's (the limit is %.0f s). Fix: synchronise both hosts with "
		    "NTP",
		    skew > 0 ? skew : -skew, skew > 0 ? "ahead of" : "behind", limit);
	} else {
		doctor_say(d, OK, "clock", "kanca's clock is within %.1f s of PostgreSQL's", skew > 0 ? skew : -skew);
	}
}

/* ---- files on this host: may kanca's user write them? ---- */

#define DOCTOR_MIB	   (1024ULL * 1024ULL)
#define DOCTOR_SPOOL_FLOOR (64ULL * DOCTOR_MIB) /* less free space than this beside the spool fails */

/* The user kanca runs as, as far as doctor can tell: the user running doctor, or, when that is root, the
 * owner of the SQLite file or of the spool directory. */
struct who {
	uid_t uid;
	gid_t groups[64];
	int ngroups;
	int known; /* 0: doctor runs as root and nothing tells (a PostgreSQL store, no spool yet) */
	const char *why;
	char name[64];
};

static void who_is(struct who *w, uid_t uid, const char *why)
{
	struct passwd *pw = getpwuid(uid);

	w->uid = uid;
	w->known = 1;
	w->why = why;
	w->ngroups = 0;
	if (!pw) {
		snprintf(w->name, sizeof w->name, "%u", (unsigned)uid);
		return;
	}
	snprintf(w->name, sizeof w->name, "%s", pw->pw_name);
	w->ngroups = (int)(sizeof w->groups / sizeof w->groups[0]);
	if (getgrouplist(w->name, pw->pw_gid, w->groups, &w->ngroups) < 0)
		w->ngroups = (int)(sizeof w->groups / sizeof w->groups[0]); /* more: the first ones */
}

static void kanca_user(const struct doctor *d, const char *spool, struct who *w)
{
	struct stat sb;

	memset(w, 0, sizeof *w);
	if (geteuid() != 0)
		who_is(w, geteuid(), "the user running doctor: run it as the user kanca runs as");
	else if (strncmp(d->cfg.store, "sqlite:", 7) == 0 && stat(d->cfg.store + 7, &sb) == 0)
		who_is(w, sb.st_uid, "the SQLite file's owner, taken for the user kanca runs as");
	else if (spool && stat(spool, &sb) == 0)
		who_is(w, sb.st_uid, "the spool directory's owner, taken for the user kanca runs as");
	else
		snprintf(w->name, sizeof w->name, "KANCA_USER");
}

/* 0 when w may write path (a directory: make files in it), else why not: EROFS (a read-only file system),
 * EACCES (owner and mode), or access()'s errno for the user running doctor. */
static int writable(const struct who *w, const char *path, const struct stat *sb)
{
	int dir = S_ISDIR(sb->st_mode), need = dir ? 3 : 2, bits;

	if (access(path, dir ? W_OK | X_OK : W_OK) < 0) {
		int e = errno;
		if (e == EROFS || geteuid() != 0)
			return e;
	}
	if (geteuid() != 0 || !w->known || (w->uid == 0 && sb->st_uid != 0))
		return 0; /* access() answered for kanca's user, or it is root and not the owner */
	if (sb->st_uid == w->uid) {
		bits = (int)(sb->st_mode >> 6) & 7;
	} else {
		int member = 0;
		for (int i = 0; i < w->ngroups && !member; i++)
			member = w->groups[i] == sb->st_gid;
		bits = (int)(member ? sb->st_mode >> 3 : sb->st_mode) & 7;
	}
	return (bits & need) == need ? 0 : EACCES;
}

static const char *describe(const struct stat *sb, char *out, size_t cap)
{
	struct passwd *pw = getpwuid(sb->st_uid);
	struct group *gr;
	char user[64], group[64];

	if (pw)
		snprintf(user, sizeof user, "%s", pw->pw_name);
	else
		snprintf(user, sizeof user, "%u", (unsigned)sb->st_uid);
	gr = getgrgid(sb->st_gid);
	if (gr)
		snprintf(group, sizeof group, "%s", gr->gr_name);
	else
		snprintf(group, sizeof group, "%u", (unsigned)sb->st_gid);
	snprintf(out, cap, "owner %s:%s, mode %04o", user, group, (unsigned)(sb->st_mode & 07777));
	return out;
}

/* The mount point of the file system that holds path, for the remount fix. */
static void mount_of(const char *path, char *out, size_t cap)
{
	char p[PATH_MAX], parent[PATH_MAX], *slash;
	struct stat a, b;

	if (!realpath(path, p) || stat(p, &a) < 0) {
		snprintf(out, cap, "%s", path);
		return;
	}
	for (int i = 0; i < 256 && strcmp(p, "/") != 0; i++) {
		snprintf(parent, sizeof parent, "%s", p);
		slash = strrchr(parent, '/');
		if (!slash)
			break;
		if (slash == parent)
			slash[1] = '\0'; /* "/x": its parent is "/" */
		else
			*slash = '\0';
		if (stat(parent, &b) < 0 || b.st_dev != a.st_dev)
			break;
		memcpy(p, parent, sizeof p);
	}
	snprintf(out, cap, "%s", p);
}

/* One file or directory kanca's user must write, if it exists: a finding at lv when it cannot (alt: another
 * way out for the fix). 0 fine (or missing), else why not (EROFS: the whole file system, said once). */
static int check_path(struct doctor *d, const struct who *w, const char *check, enum level lv, const char *what,
		      const char *path, const char *why, const char *alt)
{
	struct stat sb;
	char desc[160], fix[2 * 1100 + 64], mount[PATH_MAX];
	int e;

	if (stat(path, &sb) < 0 || (e = writable(w, path, &sb)) == 0)
		return 0;
	describe(&sb, desc, sizeof desc);
	if (e == EROFS) {
		mount_of(path, mount, sizeof mount);
		doctor_fix_writable(FIX_WRITE_REMOUNT, path, S_ISDIR(sb.st_mode), w->name, mount, fix, sizeof fix);
	} else {
		doctor_fix_writable(sb.st_uid == w->uid ? FIX_WRITE_CHMOD : FIX_WRITE_CHOWN, path, S_ISDIR(sb.st_mode),
				    w->name, NULL, fix, sizeof fix);
	}
	doctor_say(d, lv, check, "%s %s (%s) is not writable by %s (%s): %s: %s. Fix: %s%s", what, path, desc, w->name,
		   w->why, e == EROFS ? "a read-only file system" : strerror(e), why, fix, alt);
	return e;
}

static void dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, cap, ".");
	else
		snprintf(out, cap, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

void doctor_check_store_files(struct doctor *d)
{
	static const char *const sides[][2] = {{"-wal", "its -wal file"}, {"-shm", "its -shm file"}};
	const char *path = d->cfg.store + 7;
	char dir[1024], side[1100], desc[160];
	struct stat sb;
	struct who w;
	int bad = 0, e;

	if (strncmp(d->cfg.store, "sqlite:", 7) != 0)
		return;
	dir_of(path, dir, sizeof dir);
	if (stat(dir, &sb) < 0 || stat(path, &sb) < 0)
		return; /* the store line says it cannot be opened */
	kanca_user(d, NULL, &w);
	/* a read-only file system is said once, for the file: its directory and side files are on it too */
	e = check_path(d, &w, "store files", FAIL, "the SQLite file", path,
		       "every delivery goes to the spool and /healthz answers 503", "");
	bad += e != 0;
	if (e != EROFS)
		bad +=
		    check_path(d, &w, "store files", FAIL, "its directory", dir,
			       "SQLite makes its -wal and -shm files there, and takes no write without them", "") != 0;
	for (size_t i = 0; e != EROFS && i < sizeof sides / sizeof sides[0]; i++) {
		snprintf(side, sizeof side, "%s%s", path, sides[i][0]);
		bad +=
		    check_path(d, &w, "store files", FAIL, sides[i][1], side,
			       "SQLite must write it to take any write (a leftover of a process run as another user?)",
			       "") != 0;
	}
	snprintf(side, sizeof side, "%s.lock", path);
	if (e != EROFS)
		bad += check_path(d, &w, "store files", WARN, "the writer queue's lock file", side,
				  "kanca's writers poll for SQLite's lock instead of queueing for it", "") != 0;
	if (!bad)
		doctor_say(d, OK, "store files",
			   "%s (%s), its directory and its -wal and -shm files (where they exist) are writable by %s",
			   path, describe(&sb, desc, sizeof desc), w.name);
}

void doctor_check_store_write(struct doctor *d)
{
	int sqlite = strncmp(d->cfg.store, "sqlite:", 7) == 0, said;
	const char *err, *name;
	enum store_failure f;

	store_set_deadline(d->store, clock_monotonic() + (double)d->cfg.answer_deadline_ms / 1000.0);
	if (store_health_write(d->store, clock_now()) == 0) {
		store_set_deadline(d->store, 0);
		doctor_say(d, OK, "store write", "%s takes a write within answer_deadline (%ld ms)", store_shown(d),
			   d->cfg.answer_deadline_ms);
		return;
	}
	f = store_failure(d->store);
	err = store_error(d->store);
	name = store_failure_name(f);
	said = strncmp(err, name, strlen(name)) == 0; /* the error begins with its cause already */
	doctor_say(d, FAIL, "store write",
		   "%s cannot take a write: %s%s%s: every delivery goes to the spool and /healthz answers 503. Fix: %s",
		   store_shown(d), said ? "" : name, said ? "" : ": ", err, doctor_fix_store_write(f, sqlite));
	store_set_deadline(d->store, 0);
}

/* The spool's file system: room for a full spool, and then some for the store beside it. */
static void check_spool_space(struct doctor *d, const char *dir, const char *at)
{
	unsigned long long cap = d->cfg.spool_max_bytes, twice = 2 * cap, room;
	struct statvfs vf;

	if (statvfs(at, &vf) < 0) {
		doctor_say(d, WARN, "spool space", "the free space beside %s cannot be read: %s. Fix: df %s", dir,
			   strerror(errno), at);
		return;
	}
	room = (unsigned long long)vf.f_bavail * (unsigned long long)vf.f_frsize;
	if (room < twice || room < DOCTOR_SPOOL_FLOOR)
		doctor_say(
		    d, FAIL, "spool space",
		    "%llu MiB free on the file system of %s, below %llu MiB (%s): while the store fails the spool "
		    "fills it, and a full spool must fit into the store again when it drains. Fix: free space "
		    "there, lower spool_max_bytes (%llu MiB now), or set spool_dir = to a file system with room",
		    room / DOCTOR_MIB, dir, (twice > DOCTOR_SPOOL_FLOOR ? twice : DOCTOR_SPOOL_FLOOR) / DOCTOR_MIB,
		    twice > DOCTOR_SPOOL_FLOOR ? "twice spool_max_bytes" : "the least doctor accepts",
		    cap / DOCTOR_MIB);
	else if (room < 2 * twice)
		doctor_say(d, WARN, "spool space",
			   "%llu MiB free on the file system of %s: less than four times spool_max_bytes (%llu MiB), "
			   "little room beside a full spool. Fix: free space there, or lower spool_max_bytes",
			   room / DOCTOR_MIB, dir, cap / DOCTOR_MIB);
	else
		doctor_say(d, OK, "spool space", "%llu MiB free on the file system of %s (spool_max_bytes %llu MiB)",
			   room / DOCTOR_MIB, dir, cap / DOCTOR_MIB);
}

/* A spool that does not exist yet: whether kanca's user can make it (mkdir -p) in its nearest existing
 * parent, which goes into at. 0 fine, 1 not. */
static int check_spool_missing(struct doctor *d, const struct who *w, const char *dir, char *at, size_t cap)
{
	char desc[160], fix[2 * 1100 + 64], mount[PATH_MAX], hint[600];
	struct stat sb;
	int e;

	dir_of(dir, at, cap);
	for (int i = 0; i < 64 && stat(at, &sb) < 0 && strcmp(at, "/") != 0 && strcmp(at, ".") != 0; i++) {
		char up[1024];
		dir_of(at, up, sizeof up);
		snprintf(at, cap, "%s", up);
	}
	if (stat(at, &sb) < 0) {
		doctor_say(d, FAIL, "spool", "%s does not exist, nor does any parent of it. Fix: set spool_dir = in %s",
			   dir, d->config_path);
		return 1;
	}
	describe(&sb, desc, sizeof desc);
	e = writable(w, at, &sb);
	if (e == 0 && w->known) {
		doctor_say(d, OK, "spool",
			   "%s does not exist yet: kanca makes it when it first spools a delivery (%s may "
			   "write %s: %s)",
			   dir, w->name, at, desc);
		return 0;
	}
	if (e == 0) {
		doctor_say(
		    d, WARN, "spool",
		    "%s does not exist yet, and doctor (run as root, with a PostgreSQL store) cannot tell which user "
		    "kanca runs as: kanca makes it when it first spools a delivery only if that user may write %s "
		    "(%s); else that delivery gets 503. Fix: make it now: %s (KANCA_USER: %s)",
		    dir, at, desc, doctor_fix_writable(FIX_WRITE_CREATE, dir, 1, w->name, NULL, fix, sizeof fix),
		    doctor_fix_user(hint, sizeof hint));
		return 0;
	}
	if (e == EROFS) {
		mount_of(at, mount, sizeof mount);
		doctor_fix_writable(FIX_WRITE_REMOUNT, at, 1, w->name, mount, fix, sizeof fix);
	} else {
		doctor_fix_writable(FIX_WRITE_CREATE, dir, 1, w->name, NULL, fix, sizeof fix);
	}
	doctor_say(d, FAIL, "spool",
		   "%s does not exist and %s (%s) cannot make it: %s (%s) is not writable: %s: a delivery the store "
		   "cannot take gets 503. Fix: %s; or set spool_dir = to a directory %s may write",
		   dir, w->name, w->why, at, desc, e == EROFS ? "a read-only file system" : strerror(e), fix, w->name);
	return 1;
}

void doctor_check_spool(struct doctor *d)
{
	static const char *const subs[][2] = {{"tmp", "its tmp/"}, {"new", "its new/"}, {"bad", "its bad/"}};
	static const char alt[] = "; or set spool_dir = to a directory kanca's user may write";
	char dir[1024], at[1024], p[1100], desc[160];
	struct spool_status st;
	struct stat sb;
	struct who w;
	int bad = 0, e;

	if (config_spool_dir(&d->cfg, dir, sizeof dir) < 0) {
		doctor_say(d, FAIL, "spool", "the spool directory's name is too long. Fix: a shorter spool_dir = in %s",
			   d->config_path);
		return;
	}
	kanca_user(d, dir, &w);
	if (stat(dir, &sb) < 0) {
		e = errno;
		if (e != ENOENT) {
			doctor_say(d, FAIL, "spool",
				   "%s cannot be examined: %s. Fix: set spool_dir = in %s to a directory "
				   "kanca's user may write",
				   dir, strerror(e), d->config_path);
			return;
		}
		bad = check_spool_missing(d, &w, dir, at, sizeof at);
		check_spool_space(d, dir, at);
		if (!bad)
			doctor_say(d, OK, "spool records", "nothing waits (there is no spool yet)");
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		doctor_say(d, FAIL, "spool",
			   "%s is not a directory. Fix: remove it, or set spool_dir = in %s to a "
			   "directory",
			   dir, d->config_path);
		return;
	}
	e = check_path(d, &w, "spool", FAIL, "the spool directory", dir,
		       "a delivery the store cannot take gets 503 instead of being spooled", alt);
	bad += e != 0;
	for (size_t i = 0; e != EROFS && i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, subs[i][0]);
		bad +=
		    check_path(d, &w, "spool", FAIL, subs[i][1], p, "kanca cannot spool or drain through it", alt) != 0;
	}
	snprintf(p, sizeof p, "%s/drain.lock", dir);
	if (e != EROFS)
		bad += check_path(d, &w, "spool", FAIL, "its drain.lock", p,
				  "kanca's processors cannot drain the spool (left by a drain run as another user?)",
				  "") != 0;
	if (!bad)
		doctor_say(d, OK, "spool", "%s (%s) is writable by %s", dir, describe(&sb, desc, sizeof desc), w.name);
	check_spool_space(d, dir, dir);
	if (spool_stat(dir, &st) < 0) {
		doctor_say(d, FAIL, "spool records", "%s cannot be read: %s. Fix: see the spool line (owner and mode)",
			   dir, strerror(errno));
		return;
	}
	if (st.records)
		doctor_say(
		    d, WARN, "spool waiting",
		    "%ld deliver%s (%llu bytes), answered but not yet in the store, wait in %s/new; the oldest was "
		    "written %lld s ago. Fix: kancactl spool drain (as the user kanca runs as); the processors drain "
		    "by themselves once the store commits: if they do not, see the store lines",
		    st.records, st.records == 1 ? "y" : "ies", st.bytes, dir,
		    st.oldest && (long long)time(NULL) > st.oldest ? (long long)time(NULL) - st.oldest : 0);
	if (st.bad)
		doctor_say(
		    d, WARN, "spool set aside",
		    "%ld record%s in %s/bad, never to be stored: a failed checksum, or a delivery the store refused "
		    "for good (its source is gone, it no longer identifies); kanca's log names each with why. Fix: "
		    "read kanca's log for each, then keep or remove the files in %s/bad",
		    st.bad, st.bad == 1 ? "" : "s", dir, dir);
	if (!st.records && !st.bad)
		doctor_say(d, OK, "spool records", "nothing waits in %s%s", dir,
			   st.partial ? " (files in tmp/: being written, or a crash's leftover that a drain removes)"
				      : "");
}

int doctor_check_sources(struct doctor *d, struct store_rows **out)
{
	size_t n, enabled = 0, disabled = 0, found = 0;
	struct store_rows *rows;

	*out = NULL;
	if (store_list_sources(d->store, clock_now(), &rows) < 0) {
		doctor_say(d, FAIL, "sources", "cannot be listed: %s. Fix: see the store and migrations lines",
			   store_error(d->store));
		return -1;
	}
	n = store_rows_count(rows);
	for (size_t r = 0; r < n; r++) {
		const char *prov = store_rows_get(rows, r, 1, NULL), *acc = store_rows_get(rows, r, 2, NULL);
		int on = strcmp(store_rows_get(rows, r, 3, NULL), "0") != 0;
		long secrets = strtol(store_rows_get(rows, r, 5, NULL), NULL, 10);
		const struct provider *p = registry_find(prov);
		char name[2 * KANCA_SEGMENT_MAX + 16];

		if (!doctor_wanted(d, prov, acc))
			continue;
		found++;
		snprintf(name, sizeof name, "source %s/%s", prov, acc);
		if (!on) {
			disabled++;
			if (d->only_provider)
				doctor_say(
				    d, WARN, name,
				    "is disabled: kanca answers 403 and doctor sends it nothing. Fix: kancactl source "
				    "enable %s %s",
				    prov, acc);
			continue;
		}
		enabled++;
		if (!p)
			doctor_say(d, WARN, name,
				   "names a provider this kanca does not know: its deliveries get 404. Fix: kancactl "
				   "providers lists the known ones");
		else if (p->needs_secret && secrets == 0)
			doctor_say(
			    d, WARN, name,
			    "has no unexpired secret: kanca refuses every delivery (fail closed). Fix: kancactl source "
			    "secret add %s %s --secret-stdin",
			    prov, acc);
	}
	if (d->only_provider && !found) {
		doctor_say(d, FAIL, "sources", "no source %s/%s. Fix: kancactl source list shows the sources",
			   d->only_provider, d->only_account);
		store_rows_free(rows);
		return -1;
	}
	if (enabled == 0)
		doctor_say(d, WARN, "sources",
			   "no enabled source: kanca accepts nothing. Fix: kancactl source add PROVIDER ACCOUNT "
			   "--secret-stdin");
	else if (!d->only_provider)
		doctor_say(d, OK, "sources", "%zu enabled, %zu disabled", enabled, disabled);
	*out = rows;
	return 0;
}
