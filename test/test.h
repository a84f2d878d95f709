/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The unit-test harness: NMD_TEST(name) defines a test, which the runner
 * finds by name (scripts/gen-test-list.sh) and runs in a child process of
 * its own. A failed check prints where and what, then ends that child.
 *
 * Names read test_<subsys>_<topic>__<case>; `unit -s core::buf` runs the
 * tests whose subsys::topic::case starts with that.
 */
#ifndef NMD_TEST_H
#define NMD_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <inttypes.h>

#define NMD_TEST(name) void name(void); void name(void)

/* Exit code a test uses to say it was skipped (as automake's 77). */
#define NMD_TEST_SKIP_CODE 77

void nmd_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
void nmd_test_skip(const char *why) __attribute__((noreturn));
/* A directory of the test's own, removed by the runner afterwards. */
const char *nmd_test_tmpdir(void);
/* ../shared/corpus (or $NOMAD_CORPUS), or NULL when absent. */
const char *nmd_test_corpus_dir(void);
/* Read a whole file into a NUL-terminated malloc'd buffer, or NULL. */
char *nmd_test_read_file(const char *path, size_t *len);

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond))                                                  \
			nmd_test_fail(__FILE__, __LINE__, "check failed: %s", \
				      #cond);                                 \
	} while (0)

#define CHECK_INT(a, b)                                                       \
	do {                                                                  \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		if (a_ != b_)                                                 \
			nmd_test_fail(__FILE__, __LINE__,                     \
				      "%s == %s: %lld != %lld", #a, #b, a_,   \
				      b_);                                    \
	} while (0)

#define CHECK_OK(expr)                                                        \
	do {                                                                  \
		long long r_ = (long long)(expr);                             \
		if (r_ != 0)                                                  \
			nmd_test_fail(__FILE__, __LINE__,                     \
				      "%s returned %lld", #expr, r_);         \
	} while (0)

#define CHECK_STR(a, b)                                                       \
	do {                                                                  \
		const char *a_ = (a), *b_ = (b);                              \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                        \
			nmd_test_fail(__FILE__, __LINE__,                     \
				      "%s == %s: \"%s\" != \"%s\"", #a, #b,   \
				      a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

/* `haystack` contains `needle`. */
#define CHECK_CONTAINS(haystack, needle)                                      \
	do {                                                                  \
		const char *h_ = (haystack), *n_ = (needle);                  \
		if (!h_ || !strstr(h_, n_))                                   \
			nmd_test_fail(__FILE__, __LINE__,                     \
				      "\"%s\" does not contain \"%s\"",       \
				      h_ ? h_ : "(null)", n_);                \
	} while (0)

#endif
