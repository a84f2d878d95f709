/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/ctx.c: the context copies its inputs, the level
 * filter, log records built from the handle's clock, and nmd_fail filling
 * the error and logging it once.
 */
#include <stdbool.h>

#include "core/ctx.h"
#include "test.h"

struct captured {
	int calls;
	nomad_log_level level;
	int64_t time;
	char subsystem[64];
	char message[2048];
	size_t n_kvs;
	char kv0[64];
};

static void capture(const nomad_log_record *rec, void *ud)
{
	struct captured *c = ud;

	c->calls++;
	c->level = rec->level;
	c->time = rec->time_unix_ns;
	snprintf(c->subsystem, sizeof(c->subsystem), "%s", rec->subsystem);
	snprintf(c->message, sizeof(c->message), "%s", rec->message);
	c->n_kvs = rec->n_kvs;
	if (rec->n_kvs > 0)
		snprintf(c->kv0, sizeof(c->kv0), "%s=%s", rec->kvs[0].key,
			 rec->kvs[0].value);
}

static int64_t fixed_wall(void *ud)
{
	return *(int64_t *)ud;
}

static int64_t fixed_mono(void *ud)
{
	return *(int64_t *)ud / 2;
}

static void zero_fill(void *buf, size_t len, void *ud)
{
	(void)ud;
	memset(buf, 0, len);
}

static void *never_malloc(size_t n, void *ud)
{
	(void)n;
	(void)ud;
	return NULL;
}

static void *never_realloc(void *p, size_t n, void *ud)
{
	(void)p;
	(void)n;
	(void)ud;
	return NULL;
}

static void never_free(void *p, void *ud)
{
	(void)p;
	(void)ud;
}

static int64_t now = INT64_C(1704067200000000000);

static void init_capturing(struct nmd_ctx *ctx, struct captured *c,
			   nomad_log_level level)
{
	nomad_clock clock = {NOMAD_CLOCK_VERSION, fixed_mono, fixed_wall,
			     &now};

	memset(c, 0, sizeof(*c));
	nmd_ctx_init(ctx, NULL, capture, c, level, &clock, NULL);
}

NMD_TEST(test_core_ctx__init_copies)
{
	nomad_allocator a = {NOMAD_ALLOCATOR_VERSION, never_malloc,
			     never_realloc, never_free, &now};
	nomad_clock clock = {NOMAD_CLOCK_VERSION, fixed_mono, fixed_wall,
			     &now};
	nomad_rng rng = {NOMAD_RNG_VERSION, zero_fill, &now};
	struct nmd_ctx ctx;

	nmd_ctx_init(&ctx, &a, capture, &now, NOMAD_LOG_WARN, &clock, &rng);
	/* The caller's structs may go away: the ctx points at copies. */
	memset(&a, 0, sizeof(a));
	memset(&clock, 0, sizeof(clock));
	memset(&rng, 0, sizeof(rng));
	CHECK(ctx.alloc == &ctx.alloc_copy);
	CHECK(ctx.clock == &ctx.clock_copy);
	CHECK(ctx.rng == &ctx.rng_copy);
	CHECK(ctx.alloc->malloc == never_malloc);
	CHECK(ctx.alloc->userdata == &now);
	CHECK(ctx.log_cb == capture);
	CHECK(ctx.log_userdata == &now);
	CHECK_INT(ctx.log_level, NOMAD_LOG_WARN);
	CHECK_INT(nomad_clock_wall_ns(ctx.clock), now);
	CHECK_INT(nomad_clock_monotonic_ns(ctx.clock), now / 2);
	CHECK(ctx.rng->fill == zero_fill);
}

NMD_TEST(test_core_ctx__init_nulls)
{
	struct nmd_ctx ctx;

	memset(&ctx, 0x5a, sizeof(ctx));
	nmd_ctx_init(&ctx, NULL, NULL, NULL, NOMAD_LOG_INFO, NULL, NULL);
	CHECK(ctx.alloc == NULL);
	CHECK(ctx.clock == NULL);
	CHECK(ctx.rng == NULL);
	CHECK(ctx.log_cb == NULL);
	CHECK(!nmd_log_enabled(&ctx, NOMAD_LOG_ERROR));
	/* Silent, and no crash. */
	nmd_log(&ctx, NOMAD_LOG_ERROR, "core", "nobody listens %d", 1);
	CHECK_INT(nmd_fail(&ctx, NULL, NOMAD_EIO, "core", "x"), NOMAD_EIO);
}

NMD_TEST(test_core_ctx__level_filter)
{
	struct nmd_ctx ctx;
	struct captured c;

	init_capturing(&ctx, &c, NOMAD_LOG_INFO);
	CHECK(!nmd_log_enabled(&ctx, NOMAD_LOG_TRACE));
	CHECK(!nmd_log_enabled(&ctx, NOMAD_LOG_DEBUG));
	CHECK(nmd_log_enabled(&ctx, NOMAD_LOG_INFO));
	CHECK(nmd_log_enabled(&ctx, NOMAD_LOG_ERROR));
	CHECK(!nmd_log_enabled(&ctx, NOMAD_LOG_OFF));
	CHECK(!nmd_log_enabled(NULL, NOMAD_LOG_ERROR));
	nmd_log(&ctx, NOMAD_LOG_DEBUG, "raft", "dropped");
	CHECK_INT(c.calls, 0);
	nmd_log(&ctx, NOMAD_LOG_WARN, "raft", "kept");
	CHECK_INT(c.calls, 1);

	init_capturing(&ctx, &c, NOMAD_LOG_OFF);
	nmd_log(&ctx, NOMAD_LOG_ERROR, "raft", "dropped");
	CHECK_INT(c.calls, 0);
}

NMD_TEST(test_core_ctx__logkv_record)
{
	nomad_log_kv kvs[] = {{"node", "n1"}, {"term", "3"}};
	struct nmd_ctx ctx;
	struct captured c;

	init_capturing(&ctx, &c, NOMAD_LOG_TRACE);
	nmd_logkv(&ctx, NOMAD_LOG_INFO, "raft", kvs, 2, "elected %s",
		  "leader");
	CHECK_INT(c.calls, 1);
	CHECK_INT(c.level, NOMAD_LOG_INFO);
	CHECK_INT(c.time, now);
	CHECK_STR(c.subsystem, "raft");
	CHECK_STR(c.message, "elected leader");
	CHECK_INT(c.n_kvs, 2);
	CHECK_STR(c.kv0, "node=n1");

	nmd_log(&ctx, NOMAD_LOG_TRACE, NULL, "no subsystem");
	CHECK_STR(c.subsystem, "");
	CHECK_INT(c.n_kvs, 0);
}

NMD_TEST(test_core_ctx__logkv_long_message)
{
	char big[3000];
	struct nmd_ctx ctx;
	struct captured c;

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	init_capturing(&ctx, &c, NOMAD_LOG_TRACE);
	nmd_log(&ctx, NOMAD_LOG_INFO, "core", "%s", big);
	CHECK_INT(c.calls, 1);
	CHECK_INT(strlen(c.message), 1023);
}

NMD_TEST(test_core_ctx__system_clock_time)
{
	struct nmd_ctx ctx;
	struct captured c;

	memset(&c, 0, sizeof(c));
	nmd_ctx_init(&ctx, NULL, capture, &c, NOMAD_LOG_TRACE, NULL, NULL);
	nmd_log(&ctx, NOMAD_LOG_INFO, "core", "now");
	/* Later than 2020-01-01: the system's wall clock was read. */
	CHECK(c.time > INT64_C(1577836800000000000));
}

NMD_TEST(test_core_ctx__fail)
{
	struct nmd_ctx ctx;
	struct captured c;
	nomad_error err;

	init_capturing(&ctx, &c, NOMAD_LOG_INFO);
	nomad_error_clear(&err);
	CHECK_INT(nmd_fail(&ctx, &err, NOMAD_ENOTFOUND, "state",
			   "job %s not found", "web"),
		  NOMAD_ENOTFOUND);
	CHECK_INT(err.code, NOMAD_ENOTFOUND);
	CHECK_STR(err.message, "job web not found");
	CHECK_INT(c.calls, 1);
	CHECK_INT(c.level, NOMAD_LOG_ERROR);
	CHECK_STR(c.subsystem, "state");
	CHECK_STR(c.message, "job web not found");
}

NMD_TEST(test_core_ctx__fail_without_err_or_log)
{
	struct nmd_ctx ctx;
	struct captured c;
	nomad_error err;

	/* No err: still logged. */
	init_capturing(&ctx, &c, NOMAD_LOG_INFO);
	CHECK_INT(nmd_fail(&ctx, NULL, NOMAD_EIO, "rpc", "read: %d", 5),
		  NOMAD_EIO);
	CHECK_INT(c.calls, 1);
	CHECK_STR(c.message, "read: 5");

	/* Logging off: err still filled. */
	init_capturing(&ctx, &c, NOMAD_LOG_OFF);
	CHECK_INT(nmd_fail(&ctx, &err, NOMAD_EIO, "rpc", "write"), NOMAD_EIO);
	CHECK_INT(c.calls, 0);
	CHECK_STR(err.message, "write");

	/* No ctx at all. */
	CHECK_INT(nmd_fail(NULL, &err, NOMAD_EPERM, "acl", "denied"),
		  NOMAD_EPERM);
	CHECK_STR(err.message, "denied");
}

NMD_TEST(test_core_ctx__fail_adds_context)
{
	struct nmd_ctx ctx;
	struct captured c;
	nomad_error err;

	init_capturing(&ctx, &c, NOMAD_LOG_INFO);
	nomad_error_clear(&err);
	strcpy(err.message, "bad port");
	nmd_fail(&ctx, &err, NOMAD_EINVAL, "structs", "task web: %s",
		 err.message);
	CHECK_STR(err.message, "task web: bad port");
	CHECK_STR(c.message, "task web: bad port");
}
