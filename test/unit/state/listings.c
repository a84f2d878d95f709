/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The listings by UUID prefix (nodes, evaluations, allocations,
 * deployments) read the prefix and the token by one rule, Nomad's: the
 * prefix is a string prefix of the ID, so anything that is not
 * hexadecimal (dashes allowed where a UUID has them) matches nothing and
 * the listing is empty with NOMAD_OK; the token must name an ID.
 */
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "structs/pb.h"

/* One object of each kind has this ID; a second one sorts after it. */
#define ID_A "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
#define ID_B "c0ffee00-0000-4000-8000-000000000001"

/* A node, an evaluation, an allocation and a deployment with ID `id`. */
static void put_all(nomad_state *s, uint64_t index, const char *id)
{
	nomad_node *n = nomad_node_new();
	nomad_eval *e = nomad_eval_new();
	nomad_alloc *a = nomad_alloc_new();
	nomad_deployment *d = nomad_deployment_new();
	nomad_state_txn *txn;
	nomad_error err;
	CHECK(n && e && a && d);
	CHECK(nmd_pb_set_string(NULL, &n->id, id));
	CHECK(nmd_pb_set_string(NULL, &e->id, id));
	CHECK(nmd_pb_set_string(NULL, &e->jobid, "web"));
	CHECK(nmd_pb_set_string(NULL, &a->id, id));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, id));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, "web"));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "web"));
	CHECK(nmd_pb_set_string(NULL, &d->id, id));
	CHECK(nmd_pb_set_string(NULL, &d->jobid, "web"));
	CHECK_OK(nomad_state_txn_begin(s, index, &txn, NULL));
	if (nomad_state_node_upsert(txn, n, &err) ||
	    nomad_state_evals_upsert(txn, &e, 1, &err) ||
	    nomad_state_allocs_upsert(txn, &a, 1, &err) ||
	    nomad_state_deployment_upsert(txn, d, &err))
		nmd_test_fail(__FILE__, __LINE__, "write: %s", err.message);
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	nomad_node_free(n);
	nomad_eval_free(e);
	nomad_alloc_free(a);
	nomad_deployment_free(d);
}

typedef nomad_err (*list_fn)(nomad_state_snap *,
			     const nomad_state_list_options *,
			     nomad_state_iter_cb, void *,
			     char[NOMAD_STATE_TOKEN_MAX], nomad_error *);

static const struct {
	const char *name;
	list_fn fn;
} listings[] = {
	{"nodes", nomad_state_nodes_list},
	{"evals", nomad_state_evals_list},
	{"allocs", nomad_state_allocs_list},
	{"deployments", nomad_state_deployments_list},
};

/* List with `prefix` in every listing: each returns `rc` and, when that
 * is NOMAD_OK, `want` objects. */
static void check_prefix(nomad_state *s, const char *prefix,
			 const char *token, nomad_err rc, unsigned want)
{
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	nomad_state_snap *snap;
	char next[NOMAD_STATE_TOKEN_MAX];
	o.prefix = prefix;
	o.next_token = token;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	for (size_t i = 0; i < sizeof(listings) / sizeof(*listings); i++) {
		unsigned n = 0;
		nomad_error err = {0};
		nomad_err got = listings[i].fn(snap, &o, sf_count_cb, &n, next,
					       &err);
		if (got != rc || (rc == NOMAD_OK && n != want))
			nmd_test_fail(__FILE__, __LINE__,
				      "%s, prefix \"%s\": returned %d with %u "
				      "objects (%s), want %d with %u",
				      listings[i].name, prefix ? prefix : "",
				      (int)got, n, err.message, (int)rc, want);
		CHECK_STR(next, "");
	}
	nomad_state_snap_close(snap);
}

NMD_TEST(test_state_listings__id_prefix_one_rule)
{
	nomad_state *s = sf_open(NULL);
	put_all(s, 10, ID_A);
	put_all(s, 11, ID_B);

	/* Prefixes of ID_A: odd and even digit counts, either case, with
	 * the dashes where the ID has them or without them. */
	check_prefix(s, NULL, NULL, NOMAD_OK, 2);
	check_prefix(s, "", NULL, NOMAD_OK, 2);
	check_prefix(s, "3", NULL, NOMAD_OK, 1);
	check_prefix(s, "3f2", NULL, NOMAD_OK, 1);
	check_prefix(s, "3F2A", NULL, NOMAD_OK, 1);
	check_prefix(s, "3f2a1b4c-", NULL, NOMAD_OK, 1);
	check_prefix(s, "3f2a1b4c-5d6", NULL, NOMAD_OK, 1);
	check_prefix(s, "3f2a1b4c5d6e", NULL, NOMAD_OK, 1);
	check_prefix(s, ID_A, NULL, NOMAD_OK, 1);
	check_prefix(s, "3f2b", NULL, NOMAD_OK, 0);

	/* Prefixes of no ID: empty, and not an error. */
	check_prefix(s, "xyz", NULL, NOMAD_OK, 0);
	check_prefix(s, "3f2g", NULL, NOMAD_OK, 0);
	check_prefix(s, "-3f", NULL, NOMAD_OK, 0);
	check_prefix(s, "3f-2a", NULL, NOMAD_OK, 0);
	check_prefix(s, "3f2a1b4c--", NULL, NOMAD_OK, 0);
	check_prefix(s, "3f2a1b4c-5d6e-", NULL, NOMAD_OK, 1);
	check_prefix(s, "3f2a1b4c-5d6e4f70-", NULL, NOMAD_OK, 1);
	check_prefix(s, ID_A "-", NULL, NOMAD_OK, 0);
	check_prefix(s, ID_A "0", NULL, NOMAD_OK, 0);

	/* A token names an ID, with or without its dashes; anything else
	 * is refused the same way by all four. */
	check_prefix(s, NULL, ID_B, NOMAD_OK, 1);
	check_prefix(s, NULL, "c0ffee0000004000800000000000001", NOMAD_EINVAL,
		     0);
	check_prefix(s, NULL, "c0ffee00000040008000000000000001", NOMAD_OK, 1);
	check_prefix(s, NULL, "nonsense", NOMAD_EINVAL, 0);
	check_prefix(s, "3f", ID_B, NOMAD_OK, 0);
	check_prefix(s, "xyz", "nonsense", NOMAD_EINVAL, 0);
	nomad_state_close(s);
}
