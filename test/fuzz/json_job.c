/* SPDX-License-Identifier: MPL-2.0 */
/*
 * libFuzzer target for JSON job decoding (`make fuzz`). Any input must be
 * either refused with an error or decoded; a decoded job must re-encode,
 * decode to an equal job, survive protobuf, canonicalise, validate and
 * diff against itself as unchanged, without crashing or leaking.
 */
#include <stdlib.h>
#include <string.h>

#include <nomad/nomad.h>
#include <nomad/structs.h>

static void must(int ok)
{
	if (!ok)
		abort();
}

static void exercise_job(const nomad_job *job)
{
	char *text = NULL;
	size_t len = 0;
	nomad_job *again = NULL, *copy = NULL;
	uint8_t *bytes = NULL;
	nomad_job_diff *diff = NULL;
	nomad_problems *problems = NULL;

	must(nomad_job_to_json(job, NOMAD_JSON_PRETTY, &text, &len, NULL) == NOMAD_OK);
	must(nomad_job_from_json(&again, text, len, NULL, NULL) == NOMAD_OK);
	must(nomad_job_equal(job, again));
	must(nomad_job_pack(again, &bytes, &len) == NOMAD_OK);
	nomad_job_free(again);
	must(nomad_job_unpack(&again, bytes, len, NULL) == NOMAD_OK);
	must(nomad_job_equal(job, again));

	must(nomad_job_copy(&copy, job) == NOMAD_OK);
	must(nomad_job_canonicalize(copy, NULL) == NOMAD_OK);
	(void)nomad_job_validate(copy, &problems, NULL);
	if (nomad_job_diff_compute(&diff, copy, copy, 0, NULL) == NOMAD_OK)
		must(diff->type == NOMAD__DIFF_TYPE__None);
	(void)nomad_task_group_update_kind(job, copy,
					   job->n_taskgroups && job->taskgroups[0]->name
						   ? job->taskgroups[0]->name : "");

	nomad_job_diff_free(diff);
	nomad_problems_free(problems);
	nomad_free(bytes);
	nomad_free(text);
	nomad_job_free(again);
	nomad_job_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nomad_job_register_request *req = NULL;
	nomad_job *job = NULL;
	nomad_error err;

	if (nomad_job_register_request_from_json(&req, (const char *)data, size,
						 NULL, &err) == NOMAD_OK) {
		if (req->job)
			exercise_job(req->job);
		nomad_job_register_request_free(req);
	} else {
		must(err.code != NOMAD_OK && err.message[0] != '\0');
	}
	if (nomad_job_from_json(&job, (const char *)data, size, NULL, &err) ==
	    NOMAD_OK) {
		exercise_job(job);
		nomad_job_free(job);
	}
	return 0;
}
