/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The JSON pull lexer (see jsonlex.h for why it exists). It is a small
 * state machine over the grammar: each call skips whitespace, checks that
 * the next byte may come here, and returns one token. Strings without
 * escapes point into the input; others are unescaped into a scratch buffer.
 * Invalid UTF-8 and lone surrogates become U+FFFD, as Go's decoder does.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/jsonlex.h"

enum {
	ST_VALUE,       /* a value must come */
	ST_ARR_FIRST,   /* after '[': a value or ']' */
	ST_OBJ_FIRST,   /* after '{': a key or '}' */
	ST_KEY,         /* after ',' in an object: a key */
	ST_AFTER_VALUE, /* inside a container: ',' or its closer */
	ST_DONE,        /* the top-level value has ended */
	ST_ERROR,
};

void nmd_jlex_init(struct nmd_jlex *lex, const char *src, size_t len,
		   unsigned int max_depth, const nomad_allocator *alloc,
		   nomad_error *err)
{
	memset(lex, 0, sizeof(*lex));
	lex->src = src;
	lex->len = len;
	lex->line = 1;
	lex->max_depth = max_depth ? max_depth : NMD_JLEX_MAX_DEPTH_DEFAULT;
	if (lex->max_depth > sizeof(lex->stack))
		lex->max_depth = sizeof(lex->stack);
	lex->state = ST_VALUE;
	lex->err = err;
	nmd_buf_init(&lex->scratch, alloc);
}

void nmd_jlex_free(struct nmd_jlex *lex)
{
	nmd_buf_free(&lex->scratch);
}

const char *nmd_jtok_name(enum nmd_jtok t)
{
	switch (t) {
	case NMD_JT_OBJ_BEGIN:
		return "object";
	case NMD_JT_ARR_BEGIN:
		return "array";
	case NMD_JT_STRING:
	case NMD_JT_KEY:
		return "string";
	case NMD_JT_NUMBER:
		return "number";
	case NMD_JT_TRUE:
	case NMD_JT_FALSE:
		return "boolean";
	case NMD_JT_NULL:
		return "null";
	case NMD_JT_OBJ_END:
		return "'}'";
	case NMD_JT_ARR_END:
		return "']'";
	case NMD_JT_EOF:
		return "end of input";
	default:
		return "error";
	}
}

static nomad_err vfail_at(struct nmd_jlex *lex, nomad_err code, unsigned line,
			  unsigned col, const char *fmt, va_list ap)
{
	char msg[NOMAD_ERRMSG_MAX - 64];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	lex->state = ST_ERROR;
	lex->tok = NMD_JT_ERROR;
	lex->code = code;
	return nmd_seterr_at(lex->err, code, lex->name, line, col,
			     "%s:%u:%u: %s", lex->name ? lex->name : "json",
			     line, col, msg);
}

nomad_err nmd_jlex_fail(struct nmd_jlex *lex, nomad_err code, const char *fmt,
			...)
{
	va_list ap;
	nomad_err rc;
	if (lex->state == ST_ERROR)
		return lex->code; /* keep the first error */
	va_start(ap, fmt);
	rc = vfail_at(lex, code, lex->tok_line, lex->tok_col, fmt, ap);
	va_end(ap);
	return rc;
}

static void vfail_at_pos(struct nmd_jlex *lex, nomad_err code,
			 const char *msg)
{
	nmd_seterr_at(lex->err, code, lex->name, lex->line,
		      (unsigned)(lex->pos - lex->line_start + 1), "%s: %s",
		      lex->name ? lex->name : "json", msg);
	lex->state = ST_ERROR;
	lex->tok = NMD_JT_ERROR;
	lex->code = code;
}

/* A syntax error at the current position (not the token's start). */
static enum nmd_jtok syntax_error(struct nmd_jlex *lex, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum nmd_jtok syntax_error(struct nmd_jlex *lex, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(lex, NOMAD_EPARSE, lex->line,
		 (unsigned)(lex->pos - lex->line_start + 1), fmt, ap);
	va_end(ap);
	return NMD_JT_ERROR;
}

static void describe_byte(const struct nmd_jlex *lex, char *out, size_t cap)
{
	unsigned char c;
	if (lex->pos >= lex->len) {
		snprintf(out, cap, "end of input");
		return;
	}
	c = (unsigned char)lex->src[lex->pos];
	if (c >= 0x20 && c < 0x7f)
		snprintf(out, cap, "character '%c'", c);
	else
		snprintf(out, cap, "byte 0x%02x", c);
}

static enum nmd_jtok unexpected(struct nmd_jlex *lex, const char *looking_for)
{
	char what[32];
	describe_byte(lex, what, sizeof(what));
	return syntax_error(lex, "unexpected %s, expected %s", what,
			    looking_for);
}

static void skip_ws(struct nmd_jlex *lex)
{
	while (lex->pos < lex->len) {
		char c = lex->src[lex->pos];
		if (c == '\n') {
			lex->line++;
			lex->line_start = lex->pos + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
		lex->pos++;
	}
}

static void mark_token(struct nmd_jlex *lex)
{
	lex->tok_start = lex->pos;
	lex->tok_line = lex->line;
	lex->tok_col = (unsigned)(lex->pos - lex->line_start + 1);
}

/* ---- strings ---------------------------------------------------------- */

static void put_utf8(struct nmd_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	nmd_buf_append(b, u, n);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (n >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = 0x80, hi = 0xbf;
		if (c == 0xe0)
			lo = 0xa0; /* no overlongs */
		if (c == 0xed)
			hi = 0x9f; /* no surrogates */
		return (n >= 3 && s[1] >= lo && s[1] <= hi &&
			(s[2] & 0xc0) == 0x80) ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = 0x80, hi = 0xbf;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
		return (n >= 4 && s[1] >= lo && s[1] <= hi &&
			(s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) ? 4 : 0;
	}
	return 0;
}

static int hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

/* Decode \uXXXX (and a following low surrogate) at src[*p] (after the 'u'). */
static bool unescape_u(struct nmd_jlex *lex, size_t *p)
{
	uint32_t cp, lo;
	if (*p + 4 > lex->len || !hex4(lex->src + *p, &cp))
		return false;
	*p += 4;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (*p + 6 <= lex->len && lex->src[*p] == '\\' &&
		    lex->src[*p + 1] == 'u' && hex4(lex->src + *p + 2, &lo) &&
		    lo >= 0xdc00 && lo <= 0xdfff) {
			*p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else {
			cp = 0xfffd;
		}
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		cp = 0xfffd;
	}
	put_utf8(&lex->scratch, cp);
	return true;
}

static bool unescape_one(struct nmd_jlex *lex, size_t *p)
{
	char c = lex->src[*p];
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit = c ? strchr(from, c) : NULL;
	(*p)++;
	if (hit) {
		nmd_buf_putc(&lex->scratch, to[hit - from]);
		return true;
	}
	return c == 'u' && unescape_u(lex, p);
}

/* The slow path: escapes or non-ASCII somewhere in the string. */
static enum nmd_jtok lex_string_slow(struct nmd_jlex *lex, size_t start,
				     size_t p, enum nmd_jtok kind)
{
	nmd_buf_reset(&lex->scratch);
	nmd_buf_append(&lex->scratch, lex->src + start, p - start);
	while (p < lex->len) {
		unsigned char c = (unsigned char)lex->src[p];
		if (c == '"') {
			if (lex->scratch.oom) {
				vfail_at_pos(lex, NOMAD_ENOMEM, "out of memory");
				return NMD_JT_ERROR;
			}
			lex->pos = p + 1;
			lex->str = lex->scratch.data ? lex->scratch.data : "";
			lex->slen = lex->scratch.len;
			return kind;
		}
		if (c < 0x20) {
			lex->pos = p;
			return syntax_error(lex, "control character 0x%02x in "
						 "string (escape it)", c);
		}
		if (c == '\\') {
			size_t at = p;
			p++;
			if (p >= lex->len || !unescape_one(lex, &p)) {
				lex->pos = at;
				return syntax_error(lex, "invalid escape in string");
			}
			continue;
		}
		size_t n = utf8_seq_len((const unsigned char *)lex->src + p,
					lex->len - p);
		if (n == 0) {
			put_utf8(&lex->scratch, 0xfffd);
			p++;
		} else {
			nmd_buf_append(&lex->scratch, lex->src + p, n);
			p += n;
		}
	}
	lex->pos = p;
	return syntax_error(lex, "unterminated string");
}

static enum nmd_jtok lex_string(struct nmd_jlex *lex, enum nmd_jtok kind)
{
	size_t start = lex->pos + 1, p = start;
	while (p < lex->len) {
		unsigned char c = (unsigned char)lex->src[p];
		if (c == '"') {
			lex->str = lex->src + start;
			lex->slen = p - start;
			lex->pos = p + 1;
			return kind;
		}
		if (c == '\\' || c < 0x20 || c >= 0x80)
			return lex_string_slow(lex, start, p, kind);
		p++;
	}
	lex->pos = p;
	return syntax_error(lex, "unterminated string");
}

/* ---- numbers and literals --------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t digits(const struct nmd_jlex *lex, size_t p)
{
	while (p < lex->len && is_digit(lex->src[p]))
		p++;
	return p;
}

static enum nmd_jtok lex_number(struct nmd_jlex *lex)
{
	size_t p = lex->pos, q;
	if (lex->src[p] == '-')
		p++;
	if (p < lex->len && lex->src[p] == '0') {
		p++;
	} else {
		q = digits(lex, p);
		if (q == p) {
			lex->pos = p;
			return unexpected(lex, "a digit");
		}
		p = q;
	}
	if (p < lex->len && lex->src[p] == '.') {
		q = digits(lex, p + 1);
		if (q == p + 1) {
			lex->pos = q;
			return unexpected(lex, "a digit after '.'");
		}
		p = q;
	}
	if (p < lex->len && (lex->src[p] == 'e' || lex->src[p] == 'E')) {
		p++;
		if (p < lex->len && (lex->src[p] == '+' || lex->src[p] == '-'))
			p++;
		q = digits(lex, p);
		if (q == p) {
			lex->pos = q;
			return unexpected(lex, "a digit in the exponent");
		}
		p = q;
	}
	lex->str = lex->src + lex->pos;
	lex->slen = p - lex->pos;
	lex->pos = p;
	return NMD_JT_NUMBER;
}

static enum nmd_jtok lex_literal(struct nmd_jlex *lex, const char *word,
				 enum nmd_jtok kind)
{
	size_t n = strlen(word);
	if (lex->len - lex->pos < n || memcmp(lex->src + lex->pos, word, n)) {
		return unexpected(lex, "a value");
	}
	lex->pos += n;
	lex->str = word;
	lex->slen = n;
	return kind;
}

/* ---- the grammar -------------------------------------------------------- */

static void value_ended(struct nmd_jlex *lex)
{
	lex->state = lex->depth ? ST_AFTER_VALUE : ST_DONE;
}

static enum nmd_jtok open_container(struct nmd_jlex *lex, char c)
{
	if (lex->depth >= lex->max_depth)
		return syntax_error(lex, "nesting deeper than %u levels",
				    lex->max_depth);
	lex->stack[lex->depth++] = c;
	lex->pos++;
	lex->state = c == '{' ? ST_OBJ_FIRST : ST_ARR_FIRST;
	return c == '{' ? NMD_JT_OBJ_BEGIN : NMD_JT_ARR_BEGIN;
}

static enum nmd_jtok close_container(struct nmd_jlex *lex)
{
	char open = lex->stack[--lex->depth];
	lex->pos++;
	value_ended(lex);
	return open == '{' ? NMD_JT_OBJ_END : NMD_JT_ARR_END;
}

static enum nmd_jtok lex_value(struct nmd_jlex *lex)
{
	enum nmd_jtok t;
	char c;
	if (lex->pos >= lex->len)
		return syntax_error(lex, "unexpected end of input, expected a "
					 "value");
	c = lex->src[lex->pos];
	switch (c) {
	case '{':
	case '[':
		return open_container(lex, c);
	case '"':
		t = lex_string(lex, NMD_JT_STRING);
		break;
	case 't':
		t = lex_literal(lex, "true", NMD_JT_TRUE);
		break;
	case 'f':
		t = lex_literal(lex, "false", NMD_JT_FALSE);
		break;
	case 'n':
		t = lex_literal(lex, "null", NMD_JT_NULL);
		break;
	default:
		if (c == '-' || is_digit(c))
			t = lex_number(lex);
		else
			return unexpected(lex, "a value");
	}
	if (t != NMD_JT_ERROR)
		value_ended(lex);
	return t;
}

static enum nmd_jtok lex_key(struct nmd_jlex *lex)
{
	enum nmd_jtok t;
	if (lex->pos >= lex->len || lex->src[lex->pos] != '"')
		return unexpected(lex, "an object key (a string)");
	t = lex_string(lex, NMD_JT_KEY);
	if (t == NMD_JT_ERROR)
		return t;
	skip_ws(lex);
	if (lex->pos >= lex->len || lex->src[lex->pos] != ':')
		return unexpected(lex, "':' after an object key");
	lex->pos++;
	lex->state = ST_VALUE;
	return NMD_JT_KEY;
}

static enum nmd_jtok after_value(struct nmd_jlex *lex)
{
	char open = lex->stack[lex->depth - 1];
	char c = lex->pos < lex->len ? lex->src[lex->pos] : '\0';
	if (c == ',') {
		lex->pos++;
		skip_ws(lex);
		mark_token(lex);
		if (open == '{')
			return lex_key(lex);
		return lex_value(lex);
	}
	if ((open == '{' && c == '}') || (open == '[' && c == ']'))
		return close_container(lex);
	return unexpected(lex, open == '{' ? "',' or '}'" : "',' or ']'");
}

enum nmd_jtok nmd_jlex_next(struct nmd_jlex *lex)
{
	skip_ws(lex);
	mark_token(lex);
	switch (lex->state) {
	case ST_VALUE:
		lex->tok = lex_value(lex);
		break;
	case ST_ARR_FIRST:
		if (lex->pos < lex->len && lex->src[lex->pos] == ']')
			lex->tok = close_container(lex);
		else
			lex->tok = lex_value(lex);
		break;
	case ST_OBJ_FIRST:
		if (lex->pos < lex->len && lex->src[lex->pos] == '}')
			lex->tok = close_container(lex);
		else
			lex->tok = lex_key(lex);
		break;
	case ST_KEY:
		lex->tok = lex_key(lex);
		break;
	case ST_AFTER_VALUE:
		lex->tok = after_value(lex);
		break;
	case ST_DONE:
		if (lex->pos < lex->len)
			lex->tok = unexpected(lex, "end of input after the "
						   "JSON value");
		else
			lex->tok = NMD_JT_EOF;
		break;
	default:
		lex->tok = NMD_JT_ERROR;
	}
	return lex->tok;
}

bool nmd_jlex_skip(struct nmd_jlex *lex)
{
	unsigned int depth;
	if (lex->tok == NMD_JT_ERROR)
		return false;
	if (lex->tok != NMD_JT_OBJ_BEGIN && lex->tok != NMD_JT_ARR_BEGIN)
		return true;
	depth = lex->depth - 1;
	while (lex->depth > depth) {
		enum nmd_jtok t = nmd_jlex_next(lex);
		if (t == NMD_JT_ERROR || t == NMD_JT_EOF)
			return false;
	}
	return true;
}

static void put_separator(struct nmd_buf *out, size_t start)
{
	char last;
	if (out->len <= start)
		return;
	last = out->data[out->len - 1];
	if (last != '{' && last != '[' && last != ':')
		nmd_buf_putc(out, ',');
}

static void copy_token(const struct nmd_jlex *lex, struct nmd_buf *out,
		       size_t start)
{
	switch (lex->tok) {
	case NMD_JT_OBJ_END:
		nmd_buf_putc(out, '}');
		break;
	case NMD_JT_ARR_END:
		nmd_buf_putc(out, ']');
		break;
	case NMD_JT_KEY:
		put_separator(out, start);
		nmd_buf_put_json_string(out, lex->str, lex->slen);
		nmd_buf_putc(out, ':');
		break;
	case NMD_JT_STRING:
		put_separator(out, start);
		nmd_buf_put_json_string(out, lex->str, lex->slen);
		break;
	case NMD_JT_OBJ_BEGIN:
		put_separator(out, start);
		nmd_buf_putc(out, '{');
		break;
	case NMD_JT_ARR_BEGIN:
		put_separator(out, start);
		nmd_buf_putc(out, '[');
		break;
	default: /* numbers and literals: their text */
		put_separator(out, start);
		nmd_buf_append(out, lex->str, lex->slen);
	}
}

bool nmd_jlex_copy_compact(struct nmd_jlex *lex, struct nmd_buf *out)
{
	size_t start = out->len;
	unsigned int depth;
	if (lex->tok == NMD_JT_ERROR || lex->tok == NMD_JT_EOF)
		return false;
	copy_token(lex, out, start);
	if (lex->tok != NMD_JT_OBJ_BEGIN && lex->tok != NMD_JT_ARR_BEGIN)
		return !out->oom;
	depth = lex->depth - 1;
	while (lex->depth > depth) {
		enum nmd_jtok t = nmd_jlex_next(lex);
		if (t == NMD_JT_ERROR || t == NMD_JT_EOF)
			return false;
		copy_token(lex, out, start);
	}
	return !out->oom;
}

/* ---- number conversions ------------------------------------------------ */

static bool parse_u64_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d;
		if (!is_digit(s[i]))
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool nmd_json_num_u64(const char *s, size_t len, uint64_t *out)
{
	return parse_u64_digits(s, len, out);
}

bool nmd_json_num_i64(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	bool neg = len > 0 && s[0] == '-';
	if (!parse_u64_digits(s + neg, len - neg, &v))
		return false;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)v;
	}
	return true;
}

bool nmd_json_num_double(const char *s, size_t len, double *out)
{
	char small[128], *copy = small, *end;
	double v;
	if (len == 0)
		return false;
	if (len >= sizeof(small)) {
		copy = nmd_strndup(NULL, s, len);
		if (!copy)
			return false;
	} else {
		memcpy(small, s, len);
		small[len] = '\0';
	}
	errno = 0;
	v = strtod(copy, &end);
	/* Underflow rounds to zero quietly, as Go does; overflow fails. */
	bool ok = end == copy + len &&
		  !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL));
	if (copy != small)
		nmd_free(NULL, copy);
	if (ok)
		*out = v;
	return ok;
}
