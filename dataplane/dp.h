/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control thread and the workers share: the snapshot of forwarding
 * state that workers read (replaced as a whole, reclaimed with RCU), the
 * per-worker state (written only by its worker) and the drop reasons.
 */
#ifndef TESS_DP_H
#define TESS_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "tessd_config.h"

#define DP_BURST              32
#define DP_MAX_WORKERS        TESS_MAX_WORKERS
#define DP_MAX_RXQ_PER_WORKER 256
#define DP_PORT_NONE          UINT16_MAX

/* Software drop reasons, counted per port. Keep dp_drop_names in step. */
enum dp_drop {
	DP_DROP_NO_OUTPUT,    /* rx port: nothing forwards from it */
	DP_DROP_BAD_FRAME,    /* rx port: shorter than an Ethernet header */
	DP_DROP_MTU_EXCEEDED, /* tx port: frame larger than its MTU allows */
	DP_DROP_TX_FULL,      /* tx port: its TX queue was full */
	DP_DROP_MAX
};
extern const char *const dp_drop_names[DP_DROP_MAX];

struct dp_port_counters {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t drop[DP_DROP_MAX];
};

struct dp_worker_counters {
	uint64_t busy_cycles; /* TSC cycles of polls that received packets */
	uint64_t idle_cycles; /* TSC cycles of empty polls */
	uint64_t pkts;        /* packets received */
	uint64_t busy_polls, idle_polls;
};

enum dp_fwd_mode {
	DP_FWD_NONE = 0,
	DP_FWD_XCONNECT,
};

struct dp_port_fwd {
	uint8_t mode;
	uint16_t peer; /* DP_FWD_XCONNECT: output port */
	uint32_t mtu;  /* L3 MTU when this port transmits; 0: port not in use */
};

struct dp_rxq {
	uint16_t port, queue;
};

/* Everything workers read. Replaced whole by the control thread (RCU). */
struct dp_snapshot {
	uint64_t gen;
	struct dp_port_fwd port[RTE_MAX_ETHPORTS];
	uint16_t n_rxq[DP_MAX_WORKERS];
	struct dp_rxq rxq[DP_MAX_WORKERS][DP_MAX_RXQ_PER_WORKER];
};

struct dp_txbuf {
	uint16_t n;
	bool pending; /* listed in dp_worker.pending */
	uint32_t bytes;
	struct rte_mbuf *pkts[DP_BURST];
};

/* One per worker lcore, allocated on its NUMA node, written by it alone. */
struct dp_worker {
	unsigned idx; /* 0..n-1: RCU thread id, and its TX queue on every port */
	unsigned lcore;
	unsigned cpu;
	struct dp_worker_counters wc;
	uint16_t n_pending;
	uint16_t pending[RTE_MAX_ETHPORTS]; /* ports with buffered TX */
	struct dp_port_counters port[RTE_MAX_ETHPORTS];
	struct dp_txbuf txb[RTE_MAX_ETHPORTS];
} __rte_cache_aligned;

extern struct dp_snapshot *dp_snap; /* current snapshot (RCU protected) */
extern bool dp_running;             /* workers loop while true */

/*
 * Counters are written by one worker and read by the control thread: a
 * relaxed atomic store is a plain store on x86 and keeps reads untorn.
 */
static inline void dp_cnt_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline uint64_t dp_cnt_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif
