/* fuzz_json.c: libFuzzer target for the JSON parser (strict scan + json-c) and its accessors. */
#include "first.h"
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "caps.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json *root = NULL;
	struct buf out;
	size_t n;

	if (json_parse((const char *)data, size, KANCA_JSON_DEPTH, &root) != JSON_OK)
		return 0;
	/* walk what a provider would read */
	(void)json_get_string(root, "event", &n);
	(void)json_get(root, "data");
	for (size_t i = 0; i < json_array_len(root) && i < 64; i++)
		(void)json_number_text(json_array_at(root, i));
	buf_init(&out, 1 << 24);
	if (json_serialize(root, &out) == 0) {
		struct json *again = NULL;
		/* what kanca serialises must parse again */
		if (json_parse(out.data, out.len, KANCA_JSON_DEPTH + 1, &again) != JSON_OK)
			__builtin_trap();
		json_free(again);
	}
	buf_free(&out);
	json_free(root);
	return 0;
}
