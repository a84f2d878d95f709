/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Standard base64 with padding (RFC 4648 section 4), the form Go's JSON
 * encoder uses for []byte fields such as a dispatch Payload.
 */
#ifndef NMD_CORE_BASE64_H
#define NMD_CORE_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"

/* Append the encoding of data[0..len) to `out`. */
void nmd_base64_encode(struct nmd_buf *out, const uint8_t *data, size_t len);

/* Decode text[0..len) into a new buffer allocated with `a` (*out NULL when
 * len is 0). False on bad characters, bad padding or out of memory. */
bool nmd_base64_decode(const nomad_allocator *a, const char *text, size_t len,
		       uint8_t **out, size_t *out_len);

#endif
