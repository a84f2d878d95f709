/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Filling the caller's nomad_error at the point of failure. The message is
 * formatted into a local buffer first, so a caller may add context to an
 * error it already holds (nmd_seterr(err, code, "x: %s", err->message))
 * without the source and destination overlapping.
 */
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "core/error.h"

static void fill(nomad_error *err, nomad_err code, const char *file,
		 unsigned int line, unsigned int column, const char *fmt,
		 va_list ap)
{
	char msg[NOMAD_ERRMSG_MAX];
	char name[NOMAD_ERRFILE_MAX];

	msg[0] = '\0';
	if (fmt)
		/* Truncation is fine: the message is for people. */
		(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	strlcpy(name, file ? file : "", sizeof(name));

	err->code = code;
	memcpy(err->message, msg, sizeof(msg));
	memcpy(err->file, name, sizeof(name));
	err->line = line;
	err->column = column;
}

nomad_err nmd_vseterr(nomad_error *err, nomad_err code, const char *fmt,
		      va_list ap)
{
	if (err)
		fill(err, code, NULL, 0, 0, fmt, ap);
	return code;
}

nomad_err nmd_seterr(nomad_error *err, nomad_err code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	fill(err, code, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return code;
}

nomad_err nmd_seterr_at(nomad_error *err, nomad_err code, const char *file,
			unsigned int line, unsigned int column,
			const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	fill(err, code, file, line, column, fmt, ap);
	va_end(ap);
	return code;
}
