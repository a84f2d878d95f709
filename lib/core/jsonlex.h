/* SPDX-License-Identifier: MPL-2.0 */
/*
 * A strict RFC 8259 pull lexer: the caller asks for one token at a time and
 * the lexer checks the grammar (commas, colons, nesting) as it goes.
 *
 * Why not cJSON here: cJSON turns every number into a double, and Nomad's
 * JSON carries int64 values above 2^53 (nanosecond times such as
 * SubmitTime), which must survive exactly. The lexer keeps a number's text
 * and converts it on demand, reports line and column, bounds nesting, and
 * never builds a tree, so the typed decoder writes straight into structs.
 */
#ifndef NMD_CORE_JSONLEX_H
#define NMD_CORE_JSONLEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nomad/core.h>
#include "core/buf.h"

enum nmd_jtok {
	NMD_JT_ERROR = 0, /* see lex->err */
	NMD_JT_EOF,       /* the one top-level value has ended */
	NMD_JT_OBJ_BEGIN,
	NMD_JT_OBJ_END,
	NMD_JT_ARR_BEGIN,
	NMD_JT_ARR_END,
	NMD_JT_KEY,       /* an object member's name: str/len */
	NMD_JT_STRING,    /* str/len, unescaped, not NUL-terminated */
	NMD_JT_NUMBER,    /* str/len: the number's text as written */
	NMD_JT_TRUE,
	NMD_JT_FALSE,
	NMD_JT_NULL,
};

#define NMD_JLEX_MAX_DEPTH_DEFAULT 128

struct nmd_jlex {
	const char *src;
	size_t len;
	size_t pos;
	unsigned int line;     /* of `pos`, 1-based */
	size_t line_start;     /* offset where `line` begins */
	unsigned int depth;
	unsigned int max_depth;
	/* One byte per open container: '{' or '['. */
	char stack[256];
	/* What the grammar allows next (private). */
	int state;
	/* The current token. */
	enum nmd_jtok tok;
	const char *str;
	size_t slen;
	unsigned int tok_line, tok_col;
	size_t tok_start;      /* offset of the token's first byte */
	struct nmd_buf scratch; /* unescaped strings */
	const char *name;      /* input name for errors, may be NULL */
	nomad_error *err;      /* where errors go, may be NULL */
	nomad_err code;        /* NOMAD_OK until an error */
};

/* `max_depth` 0 means the default; it is capped at sizeof(stack). */
void nmd_jlex_init(struct nmd_jlex *lex, const char *src, size_t len,
		   unsigned int max_depth, const nomad_allocator *alloc,
		   nomad_error *err);
void nmd_jlex_free(struct nmd_jlex *lex);

/* Advance to the next token and return its kind. After NMD_JT_ERROR every
 * later call returns NMD_JT_ERROR too. */
enum nmd_jtok nmd_jlex_next(struct nmd_jlex *lex);

/* Skip the value whose first token is current (a scalar, or a whole object
 * or array). Returns false on a lexing error. */
bool nmd_jlex_skip(struct nmd_jlex *lex);

/* Write the value whose first token is current as compact JSON. */
bool nmd_jlex_copy_compact(struct nmd_jlex *lex, struct nmd_buf *out);

/* Record an error at the current token: "<path>: <message>" with line and
 * column. Returns `code`; the lexer is then in the error state. */
nomad_err nmd_jlex_fail(struct nmd_jlex *lex, nomad_err code, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));

/* Number conversions from a token's text. Integers must be written as
 * integers (no fraction or exponent), as Go's decoder requires. */
bool nmd_json_num_i64(const char *s, size_t len, int64_t *out);
bool nmd_json_num_u64(const char *s, size_t len, uint64_t *out);
bool nmd_json_num_double(const char *s, size_t len, double *out);

/* A short name for a token kind, for messages ("string", "number", ...). */
const char *nmd_jtok_name(enum nmd_jtok t);

#endif
