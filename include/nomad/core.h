/* SPDX-License-Identifier: MPL-2.0 */
/**
 * @file nomad/core.h
 * @brief Version, status codes, error detail, allocator, logging, clock,
 *        random source and ids: what every other libnomad header builds on.
 *
 * Nothing here touches process-wide state: the allocator, the logger, the
 * clock and the random source are values the caller hands to each handle's
 * config, so two handles in one process never share them unless asked to.
 *
 * Threads: every function in this header is safe to call from any thread;
 * none keeps state between calls.
 */
#ifndef NOMAD_CORE_H
#define NOMAD_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define NOMAD_EXTERN __attribute__((visibility("default")))
#else
#define NOMAD_EXTERN
#endif

/* The Makefile reads these three lines to name the shared library. */
#define NOMAD_VERSION_MAJOR 0
#define NOMAD_VERSION_MINOR 1
#define NOMAD_VERSION_PATCH 0
#define NOMAD_VERSION_STRING "0.1.0"
/** The version as one number, 0xMMmmpp, for compile-time checks. */
#define NOMAD_VERSION_NUM                                                     \
	((NOMAD_VERSION_MAJOR << 16) | (NOMAD_VERSION_MINOR << 8) |           \
	 NOMAD_VERSION_PATCH)

/**
 * The version of the library that is linked.
 *
 * @return a static string such as "0.1.0"; never NULL
 */
NOMAD_EXTERN const char *nomad_version(void);

/**
 * Status codes. NOMAD_OK is zero and every failure is negative; new codes
 * are only ever appended.
 */
typedef enum nomad_err {
	NOMAD_OK = 0,
	NOMAD_ERROR = -1,      /**< anything not listed below */
	NOMAD_EINVAL = -2,     /**< an argument or input is not valid */
	NOMAD_ENOMEM = -3,     /**< an allocation failed */
	NOMAD_ENOTFOUND = -4,  /**< the object does not exist */
	NOMAD_EEXISTS = -5,    /**< the object exists already */
	NOMAD_ENOTLEADER = -6, /**< this server is not the leader */
	NOMAD_ECONFLICT = -7,  /**< a check-and-set index did not match */
	NOMAD_ETIMEDOUT = -8,  /**< a deadline passed */
	NOMAD_EPARSE = -9,     /**< input text is malformed (JSON, HCL, ...) */
	NOMAD_EUSER = -10,     /**< a user callback returned nonzero */
	NOMAD_EIO = -11,       /**< a read, write or socket call failed */
	NOMAD_ECORRUPT = -12,  /**< stored or received data fails its checks */
	NOMAD_EPERM = -13,     /**< permission denied */
	NOMAD_ERANGE = -14,    /**< a number or size is out of range */
} nomad_err;

/**
 * A short description of a status code.
 *
 * @return a static string; never NULL, also for unknown codes
 */
NOMAD_EXTERN const char *nomad_strerror(nomad_err code);

/** Size of nomad_error's message buffer, terminating NUL included. */
#define NOMAD_ERRMSG_MAX 512
/** Size of nomad_error's file buffer, terminating NUL included. */
#define NOMAD_ERRFILE_MAX 256

/**
 * Detail about a failure, owned by the caller.
 *
 * Functions that take a `nomad_error *err` fill it on failure and leave it
 * alone on success; NULL is always accepted. Nothing is allocated, so the
 * struct can live on the stack of any thread.
 */
typedef struct nomad_error {
	nomad_err code;                  /**< the code the call returned */
	char message[NOMAD_ERRMSG_MAX];  /**< lowercase, no trailing period */
	char file[NOMAD_ERRFILE_MAX];    /**< parsers: the input's name or "" */
	unsigned int line;               /**< parsers: 1-based line, or 0 */
	unsigned int column;             /**< parsers: 1-based column, or 0 */
} nomad_error;

/** Reset an error to NOMAD_OK with empty text. NULL is accepted. */
NOMAD_EXTERN void nomad_error_clear(nomad_error *err);

/* ------------------------------------------------------------------ */
/* Allocator                                                           */

#define NOMAD_ALLOCATOR_VERSION 1

/**
 * Memory hooks for one handle, or for one call that allocates objects.
 *
 * Every function must be set. `free(NULL)` must be accepted, and
 * `realloc(NULL, n)` must act as `malloc(n)`. A NULL `const nomad_allocator *`
 * anywhere in the API means the C library's malloc, realloc and free.
 */
typedef struct nomad_allocator {
	unsigned int version; /**< NOMAD_ALLOCATOR_VERSION */
	void *(*malloc)(size_t size, void *userdata);
	void *(*realloc)(void *ptr, size_t size, void *userdata);
	void (*free)(void *ptr, void *userdata);
	void *userdata;
} nomad_allocator;

/**
 * Free memory that a libnomad call allocated for the caller with the
 * default allocator (a string, an encoded buffer). NULL is accepted.
 */
NOMAD_EXTERN void nomad_free(void *ptr);

/* ------------------------------------------------------------------ */
/* Logging                                                             */

/** Log levels, in hclog's order and spelling (TRACE .. ERROR, OFF). */
typedef enum nomad_log_level {
	NOMAD_LOG_TRACE = 0,
	NOMAD_LOG_DEBUG = 1,
	NOMAD_LOG_INFO = 2,
	NOMAD_LOG_WARN = 3,
	NOMAD_LOG_ERROR = 4,
	NOMAD_LOG_OFF = 5,
} nomad_log_level;

/** One key=value pair attached to a log record. */
typedef struct nomad_log_kv {
	const char *key;
	const char *value;
} nomad_log_kv;

/** A log record; every pointer is borrowed for the duration of the call. */
typedef struct nomad_log_record {
	nomad_log_level level;
	int64_t time_unix_ns;  /**< wall time from the handle's clock */
	const char *subsystem; /**< "raft", "state", "structs", ... */
	const char *message;   /**< lowercase, no trailing newline */
	const nomad_log_kv *kvs;
	size_t n_kvs;
} nomad_log_record;

/**
 * Receives a handle's log records.
 *
 * Called on whichever thread logged; must not call back into the handle
 * that logged. The record and its strings do not outlive the call.
 */
typedef void (*nomad_log_cb)(const nomad_log_record *rec, void *userdata);

/**
 * The level's name as hclog writes it ("TRACE", "DEBUG", "INFO", "WARN",
 * "ERROR", "OFF").
 *
 * @return a static string; "UNKNOWN" for a value outside the enum
 */
NOMAD_EXTERN const char *nomad_log_level_name(nomad_log_level level);

/**
 * Parse a level name, case-insensitively ("info", "WARN", "warning").
 *
 * @return NOMAD_OK, or NOMAD_EINVAL for an unknown name (*out untouched)
 */
NOMAD_EXTERN nomad_err nomad_log_level_parse(const char *name,
					     nomad_log_level *out);

/**
 * Format a record as one hclog-style text line, newline included:
 * `2024-01-01T00:00:00.000Z [INFO]  raft: message: key=value key2="a b"`.
 *
 * Values with spaces, quotes or control characters are quoted and escaped.
 *
 * @param buf where the line goes; always NUL-terminated when cap > 0
 * @return the length the whole line needs (as snprintf: the line was cut
 *         when the return value is >= cap)
 */
NOMAD_EXTERN size_t nomad_log_format_text(const nomad_log_record *rec,
					  char *buf, size_t cap);

/**
 * Format a record as one JSON object and a newline, with hclog's keys
 * `@level`, `@message`, `@module` and `@timestamp` plus the pairs.
 *
 * @return as nomad_log_format_text
 */
NOMAD_EXTERN size_t nomad_log_format_json(const nomad_log_record *rec,
					  char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Clock and random source                                             */

#define NOMAD_CLOCK_VERSION 1

/**
 * A source of time. Code that decides (the scheduler, raft, the eval
 * broker) reads time only through one of these so that a simulation can
 * drive it. A NULL `const nomad_clock *` means the system clocks
 * (CLOCK_MONOTONIC and CLOCK_REALTIME).
 */
typedef struct nomad_clock {
	unsigned int version; /**< NOMAD_CLOCK_VERSION */
	/** Nanoseconds from an arbitrary origin; never goes backwards. */
	int64_t (*monotonic_ns)(void *userdata);
	/** Nanoseconds since the Unix epoch. */
	int64_t (*wall_ns)(void *userdata);
	void *userdata;
} nomad_clock;

/** Monotonic time from `clock`, or from the system when it is NULL. */
NOMAD_EXTERN int64_t nomad_clock_monotonic_ns(const nomad_clock *clock);
/** Wall time from `clock`, or from the system when it is NULL. */
NOMAD_EXTERN int64_t nomad_clock_wall_ns(const nomad_clock *clock);

#define NOMAD_RNG_VERSION 1

/**
 * A source of random bytes. A NULL `const nomad_rng *` means the
 * operating system's generator (arc4random_buf).
 */
typedef struct nomad_rng {
	unsigned int version; /**< NOMAD_RNG_VERSION */
	void (*fill)(void *buf, size_t len, void *userdata);
	void *userdata;
} nomad_rng;

/**
 * State of the library's deterministic generator (xoshiro256**): the same
 * seed gives the same bytes on every machine. Not for secrets.
 */
typedef struct nomad_rng_seeded {
	uint64_t s[4];
} nomad_rng_seeded;

/**
 * Make `rng` a deterministic generator over `state`, seeded with `seed`.
 * Both structs are the caller's and `state` must outlive `rng`'s use.
 */
NOMAD_EXTERN void nomad_rng_init_seeded(nomad_rng *rng,
					nomad_rng_seeded *state,
					uint64_t seed);

/** Fill `buf` with `len` bytes from `rng` (the system's when NULL). */
NOMAD_EXTERN void nomad_rng_fill(const nomad_rng *rng, void *buf, size_t len);

/** A uniform integer in [0, bound) from `rng`; 0 when bound is 0. */
NOMAD_EXTERN uint64_t nomad_rng_uniform(const nomad_rng *rng, uint64_t bound);

/* ------------------------------------------------------------------ */
/* Identifiers                                                         */

/** Length of a UUID in text form, without the NUL. */
#define NOMAD_UUID_LEN 36

/**
 * Write a random (version 4) UUID in lowercase text form,
 * `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, and a NUL.
 *
 * @param rng the random source; NULL for the system's
 */
NOMAD_EXTERN void nomad_uuid_generate(const nomad_rng *rng,
				      char out[NOMAD_UUID_LEN + 1]);

/**
 * Whether `s` is a UUID in text form (any version, either case).
 *
 * @return 1 when it is, 0 when not (NULL included)
 */
NOMAD_EXTERN int nomad_uuid_valid(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* NOMAD_CORE_H */
