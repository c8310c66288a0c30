/* fuzz_json_strict.c: libFuzzer target that holds kanca's strict JSON scanner (json_scan) against
 * json-c. Whenever the scanner accepts a document, json-c, called as json.c calls it, must accept it
 * too and hold the same document: the same members in the same order (no name collapsed into
 * another, as json-c does with a repeated name), strings of the same bytes and length (none cut at a
 * NUL), the same numbers. json_parse (the scan, then json-c) must give the scanner's verdict, and a
 * refusal always has a reason. Any disagreement traps. */
#include "first.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "caps.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* json-c's tree in json_scan's reading format (json.h): compact, members in json-c's order, strings
 * of json-c's bytes and length, integers as json-c's 64-bit value, other numbers as json-c keeps them. */
static int reading(json_object *o, struct buf *b)
{
	const char *t;
	size_t n = 0;

	switch (json_object_get_type(o)) {
	case json_type_null:
		return buf_append_str(b, "null");
	case json_type_boolean:
		return buf_append_str(b, json_object_get_boolean(o) ? "true" : "false");
	case json_type_int:
		return buf_printf(b, "%lld", (long long)json_object_get_int64(o));
	case json_type_double:
		t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
		return t ? buf_append(b, t, n) : -1;
	case json_type_string:
		return buf_append_json_string(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
	case json_type_array:
		if (buf_append_str(b, "[") < 0)
			return -1;
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if ((i && buf_append_str(b, ",") < 0) || reading(json_object_array_get_idx(o, i), b) < 0)
				return -1;
		return buf_append_str(b, "]");
	case json_type_object: {
		int first = 1;

		if (buf_append_str(b, "{") < 0)
			return -1;
		json_object_object_foreach(o, k, v)
		{
			if ((!first && buf_append_str(b, ",") < 0) || buf_append_json_string(b, k, strlen(k)) < 0 ||
			    buf_append_str(b, ":") < 0 || reading(v, b) < 0)
				return -1;
			first = 0;
		}
		return buf_append_str(b, "}");
	}
	}
	return -1;
}

static int only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf mine, theirs;
	struct json *root = NULL;
	struct json_tokener *tok;
	json_object *o;
	enum json_error e, e2;
	char why[160];
	int depth = size && data[0] == ' ' ? 4 : KANCA_JSON_DEPTH; /* a small cap now and then */

	buf_init(&mine, 16 * size + 64);
	buf_init(&theirs, 16 * size + 64);
	e = json_scan(s, size, depth, &mine, why, sizeof why);
	if (e != JSON_OK && !why[0])
		__builtin_trap(); /* a refusal says why */
	if (json_scan(s, size, depth, NULL, NULL, 0) != e)
		__builtin_trap(); /* the reading changes nothing */
	e2 = json_parse_why(s, size, depth, &root, why, sizeof why);
	json_free(root);
	if (e2 != e && !(e2 == JSON_ERR_MEMORY && e == JSON_OK))
		__builtin_trap(); /* json_parse gives the scanner's verdict */
	if (e == JSON_OK) {
		/* as json.c: json-c with one more level for scalars, strict, UTF-8 checked */
		tok = json_tokener_new_ex(depth + 1);
		if (!tok)
			goto out;
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		o = json_tokener_parse_ex(tok, s, (int)size);
		if (json_tokener_get_error(tok) != json_tokener_success || !o ||
		    !only_space(s + json_tokener_get_parse_end(tok), size - json_tokener_get_parse_end(tok)))
			__builtin_trap(); /* json-c refuses what the scanner accepted */
		if (reading(o, &theirs) < 0)
			__builtin_trap();
		if (mine.len != theirs.len || memcmp(mine.data, theirs.data, mine.len) != 0)
			__builtin_trap(); /* the two read different documents */
		json_object_put(o);
		json_tokener_free(tok);
	}
out:
	buf_free(&mine);
	buf_free(&theirs);
	return 0;
}
