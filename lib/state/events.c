/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The event stream: what a write transaction records with nmd_txn_event,
 * the bounded buffer of committed batches, and the subscribers that pull
 * from it (Nomad's nomad/stream: EventBroker, eventBuffer, Subscription).
 *
 * A transaction appends its events to an arena of its own, payloads
 * packed as protobuf, so recording costs a pack and a few copies and no
 * allocation per event. On commit the arena becomes one batch, which the
 * buffer keeps in a ring of the last `cap` batches. Subscribers read by
 * batch sequence number; each holds a reference on the batch it is
 * reading, so the event it was handed stays valid when the ring drops that
 * batch, and decodes payloads only when it reads them: writers never
 * decode, and no subscriber pays for another's.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* One commit's events. */
struct nmd_ev_batch {
	uint64_t index;
	uint64_t seq;
	unsigned refs;             /* the ring's and subscribers'; under lock */
	struct nmd_ev_rec *recs;
	size_t n;
	char *arena;
};

struct nmd_events {
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* a batch was published, or a notify ended */
	unsigned cap;
	struct nmd_ev_batch **ring; /* ring[seq % cap], seq in [first, next) */
	uint64_t first_seq, next_seq;
	uint64_t dropped_index;    /* index of the newest batch dropped, or 0 */
	nomad_state_sub *subs;
	size_t n_ready;            /* subscribers with a ready callback */
	unsigned notifying;        /* threads calling ready callbacks */
};

struct nomad_state_sub {
	nomad_state *s;
	nomad_state_sub *prev, *next;
	nomad_state_sub_ready_cb cb;
	void *userdata;

	/* The filter, copied: topics[i]/keys[i] point into `strings`. */
	char *strings;
	const char **topics, **keys;
	size_t n_topics;
	const char *ns;            /* NULL: every namespace */

	uint64_t min_index;        /* skip batches below it */
	uint64_t seq;              /* the batch to read after `cur` */
	uint64_t want_index;       /* for messages: the next index wanted */
	struct nmd_ev_batch *cur;  /* the batch being read; a reference */
	size_t pos;                /* next record of `cur` */

	const char *closed;        /* why it ended (a restore), or NULL */

	nomad_state_event ev;      /* what sub_next hands out */
	const char **fk;           /* ev.filter_keys */
	size_t fk_cap;
	ProtobufCMessage *payload; /* ev.payload, decoded */
};

/* ---- recording, in the write transaction ---------------------------------- */

static size_t put_str(struct nmd_buf *b, const char *s)
{
	size_t off = b->len;
	if (!s)
		s = "";
	nmd_buf_append(b, s, strlen(s) + 1);
	return off;
}

/* Make `msg` r's payload, packed straight into the arena: no copy in
 * between. Out of memory leaves b->oom set. */
static void pack_payload(struct nmd_buf *b, struct nmd_ev_rec *r,
			 const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	if (!nmd_buf_reserve(b, len))
		return;
	r->body = b->len;
	r->body_len = protobuf_c_message_pack(msg, (uint8_t *)b->data + b->len);
	b->len += r->body_len;
	b->data[b->len] = '\0';
	r->desc = msg->descriptor;
}

/* Record an event whose payload is `msg` or, when msg is NULL, the
 * already packed `body` of type `desc` (or nothing when desc is NULL). */
static nomad_err record(nomad_state_txn *txn, const char *topic,
			const char *type, const char *key, const char *ns,
			const char *const *filter_keys, size_t n_filter,
			const ProtobufCMessage *msg,
			const ProtobufCMessageDescriptor *desc,
			const void *body, size_t len, nomad_error *err)
{
	struct nmd_txn_events *ev = &txn->ev;
	struct nmd_buf *b = &ev->arena;
	struct nmd_ev_rec *r;

	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 16;
		void *p = nmd_reallocarray(txn->s->ctx.alloc, ev->recs, cap,
					   sizeof(*ev->recs));
		if (!p) {
			ev->oom = true;
			return nmd_seterr(err, NOMAD_ENOMEM,
					  "state: out of memory");
		}
		ev->recs = p;
		ev->cap = cap;
	}
	r = &ev->recs[ev->n];
	memset(r, 0, sizeof(*r));
	r->topic = put_str(b, topic);
	r->type = put_str(b, ev->type ? ev->type : type);
	r->key = put_str(b, key);
	r->ns = put_str(b, ns);
	r->filter = b->len;
	for (size_t i = 0; i < n_filter; i++)
		if (filter_keys[i] && filter_keys[i][0]) {
			put_str(b, filter_keys[i]);
			r->n_filter++;
		}
	if (msg) {
		pack_payload(b, r, msg);
	} else if (desc) {
		r->body = b->len;
		r->body_len = len;
		r->desc = desc;
		nmd_buf_append(b, body, len);
	}
	if (b->oom)
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	ev->n++;
	return NOMAD_OK;
}

nomad_err nmd_txn_event(nomad_state_txn *txn, const char *topic,
			const char *type, const char *key, const char *ns,
			const char *const *filter_keys, size_t n_filter,
			const ProtobufCMessage *payload, nomad_error *err)
{
	return record(txn, topic, type, key, ns, filter_keys, n_filter,
		      payload, NULL, NULL, 0, err);
}

nomad_err nmd_txn_event_final(nomad_state_txn *txn, const char *topic,
			      const char *type, const char *key,
			      const char *ns, const char *const *filter_keys,
			      size_t n_filter, const ProtobufCMessage *payload,
			      nomad_error *err)
{
	struct nmd_txn_events *ev = &txn->ev;
	const char *a = ev->arena.data;
	/* The newest record of the object, if any: it is the one a later
	 * subscriber would otherwise see last. A transaction records few
	 * events of a topic, and this runs only when an object is written
	 * twice (a job whose status moves at commit), so a scan will do. */
	for (size_t i = ev->n; i-- > 0;) {
		struct nmd_ev_rec *r = &ev->recs[i];
		if (strcmp(a + r->topic, topic) != 0 ||
		    strcmp(a + r->key, key ? key : "") != 0 ||
		    strcmp(a + r->ns, ns ? ns : "") != 0)
			continue;
		/* Its type and filter keys stay; the old payload's bytes stay
		 * in the arena, unused, until the batch goes. */
		r->body = r->body_len = 0;
		r->desc = NULL;
		if (payload)
			pack_payload(&ev->arena, r, payload);
		if (ev->arena.oom)
			return nmd_seterr(err, NOMAD_ENOMEM,
					  "state: out of memory");
		return NOMAD_OK;
	}
	return record(txn, topic, type, key, ns, filter_keys, n_filter,
		      payload, NULL, NULL, 0, err);
}

nomad_err nmd_txn_event_packed(nomad_state_txn *txn, const char *topic,
			       const char *type, const char *key,
			       const char *ns, const char *const *filter_keys,
			       size_t n_filter,
			       const ProtobufCMessageDescriptor *desc,
			       const void *body, size_t len, nomad_error *err)
{
	return record(txn, topic, type, key, ns, filter_keys, n_filter, NULL,
		      desc, body, len, err);
}

/* ---- the buffer ------------------------------------------------------------ */

nomad_err nmd_events_open(nomad_state *s, unsigned int buffer,
			  nomad_error *err)
{
	struct nmd_events *e = nmd_calloc(s->ctx.alloc, 1, sizeof(*e));
	pthread_condattr_t ca;
	if (!e)
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	e->cap = buffer ? buffer : 100;
	if (!(e->ring = nmd_calloc(s->ctx.alloc, e->cap, sizeof(*e->ring)))) {
		nmd_free(s->ctx.alloc, e);
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	}
	e->first_seq = e->next_seq = 1;
	pthread_mutex_init(&e->lock, NULL);
	/* Waits measure time on the monotonic clock, deaf to clock jumps. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->events = e;
	return NOMAD_OK;
}

static void batch_unref(nomad_state *s, struct nmd_ev_batch *b)
{
	if (!b || --b->refs)
		return;
	nmd_free(s->ctx.alloc, b->recs);
	nmd_free(s->ctx.alloc, b->arena);
	nmd_free(s->ctx.alloc, b);
}

void nmd_events_close(nomad_state *s)
{
	struct nmd_events *e = s->events;
	if (!e)
		return;
	/* Subscriptions should be closed first; free what they left. */
	while (e->subs)
		nomad_state_sub_close(e->subs);
	for (uint64_t q = e->first_seq; q < e->next_seq; q++)
		batch_unref(s, e->ring[q % e->cap]);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	nmd_free(s->ctx.alloc, e->ring);
	nmd_free(s->ctx.alloc, e);
	s->events = NULL;
}

void nmd_txn_changes_free(nomad_state_txn *txn)
{
	const nomad_allocator *a = txn->s->ctx.alloc;
	nmd_free(a, txn->ev.recs);
	nmd_buf_free(&txn->ev.arena);
	nmd_free(a, txn->keys.recs);
	memset(&txn->ev, 0, sizeof(txn->ev));
	memset(&txn->keys, 0, sizeof(txn->keys));
}

bool nmd_events_publish(nomad_state_txn *txn)
{
	nomad_state *s = txn->s;
	struct nmd_events *e = s->events;
	struct nmd_ev_batch *b;
	size_t len, cap;
	bool ready;

	if (!txn->ev.n)
		return false;
	/* Out of memory here is the one loss that cannot fail the commit
	 * any more: the batch is dropped, and so that nobody misses it
	 * silently the subscriptions end and older indexes are refused. */
	cap = txn->ev.arena.cap;
	if (!(b = nmd_calloc(s->ctx.alloc, 1, sizeof(*b))) ||
	    !(b->arena = nmd_buf_steal(&txn->ev.arena, &len))) {
		nmd_free(s->ctx.alloc, b);
		pthread_mutex_lock(&e->lock);
		e->dropped_index = txn->index;
		for (nomad_state_sub *sub = e->subs; sub; sub = sub->next)
			sub->closed = "events were lost to out of memory";
		pthread_cond_broadcast(&e->cond);
		pthread_mutex_unlock(&e->lock);
		nmd_log(&s->ctx, NOMAD_LOG_ERROR, "state",
			"out of memory: events of index %llu dropped",
			(unsigned long long)txn->index);
		return false;
	}
	b->index = txn->index;
	b->recs = txn->ev.recs;
	b->n = txn->ev.n;
	b->refs = 1;
	/* The buffer holds a hundred of these: give back the slack the
	 * doubling left (up to half of each). Failing to shrink is fine. */
	if (txn->ev.cap > b->n + b->n / 8) {
		void *p = nmd_reallocarray(s->ctx.alloc, b->recs, b->n,
					   sizeof(*b->recs));
		if (p)
			b->recs = p;
	}
	if (len + 1 < cap - cap / 8) {
		void *p = nmd_realloc(s->ctx.alloc, b->arena, len + 1);
		if (p)
			b->arena = p;
	}
	txn->ev.recs = NULL;
	txn->ev.n = txn->ev.cap = 0;

	pthread_mutex_lock(&e->lock);
	if (e->next_seq - e->first_seq == e->cap) {
		struct nmd_ev_batch *old = e->ring[e->first_seq % e->cap];
		e->dropped_index = old->index;
		e->first_seq++;
		batch_unref(s, old);
	}
	b->seq = e->next_seq++;
	e->ring[b->seq % e->cap] = b;
	ready = e->n_ready > 0;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	return ready;
}

void nmd_events_restored(nomad_state *s)
{
	struct nmd_events *e = s->events;
	pthread_mutex_lock(&e->lock);
	for (; e->first_seq < e->next_seq; e->first_seq++)
		batch_unref(s, e->ring[e->first_seq % e->cap]);
	/* Nothing at or below the restored index can be replayed. */
	e->dropped_index = s->last_index;
	for (nomad_state_sub *sub = e->subs; sub; sub = sub->next)
		sub->closed = "the store was restored from a snapshot";
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

void nmd_events_notify(nomad_state *s, uint64_t index)
{
	struct nmd_events *e = s->events;
	struct call {
		nomad_state_sub *sub;
		nomad_state_sub_ready_cb cb;
		void *ud;
	} *calls;
	size_t n = 0;

	pthread_mutex_lock(&e->lock);
	if (!e->n_ready ||
	    !(calls = nmd_calloc(s->ctx.alloc, e->n_ready, sizeof(*calls)))) {
		pthread_mutex_unlock(&e->lock);
		return;
	}
	for (nomad_state_sub *sub = e->subs; sub; sub = sub->next)
		if (sub->cb)
			calls[n++] = (struct call){sub, sub->cb, sub->userdata};
	/* sub_close waits while notifying is nonzero, so the subscriptions
	 * called below stay alive with no lock held during the calls. */
	e->notifying++;
	pthread_mutex_unlock(&e->lock);
	for (size_t i = 0; i < n; i++)
		calls[i].cb(calls[i].sub, index, calls[i].ud);
	pthread_mutex_lock(&e->lock);
	e->notifying--;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	nmd_free(s->ctx.alloc, calls);
}

/* ---- subscriptions --------------------------------------------------------- */

/* Copy the filter into one block of strings. */
static nomad_err copy_filter(nomad_state_sub *sub,
			     const nomad_state_subscribe_options *o,
			     nomad_error *err)
{
	const nomad_allocator *a = sub->s->ctx.alloc;
	struct nmd_buf b;
	size_t *offs;
	const char *ns = !o ? "*" : o->ns ? o->ns : "default";
	size_t n = o ? o->n_topics : 0;

	nmd_buf_init(&b, a);
	if (!(offs = nmd_calloc(a, 2 * n + 1, sizeof(*offs))))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	for (size_t i = 0; i < n; i++) {
		const nomad_state_topic_filter *f = &o->topics[i];
		offs[2 * i] = put_str(&b, f->topic ? f->topic : "*");
		offs[2 * i + 1] = put_str(&b, f->key ? f->key : "*");
	}
	offs[2 * n] = put_str(&b, ns);
	sub->strings = nmd_buf_steal(&b, NULL);
	if (n) {
		sub->topics = nmd_calloc(a, n, sizeof(*sub->topics));
		sub->keys = nmd_calloc(a, n, sizeof(*sub->keys));
	}
	if (!sub->strings || (n && (!sub->topics || !sub->keys))) {
		nmd_free(a, offs);
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		sub->topics[i] = sub->strings + offs[2 * i];
		sub->keys[i] = sub->strings + offs[2 * i + 1];
	}
	sub->n_topics = n;
	sub->ns = strcmp(ns, "*") ? sub->strings + offs[2 * n] : NULL;
	nmd_free(a, offs);
	return NOMAD_OK;
}

/* Where a subscription from `index` starts; under lock. */
static nomad_err start_at(nomad_state_sub *sub, uint64_t index,
			  nomad_error *err)
{
	struct nmd_events *e = sub->s->events;
	sub->seq = e->first_seq;
	sub->min_index = index;
	sub->want_index = index;
	if (index && e->dropped_index >= index) {
		uint64_t oldest = e->first_seq < e->next_seq
				  ? e->ring[e->first_seq % e->cap]->index
				  : e->dropped_index + 1;
		return nmd_seterr(err, NOMAD_ERANGE,
				  "state: index %llu is older than the oldest "
				  "buffered event %llu",
				  (unsigned long long)index,
				  (unsigned long long)oldest);
	}
	/* Batches are in index order: skip those below `index` now. */
	while (sub->seq < e->next_seq &&
	       e->ring[sub->seq % e->cap]->index < index)
		sub->seq++;
	return NOMAD_OK;
}

static void sub_free(nomad_state_sub *sub)
{
	const nomad_allocator *a = sub->s->ctx.alloc;
	nmd_pb_free(sub->payload, NMD_STATE_MSG_ALLOC);
	nmd_free(a, sub->fk);
	nmd_free(a, sub->topics);
	nmd_free(a, sub->keys);
	nmd_free(a, sub->strings);
	nmd_free(a, sub);
}

nomad_err nomad_state_subscribe(nomad_state *s,
				const nomad_state_subscribe_options *opts,
				nomad_state_sub_ready_cb cb, void *userdata,
				nomad_state_sub **out, nomad_error *err)
{
	struct nmd_events *e;
	nomad_state_sub *sub;
	nomad_err rc;

	if (!out)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no output");
	*out = NULL;
	if (!s || !s->events)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no store");
	if (opts && opts->version != NOMAD_STATE_SUBSCRIBE_OPTIONS_VERSION)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: unknown subscribe options version");
	if (opts && opts->n_topics && !opts->topics)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no topics");
	e = s->events;
	if (!(sub = nmd_calloc(s->ctx.alloc, 1, sizeof(*sub))))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	sub->s = s;
	sub->cb = cb;
	sub->userdata = userdata;
	if ((rc = copy_filter(sub, opts, err)) < 0) {
		sub_free(sub);
		return rc;
	}
	pthread_mutex_lock(&e->lock);
	if ((rc = start_at(sub, opts ? opts->index : 0, err)) < 0) {
		pthread_mutex_unlock(&e->lock);
		sub_free(sub);
		return rc;
	}
	sub->next = e->subs;
	if (e->subs)
		e->subs->prev = sub;
	e->subs = sub;
	if (cb)
		e->n_ready++;
	pthread_mutex_unlock(&e->lock);
	*out = sub;
	return NOMAD_OK;
}

void nomad_state_sub_close(nomad_state_sub *sub)
{
	struct nmd_events *e;
	if (!sub)
		return;
	e = sub->s->events;
	pthread_mutex_lock(&e->lock);
	while (e->notifying)
		pthread_cond_wait(&e->cond, &e->lock);
	if (sub->prev)
		sub->prev->next = sub->next;
	else
		e->subs = sub->next;
	if (sub->next)
		sub->next->prev = sub->prev;
	if (sub->cb)
		e->n_ready--;
	batch_unref(sub->s, sub->cur);
	pthread_mutex_unlock(&e->lock);
	sub_free(sub);
}

/* Whether record `r` of arena `a` passes the filter (Nomad's
 * stream.filter: namespace, then topic and key or filter key). */
static bool matches(const nomad_state_sub *sub, const char *a,
		    const struct nmd_ev_rec *r)
{
	const char *ns = a + r->ns, *topic = a + r->topic, *key = a + r->key;
	if (sub->ns && ns[0] && strcmp(ns, sub->ns) != 0)
		return false;
	if (!sub->n_topics)
		return true;
	for (size_t i = 0; i < sub->n_topics; i++) {
		const char *fk = a + r->filter;
		if (strcmp(sub->topics[i], "*") && strcmp(sub->topics[i], topic))
			continue;
		if (!strcmp(sub->keys[i], "*") || !strcmp(sub->keys[i], key))
			return true;
		for (size_t j = 0; j < r->n_filter; j++, fk += strlen(fk) + 1)
			if (!strcmp(sub->keys[i], fk))
				return true;
	}
	return false;
}

/* Point sub->ev at record `r` of the current batch; outside the lock
 * (the batch is referenced, and records never change). */
static nomad_err fill_event(nomad_state_sub *sub, const struct nmd_ev_rec *r,
			    nomad_error *err)
{
	const char *a = sub->cur->arena;
	const char *fk = a + r->filter;
	nomad_err rc;

	if (r->n_filter > sub->fk_cap) {
		void *p = nmd_reallocarray(sub->s->ctx.alloc, sub->fk,
					   r->n_filter, sizeof(*sub->fk));
		if (!p)
			return nmd_seterr(err, NOMAD_ENOMEM,
					  "state: out of memory");
		sub->fk = p;
		sub->fk_cap = r->n_filter;
	}
	for (size_t j = 0; j < r->n_filter; j++, fk += strlen(fk) + 1)
		sub->fk[j] = fk;
	sub->ev = (nomad_state_event){
		.topic = a + r->topic,
		.type = a + r->type,
		.key = a + r->key,
		.ns = a + r->ns,
		.filter_keys = sub->fk,
		.n_filter_keys = r->n_filter,
		.index = sub->cur->index,
	};
	if (r->desc) {
		rc = nomad_msg_unpack(&sub->payload, r->desc,
				      (const uint8_t *)a + r->body,
				      r->body_len, NMD_STATE_MSG_ALLOC, err);
		if (rc < 0)
			return rc;
		sub->ev.payload = sub->payload;
	}
	return NOMAD_OK;
}

/* Wait on the buffer's condition until `deadline` (NULL: forever); under
 * lock. False when the deadline passed. */
static bool wait_until(struct nmd_events *e, const struct timespec *deadline)
{
	if (!deadline) {
		pthread_cond_wait(&e->cond, &e->lock);
		return true;
	}
	return pthread_cond_timedwait(&e->cond, &e->lock, deadline) != ETIMEDOUT;
}

/* The next record for `sub` from the buffer, under lock: NOMAD_OK with
 * *r set, NOMAD_ETIMEDOUT when nothing is there, NOMAD_ERANGE. */
static nomad_err next_rec(nomad_state_sub *sub, const struct nmd_ev_rec **r,
			  nomad_error *err)
{
	struct nmd_events *e = sub->s->events;
	if (sub->closed)
		return nmd_seterr(err, NOMAD_ERANGE,
				  "state: subscription closed: %s; subscribe "
				  "again", sub->closed);
	for (;;) {
		if (sub->cur) {
			while (sub->pos < sub->cur->n) {
				const struct nmd_ev_rec *c =
					&sub->cur->recs[sub->pos++];
				if (matches(sub, sub->cur->arena, c)) {
					*r = c;
					return NOMAD_OK;
				}
			}
			sub->want_index = sub->cur->index + 1;
			batch_unref(sub->s, sub->cur);
			sub->cur = NULL;
		}
		if (sub->seq < e->first_seq) {
			uint64_t oldest = e->ring[e->first_seq % e->cap]->index;
			return nmd_seterr(err, NOMAD_ERANGE,
					  "state: subscriber fell behind: index "
					  "%llu is older than the oldest "
					  "buffered event %llu",
					  (unsigned long long)sub->want_index,
					  (unsigned long long)oldest);
		}
		if (sub->seq == e->next_seq)
			return NOMAD_ETIMEDOUT;
		sub->cur = e->ring[sub->seq % e->cap];
		sub->cur->refs++;
		sub->seq++;
		sub->pos = sub->cur->index < sub->min_index ? sub->cur->n : 0;
	}
}

nomad_err nomad_state_sub_next(nomad_state_sub *sub, int64_t timeout_ms,
			       const nomad_state_event **out,
			       nomad_error *err)
{
	struct nmd_events *e;
	const struct nmd_ev_rec *r = NULL;
	struct timespec deadline;
	nomad_err rc;

	if (!sub || !out)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no subscription");
	*out = NULL;
	nmd_pb_free(sub->payload, NMD_STATE_MSG_ALLOC);
	sub->payload = NULL;
	if (timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += (time_t)(timeout_ms / 1000);
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	e = sub->s->events;
	pthread_mutex_lock(&e->lock);
	while ((rc = next_rec(sub, &r, err)) == NOMAD_ETIMEDOUT && timeout_ms)
		if (!wait_until(e, timeout_ms > 0 ? &deadline : NULL)) {
			/* One last look: the wake-up may have raced the
			 * deadline. */
			rc = next_rec(sub, &r, err);
			break;
		}
	pthread_mutex_unlock(&e->lock);
	if (rc == NOMAD_ETIMEDOUT)
		return nmd_seterr(err, NOMAD_ETIMEDOUT,
				  "state: no event within %lld ms",
				  (long long)timeout_ms);
	if (rc < 0)
		return rc;
	if ((rc = fill_event(sub, r, err)) < 0)
		return rc == NOMAD_ENOMEM ? rc : NOMAD_ECORRUPT;
	*out = &sub->ev;
	return NOMAD_OK;
}
