/* SPDX-License-Identifier: MPL-2.0 */
/*
 * What every handle carries instead of global state: its allocator,
 * logger, clock and random source, copied from the handle's config.
 */
#ifndef NMD_CORE_CTX_H
#define NMD_CORE_CTX_H

#include <stdbool.h>
#include <nomad/core.h>

struct nmd_ctx {
	const nomad_allocator *alloc; /* NULL or &alloc_copy */
	nomad_allocator alloc_copy;
	nomad_log_cb log_cb;          /* NULL: silent */
	void *log_userdata;
	nomad_log_level log_level;    /* records below it are dropped */
	const nomad_clock *clock;     /* NULL or &clock_copy */
	nomad_clock clock_copy;
	const nomad_rng *rng;         /* NULL or &rng_copy */
	nomad_rng rng_copy;
};

/* Copies what the pointers point to; any of them may be NULL. */
void nmd_ctx_init(struct nmd_ctx *ctx, const nomad_allocator *alloc,
		  nomad_log_cb log_cb, void *log_userdata,
		  nomad_log_level level, const nomad_clock *clock,
		  const nomad_rng *rng);

bool nmd_log_enabled(const struct nmd_ctx *ctx, nomad_log_level level);
/* Log a formatted message with optional key=value pairs. */
void nmd_logkv(const struct nmd_ctx *ctx, nomad_log_level level,
	       const char *subsystem, const nomad_log_kv *kvs, size_t n_kvs,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define nmd_log(ctx, level, subsys, ...)                                      \
	nmd_logkv((ctx), (level), (subsys), NULL, 0, __VA_ARGS__)

/* Fill `err`, log the message at ERROR through ctx, return `code`. */
nomad_err nmd_fail(const struct nmd_ctx *ctx, nomad_error *err,
		   nomad_err code, const char *subsystem, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
