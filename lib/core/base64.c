/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Base64 encode and decode. Decoding is strict, as Go's StdEncoding is:
 * the length must be a multiple of four, padding only at the end, and the
 * unused bits of the last group must be zero.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void nmd_base64_encode(struct nmd_buf *out, const uint8_t *data, size_t len)
{
	char quad[4];
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		size_t left = len - i;
		if (left > 1)
			v |= (uint32_t)data[i + 1] << 8;
		if (left > 2)
			v |= data[i + 2];
		quad[0] = alphabet[(v >> 18) & 63];
		quad[1] = alphabet[(v >> 12) & 63];
		quad[2] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		quad[3] = left > 2 ? alphabet[v & 63] : '=';
		nmd_buf_append(out, quad, 4);
	}
}

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode one group of four; `last` allows padding. Returns bytes or -1. */
static int decode_quad(const char *q, bool last, uint8_t *dst)
{
	int s[4], pad = 0;
	uint32_t v;
	for (int i = 0; i < 4; i++) {
		if (q[i] == '=' && last && i >= 2) {
			s[i] = 0;
			pad++;
		} else if (pad || (s[i] = sextet(q[i])) < 0) {
			return -1;
		}
	}
	v = (uint32_t)s[0] << 18 | (uint32_t)s[1] << 12 | (uint32_t)s[2] << 6 |
	    (uint32_t)s[3];
	if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
		return -1; /* nonzero unused bits */
	dst[0] = (uint8_t)(v >> 16);
	dst[1] = (uint8_t)(v >> 8);
	dst[2] = (uint8_t)v;
	return 3 - pad;
}

bool nmd_base64_decode(const nomad_allocator *a, const char *text, size_t len,
		       uint8_t **out, size_t *out_len)
{
	uint8_t *buf;
	size_t n = 0;
	*out = NULL;
	*out_len = 0;
	if (len % 4)
		return false;
	if (len == 0)
		return true;
	if (!(buf = nmd_malloc(a, len / 4 * 3)))
		return false;
	for (size_t i = 0; i < len; i += 4) {
		int got = decode_quad(text + i, i + 4 == len, buf + n);
		if (got < 0) {
			nmd_free(a, buf);
			return false;
		}
		n += (size_t)got;
	}
	*out = buf;
	*out_len = n;
	return true;
}
