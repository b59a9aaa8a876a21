/* SPDX-License-Identifier: BSD-3-Clause */
/* VRFs, interfaces, routes and neighbours over the API. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "apply.h"
#include "cfg_array.h"
#include "ctl_server.h"
#include "port.h"
#include "router.h"
#include "kernel.h"
#include "router_int.h"
#include "tessd.h"

const char *const rt_origin_names[NH_ORIGIN_MAX] = {
	[NH_ORIGIN_STATIC] = "static", [NH_ORIGIN_CONNECTED] = "connected",
	[NH_ORIGIN_LOCAL] = "local",   [NH_ORIGIN_BROADCAST] = "broadcast",
	[NH_ORIGIN_KERNEL] = "kernel",
};
static const char *const type_names[] = {
	[NH_UNICAST] = "unicast", [NH_LOCAL] = "local", [NH_BLACKHOLE] = "blackhole",
	[NH_REJECT] = "reject",   [NH_VRF] = "vrf",
};

static json_t *ip_json(uint32_t ip)
{
	char s[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = htonl(ip) };

	return json_string(inet_ntop(AF_INET, &a, s, sizeof(s)));
}

json_t *rt_prefix_json(uint32_t ip, uint8_t len)
{
	char s[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = htonl(ip) };

	inet_ntop(AF_INET, &a, s, sizeof(s));
	return json_sprintf("%s/%u", s, len);
}

static json_t *mac_json(const struct rte_ether_addr *mac)
{
	char s[RTE_ETHER_ADDR_FMT_SIZE];

	rte_ether_format_addr(s, sizeof(s), mac);
	return json_string(s);
}

/* The running config's routes, which route.add and route.del edit in place. */
static int running_routes(struct tessd_cfg *cfg, struct cfg_array *a)
{
	return cfg_array_find(&tessd_cfg_schema, cfg, "/router/routes", a);
}

struct vrf_filter {
	char vrf[TESS_NAME_LEN];
	char interface[TESS_NAME_LEN];
	char prefix[TESS_PREFIX_LEN];
};

static const struct tessd_vrf_cfg *need_vrf(const char *name, const char *path,
					    struct ctl_error *err)
{
	const struct tessd_vrf_cfg *v = tessd_cfg_vrf(&tessd.cfg, name);

	if (v == NULL)
		ctl_error_set(err, ENOENT, path, "no VRF named '%s'", name);
	return v;
}

/* ---- VRFs ---- */

static int vrf_list(const void *params, json_t **result, struct ctl_error *err)
{
	json_t *a = json_array();

	const struct tessd_vrf_limits auto_shares = tessd_vrf_auto_shares(&tessd.cfg.router);

	(void)params;
	(void)err;
	for (uint32_t i = 0; i < tessd.cfg.router.n_vrfs; i++) {
		const struct tessd_vrf_cfg *v = &tessd.cfg.router.vrfs[i];
		json_t *o = cfg_encode(&tessd_vrf_schema, v), *ifs = json_array();
		const struct tessd_vrf_limits lim = tessd_vrf_limits(&auto_shares, v);

		for (uint32_t k = 0; k < tessd.cfg.router.n_interfaces; k++)
			if (strcmp(tessd.cfg.router.interfaces[k].vrf, v->name) == 0)
				json_array_append_new(
					ifs, json_string(tessd.cfg.router.interfaces[k].name));
		json_object_set_new(o, "interfaces", ifs);
		json_object_set_new(o, "routes", json_integer(fib_count(&l3_fib, v->id)));
		json_object_set_new(o, "neighbours", json_integer(l3_neigh.per_vrf[v->id]));
		/* What the router enforces: each limit, or its automatic share (0). */
		json_object_set_new(o, "neigh_limit_effective", json_integer(lim.neigh));
		json_object_set_new(o, "max_nexthop_groups_effective", json_integer(lim.groups));
		json_object_set_new(o, "fib_nodes", json_integer(fib_nodes(&l3_fib, v->id)));
		json_object_set_new(o, "max_fib_nodes_effective", json_integer(lim.nodes));
		json_t *k = kern_vrf_json(v->id);
		if (k)
			json_object_set_new(o, "kernel_sync", k);
		json_array_append_new(a, o);
	}
	*result = a;
	return 0;
}

/*
 * A share error of vrf.add or vrf.set (neighbours, next-hop groups, FIB nodes) is the
 * edited VRF's doing (the running config's shares fit): at its path, not at
 * the VRF of the array where validation found the sum or the automatic share
 * first over (the message names that one).
 */
static int own_share_error(int rc, struct ctl_error *err)
{
	static const char head[] = "/router/vrfs/";
	static const char *const fields[] = { "neigh_limit", "max_nexthop_groups",
					      "max_fib_nodes" };
	const char *tail = strrchr(err->path, '/');

	if (rc != -ENOSPC || strncmp(err->path, head, sizeof(head) - 1) != 0 || tail == NULL)
		return rc;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(tail + 1, fields[i]) == 0)
			snprintf(err->path, sizeof(err->path), "/params/%s", fields[i]);
	return rc;
}

static int vrf_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_vrf_cfg *v = params;
	const struct dp_edit e = { .op = DP_EDIT_ADD, .array = "/router/vrfs", .item = v };

	if (tessd_cfg_vrf(&tessd.cfg, v->name)) {
		ctl_error_set(err, EEXIST, "/params/name", "VRF '%s' exists", v->name);
		return -EEXIST;
	}
	return own_share_error(dp_edit(&e, result, err, "VRF %s (id %u) added", v->name, v->id),
			       err);
}

/*
 * Changes a VRF's settings: only the keys given, and of "kernel" only the
 * keys given in it. Its id is what its routes and interfaces are filed
 * under: changing it means deleting and adding the VRF again.
 */
static int vrf_set(const void *params, json_t **result, struct ctl_error *err)
{
	const json_t *req = params, *name = json_object_get(req, "name");
	const json_t *k = json_object_get(req, "kernel"), *id = json_object_get(req, "id");
	const struct tessd_vrf_cfg *cur;
	struct tessd_vrf_cfg vc;
	struct dp_edit e = { .op = DP_EDIT_SET, .array = "/router/vrfs", .item = &vc };
	struct cfg_errs errs;
	json_t *merged, *mk;
	int rc;

	if (!json_is_string(name)) {
		ctl_error_set(err, EINVAL, "/params/name", "the VRF to change, by name");
		return -EINVAL;
	}
	cur = need_vrf(json_string_value(name), "/params/name", err);
	if (cur == NULL)
		return -ENOENT;
	merged = cfg_encode(&tessd_vrf_schema, cur);
	if (id && !json_equal(id, json_object_get(merged, "id"))) {
		ctl_error_set(err, EINVAL, "/params/id",
			      "cannot change the id of a VRF: delete and add it again");
		json_decref(merged);
		return -EINVAL;
	}
	mk = json_deep_copy(json_object_get(merged, "kernel"));
	json_object_update(merged, (json_t *)req);
	if (json_is_object(k) && mk) {
		json_object_update(mk, (json_t *)k);
		json_object_set(merged, "kernel", mk);
	}
	json_decref(mk);
	cfg_errs_init(&errs);
	rc = cfg_decode(&tessd_vrf_schema, merged, &vc, "/params", &errs);
	json_decref(merged);
	if (rc < 0) {
		ctl_error_from_cfg(err, &errs);
		return -err->code;
	}
	e.index = (uint32_t)(cur - tessd.cfg.router.vrfs);
	rc = own_share_error(dp_edit(&e, result, err, "VRF %s changed", vc.name), err);
	cfg_free(&tessd_vrf_schema, &vc);
	return rc;
}

/* A JSON list of what names something, for "in use" errors (the first few). */
static void busy_add(json_t *list, json_t *item)
{
	if (json_array_size(list) < 8)
		json_array_append_new(list, item);
	else
		json_decref(item);
}

static int busy(struct ctl_error *err, const char *path, json_t *list, const char *fmt,
		const char *name)
{
	char *s = json_dumps(list, JSON_COMPACT);

	ctl_error_set(err, EBUSY, path, fmt, name, s ? s : "");
	free(s);
	json_decref(list);
	return -EBUSY;
}

/* A VRF's own routes and static neighbours go with it. */
static int vrf_del_own(struct tessd_cfg *cand, void *arg, struct ctl_error *err)
{
	const char *name = arg;
	struct cfg_array routes, neighs;

	if (cfg_array_find(&tessd_cfg_schema, cand, "/router/routes", &routes) < 0 ||
	    cfg_array_find(&tessd_cfg_schema, cand, "/router/neighbours", &neighs) < 0) {
		ctl_error_set(err, EINVAL, "", "the config has no routes or neighbours");
		return -EINVAL;
	}
	for (uint32_t i = *routes.n; i-- > 0;) {
		const struct tessd_route_cfg *rc = cfg_array_at(&routes, i);
		if (strcmp(rc->vrf, name) == 0)
			cfg_array_del(&routes, i);
	}
	for (uint32_t i = *neighs.n; i-- > 0;) {
		const struct tessd_neigh_cfg *nc = cfg_array_at(&neighs, i);
		if (strcmp(nc->vrf, name) == 0)
			cfg_array_del(&neighs, i);
	}
	return 0;
}

static int vrf_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_name_params *np = params;
	const struct tessd_router_cfg *r = &tessd.cfg.router;
	const struct tessd_vrf_cfg *v = need_vrf(np->name, "/params/name", err);
	json_t *users = json_array();

	if (v == NULL) {
		json_decref(users);
		return -ENOENT;
	}
	for (uint32_t i = 0; i < r->n_interfaces; i++)
		if (strcmp(r->interfaces[i].vrf, v->name) == 0)
			busy_add(users, json_string(r->interfaces[i].name));
	if (json_array_size(users))
		return busy(err, "/params/name", users,
			    "VRF '%s' has interfaces %s: remove them first", v->name);
	for (uint32_t i = 0; i < r->n_routes; i++)
		if (strcmp(r->routes[i].target_vrf, v->name) == 0) {
			char text[CFG_PREFIX_STRLEN];
			busy_add(users, json_sprintf("%s %s", r->routes[i].vrf,
						     cfg_fmt_prefix4(&r->routes[i].prefix, text,
								     sizeof(text))));
		}
	if (json_array_size(users))
		return busy(err, "/params/name", users,
			    "routes lead into VRF '%s': %s; remove them first", v->name);
	json_decref(users);
	const struct dp_edit e = {
		.op = DP_EDIT_DEL,
		.array = "/router/vrfs",
		.index = (uint32_t)(v - r->vrfs),
		.arg = (void *)np->name,
		.also = vrf_del_own,
		.answer = dp_answer_name,
	};
	return dp_edit(&e, result, err, "VRF %s removed", np->name);
}

/* ---- interfaces ---- */

static json_t *iface_json(const struct tessd_iface_cfg *ic)
{
	json_t *o = cfg_encode(&tessd_iface_schema, ic);
	uint16_t id = rt_iface_id(ic->name);
	const struct l3_tables *t = rt_tables();
	const struct l3_iface *li = t && id ? &t->iface[id] : NULL;
	bool up = li && li->on;

	if (li && li->kind != L3_IF_GROUP) {
		const struct dp_port *p = dp_port_by_name(ic->port);
		up = up && p && p->link.link_status;
	}
	json_object_set_new(o, "id", json_integer(id));
	if (li)
		json_object_set_new(o, "mac", mac_json(&li->mac));
	json_object_set_new(o, "state", json_string(up ? "up" : "down"));
	return o;
}

static int iface_list(const void *params, json_t **result, struct ctl_error *err)
{
	const struct vrf_filter *f = params;
	json_t *a = json_array();

	if (f->vrf[0] && need_vrf(f->vrf, "/params/vrf", err) == NULL) {
		json_decref(a);
		return -ENOENT;
	}
	for (uint32_t i = 0; i < tessd.cfg.router.n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &tessd.cfg.router.interfaces[i];
		if (!f->vrf[0] || strcmp(f->vrf, ic->vrf) == 0)
			json_array_append_new(a, iface_json(ic));
	}
	*result = a;
	return 0;
}

static json_t *iface_answer(const struct cfg_node *schema, const void *elem, void *arg)
{
	(void)schema;
	(void)arg;
	return iface_json(elem);
}

static int iface_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_iface_cfg *ic = params;
	const struct dp_edit e = {
		.op = DP_EDIT_ADD,
		.array = "/router/interfaces",
		.item = ic,
		.answer = iface_answer,
	};

	if (tessd_cfg_iface(&tessd.cfg, ic->name)) {
		ctl_error_set(err, EEXIST, "/params/name", "interface '%s' exists", ic->name);
		return -EEXIST;
	}
	return dp_edit(&e, result, err, "interface %s added to VRF %s", ic->name, ic->vrf);
}

/* Whether a next hop goes through interface ic (named, or its subnet holds the gateway). */
static bool nh_uses(const struct tessd_cfg *cfg, const char *vrf,
		    const struct tessd_nexthop_cfg *nh, const struct tessd_iface_cfg *ic)
{
	if (nh->interface[0])
		return strcmp(nh->interface, ic->name) == 0;
	return tessd_iface_for(cfg, vrf, nh->via) == ic;
}

static int iface_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_name_params *np = params;
	const struct tessd_router_cfg *r = &tessd.cfg.router;
	const struct tessd_iface_cfg *ic = tessd_cfg_iface(&tessd.cfg, np->name);
	json_t *users;

	if (ic == NULL) {
		ctl_error_set(err, ENOENT, "/params/name", "no interface named '%s'", np->name);
		return -ENOENT;
	}
	users = json_array();
	for (uint32_t i = 0; i < r->n_routes; i++) {
		const struct tessd_route_cfg *rc2 = &r->routes[i];
		for (uint32_t k = 0; strcmp(rc2->vrf, ic->vrf) == 0 && k < rc2->n_nexthops; k++)
			if (nh_uses(&tessd.cfg, rc2->vrf, &rc2->nexthops[k], ic)) {
				char text[CFG_PREFIX_STRLEN];
				busy_add(users, json_sprintf("route %s",
							     cfg_fmt_prefix4(&rc2->prefix, text,
									     sizeof(text))));
				break;
			}
	}
	for (uint32_t i = 0; i < r->n_neighbours; i++) {
		const struct tessd_neigh_cfg *nc = &r->neighbours[i];
		struct tessd_nexthop_cfg nh = { .via = nc->ip };
		char ip[CFG_IP4_STRLEN];
		snprintf(nh.interface, sizeof(nh.interface), "%s", nc->interface);
		if (strcmp(nc->vrf, ic->vrf) == 0 && nh_uses(&tessd.cfg, nc->vrf, &nh, ic))
			busy_add(users,
				 json_sprintf("neighbour %s", cfg_fmt_ip4(nc->ip, ip, sizeof(ip))));
	}
	if (json_array_size(users))
		return busy(err, "/params/name", users,
			    "interface '%s' is used by %s: remove them first", ic->name);
	json_decref(users);
	const struct dp_edit e = {
		.op = DP_EDIT_DEL,
		.array = "/router/interfaces",
		.index = (uint32_t)(ic - r->interfaces),
		.answer = dp_answer_name,
	};
	return dp_edit(&e, result, err, "interface %s removed", np->name);
}

/* ---- routes ---- */

struct route_ctx {
	json_t *a;
	const char *vrf;
	uint16_t id;
};

static json_t *route_json(const char *vrf, uint32_t ip, uint8_t len, uint32_t value)
{
	const struct nh_group *g = nh_group(&l3_nh, value);
	json_t *o = json_object(), *nhs = json_array();

	json_object_set_new(o, "vrf", json_string(vrf));
	json_object_set_new(o, "prefix", rt_prefix_json(ip, len));
	json_object_set_new(o, "origin", json_string(rt_origin_names[g->origin]));
	json_object_set_new(
		o, "type",
		json_string(g->origin == NH_ORIGIN_BROADCAST ? "broadcast" : type_names[g->type]));
	if (g->type == NH_VRF)
		json_object_set_new(o, "target_vrf", json_string(rt_vrfs[g->target_vrf].name));
	for (uint8_t i = 0; i < g->n; i++) {
		json_t *nh = json_object();
		if (g->path[i].gw)
			json_object_set_new(nh, "via", ip_json(g->path[i].gw));
		json_object_set_new(nh, "interface", json_string(rt_ifs[g->path[i].iface].name));
		json_array_append_new(nhs, nh);
	}
	if (g->type == NH_UNICAST)
		json_object_set_new(o, "nexthops", nhs);
	else
		json_decref(nhs);
	return o;
}

static void show_route(uint32_t ip, uint8_t len, uint32_t value, void *arg)
{
	struct route_ctx *c = arg;

	json_array_append_new(c->a, route_json(c->vrf, ip, len, value));
}

/* The route for a prefix ("a.b.c.d/n": exactly; "a.b.c.d": the longest match). */
static int route_find(uint16_t id, const char *q, uint32_t *ip, uint8_t *len, uint32_t *value)
{
	struct cfg_prefix4 pf;

	if (strchr(q, '/')) {
		if (cfg_parse_prefix4(q, &pf) < 0)
			return -EINVAL;
		*ip = pf.ip;
		*len = pf.len;
		*value = fib_get(&l3_fib, id, *ip, *len);
		return 0;
	}
	if (cfg_parse_ip4(q, ip) < 0)
		return -EINVAL;
	/* The longest match, then its length: the most specific stored prefix holding it. */
	*value = fib_lookup(&l3_fib, id, *ip);
	for (int l = 32; *value && l >= 0; l--) {
		uint32_t p = *ip & rt_mask((uint8_t)l);
		if (fib_get(&l3_fib, id, p, (uint8_t)l) == *value) {
			*ip = p;
			*len = (uint8_t)l;
			return 0;
		}
	}
	return 0;
}

static int route_show(const void *params, json_t **result, struct ctl_error *err)
{
	const struct vrf_filter *f = params;
	struct route_ctx c = { .a = json_array() };

	if (f->vrf[0] && need_vrf(f->vrf, "/params/vrf", err) == NULL) {
		json_decref(c.a);
		return -ENOENT;
	}
	for (uint32_t i = 0; i < tessd.cfg.router.n_vrfs; i++) {
		const struct tessd_vrf_cfg *v = &tessd.cfg.router.vrfs[i];
		uint32_t ip = 0, value = 0;
		uint8_t len = 0;

		if (f->vrf[0] && strcmp(f->vrf, v->name) != 0)
			continue;
		c.vrf = v->name;
		if (!f->prefix[0]) {
			fib_walk(&l3_fib, v->id, show_route, &c);
			continue;
		}
		if (route_find(v->id, f->prefix, &ip, &len, &value) < 0) {
			json_decref(c.a);
			ctl_error_set(err, EINVAL, "/params/prefix",
				      "'%s' is neither an address nor a prefix", f->prefix);
			return -EINVAL;
		}
		if (value)
			json_array_append_new(c.a, route_json(v->name, ip, len, value));
	}
	*result = c.a;
	return 0;
}

/*
 * Routes change without a whole commit: checked against the running config
 * alone, installed in the FIB, then recorded in the running config.
 */
int rt_route_add(struct tessd_cfg *cfg, const struct tessd_route_cfg *rc, struct ctl_error *err)
{
	struct tessd_router_cfg *r = &cfg->router;
	uint32_t n = r->n_routes, ip = rc->prefix.ip, have;
	uint8_t len = rc->prefix.len;
	struct tessd_router_index ix;
	struct cfg_array a;
	struct cfg_errs errs;
	struct nh_group g;
	char path[48], text[CFG_PREFIX_STRLEN];
	struct tessd_vrf_counts *counts;
	struct rt_vrf *v;
	bool known;
	uint16_t id;
	int e;

	snprintf(path, sizeof(path), "/router/routes/%u", n);
	if (rt_index(&ix, cfg) < 0)
		return -ENOMEM;
	cfg_errs_init(&errs);
	/* Its names, as the whole config's are checked, then its own rules. */
	if (cfg_check_item_refs(&tessd_cfg_schema, cfg, &tessd_route_schema, rc, path, &errs) == 0)
		tessd_route_check(&ix, rc, n, &errs);
	known = errs.n == 0 && rt_route_group(&ix, rc, &g);
	if (errs.n) {
		rt_index_free(&ix);
		ctl_error_from_cfg(err, &errs);
		dp_error_remap(err, path, "/params");
		return -err->code;
	}
	id = rt_vrf_id(cfg, rc->vrf);
	have = fib_get(&l3_fib, id, ip, len);
	if (have && nh_group(&l3_nh, have)->origin == NH_ORIGIN_KERNEL)
		have = 0; /* tessd's own route wins over the kernel's, which comes back after it */
	if (have || rt_route_find(cfg, rc->vrf, ip, len) >= 0) {
		/* Configured but not installed (the FIB was full): still the config's. */
		rt_index_free(&ix);
		ctl_error_set(err, EEXIST, "/params/prefix", "VRF %s already has a %s route to %s",
			      rc->vrf,
			      have ? rt_origin_names[nh_group(&l3_nh, have)->origin] : "static",
			      cfg_fmt_prefix4(&rc->prefix, text, sizeof(text)));
		return -EEXIST;
	}
	if (!known) {
		rt_index_free(&ix);
		ctl_error_set(err, ENOENT, "/params/nexthops", "a next hop's interface is unknown");
		return -ENOENT;
	}
	/*
	 * Its VRF's routes, groups and FIB nodes counted as the config's validation counts them
	 * (the config's own, each route of it; not the kernel's, which make way), with this one,
	 * before anything changes: what route.add accepts, the next commit accepts too
	 * (review 3.2, and its review: the FIB's count could be lower).
	 */
	v = &rt_vrfs[id];
	counts = rt_route_counts(&ix);
	if (counts == NULL) {
		rt_index_free(&ix);
		ctl_error_set(err, ENOMEM, "/params", "no memory to count the VRF's routes");
		return -ENOMEM;
	}
	if (v->max_routes && counts->routes[id] >= v->max_routes) {
		rt_index_free(&ix);
		v->routes_refused++;
		ctl_error_set(err, ENOSPC, "/params",
			      "VRF %s has %u routes of its own, its max_routes: route refused",
			      rc->vrf, counts->routes[id]);
		return -ENOSPC;
	}
	if (v->max_groups && counts->groups[id] >= v->max_groups &&
	    tessd_vrf_counts_new_group(counts, &ix, rc)) {
		rt_index_free(&ix);
		v->groups_refused++;
		ctl_error_set(err, ENOSPC, "/params",
			      "VRF %s has %u next-hop groups of its own, its max_nexthop_groups: "
			      "route refused",
			      rc->vrf, counts->groups[id]);
		return -ENOSPC;
	}
	/* A limit of 0 limits nothing, as in route_sync.c. */
	uint32_t nodes =
		v->max_nodes ? counts->nodes[id] + tessd_vrf_counts_new_nodes(counts, id, ip, len)
			     : 0;
	if (nodes > v->max_nodes) {
		rt_index_free(&ix);
		v->nodes_refused++;
		ctl_error_set(err, ENOSPC, "/params",
			      "VRF %s needs %u FIB nodes for its own routes, %u with this one, "
			      "over its max_fib_nodes (%u): route refused",
			      rc->vrf, counts->nodes[id], nodes, v->max_nodes);
		return -ENOSPC;
	}
	if ((e = running_routes(cfg, &a)) == 0)
		e = cfg_array_add(&a, rc);
	if (e == -ERANGE)
		ctl_error_set(err, ERANGE, "/params", "the config holds at most %u routes",
			      a.node->arr.max);
	else if (e < 0)
		ctl_error_set(err, -e, "", "cannot record the route: %s", strerror(-e));
	if (e < 0) {
		rt_index_free(&ix);
		return e;
	}
	e = rt_route_set(id, ip, len, &g);
	if (e < 0) {
		rt_index_free(&ix);
		cfg_array_del(&a, n);
		ctl_error_set(err, -e, "/params",
			      e == -ENOSPC ? "out of next-hop groups" : "FIB full: %s",
			      strerror(-e));
		return e;
	}
	rt_vrf_fit(id); /* a kernel route may have to make way */
	rt_route_indexed(cfg, n);
	rt_route_counted(&ix, rc);
	rt_index_free(&ix);
	return 0;
}

static int route_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_route_cfg *rc = params;
	int e = rt_route_add(&tessd.cfg, rc, err);

	if (e == 0)
		*result = route_json(rc->vrf, rc->prefix.ip, rc->prefix.len,
				     fib_get(&l3_fib, rt_vrf_id(&tessd.cfg, rc->vrf), rc->prefix.ip,
					     rc->prefix.len));
	return e;
}

struct route_key_params {
	char vrf[TESS_NAME_LEN];
	struct cfg_prefix4 prefix;
};

static int route_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct route_key_params *rp = params;
	struct cfg_array a;
	const struct tessd_vrf_cfg *v = need_vrf(rp->vrf, "/params/vrf", err);
	uint32_t ip = rp->prefix.ip, have;
	uint8_t len = rp->prefix.len;
	char text[CFG_PREFIX_STRLEN];
	int i, rc;

	if (v == NULL)
		return -ENOENT;
	cfg_fmt_prefix4(&rp->prefix, text, sizeof(text));
	i = rt_route_find(&tessd.cfg, rp->vrf, ip, len);
	if (i == -ENOMEM) {
		ctl_error_set(err, ENOMEM, "/params", "no memory to find the route");
		return -ENOMEM;
	}
	if (i < 0) {
		have = fib_get(&l3_fib, v->id, ip, len);
		if (have && nh_group(&l3_nh, have)->origin == NH_ORIGIN_KERNEL)
			ctl_error_set(err, EINVAL, "/params/prefix",
				      "%s is a kernel route: remove it in netns %s", text,
				      v->kernel.netns);
		else if (have)
			ctl_error_set(err, EINVAL, "/params/prefix",
				      "%s is a %s route: it goes with its interface address", text,
				      rt_origin_names[nh_group(&l3_nh, have)->origin]);
		else
			ctl_error_set(err, ENOENT, "/params/prefix", "VRF %s has no route to %s",
				      rp->vrf, text);
		return have ? -EINVAL : -ENOENT;
	}
	if ((rc = running_routes(&tessd.cfg, &a)) < 0) {
		ctl_error_set(err, -rc, "", "cannot find the config's routes: %s", strerror(-rc));
		return rc;
	}
	if (!kern_route_fallback(v->id, ip, len)) /* the kernel's route for it, if any */
		rt_route_unset(v->id, ip, len);
	cfg_array_del(&a, (uint32_t)i);
	rt_route_index_reset(); /* the routes after it moved */
	*result = json_pack("{s:s, s:s}", "vrf", rp->vrf, "prefix", text);
	return 0;
}

/* ---- neighbours ---- */

struct neigh_ctx {
	json_t *a;
	uint16_t vrf, iface;
	uint64_t now;
	uint32_t flushed;
};

static void show_neigh(struct neigh *e, void *arg)
{
	struct neigh_ctx *c = arg;
	struct rte_ether_addr mac;
	json_t *o;

	if ((c->vrf && e->vrf != c->vrf) || (c->iface && e->iface != c->iface))
		return;
	neigh_mac(e, &mac);
	o = json_object();
	json_object_set_new(o, "vrf", json_string(rt_vrfs[e->vrf].name));
	json_object_set_new(o, "ip", ip_json(e->ip));
	json_object_set_new(o, "mac", e->state == NEIGH_INCOMPLETE ? json_null() : mac_json(&mac));
	json_object_set_new(o, "interface", json_string(rt_ifs[e->iface].name));
	json_object_set_new(o, "state", json_string(neigh_state_name(e->state)));
	json_object_set_new(o, "age_sec",
			    json_integer((json_int_t)(neigh_age(e, c->now) / dp_tsc_hz)));
	json_object_set_new(o, "queued", json_integer(e->n_queued));
	json_array_append_new(c->a, o);
}

static void flush_neigh(struct neigh *e, void *arg)
{
	struct neigh_ctx *c = arg;

	if ((c->vrf && e->vrf != c->vrf) || (c->iface && e->iface != c->iface) ||
	    e->state == NEIGH_STATIC)
		return;
	rt_neigh_forget(e);
	c->flushed++;
}

/* VRF and interface filters by name into ids. */
static int neigh_filter(const struct vrf_filter *f, struct neigh_ctx *c, struct ctl_error *err)
{
	const struct tessd_vrf_cfg *v;

	if (f->vrf[0]) {
		if ((v = need_vrf(f->vrf, "/params/vrf", err)) == NULL)
			return -ENOENT;
		c->vrf = v->id;
	}
	if (f->interface[0] && (c->iface = rt_iface_id(f->interface)) == 0) {
		ctl_error_set(err, ENOENT, "/params/interface", "no interface named '%s'",
			      f->interface);
		return -ENOENT;
	}
	c->now = rte_rdtsc();
	return 0;
}

static int neigh_show(const void *params, json_t **result, struct ctl_error *err)
{
	struct neigh_ctx c = { 0 };
	int rc = neigh_filter(params, &c, err);

	if (rc < 0)
		return rc;
	c.a = json_array();
	neigh_walk(&l3_neigh, show_neigh, &c);
	*result = c.a;
	return 0;
}

static int neigh_flush(const void *params, json_t **result, struct ctl_error *err)
{
	struct neigh_ctx c = { 0 };
	int rc = neigh_filter(params, &c, err);

	if (rc < 0)
		return rc;
	neigh_walk(&l3_neigh, flush_neigh, &c);
	*result = json_pack("{s:i}", "flushed", (int)c.flushed);
	return 0;
}

static int static_index(const struct tessd_cfg *cfg, const char *vrf, uint32_t ip)
{
	for (uint32_t i = 0; i < cfg->router.n_neighbours; i++) {
		const struct tessd_neigh_cfg *nc = &cfg->router.neighbours[i];
		if (strcmp(nc->vrf, vrf) == 0 && nc->ip == ip)
			return (int)i;
	}
	return -1;
}

static int neigh_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_neigh_cfg *nc = params;
	uint32_t ip = nc->ip;
	char ip_s[CFG_IP4_STRLEN], mac[CFG_MAC_STRLEN];
	int i;

	if (need_vrf(nc->vrf, "/params/vrf", err) == NULL)
		return -ENOENT;
	/* Adding one that exists replaces it: a static entry is edited this way. */
	i = static_index(&tessd.cfg, nc->vrf, ip);
	const struct dp_edit e = {
		.op = i >= 0 ? DP_EDIT_SET : DP_EDIT_ADD,
		.array = "/router/neighbours",
		.index = i >= 0 ? (uint32_t)i : 0,
		.item = nc,
	};
	return dp_edit(&e, result, err, "VRF %s: static neighbour %s at %s", nc->vrf,
		       cfg_fmt_ip4(ip, ip_s, sizeof(ip_s)),
		       cfg_fmt_mac(&nc->mac, mac, sizeof(mac)));
}

struct neigh_key_params {
	char vrf[TESS_NAME_LEN];
	uint32_t ip;
};

/* neigh.del's answer: the neighbour as the request named it. */
static json_t *neigh_removed(const struct cfg_node *schema, const void *elem, void *arg)
{
	const struct neigh_key_params *np = arg;

	char ip[CFG_IP4_STRLEN];

	(void)schema;
	(void)elem;
	return json_pack("{s:s, s:s}", "vrf", np->vrf, "ip", cfg_fmt_ip4(np->ip, ip, sizeof(ip)));
}

static int neigh_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct neigh_key_params *np = params;
	const struct tessd_vrf_cfg *v = need_vrf(np->vrf, "/params/vrf", err);
	struct neigh *e;
	uint32_t ip = np->ip;
	char ip_s[CFG_IP4_STRLEN];
	int i;

	if (v == NULL)
		return -ENOENT;
	cfg_fmt_ip4(ip, ip_s, sizeof(ip_s));
	i = static_index(&tessd.cfg, np->vrf, ip);
	if (i < 0) {
		e = neigh_find(&l3_neigh, v->id, ip);
		if (e == NULL) {
			ctl_error_set(err, ENOENT, "/params/ip", "VRF %s has no neighbour %s",
				      np->vrf, ip_s);
			return -ENOENT;
		}
		rt_neigh_forget(e);
		*result = neigh_removed(NULL, NULL, (void *)np);
		return 0;
	}
	const struct dp_edit ed = {
		.op = DP_EDIT_DEL,
		.array = "/router/neighbours",
		.index = (uint32_t)i,
		.arg = (void *)np,
		.answer = neigh_removed,
	};
	return dp_edit(&ed, result, err, "VRF %s: static neighbour %s removed", np->vrf, ip_s);
}

/* ---- schemas ---- */

static const struct cfg_field filter_fields[] = {
	CFG_FIELD(struct vrf_filter, vrf, "vrf", &tessd_opt_name_schema, false, "\"\""),
	CFG_FIELD(struct vrf_filter, interface, "interface", &tessd_opt_name_schema, false, "\"\""),
	CFG_FIELD(struct vrf_filter, prefix, "prefix",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = TESS_PREFIX_LEN - 1 } }),
		  false, "\"\""),
	{ 0 },
};
static const struct cfg_node filter_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = filter_fields, .size = sizeof(struct vrf_filter) },
};
static const struct cfg_field route_key_fields[] = {
	CFG_FIELD(struct route_key_params, vrf, "vrf", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct route_key_params, prefix, "prefix", &tessd_prefix_schema, true, NULL),
	{ 0 },
};
static const struct cfg_node route_key_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = route_key_fields, .size = sizeof(struct route_key_params) },
};
static const struct cfg_field neigh_key_fields[] = {
	CFG_FIELD(struct neigh_key_params, vrf, "vrf", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct neigh_key_params, ip, "ip", &tessd_ip4_schema, true, NULL),
	{ 0 },
};
static const struct cfg_node neigh_key_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = neigh_key_fields, .size = sizeof(struct neigh_key_params) },
};

const struct ctl_method router_methods[] = {
	{ "vrf.list", NULL, vrf_list,
	  "VRFs, their interfaces, route and neighbour counts, the neighbour limit in force" },
	{ "vrf.add", &tessd_vrf_schema, vrf_add, "add a VRF (name, id, ICMP rate, ARP limits)" },
	{ "vrf.set", &tessd_vrf_schema, vrf_set,
	  "change a VRF's settings: only the keys given (of kernel too); not its id", true },
	{ "vrf.del", &tessd_name_params_schema, vrf_del,
	  "remove a VRF without interfaces (its static routes and neighbours go too)" },
	{ "interface.list", &filter_schema, iface_list, "L3 interfaces (of a VRF)" },
	{ "interface.add", &tessd_iface_schema, iface_add,
	  "add an L3 interface on a port, a VLAN of a port, or a group" },
	{ "interface.del", &tessd_name_params_schema, iface_del,
	  "remove an L3 interface no route or neighbour uses" },
	{ "route.show", &filter_schema, route_show,
	  "routes (of a VRF; for a prefix, or the longest match of an address)" },
	{ "route.add", &tessd_route_schema, route_add,
	  "add a static route: next hops (ECMP), blackhole, reject, or into another VRF" },
	{ "route.del", &route_key_schema, route_del, "remove a static route" },
	{ "neigh.show", &filter_schema, neigh_show, "ARP entries (of a VRF, an interface)" },
	{ "neigh.add", &tessd_neigh_schema, neigh_add, "add or replace a static neighbour" },
	{ "neigh.del", &neigh_key_schema, neigh_del,
	  "remove a static neighbour, or forget a learned one" },
	{ "neigh.flush", &filter_schema, neigh_flush,
	  "forget learned neighbours (of a VRF, an interface)" },
	{ 0 },
};
