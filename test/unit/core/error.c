/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/error.c: filling a nomad_error, truncation of
 * long messages and file names, NULL err, and adding context to an error
 * that is already held.
 */
#include "core/error.h"
#include "test.h"

NMD_TEST(test_core_error__seterr_fills)
{
	nomad_error err;

	nomad_error_clear(&err);
	strcpy(err.file, "stale");
	err.line = 9;
	err.column = 9;
	CHECK_INT(nmd_seterr(&err, NOMAD_EINVAL, "bad %s=%d", "count", 3),
		  NOMAD_EINVAL);
	CHECK_INT(err.code, NOMAD_EINVAL);
	CHECK_STR(err.message, "bad count=3");
	CHECK_STR(err.file, "");
	CHECK_INT(err.line, 0);
	CHECK_INT(err.column, 0);
}

NMD_TEST(test_core_error__null_err)
{
	CHECK_INT(nmd_seterr(NULL, NOMAD_ENOTFOUND, "x %d", 1),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nmd_seterr_at(NULL, NOMAD_EPARSE, "f", 1, 2, "y"),
		  NOMAD_EPARSE);
}

NMD_TEST(test_core_error__truncates_message)
{
	char big[2000];
	nomad_error err;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(nmd_seterr(&err, NOMAD_ERROR, "%s", big), NOMAD_ERROR);
	CHECK_INT(strlen(err.message), NOMAD_ERRMSG_MAX - 1);
	CHECK(strspn(err.message, "a") == NOMAD_ERRMSG_MAX - 1);
}

NMD_TEST(test_core_error__seterr_at)
{
	nomad_error err;

	CHECK_INT(nmd_seterr_at(&err, NOMAD_EPARSE, "job.hcl", 3, 7,
				"unexpected %c", '}'),
		  NOMAD_EPARSE);
	CHECK_INT(err.code, NOMAD_EPARSE);
	CHECK_STR(err.message, "unexpected }");
	CHECK_STR(err.file, "job.hcl");
	CHECK_INT(err.line, 3);
	CHECK_INT(err.column, 7);

	CHECK_INT(nmd_seterr_at(&err, NOMAD_EPARSE, NULL, 1, 1, "x"),
		  NOMAD_EPARSE);
	CHECK_STR(err.file, "");
}

NMD_TEST(test_core_error__truncates_file)
{
	char name[600];
	nomad_error err;

	memset(name, 'f', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	nmd_seterr_at(&err, NOMAD_EPARSE, name, 1, 2, "m");
	CHECK_INT(strlen(err.file), NOMAD_ERRFILE_MAX - 1);
	CHECK_STR(err.message, "m");
}

static nomad_err via_va(nomad_error *err, nomad_err code, const char *fmt,
			...)
{
	va_list ap;
	nomad_err r;

	va_start(ap, fmt);
	r = nmd_vseterr(err, code, fmt, ap);
	va_end(ap);
	return r;
}

NMD_TEST(test_core_error__vseterr)
{
	nomad_error err;

	CHECK_INT(via_va(&err, NOMAD_ERANGE, "%d > %d", 5, 4), NOMAD_ERANGE);
	CHECK_INT(err.code, NOMAD_ERANGE);
	CHECK_STR(err.message, "5 > 4");
	CHECK_INT(via_va(NULL, NOMAD_EIO, "%s", "x"), NOMAD_EIO);
}

NMD_TEST(test_core_error__add_context)
{
	nomad_error err;

	nmd_seterr_at(&err, NOMAD_EPARSE, "a.json", 2, 3, "bad token");
	/* The old message is an argument of the new one. */
	nmd_seterr_at(&err, NOMAD_EPARSE, err.file, err.line, err.column,
		      "job: %s", err.message);
	CHECK_STR(err.message, "job: bad token");
	CHECK_STR(err.file, "a.json");
	CHECK_INT(err.line, 2);
}
