/* SPDX-License-Identifier: MPL-2.0 */
/* Job builders shared by the structs tests (see jobs.h). */
#include "structs/pb.h"
#include "test.h"
#include "jobs.h"

void *tj_new_msg(const ProtobufCMessageDescriptor *desc)
{
	void *m = nmd_pb_new(desc, NULL);
	CHECK(m != NULL);
	return m;
}

char *tj_dup(const char *s)
{
	char *d = strdup(s);
	CHECK(d != NULL);
	return d;
}

Nomad__Task *tj_add_task(Nomad__TaskGroup *tg, const char *name)
{
	Nomad__Task *t = tj_new_msg(&nomad__task__descriptor);
	t->name = tj_dup(name);
	t->driver = tj_dup("docker");
	CHECK(NMD_PB_APPEND(NULL, tg->tasks, tg->n_tasks, t));
	return t;
}

Nomad__TaskGroup *tj_add_group(nomad_job *job, const char *name)
{
	Nomad__TaskGroup *tg = tj_new_msg(&nomad__task_group__descriptor);
	tg->name = tj_dup(name);
	CHECK(NMD_PB_APPEND(NULL, job->taskgroups, job->n_taskgroups, tg));
	return tg;
}

nomad_job *tj_raw_job(Nomad__JobType type)
{
	nomad_job *job = nomad_job_new();
	CHECK(job != NULL);
	job->id = tj_dup("example");
	if (type) {
		job->has_type = 1;
		job->type = type;
	}
	tj_add_task(tj_add_group(job, "web"), "api");
	return job;
}
