/* SPDX-License-Identifier: BSD-3-Clause */
/* What the pieces of tenant networks (network_*.c) share; others include network.h. */
#ifndef TESS_MGR_NETWORK_PRIV_H
#define TESS_MGR_NETWORK_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "network.h"

static inline bool net_has_network(const struct mgr_tenant_spec *t)
{
	return t && t->network.n_routers > 0;
}

/* o's string at key, or "" (none, or not a string). */
static inline const char *net_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "";
}

/* Whether t's network is on router. */
static inline bool net_serves(const struct mgr_tenant_spec *t, const char *router)
{
	for (uint32_t i = 0; net_has_network(t) && i < t->network.n_routers; i++)
		if (strcmp(t->network.routers[i], router) == 0)
			return true;
	return false;
}

static inline bool net_nat_on(const struct mgr_network_spec *n)
{
	return n->nat.address || n->nat.pool[0];
}

/* Whether host h has a port group of t's VLAN: it reaches the VLAN and has a tessd. */
static inline bool net_host_reaches(const struct mgr_host *h, const struct mgr_tenant_spec *t)
{
	return net_has_network(t) && h->spec.tessd[0] &&
	       (h->vlans[t->vlan / 64] >> (t->vlan % 64) & 1);
}

/* Why port is no trunk of all groups in a router's tessd's config, or NULL (network_check.c). */
const char *net_trunk_problem(json_t *config, const char *port);

/* network_pe.c: an address and a prefix as text. */
void net_ip_str(uint32_t ip, char buf[16]);
void net_pfx_str(const struct cfg_prefix4 *p, char buf[20]);
/*
 * A rule of tessd's rule sets from x, with every key; a prefix x leaves open ("") is any
 * (NULL) or *any.
 */
json_t *net_fw_rule(const struct mgr_net_fw_rule *x, const struct cfg_prefix4 *any);
/* The params of group.add for t's group (PE and hosts alike). */
json_t *net_group_params(const struct mgr_tenant_spec *t);
/*
 * The adds that make t's network on r, in order, each with the match that finds its
 * element again (for the dels, reconcile and its repair).
 */
json_t *net_pe_adds(const struct mgr_tenant_spec *t, const struct mgr_router_spec *r);
/*
 * t's DHCP server on its PEs (an item of tessd's /dhcp/servers) with its desktops'
 * reservations, under mgr.lock; NULL: t has no DHCP (or no memory).
 */
json_t *net_pe_dhcp_server(const struct mgr_tenant_spec *t);
/* The dels of what net_pe_adds makes, in reverse order, appended to edits. */
void net_pe_dels(json_t *edits, const struct mgr_tenant_spec *t, const struct mgr_router_spec *r);

/* network_lan.c: where a desktop's frame to all others on the link goes, besides its subnet. */
static const struct cfg_prefix4 net_multicast = { .ip = 0xe0000000, .len = 4 },
				net_broadcast = { .ip = 0xffffffff, .len = 32 };
/*
 * The rule set between t's desktops, on its group at each host that reaches
 * its VLAN (an item of tessd's /firewall/rulesets), or NULL: none.
 */
json_t *net_lan_set(const struct mgr_tenant_spec *t);
/* Whether t keeps its desktops apart on its hosts' groups: a set, or IPv4 and ARP only. */
bool net_lan_on(const struct mgr_tenant_spec *t);
/*
 * What a host's group of one VLAN should have of a tenant's policy between desktops: set
 * (NULL: the set called name not attached to the group, nor defined unless attached
 * elsewhere), guard (the group's keys ipv4_only and protected_ips, as they should be), the
 * group made of group (group.add's params) if the VLAN has none (NULL: nothing is wanted of
 * the group, never made here).
 */
struct net_lan_want {
	uint16_t vlan;
	char name[MGR_TESSD_NAME_LEN];
	json_t *set, *guard, *group;
};
/* w for t's group, as t wants it if on, else taken away; freed by net_lan_free. */
void net_lan_want(struct net_lan_want *w, const struct mgr_tenant_spec *t, bool on);
void net_lan_free(struct net_lan_want *w);
/*
 * The config.batch edits that make config (a host's config.get) have w, appended to doit,
 * and those that take them back, prepended to undo: how many were added.
 */
int net_lan_diff(json_t *config, const struct net_lan_want *w, json_t *doit, json_t *undo);
/*
 * The host tessd at socket made to have w, in one config.batch: 0 with *undo (the edits that
 * take it back: [] when nothing changed), or -errno with err (*down: it did not answer).
 */
int net_lan_apply(const char *socket, const struct net_lan_want *w, json_t **undo, char *err,
		  size_t len, bool *down);

/*
 * network_reconcile.c. What a reconcile compares one tessd to, copied under mgr.lock: the
 * tessd is then asked without it (one that does not answer, or its ssh tunnel coming up,
 * holds up no request).
 */
struct net_look {
	uint32_t id;
	bool router;
	char name[MGR_NAME_LEN];
	char tessd[MGR_URI_LEN];
	char key[MGR_TESSD_KEY_LEN]; /* tessd's key (tessd_addr.h) */
	json_t *adds;   /* router: [{"tenant", "edits": its net_pe_adds}]; host: [group params] */
	json_t *trunks; /* router: its trunk ports */
	json_t *ports;  /* host: its desktops' ports, as mgr_port_req's fields */
	/* host: per tenant it reaches, {"tenant", "vlan", "name", "set", "guard", "group"} */
	json_t *lans;
};

/* The element of config at JSON pointer array whose keys match, or NULL. */
json_t *net_find_elem(json_t *config, const char *array, json_t *match);
/* Whether el has what item says, at every depth (tessd adds its defaults). */
bool net_covers(json_t *el, json_t *item);

void net_look_router_locked(struct net_look *l, const struct mgr_router *r);
void net_look_host_locked(struct net_look *l, const struct mgr_host *h);
void net_look_free(struct net_look *l);
/* The tessd of l against l, repaired if repair (without mgr.lock): the API's report of it. */
json_t *net_look_reconcile(const struct net_look *l, bool repair);

/*
 * network_addr.c, under mgr.lock: the reservations of the desktops of the tenant named as t
 * (tessd's /dhcp/servers/N/reservations), in address order (NULL: no memory); and whether
 * t, a new spec of it, can keep reserving each of their addresses: DHCP on, each address in
 * the subnet and not the gateway's (else e says which not).
 */
json_t *net_reservations_locked(const struct mgr_tenant_spec *t);
bool net_addresses_kept_locked(const struct mgr_tenant_spec *t, struct mgr_err *e);
/* The reservations that failed, once more each tenant (the ticker's); dropped at stop. */
void net_retry_reservations(void);
void net_reservations_clear(void);

/* network_move.c: the forgets that failed, once more each (without mgr.lock; the ticker's). */
void net_retry_forgets(void);
/* Drops the forgets still pending (at stop). */
void net_forgets_clear(void);

#endif
