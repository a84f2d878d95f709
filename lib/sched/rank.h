/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Ranking: the scores Nomad appends for one candidate node, and their
 * normalisation (rank.c). Pure arithmetic on what the node holds and
 * what the placement asks.
 */
#ifndef NMD_SCHED_RANK_H
#define NMD_SCHED_RANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A node's allocatable capacity, what is in use (the plan's changes
 * included) and one placement's ask, in MHz and MB. */
struct nmd_fit_input {
	int64_t cpu_cap, mem_cap;
	int64_t cpu_used, mem_used;
	int64_t cpu_ask, mem_ask;
};

/* The bin-pack fit in [0, 1]: 20 - (10^freeCpu + 10^freeMem), clamped to
 * [0, 18], over 18, where free = 1 - (used + ask) / capacity; 1.0 is a
 * node the placement fills exactly. With `spread` (the spread scheduler
 * algorithm) the worst fit instead: (10^freeCpu + 10^freeMem) - 2. */
double nmd_rank_fit(const struct nmd_fit_input *in, bool spread);

/* Job anti-affinity: with `collisions` allocations of the same job and
 * group already (or about to be) on the node, -(collisions + 1) /
 * desired_count; 0 (nothing appended) without collisions. */
double nmd_rank_anti_affinity(uint32_t collisions, uint32_t desired_count);

/* The scores appended for one node, and their mean (Nomad's FinalScore:
 * scorers that append nothing do not dilute it). */
struct nmd_scores {
	const char *names[8];
	double values[8];
	size_t n;
};
void nmd_scores_add(struct nmd_scores *s, const char *name, double value);
double nmd_scores_final(const struct nmd_scores *s);

/* How many ranked options a placement considers: 2 for batch (the power
 * of two choices), ceil(log2(nodes)) for service when larger; with
 * affinities or spreads, max(count, feasibility_limit). */
size_t nmd_rank_limit(size_t nodes, bool batch, bool affinity_or_spread,
		      uint32_t count, size_t feasibility_limit);

#endif
