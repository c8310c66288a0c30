/* json.c: json-c behind kanca's JSON API; strict parsing with a depth cap. */
#include "json.h"
#include "buf.h"

#include <string.h>

#include <json-c/json.h>

#define J(x) ((json_object *)(x))
#define CJ(x) ((const json_object *)(x))

static int only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

enum json_error json_parse(const char *s, size_t n, int max_depth, struct json **out)
{
	struct json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	enum json_error rc = JSON_ERR_SYNTAX;
	size_t off;

	*out = NULL;
	/* json-c stops at a NUL byte; a document holding one is not JSON we accept */
	if (n > (size_t)0x7fffffff || memchr(s, '\0', n))
		return JSON_ERR_SYNTAX;
	tok = json_tokener_new_ex(max_depth);
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
		 (json_object_get_type(root) == json_type_object ||
		  json_object_get_type(root) == json_type_array) &&
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
		return "JSON nested too deeply";
	case JSON_ERR_MEMORY:
		return "out of memory";
	default:
		return "invalid JSON";
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
