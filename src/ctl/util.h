/* util.h: what kancactl's command files share (util.c): exit statuses, messages, argument parsing, secrets. */
#ifndef KANCA_CTL_UTIL_H
#define KANCA_CTL_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses: 0 ok, 1 failure (store, not found), 2 usage error. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

/* "kancactl: <message>" on stderr; return CTL_USAGE / CTL_FAIL. */
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
/* A secret line from standard input (newline removed); 0, or -1 when none or longer than cap-1. */
int ctl_secret_read_stdin(char *out, size_t cap);
/* 32 random bytes as 64 lowercase hex characters; 0 or -1. */
int ctl_secret_generate(char out[65]);

#endif
