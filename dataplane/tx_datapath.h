/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffered TX of a worker: packets collect per output port and leave in
 * bursts on the worker's own TX queue, when a buffer fills, after
 * DP_TX_HOLD_MAX mbufs came in, and at the end of every poll, so buffers
 * are empty whenever the worker is quiescent.
 */
#ifndef TESS_TX_DATAPATH_H
#define TESS_TX_DATAPATH_H

#include "dp.h"
#include "hook.h"
#include "vhost_datapath.h"

/* Counts n drops of global reason id (dp_drop_id): in the totals, and on port if it is one. */
static inline void dp_count_drops(struct dp_worker *w, uint16_t port, unsigned id, uint64_t n)
{
	dp_cnt_add(&w->drop_total[id], n);
	if (port != DP_PORT_NONE)
		dp_cnt_add(&w->port_drop[port * dp_n_drops + id], n);
}

static inline void dp_drop(struct dp_worker *w, uint16_t port, unsigned id, struct rte_mbuf *m)
{
	dp_count_drops(w, port, id, 1);
	rte_pktmbuf_free(m);
}

/* A port's egress hook on its buffered packets, before they leave (counted as sent if they do). */
static inline void dp_tx_hook(struct dp_worker *w, struct dp_txbuf *b, uint16_t port)
{
	uint32_t gone = dp_hook_call(w, w->snap, DP_HOOK_PORT, DP_HOOK_OUT, port, port, b->pkts,
				     b->n, w->now);

	if (gone == 0)
		return;
	b->n = dp_hook_compact(b->pkts, NULL, b->n, gone);
	b->bytes = 0;
	for (uint16_t i = 0; i < b->n; i++)
		b->bytes += b->pkts[i]->pkt_len;
}

static inline void dp_tx_flush(struct dp_worker *w, uint16_t port)
{
	struct dp_txbuf *b = &w->txb[port];
	struct dp_counters *c = &w->port[port];
	uint16_t sent;
	uint32_t bytes;

	if (unlikely(w->snap && dp_hook_on(w->snap, DP_HOOK_PORT, DP_HOOK_OUT, port)))
		dp_tx_hook(w, b, port);
	/* The backend, once per burst: an ethdev's TX queue, or a guest's ring (vhost.h). */
	const bool vhost = dp_port_is_vhost(port);
	if (likely(!vhost))
		sent = rte_eth_tx_burst(port, (uint16_t)w->idx, b->pkts, b->n);
	else
		sent = dp_vhost_tx(port, b->pkts, b->n);
	bytes = b->bytes;

	if (unlikely(sent < b->n)) {
		for (uint16_t i = sent; i < b->n; i++)
			bytes -= b->pkts[i]->pkt_len;
		/* A real port here: its drop counter directly. */
		dp_cnt_add(&w->drop_total[DP_DROP_TX_FULL], b->n - sent);
		dp_cnt_add(&w->port_drop[port * dp_n_drops + DP_DROP_TX_FULL], b->n - sent);
		rte_pktmbuf_free_bulk(&b->pkts[sent], b->n - sent);
	}
	if (vhost) /* the guest got copies */
		rte_pktmbuf_free_bulk(b->pkts, sent);
	dp_cnt_add(&c->tx_pkts, sent);
	dp_cnt_add(&c->tx_bytes, bytes);
	b->n = 0;
	b->bytes = 0;
}

static inline void dp_tx(struct dp_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct dp_txbuf *b = &w->txb[port];

	if (!b->pending) {
		b->pending = true;
		w->pending[w->n_pending++] = port;
	}
	b->pkts[b->n++] = m;
	b->bytes += m->pkt_len;
	if (b->n == DP_BURST)
		dp_tx_flush(w, port);
}

static inline void dp_tx_flush_all(struct dp_worker *w)
{
	for (uint16_t i = 0; i < w->n_pending; i++) {
		uint16_t port = w->pending[i];
		if (w->txb[port].n)
			dp_tx_flush(w, port);
		w->txb[port].pending = false;
	}
	w->n_pending = 0;
	w->rx_held = 0;
}

/*
 * After a received burst of segs mbufs went through its stages: every TX buffer
 * flushed once DP_TX_HOLD_MAX came in since the last time (dp.h).
 */
static inline void dp_tx_received(struct dp_worker *w, uint32_t segs)
{
	w->rx_held += segs;
	if (unlikely(w->rx_held >= DP_TX_HOLD_MAX))
		dp_tx_flush_all(w);
}

/* Whether a frame fits the L3 MTU of the port sending it (one VLAN tag allowed, as Linux). */
static inline bool dp_fits_mtu(const struct rte_mbuf *m, uint32_t mtu)
{
	const struct rte_ether_hdr *eh;

	if (likely(m->pkt_len <= mtu + RTE_ETHER_HDR_LEN))
		return true;
	if (m->pkt_len > mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN)
		return false;
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	return eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
	       eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_QINQ);
}

#endif
