/* test_buf.c: bounded buffers (caps, printf, JSON strings, reserve/setlen, fail) and per-source options. */
#include "first.h"
#include "buf.h"
#include "caps.h"
#include "json.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

static void test_basics(void)
{
	struct buf b;

	buf_init(&b, 16);
	ok(b.data == NULL && b.len == 0, "a new buffer is empty with no storage");
	is_str(buf_str(&b), "", "buf_str of a new buffer is \"\"");
	is_int(buf_append(&b, "hello", 5), 0, "append 5 bytes");
	is_mem(b.data, b.len, "hello", 5, "contents after one append");
	is_int(b.data[b.len], '\0', "NUL-terminated after append");
	is_int(buf_append_str(&b, " world"), 0, "append_str");
	is_str(buf_str(&b), "hello world", "contents after append_str");
	is_int(buf_append(&b, "\0x", 2), 0, "append bytes with a NUL");
	is_int(b.len, 13, "length counts the NUL byte");
	is_mem(b.data, b.len, "hello world\0x", 13, "binary contents kept");
	is_int(buf_append(&b, "", 0), 0, "append of nothing");
	is_int(b.len, 13, "append of nothing leaves the length");
	buf_reset(&b);
	is_int(b.len, 0, "buf_reset empties");
	is_str(buf_str(&b), "", "buf_reset: contents are \"\"");
	is_int(buf_append_str(&b, "again"), 0, "append after reset");
	is_str(buf_str(&b), "again", "contents after reset and append");
	buf_free(&b);
	ok(b.data == NULL && b.len == 0, "buf_free leaves an empty buffer");
	is_int(buf_append_str(&b, "reuse"), 0, "a freed buffer is reusable");
	is_str(buf_str(&b), "reuse", "contents after reuse");
	buf_free(&b);
	buf_free(NULL);

	buf_init(&b, 0);
	is_int(buf_append(&b, "", 0), 0, "a zero-cap buffer takes an empty append");
	is_int(buf_append(&b, "x", 1), -1, "a zero-cap buffer refuses one byte");
	is_str(buf_str(&b), "", "and stays empty");
	buf_free(&b);
}

static void test_caps(void)
{
	struct buf b;
	char big[100];

	memset(big, 'x', sizeof big);
	buf_init(&b, 10);
	is_int(buf_append(&b, "0123456789", 10), 0, "append up to the cap exactly");
	is_int(b.len, 10, "length at the cap");
	is_int(buf_append(&b, "a", 1), -1, "one byte beyond the cap fails");
	is_str(buf_str(&b), "0123456789", "a failed append leaves the buffer unchanged");
	is_int(b.len, 10, "length unchanged after a failed append");
	buf_reset(&b);
	is_int(buf_append(&b, "abc", 3), 0, "append 3");
	is_int(buf_append(&b, big, 8), -1, "an append that crosses the cap fails");
	is_mem(b.data, b.len, "abc", 3, "unchanged after a crossing append");
	is_int(buf_append(&b, big, (size_t)-1), -1, "an append of SIZE_MAX bytes fails (no overflow)");
	is_int(buf_append(&b, big, (size_t)-1 - 1), -1, "an append of SIZE_MAX-1 bytes fails (no overflow)");
	is_mem(b.data, b.len, "abc", 3, "unchanged after huge appends");
	is_int(buf_append(&b, big, 7), 0, "filling the rest exactly works");
	is_int(b.len, 10, "full");
	is_int(buf_printf(&b, "%s", ""), 0, "an empty printf into a full buffer works");
	is_int(buf_printf(&b, "%d", 1), -1, "printf beyond the cap fails");
	is_int(b.len, 10, "printf failure leaves the length");
	is_int(buf_append_json_string(&b, "", 0), -1, "a JSON string into a full buffer fails");
	ok(b.len <= b.max, "length never passes max");
	buf_free(&b);

	buf_init(&b, 1000);
	for (int i = 0; i < 100; i++)
		if (buf_append(&b, "0123456789", 10) < 0)
			break;
	is_int(b.len, 1000, "growth by many appends reaches the cap");
	ok(b.cap >= b.len + 1, "storage holds the contents and the NUL");
	is_int(buf_append(&b, "x", 1), -1, "and stops there");
	buf_free(&b);
}

static void test_printf(void)
{
	struct buf b;
	char want[300];

	buf_init(&b, 1 << 16);
	is_int(buf_printf(&b, "%s=%d", "n", 42), 0, "printf succeeds");
	is_str(buf_str(&b), "n=42", "printf formats");
	is_int(buf_printf(&b, ";%05.1f;%x;%c", 3.14159, 255, 'z'), 0, "printf appends");
	is_str(buf_str(&b), "n=42;003.1;ff;z", "printf appends after existing contents");
	is_int(buf_printf(&b, "%s", ""), 0, "printf of nothing");
	is_str(buf_str(&b), "n=42;003.1;ff;z", "printf of nothing changes nothing");
	buf_reset(&b);
	memset(want, 'q', 250);
	want[250] = '\0';
	is_int(buf_printf(&b, "%s", want), 0, "printf longer than the first allocation");
	is_str(buf_str(&b), want, "long printf contents");
	buf_free(&b);

	buf_init(&b, 5);
	is_int(buf_printf(&b, "%s", "12345"), 0, "printf exactly at the cap");
	is_str(buf_str(&b), "12345", "printf at the cap contents");
	buf_free(&b);
	buf_init(&b, 5);
	is_int(buf_printf(&b, "%s", "123456"), -1, "printf one past the cap fails");
	is_str(buf_str(&b), "", "and leaves the buffer unchanged");
	buf_free(&b);
}

static void test_fail(void)
{
	struct buf b;

	buf_init(&b, 100);
	is_int(buf_fail(&b, "bad %s", "thing"), -1, "buf_fail returns -1");
	is_str(buf_str(&b), "bad thing", "buf_fail appends the message");
	is_int(buf_fail(&b, "; code %d", 7), -1, "buf_fail again returns -1");
	is_str(buf_str(&b), "bad thing; code 7", "buf_fail appends after earlier text");
	buf_free(&b);

	/* "A message that does not fit is cut." */
	buf_init(&b, 10);
	is_int(buf_fail(&b, "%s", "this message is longer than ten bytes"), -1, "buf_fail with a long message");
	is_str(buf_str(&b), "this messa", "a message that does not fit is cut at the cap");
	buf_free(&b);
}

static void test_reserve_setlen(void)
{
	struct buf b;

	buf_init(&b, 10);
	is_int(buf_setlen(&b, 0), 0, "setlen 0 of an empty buffer");
	is_int(buf_setlen(&b, 1), -1, "setlen past the storage of an empty buffer is refused");
	is_int(buf_reserve(&b, 10), 0, "reserve up to the cap");
	ok(b.cap >= 11 && b.len == 0, "reserve makes room for the bytes and the NUL, length unchanged");
	memcpy(b.data, "0123456789", 10);
	is_int(buf_setlen(&b, 10), 0, "setlen to what was written");
	is_str(buf_str(&b), "0123456789", "the bytes written after reserve are the contents");
	is_int(buf_reserve(&b, 1), -1, "reserve past the cap is refused");
	is_int(buf_setlen(&b, 11), -1, "setlen past the storage is refused");
	is_int((int)b.len, 10, "a refused setlen changes nothing");
	is_int(buf_setlen(&b, 4), 0, "setlen shrinks");
	is_str(buf_str(&b), "0123", "shrinking NUL-terminates");
	is_int(buf_append_str(&b, "xy"), 0, "appends go on after the new length");
	is_str(buf_str(&b), "0123xy", "append after setlen");
	buf_free(&b);
}

/* Checks buf_append_json_string(in) == want; the hex digits of \u escapes may be either case. */
static void json_is(const char *in, size_t n, const char *want, const char *why)
{
	struct buf b;

	buf_init(&b, 4096);
	is_int(buf_append_json_string(&b, in, n), 0, "%s: succeeds", why);
	for (size_t i = 0; i + 5 < b.len; i++)
		if (b.data[i] == '\\' && b.data[i + 1] == 'u') {
			for (size_t k = i + 2; k < i + 6; k++)
				if (b.data[k] >= 'A' && b.data[k] <= 'F')
					b.data[k] = (char)(b.data[k] - 'A' + 'a');
			i += 5;
		} else if (b.data[i] == '\\') {
			i++; /* the escaped character, e.g. the second backslash of \\ */
		}
	is_mem(b.data, b.len, want, strlen(want), "%s: output", why);
	buf_free(&b);
}

static void test_json_string(void)
{
	struct buf b;
	struct json *j = NULL;
	char all[256];
	size_t len = 0;
	const char *s;

	json_is("", 0, "\"\"", "empty string");
	json_is("plain", 5, "\"plain\"", "plain ASCII");
	json_is("a\"b", 3, "\"a\\\"b\"", "a quote");
	json_is("a\\b", 3, "\"a\\\\b\"", "a backslash");
	json_is("a/b", 3, "\"a/b\"", "a slash is not escaped");
	json_is("\x01", 1, "\"\\u0001\"", "U+0001");
	json_is("\n\t", 2, "\"\\u000a\\u0009\"", "newline and tab as \\u00XX");
	json_is("\x1f", 1, "\"\\u001f\"", "U+001F");
	json_is("a\0b", 3, "\"a\\u0000b\"", "an embedded NUL");
	json_is("\x7f", 1, "\"\x7f\"", "DEL is kept");
	json_is("\xc3\xa9", 2, "\"\xc3\xa9\"", "valid 2-byte UTF-8 kept");
	json_is("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"", "valid 3-byte UTF-8 kept");
	json_is("\xf0\x9f\x9a\xa2", 4, "\"\xf0\x9f\x9a\xa2\"", "valid 4-byte UTF-8 kept");
	json_is("\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\"", "U+FFFD itself kept");
	json_is("\xff", 1, "\"\xef\xbf\xbd\"", "0xff becomes U+FFFD");
	json_is("a\x80z", 3, "\"a\xef\xbf\xbdz\"", "a lone continuation byte becomes U+FFFD");
	json_is("\xc3", 1, "\"\xef\xbf\xbd\"", "a truncated sequence at the end becomes U+FFFD");
	json_is("\xc3(", 2, "\"\xef\xbf\xbd(\"", "a bad continuation: U+FFFD, then the next character");
	json_is("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"", "an overlong '/' becomes two U+FFFD");
	json_is("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "an encoded surrogate becomes U+FFFD");
	json_is("\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
		"above U+10FFFF becomes U+FFFD");
	json_is("\xe2\x82\xac", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"", "a sequence cut by n becomes U+FFFD");

	/* every byte value: the output is a JSON string that parses back */
	for (int i = 0; i < 256; i++)
		all[i] = (char)(i ? i : 'x');
	buf_init(&b, 8192);
	is_int(buf_append_str(&b, "[") || buf_append_json_string(&b, all, sizeof all) || buf_append_str(&b, "]"), 0,
	       "every byte value: appended");
	is_int(json_parse(b.data, b.len, 4, &j), JSON_OK, "every byte value: the output is valid JSON");
	s = json_string(json_array_at(j, 0), &len);
	is_mem(s, s && len >= 128 ? 128 : len, all, 128, "every byte value: ASCII round-trips");
	json_free(j);
	buf_free(&b);

	buf_init(&b, 5);
	is_int(buf_append_json_string(&b, "abcdef", 6), -1, "a JSON string beyond the cap fails");
	buf_free(&b);
}

struct seen {
	char keys[16][80];
	char values[16][1100];
	int n;
	int stop_at;
};

static int collect(void *arg, const char *key, const char *value)
{
	struct seen *s = arg;

	if (s->n < 16) {
		snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
		snprintf(s->values[s->n], sizeof s->values[0], "%s", value);
	}
	s->n++;
	return s->n == s->stop_at ? 7 : 0;
}

static void test_options(void)
{
	struct buf o, err;
	char out[KANCA_OPTION_MAX + 1], longv[KANCA_OPTION_MAX + 2];
	struct seen seen;

	buf_init(&o, 64 * 1024);
	buf_init(&err, 4096);
	is_int(options_set(&o, "header", "X-Hub-Signature-256", &err), 0, "options_set header");
	is_int(options_set(&o, "encoding", "hex", &err), 0, "options_set encoding");
	is_int(options_set(&o, "prefix", "sha256=", &err), 0, "a value holding = is fine");
	is_str(buf_str(&err), "", "no error text");
	is_int(options_get(buf_str(&o), "header", out, sizeof out), 1, "options_get finds header");
	is_str(out, "X-Hub-Signature-256", "header value");
	is_int(options_get(buf_str(&o), "prefix", out, sizeof out), 1, "options_get finds prefix");
	is_str(out, "sha256=", "a value with = comes back whole");
	is_int(options_get(buf_str(&o), "missing", out, sizeof out), 0, "options_get of an absent key is 0");
	is_str(out, "", "out is \"\" for an absent key");
	is_int(options_get(buf_str(&o), "head", out, sizeof out), 0, "a key prefix does not match");
	is_int(options_get(NULL, "header", out, sizeof out), 0, "options_get of NULL options is 0");

	/* replacing */
	is_int(options_set(&o, "encoding", "base64", &err), 0, "options_set replaces an existing key");
	is_int(options_get(buf_str(&o), "encoding", out, sizeof out), 1, "replaced key found");
	is_str(out, "base64", "the new value wins");
	memset(&seen, 0, sizeof seen);
	is_int(options_each(buf_str(&o), collect, &seen), 0, "options_each returns 0 when fn never stops it");
	is_int(seen.n, 3, "three keys after a replace (no duplicate)");
	ok(seen.n == 3 && strcmp(seen.keys[0], "header") == 0 && strcmp(seen.keys[1], "prefix") == 0 &&
	       strcmp(seen.keys[2], "encoding") == 0,
	   "options_each visits every key in order");
	is_str(seen.values[1], "sha256=", "options_each passes the value");
	memset(&seen, 0, sizeof seen);
	seen.stop_at = 2;
	is_int(options_each(buf_str(&o), collect, &seen), 7, "options_each returns fn's non-zero value");
	is_int(seen.n, 2, "options_each stops at the first non-zero return");
	memset(&seen, 0, sizeof seen);
	is_int(options_each(NULL, collect, &seen), 0, "options_each of NULL");
	is_int(seen.n, 0, "options_each of NULL calls nothing");
	is_int(options_set(&o, "empty", "", &err), 0, "an empty value is allowed");
	is_int(options_get(buf_str(&o), "empty", out, sizeof out), 1, "an empty value is found");
	is_str(out, "", "empty value");

	/* too long for out */
	is_int(options_get(buf_str(&o), "header", out, 5), -1, "a value too long for out is -1");
	is_int(options_get(buf_str(&o), "header", out, 19), -1, "19 bytes cannot hold 19 characters and a NUL");
	is_int(options_get(buf_str(&o), "header", out, 20), 1, "20 bytes can");

	/* bad keys */
	buf_reset(&err);
	is_int(options_set(&o, "Header", "x", &err), -1, "an uppercase key is refused");
	ok(err.len > 0, "with a reason: %s", buf_str(&err));
	buf_reset(&err);
	is_int(options_set(&o, "", "x", &err), -1, "an empty key is refused");
	buf_reset(&err);
	is_int(options_set(&o, "a=b", "x", &err), -1, "a key with = is refused");
	buf_reset(&err);
	is_int(options_set(&o, "a b", "x", &err), -1, "a key with a space is refused");
	buf_reset(&err);
	is_int(options_set(&o, "a-b", "x", &err), -1, "a key with - is refused");
	buf_reset(&err);
	is_int(options_set(&o, "a\nb", "x", &err), -1, "a key with a newline is refused");
	is_int(options_set(&o, "snake_case_2", "ok", &err), 0, "a key of a-z, 0-9 and _ is accepted");

	/* bad values */
	buf_reset(&err);
	is_int(options_set(&o, "header", "X\nevil=1", &err), -1, "a value with a newline is refused");
	ok(err.len > 0, "with a reason: %s", buf_str(&err));
	buf_reset(&err);
	is_int(options_set(&o, "header", "X\revil", &err), -1, "a value with a carriage return is refused");
	is_int(options_get(buf_str(&o), "evil", out, sizeof out), 0, "no key was smuggled in");
	is_int(options_get(buf_str(&o), "header", out, sizeof out), 1, "header still there");
	is_str(out, "X-Hub-Signature-256", "a refused set leaves the old value");
	memset(longv, 'v', KANCA_OPTION_MAX);
	longv[KANCA_OPTION_MAX] = '\0';
	is_int(options_set(&o, "long", longv, &err), 0, "a value of KANCA_OPTION_MAX bytes is accepted");
	is_int(options_get(buf_str(&o), "long", out, sizeof out), 1, "and read back");
	is_int(strlen(out), KANCA_OPTION_MAX, "whole");
	longv[KANCA_OPTION_MAX] = 'v';
	longv[KANCA_OPTION_MAX + 1] = '\0';
	buf_reset(&err);
	is_int(options_set(&o, "long2", longv, &err), -1, "a value of KANCA_OPTION_MAX+1 bytes is refused");
	ok(err.len > 0, "with a reason: %s", buf_str(&err));
	is_int(options_get(buf_str(&o), "long2", out, sizeof out), 0, "the refused value is absent");
	buf_free(&o);

	/* options that would pass the buffer's cap */
	buf_init(&o, 32);
	buf_reset(&err);
	is_int(options_set(&o, "a", "0123456789", &err), 0, "small options fit");
	is_int(options_set(&o, "b", "0123456789012345678901234567890", &err), -1,
	       "options_set fails when the options would pass the cap");
	ok(err.len > 0, "with a reason: %s", buf_str(&err));
	is_int(options_get(buf_str(&o), "b", out, sizeof out), 0, "the key that did not fit is absent");
	is_int(options_get(buf_str(&o), "a", out, sizeof out), 1, "the earlier key is kept");
	buf_free(&o);
	buf_free(&err);
}

int main(void)
{
	test_basics();
	test_caps();
	test_printf();
	test_fail();
	test_reserve_setlen();
	test_json_string();
	test_options();
	return done_testing();
}
