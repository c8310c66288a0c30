/* buf.h: a growable byte buffer with a hard cap. Always NUL-terminated. */
#ifndef KANCA_BUF_H
#define KANCA_BUF_H

#include "first.h"

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data; /* NULL until the first append; data[len] == '\0' after it */
	size_t len;
	size_t cap;
	size_t max; /* appends that would pass this fail with -1 */
};

/* An empty buffer that may grow to max bytes. */
void buf_init(struct buf *b, size_t max);
/* Frees the storage; b may be NULL. b is left empty and reusable. */
void buf_free(struct buf *b);
/* Sets len to 0, keeps storage. */
void buf_reset(struct buf *b);
/* 0, or -1 when the cap or memory would be exceeded (b unchanged). */
int buf_append(struct buf *b, const void *p, size_t n) KANCA_MUST_CHECK;
int buf_append_str(struct buf *b, const char *s) KANCA_MUST_CHECK;
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3))) KANCA_MUST_CHECK;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0))) KANCA_MUST_CHECK;
/* Appends a message for a caller (errors, reasons) and returns -1, so "return buf_fail(err, ...)"
 * reports and fails in one step. A message that does not fit is cut. */
int buf_fail(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included; invalid UTF-8 bytes become U+FFFD. */
int buf_append_json_string(struct buf *b, const char *s, size_t n) KANCA_MUST_CHECK;
/* Length of the valid UTF-8 sequence at s (n bytes available): 1-4, or 0 when it is not valid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
size_t buf_utf8_len(const unsigned char *s, size_t n);
/* The contents as a C string ("" when empty); never NULL. */
const char *buf_str(const struct buf *b);
/* Makes room for extra more bytes (and the NUL) in one step, within the cap: a caller may then write up
 * to extra bytes at data + len and buf_setlen. 0, or -1 when the cap or memory would be exceeded. */
int buf_reserve(struct buf *b, size_t extra) KANCA_MUST_CHECK;
/* Sets the length to len, which must lie within the storage (len < cap: shrinking, or after
 * buf_reserve), and NUL-terminates. 0, or -1 (nothing changed). */
int buf_setlen(struct buf *b, size_t len) KANCA_MUST_CHECK;

#endif
