/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant networks: the checks of a tenant's network and of a router's trunks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "network_priv.h"
#include "tessd_addr.h"
#include "vswitch.h"

/* What tessmgrd names on a PE tessd for tenant t: its VRF is t's name. */
#define NET_MAX_TENANT_NAME 24 /* t + "-ent", "-nat"... within tessd's 31 characters */

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

const char *net_trunk_problem(json_t *config, const char *port)
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
		const char *why = net_trunk_problem(config, r->trunk_ports[i]);
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

/* Whether p is inside in (and has no host bits). */
static bool inside(const struct cfg_prefix4 *p, const struct cfg_prefix4 *in)
{
	return p->len >= in->len &&
	       (p->ip & cfg_prefix4_mask(in->len)) == (in->ip & cfg_prefix4_mask(in->len)) &&
	       (p->ip & cfg_prefix4_mask(p->len)) == p->ip;
}

/* A rule's src or dst between desktops: open ("": the subnet), or a prefix inside it; a
 * dst may be a multicast prefix or the broadcast address too. */
static bool lan_prefix_ok(const struct cfg_prefix4 *p, const struct cfg_prefix4 *subnet, bool dst)
{
	if (p->len == 0 && p->ip == 0)
		return true;
	return inside(p, subnet) ||
	       (dst && (inside(p, &net_multicast) || inside(p, &net_broadcast)));
}

/* The rule set between desktops: a switch accepts or drops, inside the desktop subnet. */
static bool lan_check(const struct mgr_net_lan_fw *l, const struct cfg_prefix4 *gw,
		      struct mgr_err *e)
{
	const struct cfg_prefix4 subnet = { .ip = gw->ip & cfg_prefix4_mask(gw->len),
					    .len = gw->len };
	const char *why = "a switched frame has no router address to answer from: accept or drop";
	char path[80];

	if (l->default_action == MGR_FW_REJECT) {
		mgr_err_set(e, 400, "/network/firewall/between_desktops/default", "%s", why);
		return false;
	}
	for (uint32_t i = 0; i < l->n_rules; i++) {
		const struct mgr_net_fw_rule *x = &l->rules[i];
		snprintf(path, sizeof(path), "/network/firewall/between_desktops/rules/%u/", i);
		size_t at = strlen(path);
		if (x->action == MGR_FW_REJECT) {
			snprintf(path + at, sizeof(path) - at, "action");
			mgr_err_set(e, 400, path, "%s", why);
			return false;
		}
		if (x->dst.len == 32 && x->dst.ip == gw->ip) {
			snprintf(path + at, sizeof(path) - at, "dst");
			mgr_err_set(e, 400, path,
				    "the gateway's address is the PE's: what goes to it is not "
				    "between desktops (the PE's sets decide it)");
			return false;
		}
		for (int k = 0; k < 2; k++)
			if (!lan_prefix_ok(k ? &x->dst : &x->src, &subnet, k)) {
				snprintf(path + at, sizeof(path) - at, k ? "dst" : "src");
				mgr_err_set(
					e, 400, path,
					"a prefix inside the desktop subnet%s, without host bits "
					"(\"\": the subnet)",
					k ? " (or a multicast prefix, or 255.255.255.255/32)" : "");
				return false;
			}
	}
	return true;
}

bool mgr_net_host_check_locked(const struct mgr_host_spec *h, const struct mgr_host *old,
			       struct mgr_err *e)
{
	char key[MGR_TESSD_KEY_LEN];
	bool same;

	mgr_tessd_key_of(h->tessd, key);
	if (key[0] == '\0')
		return true; /* no tessd (the schema refused one that does not parse) */
	same = old && strcmp(old->tessd_key, key) == 0;
	for (uint32_t v = 0; v < h->n_vlans; v++)
		for (uint32_t i = 0; i < mgr.n_tenants; i++) {
			const struct mgr_tenant_spec *t = &mgr.tenants[i].spec;
			/* What the host has already is not refused again (it can be undone). */
			if (!net_has_network(t) || t->vlan != h->vlans[v] ||
			    (same && mgr_host_reaches(old, t->vlan)))
				continue;
			for (uint32_t k = 0; k < t->network.n_routers; k++) {
				const struct mgr_router *r =
					mgr_router_by_name(&mgr, t->network.routers[k]);
				if (r == NULL || strcmp(key, r->tessd_key) != 0)
					continue;
				/* At the key that changed: the tessd, or the VLAN it gains. */
				char path[32] = "/tessd";
				if (same)
					snprintf(path, sizeof(path), "/vlans/%u", v);
				mgr_err_set(
					e, 409, path,
					"the tessd is also router %s's, which serves tenant %s "
					"on VLAN %u: the tenant's PE and its desktops' host need "
					"tessds of their own",
					r->spec.name, t->name, t->vlan);
				return false;
			}
		}
	return true;
}

bool mgr_net_check_locked(const struct mgr_tenant_spec *t, struct mgr_err *e)
{
	const struct mgr_network_spec *n = &t->network;
	uint32_t mask = cfg_prefix4_mask(n->gateway.len), net = n->gateway.ip & mask;

	if (!net_has_network(t))
		return net_addresses_kept_locked(t, e);
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
		if (net_nat_on(n) && r->spec.internet_vrf[0] == '\0') {
			mgr_err_set(e, 400, "/network/nat",
				    "router %s has no internet_vrf: it cannot NAT", r->spec.name);
			return false;
		}
		/* The PE batch adds the tenant's group by name, a host's step or desktop job by
		 * VLAN: one tessd cannot be both (nor hold two groups of one VLAN). */
		for (uint32_t k = 0; k < mgr.n_hosts; k++) {
			const struct mgr_host *h = mgr.hosts[k];
			if (net_host_reaches(h, t) && strcmp(h->tessd_key, r->tessd_key) == 0) {
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
		if (r->prefix.len == 0 && net_nat_on(n)) {
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
	if (!lan_check(&n->firewall.between_desktops, &n->gateway, e))
		return false;
	if (n->nat.address && n->nat.pool[0]) {
		mgr_err_set(e, 400, "/network/nat/pool",
			    "NAT takes an address of its own or a share of a pool, not both");
		return false;
	}
	return net_addresses_kept_locked(t, e);
}

const char *mgr_net_router_user_locked(const char *router)
{
	for (uint32_t i = 0; i < mgr.n_tenants; i++)
		if (net_serves(&mgr.tenants[i].spec, router))
			return mgr.tenants[i].spec.name;
	return NULL;
}
