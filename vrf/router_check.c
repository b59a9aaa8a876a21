/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's config rules, past what the schema says: interfaces on free
 * ports or groups with unicast host addresses that do not overlap, routes
 * on networks with reachable next hops, neighbours on connected subnets, no
 * duplicates; with O(log n) name lookups (router_index.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router_check.h"
#include "router_int.h"

/* Whether one of iface's subnets holds ip (and, if addr, ip is not that subnet's own address). */
static bool iface_holds(const struct tessd_iface_cfg *ic, uint32_t ip)
{
	for (uint32_t a = 0; a < ic->n_addresses; a++) {
		const struct cfg_prefix4 *ap = &ic->addresses[a];
		if ((ip & rt_mask(ap->len)) == (ap->ip & rt_mask(ap->len)))
			return true;
	}
	return false;
}

const struct tessd_iface_cfg *tessd_iface_for(const struct tessd_cfg *cfg, const char *vrf,
					      uint32_t ip)
{
	for (uint32_t i = 0; i < cfg->router.n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &cfg->router.interfaces[i];
		if (strcmp(ic->vrf, vrf) == 0 && iface_holds(ic, ip))
			return ic;
	}
	return NULL;
}

const struct tessd_iface_cfg *tessd_ix_iface_for(const struct tessd_router_index *ix,
						 const char *vrf, uint32_t ip)
{
	const uint32_t *idx;
	uint32_t n = tessd_ix_vrf_ifaces(ix, vrf, &idx);

	for (uint32_t k = 0; k < n; k++)
		if (iface_holds(&ix->cfg->router.interfaces[idx[k]], ip))
			return &ix->cfg->router.interfaces[idx[k]];
	return NULL;
}

/* Whether ip is one of vrf's own addresses. */
static bool is_own(const struct tessd_router_index *ix, const char *vrf, uint32_t ip)
{
	const uint32_t *idx;
	uint32_t n = tessd_ix_vrf_ifaces(ix, vrf, &idx);

	for (uint32_t k = 0; k < n; k++) {
		const struct tessd_iface_cfg *ic = &ix->cfg->router.interfaces[idx[k]];
		for (uint32_t a = 0; a < ic->n_addresses; a++)
			if (ic->addresses[a].ip == ip)
				return true;
	}
	return false;
}

/* ---- validation ---- */

#define ERR(code, ...)                                   \
	do {                                             \
		cfg_err_add(errs, code, p, __VA_ARGS__); \
	} while (0)

static void validate_vrfs(const struct tessd_router_cfg *r, struct cfg_errs *errs)
{
	char p[CFG_PATH_MAX];

	for (uint32_t i = 0; i < r->n_vrfs; i++) {
		for (uint32_t j = 0; j < i; j++) {
			if (strcmp(r->vrfs[i].name, r->vrfs[j].name) == 0) {
				snprintf(p, sizeof(p), "/router/vrfs/%u/name", i);
				ERR(EEXIST, "duplicate VRF name '%s'", r->vrfs[i].name);
			}
			if (r->vrfs[i].id == r->vrfs[j].id) {
				snprintf(p, sizeof(p), "/router/vrfs/%u/id", i);
				ERR(EEXIST, "VRF id %u is already VRF '%s'", r->vrfs[i].id,
				    r->vrfs[j].name);
			}
			/* One kernel table is one VRF's. */
			if (r->vrfs[i].kernel.netns[0] &&
			    strcmp(r->vrfs[i].kernel.netns, r->vrfs[j].kernel.netns) == 0 &&
			    r->vrfs[i].kernel.table == r->vrfs[j].kernel.table) {
				snprintf(p, sizeof(p), "/router/vrfs/%u/kernel", i);
				ERR(EEXIST, "table %u of netns %s is already VRF '%s''s",
				    r->vrfs[i].kernel.table, r->vrfs[i].kernel.netns,
				    r->vrfs[j].name);
			}
		}
		if (!strcmp(r->vrfs[i].kernel.netns, ".") ||
		    !strcmp(r->vrfs[i].kernel.netns, "..")) {
			snprintf(p, sizeof(p), "/router/vrfs/%u/kernel/netns", i);
			ERR(EINVAL, "'%s' is not a namespace name", r->vrfs[i].kernel.netns);
		}
	}
}

/*
 * Each VRF's configured routes and next-hop groups, counted one way for
 * validation and route.add (review of 3.2): the static routes, and the
 * connected, local and broadcast routes of its interfaces' addresses, each
 * one (even two on one prefix, which the FIB holds once); their groups as
 * rt_route_group makes them (interfaces by index + 1), shared ones once.
 */

/* calloc'd or memset: padding stays zero, the hash and memcmp see only what is set. */
static void group_of(struct tessd_group_key *e, uint16_t vrf, uint8_t type, uint8_t origin,
		     uint16_t iface)
{
	memset(e, 0, sizeof(*e));
	e->vrf = vrf;
	e->g.type = type;
	e->g.origin = origin;
	if (iface) {
		e->g.n = 1;
		e->g.path[0].iface = iface;
	}
}

/* rc's group; false if its VRF is unknown (an error of its own). */
static bool route_group_of(const struct tessd_router_index *ix, const struct tessd_route_cfg *rc,
			   struct tessd_group_key *e)
{
	const struct tessd_router_cfg *r = &ix->cfg->router;
	const struct tessd_vrf_cfg *vc = tessd_ix_vrf(ix, rc->vrf), *t;
	uint8_t type = rc->type == TESS_ROUTE_BLACKHOLE ? NH_BLACKHOLE
		       : rc->type == TESS_ROUTE_REJECT  ? NH_REJECT
		       : rc->type == TESS_ROUTE_VRF     ? NH_VRF
							: NH_UNICAST;

	if (vc == NULL)
		return false;
	group_of(e, vc->id, type, NH_ORIGIN_STATIC, 0);
	if (type == NH_VRF) {
		t = tessd_ix_vrf(ix, rc->target_vrf);
		e->g.target_vrf = t ? t->id : 0;
	}
	for (uint32_t j = 0; type == NH_UNICAST && j < rc->n_nexthops && j < NH_MAX_PATHS; j++) {
		const struct tessd_nexthop_cfg *nh = &rc->nexthops[j];
		const struct tessd_iface_cfg *ic =
			nh->interface[0] ? tessd_ix_iface(ix, nh->interface)
					 : tessd_ix_iface_for(ix, rc->vrf, nh->via);
		if (ic == NULL)
			break; /* an error of its own */
		e->g.path[e->g.n].iface = (uint16_t)(ic - r->interfaces + 1);
		e->g.path[e->g.n].gw = nh->via;
		e->g.n++;
	}
	return true;
}

static uint32_t group_hash(const struct tessd_group_key *e)
{
	uint64_t h = rt_fnv(RT_FNV_BASIS, e, sizeof(*e));

	return (uint32_t)(h ^ h >> 32);
}

/* The slot of e: where it is, or the free one where it would go. */
static uint32_t group_slot(const struct tessd_vrf_counts *c, const struct tessd_group_key *e)
{
	uint32_t s = group_hash(e) & c->mask;

	while (c->taken[s] && memcmp(&c->keys[s], e, sizeof(*e)) != 0)
		s = (s + 1) & c->mask;
	return s;
}

/* Slots of an open-addressing table for want keys: a power of two, at most half full. */
static uint32_t table_slots(uint32_t want)
{
	uint32_t n = 64;

	while (n < 2 * want)
		n *= 2;
	return n;
}

static int group_table(struct tessd_vrf_counts *c, uint32_t want)
{
	uint32_t n = table_slots(want);

	c->keys =
		calloc(n, sizeof(*c->keys)); /* zeroed: the analyzer cannot pair keys with taken */
	c->taken = calloc(n, sizeof(*c->taken));
	c->mask = n - 1;
	c->n_keys = 0;
	return c->keys && c->taken ? 0 : -ENOMEM;
}

/* Counts e for its VRF if new. */
static int group_add(struct tessd_vrf_counts *c, const struct tessd_group_key *e)
{
	uint32_t s;

	if (2 * (c->n_keys + 1) > c->mask + 1) {
		struct tessd_vrf_counts old = *c;
		if (group_table(c, c->n_keys + 1) < 0) {
			free(c->keys);
			free(c->taken);
			c->keys = old.keys;
			c->taken = old.taken;
			c->mask = old.mask;
			c->n_keys = old.n_keys;
			return -ENOMEM;
		}
		for (uint32_t i = 0; i <= old.mask; i++)
			if (old.taken[i]) {
				s = group_slot(c, &old.keys[i]);
				memcpy(&c->keys[s], &old.keys[i], sizeof(*e));
				c->taken[s] = true;
				c->n_keys++;
			}
		free(old.keys);
		free(old.taken);
	}
	s = group_slot(c, e);
	if (c->taken[s])
		return 0;
	memcpy(&c->keys[s], e, sizeof(*e)); /* with its zero padding */
	c->taken[s] = true;
	c->n_keys++;
	c->groups[e->vrf]++;
	return 0;
}

/*
 * FIB nodes, counted as the trie holds them (fib.h): a VRF's root, and one
 * node below each /8, /16 and /24 that one of its prefixes is longer than,
 * shared by every prefix in it. Keys: VRF, level (1-3) and that prefix.
 */
static uint64_t node_key(uint16_t vrf, unsigned level, uint32_t ip)
{
	return (uint64_t)vrf << 40 | (uint64_t)level << 32 | (ip & rt_mask((uint8_t)(8 * level)));
}

static uint32_t node_slot(const struct tessd_vrf_counts *c, uint64_t key)
{
	uint32_t s = (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & c->node_mask;

	while (c->node_keys[s] && c->node_keys[s] != key)
		s = (s + 1) & c->node_mask;
	return s;
}

static int node_table(struct tessd_vrf_counts *c, uint32_t want)
{
	uint32_t n = table_slots(want);

	c->node_keys = calloc(n, sizeof(*c->node_keys));
	c->node_mask = n - 1;
	c->n_node_keys = 0;
	return c->node_keys ? 0 : -ENOMEM;
}

static int node_add(struct tessd_vrf_counts *c, uint64_t key)
{
	uint32_t s;

	if (2 * (c->n_node_keys + 1) > c->node_mask + 1) {
		uint64_t *old = c->node_keys;
		uint32_t old_mask = c->node_mask, n = c->n_node_keys;
		if (node_table(c, n + 1) < 0) {
			c->node_keys = old;
			c->node_mask = old_mask;
			c->n_node_keys = n;
			return -ENOMEM;
		}
		for (uint32_t i = 0; i <= old_mask; i++)
			if (old[i]) {
				c->node_keys[node_slot(c, old[i])] = old[i];
				c->n_node_keys++;
			}
		free(old);
	}
	s = node_slot(c, key);
	if (c->node_keys[s])
		return 0;
	c->node_keys[s] = key;
	c->n_node_keys++;
	c->nodes[key >> 40]++;
	return 0;
}

static int nodes_add(struct tessd_vrf_counts *c, uint16_t vrf, uint32_t ip, uint8_t len)
{
	for (unsigned level = 1; len > 8 * level; level++)
		if (node_add(c, node_key(vrf, level, ip)) < 0)
			return -ENOMEM;
	return 0;
}

uint32_t tessd_vrf_counts_new_nodes(const struct tessd_vrf_counts *c, uint16_t id, uint32_t ip,
				    uint8_t len)
{
	uint32_t n = 0;

	for (unsigned level = 1; len > 8 * level; level++)
		n += c->node_keys[node_slot(c, node_key(id, level, ip))] == 0;
	return n;
}

int tessd_vrf_counts_init(struct tessd_vrf_counts *c, const struct tessd_router_index *ix)
{
	const struct tessd_router_cfg *r = &ix->cfg->router;
	struct tessd_group_key e;

	memset(c, 0, sizeof(*c));
	c->routes = calloc(TESS_MAX_VRF_ID + 1, sizeof(*c->routes));
	c->groups = calloc(TESS_MAX_VRF_ID + 1, sizeof(*c->groups));
	c->nodes = calloc(TESS_MAX_VRF_ID + 1, sizeof(*c->nodes));
	if (c->routes == NULL || c->groups == NULL || c->nodes == NULL ||
	    group_table(c, r->n_routes + 3 * r->n_interfaces) < 0 || node_table(c, 64) < 0)
		goto nomem;
	for (uint32_t i = 0; i < r->n_vrfs; i++)
		c->nodes[r->vrfs[i].id] = 1; /* its root */
	for (uint32_t i = 0; i < r->n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &r->interfaces[i];
		const struct tessd_vrf_cfg *vc = tessd_ix_vrf(ix, ic->vrf);
		bool local = false, connected = false, broadcast = false;
		uint16_t id = (uint16_t)(i + 1);

		for (uint32_t a = 0; vc && a < ic->n_addresses; a++) {
			uint32_t ip = ic->addresses[a].ip;
			uint8_t len = ic->addresses[a].len;
			c->routes[vc->id] += 1u + (len < 32) + (len <= 30);
			if (nodes_add(c, vc->id, ip, 32) < 0 ||
			    nodes_add(c, vc->id, ip & rt_mask(len), len) < 0 ||
			    (len <= 30 && nodes_add(c, vc->id, ip | ~rt_mask(len), 32) < 0))
				goto nomem;
			local = true;
			connected |= ic->addresses[a].len < 32;
			broadcast |= ic->addresses[a].len <= 30;
		}
		if (local) {
			group_of(&e, vc->id, NH_LOCAL, NH_ORIGIN_LOCAL, id);
			if (group_add(c, &e) < 0)
				goto nomem;
		}
		if (connected) {
			group_of(&e, vc->id, NH_UNICAST, NH_ORIGIN_CONNECTED, id);
			if (group_add(c, &e) < 0)
				goto nomem;
		}
		if (broadcast) {
			group_of(&e, vc->id, NH_LOCAL, NH_ORIGIN_BROADCAST, id);
			if (group_add(c, &e) < 0)
				goto nomem;
		}
	}
	for (uint32_t i = 0; i < r->n_routes; i++)
		if (tessd_vrf_counts_add(c, ix, &r->routes[i]) < 0)
			goto nomem;
	return 0;
nomem:
	tessd_vrf_counts_fini(c);
	return -ENOMEM;
}

bool tessd_vrf_counts_new_group(const struct tessd_vrf_counts *c,
				const struct tessd_router_index *ix,
				const struct tessd_route_cfg *rc)
{
	struct tessd_group_key e;

	return route_group_of(ix, rc, &e) && !c->taken[group_slot(c, &e)];
}

int tessd_vrf_counts_add(struct tessd_vrf_counts *c, const struct tessd_router_index *ix,
			 const struct tessd_route_cfg *rc)
{
	struct tessd_group_key e;

	if (!route_group_of(ix, rc, &e))
		return 0;
	c->routes[e.vrf]++;
	if (nodes_add(c, e.vrf, rc->prefix.ip, rc->prefix.len) < 0)
		return -ENOMEM;
	return group_add(c, &e);
}

void tessd_vrf_counts_fini(struct tessd_vrf_counts *c)
{
	free(c->routes);
	free(c->groups);
	free(c->nodes);
	free(c->node_keys);
	free(c->keys);
	free(c->taken);
	memset(c, 0, sizeof(*c));
}

/*
 * Each VRF's configured routes within its max_routes, groups within its
 * max_nexthop_groups and FIB nodes within its max_fib_nodes: configured
 * routes are installed whatever the limits once the config is valid (review
 * 3.2), so a config that cannot be installed whole is refused, not half
 * applied.
 */
static void validate_vrf_counts(const struct tessd_router_index *ix,
				const struct tessd_router_cfg *r, struct cfg_errs *errs)
{
	struct tessd_vrf_counts c;
	char p[CFG_PATH_MAX];

	if (tessd_vrf_counts_init(&c, ix) < 0) {
		cfg_err_add(errs, ENOMEM, "/router", "no memory to count the routes of each VRF");
		return;
	}
	const struct tessd_vrf_limits auto_shares = tessd_vrf_auto_shares(r);

	for (uint32_t i = 0; i < r->n_vrfs; i++) {
		const struct tessd_vrf_cfg *vc = &r->vrfs[i];
		const struct tessd_vrf_limits lim = tessd_vrf_limits(&auto_shares, vc);

		if (c.routes[vc->id] > vc->max_routes) {
			snprintf(p, sizeof(p), "/router/vrfs/%u/max_routes", i);
			ERR(ENOSPC,
			    "VRF '%s' has %u routes configured (static, and its interfaces' "
			    "connected ones), over its max_routes (%u)",
			    vc->name, c.routes[vc->id], vc->max_routes);
		}
		/* No automatic share at all (explicit ones take the pool) is validate_share's. */
		if (lim.nodes && c.nodes[vc->id] > lim.nodes) {
			snprintf(p, sizeof(p), "/router/vrfs/%u/max_fib_nodes", i);
			ERR(ENOSPC,
			    "VRF '%s' needs %u FIB nodes for its configured routes (static, "
			    "and its interfaces'), over its max_fib_nodes (%u%s)",
			    vc->name, c.nodes[vc->id], lim.nodes,
			    vc->max_fib_nodes ? "" : ", its automatic share");
		}
		if (c.groups[vc->id] > lim.groups) {
			snprintf(p, sizeof(p), "/router/vrfs/%u/max_nexthop_groups", i);
			ERR(ENOSPC,
			    "VRF '%s' has %u next-hop groups configured (static routes' and its "
			    "interfaces'), over its max_nexthop_groups (%u%s)",
			    vc->name, c.groups[vc->id], lim.groups,
			    vc->max_nexthop_groups ? "" : ", its automatic share");
		}
	}
	tessd_vrf_counts_fini(&c);
}

/* ---- shares of the pools all VRFs draw on (reviews 3.2 and 3.4) ---- */

/*
 * A per-VRF limit whose 0 means an equal share of a pool: what the explicit
 * limits leave, at most max and, for the config to be valid, at least min.
 */
struct vrf_share {
	const char *field; /* its name in router.vrfs[] */
	size_t off;        /* its uint32_t in struct tessd_vrf_cfg */
	const char *what;  /* what the pool holds */
	uint32_t max, min;
	uint64_t (*pool)(const struct tessd_router_cfg *r); /* its size */
	const char *pool_name;                              /* for the errors */
	const char *remedy; /* when the automatic shares are under min */
};

static uint64_t neigh_pool(const struct tessd_router_cfg *r)
{
	return r->neigh_capacity;
}

static uint64_t group_pool(const struct tessd_router_cfg *r)
{
	(void)r;
	return TESSD_GROUP_POOL;
}

static uint64_t fib_pool(const struct tessd_router_cfg *r)
{
	return r->fib_nodes;
}

static const struct vrf_share neigh_share = {
	.field = "neigh_limit",
	.off = offsetof(struct tessd_vrf_cfg, neigh_limit),
	.what = "neighbour entries",
	.max = TESSD_NEIGH_SHARE_MAX,
	.min = TESSD_NEIGH_SHARE_MIN,
	.pool = neigh_pool,
	.pool_name = "router.neigh_capacity",
	.remedy = "raise router.neigh_capacity or lower explicit limits",
};
static const struct vrf_share group_share = {
	.field = "max_nexthop_groups",
	.off = offsetof(struct tessd_vrf_cfg, max_nexthop_groups),
	.what = "next-hop groups",
	.max = TESSD_GROUP_SHARE_MAX,
	.min = TESSD_GROUP_SHARE_MIN,
	.pool = group_pool,
	.pool_name = "the next-hop group ids",
	.remedy = "lower explicit limits",
};
static const struct vrf_share fib_share = {
	.field = "max_fib_nodes",
	.off = offsetof(struct tessd_vrf_cfg, max_fib_nodes),
	.what = "FIB nodes",
	.max = TESSD_FIB_SHARE_MAX,
	.min = TESSD_FIB_SHARE_MIN,
	.pool = fib_pool,
	.pool_name = "router.fib_nodes",
	.remedy = "raise router.fib_nodes or lower explicit limits",
};

static uint32_t share_limit(const struct vrf_share *sh, const struct tessd_vrf_cfg *vc)
{
	uint32_t v;

	memcpy(&v, (const char *)vc + sh->off, sizeof(v));
	return v;
}

/* The explicit limits' sum and how many VRFs take an automatic share. */
static uint64_t share_explicit(const struct vrf_share *sh, const struct tessd_router_cfg *r,
			       uint32_t *n_auto)
{
	uint64_t sum = 0;

	*n_auto = 0;
	for (uint32_t i = 0; i < r->n_vrfs; i++) {
		sum += share_limit(sh, &r->vrfs[i]);
		*n_auto += share_limit(sh, &r->vrfs[i]) == 0;
	}
	return sum;
}

static uint32_t share_auto(const struct vrf_share *sh, const struct tessd_router_cfg *r)
{
	uint32_t n_auto;
	uint64_t pool = sh->pool(r);
	uint64_t sum = share_explicit(sh, r, &n_auto), share;

	if (n_auto == 0 || sum >= pool)
		return 0;
	share = (pool - sum) / n_auto;
	return share < sh->max ? (uint32_t)share : sh->max;
}

struct tessd_vrf_limits tessd_vrf_auto_shares(const struct tessd_router_cfg *r)
{
	return (struct tessd_vrf_limits){ .neigh = share_auto(&neigh_share, r),
					  .groups = share_auto(&group_share, r),
					  .nodes = share_auto(&fib_share, r) };
}

struct tessd_vrf_limits tessd_vrf_limits(const struct tessd_vrf_limits *auto_shares,
					 const struct tessd_vrf_cfg *vc)
{
	return (struct tessd_vrf_limits){
		.neigh = vc->neigh_limit ? vc->neigh_limit : auto_shares->neigh,
		.groups = vc->max_nexthop_groups ? vc->max_nexthop_groups : auto_shares->groups,
		.nodes = vc->max_fib_nodes ? vc->max_fib_nodes : auto_shares->nodes,
	};
}

/*
 * Explicit limits fit the pool; what they leave gives each automatic VRF at
 * least the floor. One error each, at the first VRF past what fits.
 */
static void validate_share(const struct vrf_share *sh, const struct tessd_router_cfg *r,
			   struct cfg_errs *errs)
{
	char p[CFG_PATH_MAX];
	uint32_t n_auto;
	uint64_t pool = sh->pool(r);
	uint64_t sum = share_explicit(sh, r, &n_auto), run = 0, left;

	for (uint32_t i = 0; sum > pool && i < r->n_vrfs; i++) {
		run += share_limit(sh, &r->vrfs[i]);
		if (run > pool) {
			snprintf(p, sizeof(p), "/router/vrfs/%u/%s", i, sh->field);
			ERR(ENOSPC,
			    "the VRFs' explicit %s add up to %" PRIu64
			    " with VRF '%s', over %s (%" PRIu64 ")",
			    sh->field, run, r->vrfs[i].name, sh->pool_name, pool);
			return;
		}
	}
	left = pool - sum;
	if (n_auto == 0 || left / n_auto >= sh->min)
		return;
	/* The automatic VRF that no longer gets the floor: the (left / floor + 1)th. */
	for (uint32_t i = 0, k = 0; i < r->n_vrfs; i++) {
		if (share_limit(sh, &r->vrfs[i]) || ++k <= left / sh->min)
			continue;
		snprintf(p, sizeof(p), "/router/vrfs/%u/%s", i, sh->field);
		ERR(ENOSPC,
		    "%u VRFs with an automatic %s (0) share the %" PRIu64 " %s that %s (%" PRIu64
		    ") leaves after the explicit limits, under %u each; each needs at least %u: %s",
		    n_auto, sh->field, left, sh->what, sh->pool_name, pool,
		    (uint32_t)(left / n_auto), sh->min, sh->remedy);
		return;
	}
}

/* The kernel name of an interface: its own, or its name. */
const char *tessd_iface_kernel_name(const struct tessd_iface_cfg *ic)
{
	return ic->kernel_name[0] ? ic->kernel_name : ic->name;
}

static void validate_iface(const struct tessd_cfg *cfg, uint32_t i, struct cfg_errs *errs)
{
	const struct tessd_router_cfg *r = &cfg->router;
	const struct tessd_iface_cfg *ic = &r->interfaces[i];
	char p[CFG_PATH_MAX], text[CFG_PREFIX_STRLEN], otext[CFG_PREFIX_STRLEN];

	snprintf(p, sizeof(p), "/router/interfaces/%u/vrf", i);
	const struct tessd_vrf_cfg *vc = tessd_cfg_vrf(cfg, ic->vrf); /* NULL: a reference error */
	if (vc && vc->kernel.netns[0]) {
		/* Its TAP's name: a Linux interface name, one per namespace. */
		const char *kn = tessd_iface_kernel_name(ic);
		snprintf(p, sizeof(p), "/router/interfaces/%u/kernel_name", i);
		if (strlen(kn) >= TESS_IFNAME_LEN ||
		    strspn(kn, TESS_IFNAME_CHARSET) != strlen(kn) || !strcmp(kn, ".") ||
		    !strcmp(kn, ".."))
			ERR(EINVAL,
			    "'%s' cannot name a Linux interface (15 characters at most): "
			    "give a kernel_name",
			    kn);
	}
	snprintf(p, sizeof(p), "/router/interfaces/%u/port", i);
	if (!ic->port[0] == !ic->group[0]) {
		ERR(EINVAL, "an interface is on a port or on a group: give one of port, group");
	} else if (ic->port[0]) {
		const struct tessd_port_cfg *pc = tessd_cfg_port(cfg, ic->port);
		if (pc == NULL) {
			/* a reference error */
		} else if (pc->mode != TESS_PORT_NONE) {
			ERR(EBUSY, "port '%s' is a switch %s port: route through its group instead",
			    ic->port, tess_port_modes[pc->mode]);
		} else if (tessd_cfg_xc_of(cfg, ic->port) >= 0) {
			ERR(EBUSY, "port '%s' is cross-connected", ic->port);
		} else if (ic->mtu > pc->mtu) {
			snprintf(p, sizeof(p), "/router/interfaces/%u/mtu", i);
			ERR(ERANGE, "MTU %u is more than port %s's %u", ic->mtu, ic->port, pc->mtu);
		}
	} else {
		const struct tessd_group_cfg *g = tessd_cfg_group(cfg, ic->group);
		snprintf(p, sizeof(p), "/router/interfaces/%u/group", i);
		/* What the router sends into the group must fit every port of it. */
		for (uint32_t k = 0; g && k < cfg->n_ports; k++) {
			const struct tessd_port_cfg *pc = &cfg->ports[k];
			if (tessd_port_in_group(pc, g) && pc->mtu < ic->mtu) {
				snprintf(p, sizeof(p), "/router/interfaces/%u/mtu", i);
				ERR(ERANGE, "MTU %u is more than port %s's %u in group %s", ic->mtu,
				    pc->name, pc->mtu, g->name);
				break;
			}
		}
		if (ic->vlan) {
			snprintf(p, sizeof(p), "/router/interfaces/%u/vlan", i);
			ERR(EINVAL, "a group interface takes the group's VLAN; leave vlan out");
		}
	}
	for (uint32_t a = 0; a < ic->n_addresses; a++) {
		uint32_t ip = ic->addresses[a].ip;
		uint8_t len = ic->addresses[a].len;
		cfg_fmt_prefix4(&ic->addresses[a], text, sizeof(text));
		snprintf(p, sizeof(p), "/router/interfaces/%u/addresses/%u", i, a);
		if (len == 0 || (ip >> 24) == 0 || (ip >> 24) == 127 || (ip >> 28) >= 14) {
			ERR(EINVAL, "%s is not a unicast host address", text);
			continue;
		}
		if (len <= 30 && ((ip & ~rt_mask(len)) == 0 || (ip | rt_mask(len)) == UINT32_MAX)) {
			ERR(EINVAL, "%s is its subnet's %s address", text,
			    (ip & ~rt_mask(len)) == 0 ? "network" : "broadcast");
			continue;
		}
		/* Subnets of one VRF do not overlap: a destination has one interface. */
		for (uint32_t j = 0; j <= i; j++) {
			const struct tessd_iface_cfg *o = &r->interfaces[j];
			if (strcmp(o->vrf, ic->vrf) != 0)
				continue;
			for (uint32_t b = 0; b < (j == i ? a : o->n_addresses); b++) {
				uint32_t oip = o->addresses[b].ip;
				uint8_t olen = o->addresses[b].len;
				uint8_t m = len < olen ? len : olen;
				if ((ip & rt_mask(m)) == (oip & rt_mask(m)))
					ERR(EEXIST, "%s overlaps %s of interface '%s' in VRF %s",
					    text,
					    cfg_fmt_prefix4(&o->addresses[b], otext, sizeof(otext)),
					    o->name, ic->vrf);
			}
		}
	}
}

void tessd_route_check(const struct tessd_router_index *ix, const struct tessd_route_cfg *rc,
		       uint32_t i, struct cfg_errs *errs)
{
	const struct tessd_cfg *cfg = ix->cfg;
	const uint32_t *ifs;
	uint32_t n_ifs = tessd_ix_vrf_ifaces(ix, rc->vrf, &ifs);
	bool unicast = rc->type == TESS_ROUTE_UNICAST, leak = rc->type == TESS_ROUTE_VRF;
	char p[CFG_PATH_MAX], text[CFG_PREFIX_STRLEN], via_s[CFG_IP4_STRLEN];
	uint32_t ip = rc->prefix.ip;
	uint8_t len = rc->prefix.len;

	/* The VRF, target VRF and next-hop interfaces exist: cfg_check_refs says. */
	cfg_fmt_prefix4(&rc->prefix, text, sizeof(text));
	snprintf(p, sizeof(p), "/router/routes/%u/prefix", i);
	if (ip & ~rt_mask(len)) {
		struct in_addr a = { .s_addr = htonl(ip & rt_mask(len)) };
		ERR(EINVAL, "host bits set: did you mean %s/%u?", inet_ntoa(a), len);
	}
	if (len == 32 && is_own(ix, rc->vrf, ip))
		ERR(EEXIST, "%s is an address of this router", text);
	for (uint32_t k = 0; k < n_ifs; k++) {
		const struct tessd_iface_cfg *ic = &cfg->router.interfaces[ifs[k]];
		for (uint32_t a = 0; a < ic->n_addresses; a++) {
			const struct cfg_prefix4 *s = &ic->addresses[a];
			if (s->len == len && (s->ip & rt_mask(len)) == ip)
				ERR(EEXIST, "%s is the connected subnet of interface '%s'", text,
				    ic->name);
		}
	}
	snprintf(p, sizeof(p), "/router/routes/%u/nexthops", i);
	if (unicast && rc->n_nexthops == 0)
		ERR(EINVAL, "a unicast route needs next hops");
	if (!unicast && rc->n_nexthops)
		ERR(EINVAL, "a %s route has no next hops", tess_route_types[rc->type]);
	snprintf(p, sizeof(p), "/router/routes/%u/target_vrf", i);
	if (leak && rc->target_vrf[0] == '\0')
		ERR(ENOENT, "no VRF named '%s'", rc->target_vrf);
	else if (leak && strcmp(rc->target_vrf, rc->vrf) == 0)
		ERR(EINVAL, "a route cannot lead back into its own VRF");
	else if (!leak && rc->target_vrf[0])
		ERR(EINVAL, "only routes of type vrf have a target VRF");
	for (uint32_t n = 0; n < rc->n_nexthops; n++) {
		const struct tessd_nexthop_cfg *nh = &rc->nexthops[n];
		const struct tessd_iface_cfg *ic = NULL;
		uint32_t via = nh->via;

		cfg_fmt_ip4(via, via_s, sizeof(via_s));
		if (nh->interface[0]) {
			snprintf(p, sizeof(p), "/router/routes/%u/nexthops/%u/interface", i, n);
			ic = tessd_ix_iface(ix, nh->interface);
			if (ic == NULL)
				; /* a reference error */
			else if (strcmp(ic->vrf, rc->vrf) != 0)
				ERR(EINVAL, "interface '%s' is in VRF %s, not %s", nh->interface,
				    ic->vrf, rc->vrf);
			else if (via && !iface_holds(ic, via))
				ERR(EINVAL, "%s is not on a subnet of interface '%s'", via_s,
				    nh->interface);
		} else if (!via) {
			snprintf(p, sizeof(p), "/router/routes/%u/nexthops/%u/via", i, n);
			ERR(EINVAL, "a next hop has a via address, an interface, or both");
		} else if (tessd_ix_iface_for(ix, rc->vrf, via) == NULL) {
			snprintf(p, sizeof(p), "/router/routes/%u/nexthops/%u/via", i, n);
			ERR(EINVAL, "%s is not on a connected subnet of VRF %s", via_s, rc->vrf);
		} else if (is_own(ix, rc->vrf, via)) {
			snprintf(p, sizeof(p), "/router/routes/%u/nexthops/%u/via", i, n);
			ERR(EINVAL, "%s is an address of this router", via_s);
		}
	}
}

static void validate_neigh(const struct tessd_router_index *ix, uint32_t i, struct cfg_errs *errs)
{
	const struct tessd_cfg *cfg = ix->cfg;
	const struct tessd_neigh_cfg *nc = &cfg->router.neighbours[i];
	char p[CFG_PATH_MAX], ip_s[CFG_IP4_STRLEN];
	uint32_t ip = nc->ip;

	if (tessd_ix_vrf(ix, nc->vrf) == NULL)
		return; /* a reference error */
	cfg_fmt_ip4(ip, ip_s, sizeof(ip_s));
	snprintf(p, sizeof(p), "/router/neighbours/%u/ip", i);
	if (is_own(ix, nc->vrf, ip))
		ERR(EINVAL, "%s is an address of this router", ip_s);
	snprintf(p, sizeof(p), "/router/neighbours/%u/interface", i);
	if (nc->interface[0]) {
		const struct tessd_iface_cfg *ic = tessd_ix_iface(ix, nc->interface);
		if (ic && strcmp(ic->vrf, nc->vrf) != 0)
			ERR(EINVAL, "interface '%s' is in VRF %s, not %s", nc->interface, ic->vrf,
			    nc->vrf);
	} else if (tessd_ix_iface_for(ix, nc->vrf, ip) == NULL) {
		ERR(EINVAL, "%s is not on a connected subnet of VRF %s: name its interface", ip_s,
		    nc->vrf);
	}
}

struct route_key {
	const char *vrf;
	uint32_t ip;
	uint8_t len;
	uint32_t idx;
};

static int cmp_route(const void *a, const void *b)
{
	const struct route_key *x = a, *y = b;
	int c = strcmp(x->vrf, y->vrf);

	if (c)
		return c;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : (int)(x->idx > y->idx);
}

/*
 * Keys that two elements share, by sorting (configs may hold many routes and neighbours: a
 * pairwise scan ran at every commit): dup(cfg, later, earlier, errs) for each.
 */
static void each_dup(struct route_key *k, uint32_t n, const struct tessd_cfg *cfg,
		     struct cfg_errs *errs,
		     void (*dup)(const struct tessd_cfg *, uint32_t, uint32_t, struct cfg_errs *))
{
	qsort(k, n, sizeof(*k), cmp_route);
	for (uint32_t i = 1; i < n; i++)
		if (strcmp(k[i].vrf, k[i - 1].vrf) == 0 && k[i].ip == k[i - 1].ip &&
		    k[i].len == k[i - 1].len)
			dup(cfg, k[i].idx, k[i - 1].idx, errs);
}

static void route_dup(const struct tessd_cfg *cfg, uint32_t i, uint32_t first,
		      struct cfg_errs *errs)
{
	char p[CFG_PATH_MAX], text[CFG_PREFIX_STRLEN];

	snprintf(p, sizeof(p), "/router/routes/%u/prefix", i);
	ERR(EEXIST, "VRF %s already has a route to %s (/router/routes/%u)",
	    cfg->router.routes[i].vrf,
	    cfg_fmt_prefix4(&cfg->router.routes[i].prefix, text, sizeof(text)), first);
}

static void neigh_dup(const struct tessd_cfg *cfg, uint32_t i, uint32_t first,
		      struct cfg_errs *errs)
{
	char p[CFG_PATH_MAX], ip_s[CFG_IP4_STRLEN];

	(void)first;
	snprintf(p, sizeof(p), "/router/neighbours/%u/ip", i);
	ERR(EEXIST, "VRF %s already has neighbour %s", cfg->router.neighbours[i].vrf,
	    cfg_fmt_ip4(cfg->router.neighbours[i].ip, ip_s, sizeof(ip_s)));
}

/* Room for n keys; NULL for none, or without memory (then an error: not left unchecked). */
static void *keys_alloc_n(uint32_t n, size_t size, struct cfg_errs *errs)
{
	void *k = n ? malloc(n * size) : NULL;

	if (n && k == NULL)
		cfg_err_add(errs, ENOMEM, "/router", "no memory to check the router config");
	return k;
}

static struct route_key *keys_alloc(uint32_t n, struct cfg_errs *errs)
{
	return keys_alloc_n(n, sizeof(struct route_key), errs);
}

/*
 * What two interfaces may not share (a name; a port and VLAN; a group; a
 * kernel name in a namespace), by sorting: up to 8,191 interfaces were
 * compared pairwise, with a VRF lookup per pair for the kernel names (two
 * minutes a commit with 4,000 kernel-bound VRFs).
 */
struct iface_key {
	const char *a, *b;
	uint32_t n;
	uint32_t idx;
};

static int cmp_iface_key(const void *pa, const void *pb)
{
	const struct iface_key *x = pa, *y = pb;
	int c = strcmp(x->a, y->a);

	if (c == 0)
		c = strcmp(x->b, y->b);
	if (c == 0 && x->n != y->n)
		c = x->n < y->n ? -1 : 1;
	return c ? c : x->idx < y->idx ? -1 : (int)(x->idx > y->idx);
}

enum iface_key_kind { IK_NAME, IK_PORT_VLAN, IK_GROUP, IK_KERNEL_NAME };

static void iface_dup(const struct tessd_cfg *cfg, enum iface_key_kind kind,
		      const struct iface_key *k, const struct iface_key *first,
		      struct cfg_errs *errs)
{
	const struct tessd_iface_cfg *ic = &cfg->router.interfaces[k->idx];
	const struct tessd_iface_cfg *o = &cfg->router.interfaces[first->idx];
	char p[CFG_PATH_MAX];

	switch (kind) {
	case IK_NAME:
		snprintf(p, sizeof(p), "/router/interfaces/%u/name", k->idx);
		ERR(EEXIST, "duplicate interface name '%s'", ic->name);
		break;
	case IK_PORT_VLAN:
		snprintf(p, sizeof(p), "/router/interfaces/%u/vlan", k->idx);
		ERR(EEXIST, "port %s VLAN %u is already interface '%s'", ic->port, ic->vlan,
		    o->name);
		break;
	case IK_GROUP:
		snprintf(p, sizeof(p), "/router/interfaces/%u/group", k->idx);
		ERR(EEXIST, "group %s already has interface '%s'", ic->group, o->name);
		break;
	case IK_KERNEL_NAME:
		snprintf(p, sizeof(p), "/router/interfaces/%u/kernel_name", k->idx);
		ERR(EEXIST, "interface '%s' has the kernel name '%s' in netns %s", o->name, k->b,
		    k->a);
		break;
	}
}

static void iface_key_dups(const struct tessd_cfg *cfg, enum iface_key_kind kind,
			   struct iface_key *k, uint32_t n, struct cfg_errs *errs)
{
	uint32_t first = 0;

	qsort(k, n, sizeof(*k), cmp_iface_key);
	for (uint32_t i = 1; i < n; i++) {
		if (strcmp(k[i].a, k[first].a) || strcmp(k[i].b, k[first].b) ||
		    k[i].n != k[first].n)
			first = i;
		else
			iface_dup(cfg, kind, &k[i], &k[first], errs);
	}
}

static void validate_iface_dups(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	const struct tessd_router_cfg *r = &cfg->router;
	struct iface_key *k = keys_alloc_n(r->n_interfaces, sizeof(*k), errs);
	uint32_t n;

	if (k == NULL)
		return;
	for (uint32_t i = 0; i < r->n_interfaces; i++)
		k[i] = (struct iface_key){ r->interfaces[i].name, "", 0, i };
	iface_key_dups(cfg, IK_NAME, k, r->n_interfaces, errs);
	n = 0;
	for (uint32_t i = 0; i < r->n_interfaces; i++)
		if (r->interfaces[i].port[0])
			k[n++] = (struct iface_key){ r->interfaces[i].port, "",
						     r->interfaces[i].vlan, i };
	iface_key_dups(cfg, IK_PORT_VLAN, k, n, errs);
	n = 0;
	for (uint32_t i = 0; i < r->n_interfaces; i++)
		if (r->interfaces[i].group[0])
			k[n++] = (struct iface_key){ r->interfaces[i].group, "", 0, i };
	iface_key_dups(cfg, IK_GROUP, k, n, errs);
	n = 0;
	for (uint32_t i = 0; i < r->n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &r->interfaces[i];
		const struct tessd_vrf_cfg *vc = tessd_cfg_vrf(cfg, ic->vrf);

		if (vc && vc->kernel.netns[0])
			k[n++] = (struct iface_key){ vc->kernel.netns, tessd_iface_kernel_name(ic),
						     0, i };
	}
	iface_key_dups(cfg, IK_KERNEL_NAME, k, n, errs);
	free(k);
}

static void validate_route_dups(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	const struct tessd_router_cfg *r = &cfg->router;
	struct route_key *k = keys_alloc(r->n_routes, errs);

	if (k == NULL)
		return;
	for (uint32_t i = 0; i < r->n_routes; i++)
		k[i] = (struct route_key){ .vrf = r->routes[i].vrf,
					   .ip = r->routes[i].prefix.ip &
						 rt_mask(r->routes[i].prefix.len),
					   .len = r->routes[i].prefix.len,
					   .idx = i };
	each_dup(k, r->n_routes, cfg, errs, route_dup);
	free(k);
}

/* After each neighbour's own checks; those of no VRF are a reference error only. */
static void validate_neigh_dups(const struct tessd_router_index *ix, struct cfg_errs *errs)
{
	const struct tessd_router_cfg *r = &ix->cfg->router;
	struct route_key *k = keys_alloc(r->n_neighbours, errs);
	uint32_t n = 0;

	if (k == NULL)
		return;
	for (uint32_t i = 0; i < r->n_neighbours; i++)
		if (tessd_ix_vrf(ix, r->neighbours[i].vrf))
			k[n++] = (struct route_key){ .vrf = r->neighbours[i].vrf,
						     .ip = r->neighbours[i].ip,
						     .len = 32,
						     .idx = i };
	each_dup(k, n, ix->cfg, errs, neigh_dup);
	free(k);
}

int tessd_router_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	const struct tessd_router_cfg *r = &cfg->router;
	unsigned before = errs->n;

	struct tessd_router_index ix;

	if (tessd_router_index_init(&ix, cfg) < 0) {
		cfg_err_add(errs, ENOMEM, "/router", "no memory to check the router config");
		return -ENOMEM;
	}
	validate_vrfs(r, errs);
	for (uint32_t i = 0; i < r->n_interfaces; i++)
		validate_iface(cfg, i, errs);
	validate_iface_dups(cfg, errs);
	for (uint32_t i = 0; i < r->n_routes; i++)
		tessd_route_check(&ix, &r->routes[i], i, errs);
	validate_route_dups(cfg, errs);
	validate_vrf_counts(&ix, r, errs);
	validate_share(&neigh_share, r, errs);
	validate_share(&group_share, r, errs);
	validate_share(&fib_share, r, errs);
	for (uint32_t i = 0; i < r->n_neighbours; i++)
		validate_neigh(&ix, i, errs);
	validate_neigh_dups(&ix, errs);
	tessd_router_index_fini(&ix);
	/* Names that must exist, after the rules (which skip what refers to nothing). */
	cfg_check_refs_in(&tessd_cfg_schema, cfg, "router", errs);
	return errs->n == before ? 0 : -EINVAL;
}
