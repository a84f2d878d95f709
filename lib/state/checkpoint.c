/* SPDX-License-Identifier: MPL-2.0 */
/*
 * WAL checkpoints off the write path. SQLite's automatic checkpoint runs
 * inside the commit that crosses its threshold, so the writer stops to
 * copy every page of the WAL back into the database; at a million
 * allocations that was a third of the insert time. Instead the writer's
 * WAL hook wakes a thread with its own connection, which checkpoints
 * PASSIVE (never waiting for readers or the writer) while the writer goes
 * on. Between checkpoints a hot page is rewritten many times in the WAL
 * but copied back once.
 *
 * Should the thread fall far behind (a long-lived reader pinning the
 * WAL, say), the writer checkpoints itself at a hard limit, as SQLite
 * would, so the WAL cannot grow without bound.
 */
#include "core/alloc.h"
#include "core/error.h"
#include "state/state_int.h"

/* At s->checkpoint_pages WAL frames the thread is woken; at this many
 * times that, the writer stops to checkpoint itself. */
#define HARD_FACTOR 8

struct nmd_checkpointer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool pending, stop;
	bool finished; /* a checkpoint ended: the writer may take the tail */
	struct nmd_conn conn;
};

static void *run(void *arg)
{
	nomad_state *s = arg;
	struct nmd_checkpointer *k = s->checkpointer;
	pthread_mutex_lock(&k->lock);
	for (;;) {
		int log = 0, done = 0, rc;
		while (!k->pending && !k->stop)
			pthread_cond_wait(&k->wake, &k->lock);
		if (k->stop)
			break;
		k->pending = false;
		pthread_mutex_unlock(&k->lock);
		rc = sqlite3_wal_checkpoint_v2(k->conn.db, "main",
					       SQLITE_CHECKPOINT_PASSIVE, &log,
					       &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			nmd_log(&s->ctx, NOMAD_LOG_WARN, "state",
				"background checkpoint failed: %s",
				sqlite3_errmsg(k->conn.db));
		pthread_mutex_lock(&k->lock);
		k->finished = rc == SQLITE_OK;
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/* Called by SQLite after each commit on the writer, with the WAL's size.
 * When the thread has copied back what the WAL held, the writer copies
 * the few frames committed since: with nothing left to copy, its next
 * transaction starts the WAL over from the beginning instead of letting
 * it grow. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	nomad_state *s = arg;
	struct nmd_checkpointer *k = s->checkpointer;
	bool take_tail;
	pthread_mutex_lock(&k->lock);
	take_tail = k->finished;
	k->finished = false;
	if (!take_tail && (unsigned)frames >= s->checkpoint_pages &&
	    !k->pending) {
		k->pending = true;
		pthread_cond_signal(&k->wake);
	}
	pthread_mutex_unlock(&k->lock);
	if (take_tail ||
	    (unsigned)frames / HARD_FACTOR >= s->checkpoint_pages)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
	return SQLITE_OK;
}

nomad_err nmd_checkpointer_start(nomad_state *s, nomad_error *err)
{
	struct nmd_checkpointer *k = nmd_calloc(s->ctx.alloc, 1, sizeof(*k));
	nomad_err rc;
	if (!k)
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	if ((rc = nmd_conn_open(s, &k->conn, 1, false, err)) < 0) {
		nmd_free(s->ctx.alloc, k);
		return rc;
	}
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->wake, NULL);
	s->checkpointer = k;
	if (pthread_create(&k->thread, NULL, run, s) != 0) {
		s->checkpointer = NULL;
		nmd_conn_close(&k->conn);
		pthread_mutex_destroy(&k->lock);
		pthread_cond_destroy(&k->wake);
		nmd_free(s->ctx.alloc, k);
		/* Not fatal: SQLite checkpoints in the commit instead. */
		nmd_log(&s->ctx, NOMAD_LOG_WARN, "state",
			"no checkpoint thread; checkpointing on commit");
		return NOMAD_OK;
	}
	sqlite3_wal_hook(s->writer.db, wal_hook, s);
	return NOMAD_OK;
}

void nmd_checkpointer_stop(nomad_state *s)
{
	struct nmd_checkpointer *k = s->checkpointer;
	if (!k)
		return;
	if (s->writer.db)
		sqlite3_wal_autocheckpoint(s->writer.db, 1000); /* SQLite's own */
	pthread_mutex_lock(&k->lock);
	k->stop = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	nmd_conn_close(&k->conn);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->wake);
	nmd_free(s->ctx.alloc, k);
	s->checkpointer = NULL;
}
