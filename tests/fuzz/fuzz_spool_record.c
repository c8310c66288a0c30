/* fuzz_spool_record.c: libFuzzer target for the spool record parser (what a drain reads back from disk:
 * a torn, truncated or corrupted file must be refused with a reason, never crash or be half-read; what
 * parses holds only what the format allows). */
#include "first.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "spool.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *data, size_t size)
{
	struct spool_record r;
	struct buf err;

	buf_init(&err, 256);
	if (spool_parse(data, size, &r, &err) == 0) {
		/* what parsed holds only what the format allows */
		if (!r.provider[0] || !r.account[0] || r.req.nheaders > KANCA_HEADERS_MAX ||
		    memchr(r.provider, '\0', sizeof r.provider) == NULL)
			__builtin_trap();
		for (size_t i = 0; i < r.req.nheaders; i++)
			if (!r.req.headers[i].name || !r.req.headers[i].name[0] || !r.req.headers[i].value)
				__builtin_trap();
		spool_record_free(&r);
	} else if (!err.len) {
		__builtin_trap(); /* a refusal always says why */
	}
	buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char sum[VERIFY_SHA256_LEN];
	char hex[2 * VERIFY_SHA256_LEN + 1];
	struct buf wrapped;

	/* the input as a whole file (a torn or corrupted one) ... */
	one((const char *)data, size);
	/* ... and as the payload of a record with a good checksum, so that the fields' parser is reached */
	if (verify_sha256(data, size, sum) < 0)
		return 0;
	verify_hex_encode(sum, sizeof sum, hex);
	buf_init(&wrapped, size + 128);
	if (buf_printf(&wrapped, "kanca-spool 1 %zu %s\n", size, hex) == 0 && buf_append(&wrapped, data, size) == 0)
		one(wrapped.data, wrapped.len);
	buf_free(&wrapped);
	return 0;
}
