/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the router shares between the control thread and the workers:
 * interface tables (its part of a snapshot: immutable once published,
 * shared by snapshots with a control-side reference count), its state in a
 * worker, its drop reasons, punt reasons and the metadata a punted or
 * injected mbuf carries.
 */
#ifndef TESS_L3_H
#define TESS_L3_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dp.h"
#include "fib.h"
#include "l3_hook.h"
#include "l3_svc.h"
#include "module.h"
#include "stage.h"

#define L3_MAX_IFACES 8192 /* interface ids 1..8191, 0: none */
#define L3_PORT_SLOTS 64   /* ports with router interfaces on them (not group ones) */
#define L3_PUNT_RING  1024 /* packets a worker can hand to the control thread, and back */

/* id, name shown to users (after the core's: see drop.h) */
#define L3_DROPS(_)                                                                            \
	_(NOT_ROUTER_MAC, "not_router_mac")     /* rx interface: unicast for another MAC */    \
	_(NO_INTERFACE, "no_interface")         /* a VLAN without interface; inject: gone */   \
	_(UNSUPPORTED, "unsupported_ethertype") /* rx interface: neither IPv4 nor ARP */       \
	_(IP_HEADER, "ip_header")               /* RFC 1812 5.2.2: length, version, IHL... */  \
	_(IP_CHECKSUM, "ip_checksum")           /* RFC 1812 5.2.2: header checksum */          \
	_(MARTIAN_SRC, "martian_source")        /* source 0/8, 127/8, multicast, broadcast */  \
	_(BAD_DST, "bad_destination")           /* 0/8, 127/8, broadcast, multicast */         \
	_(TTL_EXCEEDED, "ttl_exceeded")         /* TTL <= 1 (ICMP time exceeded) */            \
	_(NO_ROUTE, "no_route")                 /* no route (ICMP net unreachable) */          \
	_(BLACKHOLE, "blackhole")               /* blackhole route */                          \
	_(REJECT, "reject")                     /* reject route (ICMP host unreachable) */     \
	_(UNRESOLVED, "unresolved")             /* neighbour failed, or its queue was full */  \
	_(FRAG_NEEDED, "fragmentation_needed")  /* over the egress MTU with DF */              \
	_(PUNT_LIMIT, "punt_limit")             /* over the punt rate, or the ring was full */ \
	_(LOCAL, "local_unhandled")             /* for the router, nothing here answers it */  \
	_(ARP, "arp_ignored")                   /* ARP not for one of our addresses */         \
	_(SOURCE_ROUTE, "source_route")         /* IP source route option: refused */

#define L3_DROP_ENUM(id, name) L3_DROP_##id,
enum l3_drop {
	L3_DROP_NONE = DP_DROP_NONE,
	L3_DROP_FIRST_ = DP_DROP_CORE_MAX - 1,
	L3_DROPS(L3_DROP_ENUM) L3_DROP_MAX
};
extern struct dp_drop_set l3_drops;

/* Counters of a VRF or an interface. */
typedef DP_COUNTERS(L3_DROP_MAX) l3_counters_t;

/*
 * Punt budgets: each VRF has its own, so that one tenant's TTL=1 or options
 * flood cannot starve another's, and ARP is a class of its own in it, so
 * that the flood does not starve the tenant's own neighbours either.
 */
enum l3_punt_class { L3_PC_ARP, L3_PC_OTHER, L3_PC_SERVICE /* l3_svc.h */, L3_PC_MAX };

/* Punts per second and worker of each VRF, by class (control thread writes, workers read). */
struct l3_vrf_punt {
	uint32_t pps[L3_PC_MAX];
};
extern struct l3_vrf_punt l3_vrf_punt[]; /* [FIB_MAX_VRFS] */

/*
 * What every forwarded packet adds to its interfaces and VRF, kept apart
 * from their blocks of drops and punts: 32 bytes, two to a cache line (a
 * tenant's two interfaces, created one after the other, often share one),
 * so that the counters 1000 tenants' packets touch take 1500 lines of the
 * cache, not the 3000 heads of their blocks.
 */
struct l3_hot {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
} __rte_aligned(32);

/* The router's state in a worker. */
struct l3_worker {
	l3_counters_t *vrfc;                   /* [FIB_MAX_VRFS]: drops, punts */
	l3_counters_t *ifc;                    /* [L3_MAX_IFACES]: drops, punts */
	struct l3_hot *vrfh;                   /* [FIB_MAX_VRFS]: received, sent */
	struct l3_hot *ifh;                    /* [L3_MAX_IFACES]: received, sent */
	struct rte_ring *punt;                 /* mbufs to the control thread */
	struct rte_ring *inject;               /* mbufs from the control thread, to send */
	struct dp_storm (*punt_rl)[L3_PC_MAX]; /* [FIB_MAX_VRFS]: punts per second, by class */
	uint64_t (*svc_limited)[L3_SVC_MAX];   /* [L3_MAX_IFACES][L3_SVC_MAX]: over the budget */
	bool punted; /* this burst enqueued a punt: kick the control thread at its end */
};

extern struct tess_module l3_module;
extern struct dp_stage l3_port_stage;
extern struct dp_stage l3_irb_stage; /* the vswitch's way in */
extern uint16_t l3_ip4_arc;
/* Sends what the control thread injected (worker 0, every poll). */
void l3_worker_poll(struct dp_worker *w, const struct dp_snapshot *s);

enum l3_iface_kind {
	L3_IF_PORT,  /* untagged on a port */
	L3_IF_SUBIF, /* a VLAN of a port */
	L3_IF_GROUP, /* the router interface of a vswitch group */
};

struct l3_iface {
	uint8_t kind;
	bool on;
	uint16_t vrf;
	uint16_t port;  /* PORT, SUBIF */
	uint16_t vlan;  /* SUBIF: its tag; GROUP: the group's VLAN */
	uint8_t svc;    /* the UDP services (l3_svc.h) on it, a bit per service */
	uint8_t egress; /* the egress hooks (l3_hook.h) on it, a bit per hook */
	uint32_t mtu;
	struct rte_ether_addr mac;
};

struct l3_tables {
	uint32_t refs; /* snapshots holding it (control thread only) */
	/* (port, VLAN or 0) -> interface, for the few ports that carry router interfaces */
	uint8_t port_slot[DP_MAX_PORTS];              /* 1 + the port's row; 0: none */
	uint16_t port_iface[L3_PORT_SLOTS][DP_VLANS]; /* [row][VLAN or 0] */
	struct l3_iface iface[L3_MAX_IFACES];
};

/* Why a packet goes to the control thread. */
enum l3_punt {
	L3_PUNT_ARP,
	L3_PUNT_LOCAL,    /* addressed to the router */
	L3_PUNT_TTL,      /* ICMP time exceeded */
	L3_PUNT_NO_ROUTE, /* no route or its interface down: looked up again, then net unreachable
			   */
	L3_PUNT_REJECT,   /* ICMP host unreachable */
	L3_PUNT_FRAG_NEEDED, /* ICMP fragmentation needed */
	L3_PUNT_SLOW,        /* forward on the slow path: IP options, fragmentation */
	L3_PUNT_RESOLVE,     /* next hop not resolved yet */
	L3_PUNT_SERVICE,     /* a UDP service of the interface (l3_svc.h) */
	L3_PUNT_HOOK,        /* a hook's own (l3_hook.h) */
	L3_PUNT_MAX
};

/* Metadata in an mbuf's dynamic field, for punts (worker -> control) and injects. */
struct l3_meta {
	uint16_t iface;     /* punt: the interface it came in on (0: the router made it) */
	uint16_t vrf;       /* punt: that interface's VRF */
	uint16_t oif;       /* held or injected: the interface it leaves by */
	uint8_t reason;     /* punt: enum l3_punt */
	uint8_t svc;        /* punt SERVICE: which (l3_svc.idx); HOOK: (l3_hook.idx) */
	uint32_t mtu;       /* punt FRAG_NEEDED: the next-hop MTU */
	uint16_t route_vrf; /* arc "ip4" with L3_ARG_VRF: the VRF ip4-route looks it up in;
			     * punted or held: the one it was looked up in (error hooks) */
};

/*
 * A burst's per-packet arg on arc "ip4": the interface the packet came in
 * on, and L3_ARG_VRF when a stage before ip4-route chose the VRF it is
 * routed in (l3_meta(m)->route_vrf; a translation into another VRF), not
 * its interface's. Interface ids stay below L3_ARG_VRF.
 */
#define L3_ARG_VRF      0x8000u
#define L3_ARG_IFACE(a) ((uint16_t)((a) & ~L3_ARG_VRF))

extern int l3_meta_offset;

static inline struct l3_meta *l3_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, l3_meta_offset, struct l3_meta *);
}

int l3_meta_register(void);

/* The interface tables of a snapshot (NULL: no interface). */
static inline struct l3_tables *l3_tables_of(const struct dp_snapshot *s)
{
	return dp_snap_part(s, &l3_module);
}

#endif
