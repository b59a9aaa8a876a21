/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbours (ARP) of every VRF: (VRF, IPv4) -> MAC and interface. Workers
 * read the MAC (valid while reachable, stale or being probed) and note use;
 * the control thread resolves, ages and probes (incomplete -> reachable ->
 * stale -> probe -> failed), holds a bounded queue of packets per
 * unresolved neighbour, and enforces the per-VRF limit.
 */
#ifndef TESS_NEIGH_H
#define TESS_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "lf_table.h"

#define NEIGH_MAC_VALID (UINT64_C(1) << 63)
#define NEIGH_MAX_QUEUE 256
#define NEIGH_VRFS      4096

enum neigh_state {
	NEIGH_INCOMPLETE, /* asked, no answer yet: packets wait */
	NEIGH_REACHABLE,
	NEIGH_STALE,  /* usable; checked again when next used */
	NEIGH_PROBE,  /* usable while unicast requests check it */
	NEIGH_FAILED, /* no answer: ICMP host unreachable for a while */
	NEIGH_STATIC,
};

struct neigh {
	uint64_t mac;  /* NEIGH_MAC_VALID | MAC (low 48 bits) while usable; atomic */
	uint64_t used; /* TSC of the last use by a worker, refreshed at most once a second */
	uint16_t iface;
	uint16_t vrf;
	uint32_t ip; /* host order */
	/* control thread */
	uint8_t state;
	uint8_t tries;
	uint16_t n_queued;
	bool live;
	uint64_t since; /* TSC of the last state change or request sent */
	struct rte_mbuf **queue;
};

struct neigh_stats {
	uint64_t created, resolved, failed, aged, refused_limit, queue_full;
};

struct neigh_table {
	struct lf_table t;
	/*
	 * Hints (datapath): per slot, the entry a reader last found for it, which
	 * readers check (neigh_hint) instead of hashing the key again. The router
	 * keeps one per next-hop group, for its gateway.
	 */
	struct neigh **hint;
	uint32_t per_vrf[NEIGH_VRFS];
	uint32_t held, held_max; /* packets waiting, of all neighbours (mbufs are shared) */
	uint32_t held_vrf_max;   /* ... of one VRF's: none takes them all */
	uint32_t held_vrf[NEIGH_VRFS];
	struct neigh_stats stats;
};

static inline uint64_t neigh_key(uint16_t vrf, uint32_t ip)
{
	return (uint64_t)vrf << 32 | ip;
}

/* Datapath: the entry for (vrf, ip), or NULL. */
static inline struct neigh *neigh_find(const struct neigh_table *n, uint16_t vrf, uint32_t ip)
{
	return lf_find(&n->t, neigh_key(vrf, ip));
}

/*
 * Datapath: hint slot's entry if it is the usable entry of (vrf, ip), else
 * NULL (look it up). Sound because a deleted entry's MAC is made invalid
 * before its key goes, an element is reused only after a grace period, and
 * a reused one's MAC becomes valid (release) only once it is filled: a valid
 * MAC read first (acquire) comes with the vrf and ip of the entry it is for.
 */
static inline struct neigh *neigh_hint(const struct neigh_table *n, uint32_t slot, uint16_t vrf,
				       uint32_t ip)
{
	struct neigh *e = __atomic_load_n(&n->hint[slot], __ATOMIC_RELAXED);

	if (e == NULL || !(__atomic_load_n(&e->mac, __ATOMIC_ACQUIRE) & NEIGH_MAC_VALID) ||
	    __atomic_load_n(&e->vrf, __ATOMIC_RELAXED) != vrf ||
	    __atomic_load_n(&e->ip, __ATOMIC_RELAXED) != ip)
		return NULL;
	return e;
}

/* Datapath: slot's entry, unchecked (NULL: none), to prefetch it before neigh_hint. */
static inline const struct neigh *neigh_hint_peek(const struct neigh_table *n, uint32_t slot)
{
	return __atomic_load_n(&n->hint[slot], __ATOMIC_RELAXED);
}

/* Datapath: remembers e (found for slot by its key) for the next neigh_hint. */
static inline void neigh_hint_set(const struct neigh_table *n, uint32_t slot, struct neigh *e)
{
	__atomic_store_n(&n->hint[slot], e, __ATOMIC_RELAXED);
}

static inline void neigh_touch(struct neigh *e, uint64_t now, uint64_t hz)
{
	if (now - __atomic_load_n(&e->used, __ATOMIC_RELAXED) > hz)
		__atomic_store_n(&e->used, now, __ATOMIC_RELAXED);
}

/* ---- control thread ---- */

/* capacity entries, and hints slots of neigh_hint (0: none, and no neigh_hint calls). */
int neigh_init(struct neigh_table *n, uint32_t capacity, uint32_t hints, int socket);
void neigh_fini(struct neigh_table *n);
/* A new entry (state given), unless the VRF is at limit or the table full: NULL, errno. */
struct neigh *neigh_create(struct neigh_table *n, uint16_t vrf, uint32_t ip, uint16_t iface,
			   uint8_t state, uint32_t limit, uint64_t now);
/* Makes it usable with mac (state: reachable or static). */
void neigh_set_mac(struct neigh *e, const struct rte_ether_addr *mac, uint8_t state, uint64_t now);
/* Not usable any more (failed), MAC kept for display. */
void neigh_fail(struct neigh *e, uint64_t now);
void neigh_delete(struct neigh_table *n, struct neigh *e);
/*
 * Queues a packet for an unresolved neighbour; false (not taken) when its
 * queue has max already, its VRF's held_vrf_max, or all neighbours together
 * hold held_max.
 */
bool neigh_hold(struct neigh_table *n, struct neigh *e, struct rte_mbuf *m, uint32_t max);

/* How long e has been in its state at now: 0 if its state began after now (a timer tick
 * carries a time taken before the packets handled in the same turn, which may have set it). */
static inline uint64_t neigh_age(const struct neigh *e, uint64_t now)
{
	return now > e->since ? now - e->since : 0;
}

/* Hands back the packets held for e (up to NEIGH_MAX_QUEUE into out); how many. */
uint16_t neigh_unhold(struct neigh_table *n, struct neigh *e, struct rte_mbuf **out);
void neigh_walk(struct neigh_table *n, void (*fn)(struct neigh *e, void *arg), void *arg);
void neigh_mac(const struct neigh *e, struct rte_ether_addr *mac);

const char *neigh_state_name(uint8_t state);

#endif
