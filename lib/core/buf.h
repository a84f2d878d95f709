/* SPDX-License-Identifier: MPL-2.0 */
/*
 * A growable byte buffer, always NUL-terminated when non-empty. A failed
 * allocation sets `oom` and turns later appends into no-ops, so a writer
 * can append freely and check once at the end.
 */
#ifndef NMD_CORE_BUF_H
#define NMD_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nomad/core.h>

struct nmd_buf {
	char *data;
	size_t len;
	size_t cap;
	const nomad_allocator *alloc;
	bool oom;
};

void nmd_buf_init(struct nmd_buf *b, const nomad_allocator *alloc);
void nmd_buf_free(struct nmd_buf *b);
/* Empty the buffer, keeping its memory. */
void nmd_buf_reset(struct nmd_buf *b);
/* Make room for `extra` more bytes (plus the NUL); false when out of memory. */
bool nmd_buf_reserve(struct nmd_buf *b, size_t extra);
void nmd_buf_append(struct nmd_buf *b, const void *data, size_t len);
void nmd_buf_puts(struct nmd_buf *b, const char *s);
void nmd_buf_putc(struct nmd_buf *b, char c);
void nmd_buf_printf(struct nmd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void nmd_buf_put_i64(struct nmd_buf *b, int64_t v);
void nmd_buf_put_u64(struct nmd_buf *b, uint64_t v);
/* Append `s` (len bytes) as a quoted JSON string with escapes. */
void nmd_buf_put_json_string(struct nmd_buf *b, const char *s, size_t len);
/* Hand the data to the caller (NUL-terminated, allocated with b->alloc)
 * and leave the buffer empty. NULL when out of memory. */
char *nmd_buf_steal(struct nmd_buf *b, size_t *len);

#endif
