/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Filling the caller's nomad_error at the point of failure. Both return
 * `code`, so a failure reads `return nmd_seterr(err, NOMAD_EINVAL, ...)`.
 */
#ifndef NMD_CORE_ERROR_H
#define NMD_CORE_ERROR_H

#include <stdarg.h>
#include <nomad/core.h>

nomad_err nmd_seterr(nomad_error *err, nomad_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
nomad_err nmd_vseterr(nomad_error *err, nomad_err code, const char *fmt,
		      va_list ap) __attribute__((format(printf, 3, 0)));
/* For parsers: also records where in which input. */
nomad_err nmd_seterr_at(nomad_error *err, nomad_err code, const char *file,
			unsigned int line, unsigned int column,
			const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#endif
