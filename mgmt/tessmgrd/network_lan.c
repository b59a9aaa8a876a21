/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tenant networks: the rule set between a tenant's desktops. Desktops of one group talk
 * through the hosts' switches, never through the PE's gateway, so their traffic meets the
 * set on the group at each host (tessd's firewall.groups), the PE's sets never. The group's
 * guard keeps them to IPv4 and ARP (which the set filters), off the gateway's address and
 * from serving DHCP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_priv.h"
#include "vswitch.h"

static void lan_name(const struct mgr_tenant_spec *t, char name[MGR_TESSD_NAME_LEN])
{
	/* A tenant with a network has a name of at most 24 characters: never cut. */
	snprintf(name, MGR_TESSD_NAME_LEN, "%.*s-lan", MGR_TESSD_NAME_LEN - 5, t->name);
}

bool net_lan_on(const struct mgr_tenant_spec *t)
{
	const struct mgr_net_lan_fw *l = &t->network.firewall.between_desktops;

	return net_has_network(t) && (l->n_rules || l->default_action != MGR_FW_ACCEPT ||
				      l->other_protocols == MGR_LAN_OTHER_DROP);
}

/*
 * tessd's group keys that keep t's desktops to IPv4, off the gateway's address and from
 * serving DHCP (a rogue server's leases could name a desktop the router).
 */
static json_t *lan_guard(const struct mgr_tenant_spec *t, bool on)
{
	const struct mgr_net_lan_fw *l = &t->network.firewall.between_desktops;
	bool v4 = l->other_protocols == MGR_LAN_OTHER_DROP ||
		  (l->other_protocols == MGR_LAN_OTHER_SAME && l->default_action == MGR_FW_DROP);
	char gw[16];

	if (!on)
		return json_pack("{s:b, s:b, s:[]}", "ipv4_only", 0, "dhcp_guard", 0,
				 "protected_ips");
	net_ip_str(t->network.gateway.ip, gw);
	return json_pack("{s:b, s:b, s:[s]}", "ipv4_only", v4, "dhcp_guard", 1, "protected_ips",
			 gw);
}

void net_lan_want(struct net_lan_want *w, const struct mgr_tenant_spec *t, bool on)
{
	w->vlan = t->vlan;
	lan_name(t, w->name);
	w->set = on ? net_lan_set(t) : NULL;
	w->guard = lan_guard(t, on);
	w->group = on ? net_group_params(t) : NULL;
}

void net_lan_free(struct net_lan_want *w)
{
	json_decref(w->set);
	json_decref(w->group);
	json_decref(w->guard);
	w->set = w->group = w->guard = NULL;
}

static json_t *accept_rule(const struct cfg_prefix4 *dst)
{
	struct mgr_net_fw_rule x = { .action = MGR_FW_ACCEPT, .proto = "any", .dst = *dst };

	return net_fw_rule(&x, NULL);
}

json_t *net_lan_set(const struct mgr_tenant_spec *t)
{
	const struct mgr_network_spec *n = &t->network;
	const struct mgr_net_lan_fw *l = &n->firewall.between_desktops;
	const struct cfg_prefix4 gw = { .ip = n->gateway.ip, .len = 32 },
				 subnet = { .ip = n->gateway.ip & cfg_prefix4_mask(n->gateway.len),
					    .len = n->gateway.len };
	char name[MGR_TESSD_NAME_LEN];

	if (!net_has_network(t) || (l->n_rules == 0 && l->default_action == MGR_FW_ACCEPT))
		return NULL;
	json_t *rules = json_array();
	/*
	 * What goes to the gateway's address is the PE's (its answers are established). Not what
	 * comes from it: a desktop can forge that source (its port is locked to a MAC only).
	 */
	json_array_append_new(rules, accept_rule(&gw));
	for (uint32_t i = 0; i < l->n_rules; i++)
		json_array_append_new(rules, net_fw_rule(&l->rules[i], &subnet));
	/*
	 * Only desktop to desktop gets the default (to one, or to all on the link: multicast, a
	 * broadcast); what is routed in or out is not this set's.
	 */
	for (int i = 0; l->default_action != MGR_FW_ACCEPT && i < 3; i++) {
		struct mgr_net_fw_rule x = { .action = l->default_action, .proto = "any" };
		x.src = subnet;
		x.dst = i == 0 ? subnet : i == 1 ? net_multicast : net_broadcast;
		json_array_append_new(rules, net_fw_rule(&x, NULL));
	}
	lan_name(t, name);
	return json_pack("{s:s, s:s, s:s, s:o}", "name", name, "default_in", "accept",
			 "default_out", "accept", "rules", rules);
}

/* An edit of a batch (match and item borrowed; item NULL for a del). */
static json_t *edit(const char *op, const char *array, json_t *match, json_t *item)
{
	json_t *ed = json_pack("{s:s, s:s, s:O}", "op", op, "array", array, "match", match);

	if (item)
		json_object_set(ed, "item", item);
	return ed;
}

/* Appends ed to doit and prepends back, which takes it back, to undo. */
static void both(json_t *doit, json_t *undo, json_t *ed, json_t *back)
{
	json_array_append_new(doit, ed);
	json_array_insert_new(undo, 0, back);
}

/* Whether set name is attached anywhere but to group (an interface, another group). */
static bool used_elsewhere(json_t *config, const char *name, const char *group)
{
	json_t *fw = json_object_get(config, "firewall"), *el;
	size_t i;

	json_array_foreach (json_object_get(fw, "groups"), i, el)
		if (strcmp(net_str(el, "set"), name) == 0 &&
		    strcmp(net_str(el, "group"), group) != 0)
			return true;
	json_array_foreach (json_object_get(fw, "attach"), i, el)
		if (strcmp(net_str(el, "in"), name) == 0 || strcmp(net_str(el, "out"), name) == 0)
			return true;
	return false;
}

/* Whether a group (or a wanted guard) guards anything; a key left out is off. */
static bool guards(json_t *g)
{
	return json_is_true(json_object_get(g, "ipv4_only")) ||
	       json_is_true(json_object_get(g, "dhcp_guard")) ||
	       json_array_size(json_object_get(g, "protected_ips"));
}

/*
 * The edits that make group element el have guard (its undo the element as it is). Off
 * wanted, only a guard that is there is taken off: a tessd without the keys is left alone.
 */
static void guard_diff(json_t *el, json_t *guard, json_t *doit, json_t *undo)
{
	if (guards(guard) ? net_covers(el, guard) : !guards(el))
		return;
	json_t *m = json_pack("{s:s}", "name", net_str(el, "name")), *fixed = json_deep_copy(el);
	json_object_update(fixed, guard);
	both(doit, undo, edit("set", "/switch/groups", m, fixed),
	     edit("set", "/switch/groups", m, el));
	json_decref(fixed);
	json_decref(m);
}

int net_lan_diff(json_t *config, const struct net_lan_want *w, json_t *doit, json_t *undo)
{
	json_t *groups = json_object_get(json_object_get(config, "switch"), "groups"), *g, *group,
	       *gel = NULL;
	size_t i, before = json_array_size(doit);
	const char *gname = NULL;

	json_array_foreach (groups, i, g)
		if (json_integer_value(json_object_get(g, "vlan")) == w->vlan)
			gel = g;
	if (gel) {
		gname = net_str(gel, "name");
		guard_diff(gel, w->guard, doit, undo);
	} else {
		/* w->group: something is wanted of the group (a set, a guard), so made if none;
		 * none is wanted of a VLAN without a group. */
		if (w->group == NULL)
			return 0;
		json_t *m = json_pack("{s:s}", "name", net_str(w->group, "name")),
		       *item = json_deep_copy(w->group);
		json_object_update(item, w->guard);
		both(doit, undo, edit("add", "/switch/groups", m, item),
		     edit("del", "/switch/groups", m, NULL));
		json_decref(item);
		json_decref(m);
		gname = net_str(w->group, "name");
	}
	json_t *m_set = json_pack("{s:s}", "name", w->name),
	       *m_at = json_pack("{s:s}", "group", gname);
	json_t *set = net_find_elem(config, "/firewall/rulesets", m_set),
	       *at = net_find_elem(config, "/firewall/groups", m_at);
	bool ours = at && strcmp(net_str(at, "set"), w->name) == 0;
	if (w->set) {
		if (set == NULL)
			both(doit, undo, edit("add", "/firewall/rulesets", m_set, w->set),
			     edit("del", "/firewall/rulesets", m_set, NULL));
		else if (!net_covers(set, w->set))
			both(doit, undo, edit("set", "/firewall/rulesets", m_set, w->set),
			     edit("set", "/firewall/rulesets", m_set, set));
		group = json_pack("{s:s, s:s}", "group", gname, "set", w->name);
		if (at == NULL)
			both(doit, undo, edit("add", "/firewall/groups", m_at, group),
			     edit("del", "/firewall/groups", m_at, NULL));
		else if (!ours)
			both(doit, undo, edit("set", "/firewall/groups", m_at, group),
			     edit("set", "/firewall/groups", m_at, at));
		json_decref(group);
	} else {
		if (ours)
			both(doit, undo, edit("del", "/firewall/groups", m_at, NULL),
			     edit("add", "/firewall/groups", m_at, at));
		/* Kept where an operator attached it elsewhere: then it is not only ours. */
		if (set && !used_elsewhere(config, w->name, gname))
			both(doit, undo, edit("del", "/firewall/rulesets", m_set, NULL),
			     edit("add", "/firewall/rulesets", m_set, set));
	}
	json_decref(m_set);
	json_decref(m_at);
	return (int)(json_array_size(doit) - before);
}

/* One look and one batch: 0 with *undo, or -errno. */
static int apply_once(const char *socket, const struct net_lan_want *w, json_t **undo, char *err,
		      size_t len, bool *down)
{
	json_t *config = NULL, *res = NULL, *doit = json_array();
	int rc = mgr_tessd_request(socket, "config.get", NULL, &config, err, len, down);

	*undo = json_array();
	if (rc == 0)
		rc = net_lan_diff(config, w, doit, *undo);
	if (rc > 0)
		rc = mgr_tessd_request(socket, "config.batch", json_pack("{s:O}", "edits", doit),
				       &res, err, len, down);
	json_decref(res);
	json_decref(config);
	json_decref(doit);
	if (rc < 0) {
		json_decref(*undo);
		*undo = NULL;
	}
	return rc;
}

int net_lan_apply(const char *socket, const struct net_lan_want *w, json_t **undo, char *err,
		  size_t len, bool *down)
{
	bool gone = false;
	int rc = apply_once(socket, w, undo, err, len, &gone);

	/* Once more if the group exists now: a desktop job made it since the look. */
	if (rc == -EEXIST && !gone)
		rc = apply_once(socket, w, undo, err, len, &gone);
	if (down)
		*down = gone;
	return rc;
}

/* What tenant's policy between desktops wants of VLAN vlan's group, copied under mgr.lock. */
static bool tenant_lan(const char *tenant, uint16_t vlan, struct net_lan_want *w)
{
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_tenant *t = mgr_tenant_by_name(&mgr, tenant);
	bool on = t && t->spec.vlan == vlan && net_lan_on(&t->spec);
	if (on)
		net_lan_want(w, &t->spec, true);
	pthread_mutex_unlock(&mgr.lock);
	return on;
}

int mgr_net_add_port(const struct mgr_port_req *r, char *err, size_t len)
{
	struct net_lan_want w;
	json_t *undo = NULL;
	int rc = 0;

	/* A first look without the network lock: most tenants keep no desktops apart. */
	if (tenant_lan(r->tenant, r->vlan, &w)) {
		net_lan_free(&w);
		/* Again once no network change is under way: the store is then the truth. */
		mgr_net_serialize(true);
		if (tenant_lan(r->tenant, r->vlan, &w)) {
			rc = net_lan_apply(r->socket, &w, &undo, err, len, NULL);
			net_lan_free(&w);
			json_decref(undo);
		}
		mgr_net_serialize(false);
	}
	/*
	 * A port joins its group once the group has the set and guard the store has. (A change
	 * adding them while this runs sets them on the group right after: they are not stored
	 * before.) Each such port add holds the network lock for a config.get and a batch: jobs
	 * take turns here.
	 */
	return rc < 0 ? rc : mgr_vswitch_add_port(r, err, len);
}
