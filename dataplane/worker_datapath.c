/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop: poll the RX queues the snapshot gives this worker, run
 * each burst into the stage its port's module set, flush TX, report a
 * quiescent state. No syscalls, locks, logs or allocation here.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dp.h"
#include "hook.h"
#include "rcu.h"
#include "stage.h"
#include "tx_datapath.h"
#include "vhost_datapath.h"
#include "worker.h"

/* Modules with something to do on worker 0 every poll (set before the workers start). */
static void (*worker_polls[DP_MAX_MODULES])(struct dp_worker *w, const struct dp_snapshot *s);
static unsigned n_worker_polls;

void dp_worker_poll_add(void (*fn)(struct dp_worker *w, const struct dp_snapshot *s))
{
	worker_polls[n_worker_polls++] = fn;
}

static inline void dp_worker_poll_modules(struct dp_worker *w, const struct dp_snapshot *s)
{
	for (unsigned i = 0; i < n_worker_polls; i++)
		worker_polls[i](w, s);
}

static inline void input_burst(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	struct dp_counters *c = &w->port[b->port];
	uint64_t bytes = 0;
	uint32_t segs = 0;

	for (uint16_t i = 0; i < b->n; i++) {
		bytes += b->pkts[i]->pkt_len;
		segs += b->pkts[i]->nb_segs;
	}
	dp_cnt_add(&c->rx_pkts, b->n);
	dp_cnt_add(&c->rx_bytes, bytes);
	/* Counted as received first: what a hook drops is a drop of the port. */
	if (unlikely(dp_hook_on(s, DP_HOOK_PORT, DP_HOOK_IN, b->port))) {
		uint32_t gone = dp_hook_call(w, s, DP_HOOK_PORT, DP_HOOK_IN, b->port, b->port,
					     b->pkts, b->n, b->now);
		if (gone && (b->n = dp_hook_compact(b->pkts, NULL, b->n, gone)) == 0)
			return;
	}
	/* At low rates every burst is timed; at full rate one in DP_STAGE_TIMING. */
	w->timed = b->n < DP_BURST || ++w->bursts % DP_STAGE_TIMING == 0;
	dp_stage_run(w, s, s->port[b->port].stage, b);
	dp_tx_received(w, segs);
}

/*
 * The vhost ports on this worker's active list, each once; one idle for
 * DP_VHOST_IDLE_MS goes back to the control thread, one whose guest left is
 * parked. The port's kind is decided here, once per burst, not per packet.
 */
static inline uint32_t poll_vhost(struct dp_worker *w, const struct dp_snapshot *s,
				  struct dp_burst *b, uint64_t now)
{
	const uint64_t idle = dp_tsc_hz / 1000 * DP_VHOST_IDLE_MS;
	uint32_t got = 0;

	dp_vhost_ready(w, now);
	for (uint16_t i = 0; i < w->n_vh;) {
		uint16_t port = w->vh[i].port;
		const struct dp_vhost *v = dp_vhost_of(port);
		int vid = __atomic_load_n(&v->vid, __ATOMIC_ACQUIRE);

		if (unlikely(vid < 0)) {
			dp_vhost_drop_entry(w, i);
			dp_vhost_park_gone(w, port, now);
			continue;
		}
		b->n = rte_vhost_dequeue_burst(vid, DP_VHOST_TXQ, v->mp, b->pkts, DP_BURST);
		if (b->n) {
			w->vh[i].last = now;
			got += b->n;
			b->port = port;
			b->queue = 0;
			b->now = now;
			input_burst(w, s, b);
		} else if (unlikely(now - w->vh[i].last > idle) && dp_vhost_hand_back(w, port)) {
			dp_vhost_drop_entry(w, i);
			continue;
		}
		i++;
	}
	__atomic_store_n(&w->vh_polled, w->n_vh, __ATOMIC_RELAXED);
	return got;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_worker_counters *wc = &w->wc;
	struct dp_burst b;
	uint64_t t0, t1;

	dp_rcu_online(w->idx);
	t0 = rte_rdtsc();
	while (__atomic_load_n(&dp_running, __ATOMIC_ACQUIRE)) {
		const struct dp_snapshot *s = __atomic_load_n(&dp_snap, __ATOMIC_ACQUIRE);
		const struct dp_rxq *q = s->rxq[w->idx];
		uint16_t nq = s->n_rxq[w->idx];
		uint32_t got = 0;

		w->snap = s;
		w->now = t0;

		for (uint16_t i = 0; i < nq; i++) {
			b.n = rte_eth_rx_burst(q[i].port, q[i].queue, b.pkts, DP_BURST);
			if (b.n) {
				got += b.n;
				b.port = q[i].port;
				b.queue = q[i].queue;
				b.now = t0;
				input_burst(w, s, &b);
			}
		}
		if (w->n_vh || !rte_ring_empty(w->vh_ready))
			got += poll_vhost(w, s, &b, t0);
		if (w->idx == 0)
			dp_worker_poll_modules(w, s);
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
	w->snap = NULL;
	dp_tx_flush_all(w);
	dp_rcu_offline(w->idx);
	return 0;
}
