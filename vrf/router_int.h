/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's control-thread state, shared by its files: VRFs and
 * interfaces by id (with what the control thread counts itself), and the
 * helpers between route sync, ARP and the slow path.
 */
#ifndef TESS_ROUTER_INT_H
#define TESS_ROUTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "ctl_msg.h"
#include "dp.h"
#include "fib.h"
#include "l3.h"
#include "neigh.h"
#include "nexthop.h"

/* FNV-1a, 64 bits: n bytes at p into h (start from RT_FNV_BASIS). */
#define RT_FNV_BASIS UINT64_C(0xcbf29ce484222325)
static inline uint64_t rt_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	return h;
}
#include "router_check.h"
#include "tessd_config.h"

extern struct fib l3_fib;
extern struct nh_table l3_nh;
extern struct neigh_table l3_neigh;

/* What the control thread counts itself, next to the workers' counters. */
struct rt_counters {
	l3_counters_t dp; /* tx_pkts: forwarded on the slow path; drops by reason */
	uint64_t icmp_sent;
	uint64_t arp_sent, arp_replied, arp_learned;
};

enum rt_limit { RT_LIMIT_NONE, RT_LIMIT_ROUTES, RT_LIMIT_GROUPS, RT_LIMIT_NODES };

struct rt_vrf {
	bool on;
	uint64_t born; /* which VRF of its id this is: each one made gets the next number */
	bool resync;   /* installing its routes failed: reconcile at the next sync */
	char name[TESS_NAME_LEN];
	char tenant[TESS_TENANT_LEN]; /* its label, for its log lines' TESS_TENANT */
	uint32_t icmp_rate, neigh_limit, neigh_queue;
	uint32_t max_routes, max_groups, max_nodes; /* 0: none (a VRF the config did not set up) */
	/* At those limits: kernel routes refused or removed to make way, route.add calls refused.
	 */
	uint64_t routes_refused, groups_refused, nodes_refused;
	uint8_t refused_at; /* the limit of the last kernel route refused (enum rt_limit) */
	uint32_t n_kernel;  /* of its routes, kernel ones */
	bool room;          /* a route went or the limits changed: waiting kernel routes may fit */
	uint64_t reachable_tsc, stale_tsc; /* neighbour aging, in TSC cycles */
	struct dp_storm icmp;              /* ICMP errors per second */
	struct rt_counters ctl;
	struct rt_counters base; /* workers' and ours at the last reset */
};

enum rt_if_state { RT_IF_FREE, RT_IF_USED, RT_IF_PENDING /* freed, waiting for readers */ };

struct rt_iface {
	uint8_t state;
	bool fresh; /* given by a build whose commit is not in force yet (see router_build) */
	char name[TESS_NAME_LEN];
	uint16_t vrf;
	uint8_t n_addr;
	uint32_t addr[TESS_MAX_IFACE_ADDRS]; /* host order */
	uint8_t len[TESS_MAX_IFACE_ADDRS];
	struct rt_counters ctl;
	struct rt_counters base;
};

extern struct rt_vrf *rt_vrfs;      /* [FIB_MAX_VRFS] */
extern struct rt_iface *rt_ifs;     /* [L3_MAX_IFACES] */
extern struct rte_mempool *rt_pool; /* mbufs the control thread builds */

static inline uint32_t rt_mask(uint8_t len)
{
	return len ? UINT32_MAX << (32 - len) : 0;
}

/* The interface table workers see now. */
static inline const struct l3_tables *rt_tables(void)
{
	return l3_tables_of(dp_snap);
}

/* Counts a drop of the control thread against an interface and its VRF. */
void rt_count_drop(uint16_t iface, uint16_t vrf, unsigned why);
uint16_t rt_iface_id(const char *name);

/*
 * The static route vrf prefix/len of cfg (the running config): its index,
 * or -ENOENT (-ENOMEM). After appending route i, rt_route_indexed; after a
 * commit or a removal, rt_route_index_reset. See route_index.c.
 */
int rt_route_find(const struct tessd_cfg *cfg, const char *vrf, uint32_t ip, uint8_t len);
void rt_route_indexed(const struct tessd_cfg *cfg, uint32_t i);
void rt_route_index_reset(void);
void rt_route_index_free(void);
/*
 * The running config's routes and groups per VRF as validation counts them
 * (ix: its index), made at the first call after a reset; NULL without memory.
 * After appending route rc, rt_route_counted.
 */
struct tessd_vrf_counts *rt_route_counts(const struct tessd_router_index *ix);
void rt_route_counted(const struct tessd_router_index *ix, const struct tessd_route_cfg *rc);
extern uint64_t rt_route_ix_probes;
/* route.add on cfg (the running config): checked, installed, then recorded. */
int rt_route_add(struct tessd_cfg *cfg, const struct tessd_route_cfg *rc, struct ctl_error *err);
uint16_t rt_vrf_id(const struct tessd_cfg *cfg, const char *name);
/* The interface whose address ip is in vrf, or 0. */
uint16_t rt_own_iface(uint16_t vrf, uint32_t ip);
/* Whether ip is on one of iface's subnets (and which address of it holds it). */
bool rt_on_subnet(uint16_t iface, uint32_t ip, uint32_t *addr);
/* An address of iface to speak from toward dst: the one on dst's subnet, else the first; 0. */
uint32_t rt_src_addr(uint16_t iface, uint32_t dst);

/* ---- routes (route_sync.c) ---- */

/* An index of cfg whose ids are tessd's interface ids (0: none yet); -ENOMEM. */
int rt_index(struct tessd_router_index *ix, const struct tessd_cfg *cfg);
void rt_index_free(struct tessd_router_index *ix);
/* The next-hop group of a configured route (interfaces resolved); false if one is unknown. */
bool rt_route_group(const struct tessd_router_index *ix, const struct tessd_route_cfg *rc,
		    struct nh_group *g);
/*
 * Makes VRF id hold exactly the connected, local and broadcast routes of
 * its interfaces and its static routes (indexes into the config's arrays).
 */
void rt_routes_reconcile(const struct tessd_router_index *ix, uint16_t id, const uint32_t *ifaces,
			 uint32_t n_ifaces, const uint32_t *routes, uint32_t n_routes);
/*
 * Installs one route (prefix/len -> group); -errno: -EDQUOT for a kernel
 * route at the VRF's max_routes, max_nexthop_groups or max_fib_nodes
 * (rt_limit_text says which; configured routes are bounded by validation and go in regardless),
 * -ENOSPC out of groups, -ENOMEM out of FIB nodes.
 */
int rt_route_set(uint16_t vrf, uint32_t ip, uint8_t len, const struct nh_group *g);
/* Whether a kernel route prefix/len -> g would be installed now (nothing counted). */
bool rt_kernel_fits(uint16_t vrf, uint32_t ip, uint8_t len, const struct nh_group *g);
/*
 * Brings vrf within its limits again after configured routes went in over
 * them: kernel routes leave (counted as refused) and wait in the kernel map.
 */
void rt_vrf_fit(uint16_t vrf);
/* Which limit of vrf its last kernel route refused (-EDQUOT) met: "max_routes (N)"... */
const char *rt_limit_text(uint16_t vrf, char *buf, size_t len);
int rt_route_unset(uint16_t vrf, uint32_t ip, uint8_t len);
/* A route's origin as the API names it ("static", "connected", ...); a prefix "a.b.c.d/n". */
extern const char *const rt_origin_names[];
json_t *rt_prefix_json(uint32_t ip, uint8_t len);
/* Removes a VRF's routes and neighbours, then the VRF. */
void rt_vrf_remove(uint16_t id);

/* ---- neighbours (arp.c) ---- */

void rt_arp_input(struct rte_mbuf *m);
/* Deletes a neighbour; what it held counts as dropped (unresolved). */
void rt_neigh_forget(struct neigh *e);
/* Sends an ARP request for tip out of oif: broadcast, or unicast to mac (a probe). */
void rt_arp_request(uint16_t oif, uint32_t tip, const struct rte_ether_addr *mac);
/* Neighbour timers: retries, reachable -> stale -> probe -> failed, clean-up. */
void rt_neigh_timers(uint64_t now);
/* Static neighbours as the config says; dynamic ones off their interface's subnets go. */
void rt_neigh_sync(const struct tessd_router_index *ix);
/*
 * Sends m (an IPv4 packet in an Ethernet frame) to neighbour ip on oif:
 * now if resolved, else held while it is asked for.
 */
void rt_neigh_output(struct rte_mbuf *m, uint16_t oif, uint32_t ip);

/* ---- the slow path (slowpath.c) ---- */

/* Handles one punted packet (any reason). */
void rt_punt(struct rte_mbuf *m);
/* Sends a packet the router made in vrf, routed (-EHOSTUNREACH: no route, counted). */
int rt_originate(struct rte_mbuf *m, uint16_t vrf);
/* The address of the interface vrf's route to dst leaves by; 0: none. */
uint32_t rt_route_src(uint16_t vrf, uint32_t dst, uint16_t *out_vrf);
/* Hands a finished frame to worker 0 to send out of oif. */
void rt_inject(struct rte_mbuf *m, uint16_t oif);
/*
 * An ICMP error about m (consumed) to its sender, from interface iif of
 * VRF vrf, unless rules or the VRF's rate say no.
 */
void rt_icmp_error(struct rte_mbuf *m, uint16_t iif, uint16_t vrf, uint8_t type, uint8_t code,
		   uint32_t mtu);

#endif
