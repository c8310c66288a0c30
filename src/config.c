/* config.c: configuration keys declared once, parsed, validated, every error reported. */
#include "first.h"
#include "config.h"
#include "buf.h"
#include "caps.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef KANCA_DEFAULT_SPOOL
#define KANCA_DEFAULT_SPOOL "/var/lib/kanca/spool"
#endif
#ifndef KANCA_DEFAULT_CONFIG
#define KANCA_DEFAULT_CONFIG "/etc/kanca/kanca.conf"
#endif

enum key_type {
	KEY_STRING,
	KEY_SIZE,
	KEY_SECONDS,
	KEY_CACHE_SECONDS,
	KEY_LOGLEVEL,
	KEY_STORE,
	KEY_PATHPREFIX,
	KEY_PROCESSING,
	KEY_DEADLINE,
	KEY_BIGSIZE,
	KEY_ABSPATH,
	KEY_YESNO,
	KEY_DURATION
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;
	const char *def;
	const char *doc;
};

#define F(m) offsetof(struct config, m), sizeof(((struct config *)0)->m)

static const struct key keys[] = {
    {"store", KEY_STORE, F(store), "sqlite:/var/lib/kanca/kanca.db",
     "where events are stored: sqlite:/path/file.db (embedded, WAL mode) or a libpq URI postgresql://..."},
    {"max_body_bytes", KEY_SIZE, F(max_body_bytes), "1M",
     "largest request body accepted; larger bodies get 413 without being read (suffix K or M allowed, at most 64M)"},
    {"log_level", KEY_LOGLEVEL, F(log_level), "info", "error, warn, info or debug; logs go to stderr"},
    {"base_path", KEY_PATHPREFIX, F(base_path), "",
     "URL prefix in front of kanca's routes, e.g. /hooks for /hooks/webhook/<provider>/<account>"},
    {"timestamp_tolerance", KEY_SECONDS, F(timestamp_tolerance), "300",
     "seconds a signed timestamp may differ from now (Stripe, Standard Webhooks, Svix); 1 to 3600"},
    {"source_cache_seconds", KEY_CACHE_SECONDS, F(source_cache_seconds), "1",
     "seconds a responder reuses a source and its secrets before asking the store again (0 to 300; 0 = always ask); "
     "kancactl changes reach every responder within this time"},
    {"processing", KEY_PROCESSING, F(processing_fork), "fork",
     "fork: each responder forks a processor that handles events after the answer; off: only kancactl worker does"},
    {"processing_lease", KEY_SECONDS, F(processing_lease), "60",
     "seconds a processor holds an event it claimed (1 to 3600): if it dies mid-action, another takes the event "
     "after this; keep it above the longest run of a source's actions (their timeouts added up)"},

    {"answer_deadline", KEY_DEADLINE, F(answer_deadline_ms), "2",
     "seconds (0.1 to 30, decimals allowed) from reading a delivery to writing its answer; every wait on the store "
     "is bounded by it, and a delivery the store cannot commit in time is spooled"},
    {"spool_dir", KEY_ABSPATH, F(spool_dir), "",
     "directory where authentic deliveries wait (fsync'd) while the store cannot commit them; empty: \"spool\" "
     "beside a SQLite file, " KANCA_DEFAULT_SPOOL " for PostgreSQL; must be writable by the user kanca runs as"},
    {"spool_max_bytes", KEY_BIGSIZE, F(spool_max_bytes), "256M",
     "most bytes the spool may hold (suffix K, M or G); when it is full a delivery the store cannot take gets 503 "
     "with Retry-After"},
    {"forward_allow_link_local", KEY_YESNO, F(forward_allow_link_local), "no",
     "yes: a forward action may go to a link-local address (169.254.0.0/16, fe80::/10), a cloud metadata service "
     "(169.254.169.254, fd00:ec2::254, 100.100.100.200) or 0.0.0.0; no: such a URL is refused by kancactl and a "
     "name that resolves there is not connected to"},
    {"retention", KEY_DURATION, F(retention), "30d",
     "how long processed and test events, their attempts and the audit log are kept (1h to 3650d; suffix d, h, m "
     "or s); the processors delete what is older in small batches"},
    {"retention_dead", KEY_DURATION, F(retention_dead), "90d",
     "how long dead events (and their attempts) are kept, for kancactl replay (1h to 3650d)"},
};

#define NKEYS (sizeof keys / sizeof keys[0])

static int parse_size(const char *v, unsigned long long *out)
{
	char *end;
	unsigned long long n, mult = 1;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	if (*end == 'K' || *end == 'k')
		mult = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mult = 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		mult = 1024ULL * 1024 * 1024, end++;
	if (n > ~0ULL / mult)
		return -1;
	n *= mult;
	if (*end == 'i' && (end[1] == 'B'))
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return -1;
	*out = n;
	return 0;
}

static int set_key(struct config *c, const struct key *k, const char *v, struct buf *err)
{
	char *dst = (char *)c + k->offset;
	unsigned long long n;
	char *end;
	long l;
	int lvl;

	switch (k->type) {
	case KEY_STORE:
		if (strncmp(v, "sqlite:", 7) != 0 && strncmp(v, "postgresql://", 13) != 0 &&
		    strncmp(v, "postgres://", 11) != 0)
			return buf_fail(err, "%s: must start with sqlite: or postgresql://", k->name);
		if (strncmp(v, "sqlite:", 7) == 0 && v[7] == '\0')
			return buf_fail(err, "%s: sqlite: needs a file path", k->name);
		/* fall through */
	case KEY_STRING:
	case KEY_PATHPREFIX:
	case KEY_ABSPATH:
		if (k->type == KEY_ABSPATH && v[0] && v[0] != '/')
			return buf_fail(err, "%s: must be empty or an absolute path, got \"%s\"", k->name, v);
		if (strlen(v) >= k->size)
			return buf_fail(err, "%s: longer than %zu characters", k->name, k->size - 1);
		if (k->type == KEY_PATHPREFIX && v[0] && (v[0] != '/' || v[strlen(v) - 1] == '/' || strchr(v, '?')))
			return buf_fail(err, "%s: must be empty or start with / and not end with /", k->name);
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case KEY_SIZE:
		if (parse_size(v, &n) < 0 || n < 1 || n > KANCA_BODY_LIMIT)
			return buf_fail(err, "%s: expected a size from 1 to 64M, got \"%s\"", k->name, v);
		*(size_t *)(void *)dst = (size_t)n;
		return 0;
	case KEY_BIGSIZE:
		if (parse_size(v, &n) < 0 || n < 64 * 1024 || n > (1ULL << 40))
			return buf_fail(err, "%s: expected a size from 64K to 1024G, got \"%s\"", k->name, v);
		*(unsigned long long *)(void *)dst = n;
		return 0;
	case KEY_DEADLINE: {
		double d;
		errno = 0;
		d = strtod(v, &end);
		if (errno || *end || end == v || !(d >= 0.1 && d <= 30))
			return buf_fail(err, "%s: expected seconds from 0.1 to 30, got \"%s\"", k->name, v);
		*(long *)(void *)dst = (long)(d * 1000 + 0.5);
		return 0;
	}
	case KEY_SECONDS:
		errno = 0;
		l = strtol(v, &end, 10);
		if (errno || *end || end == v || l < 1 || l > 3600)
			return buf_fail(err, "%s: expected seconds from 1 to 3600, got \"%s\"", k->name, v);
		*(long *)(void *)dst = l;
		return 0;
	case KEY_CACHE_SECONDS:
		errno = 0;
		l = strtol(v, &end, 10);
		if (errno || *end || end == v || l < 0 || l > 300)
			return buf_fail(err, "%s: expected seconds from 0 to 300, got \"%s\"", k->name, v);
		*(long *)(void *)dst = l;
		return 0;
	case KEY_PROCESSING:
		if (strcmp(v, "fork") != 0 && strcmp(v, "off") != 0)
			return buf_fail(err, "%s: expected fork or off, got \"%s\"", k->name, v);
		*(int *)(void *)dst = strcmp(v, "fork") == 0;
		return 0;
	case KEY_DURATION: {
		long long mult = 1;
		errno = 0;
		l = strtol(v, &end, 10);
		if (*end == 'd')
			mult = 86400, end++;
		else if (*end == 'h')
			mult = 3600, end++;
		else if (*end == 'm')
			mult = 60, end++;
		else if (*end == 's')
			end++;
		if (errno || *end || end == v || l < 1 || (long long)l * mult < 3600 ||
		    (long long)l * mult > 3650LL * 86400)
			return buf_fail(err, "%s: expected a duration from 1h to 3650d (e.g. 30d), got \"%s\"", k->name,
					v);
		*(long long *)(void *)dst = (long long)l * mult;
		return 0;
	}
	case KEY_YESNO:
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return buf_fail(err, "%s: expected yes or no, got \"%s\"", k->name, v);
		*(int *)(void *)dst = strcmp(v, "yes") == 0;
		return 0;
	case KEY_LOGLEVEL:
		lvl = log_level_parse(v);
		if (lvl < 0)
			return buf_fail(err, "%s: expected error, warn, info or debug, got \"%s\"", k->name, v);
		*(int *)(void *)dst = lvl;
		return 0;
	}
	return -1;
}

void config_defaults(struct config *c)
{
	struct buf ignore;

	memset(c, 0, sizeof *c);
	buf_init(&ignore, 1024);
	for (size_t i = 0; i < NKEYS; i++)
		if (set_key(c, &keys[i], keys[i].def, &ignore) < 0)
			abort(); /* a default that does not parse is a programming error */
	buf_free(&ignore);
}

const char *config_path(void)
{
	const char *p = getenv("KANCA_CONFIG");

	return p && *p ? p : KANCA_DEFAULT_CONFIG;
}

/* The index of key in the table, or -1. */
static int find_key(const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, key) == 0)
			return (int)i;
	return -1;
}

int config_set(struct config *c, const char *key, const char *value, struct buf *err)
{
	int i = find_key(key);

	return i < 0 ? buf_fail(err, "%s: unknown key", key) : set_key(c, &keys[i], value, err);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int config_load(struct config *c, const char *path, struct buf *err)
{
	FILE *f;
	char line[KANCA_CONFIG_LINE_MAX + 2];
	int lineno = 0, bad = 0;
	unsigned char seen[NKEYS] = {0};

	f = fopen(path, "r");
	if (!f) {
		(void)!buf_printf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char *s, *eq, *key, *val;
		int i;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			(void)!buf_printf(err, "%s:%d: line longer than %d characters\n", path, lineno,
					  KANCA_CONFIG_LINE_MAX);
			bad = 1;
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			(void)!buf_printf(err, "%s:%d: expected key = value\n", path, lineno);
			bad = 1;
			continue;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		i = find_key(key);
		if (i >= 0 && seen[i]) {
			(void)!buf_printf(err, "%s:%d: %s: set twice\n", path, lineno, key);
			bad = 1;
			continue;
		}
		if (i >= 0)
			seen[i] = 1;
		size_t before = err->len;
		if (buf_printf(err, "%s:%d: ", path, lineno) < 0 || config_set(c, key, val, err) < 0) {
			(void)!buf_append(err, "\n", 1);
			bad = 1;
		} else {
			(void)!buf_setlen(err, before); /* the prefix written above is dropped */
		}
	}
	if (ferror(f)) {
		(void)!buf_printf(err, "%s: read error\n", path);
		bad = 1;
	}
	fclose(f);
	return bad ? -1 : 0;
}

int config_spool_dir(const struct config *c, char *out, size_t outsz)
{
	int n;

	if (c->spool_dir[0]) {
		n = snprintf(out, outsz, "%s", c->spool_dir);
	} else if (strncmp(c->store, "sqlite:", 7) == 0) {
		const char *path = c->store + 7, *slash = strrchr(path, '/');
		if (slash)
			n = snprintf(out, outsz, "%.*s/spool", (int)(slash - path), path);
		else
			n = snprintf(out, outsz, "spool");
	} else {
		n = snprintf(out, outsz, "%s", KANCA_DEFAULT_SPOOL);
	}
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

void config_describe(FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++)
		fprintf(out, "%s\t%s\t%s\n", keys[i].name, keys[i].def, keys[i].doc);
}
