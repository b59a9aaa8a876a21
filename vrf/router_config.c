/* SPDX-License-Identifier: BSD-3-Clause */
/* The provider-edge router part of tessd's config: VRFs, interfaces, routes, neighbours. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessd_config.h"

static int check_unicast_mac(const void *val, char *why, size_t len)
{
	const struct cfg_mac *m = val;
	char s[CFG_MAC_STRLEN];

	if (m->b[0] & 1) {
		snprintf(why, len, "%s is a multicast address", cfg_fmt_mac(m, s, sizeof(s)));
		return EINVAL;
	}
	return 0;
}

static const struct cfg_node opt_mac_node = {
	.type = CFG_MAC,
	.str = { .max_len = TESS_MAC_LEN - 1, .charset = "0123456789abcdefABCDEF:" },
	.check = check_unicast_mac,
};

/* ---- VRFs ---- */

/* Linux interface names: no '/', no spaces, not "." or "..". */

static const struct cfg_field kernel_fields[] = {
	CFG_FIELD(struct tessd_kernel_cfg, netns, "netns",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = TESS_NAME_LEN - 1,
						      .charset = TESS_IFNAME_CHARSET } }),
		  false, "\"\""),
	/* Not 0 (unspec) nor 255 (local): the tables routes are added to. */
	CFG_FIELD(struct tessd_kernel_cfg, table, "table",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 254 } }), false, "254"),
	/* Big enough for a routing daemon's bursts: what overflows is read again whole. */
	CFG_FIELD(struct tessd_kernel_cfg, buffer_kb, "buffer_kb",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 4, 1 << 20 } }), false,
		  "8192"),
	/* A route storm must not hold the control thread in one read loop (review 3.6). */
	CFG_FIELD(struct tessd_kernel_cfg, batch, "batch",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 65536 } }), false, "64"),
	/* A tenant's daemon cannot take tessd's memory with routes the FIB never gets. */
	CFG_FIELD(struct tessd_kernel_cfg, max_map, "max_map",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1 << 25 } }), false, "0"),
	{ 0 },
};

static const struct cfg_field vrf_fields[] = {
	CFG_FIELD(struct tessd_vrf_cfg, name, "name", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_vrf_cfg, id, "id",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, TESS_MAX_VRF_ID } }), true,
		  NULL),
	CFG_FIELD(struct tessd_vrf_cfg, kernel, "kernel",
		  (&(const struct cfg_node){ .type = CFG_OBJECT,
					     .obj = { .fields = kernel_fields,
						      .size = sizeof(struct tessd_kernel_cfg) } }),
		  false, "{}"),
	CFG_FIELD(struct tessd_vrf_cfg, icmp_rate, "icmp_rate",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1000000 } }), false, "100"),
	/* Per worker: one VRF's TTL=1 or options flood stays within its own budget. */
	CFG_FIELD(struct tessd_vrf_cfg, punt_pps, "punt_pps",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 1000000 } }), false,
		  "5000"),
	/* Shares of the FIB and next-hop groups all VRFs draw on (a BGP feed cannot take all). */
	CFG_FIELD(struct tessd_vrf_cfg, max_routes, "max_routes",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 1 << 24 } }), false,
		  "262144"),
	/* 0: a share of the group ids, so explicit and automatic shares add up to no more. */
	CFG_FIELD(struct tessd_vrf_cfg, max_nexthop_groups, "max_nexthop_groups",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 65535 } }), false, "0"),
	/* 0: a share of router.fib_nodes: scattered prefixes cannot take the FIB's memory. */
	CFG_FIELD(struct tessd_vrf_cfg, max_fib_nodes, "max_fib_nodes",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1 << 23 } }), false, "0"),
	CFG_FIELD(struct tessd_vrf_cfg, arp_pps, "arp_pps",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 1000000 } }), false,
		  "1000"),
	/* DHCP and other services of its interfaces: a DISCOVER flood stays in it. */
	CFG_FIELD(struct tessd_vrf_cfg, service_pps, "service_pps",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 1000000 } }), false, "200"),
	/* 0: a share of router.neigh_capacity, so hundreds of VRFs fit on defaults (review 3.4). */
	CFG_FIELD(struct tessd_vrf_cfg, neigh_limit, "neigh_limit",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1 << 20 } }), false, "0"),
	CFG_FIELD(struct tessd_vrf_cfg, neigh_reachable_sec, "neigh_reachable_sec",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 86400 } }), false, "30"),
	CFG_FIELD(struct tessd_vrf_cfg, neigh_stale_sec, "neigh_stale_sec",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 86400 } }), false, "120"),
	CFG_FIELD(struct tessd_vrf_cfg, neigh_queue, "neigh_queue",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 256 } }), false, "3"),
	CFG_FIELD(struct tessd_vrf_cfg, tenant, "tenant", &tessd_tenant_schema, false, "\"\""),
	{ 0 },
};
const struct cfg_node tessd_vrf_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = vrf_fields, .size = sizeof(struct tessd_vrf_cfg) },
};

/* ---- interfaces ---- */

static const struct cfg_node addrs_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_prefix_schema,
		 .max = TESS_MAX_IFACE_ADDRS,
		 .item_size = sizeof(struct cfg_prefix4) },
};
static const struct cfg_field iface_fields[] = {
	CFG_FIELD(struct tessd_iface_cfg, name, "name", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_iface_cfg, vrf, "vrf", &tessd_vrf_ref_schema, true, NULL),
	CFG_FIELD(struct tessd_iface_cfg, port, "port", &tessd_opt_port_ref_schema, false, "\"\""),
	CFG_FIELD(struct tessd_iface_cfg, vlan, "vlan",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, TESS_VLAN_MAX } }), false,
		  "0"),
	CFG_FIELD(struct tessd_iface_cfg, group, "group", &tessd_opt_group_ref_schema, false,
		  "\"\""),
	CFG_FIELD(struct tessd_iface_cfg, mac, "mac", &opt_mac_node, false, "\"\""),
	CFG_FIELD(struct tessd_iface_cfg, mtu, "mtu",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 68, 16110 } }), false, "1500"),
	CFG_ARRAY_FIELD(struct tessd_iface_cfg, addresses, n_addresses, "addresses", &addrs_node,
			false, "[]"),
	CFG_FIELD(struct tessd_iface_cfg, kernel_name, "kernel_name",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = TESS_IFNAME_LEN - 1,
						      .charset = TESS_IFNAME_CHARSET } }),
		  false, "\"\""),
	{ 0 },
};
const struct cfg_node tessd_iface_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = iface_fields, .size = sizeof(struct tessd_iface_cfg) },
};

/* ---- routes ---- */

const char *const tess_route_types[] = { "unicast", "blackhole", "reject", "vrf", NULL };
static const struct cfg_node opt_iface_ref_node = {
	.type = CFG_REF,
	.str = { .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
	.ref = { .table = "/router/interfaces", .key = "name", .what = "interface" },
};
static const struct cfg_field nh_fields[] = {
	CFG_FIELD(struct tessd_nexthop_cfg, via, "via", &tessd_opt_ip4_schema, false, "\"\""),
	CFG_FIELD(struct tessd_nexthop_cfg, interface, "interface", &opt_iface_ref_node, false,
		  "\"\""),
	{ 0 },
};
static const struct cfg_node nh_node = {
	.type = CFG_OBJECT,
	.obj = { .fields = nh_fields, .size = sizeof(struct tessd_nexthop_cfg) },
};
static const struct cfg_node nhs_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &nh_node,
		 .max = TESS_MAX_NEXTHOPS,
		 .item_size = sizeof(struct tessd_nexthop_cfg) },
};
static const struct cfg_field route_fields[] = {
	CFG_FIELD(struct tessd_route_cfg, vrf, "vrf", &tessd_vrf_ref_schema, true, NULL),
	CFG_FIELD(struct tessd_route_cfg, prefix, "prefix", &tessd_prefix_schema, true, NULL),
	CFG_FIELD(
		struct tessd_route_cfg, type, "type",
		(&(const struct cfg_node){ .type = CFG_ENUM,
					   .str = { .max_len = 11, .choices = tess_route_types } }),
		false, "\"unicast\""),
	CFG_ARRAY_FIELD(struct tessd_route_cfg, nexthops, n_nexthops, "nexthops", &nhs_node, false,
			"[]"),
	CFG_FIELD(struct tessd_route_cfg, target_vrf, "target_vrf", &tessd_opt_vrf_ref_schema,
		  false, "\"\""),
	{ 0 },
};
const struct cfg_node tessd_route_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = route_fields, .size = sizeof(struct tessd_route_cfg) },
};

/* ---- neighbours ---- */

static const struct cfg_field neigh_fields[] = {
	CFG_FIELD(struct tessd_neigh_cfg, vrf, "vrf", &tessd_vrf_ref_schema, true, NULL),
	CFG_FIELD(struct tessd_neigh_cfg, ip, "ip", &tessd_ip4_schema, true, NULL),
	CFG_FIELD(struct tessd_neigh_cfg, mac, "mac", &tessd_mac_schema, true, NULL),
	CFG_FIELD(struct tessd_neigh_cfg, interface, "interface", &opt_iface_ref_node, false,
		  "\"\""),
	{ 0 },
};
const struct cfg_node tessd_neigh_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = neigh_fields, .size = sizeof(struct tessd_neigh_cfg) },
};

/* ---- router ---- */

static const struct cfg_field router_fields[] = {
	CFG_ARRAY_FIELD(struct tessd_router_cfg, vrfs, n_vrfs, "vrfs",
			CFG_ARR_NODE(&tessd_vrf_schema, TESS_MAX_VRF_ID, struct tessd_vrf_cfg),
			false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_router_cfg, interfaces, n_interfaces, "interfaces",
			CFG_ARR_NODE(&tessd_iface_schema, 8192, struct tessd_iface_cfg), false,
			"[]"),
	CFG_ARRAY_FIELD(struct tessd_router_cfg, routes, n_routes, "routes",
			CFG_ARR_NODE(&tessd_route_schema, 1 << 22, struct tessd_route_cfg), false,
			"[]"),
	CFG_ARRAY_FIELD(struct tessd_router_cfg, neighbours, n_neighbours, "neighbours",
			CFG_ARR_NODE(&tessd_neigh_schema, 1 << 20, struct tessd_neigh_cfg), false,
			"[]"),
	CFG_FIELD(struct tessd_router_cfg, neigh_capacity, "neigh_capacity",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1024, 1 << 22 } }), false,
		  "65536"),
	/* The memory the VRFs' FIB node shares add up to: 256 MiB of hugepages by default. */
	CFG_FIELD(struct tessd_router_cfg, fib_nodes, "fib_nodes",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1024, 1 << 23 } }), false,
		  "262144"),
	{ 0 },
};
const struct cfg_node tessd_router_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = router_fields, .size = sizeof(struct tessd_router_cfg) },
};

/* ---- lookups ---- */

const struct tessd_vrf_cfg *tessd_cfg_vrf(const struct tessd_cfg *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->router.n_vrfs; i++)
		if (strcmp(cfg->router.vrfs[i].name, name) == 0)
			return &cfg->router.vrfs[i];
	return NULL;
}

const struct tessd_iface_cfg *tessd_cfg_iface(const struct tessd_cfg *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->router.n_interfaces; i++)
		if (strcmp(cfg->router.interfaces[i].name, name) == 0)
			return &cfg->router.interfaces[i];
	return NULL;
}

/* ---- interfaces by name: configs may hold thousands of interfaces and servers ---- */

static int cmp_iface(const void *a, const void *b, void *arg)
{
	const struct tessd_cfg *cfg = arg;

	return strcmp(cfg->router.interfaces[*(const uint32_t *)a].name,
		      cfg->router.interfaces[*(const uint32_t *)b].name);
}

uint32_t *tessd_cfg_iface_order(const struct tessd_cfg *cfg, int *rc)
{
	uint32_t n = cfg->router.n_interfaces;
	uint32_t *o = n ? malloc(n * sizeof(*o)) : NULL;

	*rc = n && o == NULL ? -ENOMEM : 0;
	for (uint32_t i = 0; o && i < n; i++)
		o[i] = i;
	if (o)
		qsort_r(o, n, sizeof(*o), cmp_iface, (void *)cfg);
	return o;
}

int64_t tessd_cfg_iface_find(const struct tessd_cfg *cfg, const uint32_t *order, const char *name)
{
	uint32_t lo = 0, hi = order ? cfg->router.n_interfaces : 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(cfg->router.interfaces[order[mid]].name, name);
		if (c == 0)
			return order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
