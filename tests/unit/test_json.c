/* test_json.c: strict parsing with caps (duplicate names and \u0000 refused), the accessors, numbers as
 * written and their ranges, the scanner's own reading, serialisation. */
#include "first.h"
#include "json.h"
#include "buf.h"
#include "caps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* A printable copy of input for test names. */
static const char *show(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 6 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

static enum json_error parse_n(const char *s, size_t n, int depth)
{
	struct json *j = NULL;
	enum json_error e = json_parse(s, n, depth, &j);

	if (e == JSON_OK)
		json_free(j);
	return e;
}

static void accept(const char *s, const char *why)
{
	char p[200];

	is_int(parse_n(s, strlen(s), KANCA_JSON_DEPTH), JSON_OK, "accepts %s: %s", why,
	       show(s, strlen(s), p, sizeof p));
}

static void refuse_n(const char *s, size_t n, const char *why)
{
	char p[200];

	is_int(parse_n(s, n, KANCA_JSON_DEPTH), JSON_ERR_SYNTAX, "refuses %s: %s", why, show(s, n, p, sizeof p));
}

static void refuse(const char *s, const char *why)
{
	refuse_n(s, strlen(s), why);
}

static void test_documents(void)
{
	static const char doc[] = "{\"event\":\"offer.created\",\"n\":3,\"ok\":true,\"nothing\":null,"
				  "\"list\":[1,\"two\",{\"three\":3}],\"obj\":{\"k\":\"v\"}}";
	struct json *j = NULL;
	const struct json *list, *v;
	size_t len = 99;

	is_int(json_parse(doc, strlen(doc), KANCA_JSON_DEPTH, &j), JSON_OK, "an object parses");
	ok(j != NULL, "the root is set");
	is_int(json_kind_of(j), JSON_OBJECT, "root is an object");
	is_str(json_get_string(j, "event", &len), "offer.created", "json_get_string of a member");
	is_int(len, 13, "json_get_string length");
	is_int(json_kind_of(json_get(j, "n")), JSON_NUMBER, "number member kind");
	is_int(json_kind_of(json_get(j, "ok")), JSON_BOOL, "bool member kind");
	ok(json_get(j, "nothing") == NULL, "a null member reads as NULL (documented)");
	is_int(json_kind_of(json_get(j, "nothing")), JSON_NULL, "null member kind");
	is_int(json_kind_of(json_get(j, "obj")), JSON_OBJECT, "object member kind");
	is_str(json_get_string(json_get(j, "obj"), "k", NULL), "v", "nested member (len may be NULL)");
	ok(json_get(j, "missing") == NULL, "json_get of a missing member is NULL");
	ok(json_get(j, "Event") == NULL, "member names are case-sensitive");

	list = json_get(j, "list");
	is_int(json_kind_of(list), JSON_ARRAY, "array member kind");
	is_int(json_array_len(list), 3, "array length");
	is_int(json_integer(json_array_at(list, 0)), 1, "array element 0");
	is_str(json_string(json_array_at(list, 1), NULL), "two", "array element 1");
	is_int(json_integer(json_get(json_array_at(list, 2), "three")), 3, "member of array element 2");
	ok(json_array_at(list, 3) == NULL, "array element past the end is NULL");
	ok(json_array_at(list, (size_t)-1) == NULL, "array element SIZE_MAX is NULL");
	is_int(json_array_len(j), 0, "json_array_len of an object is 0");
	ok(json_array_at(j, 0) == NULL, "json_array_at of an object is NULL");
	ok(json_get(list, "0") == NULL, "json_get on an array is NULL");

	/* wrong types */
	v = json_get(j, "n");
	ok(json_string(v, &len) == NULL, "json_string of a number is NULL");
	ok(json_get_string(j, "n", NULL) == NULL, "json_get_string of a number member is NULL");
	ok(json_get_string(j, "ok", NULL) == NULL, "json_get_string of a bool member is NULL");
	ok(json_get_string(j, "nothing", NULL) == NULL, "json_get_string of a null member is NULL");
	ok(json_get_string(j, "obj", NULL) == NULL, "json_get_string of an object member is NULL");
	ok(json_get_string(j, "list", NULL) == NULL, "json_get_string of an array member is NULL");
	ok(json_get_string(j, "missing", NULL) == NULL, "json_get_string of a missing member is NULL");
	ok(json_get(v, "x") == NULL, "json_get on a number is NULL");
	ok(json_get_string(list, "x", NULL) == NULL, "json_get_string on an array is NULL");
	ok(json_get(NULL, "x") == NULL, "json_get(NULL) is NULL");
	ok(json_string(NULL, NULL) == NULL, "json_string(NULL) is NULL");
	is_int(json_kind_of(NULL), JSON_NULL, "json_kind_of(NULL) is JSON_NULL");
	json_free(j);
	json_free(NULL);

	j = NULL;
	is_int(json_parse("[]", 2, KANCA_JSON_DEPTH, &j), JSON_OK, "an empty array parses");
	is_int(json_kind_of(j), JSON_ARRAY, "empty array kind");
	is_int(json_array_len(j), 0, "empty array length");
	json_free(j);
	accept("{}", "empty object");
	accept(" \t\r\n{ \"a\" : [ 1 , 2 ] }", "leading white space and spaces between tokens");
	accept("[true,false,null,-1,0,1.5,-2.5e-3,1E5,\"\"]", "every scalar in an array");
}

static void test_refused(void)
{
	refuse("1", "a bare number");
	refuse("\"str\"", "a bare string");
	refuse("true", "a bare true");
	refuse("null", "a bare null");
	refuse_n("", 0, "empty input");
	refuse("   \n", "only white space");
	refuse("[1] x", "trailing garbage");
	refuse("{}{}", "two documents");
	refuse("[1],", "a trailing comma after the document");
	refuse("[1", "an unclosed array");
	refuse("{\"a\":1", "an unclosed object");
	refuse("[1,]", "a trailing comma in an array");
	refuse("{\"a\":1,}", "a trailing comma in an object");
	refuse("[01]", "a leading zero");
	refuse("[.5]", "a number without an integer part");
	refuse("[+1]", "a leading plus");
	refuse("['a']", "single quotes");
	refuse("{a:1}", "an unquoted member name");
	refuse("[/*c*/1]", "a comment");
	refuse("[1]//", "a trailing comment");
	refuse("[tru]", "a truncated literal");
	refuse("[True]", "a capitalised literal");
	refuse("[\"\\x\"]", "an unknown escape");
	refuse("[\"\\u12\"]", "a short \\u escape");
	refuse("[0x10]", "a hex number");
	refuse("[1 2]", "a missing comma");
	refuse("\xef\xbb\xbf[1]", "a byte order mark");
	refuse("[1]\f", "form feed is not JSON white space");

	/* the rest of RFC 8259's grammar (json_parse promises strict RFC 8259) */
	refuse("[NaN]", "NaN");
	refuse("[Infinity]", "Infinity");
	refuse("[-Infinity]", "-Infinity");
	refuse("[1.]", "a fraction without digits");
	refuse("[1.e5]", "a fraction without digits before the exponent");
	refuse("[00]", "a leading zero (00)");
	refuse("[-01]", "a leading zero after a minus");
	refuse("[\"a\tb\"]", "a raw tab inside a string");
	refuse("[\"a\nb\"]", "a raw line feed inside a string");
	refuse("[\"\x01\"]", "a raw U+0001 inside a string");
}

static void test_trailing(void)
{
	accept("[1] \t\r\n", "trailing white space");
	accept("{\"a\":1}\n", "a trailing newline");
	is_int(parse_n("[1]garbage", 3, KANCA_JSON_DEPTH), JSON_OK, "only n bytes are parsed");
	is_int(parse_n("[1]   x", 6, KANCA_JSON_DEPTH), JSON_OK, "white space up to n is fine");
	is_int(parse_n("{\"a\":1}", 6, KANCA_JSON_DEPTH), JSON_ERR_SYNTAX, "a document cut short by n is refused");
}

/* levels nested arrays ("[[...]]"), with a scalar innermost when leaf. */
static enum json_error nest(int levels, int leaf, int objects, int cap)
{
	struct buf b;
	enum json_error e;

	buf_init(&b, 1 << 20);
	for (int i = 0; i < levels; i++)
		if (buf_append_str(&b, objects ? "{\"k\":" : "[") < 0)
			abort();
	if (leaf && buf_append_str(&b, "1") < 0)
		abort();
	if (objects && !leaf && levels > 0) {
		/* the innermost object must be {} */
		b.len -= 5;
		if (buf_append_str(&b, "{") < 0)
			abort();
	}
	for (int i = 0; i < levels; i++)
		if (buf_append_str(&b, objects ? "}" : "]") < 0)
			abort();
	e = parse_n(b.data, b.len, cap);
	buf_free(&b);
	return e;
}

static void test_depth(void)
{
	const int cap = KANCA_JSON_DEPTH;

	/* the cap counts nested objects/arrays (json.h); scalars inside do not add a level */
	is_int(nest(cap, 0, 0, cap), JSON_OK, "%d nested empty arrays at cap %d: accepted", cap, cap);
	is_int(nest(cap + 1, 0, 0, cap), JSON_ERR_DEPTH, "%d nested empty arrays at cap %d: too deep", cap + 1, cap);
	is_int(nest(cap, 1, 0, cap), JSON_OK, "%d arrays around a scalar: accepted", cap);
	is_int(nest(cap + 1, 1, 0, cap), JSON_ERR_DEPTH, "%d arrays around a scalar: too deep", cap + 1);
	is_int(nest(cap, 0, 1, cap), JSON_OK, "%d nested objects, innermost empty: accepted", cap);
	is_int(nest(cap + 1, 0, 1, cap), JSON_ERR_DEPTH, "%d nested objects, innermost empty: too deep", cap + 1);
	is_int(nest(cap, 1, 1, cap), JSON_OK, "%d objects around a scalar: accepted", cap);
	is_int(nest(cap + 1, 1, 1, cap), JSON_ERR_DEPTH, "%d objects around a scalar: too deep", cap + 1);
	is_int(nest(3, 0, 0, 3), JSON_OK, "cap 3: [[[]]] accepted");
	is_int(nest(4, 0, 0, 3), JSON_ERR_DEPTH, "cap 3: [[[[]]]] too deep");
	is_int(nest(3, 1, 0, 3), JSON_OK, "cap 3: [[[1]]] accepted");
	is_int(nest(4, 1, 0, 3), JSON_ERR_DEPTH, "cap 3: [[[[1]]]] too deep");
	is_int(nest(1000, 0, 0, cap), JSON_ERR_DEPTH, "1000 nested arrays: too deep, not a crash");
	is_str(json_error_text(JSON_ERR_DEPTH), "Invalid JSON: nested too deeply", "depth error text");
	is_str(json_error_text(JSON_ERR_SYNTAX), "Invalid JSON", "syntax error text");
}

static void test_bytes(void)
{
	refuse_n("[1]\0", 4, "a NUL byte after the document");
	refuse_n("[\"a\0b\"]", 7, "a NUL byte inside a string");
	refuse_n("\0[1]", 4, "a NUL byte before the document");

	refuse("[\"\xff\"]", "invalid UTF-8 byte 0xff");
	refuse("[\"\x80\"]", "a lone continuation byte");
	refuse("[\"\xc3\"]", "a truncated 2-byte sequence");
	refuse("[\"\xc3\x28\"]", "a bad continuation byte");
	refuse("[\"\xe2\x82\"]", "a truncated 3-byte sequence");
	refuse("{\"\xff\":1}", "invalid UTF-8 in a member name");
	refuse("[1]\xff", "invalid UTF-8 after the document");
	refuse("[\"\xf8\x88\x80\x80\x80\"]", "a 5-byte sequence");
	refuse("[\"\xc0\xaf\"]", "an overlong 2-byte encoding of '/'");
	refuse("[\"\xe0\x80\xaf\"]", "an overlong 3-byte encoding of '/'");
	refuse("[\"\xed\xa0\x80\"]", "a UTF-8 encoded surrogate U+D800");
	refuse("[\"\xf4\x90\x80\x80\"]", "a code point above U+10FFFF");
	accept("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\xa2\"]", "valid 2, 3 and 4-byte UTF-8");
}

static void expect_string(const char *doc, const char *bytes, size_t n, const char *why)
{
	struct json *j = NULL;
	const char *s = NULL;
	size_t len = 12345;

	if (json_parse(doc, strlen(doc), KANCA_JSON_DEPTH, &j) == JSON_OK)
		s = json_get_string(j, "s", &len);
	is_mem(s, s ? len : 0, bytes, n, "%s", why);
	ok(s && s[len] == '\0', "%s: NUL-terminated", why);
	json_free(j);
}

static void test_escapes(void)
{
	expect_string("{\"s\":\"a\\\"b\"}", "a\"b", 3, "\\\" decodes to a quote");
	expect_string("{\"s\":\"a\\\\b\"}", "a\\b", 3, "\\\\ decodes to a backslash");
	expect_string("{\"s\":\"a\\/b\"}", "a/b", 3, "\\/ decodes to a slash");
	expect_string("{\"s\":\"a\\nb\\tc\\rd\\be\\ff\"}", "a\nb\tc\rd\be\ff", 11, "\\n \\t \\r \\b \\f");
	expect_string("{\"s\":\"\\u0130\"}", "\xc4\xb0", 2, "\\u0130 decodes to C4 B0");
	expect_string("{\"s\":\"\\u00e9\\u20AC\"}", "\xc3\xa9\xe2\x82\xac", 5, "\\u00e9\\u20AC (either case)");
	expect_string("{\"s\":\"\\ud83d\\udea2\"}", "\xf0\x9f\x9a\xa2", 4, "surrogate pair \\ud83d\\udea2 -> U+1F6A2");
	expect_string("{\"s\":\"a\\\\u0000b\"}", "a\\u0000b", 8, "an escaped backslash before u0000 is text");
	expect_string("{\"s\":\"\"}", "", 0, "the empty string");
	expect_string("{\"s\":\"\xc3\xa9\"}", "\xc3\xa9", 2, "raw UTF-8 is kept");
}

static void test_numbers(void)
{
	static const char doc[] = "{\"price\":150.00,\"int\":150,\"neg\":-42,\"exp\":1e2,\"frac\":0.1,"
				  "\"big\":12345678901234567890123456789,\"s\":\"150\",\"zero\":-0,"
				  "\"min\":-9223372036854775809,\"max\":9223372036854775807}";
	struct json *j = NULL;
	double d = -1;

	is_int(json_parse(doc, strlen(doc), KANCA_JSON_DEPTH, &j), JSON_OK, "numbers document parses");
	is_int(json_number(json_get(j, "price"), &d), 0, "json_number of 150.00");
	ok(d == 150.0, "150.00 is 150 (%g)", d);
	is_int(json_is_integer(json_get(j, "price")), 0, "150.00 is not written as an integer");
	is_str(json_number_text(json_get(j, "price")), "150.00", "json_number_text keeps 150.00 as written");
	is_int(json_number(json_get(j, "int"), &d), 0, "json_number of 150");
	ok(d == 150.0, "150 is 150");
	is_int(json_is_integer(json_get(j, "int")), 1, "150 is an integer");
	is_int(json_integer(json_get(j, "int")), 150, "json_integer of 150");
	is_str(json_number_text(json_get(j, "int")), "150", "json_number_text of 150");
	is_int(json_integer(json_get(j, "neg")), -42, "json_integer of -42");
	is_str(json_number_text(json_get(j, "neg")), "-42", "json_number_text of -42");
	is_int(json_is_integer(json_get(j, "exp")), 0, "1e2 is not written as an integer");
	is_int(json_number(json_get(j, "exp"), &d), 0, "json_number of 1e2");
	ok(d == 100.0, "1e2 is 100");
	is_str(json_number_text(json_get(j, "exp")), "1e2", "json_number_text keeps 1e2");
	is_int(json_number(json_get(j, "frac"), &d), 0, "json_number of 0.1");
	ok(d == 0.1, "0.1 is 0.1");
	is_str(json_number_text(json_get(j, "frac")), "0.1", "json_number_text of 0.1");
	is_int(json_number(json_get(j, "s"), &d), -1, "json_number of a string is -1");
	ok(json_number_text(json_get(j, "s")) == NULL, "json_number_text of a string is NULL");
	is_int(json_is_integer(json_get(j, "s")), 0, "a string is not an integer");
	is_int(json_number(NULL, &d), -1, "json_number(NULL) is -1");
	ok(json_number_text(NULL) == NULL, "json_number_text(NULL) is NULL");
	is_int(json_is_integer(NULL), 0, "json_is_integer(NULL) is 0");
	is_str(json_number_text(json_get(j, "max")), "9223372036854775807", "INT64_MAX as written");
	is_int(json_integer(json_get(j, "max")), 9223372036854775807LL, "json_integer of INT64_MAX");

	/* integers beyond 64 bits saturate and -0 reads as 0 (documented in json.h) */
	is_str(json_number_text(json_get(j, "big")), "18446744073709551615",
	       "json_number_text: a 29-digit integer saturates");
	is_str(json_number_text(json_get(j, "min")), "-9223372036854775808", "json_number_text: INT64_MIN-1 saturates");
	is_str(json_number_text(json_get(j, "zero")), "0", "json_number_text: -0 is 0");
	json_free(j);
}

static void test_serialize(void)
{
	static const char doc[] = "{ \"a\" : [ 1, 2.50, \"x/y\", true, null, -0.5e3 ],\n \"b\" : { },"
				  " \"c\" : \"q\\\"\\\\\\n\\u00e9\\u0001\" }";
	struct json *j = NULL;
	struct buf b, small;
	struct json *again = NULL;

	buf_init(&b, 4096);
	is_int(json_parse(doc, strlen(doc), KANCA_JSON_DEPTH, &j), JSON_OK, "serialize: document parses");
	is_int(json_serialize(j, &b), 0, "json_serialize succeeds");
	is_str(buf_str(&b), "{\"a\":[1,2.50,\"x/y\",true,null,-0.5e3],\"b\":{},\"c\":\"q\\\"\\\\\\n\xc3\xa9\\u0001\"}",
	       "compact serialisation, numbers as written, / not escaped");
	is_int(json_parse(b.data, b.len, KANCA_JSON_DEPTH, &again), JSON_OK, "the serialisation parses again");
	json_free(again);
	buf_reset(&b);
	is_int(json_serialize(json_get(json_get(j, "a"), "x"), &b), 0, "json_serialize(NULL) succeeds");
	is_str(buf_str(&b), "null", "json_serialize(NULL) is null");
	buf_reset(&b);
	is_int(json_serialize(json_get(j, "b"), &b), 0, "serialize a member");
	is_str(buf_str(&b), "{}", "an empty object member");
	buf_init(&small, 8);
	is_int(json_serialize(j, &small), -1, "json_serialize into a buffer that is too small fails");
	is_int(small.len, 0, "and leaves the buffer empty");
	buf_free(&small);
	buf_free(&b);
	json_free(j);
}

/* json_parse_why's verdict and text for a document of strlen(doc) bytes. */
static void expect_why(const char *doc, enum json_error want, const char *text, const char *what)
{
	struct json *j = NULL;
	char why[160] = "unset", p[200];
	enum json_error e = json_parse_why(doc, strlen(doc), KANCA_JSON_DEPTH, &j, why, sizeof why);

	is_int(e, want, "%s: %s", what, show(doc, strlen(doc), p, sizeof p));
	if (want != JSON_OK)
		is_str(why, text, "%s: the reason", what);
	ok((e == JSON_OK) == (j != NULL), "%s: a root only on success", what);
	json_free(j);
}

static void test_duplicates(void)
{
	struct buf b;

	expect_why("{\"a\":1,\"a\":2}", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"a\"", "a name twice");
	expect_why("{\"data\":\"x\",\"id\":1,\"data\":\"y\"}", JSON_ERR_DUPLICATE,
		   "Invalid JSON: duplicate member \"data\"", "data twice, apart");
	expect_why("{\"a\":1,\"\\u0061\":2}", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"a\"",
		   "a and \\u0061 are one name");
	expect_why("{\"/\":1,\"\\/\":2}", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"/\"",
		   "/ and \\/ are one name");
	expect_why("{\"\\ud83d\\udea2\":1,\"\xf0\x9f\x9a\xa2\":2}", JSON_ERR_DUPLICATE,
		   "Invalid JSON: duplicate member \"\xf0\x9f\x9a\xa2\"",
		   "a surrogate pair and its UTF-8 are one name");
	expect_why("{\"\\u00e9\":1,\"\\u00E9\":2}", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"\xc3\xa9\"",
		   "hex digits in either case are one name");
	expect_why("{\"x\":{\"id\":1,\"id\":2}}", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"id\"",
		   "a duplicate in a nested object");
	expect_why("[1,{\"k\":[{\"id\":1,\"id\":2}]}]", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"id\"",
		   "a duplicate in an object inside arrays");
	expect_why("{\"b\":1,\"a\":1,\"a\":2,\"b\":2}", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"a\"",
		   "the first name repeated in the document is named");
	expect_why("{\"\":1,\"\":2}", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"\"",
		   "the empty name twice");
	expect_why("{\"a\\nb\":1,\"a\\nb\":2}", JSON_ERR_DUPLICATE, "Invalid JSON: duplicate member \"a?b\"",
		   "a control character in the name is shown as ?");
	expect_why("{\"a\":1,\"a\":2", JSON_ERR_SYNTAX, "Invalid JSON", "an unclosed object is a syntax error");

	expect_why("{\"a\":1,\"A\":2,\"ab\":3,\"a \":4}", JSON_OK, "", "names that differ by case, length, space");
	expect_why("{\"a\":{\"a\":1}}", JSON_OK, "", "the same name in a nested object");
	expect_why("[{\"a\":1},{\"a\":2}]", JSON_OK, "", "the same name in two objects of an array");
	expect_why("{\"a\":{\"b\":1,\"c\":2},\"b\":3,\"c\":4}", JSON_OK, "", "a nested object's names are its own");
	expect_why("{\"k\":{\"x\\u00e9\":1},\"x\\u00e9\":{\"y\":[{\"x\\u00e9\":2}]}}", JSON_OK, "",
		   "escaped names in nested objects");
	expect_why("{\"a\":[1,2],\"b\":[1,1]}", JSON_OK, "", "equal values are not names");

	/* a long name is cut; many names are sorted, not compared pairwise */
	buf_init(&b, 1 << 22);
	if (buf_append_str(&b, "{\"") < 0)
		abort();
	for (int i = 0; i < 100; i++)
		if (buf_append_str(&b, "n") < 0)
			abort();
	if (buf_append_str(&b, "\":1,\"") < 0)
		abort();
	for (int i = 0; i < 100; i++)
		if (buf_append_str(&b, "n") < 0)
			abort();
	if (buf_append_str(&b, "\":2}") < 0)
		abort();
	expect_why(
	    buf_str(&b), JSON_ERR_DUPLICATE,
	    "Invalid JSON: duplicate member \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\"",
	    "a 100-byte name is cut at 64 bytes");
	buf_reset(&b);
	if (buf_append_str(&b, "{") < 0)
		abort();
	for (int i = 0; i < 50000; i++)
		if (buf_printf(&b, "%s\"k%d\":{\"k%d\":%d}", i ? "," : "", i, i, i) < 0)
			abort();
	if (buf_append_str(&b, "}") < 0)
		abort();
	is_int(parse_n(b.data, b.len, KANCA_JSON_DEPTH), JSON_OK, "50000 distinct names (each nested once) parse");
	b.len--;
	if (buf_append_str(&b, ",\"k49999\":0}") < 0)
		abort();
	is_int(parse_n(b.data, b.len, KANCA_JSON_DEPTH), JSON_ERR_DUPLICATE,
	       "... and the last one repeated is refused");
	buf_free(&b);
	is_str(json_error_text(JSON_ERR_DUPLICATE), "Invalid JSON: duplicate member name", "duplicate error text");
}

static void test_nul(void)
{
	expect_why("{\"s\":\"a\\u0000b\"}", JSON_ERR_NUL, "Invalid JSON: \\u0000 in a string", "\\u0000 in a value");
	expect_why("{\"s\":\"\\u0000\"}", JSON_ERR_NUL, "Invalid JSON: \\u0000 in a string", "a string of \\u0000");
	expect_why("{\"\\u0000\":1}", JSON_ERR_NUL, "Invalid JSON: \\u0000 in a string", "\\u0000 in a member name");
	expect_why("[[\"ok\",\"x\\u0000\"]]", JSON_ERR_NUL, "Invalid JSON: \\u0000 in a string", "\\u0000 nested");
	expect_why("{\"data\":\"{\\\"id\\\":\\\"A\\\\u0000B\\\"}\"}", JSON_OK, "",
		   "an escaped \\\\u0000 inside a string is text (the inner document's own check refuses it)");
	expect_why("{\"s\":\"\\u0001\\u001f\"}", JSON_OK, "", "other escaped control characters are kept");
	is_str(json_error_text(JSON_ERR_NUL), "Invalid JSON: \\u0000 in a string", "NUL error text");
	refuse_n("[\"\\\0\"]", 5, "a backslash before a NUL byte (found by fuzz_json_strict)");
	expect_why("[1,]", JSON_ERR_SYNTAX, "Invalid JSON", "json_parse_why of a syntax error");
	expect_why("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", JSON_ERR_DEPTH,
		   "Invalid JSON: nested too deeply", "json_parse_why of a depth error");
}

/* json_scan's reading of doc, or "(error N)". */
static const char *canon_of(const char *doc, struct buf *b)
{
	enum json_error e;

	buf_reset(b);
	e = json_scan(doc, strlen(doc), KANCA_JSON_DEPTH, b, NULL, 0);
	if (e != JSON_OK) {
		buf_reset(b);
		if (buf_printf(b, "(error %d)", (int)e) < 0)
			abort();
	}
	return buf_str(b);
}

static void test_scan(void)
{
	struct buf b, tiny;
	char why[100];

	buf_init(&b, 1 << 16);
	is_str(
	    canon_of(" { \"a\" : [ 1 , -0 , 1.50 , -2e+3 , true , false , null ] ,\n \"b\" : { } , \"c\" : [ ] } ", &b),
	    "{\"a\":[1,0,1.50,-2e+3,true,false,null],\"b\":{},\"c\":[]}",
	    "json_scan: compact, numbers as kanca reads them");
	is_str(canon_of("{\"\\u0061\\/\":\"x\\u00e9\\n\\ud83d\\udea2\\\"\"}", &b),
	       "{\"a/\":\"x\xc3\xa9\\u000a\xf0\x9f\x9a\xa2\\\"\"}",
	       "json_scan: names and strings unescaped, written again");
	is_str(canon_of("[12345678901234567890123,-99999999999999999999,9223372036854775807,-9223372036854775808]", &b),
	       "[9223372036854775807,-9223372036854775808,9223372036854775807,-9223372036854775808]",
	       "json_scan: integers beyond 64 bits saturate");
	is_str(canon_of("[18446744073709551615,18446744073709551616,9223372036854775808]", &b),
	       "[9223372036854775807,9223372036854775807,9223372036854775807]",
	       "json_scan: just past INT64_MAX saturates");
	is_str(canon_of("{\"a\":1,\"a\":1}", &b), "(error 4)", "json_scan: a duplicate is refused");
	is_str(canon_of("[\"\\u0000\"]", &b), "(error 5)", "json_scan: \\u0000 is refused");
	is_str(canon_of("[1.]", &b), "(error 1)", "json_scan: a syntax error");
	is_int(json_scan("{\"a\":1,\"a\":2}", 13, KANCA_JSON_DEPTH, NULL, why, sizeof why), JSON_ERR_DUPLICATE,
	       "json_scan without a reading");
	is_str(why, "Invalid JSON: duplicate member \"a\"", "json_scan: why names the member");
	buf_init(&tiny, 4);
	is_int(json_scan("[1,2,3]", 7, KANCA_JSON_DEPTH, &tiny, NULL, 0), JSON_ERR_MEMORY,
	       "json_scan: a reading that does not fit is out of memory");
	buf_free(&tiny);
	buf_free(&b);
}

static void test_ranges(void)
{
	static const char doc[] =
	    "{\"inf\":1e999,\"ninf\":-1e999,\"tiny\":1e-99999,\"zero_e\":0e-99999,\"nzero\":-0.0,"
	    "\"zero\":0,\"price\":150.00,\"top\":999999999999999,\"limit\":1e15,\"neg\":-999999999999999.9,"
	    "\"digits23\":12345678901234567890123,\"small\":1e-15,\"smaller\":9.99e-16,\"s\":\"1\"}";
	static const struct {
		const char *name;
		int within;
	} cases[] = {
	    {"inf", 0}, {"ninf", 0},  {"tiny", 0}, {"zero_e", 1},   {"nzero", 1}, {"zero", 1},	  {"price", 1},
	    {"top", 1}, {"limit", 0}, {"neg", 1},  {"digits23", 0}, {"small", 1}, {"smaller", 0}, {"s", 0},
	};
	struct json *j = NULL;
	double d = -1;

	is_int(json_parse(doc, strlen(doc), KANCA_JSON_DEPTH, &j), JSON_OK, "ranges: the document parses");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_int(json_number_within(json_get(j, cases[i].name), 1e-15, 1e15, NULL), cases[i].within,
		       "json_number_within(%s, 1e-15, 1e15) is %d", cases[i].name, cases[i].within);
	is_int(json_number_within(json_get(j, "price"), 1e-15, 1e15, &d), 1, "150.00 is within");
	ok(d == 150.0, "... and reads as 150");
	is_int(json_number_within(NULL, 0, 1, &d), 0, "json_number_within(NULL) is 0");
	json_free(j);
}

int main(void)
{
	test_documents();
	test_refused();
	test_trailing();
	test_depth();
	test_bytes();
	test_escapes();
	test_numbers();
	test_serialize();
	test_duplicates();
	test_nul();
	test_scan();
	test_ranges();
	return done_testing();
}
