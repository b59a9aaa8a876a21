/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A connection table for stateful services (NAT44, the firewall), in the
 * shape of Linux conntrack: an entry has an original tuple and a reply
 * tuple (for NAT, the translated one; for a firewall-only entry, the
 * reverse of the original), both hashed into one index, so looking up any
 * packet's tuple gives the entry and the direction it travels.
 *
 * Memory: one hugepage array of 64-byte entries (capacity fixed at
 * creation) and an index of 8-slot buckets (one cache line each), sized for
 * at most 50% load. An index slot is a 64-bit word (hash signature, entry
 * number and direction), so entries are published and withdrawn with one
 * compare-and-swap.
 *
 * Threads:
 *  - Workers look up without locks (conn_lookup), refresh an entry with
 *    relaxed stores (conn_hit) and create entries (conn_new) without
 *    contending: the entry array is cut into one slice per worker, each
 *    with its own free ring (the worker takes, the control thread gives
 *    back), and an entry is published by a CAS on a free index slot. A
 *    worker whose slice is empty borrows from another's (a CAS on that
 *    ring), so one tenant's flows landing on one worker are bounded by the
 *    tenant's limit, not the slice. Only the per-owner count is a shared
 *    atomic (one cache line per owner).
 *  - The control thread alone expires and removes entries (conn_expire, a
 *    slice of the array per call; conn_remove; conn_flush_owner). A removed
 *    entry leaves the index at once and goes back to its worker's ring only
 *    after an RCU grace period (dp_rcu_qsv), so a worker holding a pointer
 *    from a lookup in the current burst never sees it reused.
 *
 * Owners: every entry belongs to an owner (a tenant: a VRF, a NAT
 * instance) with its own limit of live entries and its own timeouts, so
 * one tenant cannot fill the table for others (CONN_LIMIT).
 *
 * Uniqueness: a tuple is in at most one live entry. conn_new publishes
 * (the entry is CONN_NEW meanwhile, which no control path touches), then
 * looks for another live or new entry holding one of its tuples, and if it
 * finds one withdraws (-EEXIST: a clash; its caller looks up again). Of
 * two workers creating the same tuple at once at least one sees the other
 * (seq_cst CAS and scan); both may withdraw, never both stay. A withdrawn
 * entry never reaches the keep callback.
 */
#ifndef TESS_CONN_H
#define TESS_CONN_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#define CONN_ORIG  0
#define CONN_REPLY 1

/* A packet's identity. Addresses and ports in network order, pad zero. */
struct conn_tuple {
	uint32_t src, dst;
	uint16_t sport, dport; /* ICMP query (echo...): both the query id */
	uint16_t vrf;
	uint8_t proto;
	uint8_t pad;
};

/* What conn_hit has seen (conn_entry.seen), from which the state follows. */
#define CONN_SEEN_REPLY     0x01 /* a packet in the reply direction */
#define CONN_SEEN_SYN_ORIG  0x02
#define CONN_SEEN_SYN_REPLY 0x04
#define CONN_SEEN_FIN_ORIG  0x08
#define CONN_SEEN_FIN_REPLY 0x10
#define CONN_SEEN_RST       0x20
#define CONN_SEEN_KILL      0x40 /* expire at the next scan (conn_kill) */

/* Entry life (conn_entry.live). */
#define CONN_FREE  0 /* in its worker's free ring or waiting for the grace period */
#define CONN_LIVE  1 /* in the index */
#define CONN_DYING 2 /* being removed, or withdrawn by its creator (until conn_expire) */
#define CONN_NEW   3 /* taken by a worker and being published: control paths leave it alone */

/* Entry flags (conn_entry.flags), set at creation. */
#define CONN_F_ONEWAY 0x01 /* only the original tuple is indexed (an internal record) */
#define CONN_F_BRIEF  0x02 /* expires CONN_BRIEF_SEC idle, whatever its state and owner */

/* A brief entry's idle life: a record that matters for seconds (NAT's of a fragmented
 * datagram) must not hold its owner's limit for a protocol's minutes. */
#define CONN_BRIEF_SEC 2

/* The states, derived from seen and the protocol. */
enum conn_state {
	CONN_TCP_SYN,     /* SYN seen one way (or mid-stream pickup): transitory */
	CONN_TCP_EST,     /* SYN seen both ways, not both FINs */
	CONN_TCP_CLOSING, /* FIN both ways, or RST: transitory */
	CONN_UDP_SINGLE,  /* packets one way only */
	CONN_UDP_BOTH,
	CONN_ICMP,
	CONN_OTHER,
	CONN_N_STATES
};

/* Idle timeouts per state in seconds (RFC 5382, 4787, 5508 defaults: conn_timeouts_default). */
struct conn_timeouts {
	uint32_t sec[CONN_N_STATES];
};

/* One connection; 64 bytes, cache aligned. */
struct conn_entry {
	struct conn_tuple key[2]; /* [CONN_ORIG], [CONN_REPLY] */
	uint64_t last;            /* TSC of the last packet either way (relaxed stores) */
	uint16_t owner;
	uint8_t seen; /* CONN_SEEN_* (atomic or) */
	uint8_t live; /* CONN_FREE/NEW/LIVE/DYING */
	uint8_t flags;
	uint8_t worker; /* whose slice it is in */
	uint16_t user16;
	uint64_t user[2]; /* the service's data, written before conn_new publishes */
} __rte_cache_aligned;

struct conn_owner {
	uint32_t
		count; /* entries held: live, and withdrawn until conn_expire takes them (atomic) */
	uint32_t limit; /* 0: creates nothing */
	uint64_t to_tsc[CONN_N_STATES];
} __rte_cache_aligned;

struct conn_ring; /* a worker's free ring (conn.c) */
struct rte_ring;

/* Counters of one worker (written by it alone) and of the control thread. */
struct conn_wstats {
	uint64_t created, table_full, tenant_limit, clash;
	uint64_t borrowed; /* entries taken from another worker's slice, its own empty */
} __rte_cache_aligned;

struct conn_stats {
	uint64_t live; /* in the index (withdrawn entries not counted) */
	uint64_t created, expired, removed, table_full, tenant_limit, clash, borrowed;
};

/*
 * Called by the control thread for an entry about to expire: a service
 * that keeps records (NAT mappings with sessions on them) returns true to
 * keep it (its last-seen time is then refreshed), and frees what the
 * entry held otherwise. Also called for conn_remove/conn_flush_owner with
 * forced true (the return is then ignored).
 */
typedef bool (*conn_keep_fn)(void *arg, struct conn_entry *e, bool forced);

struct conn_params {
	const char *name;
	uint32_t capacity; /* entries, at least workers and below 2^30 */
	unsigned workers;  /* slices: conn_new's worker is below this */
	unsigned owners;   /* owner ids are below this */
	int socket;
	uint64_t tsc_hz; /* to turn timeouts into TSC; rte_get_tsc_hz() if 0 */
	conn_keep_fn keep;
	void *keep_arg;
};

struct conn_table {
	struct conn_entry *e;
	uint64_t *slot; /* nbuckets * CONN_BUCKET */
	uint32_t bmask; /* buckets - 1 */
	uint32_t capacity;
	uint32_t slice; /* entries per worker */
	unsigned workers;
	unsigned owners;
	struct conn_owner *owner;
	struct conn_ring **ring; /* [workers] */
	struct rte_ring *gone;   /* withdrawn entries (uint32_t), for the control thread */
	struct conn_wstats *ws;  /* [workers] */
	uint64_t hkey[2];        /* conn_hash's key, random per table */
	/* Control thread only. */
	uint64_t tsc_hz;
	uint32_t cursor; /* where the next expiry slice starts */
	uint64_t expired, removed;
	struct conn_limbo *limbo; /* entries waiting for the grace period */
	conn_keep_fn keep;
	void *keep_arg;
	char name[32];
};

#define CONN_BUCKET 8

/* Control: the table, or NULL (errno set). */
struct conn_table *conn_create(const struct conn_params *p);
/* Control: frees everything; workers must be stopped or offline. */
void conn_destroy(struct conn_table *t);
/* The defaults: TCP established 7440 s, transitory 240, UDP 30 one way / 300, ICMP 60, other 600.
 */
void conn_timeouts_default(struct conn_timeouts *to);
/*
 * Control: an owner's limit of live entries and its timeouts (0 s: the
 * default). Lowering a limit below the count removes nothing: the owner
 * creates no more until below it. -EINVAL for an owner out of range.
 */
int conn_owner_set(struct conn_table *t, unsigned owner, uint32_t limit,
		   const struct conn_timeouts *to);
/*
 * The entries owner holds against its limit: its live ones, and those its
 * creations withdrew (a clash, a full index) until the next conn_expire.
 */
static inline uint32_t conn_owner_count(const struct conn_table *t, unsigned owner)
{
	return __atomic_load_n(&t->owner[owner].count, __ATOMIC_RELAXED);
}

/*
 * Control: runs the expiry over up to n entries from where the last call
 * stopped (a full scan takes capacity / n calls), and gives back to their
 * rings the entries whose grace period has passed; entries workers
 * withdrew since the last call start their grace period now. Returns how
 * many expired. now: TSC.
 */
unsigned conn_expire(struct conn_table *t, uint64_t now, uint32_t n);
/* Control: removes a live entry now (keep is called with forced). */
void conn_remove(struct conn_table *t, struct conn_entry *e);
/* Control: removes every entry of owner; returns how many. */
unsigned conn_flush_owner(struct conn_table *t, unsigned owner);
/* Control: fn(arg, e) for each live entry until fn returns nonzero (which it returns). */
int conn_foreach(struct conn_table *t, int (*fn)(void *arg, struct conn_entry *e), void *arg);
/* Control: the counters summed over workers. */
void conn_stats_get(const struct conn_table *t, struct conn_stats *st);
/* The state an entry is in (from its protocol and what was seen). */
enum conn_state conn_state_of(const struct conn_entry *e);
const char *conn_state_name(enum conn_state s);
/* Control: seconds until e expires at now (0 if due). */
uint64_t conn_expires_in(const struct conn_table *t, const struct conn_entry *e, uint64_t now);

/* Any thread: the reverse of a tuple (the reply tuple of a firewall-only entry). */
static inline struct conn_tuple conn_tuple_reverse(const struct conn_tuple *k)
{
	return (struct conn_tuple){ .src = k->dst,
				    .dst = k->src,
				    .sport = k->dport,
				    .dport = k->sport,
				    .vrf = k->vrf,
				    .proto = k->proto };
}

#define CONN_SIPROUND(v0, v1, v2, v3)                                                   \
	do {                                                                            \
		v0 += v1, v1 = v1 << 13 | v1 >> 51, v1 ^= v0, v0 = v0 << 32 | v0 >> 32; \
		v2 += v3, v3 = v3 << 16 | v3 >> 48, v3 ^= v2;                           \
		v0 += v3, v3 = v3 << 21 | v3 >> 43, v3 ^= v0;                           \
		v2 += v1, v1 = v1 << 17 | v1 >> 47, v1 ^= v2, v2 = v2 << 32 | v2 >> 32; \
	} while (0)

/*
 * SipHash-1-3 of a tuple under the table's random key: a tenant choosing
 * its tuples cannot aim them at one bucket pair (CRC32C, affine, has
 * collisions whatever its seed). The low 32 bits are the signature and
 * the first bucket, the high 32 the second bucket.
 */
static inline uint64_t conn_hash(const struct conn_table *t, const struct conn_tuple *k)
{
	const uint64_t *w = (const uint64_t *)k, fin = (uint64_t)sizeof(*k) << 56;
	uint64_t v0 = t->hkey[0] ^ 0x736f6d6570736575ull, v1 = t->hkey[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = t->hkey[0] ^ 0x6c7967656e657261ull, v3 = t->hkey[1] ^ 0x7465646279746573ull;

	v3 ^= w[0];
	CONN_SIPROUND(v0, v1, v2, v3);
	v0 ^= w[0];
	v3 ^= w[1];
	CONN_SIPROUND(v0, v1, v2, v3);
	v0 ^= w[1];
	v3 ^= fin;
	CONN_SIPROUND(v0, v1, v2, v3);
	v0 ^= fin;
	v2 ^= 0xff;
	CONN_SIPROUND(v0, v1, v2, v3);
	CONN_SIPROUND(v0, v1, v2, v3);
	CONN_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static inline bool conn_tuple_eq(const struct conn_tuple *a, const struct conn_tuple *b)
{
	const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;

	return x[0] == y[0] && x[1] == y[1];
}

/* The two buckets a hash may live in (from independent halves of it). */
static inline uint32_t conn_bucket(const struct conn_table *t, uint64_t h, int which)
{
	return (uint32_t)(which ? h >> 32 : h) & t->bmask;
}

static inline struct conn_entry *conn_slot_entry(const struct conn_table *t, uint64_t v, int *dir)
{
	uint32_t ref = (uint32_t)v - 1;

	*dir = ref & 1;
	return &t->e[ref >> 1];
}

/*
 * Datapath: starts loading both buckets of hash h (conn_hash). A large
 * table misses the cache on nearly every lookup; a stage that hashes a
 * whole burst first and prefetches makes those misses overlap.
 */
static inline void conn_prefetch(const struct conn_table *t, uint64_t h)
{
	rte_prefetch0(&t->slot[(size_t)conn_bucket(t, h, 0) * CONN_BUCKET]);
	rte_prefetch0(&t->slot[(size_t)conn_bucket(t, h, 1) * CONN_BUCKET]);
}

/* Datapath: conn_lookup of a tuple whose conn_hash is h already. */
static inline struct conn_entry *conn_lookup_h(const struct conn_table *t,
					       const struct conn_tuple *k, uint64_t h, int *dir)
{
	for (int w = 0; w < 2; w++) {
		const uint64_t *b = &t->slot[(size_t)conn_bucket(t, h, w) * CONN_BUCKET];

		for (int i = 0; i < CONN_BUCKET; i++) {
			uint64_t v = __atomic_load_n(&b[i], __ATOMIC_ACQUIRE);
			struct conn_entry *e;
			int d;

			if (v == 0 || (uint32_t)(v >> 32) != (uint32_t)h)
				continue;
			e = conn_slot_entry(t, v, &d);
			if (conn_tuple_eq(&e->key[d], k)) {
				*dir = d;
				return e;
			}
		}
	}
	return NULL;
}

/*
 * Datapath: the live entry with tuple k, and the direction (CONN_ORIG or
 * CONN_REPLY) k has in it; NULL if none. The pointer is good until the
 * worker's next quiescent state.
 */
static inline struct conn_entry *conn_lookup(const struct conn_table *t, const struct conn_tuple *k,
					     int *dir)
{
	return conn_lookup_h(t, k, conn_hash(t, k), dir);
}

/*
 * Datapath: a packet of e went in direction dir: refreshes it (now: TSC)
 * and records TCP flags (tcp_flags: the header's flag byte, 0 otherwise).
 * Stores only when something changes, so that a flow's cache line is not
 * written by every packet of a busy flow more than once per tick of now.
 */
static inline void conn_hit(struct conn_entry *e, int dir, uint8_t tcp_flags, uint64_t now)
{
	uint8_t add = dir == CONN_REPLY ? CONN_SEEN_REPLY : 0;

	if (tcp_flags & 0x02) /* SYN */
		add |= dir == CONN_REPLY ? CONN_SEEN_SYN_REPLY : CONN_SEEN_SYN_ORIG;
	if (tcp_flags & 0x01) /* FIN */
		add |= dir == CONN_REPLY ? CONN_SEEN_FIN_REPLY : CONN_SEEN_FIN_ORIG;
	if (tcp_flags & 0x04) /* RST */
		add |= CONN_SEEN_RST;
	if ((__atomic_load_n(&e->seen, __ATOMIC_RELAXED) & add) != add)
		__atomic_fetch_or(&e->seen, add, __ATOMIC_RELAXED);
	if (__atomic_load_n(&e->last, __ATOMIC_RELAXED) != now)
		__atomic_store_n(&e->last, now, __ATOMIC_RELAXED);
}

/* Datapath: e expires at the next scan (a TCP RST seen by a service that wants it gone). */
static inline void conn_kill(struct conn_entry *e)
{
	__atomic_fetch_or(&e->seen, CONN_SEEN_KILL, __ATOMIC_RELAXED);
}

/*
 * Datapath: creates an entry of owner from worker's slice with tuples
 * orig and reply (reply ignored with CONN_F_ONEWAY) and user data, seen
 * as a packet of orig at now (tcp_flags as for conn_hit), and publishes
 * it. Returns it, or NULL with *err: -ENOSPC (every slice or the index is
 * full: table_full), -EDQUOT (the owner's limit: tenant_limit),
 * -EEXIST (a live entry has one of the tuples already: clash; look up
 * again).
 */
struct conn_entry *conn_new(struct conn_table *t, unsigned worker, uint16_t owner, uint8_t flags,
			    const struct conn_tuple *orig, const struct conn_tuple *reply,
			    const uint64_t user[2], uint8_t tcp_flags, uint64_t now, int *err);

#endif
