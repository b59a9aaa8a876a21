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

#define DP_VLANS           4096
#define DP_PORT_WORDS      ((RTE_MAX_ETHPORTS + 63) / 64)
#define DP_LEARN_MEMO      256  /* per-worker memo of recent learn events */
#define DP_LEARN_RING      4096 /* learn events a worker can queue */
#define DP_LEARN_PPS       2000 /* learn events a port may cause per second on a worker */
#define DP_MAX_PORT_QUEUES 64   /* RX queues of a port (ports[].rx_queues) */
#define DP_PUNT_RING       1024 /* packets a worker can hand to the control thread, and back */

/* Software drop reasons, counted per port (and per group once known). Keep dp_drop_names in step.
 */
enum dp_drop {
	DP_DROP_NO_OUTPUT,         /* rx port: nothing forwards from it */
	DP_DROP_BAD_FRAME,         /* rx port: shorter than its headers */
	DP_DROP_MTU_EXCEEDED,      /* tx port: frame larger than its MTU allows */
	DP_DROP_TX_FULL,           /* tx port: its TX queue was full */
	DP_DROP_TAGGED_ON_ACCESS,  /* rx access port: a tag with a non-zero VID */
	DP_DROP_VLAN_NOT_CARRIED,  /* rx trunk: a VLAN it does not carry */
	DP_DROP_UNTAGGED_ON_TRUNK, /* rx trunk without a native group: untagged frame */
	DP_DROP_BAD_SRC_MAC,       /* rx: multicast or zero source MAC */
	DP_DROP_SPOOFED_MAC,       /* rx access port: source MAC not allowed */
	DP_DROP_SPOOFED_IP,        /* rx access port: IPv4 or ARP sender not allowed */
	DP_DROP_STORM,             /* rx access port: over its flood rate */
	DP_DROP_LOCAL_DEST,        /* rx: destination learned on the receiving port */
	DP_DROP_UNKNOWN_UNICAST,   /* rx: unknown destination, the group does not flood it */
	DP_DROP_MULTICAST,         /* rx: multicast, the group does not flood it */
	DP_DROP_NO_DESTINATION,    /* rx: flooded to a group with no other port */
	DP_DROP_NO_MBUF,           /* out of mbufs for a flood copy or a tag */
	DP_DROP_PRIORITY_STACKED,  /* rx: a priority tag followed by another tag */
	/* router */
	DP_DROP_NOT_ROUTER_MAC, /* rx interface: unicast frame for another MAC */
	DP_DROP_NO_INTERFACE,   /* rx routed port: a VLAN (or none) with no interface */
	DP_DROP_UNSUPPORTED,    /* rx interface: neither IPv4 nor ARP */
	DP_DROP_IP_HEADER,      /* RFC 1812 5.2.2: length, version, IHL, total length */
	DP_DROP_IP_CHECKSUM,    /* RFC 1812 5.2.2: header checksum */
	DP_DROP_MARTIAN_SRC,    /* source 0/8, 127/8, multicast or limited broadcast */
	DP_DROP_BAD_DST,        /* destination never forwarded: 0/8, 127/8, broadcast, multicast */
	DP_DROP_TTL_EXCEEDED,   /* TTL <= 1 (ICMP time exceeded) */
	DP_DROP_NO_ROUTE,       /* no route (ICMP net unreachable) */
	DP_DROP_BLACKHOLE,      /* blackhole route */
	DP_DROP_REJECT,         /* reject route (ICMP host unreachable) */
	DP_DROP_UNRESOLVED,     /* neighbour failed, or its queue was full */
	DP_DROP_FRAG_NEEDED,    /* larger than the egress MTU with DF (ICMP fragmentation needed) */
	DP_DROP_PUNT_LIMIT,     /* over the punt rate, or the punt ring was full */
	DP_DROP_LOCAL,          /* for the router, but nothing here answers it */
	DP_DROP_ARP,            /* ARP not for one of our addresses, or malformed */
	DP_DROP_SOURCE_ROUTE,   /* IP loose or strict source route option: refused */
	DP_DROP_MAX
};
extern const char *const dp_drop_names[DP_DROP_MAX];

/*
 * Traffic counters of a port, or of a group (indexed by VLAN): frames in,
 * frames out (for a group, copies handed to its ports), received frames
 * that were flooded, drops by reason.
 */
struct dp_counters {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t flooded;
	uint64_t punted; /* handed to the control thread (ARP, ICMP, slow path) */
	uint64_t drop[DP_DROP_MAX];
};

struct dp_worker_counters {
	uint64_t busy_cycles; /* TSC cycles of polls that received packets */
	uint64_t idle_cycles; /* TSC cycles of empty polls */
	uint64_t pkts;        /* packets received */
	uint64_t busy_polls, idle_polls;
	uint64_t learn_lost;    /* learn events dropped: the ring to the control thread was full */
	uint64_t learn_limited; /* learn events not sent: a port over DP_LEARN_PPS */
};

enum dp_fwd_mode {
	DP_FWD_NONE = 0,
	DP_FWD_XCONNECT,
	DP_FWD_ACCESS,
	DP_FWD_TRUNK,
	DP_FWD_ROUTED, /* L3 interfaces: untagged and/or VLAN sub-interfaces */
};

struct dp_port_fwd {
	uint8_t mode;
	bool anti_spoof;
	uint8_t n_macs;     /* anti-spoof: allowed MACs (0: locked to the first seen) */
	uint8_t n_ips;      /* IPv4 source guard (0: off) */
	uint16_t peer;      /* DP_FWD_XCONNECT: output port */
	uint16_t vlan;      /* access: its group; trunk: native group (0: none) */
	uint32_t mtu;       /* L3 MTU when this port transmits; 0: port not in use */
	uint32_t storm_pps; /* per RX queue; 0: no limit */
	struct rte_ether_addr macs[TESS_MAX_ALLOWED_MACS];
	rte_be32_t ips[TESS_MAX_ALLOWED_IPS];
	uint64_t vlans[DP_VLANS / 64]; /* trunk: the VLANs it carries */
};

#define DP_GROUP_ON       0x1
#define DP_GROUP_FLOOD_UU 0x2 /* flood unknown unicast */
#define DP_GROUP_FLOOD_MC 0x4 /* flood multicast (broadcast always floods) */

struct dp_group {
	uint8_t flags;
	uint64_t access[DP_PORT_WORDS]; /* member access ports */
	uint64_t trunks[DP_PORT_WORDS]; /* trunks carrying the group */
	uint64_t native[DP_PORT_WORDS]; /* of those, trunks where it is native (untagged) */
};

struct dp_rxq {
	uint16_t port, queue;
};

struct l3_tables;

/* Everything workers read. Replaced whole by the control thread (RCU). */
struct dp_snapshot {
	uint64_t gen;
	struct dp_port_fwd port[RTE_MAX_ETHPORTS];
	uint16_t n_rxq[DP_MAX_WORKERS];
	struct dp_rxq rxq[DP_MAX_WORKERS][DP_MAX_RXQ_PER_WORKER];
	struct dp_group group[DP_VLANS]; /* indexed by VLAN */
	struct l3_tables *l3;            /* router interfaces; shared between snapshots */
};

/* What a port's state needs that changes under traffic (not part of the snapshot). */
struct dp_port_state {
	/* Anti-spoof lock: the first source MAC seen (bit 63 set), 0 while none. */
	uint64_t locked_mac;
} __rte_cache_aligned;
extern struct dp_port_state dp_port_state[RTE_MAX_ETHPORTS];

/* A worker asks the control thread to learn (VLAN, MAC) on a port. */
struct dp_learn_event {
	uint64_t key;
	uint16_t port;
};

struct dp_txbuf {
	uint16_t n;
	bool pending; /* listed in dp_worker.pending */
	uint32_t bytes;
	struct rte_mbuf *pkts[DP_BURST];
};

struct dp_storm {
	uint64_t tokens;
	uint64_t last;
};

/* One per worker lcore, allocated on its NUMA node, written by it alone. */
struct dp_worker {
	unsigned idx; /* 0..n-1: RCU thread id, and its TX queue on every port */
	unsigned lcore;
	unsigned cpu;
	struct dp_worker_counters wc;
	uint16_t n_pending;
	uint16_t pending[RTE_MAX_ETHPORTS]; /* ports with buffered TX */
	struct dp_counters port[RTE_MAX_ETHPORTS];
	struct dp_txbuf txb[RTE_MAX_ETHPORTS];
	struct dp_counters *grp; /* [DP_VLANS] */
	struct rte_ring *learn;  /* dp_learn_event to the control thread */
	struct {
		uint64_t key, tsc;
		uint16_t port;
	} memo[DP_LEARN_MEMO];
	struct dp_storm storm[RTE_MAX_ETHPORTS][DP_MAX_PORT_QUEUES]; /* per RX queue */
	struct dp_storm learn_rl[RTE_MAX_ETHPORTS];                  /* learn events per port */
	/* router */
	struct dp_counters *vrfc; /* [FIB_MAX_VRFS] */
	struct dp_counters *ifc;  /* [L3_MAX_IFACES] */
	struct rte_ring *punt;    /* mbufs to the control thread */
	struct rte_ring *inject;  /* mbufs from the control thread, to send */
	struct dp_storm punt_rl;  /* punts per second */
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

static inline bool dp_bit(const uint64_t *words, unsigned i)
{
	return words[i / 64] >> (i % 64) & 1;
}

static inline void dp_bit_set(uint64_t *words, unsigned i)
{
	words[i / 64] |= UINT64_C(1) << (i % 64);
}

#endif
