/* json.h: JSON parsing behind a small API with size and depth caps (json-c lives only in json.c).
 * A struct json is a node of a parsed document; nodes are owned by the document root. */
#ifndef KANCA_JSON_H
#define KANCA_JSON_H

#include "first.h"

#include <stddef.h>

struct json;
struct buf;

enum json_kind { JSON_NULL = 0, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

enum json_error {
	JSON_OK = 0,
	JSON_ERR_SYNTAX,
	JSON_ERR_DEPTH,
	JSON_ERR_MEMORY,
	JSON_ERR_DUPLICATE, /* a member name twice in one object */
	JSON_ERR_NUL	    /* \u0000 in a string or a member name */
};

/* Parses exactly n bytes (trailing bytes other than white space are an error), strict RFC 8259
 * (valid UTF-8 without overlong forms, no unpaired surrogate escapes), top level an object or an
 * array, at most max_depth nested objects/arrays. Also refused, because two readers could disagree
 * on what such a document holds: a member name twice in one object, anywhere in the document,
 * compared after unescaping ("a" and "\u0061" are one name), and \u0000 in any string or member
 * name (a C reader stops there). On success *out is the root (free with json_free). */
enum json_error json_parse(const char *s, size_t n, int max_depth, struct json **out);
/* json_parse, and on failure why (cap bytes; may be NULL) holds the text an answer gives, for a
 * duplicate naming the first member repeated: Invalid JSON: duplicate member "data" (the name cut
 * at 64 bytes, control characters as '?'). */
enum json_error json_parse_why(const char *s, size_t n, int max_depth, struct json **out, char *why, size_t cap);
/* kanca's strict scanner alone, without json-c: the same verdict as json_parse (json-c only builds
 * the tree of what the scanner accepted). With canon not NULL, what the scanner read is appended to
 * it as compact JSON: members in document order, names and strings unescaped and written again by
 * buf_append_json_string, integers (no fraction, no exponent) as their 64-bit value saturated at
 * INT64_MIN / INT64_MAX (as json_integer reads them), other numbers as written. For the tests and
 * tests/fuzz/fuzz_json_strict.c, which compares it with json-c's tree. why as json_parse_why. */
enum json_error json_scan(const char *s, size_t n, int max_depth, struct buf *canon, char *why, size_t cap);
/* Frees a root from json_parse; NULL is fine. */
void json_free(struct json *root);
/* Describes an error as answers give it ("Invalid JSON", "Invalid JSON: nested too deeply", "out of memory",
 * "Invalid JSON: duplicate member name", "Invalid JSON: \u0000 in a string"). */
const char *json_error_text(enum json_error e);

enum json_kind json_kind_of(const struct json *j);
/* Member of an object, or NULL when j is not an object, has no such member, or the member is null. */
const struct json *json_get(const struct json *j, const char *key);
/* String value (NUL-terminated, *len without it), or NULL when not a string. */
const char *json_string(const struct json *j, size_t *len);
/* Member that is a string, or NULL. */
const char *json_get_string(const struct json *j, const char *key, size_t *len);
/* 0 and *out set when j is a number; -1 otherwise. */
int json_number(const struct json *j, double *out);
/* 1 and *out (may be NULL) set when j is a number that is finite, below max_abs in magnitude, and
 * either written as zero (0, -0.0, 0e5) or at least min_abs in magnitude (so 1e-99999, which reads
 * as 0, is out of any range with min_abs > 0); 0 otherwise. */
int json_number_within(const struct json *j, double min_abs, double max_abs, double *out);
/* Whether the number was written as an integer. */
int json_is_integer(const struct json *j);
long long json_integer(const struct json *j);
size_t json_array_len(const struct json *j);
const struct json *json_array_at(const struct json *j, size_t i);
/* Appends a compact serialisation of j to b; 0 or -1. (Never used for verification.) */
int json_serialize(const struct json *j, struct buf *b) KANCA_MUST_CHECK;
/* The text of a number: decimals exactly as written ("150.00"); integers as their 64-bit value
 * (so -0 is "0" and integers beyond 64 bits saturate). NULL for non-numbers. */
const char *json_number_text(const struct json *j);

#endif
