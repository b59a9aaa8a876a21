/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant networks: the config edits that make a tenant's network on a PE router. */
#include <stdio.h>

#include "network_priv.h"
#include "tessd_config.h"

void net_ip_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

void net_pfx_str(const struct cfg_prefix4 *p, char buf[20])
{
	char ip[16];

	net_ip_str(p->ip, ip);
	snprintf(buf, 20, "%s/%u", ip, p->len);
}

static bool fw_on(const struct mgr_network_spec *n)
{
	return n->firewall.n_rules || n->firewall.default_action != MGR_FW_ACCEPT;
}

/* A prefix of a rule says "any" as 0.0.0.0/0, which the spec reads from "". */
static bool pfx_any(const struct cfg_prefix4 *p)
{
	return p->len == 0 && p->ip == 0;
}

json_t *net_fw_rule(const struct mgr_net_fw_rule *x, const struct cfg_prefix4 *any)
{
	const struct cfg_prefix4 *src = pfx_any(&x->src) ? any : &x->src;
	const struct cfg_prefix4 *dst = pfx_any(&x->dst) ? any : &x->dst;
	char a[20] = "", b[20] = "";

	if (src)
		net_pfx_str(src, a);
	if (dst)
		net_pfx_str(dst, b);
	/* Every key of tessd's rule, its defaults too: reconcile then sees any change to one. */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s}", "action",
			 mgr_fw_actions[x->action], "proto", x->proto, "src", a, "dst", b, "sport",
			 "", "dport", x->dport, "icmp_type", -1, "icmp_code", -1, "interface", "",
			 "vlan", "");
}

json_t *net_group_params(const struct mgr_tenant_spec *t)
{
	return json_pack("{s:s, s:s, s:i}", "name", t->vlan_name, "tenant", t->name, "vlan",
			 (int)t->vlan);
}

static void add_edit(json_t *edits, const char *array, json_t *match, json_t *item)
{
	json_array_append_new(edits, json_pack("{s:s, s:s, s:o, s:o}", "op", "add", "array", array,
					       "match", match, "item", item));
}

#define NET_DYNAMIC_LEASES 1024 /* tessd's max_leases default */

json_t *net_pe_dhcp_server(const struct mgr_tenant_spec *t)
{
	const struct mgr_network_spec *n = &t->network;
	char dc[72], a[16], b[16], gw[16];

	if (!n->dhcp.pool_start)
		return NULL;
	json_t *dns = json_array(), *resv = net_reservations_locked(t);
	if (resv == NULL) {
		json_decref(dns);
		return NULL;
	}
	for (uint32_t i = 0; i < n->dhcp.n_dns; i++) {
		net_ip_str(n->dhcp.dns[i], b);
		json_array_append_new(dns, json_string(b));
	}
	snprintf(dc, sizeof(dc), "%s-dc", t->name);
	net_ip_str(n->dhcp.pool_start, a);
	net_ip_str(n->dhcp.pool_end, b);
	net_ip_str(n->gateway.ip, gw);
	/*
	 * The leases the tenant may hold: as many dynamic ones as before (tessd's default
	 * share, or the pool if smaller) and one for each desktop's reservation, which the
	 * default alone would leave past 1024 desktops without one. Each counts against the
	 * PE's dhcp.lease_capacity: not the pool's size.
	 */
	uint64_t pool = (uint64_t)n->dhcp.pool_end - n->dhcp.pool_start + 1;
	uint64_t most =
		(pool < NET_DYNAMIC_LEASES ? pool : NET_DYNAMIC_LEASES) + json_array_size(resv);
	if (most > TESS_DHCP_MAX_ADDRS + TESS_DHCP_MAX_RESV)
		most = TESS_DHCP_MAX_ADDRS + TESS_DHCP_MAX_RESV;
	return json_pack("{s:s, s:[{s:s, s:s}], s:o, s:i, s:s, s:o, s:I}", "interface", dc, "pools",
			 "start", a, "end", b, "reservations", resv, "lease_sec",
			 (int)n->dhcp.lease_sec, "router", gw, "dns", dns, "max_leases",
			 (json_int_t)most);
}

json_t *net_pe_adds(const struct mgr_tenant_spec *t, const struct mgr_router_spec *r)
{
	const struct mgr_network_spec *n = &t->network;
	char ent[72], dc[72], pool[72], fw[72], a[24], b[20];
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
		 net_group_params(t));
	net_pfx_str(&n->enterprise.address, a);
	o = json_pack("{s:s, s:s, s:s, s:[s]}", "name", ent, "vrf", t->name, "port",
		      n->enterprise.port, "addresses", a);
	if (n->enterprise.vlan)
		json_object_set_new(o, "vlan", json_integer(n->enterprise.vlan));
	add_edit(edits, "/router/interfaces", json_pack("{s:s}", "name", ent), o);
	net_pfx_str(&n->gateway, a);
	add_edit(edits, "/router/interfaces", json_pack("{s:s}", "name", dc),
		 json_pack("{s:s, s:s, s:s, s:[s]}", "name", dc, "vrf", t->name, "group",
			   t->vlan_name, "addresses", a));
	for (uint32_t i = 0; i < n->enterprise.n_routes; i++) {
		net_pfx_str(&n->enterprise.routes[i].prefix, a);
		net_ip_str(n->enterprise.routes[i].via, b);
		add_edit(edits, "/router/routes",
			 json_pack("{s:s, s:s}", "vrf", t->name, "prefix", a),
			 json_pack("{s:s, s:s, s:[{s:s}]}", "vrf", t->name, "prefix", a, "nexthops",
				   "via", b));
	}
	if ((o = net_pe_dhcp_server(t)) != NULL)
		add_edit(edits, "/dhcp/servers", json_pack("{s:s}", "interface", dc), o);
	if (net_nat_on(n) && r->internet_vrf[0]) {
		const char *use = n->nat.pool;
		if (n->nat.address) {
			net_ip_str(n->nat.address, b);
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
		for (uint32_t i = 0; i < n->firewall.n_rules; i++)
			json_array_append_new(rules, net_fw_rule(&n->firewall.rules[i], NULL));
		add_edit(edits, "/firewall/rulesets", json_pack("{s:s}", "name", fw),
			 json_pack("{s:s, s:s, s:s, s:o}", "name", fw, "default_in", "accept",
				   "default_out", mgr_fw_actions[n->firewall.default_action],
				   "rules", rules));
		add_edit(edits, "/firewall/attach", json_pack("{s:s}", "interface", dc),
			 json_pack("{s:s, s:s}", "interface", dc, "out", fw));
	}
	return edits;
}

void net_pe_dels(json_t *edits, const struct mgr_tenant_spec *t, const struct mgr_router_spec *r)
{
	json_t *adds = net_pe_adds(t, r);

	for (size_t i = json_array_size(adds); i-- > 0;) {
		json_t *ed = json_array_get(adds, i);
		json_array_append_new(edits, json_pack("{s:s, s:O, s:O}", "op", "del", "array",
						       json_object_get(ed, "array"), "match",
						       json_object_get(ed, "match")));
	}
	json_decref(adds);
}
