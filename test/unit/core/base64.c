/* SPDX-License-Identifier: MPL-2.0 */
/* Base64 as Go's StdEncoding: RFC 4648 vectors, strict decoding. */
#include "test.h"
#include "core/base64.h"

NMD_TEST(test_core_base64__rfc4648_vectors)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob",
					    "fooba", "foobar"};
	static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v",
					    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		struct nmd_buf b;
		uint8_t *out;
		size_t n;
		nmd_buf_init(&b, NULL);
		nmd_base64_encode(&b, (const uint8_t *)plain[i], strlen(plain[i]));
		CHECK_STR(b.len ? b.data : "", coded[i]);
		nmd_buf_free(&b);
		CHECK(nmd_base64_decode(NULL, coded[i], strlen(coded[i]), &out, &n));
		CHECK_INT(n, strlen(plain[i]));
		CHECK(n == 0 || memcmp(out, plain[i], n) == 0);
		free(out);
	}
}

NMD_TEST(test_core_base64__all_bytes_round_trip)
{
	uint8_t data[256], *out;
	struct nmd_buf b;
	size_t n;
	for (int i = 0; i < 256; i++)
		data[i] = (uint8_t)i;
	nmd_buf_init(&b, NULL);
	nmd_base64_encode(&b, data, sizeof(data));
	CHECK(nmd_base64_decode(NULL, b.data, b.len, &out, &n));
	CHECK_INT(n, 256);
	CHECK(memcmp(out, data, 256) == 0);
	free(out);
	nmd_buf_free(&b);
}

NMD_TEST(test_core_base64__strict_decoding)
{
	static const char *const bad[] = {"Zg", "Zg=", "Z===", "Zg=a", "Zh==",
					  "Zm9=", "Zm9v!A==", "Zm 9v", "=Zg=",
					  "Zg==Zg=="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		uint8_t *out = (uint8_t *)1;
		size_t n = 99;
		if (nmd_base64_decode(NULL, bad[i], strlen(bad[i]), &out, &n))
			nmd_test_fail(__FILE__, __LINE__, "accepted \"%s\"",
				      bad[i]);
		CHECK(out == NULL);
	}
}
