/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: the report. A run is summed up into the figures
 * examples/README.md defines; the runs are printed side by side as a
 * header, a utilisation table and a summary, and -csv writes every sample.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate.h"

#define TABLE_ROWS 24          /* rows of the utilisation table */

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* The nearest-rank percentile of sorted values. */
static double percentile(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);
	return n ? v[k ? k - 1 : 0] : 0;
}

static void summarise_waits(const struct run *r, struct summary *s)
{
	double *waits = xcalloc(r->w->n, sizeof(*waits)), sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < r->w->n; i++) {
		const struct run_job *rj = &r->jobs[i];
		s->finished += rj->state == JOB_DONE;
		s->waited += rj->waited;
		if (rj->state == JOB_ACTIVE && rj->unplaced) {
			s->waiting_end++;
			s->never += rj->unplaced;
		}
		if (rj->waited && rj->all_placed) {
			waits[n] = (double)(rj->placed_all_ms -
					    rj->spec->arrive_ms) / 1000.0;
			sum += waits[n++];
		}
	}
	qsort(waits, n, sizeof(*waits), cmp_double);
	s->wait_mean = n ? sum / (double)n : 0;
	s->wait_p50 = percentile(waits, n, 0.50);
	s->wait_p99 = percentile(waits, n, 0.99);
	s->wait_max = n ? waits[n - 1] : 0;
	free(waits);
}

static void summarise_samples(const struct run *r, struct summary *s)
{
	for (size_t i = 0; i < r->n_samples; i++) {
		const struct sample *x = &r->samples[i];
		s->cpu_mean += x->cpu;
		s->mem_mean += x->mem;
		s->scpu_mean += x->scpu;
		s->smem_mean += x->smem;
		s->empty_mean += (double)x->empty;
		s->cpu_peak = x->cpu > s->cpu_peak ? x->cpu : s->cpu_peak;
		s->mem_peak = x->mem > s->mem_peak ? x->mem : s->mem_peak;
	}
	if (r->n_samples) {
		double n = (double)r->n_samples;
		s->cpu_mean /= n;
		s->mem_mean /= n;
		s->scpu_mean /= n;
		s->smem_mean /= n;
		s->empty_mean /= n;
	}
}

void summarise(const struct run *r, struct summary *s)
{
	size_t n = r->c.n_latency;
	double *lat = xcalloc(n, sizeof(*lat));
	memset(s, 0, sizeof(*s));
	s->sim_s = (double)r->end_ms / 1000.0;
	s->evals = r->c.evals;
	s->placed = r->c.placed;
	s->failed = r->c.failed;
	s->cancelled = r->c.cancelled;
	s->rejected = r->c.rejected;
	s->anomalies = r->c.anomalies;
	s->jobs = r->w->n;
	summarise_waits(r, s);
	summarise_samples(r, s);
	for (size_t i = 0; i < n; i++) {
		lat[i] = (double)r->c.latency[i] / 1000.0;
		s->sched_s += lat[i] / 1e6;
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	s->lat_p50 = percentile(lat, n, 0.50);
	s->lat_p99 = percentile(lat, n, 0.99);
	s->lat_max = n ? lat[n - 1] : 0;
	free(lat);
}

void print_header(FILE *out, const struct options *o,
		  const struct workload *w)
{
	fprintf(out, "cluster     %ld nodes:", o->nodes);
	for (size_t k = 0; k < o->n_shapes; k++) {
		size_t count = 0;
		for (size_t i = 0; i < (size_t)o->nodes; i++)
			count += shape_of(o, i) == &o->shapes[k];
		fprintf(out, "%s %zu x %" PRId64 " MHz/%" PRId64 " MB",
			k ? "," : "", count, o->shapes[k].cpu, o->shapes[k].mem);
	}
	if (o->racks)
		fprintf(out, "; %ld racks", o->racks);
	fprintf(out, "\nworkload    %zu jobs asking for %" PRIu64 " allocations, ",
		w->n, w->allocs);
	if (w->source)
		fprintf(out, "from %s (seed %" PRIu64 ")\n", w->source, o->seed);
	else
		fprintf(out, "generated with seed %" PRIu64 "\n", o->seed);
	fprintf(out, "median ask  %" PRId64 " MHz, %" PRId64 " MB\n",
		w->median_cpu, w->median_mem);
}

static void print_row(FILE *out, const struct result *res, size_t n_res,
		      size_t i, int decimals)
{
	bool timed = false;
	for (size_t k = 0; k < n_res; k++) {
		const struct sample *x = &res[k].samples[i];
		if (!timed && i < res[k].n_samples) {
			fprintf(out, "%10.*f", decimals, (double)x->t / 1000.0);
			timed = true;
		}
	}
	for (size_t k = 0; k < n_res; k++) {
		const struct sample *x = &res[k].samples[i];
		if (i >= res[k].n_samples)
			fprintf(out, "  %44s", ""); /* that run ended sooner */
		else
			fprintf(out, "  %7.1f%7.1f%8" PRIu64 "%7" PRId64
				"%7.1f%7.1f", x->cpu, x->mem, x->queued,
				x->empty, x->scpu, x->smem);
	}
	fputc('\n', out);
}

/* The utilisation table: about TABLE_ROWS evenly spaced samples, and the
 * last one; -csv has them all. */
void print_series(FILE *out, const struct result *res, size_t n_res,
		  double interval)
{
	size_t n = 0, stride;
	int decimals = interval < 1 ? 3 : 0;
	for (size_t k = 0; k < n_res; k++)
		n = res[k].n_samples > n ? res[k].n_samples : n;
	stride = n > TABLE_ROWS ? (n + TABLE_ROWS - 1) / TABLE_ROWS : 1;
	fprintf(out, "\nutilisation, sampled every %g s", interval);
	if (stride > 1)
		fprintf(out, "; 1 sample in %zu shown, -csv FILE for all", stride);
	fprintf(out, "\n%10s", "");
	for (size_t k = 0; k < n_res; k++)
		fprintf(out, "  %-44s", res[k].name);
	fprintf(out, "\n%10s", "time_s");
	for (size_t k = 0; k < n_res; k++)
		fprintf(out, "     cpu%%   mem%%  queued  empty  scpu%%  smem%%");
	fputc('\n', out);
	for (size_t i = 0; i < n; i += stride)
		print_row(out, res, n_res, i, decimals);
	if (n && (n - 1) % stride)
		print_row(out, res, n_res, n - 1, decimals);
	for (size_t k = 0; k < n_res; k++)
		if (res[k].capped)
			fprintf(out, "(%s: sampling stopped after %d samples)\n",
				res[k].name, MAX_SAMPLES);
}

enum metric_fmt { M_COUNT, M_1, M_3 };

struct metric {
	const char *label;
	size_t off;
	enum metric_fmt fmt;
};

#define SUM(f) offsetof(struct summary, f)

static const struct metric metrics[] = {
	{"virtual time (s)", SUM(sim_s), M_1},
	{"evaluations", SUM(evals), M_COUNT},
	{"placements made", SUM(placed), M_COUNT},
	{"placements failed", SUM(failed), M_COUNT},
	{"allocations never placed", SUM(never), M_COUNT},
	{"allocations cancelled", SUM(cancelled), M_COUNT},
	{"plan nodes rejected", SUM(rejected), M_COUNT},
	{"jobs", SUM(jobs), M_COUNT},
	{"jobs finished", SUM(finished), M_COUNT},
	{"jobs that waited", SUM(waited), M_COUNT},
	{"jobs waiting at end", SUM(waiting_end), M_COUNT},
	{"wait mean (s)", SUM(wait_mean), M_1},
	{"wait p50 (s)", SUM(wait_p50), M_1},
	{"wait p99 (s)", SUM(wait_p99), M_1},
	{"wait max (s)", SUM(wait_max), M_1},
	{"cpu used mean (%)", SUM(cpu_mean), M_1},
	{"cpu used peak (%)", SUM(cpu_peak), M_1},
	{"memory used mean (%)", SUM(mem_mean), M_1},
	{"memory used peak (%)", SUM(mem_peak), M_1},
	{"stranded cpu mean (%)", SUM(scpu_mean), M_1},
	{"stranded memory mean (%)", SUM(smem_mean), M_1},
	{"empty nodes mean", SUM(empty_mean), M_1},
	{"host anomalies", SUM(anomalies), M_COUNT},
	{"latency p50 (us)", SUM(lat_p50), M_1},
	{"latency p99 (us)", SUM(lat_p99), M_1},
	{"latency max (us)", SUM(lat_max), M_1},
	{"time in scheduler (s)", SUM(sched_s), M_3},
};

void print_summary(FILE *out, const struct result *res, size_t n_res)
{
	fprintf(out, "\n%-28s", "summary");
	for (size_t k = 0; k < n_res; k++)
		fprintf(out, " %14s", res[k].name);
	fputc('\n', out);
	for (size_t m = 0; m < sizeof(metrics) / sizeof(*metrics); m++) {
		fprintf(out, "  %-26s", metrics[m].label);
		for (size_t k = 0; k < n_res; k++) {
			const char *base = (const char *)&res[k].s + metrics[m].off;
			if (metrics[m].fmt == M_COUNT)
				fprintf(out, " %14" PRIu64,
					*(const uint64_t *)(const void *)base);
			else
				fprintf(out, " %14.*f",
					metrics[m].fmt == M_1 ? 1 : 3,
					*(const double *)(const void *)base);
		}
		fputc('\n', out);
	}
}

void write_csv(FILE *f, const struct result *res)
{
	for (size_t i = 0; i < res->n_samples; i++) {
		const struct sample *x = &res->samples[i];
		fprintf(f, "%s,%.3f,%.2f,%.2f,%" PRIu64 ",%" PRIu64 ",%" PRId64
			",%.2f,%.2f\n", res->name, (double)x->t / 1000.0, x->cpu,
			x->mem, x->running, x->queued, x->empty, x->scpu,
			x->smem);
	}
}
