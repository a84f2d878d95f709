/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Blocking queries: watches that wait on a libevent loop for a table, or
 * one key of it, to move past an index (Nomad's blockingRPC over memdb
 * watch sets).
 *
 * A waiting watch is a libevent event with a timer, linked into one of two
 * places: the list of its table (key NULL) or a hash table of key waiters
 * chained by the key's 64-bit hash. A commit marks what it touched
 * (nmd_touch, nmd_touch_key); at commit the store walks only the lists of
 * those tables and the chains of those keys, and activates the watches
 * whose index it passes with event_active(), so waiting costs nothing and
 * thousands of waiters cost nothing per commit that does not concern them.
 * The callback then runs on the loop thread.
 *
 * To answer "has this key already moved past N?" when a watch is
 * registered (a write may land between the caller's read and its watch),
 * the store remembers each changed key's last index in a map of hashes,
 * in two generations so that its size stays bounded: when the newer one
 * fills, the older one is dropped.
 */
#include <string.h>

#include <event2/event.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/state_int.h"

/* Keys remembered per generation of the key-index map. */
#define KEYS_PER_GEN 65536u

enum { W_WAITING, W_FIRED, W_DONE };

struct nomad_state_watcher {
	nomad_state *s;
	struct event *ev;
	nomad_state_table table;
	bool keyed;
	uint64_t hash;
	uint64_t min_index;
	nomad_state_watch_cb cb;
	void *userdata;
	/* In a table list or a key chain: *pprev points at this watch. */
	nomad_state_watcher *next, **pprev;
	int state;             /* under the watches' lock */
	uint64_t fired_index;
};

/* One generation of key -> last index, open addressing on the hash (0
 * marks an empty slot; hashes are never 0). */
struct keygen {
	uint64_t *hash, *index;
	size_t slots, n;
};

struct nmd_watches {
	pthread_mutex_t lock;
	uint64_t table_index[NOMAD_TABLE_COUNT_];
	nomad_state_watcher *tables[NOMAD_TABLE_COUNT_];
	nomad_state_watcher **chains;  /* by hash & (n_chains - 1) */
	size_t n_chains, n_keyed;
	struct keygen gen[2];        /* gen[cur] new, gen[!cur] old */
	int cur;
};

/* ---- key hashes -------------------------------------------------------------- */

/* FNV-1a over the pieces, as if joined, then a splitmix64 finish so the
 * low bits (the slot) mix. */
static uint64_t fnv(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

static uint64_t finish(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h ? h : 1;
}

static uint64_t key_hash(nomad_state_table t, const char *key)
{
	return finish(fnv(1469598103934665603ull ^ (uint64_t)t, key));
}

static void add_key(nomad_state_txn *txn, nomad_state_table t, uint64_t h)
{
	struct nmd_txn_keys *k = &txn->keys;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		void *p = nmd_reallocarray(txn->s->ctx.alloc, k->recs, cap,
					   sizeof(*k->recs));
		if (!p) {
			/* Commit then wakes every watch of the table. */
			k->oom = true;
			return;
		}
		k->recs = p;
		k->cap = cap;
	}
	k->recs[k->n++] = (struct nmd_key_rec){h, t};
}

void nmd_touch_key(nomad_state_txn *txn, nomad_state_table t,
		   const char *key)
{
	txn->touched[t] = true;
	if (key)
		add_key(txn, t, key_hash(t, key));
}

void nmd_touch_job_key(nomad_state_txn *txn, nomad_state_table t,
		       const char *ns, const char *id)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)t;
	txn->touched[t] = true;
	if (!id)
		return;
	h = fnv(h, ns && ns[0] ? ns : "default");
	h = fnv(h, "/");
	add_key(txn, t, finish(fnv(h, id)));
}

/* ---- the key-index map ------------------------------------------------------- */

static uint64_t *gen_find(const struct keygen *g, uint64_t h)
{
	if (!g->slots)
		return NULL;
	for (size_t i = h & (g->slots - 1);; i = (i + 1) & (g->slots - 1)) {
		if (g->hash[i] == h)
			return &g->index[i];
		if (!g->hash[i])
			return NULL;
	}
}

static bool gen_grow(nomad_state *s, struct keygen *g)
{
	size_t slots = g->slots ? g->slots * 2 : 1024;
	uint64_t *hash = nmd_calloc(s->ctx.alloc, slots, sizeof(*hash));
	uint64_t *index = nmd_calloc(s->ctx.alloc, slots, sizeof(*index));
	if (!hash || !index) {
		nmd_free(s->ctx.alloc, hash);
		nmd_free(s->ctx.alloc, index);
		return false;
	}
	for (size_t i = 0; i < g->slots; i++) {
		size_t j;
		if (!g->hash[i])
			continue;
		for (j = g->hash[i] & (slots - 1); hash[j]; j = (j + 1) & (slots - 1))
			;
		hash[j] = g->hash[i];
		index[j] = g->index[i];
	}
	nmd_free(s->ctx.alloc, g->hash);
	nmd_free(s->ctx.alloc, g->index);
	g->hash = hash;
	g->index = index;
	g->slots = slots;
	return true;
}

static void gen_clear(struct keygen *g)
{
	if (g->slots) {
		memset(g->hash, 0, g->slots * sizeof(*g->hash));
		g->n = 0;
	}
}

/* Remember that key `h` changed at `index`; under lock. */
static void key_put(nomad_state *s, struct nmd_watches *w, uint64_t h,
		    uint64_t index)
{
	struct keygen *g = &w->gen[w->cur];
	uint64_t *slot = gen_find(g, h);
	size_t i;
	if (slot) {
		*slot = index;
		return;
	}
	if (g->n >= KEYS_PER_GEN) {
		/* The newer generation is full: it becomes the older one,
		 * and the keys only the older one held are forgotten. */
		w->cur = !w->cur;
		g = &w->gen[w->cur];
		gen_clear(g);
	}
	if ((g->n + 1) * 2 > g->slots && !gen_grow(s, g))
		return; /* forgotten: a watch on it just waits */
	for (i = h & (g->slots - 1); g->hash[i]; i = (i + 1) & (g->slots - 1))
		;
	g->hash[i] = h;
	g->index[i] = index;
	g->n++;
}

/* The last index key `h` changed at, 0 if not remembered; under lock. */
static uint64_t key_index(const struct nmd_watches *w, uint64_t h)
{
	const uint64_t *v = gen_find(&w->gen[w->cur], h);
	if (!v)
		v = gen_find(&w->gen[!w->cur], h);
	return v ? *v : 0;
}

/* ---- open and close ------------------------------------------------------------ */

static nomad_err load_table_indexes(nomad_state *s, nomad_error *err)
{
	static const char sql[] = "SELECT t, idx FROM table_index";
	sqlite3_stmt *st = nmd_stmt(&s->writer, sql, err);
	int rc;
	if (!st)
		return NOMAD_EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int t = sqlite3_column_int(st, 0);
		if (t >= 0 && t < NOMAD_TABLE_COUNT_)
			s->watches->table_index[t] =
				(uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? NOMAD_OK
				 : nmd_sqlite_fail(&s->writer, err, "read indexes");
}

nomad_err nmd_watch_open(nomad_state *s, nomad_error *err)
{
	struct nmd_watches *w = nmd_calloc(s->ctx.alloc, 1, sizeof(*w));
	if (!w)
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	pthread_mutex_init(&w->lock, NULL);
	s->watches = w;
	return load_table_indexes(s, err);
}

static void unlink_watch(struct nmd_watches *ws, nomad_state_watcher *w)
{
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	w->next = NULL;
	w->pprev = NULL;
	if (w->keyed)
		ws->n_keyed--;
}

void nmd_watch_close(nomad_state *s)
{
	struct nmd_watches *ws = s->watches;
	if (!ws)
		return;
	/* Watches should be gone by now; free any left (safe only when their
	 * loops are not running, as nomad_state_watch_cancel says). */
	for (int t = 0; t < NOMAD_TABLE_COUNT_; t++)
		while (ws->tables[t])
			nomad_state_watch_cancel(ws->tables[t]);
	for (size_t i = 0; i < ws->n_chains; i++)
		while (ws->chains[i])
			nomad_state_watch_cancel(ws->chains[i]);
	for (int g = 0; g < 2; g++) {
		nmd_free(s->ctx.alloc, ws->gen[g].hash);
		nmd_free(s->ctx.alloc, ws->gen[g].index);
	}
	nmd_free(s->ctx.alloc, ws->chains);
	pthread_mutex_destroy(&ws->lock);
	nmd_free(s->ctx.alloc, ws);
	s->watches = NULL;
}

/* ---- waking -------------------------------------------------------------------- */

/* Mark `w` fired at `index` and wake its loop; under lock. */
static void fire(struct nmd_watches *ws, nomad_state_watcher *w, uint64_t index)
{
	unlink_watch(ws, w);
	w->state = W_FIRED;
	w->fired_index = index;
	event_active(w->ev, EV_READ, 0);
}

/* Fire the watches of list *head that `index` passes (and, with
 * `hash` nonzero, that wait on that key of table `t`). */
static void wake_list(struct nmd_watches *ws, nomad_state_watcher **head,
		      nomad_state_table t, uint64_t hash, uint64_t index)
{
	nomad_state_watcher *w = *head, *next;
	for (; w; w = next) {
		next = w->next;
		if (hash && (w->hash != hash || w->table != t))
			continue;
		if (index > w->min_index)
			fire(ws, w, index);
	}
}

void nmd_watch_publish(nomad_state_txn *txn)
{
	nomad_state *s = txn->s;
	struct nmd_watches *ws = s->watches;
	const struct nmd_txn_keys *k = &txn->keys;
	uint64_t index = txn->index;

	pthread_mutex_lock(&ws->lock);
	for (int t = 0; t < NOMAD_TABLE_COUNT_; t++) {
		if (!txn->touched[t])
			continue;
		ws->table_index[t] = index;
		wake_list(ws, &ws->tables[t], (nomad_state_table)t, 0, index);
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct nmd_key_rec *r = &k->recs[i];
		key_put(s, ws, r->hash, index);
		if (ws->n_keyed)
			wake_list(ws, &ws->chains[r->hash & (ws->n_chains - 1)],
				  r->table, r->hash, index);
	}
	/* A key was lost to out of memory: wake every key watch of the
	 * tables touched; they re-read and wait again. */
	for (size_t i = 0; k->oom && i < ws->n_chains; i++) {
		nomad_state_watcher *w = ws->chains[i], *next;
		for (; w; w = next) {
			next = w->next;
			if (txn->touched[w->table] && index > w->min_index)
				fire(ws, w, index);
		}
	}
	pthread_mutex_unlock(&ws->lock);
}

void nmd_changes_restored(nomad_state *s)
{
	struct nmd_watches *ws = s->watches;
	nmd_events_restored(s);
	pthread_mutex_lock(&ws->lock);
	memset(ws->table_index, 0, sizeof(ws->table_index));
	if (load_table_indexes(s, NULL) < 0)
		nmd_log(&s->ctx, NOMAD_LOG_WARN, "state",
			"watch: cannot read table indexes after restore");
	gen_clear(&ws->gen[0]);
	gen_clear(&ws->gen[1]);
	/* Anything may have changed: every waiter re-reads. */
	for (int t = 0; t < NOMAD_TABLE_COUNT_; t++)
		while (ws->tables[t])
			fire(ws, ws->tables[t], ws->table_index[t]);
	for (size_t i = 0; i < ws->n_chains; i++)
		while (ws->chains[i])
			fire(ws, ws->chains[i],
			     ws->table_index[ws->chains[i]->table]);
	pthread_mutex_unlock(&ws->lock);
}

/* The watch's event: a commit activated it, or its timer ran out. */
static void watch_event(evutil_socket_t fd, short what, void *arg)
{
	nomad_state_watcher *w = arg;
	struct nmd_watches *ws = w->s->watches;
	nomad_state_watch_cb cb = w->cb;
	void *ud = w->userdata;
	nomad_err status = NOMAD_OK;
	uint64_t index;
	(void)fd;
	(void)what;

	pthread_mutex_lock(&ws->lock);
	if (w->state == W_WAITING) {
		/* The timer, with no commit in between to fire it. */
		unlink_watch(ws, w);
		status = NOMAD_ETIMEDOUT;
		index = ws->table_index[w->table];
	} else {
		index = w->fired_index;
	}
	w->state = W_DONE;
	pthread_mutex_unlock(&ws->lock);
	/* Freed before the call, so the callback may watch again at once. */
	event_free(w->ev);
	nmd_free(w->s->ctx.alloc, w);
	cb(status, index, ud);
}

/* ---- registering ---------------------------------------------------------------- */

/* Link a key watch into its chain, growing the chains past one waiter per
 * chain on average; under lock. */
static bool link_keyed(nomad_state *s, struct nmd_watches *ws,
		       nomad_state_watcher *w)
{
	nomad_state_watcher **head;
	if (ws->n_keyed + 1 > ws->n_chains) {
		size_t n = ws->n_chains ? ws->n_chains * 2 : 64;
		nomad_state_watcher **c = nmd_calloc(s->ctx.alloc, n, sizeof(*c));
		if (!c)
			return false;
		for (size_t i = 0; i < ws->n_chains; i++) {
			nomad_state_watcher *x = ws->chains[i], *next;
			for (; x; x = next) {
				next = x->next;
				head = &c[x->hash & (n - 1)];
				x->next = *head;
				x->pprev = head;
				if (*head)
					(*head)->pprev = &x->next;
				*head = x;
			}
		}
		nmd_free(s->ctx.alloc, ws->chains);
		ws->chains = c;
		ws->n_chains = n;
	}
	head = &ws->chains[w->hash & (ws->n_chains - 1)];
	w->next = *head;
	w->pprev = head;
	if (*head)
		(*head)->pprev = &w->next;
	*head = w;
	ws->n_keyed++;
	return true;
}

static void link_table(struct nmd_watches *ws, nomad_state_watcher *w)
{
	nomad_state_watcher **head = &ws->tables[w->table];
	w->next = *head;
	w->pprev = head;
	if (*head)
		(*head)->pprev = &w->next;
	*head = w;
}

nomad_err nomad_state_watch(nomad_state *s, struct event_base *base,
			    nomad_state_table table, const char *key,
			    uint64_t min_index, int64_t timeout_ms,
			    nomad_state_watch_cb cb, void *userdata,
			    nomad_state_watcher **out, nomad_error *err)
{
	struct nmd_watches *ws;
	nomad_state_watcher *w;
	uint64_t now;
	nomad_err rc = NOMAD_OK;

	if (out)
		*out = NULL;
	if (!s || !s->watches || !base || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: watch needs a store, a loop and a "
				  "callback");
	if ((unsigned)table >= NOMAD_TABLE_COUNT_)
		return nmd_seterr(err, NOMAD_EINVAL, "state: unknown table %d",
				  (int)table);
	ws = s->watches;
	if (!(w = nmd_calloc(s->ctx.alloc, 1, sizeof(*w))))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	w->s = s;
	w->table = table;
	w->keyed = key != NULL;
	w->hash = key ? key_hash(table, key) : 0;
	w->min_index = min_index;
	w->cb = cb;
	w->userdata = userdata;
	if (!(w->ev = event_new(base, -1, 0, watch_event, w))) {
		nmd_free(s->ctx.alloc, w);
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	}

	pthread_mutex_lock(&ws->lock);
	now = key ? key_index(ws, w->hash) : ws->table_index[table];
	if (now > min_index) {
		/* Already past: fire from the loop, never from here. */
		w->state = W_FIRED;
		w->fired_index = now;
		event_active(w->ev, EV_READ, 0);
	} else if (key && !link_keyed(s, ws, w)) {
		rc = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	} else {
		if (!key)
			link_table(ws, w);
		if (timeout_ms >= 0) {
			struct timeval tv = {
				.tv_sec = (time_t)(timeout_ms / 1000),
				.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000,
			};
			event_add(w->ev, &tv);
		}
	}
	pthread_mutex_unlock(&ws->lock);
	if (rc < 0) {
		event_free(w->ev);
		nmd_free(s->ctx.alloc, w);
		return rc;
	}
	if (out)
		*out = w;
	return NOMAD_OK;
}

void nomad_state_watch_cancel(nomad_state_watcher *w)
{
	struct nmd_watches *ws;
	if (!w)
		return;
	ws = w->s->watches;
	pthread_mutex_lock(&ws->lock);
	if (w->state == W_WAITING)
		unlink_watch(ws, w);
	w->state = W_DONE;
	pthread_mutex_unlock(&ws->lock);
	/* Removes a pending timer and a pending activation alike. */
	event_free(w->ev);
	nmd_free(w->s->ctx.alloc, w);
}
