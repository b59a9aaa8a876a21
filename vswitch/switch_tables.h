/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the vswitch shares between the control thread and the workers: its
 * part of a snapshot (ports' VLAN rules, groups), its state in each worker
 * (group counters, learn events), and its drop reasons.
 */
#ifndef TESS_SWITCH_TABLES_H
#define TESS_SWITCH_TABLES_H

#include <rte_ether.h>

#include "dp.h"
#include "module.h"

#define VSW_LEARN_MEMO 256  /* per-worker memo of recent learn events */
#define VSW_LEARN_RING 4096 /* learn events a worker can queue */
#define VSW_LEARN_PPS  2000 /* learn events a port may cause per second on a worker */
/*
 * A port or group with mac_limit 0 learns at most this share of fdb_size
 * (1/n): none alone can fill the FDB that all groups share.
 */
#define VSW_PORT_SHARE  16
#define VSW_GROUP_SHARE 4

/* id, name shown to users (after the core's: see drop.h) */
#define VSW_DROPS(_)                                                                               \
	_(TAGGED_ON_ACCESS, "tagged_on_access")   /* rx access port: a tag with a non-zero VID */  \
	_(VLAN_NOT_CARRIED, "vlan_not_carried")   /* rx trunk: a VLAN it does not carry */         \
	_(UNTAGGED_ON_TRUNK, "untagged_on_trunk") /* rx trunk without a native group */            \
	_(BAD_SRC_MAC, "bad_src_mac")             /* rx: multicast or zero source MAC */           \
	_(SPOOFED_MAC, "spoofed_mac")             /* rx access port: source MAC not allowed */     \
	_(SPOOFED_IP, "spoofed_ip")               /* rx access port: IPv4 or ARP sender refused */ \
	_(NOT_IPV4, "not_ipv4")                   /* rx access port: neither IPv4 nor ARP */       \
	_(ROGUE_DHCP, "rogue_dhcp")               /* rx access port: a DHCP server's message */    \
	_(STORM, "storm")                         /* rx access port: over its flood rate */        \
	_(LOCAL_DEST, "local_dest")           /* rx: destination learned on the receiving port */  \
	_(UNKNOWN_UNICAST, "unknown_unicast") /* rx: unknown destination, no flooding of it */     \
	_(MULTICAST, "multicast")             /* rx: multicast, the group does not flood it */     \
	_(NO_DESTINATION, "no_destination")   /* rx: flooded to a group with no other port */      \
	_(PRIORITY_STACKED, "priority_stacked") /* rx: a priority tag followed by another tag */

#define VSW_DROP_ENUM(id, name) VSW_DROP_##id,
enum vsw_drop { VSW_DROP_FIRST_ = DP_DROP_CORE_MAX - 1, VSW_DROPS(VSW_DROP_ENUM) VSW_DROP_MAX };

extern struct dp_drop_set vsw_drops;

enum vsw_port_mode {
	VSW_PORT_NONE = 0,
	VSW_PORT_ACCESS,
	VSW_PORT_TRUNK,
};

struct vsw_port {
	uint8_t mode; /* enum vsw_port_mode */
	bool anti_spoof;
	uint8_t n_macs;     /* anti-spoof: allowed MACs (0: locked to the first seen) */
	uint8_t n_ips;      /* IPv4 source guard (0: off) */
	uint16_t vlan;      /* access: its group; trunk: native group (0: none) */
	uint32_t storm_pps; /* per RX queue; 0: no limit */
	/* access: its group's rules for what it sends (copied: a port has one group) */
	bool group_guard; /* ipv4_only, dhcp_guard or n_protected */
	bool ipv4_only;
	bool dhcp_guard;
	uint8_t n_protected;
	struct rte_ether_addr macs[TESS_MAX_ALLOWED_MACS];
	rte_be32_t ips[TESS_MAX_ALLOWED_IPS];
	rte_be32_t protected_ips[TESS_PROTECTED_IPS];
	uint64_t vlans[DP_VLANS / 64]; /* trunk: the VLANs it carries */
};

#define VSW_GROUP_ON       0x1
#define VSW_GROUP_FLOOD_UU 0x2 /* flood unknown unicast */
#define VSW_GROUP_FLOOD_MC 0x4 /* flood multicast (broadcast always floods) */

#define VSW_IRB_UDP_MAX 4 /* UDP ports the services of a router interface may claim */

/* A group's member ports: bit sets, word by word (vsw_group.ports). */
enum vsw_member_kind {
	VSW_ACCESS, /* member access ports */
	VSW_TRUNK,  /* trunks carrying the group */
	VSW_NATIVE, /* of those, trunks where it is native (untagged) */
	VSW_MEMBER_KINDS,
};

/*
 * The sets are interleaved, a port's three bits side by side, and a group
 * starts a cache line, so that its first line holds its flags and the
 * words of port ids 0-127: one line per frame of a group (two or three
 * when the sets were apart and groups straddled lines).
 */
struct vsw_group {
	uint8_t flags;
	uint8_t n_irb_udp;             /* broadcast IPv4 UDP to one of irb_udp is copied to it */
	uint16_t irb_arg;              /* a module's router interface in the group (0: none) */
	struct rte_ether_addr irb_mac; /* its MAC */
	rte_be16_t irb_udp[VSW_IRB_UDP_MAX];
	/* Bit i: ports[i] holds a member. A flood visits those words, not all. */
	uint32_t words;
	uint64_t ports[DP_PORT_WORDS][VSW_MEMBER_KINDS];
} __rte_cache_aligned;
_Static_assert(DP_PORT_WORDS <= 32, "vsw_group.words: a bit per word of port ids");

static inline void vsw_group_add(struct vsw_group *g, enum vsw_member_kind k, uint16_t port)
{
	g->ports[port / 64][k] |= UINT64_C(1) << (port % 64);
	g->words |= UINT32_C(1) << (port / 64);
}

/* The vswitch's part of a snapshot. */
struct vsw_part {
	struct vsw_port port[DP_MAX_PORTS];
	struct vsw_group group[DP_VLANS]; /* indexed by VLAN */
};

/* What a port's state needs that changes under traffic (not part of the snapshot). */
struct vsw_port_state {
	/* Anti-spoof lock: the first source MAC seen (bit 63 set), 0 while none. */
	uint64_t locked_mac;
} __rte_cache_aligned;
extern struct vsw_port_state vsw_port_state[DP_MAX_PORTS];

/* A worker asks the control thread to learn (VLAN, MAC) on a port. */
struct vsw_learn_event {
	uint64_t key;
	uint16_t port;
};

typedef DP_COUNTERS(VSW_DROP_MAX) vsw_counters_t;

/* The vswitch's state in a worker. */
struct vsw_worker {
	vsw_counters_t *grp;    /* [DP_VLANS] */
	struct rte_ring *learn; /* vsw_learn_event to the control thread */
	uint64_t learn_lost;    /* learn events dropped: the ring to the control thread was full */
	uint64_t learn_limited; /* not sent: a port (a trunk's group) over VSW_LEARN_PPS */
	struct {
		uint64_t key, tsc;
		uint16_t port;
	} memo[VSW_LEARN_MEMO];
	struct dp_storm storm[DP_MAX_PORTS][DP_MAX_PORT_QUEUES]; /* per RX queue */
	struct dp_storm learn_rl[DP_MAX_PORTS];                  /* learn events per port */
	struct dp_storm learn_rl_group[DP_VLANS]; /* trunks': per group (all trunks') */
	bool learned; /* a new MAC's event queued this burst: kick at its end (kick.h) */
};

extern struct tess_module vsw_module;
extern struct dp_stage vsw_stage;

/*
 * Frames for the router interface of a group (unicast to its irb_mac, and
 * copies of broadcast ARP) go, with irb_arg, to this stage: set by the
 * module that owns those interfaces (DP_STAGE_DROP: none).
 */
extern uint16_t vsw_irb_stage;

#endif
