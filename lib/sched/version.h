/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Versions and version constraints as go-version has them, for the
 * `version` and `semver` constraint operands (version.c).
 */
#ifndef NMD_SCHED_VERSION_H
#define NMD_SCHED_VERSION_H

#include <stdbool.h>
#include <stddef.h>

#define NMD_VERSION_MAX_SEGMENTS 8

struct nmd_version {
	long long segments[NMD_VERSION_MAX_SEGMENTS];
	size_t n_segments;  /* at least 3: missing ones are zero */
	size_t specified;   /* how many the text gave */
	char pre[64];       /* the pre-release, "" when none */
};

/* Parse `text`; `semver` accepts only SemVer shapes. False when it is not
 * a version. Build metadata is checked and dropped (it never orders). */
bool nmd_version_parse(const char *text, bool semver, struct nmd_version *v);

/* -1, 0 or 1 as a orders before, with or after b. */
int nmd_version_compare(const struct nmd_version *a,
			const struct nmd_version *b);

/* Whether `version` satisfies every constraint of the comma-separated
 * list: 1 yes, 0 no, -1 when either does not parse (which fails the
 * constraint, as in Nomad). */
int nmd_version_check(const char *version, const char *constraints,
		      bool semver);

#endif
