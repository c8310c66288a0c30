/* json.c: json-c behind kanca's JSON API; strict parsing (kanca's own scanner first) with a depth cap. */
#include "first.h"
#include "json.h"
#include "buf.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define J(x)  ((json_object *)(x))
#define CJ(x) ((const json_object *)(x))

static int only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* ---- strict RFC 8259 scan -------------------------------------------------------------------
 * json-c is lenient (NaN, 1., 00, raw control characters, overlong UTF-8) and reads a member name
 * given twice as its last value. Every document is first scanned against the grammar here; json-c
 * then only builds the tree of a document known to be valid. Also refused: unpaired surrogate
 * escapes (\ud83d alone), as I-JSON (RFC 7493) does; a member name twice in one object, compared
 * after unescaping (a first-wins reader downstream would read another document than kanca); and
 * \u0000 anywhere (C readers, kanca's store among them, would cut the string there). */

/* A member name of an open object: at off in the input (no escapes) or in the arena (unescaped). */
struct key {
	size_t off, len, idx;
	int in_arena;
	const unsigned char *p; /* set when the object closes */
};

struct scan {
	const unsigned char *start, *p, *end;
	int depth, max_depth;
	enum json_error err;
	struct key *keys; /* the names of every open object, innermost last */
	size_t nkeys, keycap, nnames;
	struct buf arena;  /* unescaped names; scratch for unescaped strings */
	struct buf *canon; /* json_scan's reading, or NULL */
	char *why;
	size_t why_cap;
};

static void skip_ws(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

static int no_memory(struct scan *sc)
{
	sc->err = JSON_ERR_MEMORY;
	return -1;
}

static int emit(struct scan *sc, const void *s, size_t n)
{
	if (sc->canon && buf_append(sc->canon, s, n) < 0)
		return no_memory(sc);
	return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Scans a string at sc->p (its opening quote); *escaped says whether it holds a backslash. */
static int scan_string(struct scan *sc, int *escaped)
{
	sc->p++; /* opening quote */
	while (sc->p < sc->end) {
		unsigned c = *sc->p;
		size_t l;

		if (c == '"') {
			sc->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			unsigned u, lo;
			*escaped = 1;
			if (sc->end - sc->p < 2)
				return -1;
			c = sc->p[1];
			if (c != 'u') {
				if (c == 0 || !strchr("\"\\/bfnrt", (int)c))
					return -1; /* (strchr finds the terminating NUL too) */
				sc->p += 2;
				continue;
			}
			if (sc->end - sc->p < 6 || hex4(sc->p + 2, &u) < 0)
				return -1;
			sc->p += 6;
			if (u == 0) {
				sc->err = JSON_ERR_NUL;
				return -1;
			}
			if (u >= 0xdc00 && u <= 0xdfff)
				return -1; /* lone low surrogate */
			if (u >= 0xd800 && u <= 0xdbff) {
				if (sc->end - sc->p < 6 || sc->p[0] != '\\' || sc->p[1] != 'u' ||
				    hex4(sc->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				sc->p += 6;
			}
			continue;
		}
		l = buf_utf8_len(sc->p, (size_t)(sc->end - sc->p));
		if (l == 0)
			return -1;
		sc->p += l;
	}
	return -1;
}

/* The bytes of a scanned string's inside (n bytes, escapes valid) into out (room for n): its length. */
static size_t unescape(const unsigned char *s, size_t n, unsigned char *out)
{
	static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		unsigned u, lo;
		const char *k;

		if (s[i] != '\\') {
			out[o++] = s[i++];
			continue;
		}
		if (s[i + 1] != 'u') {
			k = strchr(from, s[i + 1]);
			out[o++] = k ? (unsigned char)to[k - from] : s[i + 1];
			i += 2;
			continue;
		}
		(void)hex4(s + i + 2, &u);
		i += 6;
		if (u >= 0xd800 && u <= 0xdbff) {
			(void)hex4(s + i + 2, &lo);
			i += 6;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (u < 0x80) {
			out[o++] = (unsigned char)u;
		} else if (u < 0x800) {
			out[o++] = (unsigned char)(0xc0 | u >> 6);
			out[o++] = (unsigned char)(0x80 | (u & 0x3f));
		} else if (u < 0x10000) {
			out[o++] = (unsigned char)(0xe0 | u >> 12);
			out[o++] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
			out[o++] = (unsigned char)(0x80 | (u & 0x3f));
		} else {
			out[o++] = (unsigned char)(0xf0 | u >> 18);
			out[o++] = (unsigned char)(0x80 | (u >> 12 & 0x3f));
			out[o++] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
			out[o++] = (unsigned char)(0x80 | (u & 0x3f));
		}
	}
	return o;
}

/* A string value, or with is_key a member name (kept until its object closes). */
static int take_string(struct scan *sc, int is_key)
{
	const unsigned char *s0 = sc->p, *text;
	size_t n, len;
	int escaped = 0;

	if (scan_string(sc, &escaped) < 0)
		return -1;
	text = s0 + 1;
	n = len = (size_t)(sc->p - text) - 1;
	if (escaped && (is_key || sc->canon)) {
		if (buf_reserve(&sc->arena, n) < 0)
			return no_memory(sc);
		text = (const unsigned char *)sc->arena.data + sc->arena.len;
		len = unescape(s0 + 1, n, (unsigned char *)sc->arena.data + sc->arena.len);
	}
	if (sc->canon && buf_append_json_string(sc->canon, (const char *)text, len) < 0)
		return no_memory(sc);
	if (!is_key)
		return 0;
	if (sc->nkeys == sc->keycap) {
		size_t cap = sc->keycap ? 2 * sc->keycap : 16;
		struct key *k = cap < ((size_t)-1) / sizeof *k ? realloc(sc->keys, cap * sizeof *k) : NULL;
		if (!k)
			return no_memory(sc);
		sc->keys = k;
		sc->keycap = cap;
	}
	sc->keys[sc->nkeys++] = (struct key){.off = escaped ? sc->arena.len : (size_t)(s0 + 1 - sc->start),
					     .len = len,
					     .idx = sc->nnames++,
					     .in_arena = escaped};
	if (escaped && buf_setlen(&sc->arena, sc->arena.len + len) < 0)
		return no_memory(sc);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The answer's text for a duplicate name: printable, at most 64 bytes of it (cut on a character). */
static void describe_duplicate(struct scan *sc, const struct key *k)
{
	char name[80];
	size_t o = 0, i = 0;

	while (i < k->len && o < 64) {
		size_t l = k->p[i] < 0x80 ? 1 : buf_utf8_len(k->p + i, k->len - i);
		if (l == 0 || o + l > 64)
			break;
		for (size_t j = 0; j < l; j++)
			name[o++] = l == 1 && (k->p[i] < 0x20 || k->p[i] == 0x7f) ? '?' : (char)k->p[i + j];
		i += l;
	}
	name[o] = '\0';
	if (sc->why)
		snprintf(sc->why, sc->why_cap, "Invalid JSON: duplicate member \"%s%s\"", name,
			 i < k->len ? "..." : "");
}

/* An object closes: its names (from base) must differ; the first repeat in the document is named. */
static int close_object(struct scan *sc, size_t base, size_t arena_base)
{
	struct key *k = sc->keys + base, *dup = NULL;
	size_t n = sc->nkeys - base;

	if (n > 1) {
		for (size_t i = 0; i < n; i++)
			k[i].p =
			    k[i].in_arena ? (const unsigned char *)sc->arena.data + k[i].off : sc->start + k[i].off;
		qsort(k, n, sizeof *k, key_cmp);
		for (size_t i = 1; i < n; i++)
			if (k[i].len == k[i - 1].len && memcmp(k[i].p, k[i - 1].p, k[i].len) == 0 &&
			    (!dup || k[i].idx < dup->idx))
				dup = &k[i];
	}
	if (dup) {
		describe_duplicate(sc, dup);
		sc->err = JSON_ERR_DUPLICATE;
		return -1;
	}
	sc->nkeys = base;
	if (arena_base < sc->arena.len && buf_setlen(&sc->arena, arena_base) < 0)
		return no_memory(sc);
	return 0;
}

static int digits1(struct scan *sc)
{
	const unsigned char *start = sc->p;

	while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
		sc->p++;
	return sc->p > start ? 0 : -1;
}

/* What kanca reads of a number (json.h, json_number_text): an integer as its 64-bit value, saturated;
 * any other number as written. */
static int emit_number(struct scan *sc, const unsigned char *s, size_t n)
{
	unsigned long long v = 0;
	int neg = s[0] == '-', over = 0;
	long long out;

	if (!sc->canon)
		return 0;
	if (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))
		return emit(sc, s, n);
	for (size_t i = (size_t)neg; i < n; i++) {
		unsigned d = s[i] - '0';
		if (v > (ULLONG_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	if (neg)
		out = over || v >= (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
	else
		out = over || v > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)v;
	return buf_printf(sc->canon, "%lld", out) < 0 ? no_memory(sc) : 0;
}

static int scan_number(struct scan *sc)
{
	const unsigned char *s0 = sc->p;

	if (*sc->p == '-')
		sc->p++;
	if (sc->p >= sc->end)
		return -1;
	if (*sc->p == '0')
		sc->p++;
	else if (digits1(sc) < 0)
		return -1;
	if (sc->p < sc->end && *sc->p == '.') {
		sc->p++;
		if (digits1(sc) < 0)
			return -1;
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		sc->p++;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sc->p++;
		if (digits1(sc) < 0)
			return -1;
	}
	return emit_number(sc, s0, (size_t)(sc->p - s0));
}

static int scan_literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return -1;
	sc->p += n;
	return emit(sc, word, n);
}

static int scan_value(struct scan *sc);

/* object or array: close is the closing bracket, members says whether "key": precedes values */
static int scan_container(struct scan *sc, unsigned char close, int members)
{
	size_t base = sc->nkeys, arena_base = sc->arena.len;

	if (++sc->depth > sc->max_depth) {
		sc->err = JSON_ERR_DEPTH;
		return -1;
	}
	if (emit(sc, sc->p, 1) < 0)
		return -1;
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == close) {
		sc->p++;
		sc->depth--;
		return emit(sc, &close, 1);
	}
	for (;;) {
		if (members) {
			skip_ws(sc);
			if (sc->p >= sc->end || *sc->p != '"' || take_string(sc, 1) < 0)
				return -1;
			skip_ws(sc);
			if (sc->p >= sc->end || *sc->p != ':' || emit(sc, ":", 1) < 0)
				return -1;
			sc->p++;
		}
		if (scan_value(sc) < 0)
			return -1;
		if (sc->p >= sc->end)
			return -1;
		if (*sc->p == ',') {
			sc->p++;
			if (emit(sc, ",", 1) < 0)
				return -1;
			continue;
		}
		if (*sc->p != close)
			return -1;
		if (members && close_object(sc, base, arena_base) < 0)
			return -1;
		sc->p++;
		sc->depth--;
		return emit(sc, &close, 1);
	}
}

static int scan_value(struct scan *sc)
{
	int rc;

	skip_ws(sc);
	if (sc->p >= sc->end)
		return -1;
	switch (*sc->p) {
	case '{':
		rc = scan_container(sc, '}', 1);
		break;
	case '[':
		rc = scan_container(sc, ']', 0);
		break;
	case '"':
		rc = take_string(sc, 0);
		break;
	case 't':
		rc = scan_literal(sc, "true");
		break;
	case 'f':
		rc = scan_literal(sc, "false");
		break;
	case 'n':
		rc = scan_literal(sc, "null");
		break;
	default:
		rc = (*sc->p == '-' || (*sc->p >= '0' && *sc->p <= '9')) ? scan_number(sc) : -1;
		break;
	}
	skip_ws(sc);
	return rc;
}

/* JSON_OK when s is one valid JSON document whose top level is an object or an array. */
static enum json_error strict_scan(const char *s, size_t n, int max_depth, struct buf *canon, char *why, size_t cap)
{
	struct scan sc = {.start = (const unsigned char *)s,
			  .p = (const unsigned char *)s,
			  .end = (const unsigned char *)s + n,
			  .max_depth = max_depth,
			  .err = JSON_ERR_SYNTAX,
			  .canon = canon,
			  .why = why,
			  .why_cap = cap};
	enum json_error rc = JSON_OK;

	buf_init(&sc.arena, n + 1);
	skip_ws(&sc);
	if (sc.p >= sc.end || (*sc.p != '{' && *sc.p != '['))
		rc = JSON_ERR_SYNTAX;
	else if (scan_value(&sc) < 0)
		rc = sc.err;
	else if (sc.p != sc.end)
		rc = JSON_ERR_SYNTAX;
	free(sc.keys);
	buf_free(&sc.arena);
	if (rc != JSON_OK && rc != JSON_ERR_DUPLICATE && why && cap)
		snprintf(why, cap, "%s", json_error_text(rc));
	return rc;
}

enum json_error json_scan(const char *s, size_t n, int max_depth, struct buf *canon, char *why, size_t cap)
{
	if (why && cap)
		why[0] = '\0';
	if (n > (size_t)0x7fffffff)
		return strict_scan("", 0, max_depth, NULL, why, cap);
	return strict_scan(s, n, max_depth, canon, why, cap);
}

enum json_error json_parse(const char *s, size_t n, int max_depth, struct json **out)
{
	return json_parse_why(s, n, max_depth, out, NULL, 0);
}

enum json_error json_parse_why(const char *s, size_t n, int max_depth, struct json **out, char *why, size_t cap)
{
	struct json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	enum json_error rc;
	size_t off;

	*out = NULL;
	rc = json_scan(s, n, max_depth, NULL, why, cap);
	if (rc != JSON_OK)
		return rc;
	rc = JSON_ERR_SYNTAX;
	/* json-c counts scalar leaves as a level too: give it one more than the containers allowed */
	tok = json_tokener_new_ex(max_depth + 1);
	if (!tok)
		return JSON_ERR_MEMORY;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, s, (int)n);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	/* Only an object or an array is a complete document here: a bare scalar ends ambiguously
	 * (json_tokener_continue) and no webhook body is one. */
	if (jerr == json_tokener_error_depth)
		rc = JSON_ERR_DEPTH;
	else if (jerr == json_tokener_success && root &&
		 (json_object_get_type(root) == json_type_object || json_object_get_type(root) == json_type_array) &&
		 only_space(s + off, n - off))
		rc = JSON_OK;
	json_tokener_free(tok);
	if (rc != JSON_OK) {
		json_object_put(root);
		if (why && cap)
			snprintf(why, cap, "%s", json_error_text(rc));
		return rc;
	}
	*out = (struct json *)root;
	return JSON_OK;
}

void json_free(struct json *root)
{
	if (root)
		json_object_put(J(root));
}

const char *json_error_text(enum json_error e)
{
	switch (e) {
	case JSON_OK:
		return "ok";
	case JSON_ERR_DEPTH:
		return "Invalid JSON: nested too deeply";
	case JSON_ERR_MEMORY:
		return "out of memory";
	case JSON_ERR_DUPLICATE:
		return "Invalid JSON: duplicate member name";
	case JSON_ERR_NUL:
		return "Invalid JSON: \\u0000 in a string";
	default:
		return "Invalid JSON";
	}
}

enum json_kind json_kind_of(const struct json *j)
{
	if (!j)
		return JSON_NULL;
	switch (json_object_get_type(CJ(j))) {
	case json_type_boolean:
		return JSON_BOOL;
	case json_type_double:
	case json_type_int:
		return JSON_NUMBER;
	case json_type_string:
		return JSON_STRING;
	case json_type_array:
		return JSON_ARRAY;
	case json_type_object:
		return JSON_OBJECT;
	default:
		return JSON_NULL;
	}
}

const struct json *json_get(const struct json *j, const char *key)
{
	json_object *v = NULL;

	if (!j || json_object_get_type(CJ(j)) != json_type_object)
		return NULL;
	if (!json_object_object_get_ex(CJ(j), key, &v))
		return NULL;
	return (const struct json *)v;
}

const char *json_string(const struct json *j, size_t *len)
{
	if (!j || json_object_get_type(CJ(j)) != json_type_string)
		return NULL;
	if (len)
		*len = (size_t)json_object_get_string_len(CJ(j));
	return json_object_get_string(J(j));
}

const char *json_get_string(const struct json *j, const char *key, size_t *len)
{
	return json_string(json_get(j, key), len);
}

int json_number(const struct json *j, double *out)
{
	if (json_kind_of(j) != JSON_NUMBER)
		return -1;
	*out = json_object_get_double(CJ(j));
	return 0;
}

int json_is_integer(const struct json *j)
{
	return j && json_object_get_type(CJ(j)) == json_type_int;
}

long long json_integer(const struct json *j)
{
	return j ? (long long)json_object_get_int64(CJ(j)) : 0;
}

size_t json_array_len(const struct json *j)
{
	if (!j || json_object_get_type(CJ(j)) != json_type_array)
		return 0;
	return json_object_array_length(CJ(j));
}

const struct json *json_array_at(const struct json *j, size_t i)
{
	if (i >= json_array_len(j))
		return NULL;
	return (const struct json *)json_object_array_get_idx(CJ(j), i);
}

int json_serialize(const struct json *j, struct buf *b)
{
	size_t n = 0;
	const char *s;

	if (!j)
		return buf_append_str(b, "null");
	s = json_object_to_json_string_length(J(j), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s)
		return -1;
	return buf_append(b, s, n);
}

const char *json_number_text(const struct json *j)
{
	if (json_kind_of(j) != JSON_NUMBER)
		return NULL;
	/* json-c keeps the original text of parsed doubles and prints ints exactly */
	return json_object_to_json_string_ext(J(j), JSON_C_TO_STRING_PLAIN);
}

/* Whether a number's text has only zero digits before any exponent (0, -0.0, 0e-99999). */
static int written_as_zero(const struct json *j)
{
	const char *t;

	if (json_is_integer(j))
		return json_integer(j) == 0;
	t = json_number_text(j);
	for (; t && *t && *t != 'e' && *t != 'E'; t++)
		if (*t >= '1' && *t <= '9')
			return 0;
	return t != NULL;
}

int json_number_within(const struct json *j, double min_abs, double max_abs, double *out)
{
	double v, a;

	if (json_number(j, &v) < 0 || !isfinite(v))
		return 0;
	a = fabs(v);
	if (a >= max_abs || (a < min_abs && !written_as_zero(j)))
		return 0;
	if (out)
		*out = v;
	return 1;
}
