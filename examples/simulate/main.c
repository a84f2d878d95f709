/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: main. Flags, then the workload, then one run per algorithm,
 * then the report; simulate.h says how the parts fit together.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate.h"

/* One run of the workload under one algorithm, summed up into *res. */
static int simulate(const struct options *o, const struct workload *w,
		    enum algorithm alg, struct result *res)
{
	struct run r;
	int rc = run_init(&r, o, w, alg);
	if (rc == 0)
		rc = run_loop(&r);
	if (rc == 0) {
		res->name = alg == ALG_SPREAD ? "spread" : "binpack";
		summarise(&r, &res->s);
		res->samples = r.samples; /* the report keeps them */
		res->n_samples = r.n_samples;
		res->capped = r.samples_capped;
		r.samples = NULL;
	}
	run_free(&r);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct workload w = {0};
	struct result res[2] = {{0}};
	enum algorithm algs[2] = {ALG_BINPACK, ALG_SPREAD};
	size_t n_res;
	FILE *csv = NULL, *out = stdout;
	int rc, status = 1;
	options_init(&o);
	if ((rc = parse_flags(&o, argc, argv)) != 0)
		return rc > 0 ? 0 : 2;
	if (o.trace) {
		if (trace_load(&w, o.trace) < 0)
			goto done;
	} else {
		generate(&w, &o);
	}
	workload_medians(&w);
	if (o.csv && !strcmp(o.csv, "-")) {
		csv = stdout;
		out = stderr;
	} else if (o.csv && !(csv = fopen(o.csv, "w"))) {
		fprintf(stderr, PROG ": %s: %s\n", o.csv, strerror(errno));
		goto done;
	}
	if (o.algorithm != ALG_BOTH)
		algs[0] = (enum algorithm)o.algorithm;
	n_res = o.algorithm == ALG_BOTH ? 2 : 1;
	print_header(out, &o, &w);
	for (size_t k = 0; k < n_res; k++)
		if (simulate(&o, &w, algs[k], &res[k]) < 0)
			goto done;
	print_series(out, res, n_res, o.interval);
	print_summary(out, res, n_res);
	if (csv) {
		fprintf(csv, "algorithm,time_s,cpu_pct,mem_pct,running_allocs,"
			"queued_allocs,empty_nodes,stranded_cpu_pct,"
			"stranded_mem_pct\n");
		for (size_t k = 0; k < n_res; k++)
			write_csv(csv, &res[k]);
	}
	status = 0;
done:
	if (csv && csv != stdout && fclose(csv) != 0 && status == 0) {
		fprintf(stderr, PROG ": %s: %s\n", o.csv, strerror(errno));
		status = 1;
	}
	for (size_t k = 0; k < 2; k++)
		free(res[k].samples);
	workload_free(&w);
	return status;
}
