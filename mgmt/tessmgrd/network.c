/* SPDX-License-Identifier: BSD-3-Clause */
#include "network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "tessd_addr.h"
#include "ticker.h"
#include "vswitch.h"
#include "tlog.h"

static pthread_mutex_t net_lock = PTHREAD_MUTEX_INITIALIZER;

/* What tessmgrd names on a PE tessd for tenant t: its VRF is t's name. */
#define NET_MAX_TENANT_NAME 24 /* t + "-ent", "-nat"... within tessd's 31 characters */

static void ip_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

static void pfx_str(const struct cfg_prefix4 *p, char buf[20])
{
	char ip[16];

	ip_str(p->ip, ip);
	snprintf(buf, 20, "%s/%u", ip, p->len);
}

static bool has_network(const struct mgr_tenant_spec *t)
{
	return t && t->network.n_routers > 0;
}

static bool serves(const struct mgr_tenant_spec *t, const char *router)
{
	for (uint32_t i = 0; has_network(t) && i < t->network.n_routers; i++)
		if (strcmp(t->network.routers[i], router) == 0)
			return true;
	return false;
}

static bool nat_on(const struct mgr_network_spec *n)
{
	return n->nat.address || n->nat.pool[0];
}

static bool fw_on(const struct mgr_network_spec *n)
{
	return n->firewall.n_rules || n->firewall.default_action != MGR_FW_ACCEPT;
}

/* ---- checks ---- */

static bool host_reaches(const struct mgr_host *h, const struct mgr_tenant_spec *t)
{
	return has_network(t) && h->spec.tessd[0] && (h->vlans[t->vlan / 64] >> (t->vlan % 64) & 1);
}

/* Whether two tessd addresses name the same tessd ("/p" and "unix:///p" do). */
static bool same_tessd(const char *a, const char *b)
{
	struct mgr_tessd_addr x, y;
	char why[128];

	if (mgr_tessd_addr_parse(a, &x, why, sizeof(why)) < 0 ||
	    mgr_tessd_addr_parse(b, &y, why, sizeof(why)) < 0)
		return strcmp(a, b) == 0;
	return x.ssh == y.ssh && x.port == y.port && strcmp(x.user, y.user) == 0 &&
	       strcmp(x.host, y.host) == 0 && strcmp(x.path, y.path) == 0;
}

bool mgr_net_is_trunk(const struct mgr_router_spec *r, const char *port)
{
	for (uint32_t i = 0; i < r->n_trunk_ports; i++)
		if (strcmp(r->trunk_ports[i], port) == 0)
			return true;
	return false;
}

/* The port of config named name, or NULL. */
static json_t *config_port(json_t *config, const char *name)
{
	json_t *p;
	size_t i;

	json_array_foreach (json_object_get(config, "ports"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")) ?: "", name) == 0)
			return p;
	return NULL;
}

/* Why port is no trunk of all groups in a router's tessd's config, or NULL. */
static const char *trunk_problem(json_t *config, const char *port)
{
	json_t *p = config_port(config, port);

	if (p == NULL)
		return "the tessd has no such port";
	/* Tenants' groups come and go: only a trunk of all groups carries them. */
	if (strcmp(json_string_value(json_object_get(p, "mode")) ?: "", "trunk") ||
	    !json_is_true(json_object_get(p, "all_groups")))
		return "not a trunk of all groups: give it \"mode\": \"trunk\", "
		       "\"all_groups\": true in that tessd's config";
	return NULL;
}

int mgr_net_router_probe(const struct mgr_router_spec *r, struct mgr_err *e)
{
	json_t *config = NULL;
	char err[512], path[32];
	bool down = false;
	int rc = mgr_tessd_request(r->tessd, "config.get", NULL, &config, err, sizeof(err), &down);

	if (rc < 0) {
		mgr_err_set(e, down ? 503 : 409, "/tessd", "%s", err);
		return rc;
	}
	for (uint32_t i = 0; i < r->n_trunk_ports && rc == 0; i++) {
		const char *why = trunk_problem(config, r->trunk_ports[i]);
		snprintf(path, sizeof(path), "/trunk_ports/%u", i);
		if (why) {
			mgr_err_set(e, 409, path, "port %s of router %s's tessd: %s",
				    r->trunk_ports[i], r->name, why);
			rc = -EINVAL;
		}
	}
	json_decref(config);
	return rc;
}

bool mgr_net_check_locked(const struct mgr_tenant_spec *t, struct mgr_err *e)
{
	const struct mgr_network_spec *n = &t->network;
	uint32_t mask = cfg_prefix4_mask(n->gateway.len), net = n->gateway.ip & mask;

	if (!has_network(t))
		return true;
	if (strlen(t->name) > NET_MAX_TENANT_NAME) {
		mgr_err_set(e, 400, "/name",
			    "a tenant with a network has a name of at most %d characters (its "
			    "routers' VRF and interfaces are named after it)",
			    NET_MAX_TENANT_NAME);
		return false;
	}
	for (uint32_t i = 0; i < n->n_routers; i++) {
		const struct mgr_router *r = mgr_router_by_name(&mgr, n->routers[i]);
		char path[64];
		snprintf(path, sizeof(path), "/network/routers/%u", i);
		if (r == NULL) {
			mgr_err_set(e, 400, path, "no router named '%s'", n->routers[i]);
			return false;
		}
		for (uint32_t k = 0; k < i; k++)
			if (strcmp(n->routers[k], n->routers[i]) == 0) {
				mgr_err_set(e, 400, path, "router %s is listed twice",
					    r->spec.name);
				return false;
			}
		if (nat_on(n) && r->spec.internet_vrf[0] == '\0') {
			mgr_err_set(e, 400, "/network/nat",
				    "router %s has no internet_vrf: it cannot NAT", r->spec.name);
			return false;
		}
		/* The PE batch adds the tenant's group by name, a host's step or desktop job by
		 * VLAN: one tessd cannot be both (nor hold two groups of one VLAN). */
		for (uint32_t k = 0; k < mgr.n_hosts; k++) {
			const struct mgr_host *h = mgr.hosts[k];
			if (host_reaches(h, t) && same_tessd(h->spec.tessd, r->spec.tessd)) {
				mgr_err_set(
					e, 409, path,
					"router %s's tessd is also host %s's, which reaches VLAN "
					"%u: the tenant's PE and its desktops' host need tessds "
					"of their own",
					r->spec.name, h->spec.name, t->vlan);
				return false;
			}
		}
		if (mgr_net_is_trunk(&r->spec, n->enterprise.port)) {
			mgr_err_set(e, 400, "/network/enterprise/port",
				    "port %s is router %s's trunk toward the hosts: the enterprise "
				    "needs a port of its own",
				    n->enterprise.port, r->spec.name);
			return false;
		}
	}
	if (n->enterprise.port[0] == '\0') {
		mgr_err_set(e, 400, "/network/enterprise/port",
			    "a network needs the PE port toward the enterprise");
		return false;
	}
	if (n->enterprise.address.len == 0 || n->enterprise.address.len > 30) {
		mgr_err_set(e, 400, "/network/enterprise/address",
			    "the PE's address toward the enterprise, with a prefix of /1 to /30");
		return false;
	}
	if (n->gateway.len == 0 || n->gateway.len > 30 || n->gateway.ip == net ||
	    n->gateway.ip == (net | ~mask)) {
		mgr_err_set(e, 400, "/network/gateway",
			    "the desktops' gateway is an address in a subnet of /1 to /30, not its "
			    "network or broadcast address");
		return false;
	}
	uint32_t emask = cfg_prefix4_mask(n->enterprise.address.len);
	uint32_t shorter = mask < emask ? mask : emask;
	if ((n->enterprise.address.ip & shorter) == (n->gateway.ip & shorter)) {
		mgr_err_set(e, 400, "/network/gateway",
			    "the desktop subnet overlaps the enterprise link");
		return false;
	}
	for (uint32_t i = 0; i < n->enterprise.n_routes; i++) {
		const struct mgr_net_route *r = &n->enterprise.routes[i];
		char path[80];
		snprintf(path, sizeof(path), "/network/enterprise/routes/%u/via", i);
		if ((r->via & emask) != (n->enterprise.address.ip & emask) ||
		    r->via == n->enterprise.address.ip) {
			mgr_err_set(e, 400, path,
				    "the next hop is another address on the enterprise link");
			return false;
		}
		snprintf(path, sizeof(path), "/network/enterprise/routes/%u/prefix", i);
		if (r->prefix.len == 0 && nat_on(n)) {
			mgr_err_set(e, 400, path,
				    "with NAT, the default route leads to the internet: route the "
				    "enterprise's prefixes only");
			return false;
		}
		if ((r->prefix.ip & cfg_prefix4_mask(r->prefix.len)) != r->prefix.ip) {
			mgr_err_set(e, 400, path, "the prefix has host bits set");
			return false;
		}
	}
	if (n->dhcp.pool_start || n->dhcp.pool_end) {
		const struct mgr_net_dhcp *d = &n->dhcp;
		if ((d->pool_start & mask) != net || d->pool_start == net) {
			mgr_err_set(e, 400, "/network/dhcp/pool_start",
				    "the pool starts inside the desktop subnet");
			return false;
		}
		if ((d->pool_end & mask) != net || d->pool_end == (net | ~mask) ||
		    d->pool_end < d->pool_start) {
			mgr_err_set(
				e, 400, "/network/dhcp/pool_end",
				"the pool ends inside the desktop subnet, at or after its start");
			return false;
		}
		if (n->gateway.ip >= d->pool_start && n->gateway.ip <= d->pool_end) {
			mgr_err_set(e, 400, "/network/dhcp/pool_start",
				    "the pool holds the gateway's address");
			return false;
		}
	}
	if (n->nat.address && n->nat.pool[0]) {
		mgr_err_set(e, 400, "/network/nat/pool",
			    "NAT takes an address of its own or a share of a pool, not both");
		return false;
	}
	return true;
}

const char *mgr_net_router_user_locked(const char *router)
{
	for (uint32_t i = 0; i < mgr.n_tenants; i++)
		if (serves(&mgr.tenants[i].spec, router))
			return mgr.tenants[i].spec.name;
	return NULL;
}

/* ---- what a PE gets ---- */

static json_t *group_params(const struct mgr_tenant_spec *t)
{
	return json_pack("{s:s, s:s, s:i}", "name", t->vlan_name, "tenant", t->name, "vlan",
			 (int)t->vlan);
}

static void add_edit(json_t *edits, const char *array, json_t *match, json_t *item)
{
	json_array_append_new(edits, json_pack("{s:s, s:s, s:o, s:o}", "op", "add", "array", array,
					       "match", match, "item", item));
}

/*
 * The adds that make t's network on r, in order, each with the match that finds its
 * element again (for the dels, reconcile and its repair).
 */
static json_t *pe_adds(const struct mgr_tenant_spec *t, const struct mgr_router_spec *r)
{
	const struct mgr_network_spec *n = &t->network;
	char ent[72], dc[72], pool[72], fw[72], a[24], b[20], gw[16];
	json_t *edits = json_array(), *o;

	snprintf(ent, sizeof(ent), "%s-ent", t->name);
	snprintf(dc, sizeof(dc), "%s-dc", t->name);
	snprintf(pool, sizeof(pool), "%s-nat", t->name);
	snprintf(fw, sizeof(fw), "%s-fw", t->name);
	add_edit(edits, "/router/vrfs", json_pack("{s:s}", "name", t->name),
		 json_pack("{s:s, s:i, s:s}", "name", t->name, "id", (int)t->vlan, "tenant",
			   t->name));
	/* The desktops' side: the tenant's group, which the router's trunks (all groups)
	 * carry, so one subnet stretches over every site the trunks lead to. */
	add_edit(edits, "/switch/groups", json_pack("{s:s}", "name", t->vlan_name),
		 group_params(t));
	pfx_str(&n->enterprise.address, a);
	o = json_pack("{s:s, s:s, s:s, s:[s]}", "name", ent, "vrf", t->name, "port",
		      n->enterprise.port, "addresses", a);
	if (n->enterprise.vlan)
		json_object_set_new(o, "vlan", json_integer(n->enterprise.vlan));
	add_edit(edits, "/router/interfaces", json_pack("{s:s}", "name", ent), o);
	pfx_str(&n->gateway, a);
	add_edit(edits, "/router/interfaces", json_pack("{s:s}", "name", dc),
		 json_pack("{s:s, s:s, s:s, s:[s]}", "name", dc, "vrf", t->name, "group",
			   t->vlan_name, "addresses", a));
	for (uint32_t i = 0; i < n->enterprise.n_routes; i++) {
		pfx_str(&n->enterprise.routes[i].prefix, a);
		ip_str(n->enterprise.routes[i].via, b);
		add_edit(edits, "/router/routes",
			 json_pack("{s:s, s:s}", "vrf", t->name, "prefix", a),
			 json_pack("{s:s, s:s, s:[{s:s}]}", "vrf", t->name, "prefix", a, "nexthops",
				   "via", b));
	}
	if (n->dhcp.pool_start) {
		json_t *dns = json_array();
		for (uint32_t i = 0; i < n->dhcp.n_dns; i++) {
			ip_str(n->dhcp.dns[i], b);
			json_array_append_new(dns, json_string(b));
		}
		ip_str(n->dhcp.pool_start, a);
		ip_str(n->dhcp.pool_end, b);
		ip_str(n->gateway.ip, gw);
		add_edit(edits, "/dhcp/servers", json_pack("{s:s}", "interface", dc),
			 json_pack("{s:s, s:[{s:s, s:s}], s:i, s:s, s:o}", "interface", dc, "pools",
				   "start", a, "end", b, "lease_sec", (int)n->dhcp.lease_sec,
				   "router", gw, "dns", dns));
	}
	if (nat_on(n) && r->internet_vrf[0]) {
		const char *use = n->nat.pool;
		if (n->nat.address) {
			ip_str(n->nat.address, b);
			snprintf(a, sizeof(a), "%s/32", b);
			add_edit(edits, "/nat/pools", json_pack("{s:s}", "name", pool),
				 json_pack("{s:s, s:s}", "name", pool, "prefix", a));
			use = pool;
		}
		o = json_pack("{s:s, s:s, s:s, s:s}", "name", t->name, "inside_vrf", t->name,
			      "outside_vrf", r->internet_vrf, "pool", use);
		if (n->nat.max_blocks)
			json_object_set_new(o, "max_blocks", json_integer(n->nat.max_blocks));
		add_edit(edits, "/nat/instances", json_pack("{s:s}", "name", t->name), o);
		add_edit(edits, "/router/routes",
			 json_pack("{s:s, s:s}", "vrf", t->name, "prefix", "0.0.0.0/0"),
			 json_pack("{s:s, s:s, s:s, s:s}", "vrf", t->name, "prefix", "0.0.0.0/0",
				   "type", "vrf", "target_vrf", r->internet_vrf));
	}
	if (fw_on(n)) {
		json_t *rules = json_array();
		for (uint32_t i = 0; i < n->firewall.n_rules; i++) {
			const struct mgr_net_fw_rule *x = &n->firewall.rules[i];
			o = json_pack("{s:s, s:s}", "action", mgr_fw_actions[x->action], "proto",
				      x->proto);
			if (x->src.len || x->src.ip) {
				pfx_str(&x->src, a);
				json_object_set_new(o, "src", json_string(a));
			}
			if (x->dst.len || x->dst.ip) {
				pfx_str(&x->dst, a);
				json_object_set_new(o, "dst", json_string(a));
			}
			if (x->dport[0])
				json_object_set_new(o, "dport", json_string(x->dport));
			json_array_append_new(rules, o);
		}
		add_edit(edits, "/firewall/rulesets", json_pack("{s:s}", "name", fw),
			 json_pack("{s:s, s:s, s:s, s:o}", "name", fw, "default_in", "accept",
				   "default_out", mgr_fw_actions[n->firewall.default_action],
				   "rules", rules));
		add_edit(edits, "/firewall/attach", json_pack("{s:s}", "interface", dc),
			 json_pack("{s:s, s:s}", "interface", dc, "out", fw));
	}
	return edits;
}

/* The dels of what pe_adds makes, in reverse order, appended to edits. */
static void pe_dels(json_t *edits, const struct mgr_tenant_spec *t, const struct mgr_router_spec *r)
{
	json_t *adds = pe_adds(t, r);

	for (size_t i = json_array_size(adds); i-- > 0;) {
		json_t *ed = json_array_get(adds, i);
		json_array_append_new(edits, json_pack("{s:s, s:O, s:O}", "op", "del", "array",
						       json_object_get(ed, "array"), "match",
						       json_object_get(ed, "match")));
	}
	json_decref(adds);
}

/* ---- plans: steps on tessds, each with its undo ---- */

struct step {
	char socket[MGR_URI_LEN]; /* the tessd's address */
	char what[160];
	const char *method, *undo_method; /* undo_method NULL: nothing to undo */
	json_t *params, *undo_params;
	bool group_add; /* group.add: skipped (and not undone) when the VLAN has a group */
	uint16_t vlan;
	bool done;
};

struct plan {
	struct step *s;
	uint32_t n;
	/* For the "network" event once it ran: whose network, and how it changed. */
	char tenant[MGR_NAME_LEN];
	uint32_t tenant_id; /* 0: a tenant not created yet (the provider's event only) */
	const char *change; /* "added", "changed", "removed" */
};

static struct step *plan_add(struct plan *p)
{
	struct step *a = realloc(p->s, (p->n + 1) * sizeof(*a));

	if (a == NULL)
		return NULL;
	p->s = a;
	memset(&a[p->n], 0, sizeof(*a));
	return &a[p->n++];
}

static void plan_free(struct plan *p)
{
	for (uint32_t i = 0; i < p->n; i++) {
		json_decref(p->s[i].params);
		json_decref(p->s[i].undo_params);
	}
	free(p->s);
	p->s = NULL;
	p->n = 0;
}

static int plan_build(struct plan *p, const struct mgr_tenant_spec *old,
		      const struct mgr_tenant_spec *new)
{
	const struct mgr_tenant_spec *both[2] = { old, new };

	/* PE routers: one batch each, its undo the reverse batch. */
	for (uint32_t i = 0; i < mgr.n_routers; i++) {
		const struct mgr_router *r = &mgr.routers[i];
		bool in_old = serves(old, r->spec.name), in_new = serves(new, r->spec.name);
		if (!in_old && !in_new)
			continue;
		json_t *adds_old = in_old ? pe_adds(old, &r->spec) : json_array();
		json_t *adds_new = in_new ? pe_adds(new, &r->spec) : json_array();
		bool same = json_equal(adds_old, adds_new);
		json_decref(adds_old);
		json_decref(adds_new);
		if (same)
			continue;
		json_t *doit = json_array(), *undo = json_array();
		if (in_old)
			pe_dels(doit, old, &r->spec);
		if (in_new) {
			json_t *adds = pe_adds(new, &r->spec);
			json_array_extend(doit, adds);
			json_decref(adds);
			pe_dels(undo, new, &r->spec);
		}
		if (in_old) {
			json_t *adds = pe_adds(old, &r->spec);
			json_array_extend(undo, adds);
			json_decref(adds);
		}
		struct step *s = plan_add(p);
		if (s == NULL) {
			json_decref(doit);
			json_decref(undo);
			return -ENOMEM;
		}
		snprintf(s->socket, sizeof(s->socket), "%s", r->spec.tessd);
		snprintf(s->what, sizeof(s->what), "router %s", r->spec.name);
		s->method = "config.batch";
		s->params = json_pack("{s:o}", "edits", doit);
		s->undo_method = "config.batch";
		s->undo_params = json_pack("{s:o}", "edits", undo);
	}
	/* Hosts: the port group of the tenant's VLAN, where the host reaches it. */
	for (uint32_t i = 0; i < mgr.n_hosts; i++) {
		const struct mgr_host *h = mgr.hosts[i];
		bool r_old = old && host_reaches(h, old), r_new = new &&host_reaches(h, new);
		if (r_old && r_new &&
		    old->vlan == new->vlan &&strcmp(old->vlan_name, new->vlan_name) == 0)
			continue;
		for (int k = 0; k < 2; k++) {
			const struct mgr_tenant_spec *t = both[k];
			if (!(k ? r_new : r_old))
				continue;
			struct step *s = plan_add(p);
			if (s == NULL)
				return -ENOMEM;
			snprintf(s->socket, sizeof(s->socket), "%s", h->spec.tessd);
			snprintf(s->what, sizeof(s->what), "host %s", h->spec.name);
			if (k == 0) {
				s->method = "group.del";
				s->params = json_pack("{s:s}", "name", t->vlan_name);
				s->undo_method = "group.add";
				s->undo_params = group_params(t);
			} else {
				s->method = "group.add";
				s->params = group_params(t);
				s->group_add = true;
				s->vlan = t->vlan;
				s->undo_method = "group.del";
				s->undo_params = json_pack("{s:s}", "name", t->vlan_name);
			}
		}
	}
	return 0;
}

/* Whether tessd at socket has a group of vlan (-errno: it failed; *down: did not answer). */
static int has_group(const char *socket, uint16_t vlan, char *err, size_t len, bool *down)
{
	json_t *groups = NULL, *g;
	size_t i;
	int rc = mgr_tessd_request(socket, "group.list", NULL, &groups, err, len, down);

	if (rc < 0)
		return rc;
	rc = 0;
	json_array_foreach (groups, i, g)
		rc |= json_integer_value(json_object_get(g, "vlan")) == vlan;
	json_decref(groups);
	return rc;
}

static int step_run(struct step *s, char *err, size_t len, bool *down)
{
	json_t *res = NULL;
	int rc;

	*down = false;
	if (s->group_add) {
		rc = has_group(s->socket, s->vlan, err, len, down);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			/* The VLAN has its group already (a desktop made it): not ours to undo. */
			s->undo_method = NULL;
			return 0;
		}
	}
	rc = mgr_tessd_request(s->socket, s->method, json_incref(s->params), &res, err, len, down);
	json_decref(res);
	if (rc == -EEXIST && s->group_add) {
		/* A desktop job made the VLAN's group since we looked: there, not ours to undo.
		 * (EEXIST for a name another VLAN's group has stays a refusal.) */
		char why[256];
		bool gone;
		if (has_group(s->socket, s->vlan, why, sizeof(why), &gone) == 1) {
			s->undo_method = NULL;
			return 0;
		}
	}
	if (rc == -ENOENT && strcmp(s->method, "group.del") == 0) {
		s->undo_method = NULL; /* not there: nothing went */
		return 0;
	}
	return rc;
}

static int plan_run(struct plan *p, struct mgr_err *e)
{
	char err[512], undo_err[1024] = "";
	bool down = false;
	uint32_t i;
	int rc = 0;

	for (i = 0; i < p->n; i++) {
		if ((rc = step_run(&p->s[i], err, sizeof(err), &down)) < 0)
			break;
		p->s[i].done = true;
	}
	if (rc == 0)
		return 0;
	/* Undo what earlier tessds applied, the last first. */
	uint32_t undone = 0, failed = 0, at = i;
	while (i-- > 0) {
		struct step *s = &p->s[i];
		json_t *res = NULL;
		char why[512];
		if (!s->done || s->undo_method == NULL)
			continue;
		if (mgr_tessd_call(s->socket, s->undo_method, json_incref(s->undo_params), &res,
				   why, sizeof(why)) < 0) {
			failed++;
			if (!undo_err[0])
				snprintf(undo_err, sizeof(undo_err), "; undoing %s failed too: %s",
					 s->what, why);
			tlog(LOG_WARNING, NULL, "network: undoing %s: %s", s->what, why);
		} else {
			undone++;
		}
		json_decref(res);
	}
	mgr_err_set(e, down ? 503 : 409, "", "%s: %.400s%.80s (%u earlier tessds undone%s)",
		    p->s[at].what, err, undo_err, undone,
		    failed ? ", some not: see reconcile" : "");
	return rc;
}

void mgr_net_serialize(bool on)
{
	if (on)
		pthread_mutex_lock(&net_lock);
	else
		pthread_mutex_unlock(&net_lock);
}

void *mgr_net_plan_locked(const struct mgr_tenant_spec *old, const struct mgr_tenant_spec *new,
			  struct mgr_err *e)
{
	struct plan *p = calloc(1, sizeof(*p));

	if (p == NULL || plan_build(p, old, new) < 0) {
		if (p)
			plan_free(p);
		free(p);
		mgr_err_set(e, 500, "", "out of memory");
		return NULL;
	}
	const struct mgr_tenant_spec *t = new ? new : old;
	const struct mgr_tenant *have = t ? mgr_tenant_by_name(&mgr, t->name) : NULL;
	snprintf(p->tenant, sizeof(p->tenant), "%s", t ? t->name : "");
	p->tenant_id = have ? have->id : 0;
	p->change = old == NULL ? "added" : new == NULL ? "removed" : "changed";
	return p;
}

int mgr_net_plan_run(void *plan, struct mgr_err *e)
{
	static uint32_t changes;
	struct plan *p = plan;
	int rc = plan_run(p, e);
	uint32_t ref = __atomic_add_fetch(&changes, 1, __ATOMIC_RELAXED);
	char generic[160];

	if (rc < 0)
		/* The full text, for the provider who reads the log after a tenant asks. */
		tlog(LOG_WARNING, TLOG_F(.tenant = p->tenant_id),
		     "network change %" PRIu32 " of tenant %s failed: %s", ref, p->tenant, e->msg);
	/*
	 * Only a change that reached tessds: a tenant without a network has no steps. A
	 * tenant's stream gets a text of its own: the tessds' words name the provider's
	 * routers, hosts and steps.
	 */
	if (p->n == 0)
		return rc;
	snprintf(generic, sizeof(generic),
		 "the change did not reach every tessd: ask the provider about network change "
		 "%" PRIu32,
		 ref);
	mgr_event_emit_split("network", p->tenant_id,
			     json_pack("{s:s, s:s, s:i, s:b, s:s, s:i}", "tenant", p->tenant,
				       "change", p->change, "tessd_steps", (int)p->n, "ok", rc == 0,
				       "error", rc == 0 ? "" : e->msg, "ref", (int)ref),
			     json_pack("{s:s, s:s, s:i, s:b, s:s, s:i}", "tenant", p->tenant,
				       "change", p->change, "tessd_steps", (int)p->n, "ok", rc == 0,
				       "error", rc == 0 ? "" : generic, "ref", (int)ref));
	return rc;
}

void mgr_net_plan_undo(void *plan)
{
	struct plan *p = plan;

	for (uint32_t i = p->n; i-- > 0;) {
		struct step *s = &p->s[i];
		json_t *res = NULL;
		char why[512];
		if (!s->done || s->undo_method == NULL)
			continue;
		if (mgr_tessd_call(s->socket, s->undo_method, json_incref(s->undo_params), &res,
				   why, sizeof(why)) < 0)
			tlog(LOG_WARNING, NULL, "network: undoing %s: %s", s->what, why);
		json_decref(res);
		s->done = false;
	}
}

void mgr_net_plan_free(void *plan)
{
	if (plan)
		plan_free(plan);
	free(plan);
}

/* ---- reconcile ---- */

/* The element of config at JSON pointer array matching match, or NULL. */
static json_t *find_elem(json_t *config, const char *array, json_t *match)
{
	char buf[128], *save = NULL;
	json_t *a = config, *el, *v;
	const char *k;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", array);
	for (char *s = strtok_r(buf, "/", &save); s && a; s = strtok_r(NULL, "/", &save))
		a = json_object_get(a, s);
	json_array_foreach (a, i, el) {
		bool same = true;
		json_object_foreach (match, k, v)
			same = same && json_equal(json_object_get(el, k), v);
		if (same)
			return el;
	}
	return NULL;
}

/* Whether el has what item says, at every depth (tessd adds its defaults). */
static bool covers(json_t *el, json_t *item)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(item)) {
		if (!json_is_object(el))
			return false;
		json_object_foreach (item, k, v)
			if (!covers(json_object_get(el, k), v))
				return false;
		return true;
	}
	if (json_is_array(item)) {
		if (!json_is_array(el) || json_array_size(el) != json_array_size(item))
			return false;
		json_array_foreach (item, i, v)
			if (!covers(json_array_get(el, i), v))
				return false;
		return true;
	}
	return json_equal(el, item);
}

/*
 * What a reconcile compares one tessd to, copied under mgr.lock: the tessd is then asked
 * without it (one that does not answer, or its ssh tunnel coming up, holds up no request).
 */
struct look {
	uint32_t id;
	bool router;
	char name[MGR_NAME_LEN];
	char tessd[MGR_URI_LEN];
	json_t *adds;   /* router: [{"tenant", "edits": its pe_adds}]; host: [group_params] */
	json_t *trunks; /* router: its trunk ports */
	json_t *ports;  /* host: its desktops' ports, as mgr_port_req's fields */
};

static void look_router_locked(struct look *l, const struct mgr_router *r)
{
	l->id = r->id;
	l->router = true;
	snprintf(l->name, sizeof(l->name), "%s", r->spec.name);
	snprintf(l->tessd, sizeof(l->tessd), "%s", r->spec.tessd);
	l->adds = json_array();
	l->trunks = json_array();
	for (uint32_t i = 0; i < mgr.n_tenants; i++) {
		const struct mgr_tenant_spec *t = &mgr.tenants[i].spec;
		if (serves(t, r->spec.name))
			json_array_append_new(l->adds, json_pack("{s:s, s:o}", "tenant", t->name,
								 "edits", pe_adds(t, &r->spec)));
	}
	for (uint32_t i = 0; i < r->spec.n_trunk_ports; i++)
		json_array_append_new(l->trunks, json_string(r->spec.trunk_ports[i]));
}

static void look_host_locked(struct look *l, const struct mgr_host *h)
{
	l->id = h->id;
	snprintf(l->name, sizeof(l->name), "%s", h->spec.name);
	snprintf(l->tessd, sizeof(l->tessd), "%s", h->spec.tessd);
	l->adds = json_array();
	l->ports = json_array();
	for (uint32_t i = 0; i < mgr.n_tenants; i++)
		if (host_reaches(h, &mgr.tenants[i].spec))
			json_array_append_new(l->adds, group_params(&mgr.tenants[i].spec));
	for (uint32_t i = 0; i < mgr.n_desktops; i++) {
		const struct mgr_desktop *d = mgr.desktops[i];
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
		/* A desktop whose job is at work has its port in that job's hands. */
		if (d->host_id != h->id || !d->port[0] || t == NULL ||
		    (d->state != MGR_DESK_RUNNING && d->state != MGR_DESK_STOPPED))
			continue;
		json_array_append_new(l->ports,
				      json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:s}", "desktop_id",
						(json_int_t)d->id, "port", d->port, "vhost_socket",
						d->vhost_socket, "mac", d->mac, "vlan",
						(int)t->spec.vlan, "group", t->spec.vlan_name,
						"tenant", t->spec.name));
	}
}

static void look_free(struct look *l)
{
	json_decref(l->adds);
	json_decref(l->trunks);
	json_decref(l->ports);
	memset(l, 0, sizeof(*l));
}

/* Whether the router or host of l is still there, with the same tessd (under mgr.lock). */
static bool look_current_locked(const struct look *l)
{
	const char *tessd = NULL;

	if (l->router) {
		const struct mgr_router *r = mgr_router_get(&mgr, l->id);
		tessd = r ? r->spec.tessd : NULL;
	} else {
		const struct mgr_host *h = mgr_host_get(&mgr, l->id);
		tessd = h ? h->spec.tessd : NULL;
	}
	return tessd && strcmp(tessd, l->tessd) == 0;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "";
}

static json_t *router_reconcile(const struct look *l, bool repair)
{
	json_t *config = NULL, *missing = json_array(), *differ = json_array(), *fix = json_array();
	json_t *o = json_pack("{s:s}", "router", l->name), *ta, *ed, *port;
	char err[512];
	size_t i, k;
	int rc = mgr_tessd_call(l->tessd, "config.get", NULL, &config, err, sizeof(err));

	json_object_set_new(o, "reachable", json_boolean(rc == 0));
	if (rc < 0) {
		json_object_set_new(o, "error", json_string(err));
		json_decref(missing);
		json_decref(differ);
		json_decref(fix);
		return o;
	}
	json_array_foreach (l->adds, i, ta) {
		json_array_foreach (json_object_get(ta, "edits"), k, ed) {
			json_t *match = json_object_get(ed, "match"),
			       *item = json_object_get(ed, "item");
			const char *array = str(ed, "array");
			json_t *el = find_elem(config, array, match);
			json_t *what = json_pack("{s:s, s:s, s:O}", "tenant", str(ta, "tenant"),
						 "array", array, "match", match);
			if (el == NULL) {
				json_array_append_new(missing, what);
				json_array_append(fix, ed);
			} else if (!covers(el, item)) {
				json_array_append_new(differ, what);
				json_array_append_new(fix, json_pack("{s:s, s:s, s:O, s:O}", "op",
								     "set", "array", array, "match",
								     match, "item", item));
			} else {
				json_decref(what);
			}
		}
	}
	/* The trunks are the operator's: reported, never changed. */
	json_t *trunks = json_array();
	json_array_foreach (l->trunks, i, port) {
		const char *why = trunk_problem(config, json_string_value(port));
		if (why)
			json_array_append_new(trunks,
					      json_pack("{s:O, s:s}", "port", port, "error", why));
	}
	json_decref(config);
	json_object_set_new(o, "missing", missing);
	json_object_set_new(o, "differs", differ);
	json_object_set_new(o, "trunks", trunks);
	if (repair && json_array_size(fix)) {
		json_t *res = NULL;
		rc = mgr_tessd_call(l->tessd, "config.batch", json_pack("{s:O}", "edits", fix),
				    &res, err, sizeof(err));
		json_decref(res);
		json_object_set_new(o, "repaired", json_boolean(rc == 0));
		if (rc < 0)
			json_object_set_new(o, "error", json_string(err));
		else
			tlog(LOG_NOTICE, NULL, "router %s: %zu config items repaired", l->name,
			     json_array_size(fix));
	}
	json_decref(fix);
	return o;
}

static bool listed(json_t *list, const char *key, const char *name)
{
	json_t *el;
	size_t i;

	json_array_foreach (list, i, el)
		if (strcmp(json_string_value(json_object_get(el, key)) ?: "", name) == 0)
			return true;
	return false;
}

/* Whether desktop id still has port on host, its job not at work (a delete may have come). */
static bool port_still_wanted(json_int_t id, uint32_t host, const char *port)
{
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_desktop *d = mgr_desktop_get(&mgr, (uint32_t)id);
	bool yes = d && d->host_id == host && strcmp(d->port, port) == 0 &&
		   (d->state == MGR_DESK_RUNNING || d->state == MGR_DESK_STOPPED);
	pthread_mutex_unlock(&mgr.lock);
	return yes;
}

static json_t *host_reconcile(const struct look *l, bool repair)
{
	json_t *groups = NULL, *ports = NULL, *mg = json_array(), *mp = json_array();
	json_t *o = json_pack("{s:s}", "host", l->name), *res, *want, *g;
	char err[512];
	size_t i, k;
	int rc = mgr_tessd_call(l->tessd, "group.list", NULL, &groups, err, sizeof(err));
	uint32_t fixed = 0, failed = 0;

	if (rc == 0)
		rc = mgr_tessd_call(l->tessd, "port.list", NULL, &ports, err, sizeof(err));
	json_object_set_new(o, "reachable", json_boolean(rc == 0));
	if (rc < 0) {
		json_object_set_new(o, "error", json_string(err));
		json_decref(groups);
		json_decref(mg);
		json_decref(mp);
		return o;
	}
	json_array_foreach (l->adds, i, want) {
		json_int_t vlan = json_integer_value(json_object_get(want, "vlan"));
		bool there = false;
		json_array_foreach (groups, k, g)
			there |= json_integer_value(json_object_get(g, "vlan")) == vlan;
		if (there)
			continue;
		json_array_append_new(
			mg, json_pack("{s:s, s:I}", "group", str(want, "name"), "vlan", vlan));
		if (repair) {
			res = NULL;
			if (mgr_tessd_call(l->tessd, "group.add", json_incref(want), &res, err,
					   sizeof(err)) < 0)
				failed++;
			else
				fixed++;
			json_decref(res);
		}
	}
	json_array_foreach (l->ports, i, want) {
		json_int_t id = json_integer_value(json_object_get(want, "desktop_id"));
		if (listed(ports, "name", str(want, "port")))
			continue;
		json_array_append_new(
			mp, json_pack("{s:I, s:s}", "desktop_id", id, "port", str(want, "port")));
		if (repair && port_still_wanted(id, l->id, str(want, "port"))) {
			struct mgr_port_req req = {
				.socket = l->tessd,
				.port = str(want, "port"),
				.vhost_socket = str(want, "vhost_socket"),
				.mac = str(want, "mac"),
				.vlan = (uint16_t)json_integer_value(json_object_get(want, "vlan")),
				.group = str(want, "group"),
				.tenant = str(want, "tenant"),
			};
			if (mgr_vswitch_add_port(&req, err, sizeof(err)) < 0) {
				failed++;
				tlog(LOG_WARNING, TLOG_F(.desktop = (uint32_t)id),
				     "host %s: desktop %" JSON_INTEGER_FORMAT "'s port: %s",
				     l->name, id, err);
			} else {
				fixed++;
			}
		}
	}
	json_decref(groups);
	json_decref(ports);
	json_object_set_new(o, "missing_groups", mg);
	json_object_set_new(o, "missing_ports", mp);
	if (repair && (fixed || failed)) {
		json_object_set_new(o, "repaired", json_integer(fixed));
		json_object_set_new(o, "repair_failed", json_integer(failed));
		tlog(LOG_NOTICE, NULL, "host %s: %u groups and desktop ports repaired, %u not",
		     l->name, fixed, failed);
	}
	return o;
}

static json_t *look_reconcile(const struct look *l, bool repair)
{
	return l->router ? router_reconcile(l, repair) : host_reconcile(l, repair);
}

json_t *mgr_net_reconcile(bool repair)
{
	json_t *routers = json_array(), *hosts = json_array(), **got;
	struct look *l;
	uint32_t n = 0;

	pthread_mutex_lock(&mgr.lock);
	l = calloc(mgr.n_routers + mgr.n_hosts + 1, sizeof(*l));
	for (uint32_t i = 0; l && i < mgr.n_routers; i++)
		look_router_locked(&l[n++], &mgr.routers[i]);
	for (uint32_t i = 0; l && i < mgr.n_hosts; i++)
		if (mgr.hosts[i]->spec.tessd[0])
			look_host_locked(&l[n++], mgr.hosts[i]);
	pthread_mutex_unlock(&mgr.lock);
	got = calloc(n + 1, sizeof(*got));
	for (uint32_t i = 0; got && i < n; i++)
		got[i] = look_reconcile(&l[i], repair);
	/* A router or host deleted (or moved to another tessd) meanwhile is no more reported. */
	pthread_mutex_lock(&mgr.lock);
	for (uint32_t i = 0; got && i < n; i++) {
		if (look_current_locked(&l[i]))
			json_array_append_new(l[i].router ? routers : hosts, got[i]);
		else
			json_decref(got[i]);
	}
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n; i++)
		look_free(&l[i]);
	free(got);
	free(l);
	return json_pack("{s:o, s:o}", "routers", routers, "hosts", hosts);
}

/* ---- a desktop that moved: the switches forget where it was ---- */

/*
 * One fdb.del to make: the tessd, the group (PE: the tenant's, by name; a host: its group of
 * the VLAN, looked up, as a host's group may have another name) and the MAC.
 */
struct forget {
	char socket[MGR_URI_LEN];
	char group[MGR_NAME_LEN]; /* "": the group of vlan */
	uint16_t vlan;
	char mac[18];
};

#define NET_MAX_PENDING 256 /* forgets that failed, retried at each tick */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static struct forget pending[NET_MAX_PENDING];
static uint32_t n_pending;

/* The name of tessd's group of vlan into name: 0, -ENOENT (none), or -errno. */
static int group_named(const char *socket, uint16_t vlan, char *name, size_t nlen, char *err,
		       size_t len, bool *down)
{
	json_t *groups = NULL, *g;
	size_t i;
	int rc = mgr_tessd_request(socket, "group.list", NULL, &groups, err, len, down);

	if (rc < 0)
		return rc;
	rc = -ENOENT;
	json_array_foreach (groups, i, g)
		if (json_integer_value(json_object_get(g, "vlan")) == vlan) {
			snprintf(name, nlen, "%s",
				 json_string_value(json_object_get(g, "name")) ?: "");
			rc = 0;
		}
	json_decref(groups);
	return rc;
}

/* 0 when tessd does not hold the MAC in the group (any more, or never did). */
static int forget_one(const struct forget *f, char *err, size_t len)
{
	char group[MGR_NAME_LEN];
	json_t *res = NULL;
	bool down = false;
	int rc = 0;

	snprintf(group, sizeof(group), "%s", f->group);
	if (!group[0])
		rc = group_named(f->socket, f->vlan, group, sizeof(group), err, len, &down);
	if (rc == 0)
		rc = mgr_tessd_request(f->socket, "fdb.del",
				       json_pack("{s:s, s:s}", "group", group, "mac", f->mac), &res,
				       err, len, &down);
	json_decref(res);
	/* ENOENT from tessd: no such entry or group; from a socket that is not there: down. */
	return rc == -ENOENT && !down ? 0 : rc;
}

static void forget_or_queue(const struct forget *f)
{
	char err[512];

	if (forget_one(f, err, sizeof(err)) == 0) {
		mgr_count(net_fdb_forgets, 1);
		return;
	}
	mgr_count(net_fdb_forget_failed, 1);
	tlog(LOG_WARNING, NULL, "forgetting %s in group %s: %s (retried)", f->mac,
	     f->group[0] ? f->group : "of its VLAN", err);
	pthread_mutex_lock(&pending_lock);
	if (n_pending == NET_MAX_PENDING) /* the oldest goes: FDB ageing forgets it anyway */
		memmove(pending, pending + 1, --n_pending * sizeof(*pending));
	pending[n_pending++] = *f;
	pthread_mutex_unlock(&pending_lock);
}

/* The forgets that failed, once more each (without mgr.lock; from the ticker). */
static void retry_pending(void)
{
	struct forget *todo;
	uint32_t n;

	pthread_mutex_lock(&pending_lock);
	n = n_pending;
	todo = n ? malloc(n * sizeof(*todo)) : NULL;
	if (todo) {
		memcpy(todo, pending, n * sizeof(*todo));
		n_pending = 0;
	}
	pthread_mutex_unlock(&pending_lock);
	for (uint32_t i = 0; todo && i < n; i++)
		forget_or_queue(&todo[i]);
	free(todo);
}

uint32_t mgr_net_forgets_pending(void)
{
	pthread_mutex_lock(&pending_lock);
	uint32_t n = n_pending;
	pthread_mutex_unlock(&pending_lock);
	return n;
}

void mgr_net_desktop_moved(uint32_t tenant_id, uint32_t host_id, const char *mac)
{
	struct forget *f;
	uint32_t n = 0;

	pthread_mutex_lock(&mgr.lock);
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, tenant_id);
	const struct mgr_host *h = mgr_host_get(&mgr, host_id);
	f = calloc(mgr.n_routers + 1, sizeof(*f));
	for (uint32_t i = 0; f && t && i < mgr.n_routers; i++) {
		if (!serves(&t->spec, mgr.routers[i].spec.name))
			continue;
		snprintf(f[n].socket, sizeof(f[n].socket), "%s", mgr.routers[i].spec.tessd);
		snprintf(f[n].group, sizeof(f[n].group), "%s", t->spec.vlan_name);
		f[n].vlan = t->spec.vlan;
		snprintf(f[n++].mac, sizeof(f->mac), "%s", mac);
	}
	/* The new host may have learned the MAC on its uplink (from frames the PE flooded while
	 * the desktop was elsewhere): it would drop frames for it as sent back where they came. */
	if (f && t && h && h->spec.tessd[0]) {
		snprintf(f[n].socket, sizeof(f[n].socket), "%s", h->spec.tessd);
		f[n].vlan = t->spec.vlan;
		snprintf(f[n++].mac, sizeof(f->mac), "%s", mac);
	}
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n; i++)
		forget_or_queue(&f[i]);
	free(f);
}

/* ---- the ticker: a tessd that restarted (another pid) or came back is repaired ---- */

static struct mgr_ticker ticker;

struct seen {
	char socket[MGR_URI_LEN]; /* the tessd's address */
	json_int_t pid;           /* 0: did not answer */
};
static struct seen *seen;
static uint32_t n_seen;

/* Whether tessd at socket is new since the last look (restarted, back, or first seen). */
static bool is_new(const char *socket)
{
	json_t *st = NULL;
	char err[256];
	json_int_t pid = 0;
	struct seen *s = NULL;

	if (mgr_tessd_call(socket, "status", NULL, &st, err, sizeof(err)) == 0)
		pid = json_integer_value(json_object_get(st, "pid"));
	json_decref(st);
	for (uint32_t i = 0; i < n_seen && s == NULL; i++)
		if (strcmp(seen[i].socket, socket) == 0)
			s = &seen[i];
	if (s == NULL) {
		struct seen *a = realloc(seen, (n_seen + 1) * sizeof(*a));
		if (a == NULL)
			return false;
		seen = a;
		s = &a[n_seen++];
		snprintf(s->socket, sizeof(s->socket), "%s", socket);
		s->pid = -1;
	}
	bool changed = pid != 0 && pid != s->pid;
	s->pid = pid;
	return changed;
}

/* A repair that did not complete is tried again at the next tick. */
static void forget(const char *socket)
{
	for (uint32_t i = 0; i < n_seen; i++)
		if (strcmp(seen[i].socket, socket) == 0)
			seen[i].pid = -1;
}

static void repaired_or_retry(json_t *r, const char *socket)
{
	if (json_object_get(r, "error") || json_integer_value(json_object_get(r, "repair_failed")))
		forget(socket);
	json_decref(r);
}

struct probe {
	char socket[MGR_URI_LEN]; /* the tessd's address */
	uint32_t id;
	bool router, repair;
};

/* The tessds are asked their status, and those found new compared and repaired, without
 * mgr.lock (one that hangs holds up no request). */
static void tick(void)
{
	struct probe *p;
	uint32_t n = 0;

	pthread_mutex_lock(&mgr.lock);
	p = calloc(mgr.n_routers + mgr.n_hosts + 1, sizeof(*p));
	for (uint32_t i = 0; p && i < mgr.n_routers; i++) {
		snprintf(p[n].socket, sizeof(p[n].socket), "%s", mgr.routers[i].spec.tessd);
		p[n].id = mgr.routers[i].id;
		p[n++].router = true;
	}
	for (uint32_t i = 0; p && i < mgr.n_hosts; i++) {
		if (!mgr.hosts[i]->spec.tessd[0])
			continue;
		snprintf(p[n].socket, sizeof(p[n].socket), "%s", mgr.hosts[i]->spec.tessd);
		p[n++].id = mgr.hosts[i]->id;
	}
	pthread_mutex_unlock(&mgr.lock);
	bool any = false;
	retry_pending();
	for (uint32_t i = 0; i < n; i++)
		any |= p[i].repair = is_new(p[i].socket);
	if (any) {
		mgr_net_serialize(true);
		for (uint32_t i = 0; i < n; i++) {
			struct look l = { 0 };
			if (!p[i].repair)
				continue;
			pthread_mutex_lock(&mgr.lock);
			if (p[i].router) {
				const struct mgr_router *r = mgr_router_get(&mgr, p[i].id);
				if (r && strcmp(r->spec.tessd, p[i].socket) == 0)
					look_router_locked(&l, r);
			} else {
				const struct mgr_host *h = mgr_host_get(&mgr, p[i].id);
				if (h && strcmp(h->spec.tessd, p[i].socket) == 0)
					look_host_locked(&l, h);
			}
			pthread_mutex_unlock(&mgr.lock);
			if (l.adds) /* compared and repaired without mgr.lock, as the API's */
				repaired_or_retry(look_reconcile(&l, true), p[i].socket);
			look_free(&l);
		}
		mgr_net_serialize(false);
	}
	free(p);
}

int mgr_net_start(void)
{
	return mgr_ticker_start(&ticker, &mgr_conf.libvirt.health_sec, tick);
}

void mgr_net_stop(void)
{
	mgr_ticker_stop(&ticker);
	free(seen);
	seen = NULL;
	n_seen = 0;
	n_pending = 0;
}
