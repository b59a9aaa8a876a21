/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the router shares between the control thread and the workers:
 * interface tables (immutable once published, shared by snapshots with a
 * control-side reference count), punt reasons and the metadata a punted or
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

#define L3_MAX_IFACES 8192 /* interface ids 1..8191, 0: none */

enum l3_iface_kind {
	L3_IF_PORT,  /* untagged on a port */
	L3_IF_SUBIF, /* a VLAN of a port */
	L3_IF_GROUP, /* the router interface of a vswitch group */
};

struct l3_iface {
	uint8_t kind;
	bool on;
	uint16_t vrf;
	uint16_t port; /* PORT, SUBIF */
	uint16_t vlan; /* SUBIF: its tag; GROUP: the group's VLAN */
	uint32_t mtu;
	struct rte_ether_addr mac;
};

struct l3_tables {
	uint32_t refs; /* snapshots holding it (control thread only) */
	uint16_t port_iface[RTE_MAX_ETHPORTS][DP_VLANS]; /* (port, VLAN or 0) -> interface */
	uint16_t group_iface[DP_VLANS];                  /* group VLAN -> its interface */
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
	L3_PUNT_MAX
};

/* Metadata in an mbuf's dynamic field, for punts (worker -> control) and injects. */
struct l3_meta {
	uint16_t iface; /* punt: the interface it came in on (0: the router made it) */
	uint16_t vrf;   /* punt: that interface's VRF */
	uint16_t oif;   /* held or injected: the interface it leaves by */
	uint8_t reason; /* punt: enum l3_punt */
	uint8_t pad;
	uint32_t mtu; /* punt FRAG_NEEDED: the next-hop MTU */
};

extern int l3_meta_offset;

static inline struct l3_meta *l3_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, l3_meta_offset, struct l3_meta *);
}

int l3_meta_register(void);

#endif
