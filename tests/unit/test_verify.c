/* test_verify.c: HMAC-SHA256, SHA-256, hex, base64, constant-time comparison and random bytes. */
#include "first.h"
#include "wipe.h"
#include "verify.h"

/* HMAC-SHA256 of one message part. */
#define hmac_one(k, kl, m, ml, out)                                                                                    \
	verify_hmac_sha256_parts(k, kl, (const void *const[]){m}, (const size_t[]){ml}, 1, out)

#include <stdlib.h>
#include <string.h>

#include "tap.h"

struct hmac_case {
	const char *name;
	unsigned char key[131];
	size_t keylen;
	const char *msg;
	size_t msglen;
	const char *hex;
};

static void fill(unsigned char *p, unsigned char v, size_t n)
{
	memset(p, v, n);
}

static void test_rfc4231(void)
{
	static struct hmac_case cases[6];
	unsigned char dd[50], cd[50];
	static const char tc6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char tc7[] =
	    "This is a test using a larger than block-size key and a larger than block-size data. "
	    "The key needs to be hashed before being used by the HMAC algorithm.";

	fill(dd, 0xdd, sizeof dd);
	fill(cd, 0xcd, sizeof cd);

	cases[0].name = "RFC 4231 test case 1";
	fill(cases[0].key, 0x0b, 20);
	cases[0].keylen = 20;
	cases[0].msg = "Hi There";
	cases[0].msglen = 8;
	cases[0].hex = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";

	cases[1].name = "RFC 4231 test case 2 (key shorter than the output)";
	memcpy(cases[1].key, "Jefe", 4);
	cases[1].keylen = 4;
	cases[1].msg = "what do ya want for nothing?";
	cases[1].msglen = 28;
	cases[1].hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

	cases[2].name = "RFC 4231 test case 3 (0xaa key, 0xdd data)";
	fill(cases[2].key, 0xaa, 20);
	cases[2].keylen = 20;
	cases[2].msg = (const char *)dd;
	cases[2].msglen = 50;
	cases[2].hex = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";

	cases[3].name = "RFC 4231 test case 4 (key 0x01..0x19, 0xcd data)";
	for (int i = 0; i < 25; i++)
		cases[3].key[i] = (unsigned char)(i + 1);
	cases[3].keylen = 25;
	cases[3].msg = (const char *)cd;
	cases[3].msglen = 50;
	cases[3].hex = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";

	cases[4].name = "RFC 4231 test case 6 (131-byte key)";
	fill(cases[4].key, 0xaa, 131);
	cases[4].keylen = 131;
	cases[4].msg = tc6;
	cases[4].msglen = strlen(tc6);
	cases[4].hex = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";

	cases[5].name = "RFC 4231 test case 7 (131-byte key, long data)";
	fill(cases[5].key, 0xaa, 131);
	cases[5].keylen = 131;
	cases[5].msg = tc7;
	cases[5].msglen = strlen(tc7);
	cases[5].hex = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char mac[VERIFY_SHA256_LEN];
		char hex[VERIFY_HEX_LEN + 1];
		int rc;

		memset(mac, 0, sizeof mac);
		rc = hmac_one(cases[i].key, cases[i].keylen, cases[i].msg, cases[i].msglen, mac);
		is_int(rc, 0, "%s: one-part HMAC succeeds", cases[i].name);
		verify_hex_encode(mac, sizeof mac, hex);
		is_str(hex, cases[i].hex, "%s: digest", cases[i].name);
	}
}

static void test_hmac_edges(void)
{
	unsigned char mac[VERIFY_SHA256_LEN], mac2[VERIFY_SHA256_LEN];
	char hex[VERIFY_HEX_LEN + 1];
	const char *msg = "what do ya want for nothing?";
	const void *parts[4];
	size_t lens[4];

	is_int(hmac_one("", 0, "abc", 3, mac), -1, "zero-length key is refused");
	is_int(hmac_one(NULL, 0, "abc", 3, mac), -1, "NULL key is refused");
	parts[0] = "abc";
	lens[0] = 3;
	is_int(verify_hmac_sha256_parts("", 0, parts, lens, 1, mac), -1, "parts API: zero-length key is refused");

	/* parts: the same message split three ways, with an empty part in the middle */
	parts[0] = msg;
	lens[0] = 10; /* "what do ya" */
	parts[1] = "";
	lens[1] = 0;
	parts[2] = msg + 10;
	lens[2] = 8;
	parts[3] = msg + 18;
	lens[3] = strlen(msg) - 18;
	memset(mac, 0, sizeof mac);
	memset(mac2, 1, sizeof mac2);
	is_int(verify_hmac_sha256_parts("Jefe", 4, parts, lens, 4, mac), 0, "parts API succeeds");
	is_int(hmac_one("Jefe", 4, msg, strlen(msg), mac2), 0, "one-shot succeeds");
	is_mem(mac, sizeof mac, mac2, sizeof mac2, "parts API equals the one-shot HMAC");

	/* zero parts = HMAC of the empty message */
	is_int(verify_hmac_sha256_parts("key", 3, NULL, NULL, 0, mac), 0, "parts API with no parts succeeds");
	is_int(hmac_one("key", 3, "", 0, mac2), 0, "one-shot over an empty message succeeds");
	is_mem(mac, sizeof mac, mac2, sizeof mac2, "no parts equals the empty message");
	verify_hex_encode(mac, sizeof mac, hex);
	is_str(hex, "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0",
	       "HMAC-SHA256(\"key\", \"\") known value");

	/* a different key or a changed byte changes the digest */
	is_int(hmac_one("Jefe", 4, msg, strlen(msg) - 1, mac), 0, "shorter message succeeds");
	ok(memcmp(mac, mac2, sizeof mac) != 0, "a different message gives a different digest");
}

static void test_sha256(void)
{
	unsigned char d[VERIFY_SHA256_LEN];
	char hex[VERIFY_HEX_LEN + 1];

	is_int(verify_sha256("abc", 3, d), 0, "verify_sha256 succeeds");
	verify_hex_encode(d, sizeof d, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256(\"abc\")");
	is_int(verify_sha256("", 0, d), 0, "verify_sha256 of nothing succeeds");
	verify_hex_encode(d, sizeof d, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256(\"\")");
}

static void test_hex(void)
{
	static const unsigned char in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
	char out[2 * sizeof in + 2];

	memset(out, 'X', sizeof out);
	verify_hex_encode(in, sizeof in, out);
	is_str(out, "00017f80abcdefff", "hex encoding is lowercase and zero-padded");
	is_int(out[2 * sizeof in + 1], 'X', "hex encoding writes exactly 2n+1 bytes");
	verify_hex_encode(in, 0, out);
	is_str(out, "", "hex of nothing is the empty string");
}

static void test_base64_encode(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	char out[64];
	static const unsigned char hi[] = {0xfb, 0xff, 0xbf};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n;

		memset(out, 'X', sizeof out);
		n = verify_base64_encode((const unsigned char *)v[i].in, strlen(v[i].in), out);
		is_str(out, v[i].out, "base64 encode \"%s\" (RFC 4648 section 10)", v[i].in);
		is_int(n, strlen(v[i].out), "base64 encode \"%s\" returns the length", v[i].in);
	}
	verify_base64_encode(hi, sizeof hi, out);
	is_str(out, "+/+/", "base64 encode uses + and / (standard alphabet)");
}

static void test_base64_decode(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"", ""},
	    {"Zg==", "f"},
	    {"Zm8=", "fo"},
	    {"Zm9v", "foo"},
	    {"Zm9vYg==", "foob"},
	    {"Zm9vYmE=", "fooba"},
	    {"Zm9vYmFy", "foobar"},
	};
	unsigned char out[64];
	long n;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		memset(out, 0, sizeof out);
		n = verify_base64_decode(v[i].in, strlen(v[i].in), 0, out, sizeof out);
		is_int(n, (long)strlen(v[i].out), "base64 decode \"%s\": length", v[i].in);
		is_mem(out, n > 0 ? (size_t)n : 0, v[i].out, strlen(v[i].out), "base64 decode \"%s\": bytes", v[i].in);
		n = verify_base64_decode(v[i].in, strlen(v[i].in), 1, out, sizeof out);
		is_int(n, (long)strlen(v[i].out), "url-safe decode of padded \"%s\" is accepted", v[i].in);
	}

	/* alphabets */
	n = verify_base64_decode("+/8=", 4, 0, out, sizeof out);
	is_int(n, 2, "standard decode of \"+/8=\"");
	ok(n == 2 && out[0] == 0xfb && out[1] == 0xff, "standard decode of \"+/8=\" gives fb ff");
	n = verify_base64_decode("-_8=", 4, 1, out, sizeof out);
	is_int(n, 2, "url-safe decode of \"-_8=\"");
	ok(n == 2 && out[0] == 0xfb && out[1] == 0xff, "url-safe decode of \"-_8=\" gives fb ff");
	is_int(verify_base64_decode("-_8=", 4, 0, out, sizeof out), -1, "standard decode refuses - and _");
	is_int(verify_base64_decode("+/8=", 4, 1, out, sizeof out), -1, "url-safe decode refuses + and /");
	n = verify_base64_decode("-__-", 4, 1, out, sizeof out);
	ok(n == 3 && out[0] == 0xfb && out[1] == 0xff && out[2] == 0xfe, "url-safe decode of \"-__-\" gives fb ff fe");

	/* padding */
	is_int(verify_base64_decode("Zg", 2, 0, out, sizeof out), -1, "standard decode refuses missing padding (Zg)");
	is_int(verify_base64_decode("Zm8", 3, 0, out, sizeof out), -1, "standard decode refuses missing padding (Zm8)");
	n = verify_base64_decode("Zg", 2, 1, out, sizeof out);
	ok(n == 1 && out[0] == 'f', "url-safe decode accepts missing padding (Zg -> f)");
	n = verify_base64_decode("Zm8", 3, 1, out, sizeof out);
	is_mem(out, n > 0 ? (size_t)n : 0, "fo", 2, "url-safe decode accepts missing padding (Zm8 -> fo)");
	is_int(verify_base64_decode("Zg=", 3, 0, out, sizeof out), -1, "wrong padding: one = where two are due");
	is_int(verify_base64_decode("Zg=", 3, 1, out, sizeof out), -1, "wrong padding refused by url-safe too");
	is_int(verify_base64_decode("Zm8==", 5, 0, out, sizeof out), -1, "wrong padding: two = where one is due");
	is_int(verify_base64_decode("Zm9v=", 5, 0, out, sizeof out), -1, "padding after a full group");
	is_int(verify_base64_decode("Zm9v====", 8, 0, out, sizeof out), -1, "a whole group of padding");
	is_int(verify_base64_decode("Zg===", 5, 0, out, sizeof out), -1, "three padding characters");
	is_int(verify_base64_decode("=", 1, 0, out, sizeof out), -1, "padding alone");
	is_int(verify_base64_decode("Zg==Zg==", 8, 0, out, sizeof out), -1, "padding in the middle");
	is_int(verify_base64_decode("Z===", 4, 0, out, sizeof out), -1, "a single data character in a group");
	is_int(verify_base64_decode("Z", 1, 1, out, sizeof out), -1, "url-safe: a single data character");
	is_int(verify_base64_decode("Zm9vY", 5, 1, out, sizeof out), -1, "url-safe: 4n+1 data characters");

	/* characters */
	is_int(verify_base64_decode("Zm9v\n", 5, 0, out, sizeof out), -1, "trailing newline is invalid");
	is_int(verify_base64_decode("Zm9v YmFy", 9, 0, out, sizeof out), -1, "a space is invalid");
	is_int(verify_base64_decode("Zm9v\tYmF", 8, 0, out, sizeof out), -1, "a tab is invalid");
	is_int(verify_base64_decode(" Zm9vYmF", 8, 1, out, sizeof out), -1, "url-safe: leading space is invalid");
	is_int(verify_base64_decode("Zm9v*mFy", 8, 0, out, sizeof out), -1, "'*' is invalid");
	is_int(verify_base64_decode("Zm9v\0mFy", 8, 0, out, sizeof out), -1, "a NUL byte is invalid");
	is_int(verify_base64_decode("Zm9v\xc3\xa9mF", 8, 0, out, sizeof out), -1, "a non-ASCII byte is invalid");

	/* canonical encoding: the unused bits must be zero */
	is_int(verify_base64_decode("Zh==", 4, 0, out, sizeof out), -1, "non-canonical trailing bits (Zh==)");
	is_int(verify_base64_decode("Zm9=", 4, 0, out, sizeof out), -1, "non-canonical trailing bits (Zm9=)");
	is_int(verify_base64_decode("Zh", 2, 1, out, sizeof out), -1, "url-safe non-canonical trailing bits (Zh)");

	/* output capacity */
	is_int(verify_base64_decode("Zm9vYmFy", 8, 0, out, 6), 6, "decode into exactly enough room");
	is_int(verify_base64_decode("Zm9vYmFy", 8, 0, out, 5), -1, "decode that would overflow outcap is refused");
	is_int(verify_base64_decode("Zg==", 4, 0, out, 0), -1, "decode into zero room is refused");
	is_int(verify_base64_decode("", 0, 0, out, 0), 0, "empty input into zero room decodes to nothing");

	/* round trip of every byte value */
	{
		unsigned char all[256], back[256];
		char text[4 * 86 + 1];
		size_t tl;

		for (int i = 0; i < 256; i++)
			all[i] = (unsigned char)i;
		tl = verify_base64_encode(all, sizeof all, text);
		is_int(tl, 344, "encode of 256 bytes is 344 characters");
		n = verify_base64_decode(text, tl, 0, back, sizeof back);
		is_mem(back, n > 0 ? (size_t)n : 0, all, sizeof all, "round trip of all 256 byte values");
	}
}

static void test_equal(void)
{
	is_int(verify_equal("abc", 3, "abc", 3), 1, "verify_equal: equal");
	is_int(verify_equal("abc", 3, "abd", 3), 0, "verify_equal: last byte differs");
	is_int(verify_equal("xbc", 3, "abc", 3), 0, "verify_equal: first byte differs");
	is_int(verify_equal("abc", 3, "abcd", 4), 0, "verify_equal: prefix of different length");
	is_int(verify_equal("abcd", 4, "abc", 3), 0, "verify_equal: longer first");
	is_int(verify_equal("", 0, "", 0), 1, "verify_equal: both empty");
	is_int(verify_equal("", 0, "a", 1), 0, "verify_equal: empty against one byte");
	is_int(verify_equal("a\0b", 3, "a\0c", 3), 0, "verify_equal: compares past a NUL byte");
	is_int(verify_equal("a\0b", 3, "a\0b", 3), 1, "verify_equal: equal with a NUL byte");
}

static void test_hmac_text(void)
{
	const char *msg = "what do ya want for nothing?";
	const void *parts[2] = {msg, msg + 7};
	size_t lens[2] = {7, strlen(msg) - 7};
	char out[VERIFY_HEX_LEN + 1];

	memset(out, 'X', sizeof out);
	is_int(verify_hmac_text(VERIFY_HEX, "Jefe", 4, parts, lens, 2, out), 0, "verify_hmac_text hex succeeds");
	is_str(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "verify_hmac_text hex is the lowercase hex digest");
	memset(out, 'X', sizeof out);
	is_int(verify_hmac_text(VERIFY_BASE64, "Jefe", 4, parts, lens, 2, out), 0, "verify_hmac_text base64 succeeds");
	is_str(out, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=", "verify_hmac_text base64 is padded base64");
	is_int(strlen(out), VERIFY_B64_LEN, "base64 text has VERIFY_B64_LEN characters");
	is_int(verify_hmac_text(VERIFY_HEX, "", 0, parts, lens, 2, out), -1, "verify_hmac_text refuses an empty key");
}

static void test_random(void)
{
	unsigned char a[64], b[64];
	size_t zeros = 0;

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	is_int(verify_random(a, sizeof a), 0, "verify_random succeeds");
	is_int(verify_random(b, sizeof b), 0, "verify_random succeeds again");
	for (size_t i = 0; i < sizeof a; i++)
		zeros += a[i] == 0;
	ok(zeros < 16, "verify_random filled the buffer (%zu of 64 bytes are zero)", zeros);
	ok(memcmp(a, b, sizeof a) != 0, "two calls give different bytes");
	is_int(verify_random(a, 0), 0, "verify_random of 0 bytes succeeds");
}

static void test_wipe(void)
{
	unsigned char s[16];
	static const unsigned char z[16];

	wipe_bytes(NULL, 10); /* NULL-tolerant: a crash here fails the whole test */
	memset(s, 0x5a, sizeof s);
	wipe_bytes(s, sizeof s);
	is_mem(s, sizeof s, z, sizeof z, "verify_wipe zeroes the memory");
}

int main(void)
{
	test_rfc4231();
	test_hmac_edges();
	test_sha256();
	test_hex();
	test_base64_encode();
	test_base64_decode();
	test_equal();
	test_hmac_text();
	test_random();
	test_wipe();
	return done_testing();
}
