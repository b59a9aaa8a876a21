/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' side of the vhost backend (vhost.h): poll the active list,
 * hand idle ports back, send to a guest. No syscalls, locks or logs here
 * (the vhost library serializes senders of one virtqueue itself, and may
 * signal a guest that asked for interrupts through its call eventfd).
 */
#ifndef TESS_VHOST_DATAPATH_H
#define TESS_VHOST_DATAPATH_H

#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_vhost.h>

#include "vhost.h"

#define DP_VHOST_RXQ 0 /* the guest's RX virtqueue: tessd sends there */
#define DP_VHOST_TXQ 1 /* the guest's TX virtqueue: tessd receives from it */

static inline struct dp_vhost *dp_vhost_of(uint16_t port)
{
	return &dp_vhost[port - DP_MAX_ETHDEV];
}

/* Frames to a guest: copied into its buffers, so all n are the caller's to free. */
static inline uint16_t dp_vhost_tx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	int vid = __atomic_load_n(&dp_vhost_of(port)->vid, __ATOMIC_ACQUIRE);

	if (unlikely(vid < 0))
		return 0;
	return rte_vhost_enqueue_burst(vid, DP_VHOST_RXQ, pkts, n);
}

static inline void dp_vhost_take(struct dp_worker *w, uint16_t port, uint64_t now)
{
	w->vh[w->n_vh++] = (struct dp_vh_entry){ .port = port, .last = now };
}

/* Entry i leaves the active list (the last one takes its place). */
static inline void dp_vhost_drop_entry(struct dp_worker *w, uint16_t i)
{
	w->vh[i] = w->vh[--w->n_vh];
}

/*
 * The guest went away: the port is parked until new_device lists it again.
 * If new_device came between the load of vid and the park, it found the port
 * listed and did not list it: take it back.
 */
static inline void dp_vhost_park_gone(struct dp_worker *w, uint16_t port, uint64_t now)
{
	struct dp_vhost *v = dp_vhost_of(port);
	uint8_t parked = DP_VHOST_PARKED;

	__atomic_store_n(&v->state, DP_VHOST_PARKED, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->vid, __ATOMIC_SEQ_CST) >= 0 &&
	    __atomic_compare_exchange_n(&v->state, &parked, DP_VHOST_LISTED, false,
					__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		dp_vhost_take(w, port, now);
}

/* New ports to poll from the ready ring. */
static inline void dp_vhost_ready(struct dp_worker *w, uint64_t now)
{
	uint32_t ids[DP_BURST];
	unsigned n;

	if (likely(rte_ring_empty(w->vh_ready)))
		return;
	n = rte_ring_sc_dequeue_burst_elem(w->vh_ready, ids, sizeof(ids[0]), DP_BURST, NULL);
	for (unsigned i = 0; i < n; i++)
		dp_vhost_take(w, (uint16_t)ids[i], now);
}

/* An idle port goes to the control thread (which parks it); false if the ring is full. */
static inline bool dp_vhost_hand_back(struct dp_worker *w, uint16_t port)
{
	uint32_t id = port;

	return rte_ring_sp_enqueue_elem(w->vh_idle, &id, sizeof(id)) == 0;
}

#endif
