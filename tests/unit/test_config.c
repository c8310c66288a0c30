/* test_config.c: defaults, every key from a file, every error reported with file:line and key. */
#include "first.h"
#include "config.h"
#include "buf.h"
#include "caps.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static char tmpdir[256];
static int nfiles;

/* Writes content to a new file in the temp dir; returns its path (static storage, one per call). */
static const char *write_file(const char *content, size_t n)
{
	static char paths[64][300];
	char *path;
	FILE *f;

	if (nfiles >= 64)
		abort();
	path = paths[nfiles];
	snprintf(path, sizeof paths[0], "%s/c%d.conf", tmpdir, nfiles);
	nfiles++;
	f = fopen(path, "w");
	if (!f || fwrite(content, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static const char *write_text(const char *content)
{
	return write_file(content, strlen(content));
}

/* Number of '\n'-terminated lines in s. */
static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static void test_defaults(void)
{
	struct config c;

	memset(&c, 0x7f, sizeof c);
	config_defaults(&c);
	is_str(c.store, "sqlite:/var/lib/kanca/kanca.db", "default store");
	is_int(c.max_body_bytes, 1024 * 1024, "default max_body_bytes is 1M");
	is_int(c.max_body_bytes, KANCA_BODY_DEFAULT, "default max_body_bytes is KANCA_BODY_DEFAULT");
	is_int(c.log_level, LOG_LEVEL_INFO, "default log_level is info");
	is_str(c.base_path, "", "default base_path is empty");
	is_int(c.timestamp_tolerance, 300, "default timestamp_tolerance is 300");
	is_int(c.processing_lease, 60, "default processing_lease is 60");
	is_int(c.source_cache_seconds, 1, "default source_cache_seconds is 1");
}

static void test_config_path(void)
{
	const char *p;

	setenv("KANCA_CONFIG", "/some/where/k.conf", 1);
	is_str(config_path(), "/some/where/k.conf", "config_path follows KANCA_CONFIG");
	setenv("KANCA_CONFIG", "", 1);
	p = config_path();
	ok(p && *p, "config_path with an empty KANCA_CONFIG falls back to a default (%s)", p ? p : "NULL");
	unsetenv("KANCA_CONFIG");
	p = config_path();
	ok(p && *p && strcmp(p, "/some/where/k.conf") != 0, "config_path without KANCA_CONFIG is the default (%s)",
	   p ? p : "NULL");
}

static void test_every_key(void)
{
	struct config c;
	struct buf err;
	const char *path;
	int rc;

	path = write_text("# kanca test configuration\n"
			  "\n"
			  "store = sqlite:/tmp/kanca-test.db\n"
			  "   # an indented comment\n"
			  "max_body_bytes=512K\n"
			  "\t\n"
			  "log_level\t=\tdebug   \n"
			  "base_path = /hooks\r\n"
			  "timestamp_tolerance = 60");
	buf_init(&err, 65536);
	config_defaults(&c);
	rc = config_load(&c, path, &err);
	is_int(rc, 0, "a file setting every key loads");
	is_str(buf_str(&err), "", "no error text");
	is_str(c.store, "sqlite:/tmp/kanca-test.db", "store from the file");
	is_int(c.max_body_bytes, 512 * 1024, "max_body_bytes 512K from the file");
	is_int(c.log_level, LOG_LEVEL_DEBUG, "log_level debug from the file (tabs around =, trailing blanks)");
	is_str(c.base_path, "/hooks", "base_path from the file (CRLF line end)");
	is_int(c.timestamp_tolerance, 60, "timestamp_tolerance from the last line without a newline");
	buf_free(&err);

	/* a value holding '=' and a postgresql URI; keys not in the file keep their defaults */
	path = write_text("store = postgresql://kanca@localhost/kanca?sslmode=disable&connect_timeout=5\n");
	buf_init(&err, 65536);
	config_defaults(&c);
	rc = config_load(&c, path, &err);
	is_int(rc, 0, "a postgresql store loads");
	is_str(c.store, "postgresql://kanca@localhost/kanca?sslmode=disable&connect_timeout=5",
	       "everything after the first = is the value");
	is_int(c.max_body_bytes, 1024 * 1024, "keys not in the file keep their default");
	is_int(c.timestamp_tolerance, 300, "timestamp_tolerance keeps its default");
	buf_free(&err);

	/* an empty file and a file of comments only */
	path = write_text("");
	buf_init(&err, 65536);
	config_defaults(&c);
	is_int(config_load(&c, path, &err), 0, "an empty file loads");
	is_int(c.max_body_bytes, 1024 * 1024, "an empty file keeps the defaults");
	buf_free(&err);
	path = write_text("# only\n#comments\n\n   \n# and blank lines\n");
	buf_init(&err, 65536);
	config_defaults(&c);
	is_int(config_load(&c, path, &err), 0, "a file of comments and blank lines loads");
	is_str(buf_str(&err), "", "comments and blank lines produce no error");
	buf_free(&err);
}

/* One bad line: load fails with exactly one error line "path:LINE: key: ..." that names what. */
static void expect_bad(const char *content, int line, const char *key, const char *what)
{
	struct config c;
	struct buf err;
	const char *path = write_text(content);
	char prefix[400];
	int rc;

	char shown[200];

	if (key) {
		snprintf(prefix, sizeof prefix, "%s:%d: %s: ", path, line, key);
		snprintf(shown, sizeof shown, "FILE:%d: %s: ", line, key);
	} else {
		snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
		snprintf(shown, sizeof shown, "FILE:%d: ", line);
	}
	buf_init(&err, 65536);
	config_defaults(&c);
	rc = config_load(&c, path, &err);
	is_int(rc, -1, "%s: load fails", what);
	ok(strncmp(buf_str(&err), prefix, strlen(prefix)) == 0, "%s: error starts with \"%s\"", what, shown);
	if (strncmp(buf_str(&err), prefix, strlen(prefix)) != 0)
		diag("got: %s", buf_str(&err));
	is_int(count_lines(buf_str(&err)), 1, "%s: exactly one error line", what);
	buf_free(&err);
}

static void test_bad_values(void)
{
	char longv[1100], line[1200];

	expect_bad("store = mysql://localhost/kanca\n", 1, "store", "store with an unknown scheme");
	expect_bad("# c\nstore = sqlite:\n", 2, "store", "store sqlite: without a path");
	expect_bad("store = /var/lib/kanca.db\n", 1, "store", "store without a scheme");
	memset(longv, 'x', 1030);
	longv[1030] = '\0';
	snprintf(line, sizeof line, "store = sqlite:/%s\n", longv);
	expect_bad(line, 1, "store", "store longer than the field");

	expect_bad("max_body_bytes = 0\n", 1, "max_body_bytes", "max_body_bytes 0");
	expect_bad("max_body_bytes = 65M\n", 1, "max_body_bytes", "max_body_bytes above 64M");
	expect_bad("max_body_bytes = 67108865\n", 1, "max_body_bytes", "max_body_bytes one byte above 64M");
	expect_bad("max_body_bytes = -1\n", 1, "max_body_bytes", "max_body_bytes negative");
	expect_bad("max_body_bytes = abc\n", 1, "max_body_bytes", "max_body_bytes not a number");
	expect_bad("max_body_bytes = 1G\n", 1, "max_body_bytes", "max_body_bytes with a G suffix");
	expect_bad("max_body_bytes = 10 K\n", 1, "max_body_bytes", "max_body_bytes with a space before the suffix");
	expect_bad("max_body_bytes =\n", 1, "max_body_bytes", "max_body_bytes empty");
	expect_bad("max_body_bytes = 99999999999999999999999\n", 1, "max_body_bytes", "max_body_bytes out of range");
	/* 2^54 + 1 kibibytes is 2^64 + 1024 bytes: wraps to 1024 in 64-bit arithmetic */
	expect_bad("max_body_bytes = 18014398509481985K\n", 1, "max_body_bytes",
		   "max_body_bytes whose K multiplication overflows");
	/* 2^44 + 1 mebibytes wraps to 1M */
	expect_bad("max_body_bytes = 17592186044417M\n", 1, "max_body_bytes",
		   "max_body_bytes whose M multiplication overflows");

	expect_bad("log_level = verbose\n", 1, "log_level", "log_level unknown word");
	expect_bad("log_level =\n", 1, "log_level", "log_level empty");
	expect_bad("log_level = 3\n", 1, "log_level", "log_level as a number");

	expect_bad("base_path = hooks\n", 1, "base_path", "base_path without a leading /");
	expect_bad("base_path = /hooks/\n", 1, "base_path", "base_path with a trailing /");
	expect_bad("base_path = /\n", 1, "base_path", "base_path of just /");
	expect_bad("base_path = /hooks?x=1\n", 1, "base_path", "base_path with a query");
	memset(longv, 'p', 300);
	longv[300] = '\0';
	snprintf(line, sizeof line, "base_path = /%s\n", longv);
	expect_bad(line, 1, "base_path", "base_path longer than the field");

	expect_bad("timestamp_tolerance = 0\n", 1, "timestamp_tolerance", "timestamp_tolerance 0");
	expect_bad("processing_lease = 0\n", 1, "processing_lease", "processing_lease 0");
	expect_bad("processing_lease = 3601\n", 1, "processing_lease", "processing_lease 3601");
	expect_bad("source_cache_seconds = 301\n", 1, "source_cache_seconds", "source_cache_seconds 301");
	expect_bad("source_cache_seconds = -1\n", 1, "source_cache_seconds", "source_cache_seconds negative");
	expect_bad("source_cache_seconds = 1s\n", 1, "source_cache_seconds", "source_cache_seconds with a unit");
	expect_bad("timestamp_tolerance = 3601\n", 1, "timestamp_tolerance", "timestamp_tolerance 3601");
	expect_bad("timestamp_tolerance = -5\n", 1, "timestamp_tolerance", "timestamp_tolerance negative");
	expect_bad("timestamp_tolerance = 5s\n", 1, "timestamp_tolerance", "timestamp_tolerance with a unit");
	expect_bad("timestamp_tolerance =\n", 1, "timestamp_tolerance", "timestamp_tolerance empty");
	expect_bad("timestamp_tolerance = 99999999999999999999\n", 1, "timestamp_tolerance",
		   "timestamp_tolerance out of range");

	expect_bad("\n\nnosuch = 1\n", 3, "nosuch", "unknown key");
	expect_bad("Store = sqlite:/x.db\n", 1, "Store", "keys are case-sensitive");
	expect_bad("log_level = warn\nlog_level = error\n", 2, "log_level", "key set twice");
	expect_bad("# comment\nlog_level debug\n", 2, NULL, "missing =");
}

static void test_bounds(void)
{
	struct config c;
	struct buf err;

	buf_init(&err, 65536);
	config_defaults(&c);
	is_int(config_set(&c, "max_body_bytes", "64M", &err), 0, "max_body_bytes 64M is accepted");
	is_int(c.max_body_bytes, 64 * 1024 * 1024, "max_body_bytes 64M value");
	is_int(config_set(&c, "max_body_bytes", "67108864", &err), 0, "max_body_bytes 67108864 is accepted");
	is_int(c.max_body_bytes, 67108864, "max_body_bytes 67108864 value");
	is_int(config_set(&c, "max_body_bytes", "1", &err), 0, "max_body_bytes 1 is accepted");
	is_int(c.max_body_bytes, 1, "max_body_bytes 1 value");
	is_int(config_set(&c, "max_body_bytes", "2m", &err), 0, "max_body_bytes lowercase m is accepted");
	is_int(c.max_body_bytes, 2 * 1024 * 1024, "max_body_bytes 2m value");
	is_int(config_set(&c, "max_body_bytes", "100k", &err), 0, "max_body_bytes lowercase k is accepted");
	is_int(c.max_body_bytes, 100 * 1024, "max_body_bytes 100k value");
	is_int(config_set(&c, "source_cache_seconds", "0", &err), 0, "source_cache_seconds 0 is accepted");
	is_int(c.source_cache_seconds, 0, "source_cache_seconds 0 value");
	is_int(config_set(&c, "source_cache_seconds", "300", &err), 0, "source_cache_seconds 300 is accepted");
	is_int(c.source_cache_seconds, 300, "source_cache_seconds 300 value");
	is_int(config_set(&c, "timestamp_tolerance", "1", &err), 0, "timestamp_tolerance 1 is accepted");
	is_int(c.timestamp_tolerance, 1, "timestamp_tolerance 1 value");
	is_int(config_set(&c, "timestamp_tolerance", "3600", &err), 0, "timestamp_tolerance 3600 is accepted");
	is_int(c.timestamp_tolerance, 3600, "timestamp_tolerance 3600 value");
	is_int(config_set(&c, "log_level", "error", &err), 0, "log_level error");
	is_int(c.log_level, LOG_LEVEL_ERROR, "log_level error value");
	is_int(config_set(&c, "log_level", "warn", &err), 0, "log_level warn");
	is_int(c.log_level, LOG_LEVEL_WARN, "log_level warn value");
	is_int(config_set(&c, "log_level", "info", &err), 0, "log_level info");
	is_int(c.log_level, LOG_LEVEL_INFO, "log_level info value");
	is_int(config_set(&c, "base_path", "/a/b", &err), 0, "base_path /a/b");
	is_str(c.base_path, "/a/b", "base_path /a/b value");
	is_int(config_set(&c, "base_path", "", &err), 0, "base_path empty");
	is_str(c.base_path, "", "base_path empty value");
	is_int(config_set(&c, "store", "postgres://h/db", &err), 0, "store postgres:// is accepted");
	is_str(c.store, "postgres://h/db", "store postgres:// value");
	is_str(buf_str(&err), "", "no error text after valid config_set calls");

	/* a suffix multiplication that overflows 64 bits must not wrap into a small valid size */
	buf_reset(&err);
	c.max_body_bytes = 777;
	is_int(config_set(&c, "max_body_bytes", "18014398509481985K", &err), -1,
	       "config_set refuses 18014398509481985K (2^64 + 1024 bytes)");
	is_int(c.max_body_bytes, 777, "max_body_bytes is not set to the wrapped value");

	/* config_set errors */
	buf_reset(&err);
	is_int(config_set(&c, "timestamp_tolerance", "0", &err), -1, "config_set refuses a bad value");
	ok(contains(buf_str(&err), "timestamp_tolerance"), "config_set error names the key: %s", buf_str(&err));
	buf_reset(&err);
	is_int(config_set(&c, "no_such_key", "1", &err), -1, "config_set refuses an unknown key");
	ok(contains(buf_str(&err), "no_such_key") && contains(buf_str(&err), "unknown"),
	   "config_set unknown key error names it: %s", buf_str(&err));
	buf_reset(&err);
	is_int(config_set(&c, "store", "ftp://x", &err), -1, "config_set refuses a bad store");
	ok(contains(buf_str(&err), "store"), "config_set store error names the key: %s", buf_str(&err));
	buf_free(&err);
}

/* retention, retention_dead: defaults and bounds */
static void test_retention_keys(void)
{
	struct config c;
	struct buf err;

	buf_init(&err, 4096);
	config_defaults(&c);
	ok(c.retention == 30LL * 86400, "retention default 30d");
	ok(c.retention_dead == 90LL * 86400, "retention_dead default 90d");
	is_int(config_set(&c, "retention", "1h", &err), 0, "retention 1h is accepted");
	ok(c.retention == 3600, "retention 1h = 3600 s");
	is_int(config_set(&c, "retention", "3650d", &err), 0, "retention 3650d is accepted");
	ok(c.retention == 3650LL * 86400, "retention 3650d value");
	is_int(config_set(&c, "retention", "59m", &err), -1, "retention 59m (under an hour) is refused");
	is_int(config_set(&c, "retention", "3651d", &err), -1, "retention 3651d is refused");
	is_int(config_set(&c, "retention_dead", "30", &err), -1, "retention_dead 30 (seconds) is refused");
	is_int(config_set(&c, "retention_dead", "2w", &err), -1, "retention_dead 2w (no such unit) is refused");
	ok(contains(buf_str(&err), "retention_dead"), "the refusal names the key: %s", buf_str(&err));
	buf_free(&err);
}

/* answer_deadline, spool_dir, spool_max_bytes: defaults, bounds, the spool directory in effect */
static void test_spool_keys(void)
{
	struct config c;
	struct buf err;
	char dir[1024];

	buf_init(&err, 4096);
	config_defaults(&c);
	is_int(c.answer_deadline_ms, 2000, "answer_deadline default 2 s");
	ok(c.spool_max_bytes == 256ULL * 1024 * 1024, "spool_max_bytes default 256M");
	is_int(config_set(&c, "answer_deadline", "0.1", &err), 0, "answer_deadline 0.1 is accepted");
	is_int(c.answer_deadline_ms, 100, "answer_deadline 0.1 = 100 ms");
	is_int(config_set(&c, "answer_deadline", "30", &err), 0, "answer_deadline 30 is accepted");
	is_int(c.answer_deadline_ms, 30000, "answer_deadline 30 = 30000 ms");
	is_int(config_set(&c, "answer_deadline", "2.5", &err), 0, "answer_deadline 2.5 is accepted");
	is_int(c.answer_deadline_ms, 2500, "answer_deadline 2.5 = 2500 ms");
	is_int(config_set(&c, "answer_deadline", "0.09", &err), -1, "answer_deadline 0.09 is refused");
	is_int(config_set(&c, "answer_deadline", "30.5", &err), -1, "answer_deadline 30.5 is refused");
	is_int(config_set(&c, "answer_deadline", "nan", &err), -1, "answer_deadline nan is refused");
	is_int(config_set(&c, "answer_deadline", "2s", &err), -1, "answer_deadline 2s is refused");
	ok(contains(buf_str(&err), "answer_deadline"), "the refusal names answer_deadline: %s", buf_str(&err));
	buf_reset(&err);
	is_int(config_set(&c, "spool_max_bytes", "64K", &err), 0, "spool_max_bytes 64K is accepted");
	ok(c.spool_max_bytes == 65536, "spool_max_bytes 64K value");
	is_int(config_set(&c, "spool_max_bytes", "1024G", &err), 0, "spool_max_bytes 1024G is accepted");
	ok(c.spool_max_bytes == 1ULL << 40, "spool_max_bytes 1024G value");
	is_int(config_set(&c, "spool_max_bytes", "63K", &err), -1, "spool_max_bytes 63K is refused");
	is_int(config_set(&c, "spool_max_bytes", "1025G", &err), -1, "spool_max_bytes 1025G is refused");
	ok(contains(buf_str(&err), "spool_max_bytes"), "the refusal names spool_max_bytes: %s", buf_str(&err));
	buf_reset(&err);
	is_int(config_set(&c, "store", "sqlite:/var/lib/site/kanca.db", &err), 0, "a SQLite store");
	is_int(config_spool_dir(&c, dir, sizeof dir), 0, "the default spool directory fits");
	is_str(dir, "/var/lib/site/spool", "the default spool of a SQLite store is spool/ beside the file");
	is_int(config_set(&c, "store", "postgresql://h/db", &err), 0, "a PostgreSQL store");
	is_int(config_spool_dir(&c, dir, sizeof dir), 0, "the default spool directory fits (PostgreSQL)");
	is_str(dir, "/var/lib/kanca/spool", "the default spool of a PostgreSQL store is /var/lib/kanca/spool");
	is_int(config_set(&c, "spool_dir", "/srv/spool", &err), 0, "spool_dir /srv/spool");
	is_int(config_spool_dir(&c, dir, sizeof dir), 0, "spool_dir in effect");
	is_str(dir, "/srv/spool", "spool_dir, when set, is the spool");
	is_int(config_set(&c, "spool_dir", "spool", &err), -1, "spool_dir spool (relative) is refused");
	ok(contains(buf_str(&err), "absolute"), "the refusal says it must be absolute: %s", buf_str(&err));
	buf_free(&err);
}

static void test_forward_allow_link_local(void)
{
	static const char *const bad[] = {"maybe", "YES", "No", "1", "0", "true", "", "yes ", NULL};
	struct config c;
	struct buf err;

	buf_init(&err, 4096);
	config_defaults(&c);
	is_int(c.forward_allow_link_local, 0, "forward_allow_link_local default no");
	is_int(config_set(&c, "forward_allow_link_local", "yes", &err), 0, "forward_allow_link_local yes is accepted");
	is_int(c.forward_allow_link_local, 1, "forward_allow_link_local yes = 1");
	is_int(config_set(&c, "forward_allow_link_local", "no", &err), 0, "forward_allow_link_local no is accepted");
	is_int(c.forward_allow_link_local, 0, "forward_allow_link_local no = 0");
	for (size_t i = 0; bad[i]; i++) {
		buf_reset(&err);
		c.forward_allow_link_local = 7;
		is_int(config_set(&c, "forward_allow_link_local", bad[i], &err), -1,
		       "forward_allow_link_local \"%s\" is refused", bad[i]);
		ok(contains(buf_str(&err), "expected yes or no") && c.forward_allow_link_local == 7,
		   "... naming what it takes, the value untouched: %s", buf_str(&err));
	}
	expect_bad("forward_allow_link_local = maybe\n", 1, "forward_allow_link_local",
		   "forward_allow_link_local maybe");
	buf_free(&err);
}

static void test_long_lines(void)
{
	struct config c;
	struct buf err;
	char *text;
	const char *path;
	size_t n;
	char want[400];

	/* exactly KANCA_CONFIG_LINE_MAX characters (a comment) is fine; the next line still counts */
	text = malloc(KANCA_CONFIG_LINE_MAX + 2000);
	if (!text)
		abort();
	text[0] = '#';
	memset(text + 1, 'x', KANCA_CONFIG_LINE_MAX - 1);
	n = KANCA_CONFIG_LINE_MAX;
	n += (size_t)snprintf(text + n, 200, "\nlog_level = warn\n");
	path = write_file(text, n);
	buf_init(&err, 65536);
	config_defaults(&c);
	is_int(config_load(&c, path, &err), 0, "a line of exactly %d characters is accepted", KANCA_CONFIG_LINE_MAX);
	is_int(c.log_level, LOG_LEVEL_WARN, "the line after it is read");
	buf_free(&err);

	/* one character more is an error naming file:line, and the lines after it are still read */
	text[0] = '#';
	memset(text + 1, 'y', KANCA_CONFIG_LINE_MAX);
	n = KANCA_CONFIG_LINE_MAX + 1;
	n += (size_t)snprintf(text + n, 200, "\nlog_level = warn\nbogus = 1\n");
	path = write_file(text, n);
	buf_init(&err, 65536);
	config_defaults(&c);
	is_int(config_load(&c, path, &err), -1, "a line of %d characters is refused", KANCA_CONFIG_LINE_MAX + 1);
	snprintf(want, sizeof want, "%s:1: ", path);
	ok(strncmp(buf_str(&err), want, strlen(want)) == 0 && contains(buf_str(&err), "longer"),
	   "the long line error names FILE:1: and says why");
	snprintf(want, sizeof want, "%s:3: bogus: unknown key\n", path);
	ok(contains(buf_str(&err), want), "line numbers stay right after a long line (FILE:3: bogus: unknown key)");
	is_int(count_lines(buf_str(&err)), 2, "two error lines");
	is_int(c.log_level, LOG_LEVEL_WARN, "the valid line after the long one is applied");
	if (count_lines(buf_str(&err)) != 2)
		diag("err: %s", buf_str(&err));
	buf_free(&err);

	/* a long value line (not a comment) */
	memcpy(text, "store = sqlite:/", 16);
	memset(text + 16, 'z', 5000);
	text[5016] = '\n';
	path = write_file(text, 5017);
	buf_init(&err, 65536);
	config_defaults(&c);
	is_int(config_load(&c, path, &err), -1, "a 5016-character store line is refused");
	is_str(c.store, "sqlite:/var/lib/kanca/kanca.db", "a refused long line does not set the key");
	is_int(count_lines(buf_str(&err)), 1, "one error line for it");
	buf_free(&err);
	free(text);
}

static void test_missing_file(void)
{
	struct config c;
	struct buf err;
	char path[400];

	snprintf(path, sizeof path, "%s/does-not-exist.conf", tmpdir);
	buf_init(&err, 65536);
	config_defaults(&c);
	is_int(config_load(&c, path, &err), -1, "a file that does not exist is an error");
	ok(contains(buf_str(&err), path), "the error names the file: %s", buf_str(&err));
	buf_free(&err);
}

static void test_all_problems(void)
{
	struct config c;
	struct buf err;
	const char *path;
	char want[400];
	const char *e;

	path = write_text("# several problems, each must be reported\n"
			  "store = mysql://x\n"
			  "max_body_bytes = 0\n"
			  "log_level = loud\n"
			  "base_path = nope\n"
			  "timestamp_tolerance = 9999\n"
			  "frobnicate = yes\n"
			  "just some words\n"
			  "log_level = debug\n");
	buf_init(&err, 65536);
	config_defaults(&c);
	is_int(config_load(&c, path, &err), -1, "a file with many problems fails");
	e = buf_str(&err);
	is_int(count_lines(e), 8, "eight problems, eight error lines");
	snprintf(want, sizeof want, "%s:2: store: ", path);
	ok(contains(e, want), "line 2 store reported");
	snprintf(want, sizeof want, "%s:3: max_body_bytes: ", path);
	ok(contains(e, want), "line 3 max_body_bytes reported");
	snprintf(want, sizeof want, "%s:4: log_level: ", path);
	ok(contains(e, want), "line 4 log_level reported");
	snprintf(want, sizeof want, "%s:5: base_path: ", path);
	ok(contains(e, want), "line 5 base_path reported");
	snprintf(want, sizeof want, "%s:6: timestamp_tolerance: ", path);
	ok(contains(e, want), "line 6 timestamp_tolerance reported");
	snprintf(want, sizeof want, "%s:7: frobnicate: unknown key", path);
	ok(contains(e, want), "line 7 unknown key reported");
	snprintf(want, sizeof want, "%s:8: ", path);
	ok(contains(e, want), "line 8 missing = reported");
	snprintf(want, sizeof want, "%s:9: log_level: ", path);
	ok(contains(e, want), "line 9 log_level set twice reported");
	ok(contains(e, "\"loud\"") && contains(e, "\"9999\""), "the bad values are quoted in the messages");
	if (count_lines(e) != 8)
		diag("err:\n%s", e);
	buf_free(&err);
}

static void test_describe(void)
{
	static const char *keys[] = {"store",	   "max_body_bytes",	  "log_level",
				     "base_path",  "timestamp_tolerance", "source_cache_seconds",
				     "processing", "processing_lease",	  "answer_deadline",
				     "spool_dir",  "spool_max_bytes",	  "forward_allow_link_local",
				     "retention",  "retention_dead"};
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	if (!f) {
		ok(0, "open_memstream");
		return;
	}
	config_describe(f);
	fclose(f);
	is_int(count_lines(text), (int)(sizeof keys / sizeof keys[0]), "config_describe writes one line per key");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char want[64];
		int found = 0;

		snprintf(want, sizeof want, "%s\t", keys[i]);
		for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (strncmp(l, want, strlen(want)) == 0)
				found = 1;
		ok(found, "config_describe lists %s", keys[i]);
	}
	ok(contains(text, "max_body_bytes\t1M\t"), "config_describe shows the default of max_body_bytes");
	ok(contains(text, "timestamp_tolerance\t300\t"), "config_describe shows the default of timestamp_tolerance");
	free(text);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/kanca-config-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_defaults();
	test_config_path();
	test_every_key();
	test_bad_values();
	test_bounds();
	test_spool_keys();
	test_retention_keys();
	test_forward_allow_link_local();
	test_long_lines();
	test_missing_file();
	test_all_problems();
	test_describe();
	for (int i = 0; i < nfiles; i++) {
		char p[400];
		snprintf(p, sizeof p, "%s/c%d.conf", tmpdir, i);
		unlink(p);
	}
	rmdir(tmpdir);
	return done_testing();
}
