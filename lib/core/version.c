/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The small public entry points of core.h that need no state: the linked
 * version, the text of each status code, clearing a nomad_error, and
 * nomad_free for memory the library handed to the caller.
 */
#include <string.h>

#include <nomad/core.h>

#include "core/alloc.h"

const char *nomad_version(void)
{
	return NOMAD_VERSION_STRING;
}

const char *nomad_strerror(nomad_err code)
{
	/* A switch rather than a table: the codes are negative and sparse
	 * ranges would need bounds checks anyway. */
	switch (code) {
	case NOMAD_OK:
		return "success";
	case NOMAD_ERROR:
		return "error";
	case NOMAD_EINVAL:
		return "invalid argument";
	case NOMAD_ENOMEM:
		return "out of memory";
	case NOMAD_ENOTFOUND:
		return "not found";
	case NOMAD_EEXISTS:
		return "already exists";
	case NOMAD_ENOTLEADER:
		return "not the leader";
	case NOMAD_ECONFLICT:
		return "index conflict";
	case NOMAD_ETIMEDOUT:
		return "timed out";
	case NOMAD_EPARSE:
		return "parse error";
	case NOMAD_EUSER:
		return "stopped by a user callback";
	case NOMAD_EIO:
		return "i/o error";
	case NOMAD_ECORRUPT:
		return "corrupt data";
	case NOMAD_EPERM:
		return "permission denied";
	case NOMAD_ERANGE:
		return "out of range";
	}
	return "unknown error";
}

void nomad_error_clear(nomad_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->code = NOMAD_OK;
}

void nomad_free(void *ptr)
{
	nmd_free(NULL, ptr);
}
