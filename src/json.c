/* json.c: json-c behind kanca's JSON API; strict parsing with a depth cap. */
#include "first.h"
#include "json.h"
#include "buf.h"

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
 * json-c is lenient (NaN, 1., 00, raw control characters, overlong UTF-8). Every document is first
 * scanned against the grammar here; json-c then only builds the tree of a document known to be valid.
 * Also refused: unpaired surrogate escapes (\ud83d alone), as I-JSON (RFC 7493) does. */

struct scan {
	const unsigned char *p, *end;
	int depth, max_depth;
	enum json_error err;
};

static void skip_ws(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
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

static int scan_string(struct scan *sc)
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
			if (sc->end - sc->p < 2)
				return -1;
			c = sc->p[1];
			if (c != 'u') {
				if (!strchr("\"\\/bfnrt", (int)c))
					return -1;
				sc->p += 2;
				continue;
			}
			if (sc->end - sc->p < 6 || hex4(sc->p + 2, &u) < 0)
				return -1;
			sc->p += 6;
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

static int digits1(struct scan *sc)
{
	const unsigned char *start = sc->p;

	while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
		sc->p++;
	return sc->p > start ? 0 : -1;
}

static int scan_number(struct scan *sc)
{
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
	return 0;
}

static int scan_literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return -1;
	sc->p += n;
	return 0;
}

static int scan_value(struct scan *sc);

/* object or array: open/close are the brackets, members says whether "key": precedes values */
static int scan_container(struct scan *sc, unsigned char close, int members)
{
	if (++sc->depth > sc->max_depth) {
		sc->err = JSON_ERR_DEPTH;
		return -1;
	}
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == close) {
		sc->p++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		if (members) {
			skip_ws(sc);
			if (sc->p >= sc->end || *sc->p != '"' || scan_string(sc) < 0)
				return -1;
			skip_ws(sc);
			if (sc->p >= sc->end || *sc->p != ':')
				return -1;
			sc->p++;
		}
		if (scan_value(sc) < 0)
			return -1;
		if (sc->p >= sc->end)
			return -1;
		if (*sc->p == ',') {
			sc->p++;
			continue;
		}
		if (*sc->p != close)
			return -1;
		sc->p++;
		sc->depth--;
		return 0;
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
		rc = scan_string(sc);
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
static enum json_error strict_scan(const char *s, size_t n, int max_depth)
{
	struct scan sc = {(const unsigned char *)s, (const unsigned char *)s + n, 0, max_depth, JSON_ERR_SYNTAX};

	skip_ws(&sc);
	if (sc.p >= sc.end || (*sc.p != '{' && *sc.p != '['))
		return JSON_ERR_SYNTAX;
	if (scan_value(&sc) < 0)
		return sc.err;
	return sc.p == sc.end ? JSON_OK : JSON_ERR_SYNTAX;
}

enum json_error json_parse(const char *s, size_t n, int max_depth, struct json **out)
{
	struct json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	enum json_error rc = JSON_ERR_SYNTAX;
	size_t off;

	*out = NULL;
	if (n > (size_t)0x7fffffff)
		return JSON_ERR_SYNTAX;
	rc = strict_scan(s, n, max_depth);
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
