/* SPDX-License-Identifier: BSD-3-Clause */
/* Routes of the config into the FIB: groups, one route, a whole VRF, a VRF's removal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "kernel.h"
#include "log.h"
#include "router_int.h"

bool rt_route_group(const struct tessd_router_index *ix, const struct tessd_route_cfg *rc,
		    struct nh_group *g)
{
	const struct tessd_vrf_cfg *target;

	memset(g, 0, sizeof(*g));
	g->origin = NH_ORIGIN_STATIC;
	if (rc->type == TESS_ROUTE_BLACKHOLE) {
		g->type = NH_BLACKHOLE;
		return true;
	}
	if (rc->type == TESS_ROUTE_REJECT) {
		g->type = NH_REJECT;
		return true;
	}
	if (rc->type == TESS_ROUTE_VRF) {
		g->type = NH_VRF;
		target = tessd_ix_vrf(ix, rc->target_vrf);
		g->target_vrf = target ? target->id : 0;
		return g->target_vrf != 0;
	}
	g->type = NH_UNICAST;
	for (uint32_t i = 0; i < rc->n_nexthops && i < NH_MAX_PATHS; i++) {
		const struct tessd_nexthop_cfg *nh = &rc->nexthops[i];
		const struct tessd_iface_cfg *ic;
		uint32_t via = nh->via;

		ic = nh->interface[0] ? tessd_ix_iface(ix, nh->interface)
				      : tessd_ix_iface_for(ix, rc->vrf, via);
		if (ic == NULL ||
		    (g->path[i].iface = ix->ids[ic - ix->cfg->router.interfaces]) == 0)
			return false;
		g->path[i].gw = via;
		g->n++;
	}
	return g->n > 0;
}

/* Which of vrf's limits a kernel route prefix/len -> g (old: its route now) is over. */
static enum rt_limit over_limit(uint16_t vrf, uint32_t ip, uint8_t len, uint32_t old,
				const struct nh_group *g)
{
	const struct rt_vrf *v = &rt_vrfs[vrf];
	uint32_t owned = nh_owned(&l3_nh, vrf);

	if (old == FIB_NO_ROUTE && v->max_routes && fib_count(&l3_fib, vrf) >= v->max_routes)
		return RT_LIMIT_ROUTES;
	/* A new next hop of a route alone in its group frees that group: no group more. */
	if (old != FIB_NO_ROUTE && l3_nh.refs[old] == 1 && l3_nh.owner[old] == vrf && owned)
		owned--;
	if (v->max_groups && owned >= v->max_groups && nh_find_for(&l3_nh, g, vrf) == 0)
		return RT_LIMIT_GROUPS;
	/* The hugepage memory its prefixes take: a /32 in a new /8 takes three nodes. */
	if (v->max_nodes &&
	    fib_nodes(&l3_fib, vrf) + fib_nodes_needed(&l3_fib, vrf, ip, len) > v->max_nodes)
		return RT_LIMIT_NODES;
	return RT_LIMIT_NONE;
}

bool rt_kernel_fits(uint16_t vrf, uint32_t ip, uint8_t len, const struct nh_group *g)
{
	return over_limit(vrf, ip, len, fib_get(&l3_fib, vrf, ip, len), g) == RT_LIMIT_NONE;
}

/* route.add, route.del: every FIB change, from commits and the kernel alike (tessctl monitor). */
static void route_event(const char *kind, uint16_t vrf, uint32_t ip, uint8_t len, uint8_t origin)
{
	if (tess_event_wanted())
		tess_event_emit(kind, json_pack("{s:s, s:o, s:s}", "vrf", rt_vrfs[vrf].name,
						"prefix", rt_prefix_json(ip, len), "origin",
						rt_origin_names[origin]));
}

int rt_route_set(uint16_t vrf, uint32_t ip, uint8_t len, const struct nh_group *g)
{
	struct rt_vrf *v = &rt_vrfs[vrf];
	uint32_t old = fib_get(&l3_fib, vrf, ip, len), id;
	bool kernel = g->origin == NH_ORIGIN_KERNEL, old_kernel;
	int rc;

	/*
	 * Each VRF's share of the FIB and the groups, which all VRFs draw on (review 3.2).
	 * Only kernel routes are refused here: configured ones were counted whole by the
	 * config's validation (route.add counts its own), so a valid commit always goes in,
	 * and kernel routes make way for them (rt_vrf_fit).
	 */
	if (kernel) {
		enum rt_limit which = over_limit(vrf, ip, len, old, g);
		if (which != RT_LIMIT_NONE) {
			*(which == RT_LIMIT_ROUTES   ? &v->routes_refused
			  : which == RT_LIMIT_GROUPS ? &v->groups_refused
						     : &v->nodes_refused) += 1;
			v->refused_at = (uint8_t)which;
			return -EDQUOT;
		}
	}
	id = nh_get_for(&l3_nh, g, vrf);
	if (id == 0)
		return -ENOSPC;
	if (old == id) {
		nh_put(&l3_nh, id);
		return 0;
	}
	rc = fib_add(&l3_fib, vrf, ip, len, id);
	if (rc < 0) {
		nh_put(&l3_nh, id);
		return rc;
	}
	old_kernel = old && nh_group(&l3_nh, old)->origin == NH_ORIGIN_KERNEL;
	v->n_kernel += (uint32_t)kernel - (uint32_t)old_kernel;
	if (old) {
		nh_put(&l3_nh, old);
		v->room = true; /* its group may be gone */
	}
	route_event("route.add", vrf, ip, len, g->origin);
	return 0;
}

const char *rt_limit_text(uint16_t vrf, char *buf, size_t len)
{
	const struct rt_vrf *v = &rt_vrfs[vrf];

	if (v->refused_at == RT_LIMIT_NODES)
		snprintf(buf, len, "VRF %s is at its max_fib_nodes (%u)", v->name, v->max_nodes);
	else if (v->refused_at == RT_LIMIT_GROUPS)
		snprintf(buf, len, "VRF %s is at its max_nexthop_groups (%u)", v->name,
			 v->max_groups);
	else
		snprintf(buf, len, "VRF %s is at its max_routes (%u)", v->name, v->max_routes);
	return buf;
}

int rt_route_unset(uint16_t vrf, uint32_t ip, uint8_t len)
{
	uint32_t old;
	int rc = fib_del(&l3_fib, vrf, ip, len, &old);

	if (rc == 0) {
		route_event("route.del", vrf, ip, len, nh_group(&l3_nh, old)->origin);
		rt_vrfs[vrf].n_kernel -= nh_group(&l3_nh, old)->origin == NH_ORIGIN_KERNEL;
		rt_vrfs[vrf].room = true; /* kernel routes waiting for it may come in */
		nh_put(&l3_nh, old);
	}
	return rc;
}

static uint64_t key_of(uint32_t ip, uint8_t len)
{
	return (uint64_t)ip << 8 | len;
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct keys {
	uint64_t *k;
	uint32_t n, cap;
	bool oom;
};

static void keep(struct keys *ks, uint32_t ip, uint8_t len)
{
	if (ks->n == ks->cap) {
		uint32_t cap = ks->cap ? ks->cap * 2 : 64;
		uint64_t *k = realloc(ks->k, cap * sizeof(*k));
		if (k == NULL) {
			ks->oom = true;
			return;
		}
		ks->k = k;
		ks->cap = cap;
	}
	ks->k[ks->n++] = key_of(ip, len);
}

struct evict {
	uint16_t vrf;
	struct keys routes; /* kernel routes: prefix keys */
	struct keys values; /* and their groups, in the same order */
	uint32_t want;      /* routes to collect: 0, all */
};

static void find_kernel(uint32_t ip, uint8_t len, uint32_t value, void *arg)
{
	struct evict *ev = arg;

	if (nh_group(&l3_nh, value)->origin != NH_ORIGIN_KERNEL ||
	    (ev->want && ev->routes.n >= ev->want))
		return;
	keep(&ev->routes, ip, len);
	keep(&ev->values, value, 0);
}

static void evict(uint16_t vrf, uint64_t key, uint64_t *counter)
{
	uint32_t ip = (uint32_t)(key >> 8);
	uint8_t len = (uint8_t)key;

	kern_route_evicted(vrf, ip, len);
	if (rt_route_unset(vrf, ip, len) == 0)
		(*counter)++;
}

/* Groups by how many routes use them (fewest first), then by id. */
static int cmp_refs(const void *a, const void *b)
{
	uint32_t x = (uint32_t)(*(const uint64_t *)a >> 8),
		 y = (uint32_t)(*(const uint64_t *)b >> 8);
	uint32_t rx = l3_nh.refs[x], ry = l3_nh.refs[y];

	return rx != ry ? (rx < ry ? -1 : 1) : (x > y) - (x < y);
}

/* Routes by prefix length, longest first, then by key. */
static int cmp_longest(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	uint8_t lx = (uint8_t)x, ly = (uint8_t)y;

	return lx != ly ? (lx > ly ? -1 : 1) : (x > y) - (x < y);
}

void rt_vrf_fit(uint16_t vrf)
{
	struct rt_vrf *v = &rt_vrfs[vrf];
	uint32_t n = fib_count(&l3_fib, vrf), owned = nh_owned(&l3_nh, vrf);
	struct evict ev = { .vrf = vrf };

	if (v->max_routes && n > v->max_routes) {
		ev.want = n - v->max_routes;
		fib_walk(&l3_fib, vrf, find_kernel, &ev);
		for (uint32_t i = 0; i < ev.routes.n; i++)
			evict(vrf, ev.routes.k[i], &v->routes_refused);
		ev.routes.n = ev.values.n = 0;
		owned = nh_owned(&l3_nh, vrf);
	}
	if (v->max_groups && owned > v->max_groups && !ev.routes.oom && !ev.values.oom) {
		/* The kernel groups with the fewest routes go, with their routes. */
		uint32_t want = owned - v->max_groups, n_groups = 0;
		struct keys groups = { 0 };

		ev.want = 0;
		fib_walk(&l3_fib, vrf, find_kernel, &ev);
		for (uint32_t i = 0; i < ev.values.n; i++)
			keep(&groups, (uint32_t)(ev.values.k[i] >> 8), 0);
		if (!groups.oom && !ev.routes.oom && !ev.values.oom) {
			if (groups.n)
				qsort(groups.k, groups.n, sizeof(*groups.k), cmp_key);
			for (uint32_t i = 0; i < groups.n; i++)
				if (i == 0 || groups.k[i] != groups.k[i - 1])
					groups.k[n_groups++] = groups.k[i];
			if (n_groups)
				qsort(groups.k, n_groups, sizeof(*groups.k), cmp_refs);
			n_groups = n_groups < want ? n_groups : want;
			if (n_groups)
				qsort(groups.k, n_groups, sizeof(*groups.k), cmp_key);
			for (uint32_t i = 0; n_groups && i < ev.routes.n; i++)
				if (bsearch(&ev.values.k[i], groups.k, n_groups, sizeof(*groups.k),
					    cmp_key))
					evict(vrf, ev.routes.k[i], &v->groups_refused);
		}
		free(groups.k);
	}
	if (v->max_nodes && fib_nodes(&l3_fib, vrf) > v->max_nodes && !ev.routes.oom &&
	    !ev.values.oom) {
		/*
		 * Longest first, until within: a /32 alone in its /24 frees a node, a /16
		 * none. The config's own routes need no more than the limit (validation).
		 */
		ev.routes.n = ev.values.n = 0;
		ev.want = 0;
		fib_walk(&l3_fib, vrf, find_kernel, &ev);
		if (ev.routes.oom)
			ev.routes.n = 0; /* logged below, tried again at the next commit */
		if (ev.routes.n)
			qsort(ev.routes.k, ev.routes.n, sizeof(*ev.routes.k), cmp_longest);
		for (uint32_t i = 0; i < ev.routes.n && fib_nodes(&l3_fib, vrf) > v->max_nodes; i++)
			evict(vrf, ev.routes.k[i], &v->nodes_refused);
	}
	if (ev.routes.oom || ev.values.oom) {
		DP_LOG_F(ERR, DP_VRF_FIELDS(v),
			 "VRF %s: no memory to make room for its configured routes", v->name);
		v->resync = true; /* tried again at the next commit */
	}
	free(ev.routes.k);
	free(ev.values.k);
}

static void set_or_log(uint16_t vrf, uint32_t ip, uint8_t len, const struct nh_group *g,
		       struct keys *ks)
{
	int rc = rt_route_set(vrf, ip, len, g);

	if (rc < 0) {
		char why[128];
		DP_LOG_F(ERR, DP_VRF_FIELDS(&rt_vrfs[vrf]), "VRF %s: cannot install a route: %s",
			 rt_vrfs[vrf].name,
			 rc == -EDQUOT ? rt_limit_text(vrf, why, sizeof(why)) : strerror(-rc));
		rt_vrfs[vrf].resync = true; /* tried again at the next commit */
	}
	keep(ks, ip, len);
}

struct stale {
	const struct keys *keep;
	struct keys gone;
};

static void find_stale(uint32_t ip, uint8_t len, uint32_t value, void *arg)
{
	struct stale *st = arg;
	uint64_t k = key_of(ip, len);

	/* Kernel routes are the kernel binding's to keep or remove. */
	if (nh_group(&l3_nh, value)->origin == NH_ORIGIN_KERNEL)
		return;
	/* qsort and bsearch take no NULL array, even an empty one (UBSan). */
	if (st->keep->n == 0 || !bsearch(&k, st->keep->k, st->keep->n, sizeof(k), cmp_key))
		keep(&st->gone, ip, len);
}

void rt_routes_reconcile(const struct tessd_router_index *ix, uint16_t id, const uint32_t *ifaces,
			 uint32_t n_ifaces, const uint32_t *routes, uint32_t n_routes)
{
	const struct tessd_cfg *cfg = ix->cfg;
	struct keys ks = { 0 };
	struct stale st = { .keep = &ks };

	rt_vrfs[id].resync = false; /* set again by what fails now */
	for (uint32_t k = 0; k < n_ifaces; k++) {
		const struct tessd_iface_cfg *ic = &cfg->router.interfaces[ifaces[k]];
		uint16_t ifid = ix->ids[ifaces[k]];
		struct nh_group g = { .n = 1, .path = { { .iface = ifid } } };

		if (ifid == 0)
			continue;
		for (uint32_t a = 0; a < ic->n_addresses; a++) {
			uint32_t ip = ic->addresses[a].ip, m;
			uint8_t len = ic->addresses[a].len;

			m = rt_mask(len);
			if (len < 32) {
				g.type = NH_UNICAST;
				g.origin = NH_ORIGIN_CONNECTED;
				set_or_log(id, ip & m, len, &g, &ks);
			}
			g.type = NH_LOCAL;
			g.origin = NH_ORIGIN_LOCAL;
			set_or_log(id, ip, 32, &g, &ks);
			if (len <= 30) {
				g.origin = NH_ORIGIN_BROADCAST;
				set_or_log(id, ip | ~m, 32, &g, &ks);
			}
		}
	}
	for (uint32_t k = 0; k < n_routes; k++) {
		const struct tessd_route_cfg *rc = &cfg->router.routes[routes[k]];
		struct nh_group g;
		char text[CFG_PREFIX_STRLEN];

		if (!rt_route_group(ix, rc, &g)) {
			DP_LOG_F(ERR, DP_VRF_FIELDS(&rt_vrfs[id]),
				 "VRF %s: route %s: a next hop is unknown", rc->vrf,
				 cfg_fmt_prefix4(&rc->prefix, text, sizeof(text)));
			rt_vrfs[id].resync = true;
			continue;
		}
		set_or_log(id, rc->prefix.ip, rc->prefix.len, &g, &ks);
	}
	if (ks.oom) {
		/* Without the full list nothing is known to be stale: keep what is there. */
		DP_LOG_F(ERR, DP_VRF_FIELDS(&rt_vrfs[id]), "VRF %s: no memory to find stale routes",
			 rt_vrfs[id].name);
		rt_vrfs[id].resync = true;
		free(ks.k);
		return;
	}
	if (ks.n)
		qsort(ks.k, ks.n, sizeof(*ks.k), cmp_key);
	fib_walk(&l3_fib, id, find_stale, &st);
	for (uint32_t i = 0; i < st.gone.n; i++) {
		uint32_t ip = (uint32_t)(st.gone.k[i] >> 8);
		uint8_t len = (uint8_t)st.gone.k[i];
		if (!kern_route_fallback(id, ip, len)) /* the kernel's route for it, if any */
			rt_route_unset(id, ip, len);
	}
	free(ks.k);
	free(st.gone.k);
}

static void collect(uint32_t ip, uint8_t len, uint32_t value, void *arg)
{
	(void)ip;
	(void)len;
	keep(arg, value, 0);
}

static void drop_neigh(struct neigh *e, void *arg)
{
	if (e->vrf == *(const uint16_t *)arg)
		rt_neigh_forget(e);
}

void rt_vrf_remove(uint16_t id)
{
	struct keys values = { 0 };

	neigh_walk(&l3_neigh, drop_neigh, &id);
	fib_walk(&l3_fib, id, collect, &values);
	fib_vrf_del(&l3_fib, id);
	/* Groups are reused after the grace period that also covers the FIB's nodes. */
	for (uint32_t i = 0; i < values.n; i++)
		nh_put(&l3_nh, (uint32_t)(values.k[i] >> 8));
	free(values.k);
	rt_vrfs[id].on = false;
}
