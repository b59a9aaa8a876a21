/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop: poll the RX queues the snapshot gives this worker, run
 * each burst through the pipeline, flush TX, report a quiescent state.
 * No syscalls, locks, logs or allocation here.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dp.h"
#include "rcu.h"
#include "worker.h"
#include "router_datapath.h"
#include "switch_datapath.h"
#include "xconnect_datapath.h"

static inline void input_burst(struct dp_worker *w, const struct dp_snapshot *s, uint16_t port,
			       uint16_t queue, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct dp_counters *c = &w->port[port];
	struct vsw_routed routed;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	dp_cnt_add(&c->rx_pkts, n);
	dp_cnt_add(&c->rx_bytes, bytes);

	switch (s->port[port].mode) {
	case DP_FWD_XCONNECT:
		xc_input(w, s, port, pkts, n);
		break;
	case DP_FWD_ACCESS:
	case DP_FWD_TRUNK:
		routed.n = 0;
		vsw_input(w, s, port, queue, pkts, n, now, &routed);
		if (routed.n)
			l3_input(w, s, routed.m, routed.iface, routed.n, now);
		break;
	case DP_FWD_ROUTED:
		l3_port_input(w, s, port, pkts, n, now);
		break;
	default:
		dp_cnt_add(&c->drop[DP_DROP_NO_OUTPUT], n);
		rte_pktmbuf_free_bulk(pkts, n);
		break;
	}
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_worker_counters *wc = &w->wc;
	struct rte_mbuf *pkts[DP_BURST];
	uint64_t t0, t1;

	dp_rcu_online(w->idx);
	t0 = rte_rdtsc();
	while (__atomic_load_n(&dp_running, __ATOMIC_ACQUIRE)) {
		const struct dp_snapshot *s = __atomic_load_n(&dp_snap, __ATOMIC_ACQUIRE);
		const struct dp_rxq *q = s->rxq[w->idx];
		uint16_t nq = s->n_rxq[w->idx];
		uint32_t got = 0;

		for (uint16_t i = 0; i < nq; i++) {
			uint16_t n = rte_eth_rx_burst(q[i].port, q[i].queue, pkts, DP_BURST);
			if (n) {
				input_burst(w, s, q[i].port, q[i].queue, pkts, n, t0);
				got += n;
			}
		}
		/* What the router's control thread sends leaves through worker 0. */
		if (w->idx == 0)
			l3_inject(w, s);
		dp_tx_flush_all(w);
		/* No snapshot pointer is held past this point. */
		dp_rcu_quiescent(w->idx);

		t1 = rte_rdtsc();
		if (got) {
			dp_cnt_add(&wc->busy_cycles, t1 - t0);
			dp_cnt_add(&wc->pkts, got);
			dp_cnt_add(&wc->busy_polls, 1);
		} else {
			dp_cnt_add(&wc->idle_cycles, t1 - t0);
			dp_cnt_add(&wc->idle_polls, 1);
		}
		t0 = t1;
	}
	dp_tx_flush_all(w);
	dp_rcu_offline(w->idx);
	return 0;
}
