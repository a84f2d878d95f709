/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Constraints tested against one node, as Nomad's feasibility checkers
 * test them (scheduler/feasible/feasible.go): resolving a target such as
 * ${attr.kernel.name} on the node (resolveTarget), the operands
 * (checkConstraint), and the cache of compiled regular expressions one
 * evaluation keeps (constraint.c).
 *
 * Threads: one thread at a time per cache; the other calls keep no state.
 */
#ifndef NMD_SCHED_CONSTRAINT_H
#define NMD_SCHED_CONSTRAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <nomad/structs.h>

struct nmd_regex_entry;

/* Compiled `regexp` operands by pattern text, for one evaluation. A
 * pattern that does not compile is remembered too, so it fails at once
 * on the next node. The cache owns the compiled expressions. */
struct nmd_regex_cache {
	const nomad_allocator *alloc;
	struct nmd_regex_entry **entries;
	size_t n, cap;
};

/* An empty cache allocating with `alloc` (NULL: the C library). */
void nmd_regex_cache_init(struct nmd_regex_cache *cache,
			  const nomad_allocator *alloc);
/* Free every entry; the cache is left empty and may be used again. */
void nmd_regex_cache_free(struct nmd_regex_cache *cache);

/* Resolve a constraint target against `node`, as Nomad's resolveTarget:
 * text not starting with "${" is a literal (*value = target); then
 * ${node.unique.id}, ${node.datacenter}, ${node.unique.name},
 * ${node.class}, ${node.pool} (an empty pool reads "default"),
 * ${attr.<key>} and ${meta.<key>}. Anything else, a missing key, a NULL
 * or empty target, or a NULL node for a ${...} target is not found.
 * *value (when `value` is not NULL) is borrowed from the node or the
 * target, and NULL when not found. */
bool nmd_sched_resolve(const nomad_node *node, const char *target,
		       const char **value);

/* Whether the resolved pair satisfies `operand`, as Nomad's
 * checkConstraint: "=", "==", "is", "!=", "not", "<", "<=", ">", ">=",
 * "version", "semver", "regexp", "set_contains", "set_contains_all",
 * "set_contains_any", "is_set", "is_not_set"; "distinct_hosts" and
 * "distinct_property" hold here (they are checked against the plan
 * elsewhere); an unknown operand fails. NULL or "" means "=". A value
 * that was not found reads as "" where Nomad compares it (!=). `cache`
 * may be NULL, when a regexp is compiled for this call only. */
bool nmd_sched_check_operand(struct nmd_regex_cache *cache,
			     const char *operand, const char *lval,
			     bool lfound, const char *rval, bool rfound);

/* Go's strconv.ParseInt(s, 10, 64) and ParseFloat(s, 64), which device
 * attributes are parsed with too (devices.c). False when `s` is not one,
 * or NULL. */
bool nmd_sched_parse_int(const char *s, long long *out);
bool nmd_sched_parse_float(const char *s, double *out);

/* Resolve both targets of `c` on `node` and check its operand. */
bool nmd_sched_constraint_holds(struct nmd_regex_cache *cache,
				const nomad_node *node,
				const Nomad__Constraint *c);

/* The constraint as Nomad's Constraint.String() writes it, the key of
 * AllocationMetric.ConstraintFiltered: "<ltarget> <operand> <rtarget>",
 * the operand as given (unset fields read ""). Written into `buf`,
 * truncated to `cap` bytes; returns `buf`, or "" when cap is 0. */
const char *nmd_sched_constraint_string(const Nomad__Constraint *c,
					char *buf, size_t cap);

#endif
