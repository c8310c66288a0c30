/* ctl.h: kancactl's command table and the helpers its command files share. */
#ifndef KANCA_CTL_H
#define KANCA_CTL_H

#include <stdio.h>

struct app;

/* Exit statuses: 0 ok, 1 failure (store, not found), 2 usage error. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

struct ctl_command {
	const char *name;     /* "source add" */
	const char *usage;    /* arguments */
	const char *help;
	int needs_store;
	int (*run)(struct app *a, int argc, char **argv); /* argv[0] is the first argument after the name */
};

int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Splits "provider/account"; 0 or -1. Outputs point into buf. */
int ctl_split_source(const char *s, char *buf, size_t cap, const char **provider, const char **account);
/* Parses a positive integer; 0 or -1. */
int ctl_parse_long(const char *s, long long *out);
/* Parses "30d", "12h", "15m", "90s" or a plain number of seconds; 0 or -1. */
int ctl_parse_duration(const char *s, long long *seconds);
/* Prints s as a JSON string to f. */
void ctl_json_string(FILE *f, const char *s);
/* Formats a unix time for tables ("-" for NULL). */
const char *ctl_time(const char *unix_text, char *out, size_t cap);

int ctl_migrate(struct app *a, int argc, char **argv);
int ctl_source_add(struct app *a, int argc, char **argv);
int ctl_source_list(struct app *a, int argc, char **argv);
int ctl_source_enable(struct app *a, int argc, char **argv);
int ctl_source_disable(struct app *a, int argc, char **argv);
int ctl_secret_add(struct app *a, int argc, char **argv);
int ctl_secret_list(struct app *a, int argc, char **argv);
int ctl_secret_remove(struct app *a, int argc, char **argv);
int ctl_secret_expire(struct app *a, int argc, char **argv);
/* A secret line from standard input (newline removed); 0, or -1 when none or longer than cap-1. */
int ctl_secret_read_stdin(char *out, size_t cap);
/* 32 random bytes as 64 lowercase hex characters; 0 or -1. */
int ctl_secret_generate(char out[65]);
int ctl_worker(struct app *a, int argc, char **argv);
int ctl_replay(struct app *a, int argc, char **argv);
int ctl_purge(struct app *a, int argc, char **argv);
int ctl_action_add(struct app *a, int argc, char **argv);
int ctl_action_list(struct app *a, int argc, char **argv);
int ctl_action_remove(struct app *a, int argc, char **argv);
int ctl_events(struct app *a, int argc, char **argv);
int ctl_event_show(struct app *a, int argc, char **argv);
int ctl_stats(struct app *a, int argc, char **argv);
int ctl_audit(struct app *a, int argc, char **argv);
/* kancactl doctor: loads the configuration itself (config NULL = the default path) to report its
 * problems as findings. CTL_OK when nothing failed, CTL_FAIL otherwise, CTL_USAGE. */
int ctl_doctor(const char *config, int argc, char **argv);

#endif
