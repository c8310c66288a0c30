/* fuzz_jws.c: libFuzzer target for the Apple JWS path: the compact-JWS split, base64url, the header
 * and its x5c entries, the certificate chain checks (verify.c X.509), ES256 with R||S -> DER, and the
 * notification claims with nested JWSs. The root is the test root of tests/vectors.json, so seeds
 * taken from its apple vectors (tests/fuzz/corpus/jws) reach the signature and claims checks. */
#include "first.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "json.h"
#include "verify.h"
#include "providers/apple.h"

#define FUZZ_NOW 1767225600LL /* the vectors' "now" */

static const char root_b64[] =
    "MIIByDCCAW6gAwIBAgICEAAwCgYIKoZIzj0EAwIwSzELMAkGA1UEBhMCVFIxFTATBgNVBAoMDFdlYmhvb2sgVGVzdDEl"
    "MCMGA1UEAwwcVEVTVCBBcHBsZS1saWtlIFJvb3QgQ0EgLSBHMzAeFw0yNTAxMDEwMDAwMDBaFw00NTAxMDEwMDAwMDBa"
    "MEsxCzAJBgNVBAYTAlRSMRUwEwYDVQQKDAxXZWJob29rIFRlc3QxJTAjBgNVBAMMHFRFU1QgQXBwbGUtbGlrZSBSb290"
    "IENBIC0gRzMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARzFX50YaBrnHcUJPf8GAOuqIYRznbde6Alp4zt3p0LxUjP"
    "zJUXW47OUPLr6Mj5lddxhNfjjhDT6FidFTnZ5HhMo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAd"
    "BgNVHQ4EFgQUnwdiN3/d5kfbi4OXs5hCoQnd++owCgYIKoZIzj0EAwIDSAAwRQIgLCtq2qUdOy9Ttli/Kq97aSn9StZg"
    "5Zar/E2toHkhU1ICIQC5BIuTuCVUvzQ0Hg4w73EvmzPf+LauZjIkOoWV3DJCyQ==";

static struct apple_config cfg;
static int cfg_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_config(void)
{
	struct buf opts, err;

	buf_init(&opts, 1 << 16);
	buf_init(&err, 256);
	if (buf_printf(&opts, "bundle_id=com.example.webhooktest\nenvironment=Sandbox\nroot_cert=%s\n", root_b64) < 0 ||
	    apple_config_load(buf_str(&opts), 1, &cfg, &err) < 0)
		__builtin_trap();
	buf_free(&opts);
	buf_free(&err);
	cfg_ready = 1;
}

/* The input as a certificate: what the chain checks do with whatever x5c decodes to. */
static void cert_input(const uint8_t *data, size_t size)
{
	struct verify_cert *c = verify_cert_parse(data, size);
	unsigned char d[VERIFY_SHA256_LEN], der[VERIFY_ECDSA_DER_MAX];
	long long nb, na;

	if (size >= VERIFY_ES256_SIG_LEN && verify_ecdsa_raw_to_der(data, VERIFY_ES256_SIG_LEN, der, sizeof der) < 0)
		__builtin_trap(); /* every 64-byte R||S has a DER form */
	if (!c)
		return;
	(void)verify_cert_signed_by(c, cfg.root);
	(void)verify_cert_is_ca(c);
	(void)verify_cert_has_extension(c, APPLE_OID_LEAF);
	(void)!verify_cert_validity(c, &nb, &na);
	(void)verify_cert_valid_at(c, FUZZ_NOW, APPLE_CLOCK_SKEW);
	(void)!verify_cert_sha256(c, d);
	if (size > 64)
		(void)verify_es256(c, data, size - 64, data + size - 64, 64);
	verify_cert_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct apple_jws j;
	struct apple_header h;
	struct apple_notification note;
	struct verify_cert *leaf = NULL;
	char type[KANCA_TYPE_MAX + 1];

	if (!cfg_ready)
		load_config();
	cert_input(data, size);
	if (apple_jws_split(s, size, &j) < 0)
		return 0;
	if (j.signing_len + 1 + j.len[2] != size || j.seg[0] != s)
		__builtin_trap();
	if (apple_jws_header(&j, &h) == APPLE_OK) {
		if (!h.der[0] || !h.der[1] || h.der_len[0] == 0 || h.der_len[1] == 0)
			__builtin_trap();
		if (apple_check_chain(cfg.root, &h, FUZZ_NOW, &leaf) == APPLE_OK && !leaf)
			__builtin_trap();
		verify_cert_free(leaf);
		apple_header_free(&h);
	}
	if (apple_verify_notification(&cfg, s, size, FUZZ_NOW, &note, NULL) == APPLE_OK) {
		/* what verify accepted, identify must decode to the same texts */
		struct apple_notification again;
		if (apple_decode_notification(s, size, &again) != APPLE_OK || again.payload_len != note.payload_len ||
		    memcmp(again.payload, note.payload, note.payload_len) != 0)
			__builtin_trap();
		(void)!apple_event_type(note.root, type, sizeof type);
		apple_notification_free(&again);
		apple_notification_free(&note);
	} else if (apple_decode_notification(s, size, &note) == APPLE_OK) {
		(void)!apple_event_type(note.root, type, sizeof type);
		apple_notification_free(&note);
	}
	return 0;
}
