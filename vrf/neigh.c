/* SPDX-License-Identifier: BSD-3-Clause */
#include "neigh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

static const char *const names[] = {
	[NEIGH_INCOMPLETE] = "incomplete", [NEIGH_REACHABLE] = "reachable",
	[NEIGH_STALE] = "stale",           [NEIGH_PROBE] = "probe",
	[NEIGH_FAILED] = "failed",         [NEIGH_STATIC] = "static",
};

const char *neigh_state_name(uint8_t state)
{
	return state < RTE_DIM(names) ? names[state] : "?";
}

int neigh_init(struct neigh_table *n, uint32_t capacity, uint32_t hints, int socket)
{
	memset(n, 0, sizeof(*n));
	/* Enough for bursts toward new neighbours, never enough to starve the ports of mbufs. */
	n->held_max = 4096;
	n->held_vrf_max = n->held_max / 4;
	if (hints) {
		n->hint = rte_zmalloc_socket("tess_neigh_hints", sizeof(*n->hint) * hints,
					     RTE_CACHE_LINE_SIZE, socket);
		if (n->hint == NULL)
			return -ENOMEM;
	}
	return lf_init(&n->t, "tess_neigh", capacity, sizeof(struct neigh), socket);
}

static void drop_queue(struct neigh_table *n, struct neigh *e)
{
	for (uint16_t i = 0; i < e->n_queued; i++)
		rte_pktmbuf_free(e->queue[i]);
	n->held -= e->n_queued;
	n->held_vrf[e->vrf] -= e->n_queued;
	free(e->queue);
	e->queue = NULL;
	e->n_queued = 0;
}

void neigh_fini(struct neigh_table *n)
{
	for (uint32_t i = 0; i < n->t.span; i++) {
		struct neigh *e = lf_elt(&n->t, i);
		if (e->live)
			drop_queue(n, e);
	}
	lf_fini(&n->t);
	rte_free(n->hint);
	memset(n, 0, sizeof(*n));
}

struct neigh *neigh_create(struct neigh_table *n, uint16_t vrf, uint32_t ip, uint16_t iface,
			   uint8_t state, uint32_t limit, uint64_t now)
{
	struct neigh *e;

	if (vrf >= NEIGH_VRFS || (limit && n->per_vrf[vrf] >= limit)) {
		n->stats.refused_limit++;
		errno = ENOSPC;
		return NULL;
	}
	e = lf_reserve(&n->t);
	if (e == NULL) {
		n->stats.refused_limit++;
		errno = ENOSPC;
		return NULL;
	}
	e->vrf = vrf;
	e->ip = ip;
	e->iface = iface;
	e->state = state;
	e->since = now;
	e->used = now;
	if (lf_insert(&n->t, neigh_key(vrf, ip), e) < 0) {
		errno = ENOSPC;
		return NULL;
	}
	e->live = true;
	n->per_vrf[vrf]++;
	n->stats.created++;
	return e;
}

void neigh_set_mac(struct neigh *e, const struct rte_ether_addr *mac, uint8_t state, uint64_t now)
{
	uint64_t v = 0;

	memcpy(&v, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	__atomic_store_n(&e->mac, v | NEIGH_MAC_VALID, __ATOMIC_RELEASE);
	e->state = state;
	e->since = now;
	e->tries = 0;
}

void neigh_fail(struct neigh *e, uint64_t now)
{
	__atomic_store_n(&e->mac, e->mac & ~NEIGH_MAC_VALID, __ATOMIC_RELEASE);
	e->state = NEIGH_FAILED;
	e->since = now;
	e->tries = 0;
}

void neigh_delete(struct neigh_table *n, struct neigh *e)
{
	drop_queue(n, e);
	/* Unusable before its key goes: a hint to it fails from now on (neigh_hint). */
	__atomic_store_n(&e->mac, e->mac & ~NEIGH_MAC_VALID, __ATOMIC_RELEASE);
	e->live = false;
	n->per_vrf[e->vrf]--;
	lf_remove(&n->t, neigh_key(e->vrf, e->ip), e);
}

bool neigh_hold(struct neigh_table *n, struct neigh *e, struct rte_mbuf *m, uint32_t max)
{
	if (max > NEIGH_MAX_QUEUE)
		max = NEIGH_MAX_QUEUE;
	if (e->n_queued >= max || n->held >= n->held_max ||
	    n->held_vrf[e->vrf] >= n->held_vrf_max) {
		n->stats.queue_full++;
		return false;
	}
	if (e->queue == NULL) {
		/* Room for the most any VRF allows: its limit may grow meanwhile. */
		e->queue = malloc(sizeof(*e->queue) * NEIGH_MAX_QUEUE);
		if (e->queue == NULL)
			return false;
	}
	e->queue[e->n_queued++] = m;
	n->held++;
	n->held_vrf[e->vrf]++;
	return true;
}

uint16_t neigh_unhold(struct neigh_table *n, struct neigh *e, struct rte_mbuf **out)
{
	uint16_t k = e->n_queued;

	memcpy(out, e->queue, k * sizeof(*out));
	n->held -= k;
	n->held_vrf[e->vrf] -= k;
	e->n_queued = 0;
	free(e->queue);
	e->queue = NULL;
	return k;
}

void neigh_walk(struct neigh_table *n, void (*fn)(struct neigh *e, void *arg), void *arg)
{
	for (uint32_t i = 0; i < n->t.span; i++) {
		struct neigh *e = lf_elt(&n->t, i);
		if (e->live)
			fn(e, arg);
	}
}

void neigh_mac(const struct neigh *e, struct rte_ether_addr *mac)
{
	uint64_t v = __atomic_load_n(&e->mac, __ATOMIC_ACQUIRE);

	memcpy(mac->addr_bytes, &v, RTE_ETHER_ADDR_LEN);
}
