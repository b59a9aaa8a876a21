/* SPDX-License-Identifier: BSD-3-Clause */
/* The connection table: creation, expiry and reclaim (see conn.h for the design). */
#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp.h"
#include "rcu.h"

/*
 * Rings of entry numbers. Free entries, one ring per worker's slice: the
 * control thread puts, workers take (the slice's own worker, and any whose
 * slice is empty: a tenant whose flows all land on one worker is held to its
 * limit, not to that worker's slice); a ring holds at most its slice, so it
 * never overflows. Withdrawn entries: one DPDK ring for the table, any worker
 * puts (rarely: a clash, a full index), the control thread takes; it holds
 * at most every entry.
 */
struct conn_ring {
	uint32_t head __rte_cache_aligned; /* control writes */
	uint32_t tail __rte_cache_aligned; /* the worker writes */
	uint32_t mask;
	uint32_t idx[];
};

/* Entries out of the index, to go back to their rings once readers passed the token. */
struct conn_limbo {
	uint32_t cap, head, n;
	uint64_t *token;
	uint32_t *idx;
};

static void ring_put(struct conn_ring *r, uint32_t v)
{
	uint32_t h = r->head;

	__atomic_store_n(&r->idx[h & r->mask], v, __ATOMIC_RELAXED);
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
}

/*
 * Takes an entry number; several threads may (a CAS on the tail). A number
 * read from a slot another thread took meanwhile is dropped with the failed
 * CAS: the producer writes a slot again only after the tail passed it.
 */
static bool ring_take(struct conn_ring *r, uint32_t *v)
{
	/* Acquire: the head read after it is no older than this tail (weakly ordered CPUs). */
	uint32_t t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	do {
		if ((int32_t)(__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - t) <= 0)
			return false;
		*v = __atomic_load_n(&r->idx[t & r->mask], __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(&r->tail, &t, t + 1, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return true;
}

void conn_timeouts_default(struct conn_timeouts *to)
{
	/* RFC 5382 (TCP 2 h 4 min, transitory 4 min), RFC 4787 (UDP >= 2 min), RFC 5508 (ICMP). */
	static const uint32_t def[CONN_N_STATES] = {
		[CONN_TCP_SYN] = 240,   [CONN_TCP_EST] = 7440, [CONN_TCP_CLOSING] = 240,
		[CONN_UDP_SINGLE] = 30, [CONN_UDP_BOTH] = 300, [CONN_ICMP] = 60,
		[CONN_OTHER] = 600,
	};

	memcpy(to->sec, def, sizeof(def));
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static struct conn_ring *ring_alloc(uint32_t sz, int socket)
{
	struct conn_ring *r = rte_zmalloc_socket("conn_ring", sizeof(*r) + sz * sizeof(uint32_t),
						 RTE_CACHE_LINE_SIZE, socket);

	if (r)
		r->mask = sz - 1;
	return r;
}

static int alloc_rings(struct conn_table *t, int socket)
{
	static unsigned seq; /* DPDK rings' names are unique (tables come and go) */
	uint32_t sz = pow2_at_least(t->slice);
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "conn_gone%u", __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	t->gone = rte_ring_create_elem(name, sizeof(uint32_t), t->capacity, socket,
				       RING_F_SC_DEQ | RING_F_EXACT_SZ);
	t->ring = calloc(t->workers, sizeof(*t->ring));
	if (t->ring == NULL || t->gone == NULL)
		return -ENOMEM;
	for (unsigned w = 0; w < t->workers; w++) {
		t->ring[w] = ring_alloc(sz, socket);
		if (t->ring[w] == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < t->slice; i++) {
			uint32_t idx = w * t->slice + i;

			t->e[idx].worker = (uint8_t)w;
			ring_put(t->ring[w], idx);
		}
	}
	return 0;
}

static int alloc_limbo(struct conn_table *t)
{
	t->limbo = calloc(1, sizeof(*t->limbo));
	if (t->limbo == NULL)
		return -ENOMEM;
	t->limbo->cap = t->capacity;
	t->limbo->token = malloc(sizeof(uint64_t) * t->capacity);
	t->limbo->idx = malloc(sizeof(uint32_t) * t->capacity);
	return t->limbo->token && t->limbo->idx ? 0 : -ENOMEM;
}

struct conn_table *conn_create(const struct conn_params *p)
{
	struct conn_table *t;
	uint32_t buckets;
	int rc;

	if (p->workers == 0 || p->workers > 256 || p->capacity < p->workers ||
	    p->capacity >= (1u << 30) || p->owners == 0 || p->owners > 65536) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", p->name ? p->name : "conn");
	t->workers = p->workers;
	t->slice = p->capacity / p->workers;
	t->capacity = t->slice * p->workers;
	t->owners = p->owners;
	t->tsc_hz = p->tsc_hz ? p->tsc_hz : rte_get_tsc_hz();
	t->keep = p->keep;
	t->keep_arg = p->keep_arg;
	/* Two slots per entry at most 50% full: lookups rarely scan past a bucket's first hits. */
	buckets = pow2_at_least(((uint64_t)t->capacity * 2 * 2 + CONN_BUCKET - 1) / CONN_BUCKET);
	t->bmask = buckets - 1;
	t->e = rte_zmalloc_socket(t->name, sizeof(*t->e) * t->capacity, RTE_CACHE_LINE_SIZE,
				  p->socket);
	t->slot = rte_zmalloc_socket("conn_index", sizeof(uint64_t) * CONN_BUCKET * buckets,
				     RTE_CACHE_LINE_SIZE, p->socket);
	t->owner = rte_zmalloc_socket("conn_owner", sizeof(*t->owner) * t->owners,
				      RTE_CACHE_LINE_SIZE, p->socket);
	t->ws = rte_zmalloc_socket("conn_ws", sizeof(*t->ws) * t->workers, RTE_CACHE_LINE_SIZE,
				   p->socket);
	if (t->e == NULL || t->slot == NULL || t->owner == NULL || t->ws == NULL) {
		conn_destroy(t);
		errno = ENOMEM;
		return NULL;
	}
	/* The hash key from the kernel's generator: tuples cannot be chosen to collide. */
	rc = getrandom(t->hkey, sizeof(t->hkey), 0) == sizeof(t->hkey) ? 0 : -EIO;
	if (rc == 0)
		rc = alloc_rings(t, p->socket);
	if (rc == 0)
		rc = alloc_limbo(t);
	if (rc < 0) {
		conn_destroy(t);
		errno = -rc;
		return NULL;
	}
	return t;
}

void conn_destroy(struct conn_table *t)
{
	if (t == NULL)
		return;
	for (unsigned w = 0; w < t->workers && t->ring; w++)
		rte_free(t->ring[w]);
	free(t->ring);
	rte_ring_free(t->gone);
	if (t->limbo) {
		free(t->limbo->token);
		free(t->limbo->idx);
		free(t->limbo);
	}
	rte_free(t->e);
	rte_free(t->slot);
	rte_free(t->owner);
	rte_free(t->ws);
	free(t);
}

int conn_owner_set(struct conn_table *t, unsigned owner, uint32_t limit,
		   const struct conn_timeouts *to)
{
	struct conn_timeouts def;
	struct conn_owner *o;

	if (owner >= t->owners)
		return -EINVAL;
	conn_timeouts_default(&def);
	o = &t->owner[owner];
	for (int s = 0; s < CONN_N_STATES; s++) {
		uint32_t sec = to && to->sec[s] ? to->sec[s] : def.sec[s];

		__atomic_store_n(&o->to_tsc[s], (uint64_t)sec * t->tsc_hz, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&o->limit, limit, __ATOMIC_RELAXED);
	return 0;
}

/* The index word of entry idx in direction dir, under hash h (its low half: the signature). */
static uint64_t slot_value(uint64_t h, uint32_t idx, int dir)
{
	return ((uint64_t)(uint32_t)h << 32) | (uint32_t)(idx * 2 + dir + 1);
}

static unsigned bucket_used(const uint64_t *b)
{
	unsigned n = 0;

	for (int i = 0; i < CONN_BUCKET; i++)
		n += __atomic_load_n(&b[i], __ATOMIC_RELAXED) != 0;
	return n;
}

/*
 * Into the less loaded of the two buckets (the other if it fills
 * meanwhile): filling the first one first overflowed pairs at 77% of the
 * capacity with random hashes; two choices keep every pair below 8+8.
 */
static bool slot_insert(struct conn_table *t, uint64_t h, uint64_t v)
{
	uint64_t *b[2] = { &t->slot[(size_t)conn_bucket(t, h, 0) * CONN_BUCKET],
			   &t->slot[(size_t)conn_bucket(t, h, 1) * CONN_BUCKET] };
	int first = bucket_used(b[1]) < bucket_used(b[0]);

	for (int w = 0; w < 2; w++) {
		uint64_t *bk = b[w ^ first];

		for (int i = 0; i < CONN_BUCKET; i++) {
			uint64_t zero = 0;

			if (__atomic_load_n(&bk[i], __ATOMIC_RELAXED) != 0)
				continue;
			/* seq_cst: the duplicate scan after it must see, or be seen by, a rival. */
			if (__atomic_compare_exchange_n(&bk[i], &zero, v, false, __ATOMIC_SEQ_CST,
							__ATOMIC_RELAXED))
				return true;
		}
	}
	return false;
}

static void slot_delete(struct conn_table *t, uint64_t h, uint64_t v)
{
	for (int w = 0; w < 2; w++) {
		uint64_t *b = &t->slot[(size_t)conn_bucket(t, h, w) * CONN_BUCKET];

		for (int i = 0; i < CONN_BUCKET; i++) {
			uint64_t exp = v;

			if (__atomic_compare_exchange_n(&b[i], &exp, 0, false, __ATOMIC_RELEASE,
							__ATOMIC_RELAXED))
				return;
		}
	}
}

/* Whether tuple k's buckets have a free slot now (a creation that would fail takes no entry). */
static bool has_room(const struct conn_table *t, uint64_t h)
{
	for (int w = 0; w < 2; w++) {
		const uint64_t *b = &t->slot[(size_t)conn_bucket(t, h, w) * CONN_BUCKET];

		for (int i = 0; i < CONN_BUCKET; i++)
			if (__atomic_load_n(&b[i], __ATOMIC_RELAXED) == 0)
				return true;
	}
	return false;
}

static int n_keys(const struct conn_entry *e)
{
	return e->flags & CONN_F_ONEWAY ? 1 : 2;
}

/* Takes e's tuples out of the index. */
static void unindex(struct conn_table *t, struct conn_entry *e, int keys)
{
	uint32_t idx = (uint32_t)(e - t->e);

	for (int d = 0; d < keys; d++) {
		uint64_t h = conn_hash(t, &e->key[d]);

		slot_delete(t, h, slot_value(h, idx, d));
	}
}

/* Whether another entry than idx, live or being published (NEW), holds tuple k. */
static bool rival(const struct conn_table *t, const struct conn_tuple *k, uint64_t h, uint32_t idx)
{
	for (int w = 0; w < 2; w++) {
		const uint64_t *b = &t->slot[(size_t)conn_bucket(t, h, w) * CONN_BUCKET];

		for (int i = 0; i < CONN_BUCKET; i++) {
			uint64_t v = __atomic_load_n(&b[i], __ATOMIC_SEQ_CST);
			struct conn_entry *e;
			uint8_t live;
			int d;

			if (v == 0 || (uint32_t)(v >> 32) != (uint32_t)h)
				continue;
			e = conn_slot_entry(t, v, &d);
			if ((uint32_t)(e - t->e) == idx || !conn_tuple_eq(&e->key[d], k))
				continue;
			live = __atomic_load_n(&e->live, __ATOMIC_ACQUIRE);
			if (live == CONN_LIVE || live == CONN_NEW)
				return true;
		}
	}
	return false;
}

/* Publishes e's tuples (hashes h); on failure takes out what it put in and says why. */
static int publish(struct conn_table *t, struct conn_entry *e, const uint64_t h[2])
{
	uint32_t idx = (uint32_t)(e - t->e);
	int keys = n_keys(e), done;

	for (done = 0; done < keys; done++)
		if (!slot_insert(t, h[done], slot_value(h[done], idx, done))) {
			unindex(t, e, done);
			return -ENOSPC;
		}
	/* After our seq_cst CAS: of two racing creators, at least one sees the other. */
	for (int d = 0; d < keys; d++)
		if (rival(t, &e->key[d], h[d], idx)) {
			unindex(t, e, keys);
			return -EEXIST;
		}
	return 0;
}

static bool owner_take(struct conn_owner *o)
{
	uint32_t c = __atomic_fetch_add(&o->count, 1, __ATOMIC_RELAXED);

	if (c < __atomic_load_n(&o->limit, __ATOMIC_RELAXED))
		return true;
	__atomic_fetch_sub(&o->count, 1, __ATOMIC_RELAXED);
	return false;
}

/*
 * A free entry for worker: from its slice, or, that empty, from the next
 * worker's that has one (counted: borrowed). It goes back to its own slice.
 */
static bool take_entry(struct conn_table *t, unsigned worker, uint32_t *idx)
{
	if (likely(ring_take(t->ring[worker], idx)))
		return true;
	for (unsigned k = 1; k < t->workers; k++)
		if (ring_take(t->ring[(worker + k) % t->workers], idx)) {
			dp_cnt_add(&t->ws[worker].borrowed, 1);
			return true;
		}
	return false;
}

struct conn_entry *conn_new(struct conn_table *t, unsigned worker, uint16_t owner, uint8_t flags,
			    const struct conn_tuple *orig, const struct conn_tuple *reply,
			    const uint64_t user[2], uint8_t tcp_flags, uint64_t now, int *err)
{
	struct conn_wstats *ws = &t->ws[worker];
	struct conn_entry *e;
	uint64_t h[2];
	uint32_t idx;
	int rc;

	if (owner >= t->owners || !owner_take(&t->owner[owner])) {
		dp_cnt_add(&ws->tenant_limit, 1);
		*err = -EDQUOT;
		return NULL;
	}
	h[CONN_ORIG] = conn_hash(t, orig);
	h[CONN_REPLY] = flags & CONN_F_ONEWAY ? h[CONN_ORIG] : conn_hash(t, reply);
	if (!has_room(t, h[CONN_ORIG]) || !has_room(t, h[CONN_REPLY]) ||
	    !take_entry(t, worker, &idx)) {
		__atomic_fetch_sub(&t->owner[owner].count, 1, __ATOMIC_RELAXED);
		dp_cnt_add(&ws->table_full, 1);
		*err = -ENOSPC;
		return NULL;
	}
	e = &t->e[idx];
	e->key[CONN_ORIG] = *orig;
	e->key[CONN_REPLY] = flags & CONN_F_ONEWAY ? *orig : *reply;
	e->owner = owner;
	e->flags = flags;
	e->seen = 0;
	e->user16 = 0;
	e->user[0] = user ? user[0] : 0;
	e->user[1] = user ? user[1] : 0;
	e->last = now;
	conn_hit(e, CONN_ORIG, tcp_flags, now);
	/* NEW until published: no control path touches it before it is whole in the index. */
	__atomic_store_n(&e->live, CONN_NEW, __ATOMIC_RELEASE);
	rc = publish(t, e, h);
	if (rc < 0) {
		/*
		 * Readers may hold it: the next conn_expire gives it back after a grace
		 * period. Its owner stays charged until then, so withdrawals cannot
		 * drain the slice past the owner's limit.
		 */
		__atomic_store_n(&e->live, CONN_DYING, __ATOMIC_RELEASE);
		rte_ring_mp_enqueue_elem(t->gone, &idx, sizeof(idx)); /* room for every entry */
		dp_cnt_add(rc == -EEXIST ? &ws->clash : &ws->table_full, 1);
		*err = rc;
		return NULL;
	}
	__atomic_store_n(&e->live, CONN_LIVE, __ATOMIC_RELEASE);
	dp_cnt_add(&ws->created, 1);
	return e;
}

/*
 * Out of the index already: back to its ring once readers passed the
 * token that seal_limbo gives it, taken after the entry left the index.
 */
static void to_limbo(struct conn_table *t, struct conn_entry *e)
{
	struct conn_limbo *l = t->limbo;
	uint32_t at = (l->head + l->n) % l->cap;

	__atomic_fetch_sub(&t->owner[e->owner].count, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->live, CONN_FREE, __ATOMIC_RELEASE);
	l->idx[at] = (uint32_t)(e - t->e);
	l->n++;
}

/* Gives the entries put in limbo since it held `before` a grace-period token. */
static void seal_limbo(struct conn_table *t, uint32_t before)
{
	struct conn_limbo *l = t->limbo;
	uint64_t token;

	if (l->n == before)
		return;
	token = dp_rcu_qsv ? rte_rcu_qsbr_start(dp_rcu_qsv) : 0;
	for (uint32_t i = before; i < l->n; i++)
		l->token[(l->head + i) % l->cap] = token;
}

static void reclaim(struct conn_table *t)
{
	struct conn_limbo *l = t->limbo;

	while (l->n) {
		if (dp_rcu_qsv && !rte_rcu_qsbr_check(dp_rcu_qsv, l->token[l->head], false))
			break;
		uint32_t idx = l->idx[l->head];

		ring_put(t->ring[t->e[idx].worker], idx);
		l->head = (l->head + 1) % l->cap;
		l->n--;
	}
}

/* Takes the entries workers withdrew (a clash, a full index) to limbo. */
static void withdrawn(struct conn_table *t)
{
	uint32_t idx;

	while (rte_ring_sc_dequeue_elem(t->gone, &idx, sizeof(idx)) == 0)
		to_limbo(t, &t->e[idx]);
}

/* Withdrawn entries not taken yet (still counted by their owners). */
static uint32_t n_withdrawn(const struct conn_table *t)
{
	return rte_ring_count(t->gone);
}

enum conn_state conn_state_of(const struct conn_entry *e)
{
	uint8_t s = __atomic_load_n(&e->seen, __ATOMIC_RELAXED);

	switch (e->key[CONN_ORIG].proto) {
	case 6:
		if ((s & CONN_SEEN_RST) || (s & (CONN_SEEN_FIN_ORIG | CONN_SEEN_FIN_REPLY)) ==
						   (CONN_SEEN_FIN_ORIG | CONN_SEEN_FIN_REPLY))
			return CONN_TCP_CLOSING;
		if ((s & (CONN_SEEN_SYN_ORIG | CONN_SEEN_SYN_REPLY)) ==
		    (CONN_SEEN_SYN_ORIG | CONN_SEEN_SYN_REPLY))
			return CONN_TCP_EST;
		return CONN_TCP_SYN;
	case 17:
		return s & CONN_SEEN_REPLY ? CONN_UDP_BOTH : CONN_UDP_SINGLE;
	case 1:
		return CONN_ICMP;
	default:
		return CONN_OTHER;
	}
}

const char *conn_state_name(enum conn_state s)
{
	static const char *const names[CONN_N_STATES] = {
		"syn", "established", "closing", "single", "both", "icmp", "other",
	};

	return (unsigned)s < CONN_N_STATES ? names[s] : "?";
}

static uint64_t timeout_of(const struct conn_table *t, const struct conn_entry *e)
{
	if (e->flags & CONN_F_BRIEF)
		return CONN_BRIEF_SEC * t->tsc_hz;
	return __atomic_load_n(&t->owner[e->owner].to_tsc[conn_state_of(e)], __ATOMIC_RELAXED);
}

uint64_t conn_expires_in(const struct conn_table *t, const struct conn_entry *e, uint64_t now)
{
	int64_t idle = (int64_t)(now - __atomic_load_n(&e->last, __ATOMIC_RELAXED));
	uint64_t to = timeout_of(t, e);

	if (idle < 0)
		idle = 0;
	return (uint64_t)idle >= to ? 0 : (to - (uint64_t)idle) / t->tsc_hz;
}

/* Control: takes a live entry for removal (only the control thread moves one out of LIVE). */
static bool claim(struct conn_entry *e)
{
	uint8_t live = CONN_LIVE;

	return __atomic_compare_exchange_n(&e->live, &live, CONN_DYING, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

/* Whether e is due now; *killed: whether by conn_kill (the one read of the flag). */
static bool is_due(const struct conn_table *t, struct conn_entry *e, uint64_t now, bool *killed)
{
	int64_t idle = (int64_t)(now - __atomic_load_n(&e->last, __ATOMIC_RELAXED));

	*killed = __atomic_load_n(&e->seen, __ATOMIC_RELAXED) & CONN_SEEN_KILL;
	if (*killed)
		return true;
	return idle > 0 && (uint64_t)idle > timeout_of(t, e);
}

unsigned conn_expire(struct conn_table *t, uint64_t now, uint32_t n)
{
	uint32_t before;
	unsigned expired = 0;

	reclaim(t);
	before = t->limbo->n;
	withdrawn(t);
	if (n > t->capacity)
		n = t->capacity;
	for (uint32_t i = 0; i < n; i++) {
		struct conn_entry *e = &t->e[t->cursor];
		uint8_t live = __atomic_load_n(&e->live, __ATOMIC_ACQUIRE);
		bool killed;

		t->cursor = t->cursor + 1 == t->capacity ? 0 : t->cursor + 1;
		/* FREE, NEW (its creator's until published), DYING (withdrawn): not ours. */
		if (live != CONN_LIVE || !is_due(t, e, now, &killed))
			continue;
		/* killed read once: a conn_kill racing us must not get keep called twice. */
		if (!killed && t->keep && t->keep(t->keep_arg, e, false)) {
			__atomic_store_n(&e->last, now, __ATOMIC_RELAXED);
			continue;
		}
		if (!claim(e))
			continue;
		unindex(t, e, n_keys(e));
		if (killed && t->keep)
			t->keep(t->keep_arg, e, true);
		expired++;
		to_limbo(t, e);
	}
	seal_limbo(t, before);
	t->expired += expired;
	return expired;
}

void conn_remove(struct conn_table *t, struct conn_entry *e)
{
	uint32_t before;

	/* Never a NEW entry: its creator is still publishing it and would count it out again. */
	if (!claim(e))
		return;
	before = t->limbo->n;

	unindex(t, e, n_keys(e));
	if (t->keep)
		t->keep(t->keep_arg, e, true);
	to_limbo(t, e);
	seal_limbo(t, before);
	t->removed++;
}

unsigned conn_flush_owner(struct conn_table *t, unsigned owner)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < t->capacity; i++) {
		struct conn_entry *e = &t->e[i];

		/* live first: its acquire makes the owner read the one its creator published. */
		if (__atomic_load_n(&e->live, __ATOMIC_ACQUIRE) == CONN_LIVE && e->owner == owner) {
			conn_remove(t, e);
			n++;
		}
	}
	return n;
}

int conn_foreach(struct conn_table *t, int (*fn)(void *arg, struct conn_entry *e), void *arg)
{
	for (uint32_t i = 0; i < t->capacity; i++) {
		struct conn_entry *e = &t->e[i];
		int rc;

		if (__atomic_load_n(&e->live, __ATOMIC_ACQUIRE) != CONN_LIVE)
			continue;
		rc = fn(arg, e);
		if (rc)
			return rc;
	}
	return 0;
}

void conn_stats_get(const struct conn_table *t, struct conn_stats *st)
{
	uint64_t pending;

	memset(st, 0, sizeof(*st));
	for (unsigned w = 0; w < t->workers; w++) {
		st->created += dp_cnt_read(&t->ws[w].created);
		st->table_full += dp_cnt_read(&t->ws[w].table_full);
		st->tenant_limit += dp_cnt_read(&t->ws[w].tenant_limit);
		st->clash += dp_cnt_read(&t->ws[w].clash);
		st->borrowed += dp_cnt_read(&t->ws[w].borrowed);
	}
	for (unsigned o = 0; o < t->owners; o++)
		st->live += conn_owner_count(t, o);
	pending = n_withdrawn(t);
	st->live = st->live > pending ? st->live - pending : 0;
	st->expired = t->expired;
	st->removed = t->removed;
}
