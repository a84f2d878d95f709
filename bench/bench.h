/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Shared by the benchmark programs: time a body repeatedly and print the
 * median of several runs as `bench <name> <value> <unit>`, the one line
 * format `make bench` promises. Header-only so each bench stays one file.
 */
#ifndef NMD_BENCH_H
#define NMD_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_RUNS 5

/* A deterministic UUID for object `n` of kind `kind`, spread like random
 * ones (a multiplicative hash), so that ID indexes see realistic key
 * order. `out` holds 37 bytes. */
static inline void bench_uuid(char kind, long n, char out[37])
{
	unsigned long long h = (unsigned long long)n * 0x9e3779b97f4a7c15ULL ^
			       (unsigned long long)kind << 56;
	snprintf(out, 37, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(h >> 32),
		 (unsigned)(h >> 16) & 0xffff, (unsigned)h & 0xfff,
		 (unsigned)(n & 0xfff), (unsigned long long)n & 0xffffffffffffULL);
}

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Call op(arg) in batches until `seconds` pass; return operations/s. */
static inline double bench_rate(void (*op)(void *), void *arg, double seconds)
{
	double start = bench_now(), elapsed;
	long n = 0;
	do {
		for (int i = 0; i < 64; i++)
			op(arg);
		n += 64;
		elapsed = bench_now() - start;
	} while (elapsed < seconds);
	return (double)n / elapsed;
}

/* The median of BENCH_RUNS measurements of op, printed and returned. */
static inline double bench_report_rate(const char *name, void (*op)(void *),
				       void *arg, double seconds)
{
	double r[BENCH_RUNS];
	for (int i = 0; i < BENCH_RUNS; i++)
		r[i] = bench_rate(op, arg, seconds);
	qsort(r, BENCH_RUNS, sizeof(r[0]), bench_cmp_double);
	printf("bench %s %.0f ops/s\n", name, r[BENCH_RUNS / 2]);
	fflush(stdout);
	return r[BENCH_RUNS / 2];
}

/* The median time of one op, in microseconds, printed and returned. */
static inline double bench_report_us(const char *name, void (*op)(void *),
				     void *arg, double seconds)
{
	double r[BENCH_RUNS];
	for (int i = 0; i < BENCH_RUNS; i++)
		r[i] = 1e6 / bench_rate(op, arg, seconds);
	qsort(r, BENCH_RUNS, sizeof(r[0]), bench_cmp_double);
	printf("bench %s %.2f us\n", name, r[BENCH_RUNS / 2]);
	fflush(stdout);
	return r[BENCH_RUNS / 2];
}

#define BENCH_CHECK(cond)                                                     \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "bench: %s:%d: %s failed\n",          \
				__FILE__, __LINE__, #cond);                   \
			exit(1);                                              \
		}                                                             \
	} while (0)

#endif
