/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/version.c: nomad_version, nomad_strerror for
 * every code and for unknown ones, nomad_error_clear and nomad_free.
 */
#include <nomad/core.h>

#include "core/alloc.h"
#include "test.h"

NMD_TEST(test_core_version__string)
{
	CHECK_STR(nomad_version(), NOMAD_VERSION_STRING);
	CHECK_STR(nomad_version(), "0.1.0");
	CHECK_INT(NOMAD_VERSION_NUM, 0x000100);
}

NMD_TEST(test_core_version__strerror_every_code)
{
	static const struct {
		nomad_err code;
		const char *text;
	} cases[] = {
		{NOMAD_OK, "success"},
		{NOMAD_ERROR, "error"},
		{NOMAD_EINVAL, "invalid argument"},
		{NOMAD_ENOMEM, "out of memory"},
		{NOMAD_ENOTFOUND, "not found"},
		{NOMAD_EEXISTS, "already exists"},
		{NOMAD_ENOTLEADER, "not the leader"},
		{NOMAD_ECONFLICT, "index conflict"},
		{NOMAD_ETIMEDOUT, "timed out"},
		{NOMAD_EPARSE, "parse error"},
		{NOMAD_EUSER, "stopped by a user callback"},
		{NOMAD_EIO, "i/o error"},
		{NOMAD_ECORRUPT, "corrupt data"},
		{NOMAD_EPERM, "permission denied"},
		{NOMAD_ERANGE, "out of range"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(nomad_strerror(cases[i].code), cases[i].text);
}

NMD_TEST(test_core_version__strerror_distinct)
{
	/* Every known code has its own text, none is "unknown error". */
	for (int a = NOMAD_ERANGE; a <= NOMAD_OK; a++) {
		CHECK(strcmp(nomad_strerror((nomad_err)a), "unknown error"));
		for (int b = a + 1; b <= NOMAD_OK; b++)
			CHECK(strcmp(nomad_strerror((nomad_err)a),
				     nomad_strerror((nomad_err)b)) != 0);
	}
}

NMD_TEST(test_core_version__strerror_unknown)
{
	CHECK_STR(nomad_strerror((nomad_err)-15), "unknown error");
	CHECK_STR(nomad_strerror((nomad_err)1), "unknown error");
	CHECK_STR(nomad_strerror((nomad_err)-1000), "unknown error");
	CHECK_STR(nomad_strerror((nomad_err)INT32_MIN), "unknown error");
}

NMD_TEST(test_core_version__error_clear)
{
	nomad_error err;

	memset(&err, 0x5a, sizeof(err));
	nomad_error_clear(&err);
	CHECK_INT(err.code, NOMAD_OK);
	CHECK_STR(err.message, "");
	CHECK_STR(err.file, "");
	CHECK_INT(err.line, 0);
	CHECK_INT(err.column, 0);
	nomad_error_clear(NULL);
}

NMD_TEST(test_core_version__free)
{
	char *p = nmd_strdup(NULL, "freed with nomad_free");

	CHECK(p != NULL);
	nomad_free(p);
	nomad_free(NULL);
}
