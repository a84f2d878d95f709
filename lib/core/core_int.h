/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Helpers shared by the files of lib/core only: UTF-8 decoding and JSON
 * string escaping (buf.c, used by the buffer and by the log formatter) and
 * UTC timestamp text (timeutil.c, used by RFC 3339 and by the log
 * formatter). Other subsystems use the narrow headers instead.
 */
#ifndef NMD_CORE_CORE_INT_H
#define NMD_CORE_CORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode one UTF-8 sequence from `s` (n > 0 bytes) by the rules of Go's
 * utf8.DecodeRune: no overlong forms, no surrogates, nothing above
 * U+10FFFF. Returns its length (1 to 4), or 0 when the byte at `s` does
 * not begin a valid sequence. */
size_t nmd_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Receives the output of an escaper in runs. */
typedef void (*nmd_emit_fn)(void *sink, const char *p, size_t n);

/* Emit `s` as the inside of a JSON string (no quotes): '"', '\\' and
 * control characters escaped, U+2028/U+2029 as \u2028/\u2029, each byte of
 * invalid UTF-8 as \ufffd (as Go's encoding/json does), the rest as is.
 * '<', '>' and '&' are kept as they are, for readable output. */
void nmd_json_escape(const char *s, size_t len, nmd_emit_fn emit, void *sink);

/* Longest text nmd_time_format_utc writes, NUL not included: a 12-digit
 * year with its sign, "-MM-DDTHH:MM:SS", a 9-digit fraction and "Z". */
#define NMD_TIME_TEXT_MAX 39

/* Write `sec`.`nsec` (any nsec; it is normalised) as
 * "YYYY-MM-DDTHH:MM:SS[.fff]Z" into `out` (NMD_TIME_TEXT_MAX + 1 bytes),
 * with `digits` (0 to 9) fraction digits; when `trim` is set, trailing
 * zeros are dropped, and the dot with them. Returns the length. */
size_t nmd_time_format_utc(int64_t sec, int64_t nsec, unsigned int digits,
			   bool trim, char *out);

#endif
