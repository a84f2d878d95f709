/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The growable byte buffer every encoder writes into, plus the JSON string
 * escaper it shares with the log formatter.
 *
 * The buffer doubles its capacity (64 bytes at least) and keeps a NUL after
 * the data once anything is in it, so `data` can be used as a C string.
 * The first failed allocation sets `oom`; from then on appends do nothing,
 * so an encoder appends freely and checks once at the end. The data held
 * before the failure is kept until reset, free or steal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/core_int.h"

#define BUF_MIN_CAP 64

void nmd_buf_init(struct nmd_buf *b, const nomad_allocator *alloc)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->alloc = alloc;
	b->oom = false;
}

void nmd_buf_free(struct nmd_buf *b)
{
	if (!b)
		return;
	nmd_free(b->alloc, b->data);
	nmd_buf_init(b, b->alloc);
}

void nmd_buf_reset(struct nmd_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->data)
		b->data[0] = '\0';
}

static bool grow(struct nmd_buf *b, size_t need)
{
	size_t cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
	char *p;

	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	p = nmd_realloc(b->alloc, b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

bool nmd_buf_reserve(struct nmd_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	/* len + extra + 1 for the NUL, without wrapping around. */
	if (extra >= SIZE_MAX - b->len) {
		b->oom = true;
		return false;
	}
	if (b->len + extra + 1 <= b->cap)
		return true;
	return grow(b, b->len + extra + 1);
}

void nmd_buf_append(struct nmd_buf *b, const void *data, size_t len)
{
	const char *src = data;
	uintptr_t s = (uintptr_t)data, d = (uintptr_t)b->data;
	size_t self_off = SIZE_MAX;

	if (b->oom || len == 0)
		return;
	/* Appending a piece of the buffer to itself: growing may move it.
	 * (Compared as integers: pointers into different objects may not
	 * be compared with < in C.) */
	if (b->data && s >= d && s - d < b->cap)
		self_off = (size_t)(s - d);
	if (!nmd_buf_reserve(b, len))
		return;
	if (self_off != SIZE_MAX)
		src = b->data + self_off;
	memmove(b->data + b->len, src, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void nmd_buf_puts(struct nmd_buf *b, const char *s)
{
	if (s)
		nmd_buf_append(b, s, strlen(s));
}

void nmd_buf_putc(struct nmd_buf *b, char c)
{
	if (b->oom)
		return;
	if (b->len + 1 >= b->cap && !nmd_buf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void nmd_buf_printf(struct nmd_buf *b, const char *fmt, ...)
{
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	va_list ap;
	int n;

	if (b->oom)
		return;
	/* First try in the space already there; most calls fit. */
	va_start(ap, fmt);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		/* An encoding error: the output would be wrong, flag it. */
		b->oom = true;
		return;
	}
	if ((size_t)n >= room) {
		if (!nmd_buf_reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void nmd_buf_put_u64(struct nmd_buf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	nmd_buf_append(b, tmp + i, sizeof(tmp) - i);
}

void nmd_buf_put_i64(struct nmd_buf *b, int64_t v)
{
	if (v < 0) {
		nmd_buf_putc(b, '-');
		/* Negate in unsigned arithmetic: INT64_MIN has no positive. */
		nmd_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		nmd_buf_put_u64(b, (uint64_t)v);
	}
}

static void emit_buf(void *sink, const char *p, size_t n)
{
	nmd_buf_append(sink, p, n);
}

void nmd_buf_put_json_string(struct nmd_buf *b, const char *s, size_t len)
{
	/* Most strings need no escapes: reserve once for the plain case. */
	if (!nmd_buf_reserve(b, len + 2))
		return;
	nmd_buf_putc(b, '"');
	nmd_json_escape(s, len, emit_buf, b);
	nmd_buf_putc(b, '"');
}

char *nmd_buf_steal(struct nmd_buf *b, size_t *len)
{
	char *p = b->data;
	size_t n = b->len;

	if (b->oom) {
		nmd_free(b->alloc, p);
		p = NULL;
		n = 0;
	} else if (!p) {
		/* The caller always gets a string it can free. */
		p = nmd_malloc(b->alloc, 1);
		if (p)
			p[0] = '\0';
	}
	/* Whatever happened, the buffer starts over empty and usable. */
	nmd_buf_init(b, b->alloc);
	if (len)
		*len = p ? n : 0;
	return p;
}

/* ------------------------------------------------------------------ */
/* UTF-8 and JSON escaping                                             */

static bool cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t nmd_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	/* The second byte's range depends on the first (RFC 3629 table). */
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if (!cont(s[i]))
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return need;
}

/* The escape for the character at p[0..len), or NULL when it stays as
 * is; *adv is how many input bytes it covers. */
static const char *json_escape_for(const unsigned char *p, size_t len,
				   size_t *adv, char tmp[8])
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;

	*adv = 1;
	switch (p[0]) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	if (p[0] < 0x20) {
		memcpy(tmp, "\\u00", 4);
		tmp[4] = hex[p[0] >> 4];
		tmp[5] = hex[p[0] & 0xf];
		tmp[6] = '\0';
		return tmp;
	}
	if (p[0] < 0x80)
		return NULL;
	*adv = nmd_utf8_decode(p, len, &cp);
	if (*adv == 0) {
		*adv = 1;
		return "\\ufffd";
	}
	/* Valid JSON, but not valid JavaScript inside a <script>. */
	if (cp == 0x2028)
		return "\\u2028";
	if (cp == 0x2029)
		return "\\u2029";
	return NULL;
}

void nmd_json_escape(const char *s, size_t len, nmd_emit_fn emit, void *sink)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0, adv;
	const char *esc;
	char tmp[8];

	while (i < len) {
		/* Fast path: plain printable ASCII. */
		if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' &&
		    p[i] != '\\') {
			i++;
			continue;
		}
		esc = json_escape_for(p + i, len - i, &adv, tmp);
		if (esc) {
			if (i > run)
				emit(sink, s + run, i - run);
			emit(sink, esc, strlen(esc));
			run = i + adv;
		}
		i += adv;
	}
	if (i > run)
		emit(sink, s + run, i - run);
}
