/* SPDX-License-Identifier: BSD-3-Clause */
/* The router's config rules and name lookups (the schema is router_config.c). */
#ifndef TESS_ROUTER_CHECK_H
#define TESS_ROUTER_CHECK_H

#include "nexthop.h"
#include "tessd_config.h"

/*
 * Name lookups over a router config in O(log n), for whatever checks or
 * applies many routes at once. Valid while the config is unchanged.
 */
struct tessd_router_index {
	const struct tessd_cfg *cfg;
	uint32_t *vrfs;         /* VRF indexes, sorted by name */
	uint32_t *ifaces;       /* interface indexes, sorted by name */
	uint32_t *by_vrf;       /* interface indexes, grouped by their VRF's sorted position */
	uint32_t *by_vrf_start; /* [n_vrfs + 2]: where each group starts (last: unknown VRFs) */
	uint16_t *ids;          /* the user's own numbers per interface index, if it sets them */
};
int tessd_router_index_init(struct tessd_router_index *ix, const struct tessd_cfg *cfg);
void tessd_router_index_fini(struct tessd_router_index *ix);
const struct tessd_vrf_cfg *tessd_ix_vrf(const struct tessd_router_index *ix, const char *name);
/* The name of an interface's TAP in its VRF's kernel namespace. */
const char *tessd_iface_kernel_name(const struct tessd_iface_cfg *ic);
const struct tessd_iface_cfg *tessd_ix_iface(const struct tessd_router_index *ix, const char *name);
/* The interfaces of a VRF (indexes into cfg's interfaces, *idx); how many. */
uint32_t tessd_ix_vrf_ifaces(const struct tessd_router_index *ix, const char *vrf,
			     const uint32_t **idx);
/* The interface of vrf whose subnet holds ip (host order), or NULL. */
const struct tessd_iface_cfg *tessd_ix_iface_for(const struct tessd_router_index *ix,
						 const char *vrf, uint32_t ip);

/*
 * One route against ix's config (its VRF, prefix, next hops, connected
 * subnets), reported under /router/routes/<i>; not against the other routes.
 */
void tessd_route_check(const struct tessd_router_index *ix, const struct tessd_route_cfg *rc,
		       uint32_t i, struct cfg_errs *errs);
/*
 * Neighbour table shares (review 3.4): a VRF's neigh_limit, or if it is 0
 * (automatic) an equal share of what router.neigh_capacity leaves after the
 * explicit limits, at most TESSD_NEIGH_SHARE_MAX; validation refuses a
 * config whose shares would be under TESSD_NEIGH_SHARE_MIN.
 */
#define TESSD_NEIGH_SHARE_MAX 4096u
#define TESSD_NEIGH_SHARE_MIN 16u
/*
 * Next-hop group shares (review 3.2): the same for max_nexthop_groups over
 * the group ids all VRFs draw on, so that no VRF's groups, a BGP feed's
 * included, leave another without the ids its share promises.
 */
#define TESSD_GROUP_POOL      (NH_MAX_GROUPS - 1u)
#define TESSD_GROUP_SHARE_MAX 4096u
#define TESSD_GROUP_SHARE_MIN 16u
/*
 * FIB node shares (review of 3.2): the same for max_fib_nodes over
 * router.fib_nodes, so that a VRF's scattered prefixes (a BGP feed of /32s)
 * cannot take the hugepage memory the others' routes need.
 */
#define TESSD_FIB_SHARE_MAX 65536u
#define TESSD_FIB_SHARE_MIN 16u
/* What a VRF may hold of each shared pool. */
struct tessd_vrf_limits {
	uint32_t neigh;  /* neighbour entries */
	uint32_t groups; /* next-hop groups */
	uint32_t nodes;  /* FIB nodes */
};
/* The automatic shares of r, for the limits a VRF leaves at 0: O(VRFs), once per config. */
struct tessd_vrf_limits tessd_vrf_auto_shares(const struct tessd_router_cfg *r);
/* The limits in force for vc: its own where set, else the automatic shares. */
struct tessd_vrf_limits tessd_vrf_limits(const struct tessd_vrf_limits *auto_shares,
					 const struct tessd_vrf_cfg *vc);
/*
 * Each VRF's configured routes and distinct next-hop groups, as validation
 * counts them (review of 3.2): route.add counts the same way, the running
 * config's counts with its route added. Valid while ix's config is.
 */
struct tessd_group_key {
	uint16_t vrf;
	struct nh_group g; /* interfaces by index + 1 */
};
struct tessd_vrf_counts {
	uint32_t *routes;             /* [TESS_MAX_VRF_ID + 1] */
	uint32_t *groups;             /* [TESS_MAX_VRF_ID + 1] */
	uint32_t *nodes;              /* [TESS_MAX_VRF_ID + 1]: FIB nodes, as the FIB holds them */
	struct tessd_group_key *keys; /* the groups counted: open addressing */
	bool *taken;
	uint32_t mask, n_keys;
	uint64_t *node_keys; /* the nodes below the roots: VRF, level, prefix; 0 empty */
	uint32_t node_mask, n_node_keys;
};
int tessd_vrf_counts_init(struct tessd_vrf_counts *c, const struct tessd_router_index *ix);
/* Whether rc (of a known VRF) would add a group to its VRF's count. */
bool tessd_vrf_counts_new_group(const struct tessd_vrf_counts *c,
				const struct tessd_router_index *ix,
				const struct tessd_route_cfg *rc);
/* How many FIB nodes prefix/len would add to VRF id's count (0 to 3). */
uint32_t tessd_vrf_counts_new_nodes(const struct tessd_vrf_counts *c, uint16_t id, uint32_t ip,
				    uint8_t len);
/* rc counted (appended to ix's config); -ENOMEM. */
int tessd_vrf_counts_add(struct tessd_vrf_counts *c, const struct tessd_router_index *ix,
			 const struct tessd_route_cfg *rc);
void tessd_vrf_counts_fini(struct tessd_vrf_counts *c);
/* The router section's rules (the router module's validate). */
int tessd_router_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* The interface of vrf whose subnet holds ip (host order), or NULL. */
const struct tessd_iface_cfg *tessd_iface_for(const struct tessd_cfg *cfg, const char *vrf,
					      uint32_t ip);

#endif
