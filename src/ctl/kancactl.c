/* kancactl.c: the operator's command: a table of subcommands over the same config and store. */
#include "first.h"
#include "app.h"
#include "buf.h"
#include "config.h"
#include "ctl/ctl.h"
#include "ctl/util.h"
#include "providers/registry.h"

#include <stdio.h>
#include <string.h>

static int cmd_config_keys(struct app *a, int argc, char **argv);
static int cmd_config_check(struct app *a, int argc, char **argv);
static int cmd_providers(struct app *a, int argc, char **argv);

/* What a command needs before it runs, as flags (cgit's cmd.c habit): main acts on them, never on names. */
enum {
	CTL_NEEDS_NOTHING = 0,
	CTL_NEEDS_CONFIG = 1 << 0, /* the configuration loaded (app_init opens the store it names too: one that
				    * cannot be opened is a configuration error); a problem stops kancactl (exit 1) */
	CTL_NEEDS_STORE = 1 << 1,  /* the configuration loaded and the store opened, as above */
	CTL_OWN_CONFIG = 1 << 2	   /* loads the configuration itself (its problems are findings): gets only
				    * a->config_path (NULL: the default) */
};

struct ctl_command {
	const char *name;  /* "source add" */
	const char *usage; /* arguments */
	const char *help;
	int needs;
	int (*run)(struct app *a, int argc, char **argv); /* argv[0] is the first argument after the name */
};

static const struct ctl_command commands[] = {
    {"migrate", "", "apply pending schema migrations from sql/", CTL_NEEDS_STORE, ctl_migrate},
    {"source add", "PROVIDER ACCOUNT [--secret S | --secret-stdin | --generate-secret] [--set KEY=VALUE]...",
     "add a source (a provider account that may send webhooks)", CTL_NEEDS_STORE, ctl_source_add},
    {"source list", "[--json]", "list sources with their options and number of valid secrets", CTL_NEEDS_STORE,
     ctl_source_list},
    {"source secret add",
     "PROVIDER ACCOUNT [--secret S | --secret-stdin | --generate-secret] "
     "[--expires DURATION | --expires-at UNIX]",
     "add a secret to a source (rotation: every unexpired secret verifies)", CTL_NEEDS_STORE, ctl_secret_add},
    {"source secret list", "PROVIDER ACCOUNT", "list a source's secrets: id, created, expiry (never the values)",
     CTL_NEEDS_STORE, ctl_secret_list},
    {"source secret expire", "PROVIDER ACCOUNT ID --expires DURATION | --expires-at UNIX",
     "set when a secret stops verifying (the end of a rotation)", CTL_NEEDS_STORE, ctl_secret_expire},
    {"source secret remove", "PROVIDER ACCOUNT ID", "remove a secret at once", CTL_NEEDS_STORE, ctl_secret_remove},
    {"source action add",
     "PROVIDER ACCOUNT forward URL [--generate-secret | --secret whsec_...] "
     "[--static-secret S] [--header 'Name: value'] [--timeout SECONDS] | PROVIDER ACCOUNT exec /path [--timeout "
     "SECONDS] "
     "| PROVIDER ACCOUNT notify CHANNEL | PROVIDER ACCOUNT builtin trendyol_orders|sosyalkopru_posts",
     "forward the source's events to URL after the answer (Standard Webhooks signed, or X-Webhook-Secret)",
     CTL_NEEDS_STORE, ctl_action_add},
    {"source action list", "PROVIDER ACCOUNT", "the source's actions in order", CTL_NEEDS_STORE, ctl_action_list},
    {"source action remove", "PROVIDER ACCOUNT ID", "remove an action", CTL_NEEDS_STORE, ctl_action_remove},
    {"source action enable", "PROVIDER ACCOUNT ID",
     "use an action again (after a destination answered 410 Gone and was fixed)", CTL_NEEDS_STORE, ctl_action_enable},
    {"source action disable", "PROVIDER ACCOUNT ID", "stop using an action without removing it or its history",
     CTL_NEEDS_STORE, ctl_action_disable},
    {"worker", "[--drain] [--max N] [--lease SECONDS]",
     "process stored events in the foreground (retries, leases); --drain stops when nothing is due", CTL_NEEDS_STORE,
     ctl_worker},
    {"replay", "ID [--force] | --status dead|processed [--source P/A] [--since DURATION]",
     "put events back for processing: the actions that have not succeeded for an event run (--force: all of them)",
     CTL_NEEDS_STORE, ctl_replay},
    {"purge", "[--older-than DURATION] [--dead DURATION] [--audit DURATION] | --retention",
     "delete processed and test events (with their attempts), dead events, audit rows older than DURATION; "
     "--retention: what the configuration's retention and retention_dead say (the processors do it by themselves)",
     CTL_NEEDS_STORE, ctl_purge},
    {"source enable", "PROVIDER ACCOUNT", "accept deliveries for a source again", CTL_NEEDS_STORE, ctl_source_enable},
    {"source disable", "PROVIDER ACCOUNT", "refuse deliveries for a source (403)", CTL_NEEDS_STORE, ctl_source_disable},
    {"events", "[--source P/A] [--status S] [--limit N] [--json]", "list stored events, newest first", CTL_NEEDS_STORE,
     ctl_events},
    {"event show", "ID [--body]", "show one event; the raw body follows a blank line byte for byte", CTL_NEEDS_STORE,
     ctl_event_show},
    {"stats", "[--json]", "per source, event type and status: count and last received, last 24 hours", CTL_NEEDS_STORE,
     ctl_stats},
    {"audit", "[--limit N]", "the newest audit log rows", CTL_NEEDS_STORE, ctl_audit},
    {"spool status", "[--json]",
     "what waits in the spool: deliveries (bytes, age of the oldest), records set aside in bad/, partial files "
     "in tmp/, spool_max_bytes (reads no store: works while it is broken)",
     CTL_OWN_CONFIG, ctl_spool_status},
    {"spool drain", "", "store every delivery waiting in the spool now, in arrival order (exit 1 when some are left)",
     CTL_NEEDS_STORE, ctl_spool_drain},
    {"providers", "", "list the providers kanca knows", CTL_NEEDS_NOTHING, cmd_providers},
    {"config keys", "", "list configuration keys, defaults and descriptions", CTL_NEEDS_NOTHING, cmd_config_keys},
    {"config check", "", "load the configuration and report every problem", CTL_NEEDS_CONFIG, cmd_config_check},
    {"doctor", "[URL] [--source PROVIDER/ACCOUNT]",
     "check the configuration, store, schema, clock and sources; with the public base URL, send each source a "
     "signed self-test through the web server and report what to fix (exit 1 when something failed)",
     CTL_OWN_CONFIG, ctl_doctor},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

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
		   "The configuration file is -c, else $KANCA_CONFIG, else the built-in default.\n"
		   "kancactl COMMAND --help shows one command.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s %s\n      %s\n", commands[i].name, commands[i].usage, commands[i].help);
}

static void usage_of(FILE *f, const struct ctl_command *c)
{
	fprintf(f, "usage: kancactl [-c CONFIG] %s%s%s\n\n%s\n", c->name, c->usage[0] ? " " : "", c->usage, c->help);
}

/* How many of argv's words spell name ("source secret add": 3), or 0 when they do not. With prefix,
 * argv's words may also be the first words of name only ("source secret"): then how many they are. */
static int words_match(const char *name, int argc, char **argv, int prefix)
{
	int used = 0;

	while (*name) {
		size_t n = strcspn(name, " ");
		if (used >= argc || argv[used][0] == '-')
			return prefix && used ? used : 0;
		if (strlen(argv[used]) != n || strncmp(argv[used], name, n) != 0)
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
		int u = words_match(commands[i].name, argc, argv, 0);
		if (u > *used) {
			*used = u;
			best = &commands[i];
		}
	}
	return best;
}

/* "kancactl source" or "kancactl source secret": the commands that begin with those words, listed on f.
 * How many there were. */
static int list_group(FILE *f, int argc, char **argv)
{
	int n = 0, words = 0;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		int u = words_match(commands[i].name, argc, argv, 1);
		if (u > words)
			words = u;
	}
	for (size_t i = 0; words && i < NCOMMANDS; i++)
		if (words_match(commands[i].name, argc, argv, 1) == words) {
			if (!n++) {
				fputs("commands of kancactl", f);
				for (int w = 0; w < words; w++)
					fprintf(f, " %s", argv[w]);
				fputs(":\n", f);
			}
			fprintf(f, "  %s %s\n      %s\n", commands[i].name, commands[i].usage, commands[i].help);
		}
	return n;
}

static int is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	const struct ctl_command *cmd;
	struct app a;
	struct buf err;
	int i = 1, used = 0, rc;

	app_standard_fds();
	if (argc > 1 && (is_help(argv[1]) || strcmp(argv[1], "help") == 0)) {
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
		/* the first words of several commands ("source secret"): list them */
		int help = 0, k = i;
		while (k < argc && argv[k][0] != '-')
			k++;
		help = k < argc && is_help(argv[k]);
		if (list_group(help ? stdout : stderr, argc - i, argv + i))
			return help ? CTL_OK : CTL_USAGE;
		fprintf(stderr, "kancactl: unknown command \"%s\"\n\n", argv[i]);
		usage(stderr);
		return CTL_USAGE;
	}
	/* COMMAND --help (or -h) first after the command's words: its usage, on stdout */
	if (i + used < argc && is_help(argv[i + used])) {
		usage_of(stdout, cmd);
		return CTL_OK;
	}
	if (cmd->needs & CTL_OWN_CONFIG) {
		memset(&a, 0, sizeof a);
		a.config_path = config;
		return cmd->run(&a, argc - i - used, argv + i + used);
	}
	if (!(cmd->needs & (CTL_NEEDS_CONFIG | CTL_NEEDS_STORE)))
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
