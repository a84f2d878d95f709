/* SPDX-License-Identifier: MPL-2.0 */
/*
 * validate_job: check a Nomad job file written in JSON, as
 * `nomad job validate` does, and print the job with Nomad's defaults
 * filled in.
 *
 * It shows the structs API from start to end:
 * - decoding a job in Nomad's API shape: the `{"Job": {...}}` body of
 *   `PUT /v1/jobs`, as `nomad job run -output` prints it, or a bare job
 *   object;
 * - nomad_job_canonicalize, which applies the defaults Nomad applies when
 *   a job is registered;
 * - nomad_job_validate, which collects every problem rather than stopping
 *   at the first;
 * - nomad_job_to_json, which writes the canonical job back out;
 * - checking every return value and freeing everything on every path.
 *
 * Build it against an installed libnomad:
 *
 *     cc validate_job.c $(pkg-config --cflags --libs libnomad) -o validate_job
 *
 * Run it:  ./validate_job job.json     ("-" reads standard input)
 *
 * If the job is valid, the program prints the canonical job as pretty JSON
 * on standard output and exits 0. Otherwise it prints each problem, or the
 * error that stopped it, on standard error and exits 1. A usage error exits
 * 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nomad/nomad.h>

/*
 * Read all of `path` (standard input for "-") into a new buffer and add a
 * NUL at the end. Returns NULL after printing why when it cannot.
 */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			char *nbuf = realloc(buf, ncap + 1);

			if (!nbuf) {
				fprintf(stderr, "%s: out of memory\n", path);
				goto fail;
			}
			buf = nbuf;
			cap = ncap;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;

fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	nomad_job_register_request *req = NULL;
	nomad_job *bare = NULL;  /* the job when the input is a bare job */
	nomad_job *job = NULL;   /* req->job or bare; not freed on its own */
	nomad_problems *problems = NULL;
	nomad_json_options opts = NOMAD_JSON_OPTIONS_INIT;
	nomad_error err;
	nomad_err rc;
	char *json = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	int status = 1;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: %s <job.json | ->\n", argv[0]);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s <job.json | ->\n", argv[0]);
		return 2;
	}
	if (!(json = read_file(argv[1], &len)))
		return 1;

	/* The name appears in decode errors: "job.json:12:20: ...". The flags
	 * keep their defaults: as in Nomad, members the schema does not know
	 * are skipped, and names match case-insensitively when no exact match
	 * exists. */
	opts.name = argv[1];

	/*
	 * Try the register shape first. A bare job decodes as a register
	 * request too: the members it shares with one (Region, Namespace,
	 * JobModifyIndex) have the same types, and the decoder skips the rest.
	 * So a request with no Job means the text is a bare job, which we
	 * decode again as one.
	 */
	rc = nomad_job_register_request_from_json(&req, json, len, &opts,
						  &err);
	if (rc != NOMAD_OK) {
		fprintf(stderr, "%s\n", err.message);
		goto done;
	}
	if (req->job) {
		job = req->job;
	} else {
		rc = nomad_job_from_json(&bare, json, len, &opts, &err);
		if (rc != NOMAD_OK) {
			fprintf(stderr, "%s\n", err.message);
			goto done;
		}
		job = bare;
	}

	/* Fill in the defaults before validating, as Nomad's API does: many
	 * rules hold only once the policies for the job's type are in place. */
	rc = nomad_job_canonicalize(job, &err);
	if (rc != NOMAD_OK) {
		fprintf(stderr, "%s: %s: %s\n", argv[1], nomad_strerror(rc),
			err.message);
		goto done;
	}

	rc = nomad_job_validate(job, &problems, &err);
	if (rc == NOMAD_EINVAL) {
		size_t n = nomad_problems_count(problems);

		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%s: %s\n", argv[1],
				nomad_problems_get(problems, i));
		fprintf(stderr, "%s: %zu problem%s\n", argv[1], n,
			n == 1 ? "" : "s");
		goto done;
	}
	if (rc != NOMAD_OK) {
		fprintf(stderr, "%s: %s: %s\n", argv[1], nomad_strerror(rc),
			err.message);
		goto done;
	}

	/* NOMAD_JSON_PRETTY indents as `?pretty` does and ends the text with
	 * a newline. The text is ours to free with nomad_free(). */
	rc = nomad_job_to_json(job, NOMAD_JSON_PRETTY, &out, &out_len, &err);
	if (rc != NOMAD_OK) {
		fprintf(stderr, "%s: %s: %s\n", argv[1], nomad_strerror(rc),
			err.message);
		goto done;
	}
	if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0) {
		fprintf(stderr, "stdout: %s\n", strerror(errno));
		goto done;
	}
	status = 0;

done:
	nomad_free(out);
	nomad_problems_free(problems);
	nomad_job_free(bare);
	nomad_job_register_request_free(req);
	free(json);
	return status;
}
