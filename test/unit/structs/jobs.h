/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Building jobs in C for the structs tests, so that the defaults and
 * validation tests do not depend on the JSON codec. Every helper fails
 * the test when it runs out of memory.
 */
#ifndef NMD_TEST_STRUCTS_JOBS_H
#define NMD_TEST_STRUCTS_JOBS_H

#include <nomad/structs.h>

#define SEC INT64_C(1000000000)
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)

void *tj_new_msg(const ProtobufCMessageDescriptor *desc);
char *tj_dup(const char *s);
/* A task with the docker driver, appended to the group. */
Nomad__Task *tj_add_task(Nomad__TaskGroup *tg, const char *name);
Nomad__TaskGroup *tj_add_group(nomad_job *job, const char *name);
/* Job "example", group "web", task "api"; type 0 leaves Type unset. */
nomad_job *tj_raw_job(Nomad__JobType type);

#endif
