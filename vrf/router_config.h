/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The provider-edge router section of tessd's config (router_config.c): VRFs,
 * interfaces, routes, neighbours; its rules past the schema's are router_check.c's.
 */
#ifndef TESS_ROUTER_CONFIG_H
#define TESS_ROUTER_CONFIG_H

#include "tessd_base.h"

#define TESS_MAX_VRF_ID      4095
#define TESS_MAX_IFACE_ADDRS 16
#define TESS_MAX_NEXTHOPS    8

#define TESS_IFNAME_LEN     16 /* a Linux interface name (15 chars + NUL) */
#define TESS_IFNAME_CHARSET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/*
 * A VRF bound to the kernel: tessd mirrors the routes of a kernel routing
 * table into it and gives each of its interfaces a TAP there. The kernel's
 * side of the VRF is a network namespace (FRR's netns VRF backend).
 */
struct tessd_kernel_cfg {
	char netns[TESS_NAME_LEN]; /* "": not bound; made if missing */
	uint32_t table;            /* the kernel routing table followed */
	uint32_t buffer_kb;        /* the notification socket's receive buffer */
	uint32_t batch;            /* notification datagrams read per event-loop turn */
	uint32_t max_map;          /* prefixes mirrored at most; 0: twice the VRF's max_routes */
};

struct tessd_vrf_cfg {
	char name[TESS_NAME_LEN];
	char tenant[TESS_TENANT_LEN]; /* metering label (stats.tenants); "": none */
	uint16_t id;
	struct tessd_kernel_cfg kernel;
	uint32_t icmp_rate;   /* ICMP errors per second, 0: none */
	uint32_t punt_pps;    /* packets to the control thread per second and worker */
	uint32_t arp_pps;     /* of which ARP, a budget of its own */
	uint32_t service_pps; /* UDP services of its interfaces (DHCP), a budget of its own */
	uint32_t max_routes;  /* routes in its FIB, connected and kernel ones included */
	uint32_t max_nexthop_groups;  /* next-hop groups its routes may make (0: a share) */
	uint32_t max_fib_nodes;       /* FIB nodes its routes may hold (0: a share) */
	uint32_t neigh_limit;         /* neighbour entries; 0: a share (tessd_vrf_limits) */
	uint32_t neigh_reachable_sec; /* reachable -> stale */
	uint32_t neigh_stale_sec;     /* unused stale entries go */
	uint32_t neigh_queue;         /* packets held per unresolved neighbour */
};

struct tessd_iface_cfg {
	char name[TESS_NAME_LEN];
	char vrf[TESS_NAME_LEN];
	char port[TESS_NAME_LEN]; /* on a port (vlan 0) or its VLAN sub-interface */
	uint16_t vlan;
	char group[TESS_NAME_LEN]; /* or: the router interface of a vswitch group */
	struct cfg_mac mac;        /* zero: the port's MAC, or one derived from the name */
	uint32_t mtu;
	struct cfg_prefix4 *addresses;
	uint32_t n_addresses;
	char kernel_name[TESS_IFNAME_LEN]; /* its TAP in a bound VRF; "": the interface's name */
};

struct tessd_nexthop_cfg {
	uint32_t via;                  /* gateway (host order), 0: directly on the interface */
	char interface[TESS_NAME_LEN]; /* "": the one whose subnet holds via */
};

enum tess_route_type {
	TESS_ROUTE_UNICAST,
	TESS_ROUTE_BLACKHOLE,
	TESS_ROUTE_REJECT,
	TESS_ROUTE_VRF
};

struct tessd_route_cfg {
	char vrf[TESS_NAME_LEN];
	struct cfg_prefix4 prefix;
	uint8_t type; /* enum tess_route_type */
	struct tessd_nexthop_cfg *nexthops;
	uint32_t n_nexthops;
	char target_vrf[TESS_NAME_LEN]; /* type vrf: look up again there */
};

struct tessd_neigh_cfg {
	char vrf[TESS_NAME_LEN];
	uint32_t ip; /* host order */
	struct cfg_mac mac;
	char interface[TESS_NAME_LEN]; /* "": the one whose subnet holds ip */
};

struct tessd_router_cfg {
	struct tessd_vrf_cfg *vrfs;
	uint32_t n_vrfs;
	struct tessd_iface_cfg *interfaces;
	uint32_t n_interfaces;
	struct tessd_route_cfg *routes;
	uint32_t n_routes;
	struct tessd_neigh_cfg *neighbours;
	uint32_t n_neighbours;
	uint32_t neigh_capacity; /* neighbour entries of all VRFs together */
	uint32_t fib_nodes;      /* FIB nodes (1 KiB of hugepage memory each) of all VRFs */
};

extern const struct cfg_node tessd_router_schema;
/*
 * Its section of tessd's config: struct tessd_cfg's member, the JSON key, the
 * type and the schema (registered by vrf/meson.build, see config/tessd_config.h).
 */
#define TESSD_ROUTER_SECTION(OBJ, ARR) \
	OBJ(router, "router", struct tessd_router_cfg, tessd_router_schema)

extern const char *const tess_route_types[]; /* names of enum tess_route_type */
extern const struct cfg_node tessd_vrf_schema;
extern const struct cfg_node tessd_iface_schema;
extern const struct cfg_node tessd_route_schema;
extern const struct cfg_node tessd_neigh_schema;
const struct tessd_vrf_cfg *tessd_cfg_vrf(const struct tessd_cfg *cfg, const char *name);
const struct tessd_iface_cfg *tessd_cfg_iface(const struct tessd_cfg *cfg, const char *name);
/* cfg's router interfaces' indexes sorted by name (free it); NULL: none, or -ENOMEM in *rc. */
uint32_t *tessd_cfg_iface_order(const struct tessd_cfg *cfg, int *rc);
/* The index of router interface name, found in that order; -1: none. */
int64_t tessd_cfg_iface_find(const struct tessd_cfg *cfg, const uint32_t *order, const char *name);

#endif
