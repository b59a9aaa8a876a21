/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control thread and the workers share: the snapshot of forwarding
 * state that workers read (replaced as a whole, reclaimed with RCU) and the
 * per-worker state (written only by its worker). Modules keep their own
 * parts of both (dp_snapshot.part, dp_worker.mod), indexed by module id.
 */
#ifndef TESS_DP_H
#define TESS_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drop.h"
#include "tessd_config.h"

#define DP_BURST              32
#define DP_MAX_WORKERS        TESS_MAX_WORKERS
#define DP_MAX_RXQ_PER_WORKER 256
#define DP_PORT_NONE          UINT16_MAX
/*
 * Mbufs a worker receives between two flushes of all its TX buffers: past
 * this it flushes them after the burst in hand, so what they hold is bounded
 * by this, not by the ports it polls (1000 busy vhost ports, each a burst to
 * a different port, would otherwise hold 32000 mbufs until the poll ends).
 */
#define DP_TX_HOLD_MAX 512

/*
 * Port ids: ethdev ports keep their ethdev id (0..DP_MAX_ETHDEV-1); ports
 * of the vhost backend (vhost.h) take the ids above, so per-port arrays are
 * indexed the same for both and a port's kind is its id's range.
 */
#define DP_MAX_ETHDEV RTE_MAX_ETHPORTS
#define DP_MAX_VHOST  1024 /* the vhost library's own limit (MAX_VHOST_SOCKET) */
#define DP_MAX_PORTS  (DP_MAX_ETHDEV + DP_MAX_VHOST)
_Static_assert(DP_MAX_PORTS == TESS_MAX_PORTS, "the config's port limit is the dataplane's");

#define DP_VLANS           4096
#define DP_PORT_WORDS      ((DP_MAX_PORTS + 63) / 64)
#define DP_MAX_PORT_QUEUES 64 /* RX queues of a port (ports[].rx_queues) */
#define DP_MAX_MODULES     16
#define DP_MAX_STAGES      32

/*
 * Traffic counters of a port or of a module's object (group, VRF...):
 * frames in, frames out, received frames that were flooded, frames handed
 * to the control thread. Drops by reason follow in the block of the
 * object's module (DP_COUNTERS); a port's drops are in dp_worker.port_drop.
 */
#define DP_COUNTERS_HEAD uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, flooded, punted
struct dp_counters {
	DP_COUNTERS_HEAD;
};
/*
 * A counter block with n_drops reasons (a module's DP_DROP_..._MAX). Cache
 * aligned, so that the head a packet updates is one line, not two.
 */
#define DP_COUNTERS(n_drops)            \
	struct {                        \
		DP_COUNTERS_HEAD;       \
		uint64_t drop[n_drops]; \
	} __rte_cache_aligned

struct dp_worker_counters {
	uint64_t busy_cycles; /* TSC cycles of polls that received packets */
	uint64_t idle_cycles; /* TSC cycles of empty polls */
	uint64_t pkts;        /* packets received */
	uint64_t busy_polls, idle_polls;
};

struct dp_stage_counters {
	uint64_t calls, pkts;
	uint64_t timed_pkts; /* of pkts, those of timed bursts */
	uint64_t cycles;     /* of timed bursts, in the stage itself, not in stages it called */
};

/* What the core knows of a port: the stage its bursts enter (set by the module owning it). */
struct dp_port_fwd {
	uint16_t stage;
	uint32_t mtu; /* L3 MTU when this port transmits; 0: port not in use */
};

struct dp_rxq {
	uint16_t port, queue;
};

/* Objects a hook (hook.h) acts on, by kind and direction. */
enum dp_hook_kind { DP_HOOK_PORT, DP_HOOK_GROUP, DP_HOOK_VRF, DP_HOOK_IFACE, DP_HOOK_KINDS };
enum dp_hook_dir { DP_HOOK_IN, DP_HOOK_OUT, DP_HOOK_DIRS };
#define DP_HOOK_IDS 8192 /* ids of each kind: ports, VLANs, VRF ids, router interface ids */

#define DP_HOOK_MAX 4 /* modules with hooks (hook.h) */

struct dp_hooks {
	/* Of all the modules: what a stage tests before it calls dp_hook_call. */
	bool any[DP_HOOK_KINDS][DP_HOOK_DIRS];
	uint64_t on[DP_HOOK_KINDS][DP_HOOK_DIRS][DP_HOOK_IDS / 64];
	/* Of each module (its dp_hook.idx): whose function runs for an object. */
	uint64_t mod[DP_HOOK_MAX][DP_HOOK_KINDS][DP_HOOK_DIRS][DP_HOOK_IDS / 64];
};

/* Everything workers read. Replaced whole by the control thread (RCU). */
struct dp_snapshot {
	uint64_t gen;
	struct dp_hooks hooks; /* reset before each build; set by modules' (dp_hook_mark) */
	struct dp_port_fwd port[DP_MAX_PORTS];
	uint16_t n_rxq[DP_MAX_WORKERS];
	struct dp_rxq rxq[DP_MAX_WORKERS][DP_MAX_RXQ_PER_WORKER];
	void *part[DP_MAX_MODULES]; /* each module's own tables (tess_module.snap_*) */
};

struct dp_txbuf {
	uint16_t n;
	bool pending; /* listed in dp_worker.pending */
	uint32_t bytes;
	struct rte_mbuf *pkts[DP_BURST];
};

/* A token bucket (dp_bucket_ok). */
struct dp_storm {
	uint64_t tokens;
	uint64_t last;
};

/* One per worker lcore, allocated on its NUMA node, written by it alone. */
struct dp_worker {
	unsigned idx; /* 0..n-1: RCU thread id, and its TX queue on every port */
	unsigned lcore;
	unsigned cpu;
	const struct dp_snapshot *snap; /* during a poll: the snapshot it reads (TX hooks) */
	uint64_t now;                   /* during a poll: TSC at its start */
	struct dp_worker_counters wc;
	uint64_t stage_nested; /* cycles of the stages the running stage called */
	bool timed;            /* this burst's stages count their cycles */
	uint32_t bursts;       /* full bursts received, for timing one in DP_STAGE_TIMING */
	uint32_t rx_held;      /* mbufs received since the TX buffers were all flushed */
	uint16_t n_pending;
	uint16_t pending[DP_MAX_PORTS]; /* ports with buffered TX */
	struct dp_counters port[DP_MAX_PORTS];
	struct dp_txbuf txb[DP_MAX_PORTS];
	uint64_t *port_drop; /* [DP_MAX_PORTS][dp_n_drops] */
	/* Vhost ports (vhost.h): those it polls, and the rings that hand them over. */
	struct rte_ring *vh_ready; /* to poll again (control and vhost threads -> worker) */
	struct rte_ring *vh_idle;  /* stopped polling (worker -> control thread) */
	uint16_t n_vh;
	uint16_t vh_polled; /* n_vh, as the control thread reads it */
	struct dp_vh_entry {
		uint16_t port;
		uint64_t last; /* TSC of its last frame */
	} vh[DP_MAX_VHOST];
	uint64_t *drop_total; /* [dp_n_drops]: every drop, by global reason id */
	struct dp_stage_counters stage[DP_MAX_STAGES];
	void *mod[DP_MAX_MODULES]; /* each module's per-worker state */
} __rte_cache_aligned;

extern struct dp_snapshot *dp_snap; /* current snapshot (RCU protected) */
extern bool dp_running;             /* workers loop while true */
extern uint64_t dp_tsc_hz;

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

/* A token bucket of pps per second, with 1/10 s (at least 16) of burst (one thread per bucket). */
static inline bool dp_bucket_ok(struct dp_storm *b, uint32_t pps, uint64_t now)
{
	uint64_t burst = pps / 10 > 16 ? pps / 10 : 16;
	uint64_t elapsed = now - b->last;
	uint64_t add;

	if (elapsed > dp_tsc_hz)
		elapsed = dp_tsc_hz;
	add = elapsed * pps / dp_tsc_hz;
	if (add) {
		b->tokens = b->tokens + add < burst ? b->tokens + add : burst;
		b->last = now;
	}
	if (b->tokens == 0)
		return false;
	b->tokens--;
	return true;
}

/*
 * Two buckets that must both admit (a server's own rate and its tenant's): a token is
 * taken from neither unless both have one, so what one refuses costs the other nothing.
 */
static inline bool dp_bucket2_ok(struct dp_storm *a, uint32_t pps_a, struct dp_storm *b,
				 uint32_t pps_b, uint64_t now)
{
	if (!dp_bucket_ok(a, pps_a, now))
		return false;
	if (!dp_bucket_ok(b, pps_b, now)) {
		a->tokens++; /* given back: it was taken just above, so at most the burst again */
		return false;
	}
	return true;
}

static inline bool dp_bit(const uint64_t *words, unsigned i)
{
	return words[i / 64] >> (i % 64) & 1;
}

static inline void dp_bit_set(uint64_t *words, unsigned i)
{
	words[i / 64] |= UINT64_C(1) << (i % 64);
}

#endif
