/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The ranking arithmetic of Nomad's rank.go and funcs.go (see rank.h).
 */
#include <math.h>

#include "sched/rank.h"

static double free_fraction(int64_t cap, int64_t used, int64_t ask)
{
	if (cap <= 0)
		return 0; /* nothing to give: as full as it gets */
	return 1.0 - (double)(used + ask) / (double)cap;
}

double nmd_rank_fit(const struct nmd_fit_input *in, bool spread)
{
	double free_cpu = free_fraction(in->cpu_cap, in->cpu_used, in->cpu_ask);
	double free_mem = free_fraction(in->mem_cap, in->mem_used, in->mem_ask);
	double total = pow(10, free_cpu) + pow(10, free_mem);
	double fit = spread ? total - 2 : 20 - total;
	if (fit < 0)
		fit = 0;
	if (fit > 18)
		fit = 18;
	return fit / 18;
}

double nmd_rank_anti_affinity(uint32_t collisions, uint32_t desired_count)
{
	if (!collisions)
		return 0;
	if (!desired_count)
		desired_count = 1;
	return -(double)(collisions + 1) / (double)desired_count;
}

void nmd_scores_add(struct nmd_scores *s, const char *name, double value)
{
	if (s->n == sizeof(s->values) / sizeof(*s->values))
		return;
	s->names[s->n] = name;
	s->values[s->n++] = value;
}

double nmd_scores_final(const struct nmd_scores *s)
{
	double sum = 0;
	if (!s->n)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		sum += s->values[i];
	return sum / (double)s->n;
}

size_t nmd_rank_limit(size_t nodes, bool batch, bool affinity_or_spread,
		      uint32_t count, size_t feasibility_limit)
{
	size_t limit = 2;
	if (!batch && nodes > 0) {
		size_t log = (size_t)ceil(log2((double)nodes));
		if (log > limit)
			limit = log;
	}
	if (affinity_or_spread) {
		limit = count > feasibility_limit ? count : feasibility_limit;
		if (limit < 2)
			limit = 2;
	}
	return limit;
}
