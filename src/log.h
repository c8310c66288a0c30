/* log.h: log lines to stderr (the web server's error log), with level, file and line.
 * Lines about a request carry its provider and delivery id (log_set_request).
 * Never pass a secret or a signature value to these macros. */
#ifndef KANCA_LOG_H
#define KANCA_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level level);
/* Parses "error|warn|info|debug"; -1 when unknown. */
int log_level_parse(const char *s);
/* Context appended to every line until cleared with (NULL, NULL). Strings are copied. */
void log_set_request(const char *provider, const char *delivery);
void log_write(enum log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Once per cause: a line about a lasting trouble (the store down, a full disk) is written when its cause
 * changes, or again after 30 s, not once per request. */
struct log_every {
	int cause; /* 0: none yet */
	double last;
};
/* 1 when a line about cause (non-zero) should be written now; records it. */
int log_every(struct log_every *e, int cause);

#define log_error(...) log_write(LOG_LEVEL_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif
