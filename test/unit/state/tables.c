/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The smaller state tables: namespaces and node pools with their built-ins,
 * ACL policies and tokens (lookup by secret), variables with their
 * check-and-set rules, service registrations by name, allocation, node and
 * job, the scheduler configuration with its check-and-set, periodic
 * launches, the listings' prefixes and pages, and that a reopened store
 * keeps all of it.
 */
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* ---- harness ------------------------------------------------------------- */

/* Run one write, which uses TXN and &ERR, in its own transaction at
 * `index`, and commit it. */
#define WRITE(s, index, call)                                                 \
	do {                                                                  \
		nomad_state_txn *TXN = sf_begin((s), (index));                   \
		nomad_error ERR;                                              \
		if ((call) != NOMAD_OK)                                       \
			nmd_test_fail(__FILE__, __LINE__, "%s: %s", #call,    \
				      ERR.message);                           \
		if (nomad_state_txn_commit(TXN, &ERR))                        \
			nmd_test_fail(__FILE__, __LINE__, "commit: %s",       \
				      ERR.message);                           \
	} while (0)

/* Run one write that must fail with `code`, then abort. */
#define WRITE_FAILS(s, index, code, call)                                     \
	do {                                                                  \
		nomad_state_txn *TXN = sf_begin((s), (index));                   \
		nomad_error ERR;                                              \
		nomad_error_clear(&ERR);                                      \
		CHECK_INT((call), (code));                                    \
		CHECK(ERR.message[0] != '\0');                                \
		nomad_state_txn_abort(TXN);                                   \
	} while (0)

static nomad_state_snap *snap_of(nomad_state *s)
{
	nomad_state_snap *snap;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	return snap;
}

static void *from_json(const ProtobufCMessageDescriptor *d, const char *json)
{
	ProtobufCMessage *m;
	nomad_error err;
	if (nomad_msg_from_json(&m, d, json, strlen(json), NULL, NULL, &err))
		nmd_test_fail(__FILE__, __LINE__, "json: %s", err.message);
	return m;
}

/* ---- listings ------------------------------------------------------------- */

typedef nomad_err (*list_fn)(nomad_state_snap *,
			     const nomad_state_list_options *,
			     nomad_state_iter_cb, void *, char *,
			     nomad_error *);

struct collect {
	const char *field; /* the string field to record */
	char out[1024];
	size_t n;
};

static int collect_cb(const ProtobufCMessage *m, void *ud)
{
	struct collect *c = ud;
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor,
								c->field);
	const char *v;
	CHECK(f != NULL);
	v = *(char *const *)((const char *)m + f->offset);
	snprintf(c->out + strlen(c->out), sizeof(c->out) - strlen(c->out),
		 "%s%s", c->n++ ? "," : "", v ? v : "");
	return 0;
}

/* The `field` of each listed object, joined by commas (a static buffer of
 * four in turn); `next` (may be NULL) receives the token. */
static const char *list(nomad_state *s, list_fn fn,
			const nomad_state_list_options *o, const char *field,
			char next[NOMAD_STATE_TOKEN_MAX])
{
	static struct collect bufs[4];
	static unsigned turn;
	struct collect *c = &bufs[turn++ % 4];
	nomad_state_snap *snap = snap_of(s);
	nomad_error err;
	memset(c, 0, sizeof(*c));
	c->field = field;
	if (fn(snap, o, collect_cb, c, next, &err))
		nmd_test_fail(__FILE__, __LINE__, "list: %s", err.message);
	nomad_state_snap_close(snap);
	return c->out;
}

static const char *all(nomad_state *s, list_fn fn, const char *field)
{
	return list(s, fn, NULL, field, NULL);
}

/* The same for the by-X queries: fn(snap, a, b, cb, ud, err) with a
 * namespace, or fn(snap, a, cb, ud, err) without. */
typedef nomad_err (*by2_fn)(nomad_state_snap *, const char *, const char *,
			    nomad_state_iter_cb, void *, nomad_error *);
typedef nomad_err (*by1_fn)(nomad_state_snap *, const char *,
			    nomad_state_iter_cb, void *, nomad_error *);

static const char *by2(nomad_state *s, by2_fn fn, const char *a,
		       const char *b)
{
	static struct collect bufs[4];
	static unsigned turn;
	struct collect *c = &bufs[turn++ % 4];
	nomad_state_snap *snap = snap_of(s);
	memset(c, 0, sizeof(*c));
	c->field = "ID";
	CHECK_OK(fn(snap, a, b, collect_cb, c, NULL));
	nomad_state_snap_close(snap);
	return c->out;
}

static const char *by1(nomad_state *s, by1_fn fn, const char *a)
{
	static struct collect bufs[4];
	static unsigned turn;
	struct collect *c = &bufs[turn++ % 4];
	nomad_state_snap *snap = snap_of(s);
	memset(c, 0, sizeof(*c));
	c->field = "ID";
	CHECK_OK(fn(snap, a, collect_cb, c, NULL));
	nomad_state_snap_close(snap);
	return c->out;
}

/* ---- typed reads ---------------------------------------------------------- */

static nomad_namespace *get_ns(nomad_state *s, const char *name)
{
	nomad_state_snap *snap = snap_of(s);
	nomad_namespace *ns = NULL;
	nomad_err rc = nomad_state_namespace_get(snap, name, &ns);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	CHECK((rc == NOMAD_OK) == (ns != NULL));
	nomad_state_snap_close(snap);
	return ns;
}

static nomad_node_pool *get_pool(nomad_state *s, const char *name)
{
	nomad_state_snap *snap = snap_of(s);
	nomad_node_pool *p = NULL;
	nomad_err rc = nomad_state_node_pool_get(snap, name, &p);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	return p;
}

static nomad_variable *get_var(nomad_state *s, const char *ns,
			       const char *path)
{
	nomad_state_snap *snap = snap_of(s);
	nomad_variable *v = NULL;
	nomad_err rc = nomad_state_variable_get(snap, ns, path, &v);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	return v;
}

static nomad_acl_token *token_by_secret(nomad_state *s, const char *secret)
{
	nomad_state_snap *snap = snap_of(s);
	nomad_acl_token *t = NULL;
	nomad_err rc = nomad_state_acl_token_by_secret(snap, secret, &t);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	return t;
}

static nomad_scheduler_config *get_sched(nomad_state *s)
{
	nomad_state_snap *snap = snap_of(s);
	nomad_scheduler_config *c = NULL;
	nomad_err rc = nomad_state_scheduler_config_get(snap, &c);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	return c;
}

/* ---- built-ins ------------------------------------------------------------- */

NMD_TEST(test_state_tables__builtins_exist_from_the_start)
{
	nomad_state *s = sf_open(NULL);
	nomad_namespace *ns = get_ns(s, "default"), *want_ns;
	nomad_node_pool *all_pool = get_pool(s, "all"), *def = get_pool(s, "default");
	nomad_node_pool *want;

	/* Exactly what Nomad's namespaceInit and nodePoolInit create: this
	 * also checks the protobuf written into state.c's schema. */
	want_ns = from_json(&nomad__namespace__descriptor,
			    "{\"Name\":\"default\",\"Description\":"
			    "\"Default shared namespace\",\"CreateIndex\":1,"
			    "\"ModifyIndex\":1}");
	CHECK(ns && nomad_namespace_equal(ns, want_ns));
	want = from_json(&nomad__node_pool__descriptor,
			 "{\"Name\":\"all\",\"Description\":\"Node pool with "
			 "all nodes in the cluster.\",\"CreateIndex\":1,"
			 "\"ModifyIndex\":1}");
	CHECK(all_pool && nomad_node_pool_equal(all_pool, want));
	nomad_node_pool_free(want);
	want = from_json(&nomad__node_pool__descriptor,
			 "{\"Name\":\"default\",\"Description\":\"Default node "
			 "pool.\",\"CreateIndex\":1,\"ModifyIndex\":1}");
	CHECK(def && nomad_node_pool_equal(def, want));
	nomad_node_pool_free(want);

	CHECK_STR(all(s, nomad_state_namespaces_list, "Name"), "default");
	CHECK_STR(all(s, nomad_state_node_pools_list, "Name"), "all,default");
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NAMESPACES), 1);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NODE_POOLS), 1);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_ACL_TOKENS), 0);
	CHECK_INT(nomad_state_last_index(s), 0);

	nomad_namespace_free(ns);
	nomad_namespace_free(want_ns);
	nomad_node_pool_free(all_pool);
	nomad_node_pool_free(def);
	nomad_state_close(s);
}

NMD_TEST(test_state_tables__table_names_are_nomads)
{
	CHECK_STR(nomad_state_table_name(NOMAD_TABLE_NAMESPACES), "namespaces");
	CHECK_STR(nomad_state_table_name(NOMAD_TABLE_NODE_POOLS), "node_pools");
	CHECK_STR(nomad_state_table_name(NOMAD_TABLE_ACL_POLICIES), "acl_policy");
	CHECK_STR(nomad_state_table_name(NOMAD_TABLE_ACL_TOKENS), "acl_token");
	CHECK_STR(nomad_state_table_name(NOMAD_TABLE_VARIABLES), "variables");
	CHECK_STR(nomad_state_table_name(NOMAD_TABLE_SERVICES),
		  "service_registrations");
	CHECK_STR(nomad_state_table_name(NOMAD_TABLE_SCHEDULER_CONFIG),
		  "scheduler_config");
	CHECK_STR(nomad_state_table_name(NOMAD_TABLE_PERIODIC_LAUNCH),
		  "periodic_launch");
}

NMD_TEST(test_state_tables__builtins_are_protected)
{
	nomad_state *s = sf_open(NULL);
	const char *def[] = {"default"}, *pools[] = {"all"};
	nomad_node_pool *p = from_json(&nomad__node_pool__descriptor,
				       "{\"Name\":\"all\",\"Description\":\"x\"}");
	nomad_namespace *ns = from_json(&nomad__namespace__descriptor,
					"{\"Name\":\"default\","
					"\"Description\":\"ours\"}");
	nomad_namespace *got;

	WRITE_FAILS(s, 2, NOMAD_EINVAL,
		    nomad_state_namespaces_delete(TXN, def, 1, &ERR));
	WRITE_FAILS(s, 2, NOMAD_EINVAL,
		    nomad_state_node_pool_upsert(TXN, p, &ERR));
	CHECK(nmd_pb_set_string(NULL, &p->name, "default"));
	WRITE_FAILS(s, 2, NOMAD_EINVAL,
		    nomad_state_node_pool_upsert(TXN, p, &ERR));
	WRITE_FAILS(s, 2, NOMAD_EINVAL,
		    nomad_state_node_pools_delete(TXN, pools, 1, &ERR));
	WRITE_FAILS(s, 2, NOMAD_EINVAL,
		    nomad_state_node_pools_delete(TXN, def, 1, &ERR));

	/* The default namespace may be changed, as in Nomad. */
	WRITE(s, 3, nomad_state_namespace_upsert(TXN, ns, &ERR));
	got = get_ns(s, "default");
	CHECK_STR(got->description, "ours");
	CHECK_INT(got->createindex, 1);
	CHECK_INT(got->modifyindex, 3);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NAMESPACES), 3);
	CHECK_STR(all(s, nomad_state_node_pools_list, "Name"), "all,default");

	nomad_namespace_free(got);
	nomad_namespace_free(ns);
	nomad_node_pool_free(p);
	nomad_state_close(s);
}

/* ---- namespaces ---------------------------------------------------------------- */

NMD_TEST(test_state_tables__namespace_upsert_get_delete)
{
	nomad_state *s = sf_open(NULL);
	nomad_namespace *in = from_json(
		&nomad__namespace__descriptor,
		"{\"Name\":\"dev\",\"Description\":\"d\",\"Quota\":\"q\","
		"\"Meta\":{\"team\":\"a\"},\"Capabilities\":{"
		"\"EnabledTaskDrivers\":[\"exec\"],\"DisabledNetworkModes\":"
		"[\"host\"]},\"NodePoolConfiguration\":{\"Default\":\"gpu\","
		"\"Allowed\":[\"gpu\",\"cpu\"]},\"CreateIndex\":99}");
	nomad_namespace *got, *bad;
	const char *dev[] = {"dev"}, *pair[] = {"qa", "nope"};

	WRITE(s, 5, nomad_state_namespace_upsert(TXN, in, &ERR));
	got = get_ns(s, "dev");
	/* The store sets the indexes and changes nothing else. */
	CHECK_INT(got->createindex, 5);
	CHECK_INT(got->modifyindex, 5);
	in->createindex = 5;
	in->has_modifyindex = 1;
	in->modifyindex = 5;
	CHECK(nomad_namespace_equal(got, in));
	CHECK_INT(in->createindex, 5); /* what we set: input untouched */
	nomad_namespace_free(got);

	CHECK(nmd_pb_set_string(NULL, &in->description, "changed"));
	WRITE(s, 6, nomad_state_namespace_upsert(TXN, in, &ERR));
	got = get_ns(s, "dev");
	CHECK_STR(got->description, "changed");
	CHECK_INT(got->createindex, 5);
	CHECK_INT(got->modifyindex, 6);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NAMESPACES), 6);
	nomad_namespace_free(got);

	/* Names as Nomad's validNamespaceName takes them. */
	bad = from_json(&nomad__namespace__descriptor, "{\"Name\":\"a.b\"}");
	WRITE_FAILS(s, 7, NOMAD_EINVAL,
		    nomad_state_namespace_upsert(TXN, bad, &ERR));
	CHECK(nmd_pb_set_string(NULL, &bad->name, ""));
	WRITE_FAILS(s, 7, NOMAD_EINVAL,
		    nomad_state_namespace_upsert(TXN, bad, &ERR));
	nomad_namespace_free(bad);

	/* Deletes are all or nothing. */
	CHECK(nmd_pb_set_string(NULL, &in->name, "qa"));
	WRITE(s, 7, nomad_state_namespace_upsert(TXN, in, &ERR));
	WRITE_FAILS(s, 8, NOMAD_ENOTFOUND,
		    nomad_state_namespaces_delete(TXN, pair, 2, &ERR));
	CHECK_STR(all(s, nomad_state_namespaces_list, "Name"), "default,dev,qa");
	WRITE(s, 8, nomad_state_namespaces_delete(TXN, dev, 1, &ERR));
	CHECK(get_ns(s, "dev") == NULL);
	CHECK_STR(all(s, nomad_state_namespaces_list, "Name"), "default,qa");
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NAMESPACES), 8);

	nomad_namespace_free(in);
	nomad_state_close(s);
}

NMD_TEST(test_state_tables__namespace_in_use_cannot_be_deleted)
{
	nomad_state *s = sf_open(NULL);
	nomad_namespace *ns = from_json(&nomad__namespace__descriptor,
					"{\"Name\":\"prod\"}");
	nomad_job *job = from_json(&nomad__job__descriptor,
				   "{\"ID\":\"web\",\"Name\":\"web\","
				   "\"Namespace\":\"prod\",\"Priority\":50,"
				   "\"TaskGroups\":[{\"Name\":\"g\","
				   "\"Count\":1}]}");
	nomad_variable *v = from_json(&nomad__variable__descriptor,
				      "{\"Namespace\":\"prod\",\"Path\":"
				      "\"app/db\",\"Items\":{\"k\":\"v\"}}");
	const char *prod[] = {"prod"};

	WRITE(s, 2, nomad_state_namespace_upsert(TXN, ns, &ERR));
	WRITE(s, 3, nomad_state_job_upsert(TXN, job, &ERR));
	/* A pending job is not terminal. */
	WRITE_FAILS(s, 4, NOMAD_EINVAL,
		    nomad_state_namespaces_delete(TXN, prod, 1, &ERR));
	WRITE(s, 4, nomad_state_job_delete(TXN, "prod", "web", &ERR));
	WRITE(s, 5, nomad_state_variable_upsert(TXN, v, &ERR));
	WRITE_FAILS(s, 6, NOMAD_EINVAL,
		    nomad_state_namespaces_delete(TXN, prod, 1, &ERR));
	WRITE(s, 6, nomad_state_variable_delete(TXN, "prod", "app/db", &ERR));
	WRITE(s, 7, nomad_state_namespaces_delete(TXN, prod, 1, &ERR));
	CHECK(get_ns(s, "prod") == NULL);

	nomad_namespace_free(ns);
	nomad_job_free(job);
	nomad_variable_free(v);
	nomad_state_close(s);
}

/* ---- node pools ------------------------------------------------------------ */

NMD_TEST(test_state_tables__node_pool_upsert_get_delete)
{
	nomad_state *s = sf_open(NULL);
	nomad_node_pool *in = from_json(
		&nomad__node_pool__descriptor,
		"{\"Name\":\"gpu\",\"Description\":\"GPUs\",\"Meta\":{\"a\":"
		"\"b\"},\"SchedulerConfiguration\":{\"SchedulerAlgorithm\":"
		"\"spread\",\"MemoryOversubscriptionEnabled\":true}}");
	nomad_node_pool *got;
	const char *gpu[] = {"gpu"}, *none[] = {"none"};

	WRITE(s, 4, nomad_state_node_pool_upsert(TXN, in, &ERR));
	WRITE(s, 6, nomad_state_node_pool_upsert(TXN, in, &ERR));
	got = get_pool(s, "gpu");
	CHECK_INT(got->createindex, 4);
	CHECK_INT(got->modifyindex, 6);
	CHECK_STR(got->description, "GPUs");
	CHECK_INT(got->schedulerconfiguration->scheduleralgorithm,
		  NOMAD__SCHEDULER_ALGORITHM__spread);
	CHECK(got->schedulerconfiguration->memoryoversubscriptionenabled);
	nomad_node_pool_free(got);
	CHECK_STR(all(s, nomad_state_node_pools_list, "Name"), "all,default,gpu");
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NODE_POOLS), 6);

	WRITE_FAILS(s, 7, NOMAD_ENOTFOUND,
		    nomad_state_node_pools_delete(TXN, none, 1, &ERR));
	WRITE(s, 7, nomad_state_node_pools_delete(TXN, gpu, 1, &ERR));
	CHECK(get_pool(s, "gpu") == NULL);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NODE_POOLS), 7);

	nomad_node_pool_free(in);
	nomad_state_close(s);
}

/* ---- ACL ------------------------------------------------------------------- */

NMD_TEST(test_state_tables__acl_policies)
{
	nomad_state *s = sf_open(NULL);
	nomad_acl_policy *p = from_json(
		&nomad__aclpolicy__descriptor,
		"{\"Name\":\"readonly\",\"Rules\":\"namespace \\\"*\\\" {}\","
		"\"JobACL\":{\"Namespace\":\"default\",\"JobID\":\"web\"},"
		"\"Hash\":\"AAEC\"}");
	nomad_acl_policy *got = NULL;
	nomad_state_snap *snap;
	const char *del[] = {"missing", "readonly"};

	WRITE(s, 3, nomad_state_acl_policy_upsert(TXN, p, &ERR));
	CHECK(nmd_pb_set_string(NULL, &p->name, "ops"));
	WRITE(s, 4, nomad_state_acl_policy_upsert(TXN, p, &ERR));
	WRITE(s, 5, nomad_state_acl_policy_upsert(TXN, p, &ERR));
	snap = snap_of(s);
	CHECK_OK(nomad_state_acl_policy_get(snap, "ops", &got));
	CHECK_INT(got->createindex, 4);
	CHECK_INT(got->modifyindex, 5);
	CHECK_STR(got->jobacl->jobid, "web");
	CHECK_INT(got->hash.len, 3);
	nomad_acl_policy_free(got);
	CHECK_INT(nomad_state_acl_policy_get(snap, "nope", &got),
		  NOMAD_ENOTFOUND);
	CHECK(got == NULL);
	nomad_state_snap_close(snap);
	CHECK_STR(all(s, nomad_state_acl_policies_list, "Name"), "ops,readonly");

	/* Unknown names are skipped, as Nomad's DeleteACLPolicies does. */
	WRITE(s, 6, nomad_state_acl_policies_delete(TXN, del, 2, &ERR));
	CHECK_STR(all(s, nomad_state_acl_policies_list, "Name"), "ops");
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_ACL_POLICIES), 6);

	/* Nothing deleted: the table's index stays. */
	WRITE(s, 7, nomad_state_acl_policies_delete(TXN, del, 1, &ERR));
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_ACL_POLICIES), 6);

	nomad_acl_policy_free(p);
	nomad_state_close(s);
}

#define ACCESSOR_A "aaaaaaaa-0000-4000-8000-000000000001"
#define ACCESSOR_B "bbbbbbbb-0000-4000-8000-000000000002"
#define SECRET_A "5ec2e7aa-0000-4000-8000-000000000001"
#define SECRET_B "5ec2e7bb-0000-4000-8000-000000000002"

NMD_TEST(test_state_tables__acl_tokens_by_accessor_and_secret)
{
	nomad_state *s = sf_open(NULL);
	nomad_acl_token *a = from_json(
		&nomad__acltoken__descriptor,
		"{\"AccessorID\":\"" ACCESSOR_A "\",\"SecretID\":\"" SECRET_A
		"\",\"Name\":\"ops\",\"Type\":\"client\",\"Policies\":"
		"[\"readonly\"],\"Roles\":[{\"ID\":\"r1\",\"Name\":\"dev\"}],"
		"\"Global\":true,\"CreateTime\":\"2024-01-02T03:04:05Z\","
		"\"ExpirationTime\":\"2024-01-03T03:04:05Z\","
		"\"ExpirationTTL\":86400000000000}");
	nomad_acl_token *b, *got;
	nomad_state_snap *snap;
	const char *del[] = {ACCESSOR_A, "no-such-accessor"};

	WRITE(s, 2, nomad_state_acl_token_upsert(TXN, a, &ERR));
	got = token_by_secret(s, SECRET_A);
	CHECK(got != NULL);
	CHECK_STR(got->accessorid, ACCESSOR_A);
	CHECK_INT(got->type, NOMAD__ACLTOKEN__TYPE_KIND__client);
	CHECK_STR(got->roles[0]->name, "dev");
	CHECK_INT(got->expirationttl, 86400000000000LL);
	CHECK_INT(got->createindex, 2);
	nomad_acl_token_free(got);
	CHECK(token_by_secret(s, "") == NULL);
	CHECK(token_by_secret(s, SECRET_B) == NULL);

	/* An update keeps the secret and the creation time. */
	b = from_json(&nomad__acltoken__descriptor,
		      "{\"AccessorID\":\"" ACCESSOR_A "\",\"SecretID\":\""
		      SECRET_B "\",\"Name\":\"renamed\",\"Type\":\"management\","
		      "\"CreateTime\":\"2030-01-01T00:00:00Z\"}");
	WRITE(s, 3, nomad_state_acl_token_upsert(TXN, b, &ERR));
	CHECK(token_by_secret(s, SECRET_B) == NULL);
	got = token_by_secret(s, SECRET_A);
	CHECK_STR(got->name, "renamed");
	CHECK_INT(got->createtime->seconds, 1704164645);
	CHECK_INT(got->createindex, 2);
	CHECK_INT(got->modifyindex, 3);
	nomad_acl_token_free(got);

	/* A second token cannot reuse the first one's secret, nor be created
	 * without one. */
	CHECK(nmd_pb_set_string(NULL, &b->accessorid, ACCESSOR_B));
	CHECK(nmd_pb_set_string(NULL, &b->secretid, SECRET_A));
	WRITE_FAILS(s, 4, NOMAD_EEXISTS,
		    nomad_state_acl_token_upsert(TXN, b, &ERR));
	CHECK(nmd_pb_set_string(NULL, &b->secretid, NULL));
	WRITE_FAILS(s, 4, NOMAD_EINVAL,
		    nomad_state_acl_token_upsert(TXN, b, &ERR));
	CHECK(nmd_pb_set_string(NULL, &b->secretid, SECRET_B));
	WRITE(s, 4, nomad_state_acl_token_upsert(TXN, b, &ERR));

	snap = snap_of(s);
	CHECK_OK(nomad_state_acl_token_get(snap, ACCESSOR_B, &got));
	CHECK_STR(got->secretid, SECRET_B);
	nomad_acl_token_free(got);
	CHECK_INT(nomad_state_acl_token_get(snap, "x", &got), NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	CHECK_STR(all(s, nomad_state_acl_tokens_list, "AccessorID"),
		  ACCESSOR_A "," ACCESSOR_B);

	WRITE(s, 5, nomad_state_acl_tokens_delete(TXN, del, 2, &ERR));
	CHECK(token_by_secret(s, SECRET_A) == NULL);
	CHECK_STR(all(s, nomad_state_acl_tokens_list, "AccessorID"), ACCESSOR_B);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_ACL_TOKENS), 5);

	nomad_acl_token_free(a);
	nomad_acl_token_free(b);
	nomad_state_close(s);
}

/* ---- variables ------------------------------------------------------------- */

static nomad_variable *make_var(const char *ns, const char *path,
				const char *value)
{
	nomad_variable *v = nomad_variable_new();
	CHECK(v != NULL);
	CHECK(nmd_pb_set_string(NULL, &v->namespace_, ns));
	CHECK(nmd_pb_set_string(NULL, &v->path, path));
	CHECK(nmd_map_set(NULL, &v->items, &v->n_items, "k", value));
	v->has_createtime = v->has_modifytime = 1;
	v->createtime = v->modifytime = 1000;
	return v;
}

NMD_TEST(test_state_tables__variable_cas_rules)
{
	nomad_state *s = sf_open(NULL);
	nomad_variable *v = make_var(NULL, "app/config", "one"), *got;

	/* cas N on a missing variable conflicts; cas 0 creates. */
	WRITE_FAILS(s, 2, NOMAD_ECONFLICT,
		    nomad_state_variable_upsert_cas(TXN, v, 7, &ERR));
	WRITE(s, 2, nomad_state_variable_upsert_cas(TXN, v, 0, &ERR));
	got = get_var(s, "default", "app/config");
	CHECK_STR(got->namespace_, "default");
	CHECK_STR(nomad_map_get(got->items, got->n_items, "k"), "one");
	CHECK_INT(got->createindex, 2);
	CHECK_INT(got->modifyindex, 2);
	nomad_variable_free(got);

	/* cas 0 on an existing one, or a stale index, conflicts and writes
	 * nothing. */
	CHECK(nmd_map_set(NULL, &v->items, &v->n_items, "k", "two"));
	v->createtime = 5000;
	v->modifytime = 6000;
	WRITE_FAILS(s, 3, NOMAD_ECONFLICT,
		    nomad_state_variable_upsert_cas(TXN, v, 0, &ERR));
	WRITE_FAILS(s, 3, NOMAD_ECONFLICT,
		    nomad_state_variable_upsert_cas(TXN, v, 1, &ERR));
	WRITE(s, 3, nomad_state_variable_upsert_cas(TXN, v, 2, &ERR));
	got = get_var(s, NULL, "app/config");
	CHECK_STR(nomad_map_get(got->items, got->n_items, "k"), "two");
	CHECK_INT(got->createindex, 2);
	CHECK_INT(got->modifyindex, 3);
	CHECK_INT(got->createtime, 1000); /* kept, as Nomad keeps it */
	CHECK_INT(got->modifytime, 6000);
	nomad_variable_free(got);

	/* A plain upsert ignores indexes. */
	WRITE(s, 4, nomad_state_variable_upsert(TXN, v, &ERR));
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_VARIABLES), 4);

	/* Deletes: stale conflicts, cas 0 of an existing one conflicts, the
	 * current index deletes; then cas 0 of the missing one succeeds and
	 * cas N conflicts; a plain delete of a missing one is a no-op. */
	WRITE_FAILS(s, 5, NOMAD_ECONFLICT,
		    nomad_state_variable_delete_cas(TXN, NULL, "app/config", 3,
						    &ERR));
	WRITE_FAILS(s, 5, NOMAD_ECONFLICT,
		    nomad_state_variable_delete_cas(TXN, NULL, "app/config", 0,
						    &ERR));
	WRITE(s, 5, nomad_state_variable_delete_cas(TXN, NULL, "app/config", 4,
						    &ERR));
	CHECK(get_var(s, NULL, "app/config") == NULL);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_VARIABLES), 5);
	WRITE(s, 6, nomad_state_variable_delete_cas(TXN, NULL, "app/config", 0,
						    &ERR));
	WRITE_FAILS(s, 7, NOMAD_ECONFLICT,
		    nomad_state_variable_delete_cas(TXN, NULL, "app/config", 4,
						    &ERR));
	WRITE(s, 7, nomad_state_variable_delete(TXN, NULL, "app/config", &ERR));
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_VARIABLES), 5);

	/* A path is required. */
	CHECK(nmd_pb_set_string(NULL, &v->path, ""));
	WRITE_FAILS(s, 8, NOMAD_EINVAL,
		    nomad_state_variable_upsert(TXN, v, &ERR));

	nomad_variable_free(v);
	nomad_state_close(s);
}

NMD_TEST(test_state_tables__variable_lock_is_kept)
{
	nomad_state *s = sf_open(NULL);
	nomad_variable *v = from_json(&nomad__variable__descriptor,
				      "{\"Path\":\"locks/leader\",\"Lock\":{"
				      "\"ID\":\"l1\",\"TTL\":15000000000,"
				      "\"LockDelay\":5000000000}}");
	nomad_variable *got;
	WRITE(s, 2, nomad_state_variable_upsert(TXN, v, &ERR));
	got = get_var(s, NULL, "locks/leader");
	CHECK_STR(got->lock->id, "l1");
	CHECK_INT(got->lock->ttl, 15000000000LL);
	CHECK_INT(got->lock->lockdelay, 5000000000LL);
	nomad_variable_free(got);
	nomad_variable_free(v);
	nomad_state_close(s);
}

NMD_TEST(test_state_tables__variables_list_by_prefix_and_page)
{
	nomad_state *s = sf_open(NULL);
	static const char *const vars[][2] = {
		{"default", "app/a"}, {"default", "app/b"}, {"default", "app/c"},
		{"default", "db/x"},  {"prod", "app/a"},    {"prod", "z"},
	};
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	char next[NOMAD_STATE_TOKEN_MAX];

	for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++) {
		nomad_variable *v = make_var(vars[i][0], vars[i][1], "x");
		WRITE(s, 2 + i, nomad_state_variable_upsert(TXN, v, &ERR));
		nomad_variable_free(v);
	}
	CHECK_STR(all(s, nomad_state_variables_list, "Path"),
		  "app/a,app/b,app/c,db/x");
	o.prefix = "app/";
	CHECK_STR(list(s, nomad_state_variables_list, &o, "Path", NULL),
		  "app/a,app/b,app/c");
	o.ns = "prod";
	CHECK_STR(list(s, nomad_state_variables_list, &o, "Path", NULL),
		  "app/a");

	/* Every namespace, in pages of two, forward and back. */
	o.ns = "*";
	o.prefix = NULL;
	o.per_page = 2;
	CHECK_STR(list(s, nomad_state_variables_list, &o, "Path", next),
		  "app/a,app/b");
	CHECK_STR(next, "default.app/c");
	o.next_token = next; /* the same buffer receives the next token */
	CHECK_STR(list(s, nomad_state_variables_list, &o, "Path", next),
		  "app/c,db/x");
	CHECK_STR(next, "prod.app/a");
	CHECK_STR(list(s, nomad_state_variables_list, &o, "Namespace", next),
		  "prod,prod");
	CHECK_STR(next, "");

	o.next_token = NULL;
	o.reverse = true;
	CHECK_STR(list(s, nomad_state_variables_list, &o, "Path", next),
		  "z,app/a");
	CHECK_STR(next, "default.db/x");
	o.next_token = next;
	CHECK_STR(list(s, nomad_state_variables_list, &o, "Path", next),
		  "db/x,app/c");

	o.version = 99;
	{
		nomad_state_snap *snap = snap_of(s);
		struct collect c = {.field = "Path"};
		nomad_error err;
		CHECK_INT(nomad_state_variables_list(snap, &o, collect_cb, &c,
						     next, &err),
			  NOMAD_EINVAL);
		CHECK_STR(next, "");
		nomad_state_snap_close(snap);
	}
	nomad_state_close(s);
}

/* ---- services -------------------------------------------------------------- */

#define ALLOC_1 "a1111111-0000-4000-8000-000000000001"
#define ALLOC_2 "a2222222-0000-4000-8000-000000000002"
#define NODE_1 "b1111111-0000-4000-8000-000000000001"
#define NODE_2 "b2222222-0000-4000-8000-000000000002"

static void register_svc(nomad_state *s, uint64_t index, const char *ns,
			 const char *id, const char *name, const char *job,
			 const char *alloc, const char *node, int port)
{
	nomad_service_registration *r = nomad_service_registration_new();
	CHECK(nmd_pb_set_string(NULL, &r->id, id));
	CHECK(nmd_pb_set_string(NULL, &r->namespace_, ns));
	CHECK(nmd_pb_set_string(NULL, &r->servicename, name));
	CHECK(nmd_pb_set_string(NULL, &r->jobid, job));
	CHECK(nmd_pb_set_string(NULL, &r->allocid, alloc));
	CHECK(nmd_pb_set_string(NULL, &r->nodeid, node));
	CHECK(nmd_pb_set_string(NULL, &r->datacenter, "dc1"));
	CHECK(nmd_pb_set_string(NULL, &r->address, "10.0.0.1"));
	r->has_port = 1;
	r->port = port;
	WRITE(s, index, nomad_state_service_upsert(TXN, r, &ERR));
	nomad_service_registration_free(r);
}

NMD_TEST(test_state_tables__services_by_name_alloc_node_job)
{
	nomad_state *s = sf_open(NULL);
	nomad_service_registration *got = NULL;
	nomad_state_snap *snap;

	register_svc(s, 2, NULL, "_nomad-task-1-web", "web", "shop", ALLOC_1,
		     NODE_1, 8080);
	register_svc(s, 3, NULL, "_nomad-task-1-api", "api", "shop", ALLOC_1,
		     NODE_1, 8081);
	register_svc(s, 4, NULL, "_nomad-task-2-web", "web", "shop", ALLOC_2,
		     NODE_2, 8080);
	register_svc(s, 5, "prod", "_nomad-task-3-web", "web", "shop", ALLOC_2,
		     NODE_2, 9090);

	CHECK_STR(by2(s, nomad_state_services_by_name, NULL, "web"),
		  "_nomad-task-1-web,_nomad-task-2-web");
	CHECK_STR(by2(s, nomad_state_services_by_name, "prod", "web"),
		  "_nomad-task-3-web");
	CHECK_STR(by2(s, nomad_state_services_by_job, "default", "shop"),
		  "_nomad-task-1-api,_nomad-task-1-web,_nomad-task-2-web");
	CHECK_STR(by1(s, nomad_state_services_by_alloc, ALLOC_1),
		  "_nomad-task-1-api,_nomad-task-1-web");
	CHECK_STR(by1(s, nomad_state_services_by_node, NODE_2),
		  "_nomad-task-2-web,_nomad-task-3-web");
	CHECK_STR(by1(s, nomad_state_services_by_node, "none"), "");

	snap = snap_of(s);
	CHECK_OK(nomad_state_service_get(snap, "prod", "_nomad-task-3-web",
					 &got));
	CHECK_INT(got->port, 9090);
	CHECK_INT(got->createindex, 5);
	CHECK_STR(got->namespace_, "prod");
	nomad_service_registration_free(got);
	CHECK_INT(nomad_state_service_get(snap, NULL, "_nomad-task-3-web", &got),
		  NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);

	/* Re-registering unchanged writes nothing; a change moves
	 * ModifyIndex only. */
	register_svc(s, 6, NULL, "_nomad-task-1-web", "web", "shop", ALLOC_1,
		     NODE_1, 8080);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 5);
	register_svc(s, 7, NULL, "_nomad-task-1-web", "web", "shop", ALLOC_1,
		     NODE_1, 8088);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 7);
	snap = snap_of(s);
	CHECK_OK(nomad_state_service_get(snap, NULL, "_nomad-task-1-web", &got));
	CHECK_INT(got->createindex, 2);
	CHECK_INT(got->modifyindex, 7);
	CHECK_INT(got->port, 8088);
	nomad_service_registration_free(got);
	nomad_state_snap_close(snap);

	/* Moving an instance to another allocation moves its index entry. */
	register_svc(s, 8, NULL, "_nomad-task-1-api", "api", "shop", ALLOC_2,
		     NODE_2, 8081);
	CHECK_STR(by1(s, nomad_state_services_by_alloc, ALLOC_1),
		  "_nomad-task-1-web");
	CHECK_STR(by1(s, nomad_state_services_by_alloc, ALLOC_2),
		  "_nomad-task-1-api,_nomad-task-2-web,_nomad-task-3-web");

	nomad_state_close(s);
}

NMD_TEST(test_state_tables__services_deletes)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;

	register_svc(s, 2, NULL, "s1", "web", "shop", ALLOC_1, NODE_1, 1);
	register_svc(s, 3, NULL, "s2", "web", "shop", ALLOC_1, NODE_1, 2);
	register_svc(s, 4, NULL, "s3", "web", "shop", ALLOC_2, NODE_1, 3);
	register_svc(s, 5, "prod", "s4", "web", "shop", ALLOC_2, NODE_2, 4);
	register_svc(s, 6, "prod", "s5", "db", "shop", "a3", NODE_2, 5);

	o.ns = "*";
	CHECK_STR(list(s, nomad_state_services_list, &o, "ID", NULL),
		  "s1,s2,s3,s4,s5");

	WRITE(s, 7, nomad_state_services_delete_by_alloc(TXN, ALLOC_1, &ERR));
	CHECK_STR(list(s, nomad_state_services_list, &o, "ID", NULL),
		  "s3,s4,s5");
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 7);
	/* Nothing left to delete: no error, and the index stays. */
	WRITE(s, 8, nomad_state_services_delete_by_alloc(TXN, ALLOC_1, &ERR));
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 7);
	WRITE_FAILS(s, 9, NOMAD_EINVAL,
		    nomad_state_services_delete_by_alloc(TXN, "", &ERR));

	WRITE(s, 9, nomad_state_services_delete_by_node(TXN, NODE_2, &ERR));
	CHECK_STR(list(s, nomad_state_services_list, &o, "ID", NULL), "s3");
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 9);

	WRITE_FAILS(s, 10, NOMAD_ENOTFOUND,
		    nomad_state_service_delete(TXN, "prod", "s3", &ERR));
	WRITE(s, 10, nomad_state_service_delete(TXN, NULL, "s3", &ERR));
	CHECK_STR(list(s, nomad_state_services_list, &o, "ID", NULL), "");
	nomad_state_close(s);
}

/* ---- scheduler configuration ----------------------------------------------------- */

NMD_TEST(test_state_tables__scheduler_config_cas)
{
	nomad_state *s = sf_open(NULL);
	nomad_scheduler_config *c = from_json(
		&nomad__scheduler_configuration__descriptor,
		"{\"SchedulerAlgorithm\":\"spread\",\"PreemptionConfig\":{"
		"\"SystemSchedulerEnabled\":true,\"SysBatchSchedulerEnabled\":"
		"false,\"BatchSchedulerEnabled\":false,"
		"\"ServiceSchedulerEnabled\":true},"
		"\"MemoryOversubscriptionEnabled\":true,"
		"\"RejectJobRegistration\":false,\"PauseEvalBroker\":false}");
	nomad_scheduler_config *got;

	CHECK(get_sched(s) == NULL);
	/* Nothing stored: only cas 0 holds. */
	WRITE_FAILS(s, 2, NOMAD_ECONFLICT,
		    nomad_state_scheduler_config_cas(TXN, c, 1, &ERR));
	WRITE(s, 2, nomad_state_scheduler_config_cas(TXN, c, 0, &ERR));
	got = get_sched(s);
	CHECK_INT(got->scheduleralgorithm, NOMAD__SCHEDULER_ALGORITHM__spread);
	CHECK(got->preemptionconfig->systemschedulerenabled);
	CHECK(got->preemptionconfig->has_batchschedulerenabled);
	CHECK(!got->preemptionconfig->batchschedulerenabled);
	CHECK(got->memoryoversubscriptionenabled);
	CHECK_INT(got->createindex, 2);
	CHECK_INT(got->modifyindex, 2);
	nomad_scheduler_config_free(got);

	c->scheduleralgorithm = NOMAD__SCHEDULER_ALGORITHM__binpack;
	WRITE_FAILS(s, 3, NOMAD_ECONFLICT,
		    nomad_state_scheduler_config_cas(TXN, c, 0, &ERR));
	WRITE_FAILS(s, 3, NOMAD_ECONFLICT,
		    nomad_state_scheduler_config_cas(TXN, c, 1, &ERR));
	WRITE(s, 3, nomad_state_scheduler_config_cas(TXN, c, 2, &ERR));
	c->pauseevalbroker = 1;
	WRITE(s, 4, nomad_state_scheduler_config_set(TXN, c, &ERR));
	got = get_sched(s);
	CHECK_INT(got->scheduleralgorithm, NOMAD__SCHEDULER_ALGORITHM__binpack);
	CHECK(got->pauseevalbroker);
	CHECK_INT(got->createindex, 2);
	CHECK_INT(got->modifyindex, 4);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SCHEDULER_CONFIG), 4);
	nomad_scheduler_config_free(got);

	nomad_scheduler_config_free(c);
	nomad_state_close(s);
}

/* ---- periodic launches ------------------------------------------------------- */

NMD_TEST(test_state_tables__periodic_launches)
{
	nomad_state *s = sf_open(NULL);
	nomad_periodic_launch *l = from_json(
		&nomad__periodic_launch__descriptor,
		"{\"ID\":\"cron\",\"Launch\":\"2024-05-01T10:00:00Z\"}");
	nomad_periodic_launch *got;
	nomad_state_snap *snap;
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;

	WRITE(s, 2, nomad_state_periodic_launch_upsert(TXN, l, &ERR));
	CHECK(nmd_pb_set_string(NULL, &l->namespace_, "prod"));
	WRITE(s, 3, nomad_state_periodic_launch_upsert(TXN, l, &ERR));
	l->launch->seconds += 3600;
	WRITE(s, 4, nomad_state_periodic_launch_upsert(TXN, l, &ERR));

	snap = snap_of(s);
	CHECK_OK(nomad_state_periodic_launch_get(snap, "prod", "cron", &got));
	CHECK_INT(got->launch->seconds, 1714557600 + 3600);
	CHECK_INT(got->createindex, 3);
	CHECK_INT(got->modifyindex, 4);
	nomad_periodic_launch_free(got);
	CHECK_OK(nomad_state_periodic_launch_get(snap, NULL, "cron", &got));
	CHECK_STR(got->namespace_, "default");
	CHECK_INT(got->launch->seconds, 1714557600);
	nomad_periodic_launch_free(got);
	nomad_state_snap_close(snap);

	o.ns = "*";
	CHECK_STR(list(s, nomad_state_periodic_launches_list, &o, "Namespace",
		       NULL), "default,prod");
	WRITE(s, 5, nomad_state_periodic_launch_delete(TXN, "prod", "cron",
						       &ERR));
	WRITE_FAILS(s, 6, NOMAD_ENOTFOUND,
		    nomad_state_periodic_launch_delete(TXN, "prod", "cron",
						       &ERR));
	CHECK_STR(list(s, nomad_state_periodic_launches_list, &o, "Namespace",
		       NULL), "default");
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_PERIODIC_LAUNCH), 5);

	nomad_periodic_launch_free(l);
	nomad_state_close(s);
}

/* ---- listings ------------------------------------------------------------------ */

NMD_TEST(test_state_tables__key_listing_prefix_and_pages)
{
	nomad_state *s = sf_open(NULL);
	static const char *const names[] = {"web-a", "web-b", "db", "web-c",
					    "api"};
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	char next[NOMAD_STATE_TOKEN_MAX];
	nomad_acl_policy *p = nomad_acl_policy_new();

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		CHECK(nmd_pb_set_string(NULL, &p->name, names[i]));
		WRITE(s, 2 + i, nomad_state_acl_policy_upsert(TXN, p, &ERR));
	}
	CHECK_STR(all(s, nomad_state_acl_policies_list, "Name"),
		  "api,db,web-a,web-b,web-c");
	o.prefix = "web-";
	CHECK_STR(list(s, nomad_state_acl_policies_list, &o, "Name", NULL),
		  "web-a,web-b,web-c");
	o.per_page = 2;
	CHECK_STR(list(s, nomad_state_acl_policies_list, &o, "Name", next),
		  "web-a,web-b");
	CHECK_STR(next, "web-c");
	o.next_token = next;
	CHECK_STR(list(s, nomad_state_acl_policies_list, &o, "Name", next),
		  "web-c");
	CHECK_STR(next, "");

	o.prefix = NULL;
	o.next_token = NULL;
	o.reverse = true;
	o.per_page = 3;
	CHECK_STR(list(s, nomad_state_acl_policies_list, &o, "Name", next),
		  "web-c,web-b,web-a");
	CHECK_STR(next, "db");
	o.next_token = next;
	CHECK_STR(list(s, nomad_state_acl_policies_list, &o, "Name", next),
		  "db,api");
	CHECK_STR(next, "");

	/* A token between keys resumes at the next key. */
	o.reverse = false;
	o.per_page = 0;
	o.next_token = "b";
	CHECK_STR(list(s, nomad_state_acl_policies_list, &o, "Name", NULL),
		  "db,web-a,web-b,web-c");

	nomad_acl_policy_free(p);
	nomad_state_close(s);
}

NMD_TEST(test_state_tables__aborted_writes_leave_nothing)
{
	nomad_state *s = sf_open(NULL);
	nomad_namespace *ns = from_json(&nomad__namespace__descriptor,
					"{\"Name\":\"gone\"}");
	nomad_state_txn *txn = sf_begin(s, 2);
	CHECK_OK(nomad_state_namespace_upsert(txn, ns, NULL));
	nomad_state_txn_abort(txn);
	CHECK(get_ns(s, "gone") == NULL);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NAMESPACES), 1);
	nomad_namespace_free(ns);
	nomad_state_close(s);
}

/* ---- durability --------------------------------------------------------------- */

NMD_TEST(test_state_tables__reopen_keeps_everything)
{
	nomad_state *s = sf_open(NULL);
	nomad_namespace *ns = from_json(&nomad__namespace__descriptor,
					"{\"Name\":\"dev\",\"Meta\":{\"a\":\"b\"}}");
	nomad_node_pool *pool = from_json(&nomad__node_pool__descriptor,
					  "{\"Name\":\"gpu\"}");
	nomad_acl_policy *pol = from_json(&nomad__aclpolicy__descriptor,
					  "{\"Name\":\"ro\",\"Rules\":\"r\"}");
	nomad_acl_token *tok = from_json(
		&nomad__acltoken__descriptor,
		"{\"AccessorID\":\"" ACCESSOR_A "\",\"SecretID\":\"" SECRET_A
		"\",\"Type\":\"management\"}");
	nomad_variable *var = make_var("dev", "a/b", "v");
	nomad_scheduler_config *sc = from_json(
		&nomad__scheduler_configuration__descriptor,
		"{\"SchedulerAlgorithm\":\"spread\"}");
	nomad_periodic_launch *pl = from_json(
		&nomad__periodic_launch__descriptor,
		"{\"ID\":\"cron\",\"Launch\":\"2024-05-01T10:00:00Z\"}");
	nomad_acl_token *t;
	nomad_variable *v;
	nomad_scheduler_config *c;
	nomad_periodic_launch *l;
	nomad_service_registration *r;
	nomad_acl_policy *p;
	nomad_state_snap *snap;

	WRITE(s, 2, nomad_state_namespace_upsert(TXN, ns, &ERR));
	WRITE(s, 3, nomad_state_node_pool_upsert(TXN, pool, &ERR));
	WRITE(s, 4, nomad_state_acl_policy_upsert(TXN, pol, &ERR));
	WRITE(s, 5, nomad_state_acl_token_upsert(TXN, tok, &ERR));
	WRITE(s, 6, nomad_state_variable_upsert(TXN, var, &ERR));
	register_svc(s, 7, "dev", "svc", "web", "job", ALLOC_1, NODE_1, 80);
	WRITE(s, 8, nomad_state_scheduler_config_set(TXN, sc, &ERR));
	WRITE(s, 9, nomad_state_periodic_launch_upsert(TXN, pl, &ERR));
	nomad_state_close(s);

	s = sf_open(NULL);
	CHECK_INT(nomad_state_last_index(s), 9);
	/* The built-ins are not written again over what is there. */
	CHECK_STR(all(s, nomad_state_namespaces_list, "Name"), "default,dev");
	CHECK_STR(all(s, nomad_state_node_pools_list, "Name"),
		  "all,default,gpu");
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NAMESPACES), 2);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NODE_POOLS), 3);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_ACL_POLICIES), 4);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_ACL_TOKENS), 5);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_VARIABLES), 6);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 7);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SCHEDULER_CONFIG), 8);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_PERIODIC_LAUNCH), 9);

	snap = snap_of(s);
	CHECK_OK(nomad_state_acl_policy_get(snap, "ro", &p));
	CHECK_STR(p->rules, "r");
	CHECK_OK(nomad_state_acl_token_by_secret(snap, SECRET_A, &t));
	CHECK_INT(t->type, NOMAD__ACLTOKEN__TYPE_KIND__management);
	CHECK_OK(nomad_state_variable_get(snap, "dev", "a/b", &v));
	CHECK_STR(nomad_map_get(v->items, v->n_items, "k"), "v");
	CHECK_OK(nomad_state_service_get(snap, "dev", "svc", &r));
	CHECK_INT(r->port, 80);
	CHECK_OK(nomad_state_scheduler_config_get(snap, &c));
	CHECK_INT(c->scheduleralgorithm, NOMAD__SCHEDULER_ALGORITHM__spread);
	CHECK_OK(nomad_state_periodic_launch_get(snap, "default", "cron", &l));
	CHECK_INT(l->modifyindex, 9);
	nomad_state_snap_close(snap);
	CHECK_STR(by1(s, nomad_state_services_by_alloc, ALLOC_1), "svc");

	nomad_acl_policy_free(p);
	nomad_acl_token_free(t);
	nomad_variable_free(v);
	nomad_service_registration_free(r);
	nomad_scheduler_config_free(c);
	nomad_periodic_launch_free(l);
	nomad_namespace_free(ns);
	nomad_node_pool_free(pool);
	nomad_acl_policy_free(pol);
	nomad_acl_token_free(tok);
	nomad_variable_free(var);
	nomad_scheduler_config_free(sc);
	nomad_periodic_launch_free(pl);
	nomad_state_close(s);
}
