/* kancactl.c: the operator's command: a table of subcommands over the same config and store. */
#include "first.h"
#include "app.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "ctl/ctl.h"
#include "providers/registry.h"
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int cmd_config_keys(struct app *a, int argc, char **argv);
static int cmd_config_check(struct app *a, int argc, char **argv);
static int cmd_providers(struct app *a, int argc, char **argv);

static const struct ctl_command commands[] = {
	{"migrate", "", "apply pending schema migrations from sql/", 1, ctl_migrate},
	{"source add", "PROVIDER ACCOUNT [--secret S | --secret-stdin | --generate-secret] [--set KEY=VALUE]...",
	 "add a source (a provider account that may send webhooks)", 1, ctl_source_add},
	{"source list", "[--json]", "list sources with their options and number of valid secrets", 1, ctl_source_list},
	{"source secret add", "PROVIDER ACCOUNT [--secret S | --secret-stdin | --generate-secret] "
	 "[--expires DURATION | --expires-at UNIX]", "add a secret to a source (rotation: every unexpired secret verifies)",
	 1, ctl_secret_add},
	{"source secret list", "PROVIDER ACCOUNT", "list a source's secrets: id, created, expiry (never the values)", 1,
	 ctl_secret_list},
	{"source secret expire", "PROVIDER ACCOUNT ID --expires DURATION | --expires-at UNIX",
	 "set when a secret stops verifying (the end of a rotation)", 1, ctl_secret_expire},
	{"source secret remove", "PROVIDER ACCOUNT ID", "remove a secret at once", 1, ctl_secret_remove},
	{"source action add", "PROVIDER ACCOUNT forward URL [--generate-secret | --secret whsec_...] "
	 "[--static-secret S] [--header 'Name: value'] [--timeout SECONDS] | PROVIDER ACCOUNT exec /path [--timeout SECONDS] "
	 "| PROVIDER ACCOUNT notify CHANNEL | PROVIDER ACCOUNT builtin trendyol_orders",
	 "forward the source's events to URL after the answer (Standard Webhooks signed, or X-Webhook-Secret)", 1,
	 ctl_action_add},
	{"source action list", "PROVIDER ACCOUNT", "the source's actions in order", 1, ctl_action_list},
	{"source action remove", "PROVIDER ACCOUNT ID", "remove an action", 1, ctl_action_remove},
	{"worker", "[--drain] [--max N] [--lease SECONDS]",
	 "process stored events in the foreground (retries, leases); --drain stops when nothing is due", 1, ctl_worker},
	{"replay", "ID | --status dead [--source P/A] [--since DURATION]", "put events back for processing", 1,
	 ctl_replay},
	{"purge", "--older-than DURATION", "delete processed events (and their attempts) older than DURATION", 1,
	 ctl_purge},
	{"source enable", "PROVIDER ACCOUNT", "accept deliveries for a source again", 1, ctl_source_enable},
	{"source disable", "PROVIDER ACCOUNT", "refuse deliveries for a source (403)", 1, ctl_source_disable},
	{"events", "[--source P/A] [--status S] [--limit N] [--json]", "list stored events, newest first", 1,
	 ctl_events},
	{"event show", "ID [--body]", "show one event; the raw body follows a blank line byte for byte", 1,
	 ctl_event_show},
	{"stats", "[--json]", "per source, event type and status: count and last received, last 24 hours", 1,
	 ctl_stats},
	{"audit", "[--limit N]", "the newest audit log rows", 1, ctl_audit},
	{"providers", "", "list the providers kanca knows", 0, cmd_providers},
	{"config keys", "", "list configuration keys, defaults and descriptions", 0, cmd_config_keys},
	{"config check", "", "load the configuration and report every problem", 0, cmd_config_check},
	{"doctor", "[URL] [--source PROVIDER/ACCOUNT]",
	 "check the configuration, store, schema, clock and sources; with the public base URL, send each source a "
	 "signed self-test through the web server and report what to fix (exit 1 when something failed)", 0, NULL},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

__attribute__((format(printf, 1, 0))) static void vsay(const char *fmt, va_list ap)
{
	fputs("kancactl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return CTL_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return CTL_FAIL;
}

int ctl_split_source(const char *s, char *buf, size_t cap, const char **provider, const char **account)
{
	char *slash;

	if (strlen(s) >= cap)
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	slash = strchr(buf, '/');
	if (!slash || slash == buf || !slash[1] || strchr(slash + 1, '/'))
		return -1;
	*slash = '\0';
	*provider = buf;
	*account = slash + 1;
	return 0;
}

int ctl_parse_long(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end || *out <= 0 ? -1 : 0;
}

int ctl_parse_duration(const char *s, long long *seconds)
{
	char *end;
	long long v;
	long long mult = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	if (*end == 'd')
		mult = 86400, end++;
	else if (*end == 'h')
		mult = 3600, end++;
	else if (*end == 'm')
		mult = 60, end++;
	else if (*end == 's')
		end++;
	if (*end || v > (long long)1e12 / mult)
		return -1;
	*seconds = v * mult;
	return 0;
}

void ctl_json_string(FILE *f, const char *s)
{
	struct buf b;

	buf_init(&b, 64 * 1024 * 1024);
	if (s && buf_append_json_string(&b, s, strlen(s)) == 0)
		fputs(buf_str(&b), f);
	else
		fputs("null", f);
	buf_free(&b);
}

const char *ctl_time(const char *unix_text, char *out, size_t cap)
{
	if (!unix_text)
		return "-";
	clock_format(strtoll(unix_text, NULL, 10), out, cap);
	return out;
}

static int cmd_config_keys(struct app *a, int argc, char **argv)
{
	(void)a;
	(void)argv;
	if (argc)
		return ctl_usage_error("config keys takes no arguments");
	config_describe(stdout);
	return CTL_OK;
}

static int cmd_config_check(struct app *a, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return ctl_usage_error("config check takes no arguments");
	printf("%s: ok (store %s)\n", a->config_path, a->cfg.store);
	return CTL_OK;
}

static int cmd_providers(struct app *a, int argc, char **argv)
{
	const struct provider *p;

	(void)a;
	(void)argv;
	if (argc)
		return ctl_usage_error("providers takes no arguments");
	for (size_t i = 0; (p = registry_at(i)); i++) {
		printf("%-12s %s", p->name, p->summary);
		for (size_t k = 0; p->aliases && p->aliases[k]; k++)
			printf(" (alias %s)", p->aliases[k]);
		printf("\n");
	}
	return CTL_OK;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kancactl [-c CONFIG] COMMAND [ARGS]\n\n"
		   "The configuration file is -c, else $KANCA_CONFIG, else the built-in default.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s %s\n      %s\n", commands[i].name, commands[i].usage, commands[i].help);
}

/* How many of argv's words spell name ("source secret add": 3), or 0 when they do not. */
static int words_match(const char *name, int argc, char **argv)
{
	int used = 0;

	while (*name) {
		size_t n = strcspn(name, " ");
		if (used >= argc || strlen(argv[used]) != n || strncmp(argv[used], name, n) != 0)
			return 0;
		used++;
		name += n + (name[n] == ' ');
	}
	return used;
}

/* Finds the command whose words begin argv (the longest match); *used = how many words matched. */
static const struct ctl_command *find(int argc, char **argv, int *used)
{
	const struct ctl_command *best = NULL;

	*used = 0;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		int u = words_match(commands[i].name, argc, argv);
		if (u > *used) {
			*used = u;
			best = &commands[i];
		}
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	const struct ctl_command *cmd;
	struct app a;
	struct buf err;
	int i = 1, used = 0, rc;

	app_standard_fds();
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return CTL_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts("kancactl " PACKAGE_VERSION);
		return CTL_OK;
	}
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		config = argv[2];
		i = 3;
	}
	if (i >= argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	cmd = find(argc - i, argv + i, &used);
	if (!cmd) {
		fprintf(stderr, "kancactl: unknown command \"%s\"\n\n", argv[i]);
		usage(stderr);
		return CTL_USAGE;
	}
	/* doctor loads the configuration itself: its problems are findings */
	if (strcmp(cmd->name, "doctor") == 0)
		return ctl_doctor(config, argc - i - used, argv + i + used);
	/* commands that read neither the configuration nor the store */
	if (!cmd->needs_store && strcmp(cmd->name, "config check") != 0)
		return cmd->run(NULL, argc - i - used, argv + i + used);
	buf_init(&err, 8192);
	if (app_init(&a, config, 0, &err) < 0) {
		fprintf(stderr, "kancactl: configuration error:\n%s", buf_str(&err));
		buf_free(&err);
		return CTL_FAIL;
	}
	buf_free(&err);
	rc = cmd->run(&a, argc - i - used, argv + i + used);
	app_free(&a);
	return rc;
}
