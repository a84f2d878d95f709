/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The per-handle context: the allocator, logger, clock and random source a
 * handle was configured with, copied so the caller's config may go away,
 * and the logging calls that go through it.
 *
 * A struct nmd_ctx points into itself (alloc -> alloc_copy, ...), so it is
 * initialised in place and never copied by value afterwards.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"

/* Longest message a log record carries; longer ones are cut. */
#define LOG_MSG_MAX 1024

void nmd_ctx_init(struct nmd_ctx *ctx, const nomad_allocator *alloc,
		  nomad_log_cb log_cb, void *log_userdata,
		  nomad_log_level level, const nomad_clock *clock,
		  const nomad_rng *rng)
{
	memset(ctx, 0, sizeof(*ctx));
	if (alloc) {
		ctx->alloc_copy = *alloc;
		ctx->alloc = &ctx->alloc_copy;
	}
	ctx->log_cb = log_cb;
	ctx->log_userdata = log_userdata;
	ctx->log_level = level;
	if (clock) {
		ctx->clock_copy = *clock;
		ctx->clock = &ctx->clock_copy;
	}
	if (rng) {
		ctx->rng_copy = *rng;
		ctx->rng = &ctx->rng_copy;
	}
}

bool nmd_log_enabled(const struct nmd_ctx *ctx, nomad_log_level level)
{
	return ctx && ctx->log_cb && level >= ctx->log_level &&
	       level < NOMAD_LOG_OFF;
}

/* Hand one finished message to the callback. */
static void emit(const struct nmd_ctx *ctx, nomad_log_level level,
		 const char *subsystem, const nomad_log_kv *kvs, size_t n_kvs,
		 const char *msg)
{
	nomad_log_record rec = {
		.level = level,
		.time_unix_ns = nomad_clock_wall_ns(ctx->clock),
		.subsystem = subsystem ? subsystem : "",
		.message = msg,
		.kvs = kvs,
		.n_kvs = kvs ? n_kvs : 0,
	};

	ctx->log_cb(&rec, ctx->log_userdata);
}

void nmd_logkv(const struct nmd_ctx *ctx, nomad_log_level level,
	       const char *subsystem, const nomad_log_kv *kvs, size_t n_kvs,
	       const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	va_list ap;

	/* Check first: a disabled level costs no formatting. */
	if (!nmd_log_enabled(ctx, level))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(ctx, level, subsystem, kvs, n_kvs, msg);
}

nomad_err nmd_fail(const struct nmd_ctx *ctx, nomad_error *err,
		   nomad_err code, const char *subsystem, const char *fmt, ...)
{
	char msg[NOMAD_ERRMSG_MAX];
	bool logging = nmd_log_enabled(ctx, NOMAD_LOG_ERROR);
	va_list ap;

	if (!err && !logging)
		return code;
	/* Format once, into a local buffer: one of the arguments may be
	 * err->message itself, which nmd_seterr overwrites. */
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nmd_seterr(err, code, "%s", msg);
	if (logging)
		emit(ctx, NOMAD_LOG_ERROR, subsystem, NULL, 0, msg);
	return code;
}
