/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tenant networks: each desktop's IPv4 address. A desktop of a tenant whose network has DHCP
 * gets the lowest address of the pool that none of the tenant's desktops has; the PEs' DHCP
 * servers reserve it for the desktop's MAC, and the desktop's port at its host takes no other
 * IPv4 source nor ARP sender (tessd's allowed_ips): no desktop can claim a neighbour's address
 * and draw what is sent to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "network_priv.h"
#include "store.h"
#include "vswitch.h"
#include "tlog.h"
#include "tessd_config.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * The lowest address of t's pool that no desktop of t but except has, nor avoid lists (n
 * of them, any order); 0 with e when none is free, or when t has as many desktops with an
 * address as a PE's DHCP server reserves.
 */
static uint32_t pick_locked(const struct mgr_tenant *t, uint32_t except, const uint32_t *avoid,
			    uint32_t n_avoid, struct mgr_err *e)
{
	const struct mgr_net_dhcp *p = &t->spec.network.dhcp;
	uint32_t *used = calloc(mgr.n_desktops + n_avoid + 1, sizeof(*used)), n = 0, desks;
	char a[16], b[16];

	if (used == NULL) {
		mgr_err_set(e, 500, "", "out of memory");
		return 0;
	}
	for (uint32_t i = 0; i < mgr.n_desktops; i++)
		if (mgr.desktops[i]->tenant_id == t->id && mgr.desktops[i]->address &&
		    mgr.desktops[i]->id != except)
			used[n++] = mgr.desktops[i]->address;
	desks = n;
	for (uint32_t i = 0; i < n_avoid; i++)
		used[n++] = avoid[i];
	qsort(used, n, sizeof(*used), cmp_u32);
	uint64_t next = p->pool_start; /* 64 bits: a pool may end at 255.255.255.254 */
	for (uint32_t i = 0; i < n && used[i] <= next; i++)
		if (used[i] == next)
			next++;
	free(used);
	cfg_fmt_ip4(p->pool_start, a, sizeof(a));
	cfg_fmt_ip4(p->pool_end, b, sizeof(b));
	if (desks >= TESS_DHCP_MAX_RESV)
		mgr_err_set(e, 409, "",
			    "tenant %s has %u desktops with an address: a PE's DHCP server "
			    "reserves at most %u",
			    t->spec.name, desks, TESS_DHCP_MAX_RESV);
	else if (next > p->pool_end)
		mgr_err_set(
			e, 409, "",
			"every address of tenant %s's DHCP pool (%s-%s) is a desktop's%s: widen "
			"the pool or delete a desktop",
			t->spec.name, a, b, n_avoid ? " or leased" : "");
	return e->status ? 0 : (uint32_t)next;
}

uint32_t mgr_net_new_address_locked(const struct mgr_tenant *t, struct mgr_err *e)
{
	if (!net_has_network(&t->spec) || !t->spec.network.dhcp.pool_start)
		return 0;
	return pick_locked(t, 0, NULL, 0, e);
}

/*
 * The addresses a PE leases on t's DHCP server to another MAC than mac (any state: an offer
 * is about to be taken, a declined address is someone's), appended to *a: 0, or -ENOMEM. A
 * PE that does not answer is skipped: the reservation that follows fails on it.
 */
static int leased_elsewhere(const char *tessd, const char *iface, const char *mac, uint32_t **a,
			    uint32_t *n)
{
	json_t *leases = NULL, *l;
	char err[256];
	size_t i;

	if (mgr_tessd_call(tessd, "dhcp.leases", json_pack("{s:s}", "interface", iface), &leases,
			   err, sizeof(err)) < 0)
		return 0;
	uint32_t *more = realloc(*a, (*n + json_array_size(leases) + 1) * sizeof(**a));
	json_array_foreach (leases, i, l) {
		uint32_t ip;
		if (more && strcmp(net_str(l, "interface"), iface) == 0 &&
		    strcasecmp(net_str(l, "mac"), mac) != 0 &&
		    cfg_parse_ip4(net_str(l, "address"), &ip) == 0)
			more[(*n)++] = ip;
	}
	if (more)
		*a = more;
	json_decref(leases);
	return more ? 0 : -ENOMEM;
}

int mgr_net_address_unleased(uint32_t desktop_id, uint32_t *address, char *err, size_t len)
{
	char(*tessds)[MGR_URI_LEN] = NULL, iface[72] = "", mac[18] = "";
	uint32_t n_pe = 0, *leased = NULL, n = 0, was = 0;
	int rc = 0;

	pthread_mutex_lock(&mgr.lock);
	const struct mgr_desktop *d = mgr_desktop_get(&mgr, desktop_id);
	const struct mgr_tenant *t = d ? mgr_tenant_get(&mgr, d->tenant_id) : NULL;
	if (t && d->address) {
		was = d->address;
		snprintf(iface, sizeof(iface), "%s-dc", t->spec.name);
		snprintf(mac, sizeof(mac), "%s", d->mac);
		tessds = calloc(mgr.n_routers + 1, sizeof(*tessds));
		for (uint32_t i = 0; tessds && i < mgr.n_routers; i++)
			if (net_serves(&t->spec, mgr.routers[i].spec.name))
				snprintf(tessds[n_pe++], sizeof(*tessds), "%s",
					 mgr.routers[i].spec.tessd);
	}
	pthread_mutex_unlock(&mgr.lock);
	*address = was;
	if (was && tessds == NULL)
		rc = -ENOMEM;
	for (uint32_t i = 0; rc == 0 && i < n_pe; i++)
		rc = leased_elsewhere(tessds[i], iface, mac, &leased, &n);
	free(tessds);
	if (rc < 0) {
		free(leased);
		snprintf(err, len, "out of memory");
		return rc;
	}
	bool taken = false;
	for (uint32_t i = 0; i < n; i++)
		taken |= leased[i] == was;
	struct mgr_err e = { 0 };
	uint32_t next = 0;
	pthread_mutex_lock(&mgr.lock);
	struct mgr_desktop *dd = mgr_desktop_get(&mgr, desktop_id);
	t = dd ? mgr_tenant_get(&mgr, dd->tenant_id) : NULL;
	if (taken && t)
		next = pick_locked(t, desktop_id, leased, n, &e);
	if (next) {
		dd->address = next;
		if (mgr_store_put_desktop(dd) < 0) {
			dd->address = was;
			mgr_err_set(&e, 500, "", "cannot store desktop %u", desktop_id);
		}
	}
	if (dd && !e.status)
		dd->address_checked = true;
	*address = dd ? dd->address : 0;
	pthread_mutex_unlock(&mgr.lock);
	free(leased);
	if (e.status) {
		snprintf(err, len, "%s", e.msg);
		rc = e.status == 500 ? -EIO : -EADDRINUSE;
	} else if (next) {
		char a[16], b[16];
		tlog(LOG_NOTICE, TLOG_F(.desktop = desktop_id),
		     "desktop %u: %s is leased to another client: %s instead", desktop_id,
		     cfg_fmt_ip4(was, a, sizeof(a)), cfg_fmt_ip4(next, b, sizeof(b)));
	}
	return rc;
}

bool net_addresses_kept_locked(const struct mgr_tenant_spec *t, struct mgr_err *e)
{
	const struct mgr_tenant *cur = mgr_tenant_by_name(&mgr, t->name);
	const struct mgr_network_spec *n = &t->network;
	uint32_t mask = cfg_prefix4_mask(n->gateway.len), net = n->gateway.ip & mask;
	char ip[16];

	/* A reservation needs the server, and an address of its subnet; the pool may shrink
	 * past it (tessd serves a reservation outside its pools). */
	for (uint32_t i = 0; cur && i < mgr.n_desktops; i++) {
		const struct mgr_desktop *d = mgr.desktops[i];
		uint32_t a = d->address;
		if (d->tenant_id != cur->id || !a)
			continue;
		bool served = net_has_network(t) && n->dhcp.pool_start != 0;
		if (served && (a & mask) == net && a != net && a != (net | ~mask) &&
		    a != n->gateway.ip)
			continue;
		const char *path = served               ? "/network/gateway"
				   : net_has_network(t) ? "/network/dhcp/pool_start"
							: "/network/routers";
		cfg_fmt_ip4(a, ip, sizeof(ip));
		mgr_err_set(
			e, 409, path,
			"desktop %s has address %s, which its DHCP reservation needs %s: delete "
			"the desktop first",
			d->name, ip, served ? "in the subnet (not the gateway's)" : "served");
		return false;
	}
	return true;
}

static int by_address(const void *a, const void *b)
{
	return cmp_u32(&(*(const struct mgr_desktop *const *)a)->address,
		       &(*(const struct mgr_desktop *const *)b)->address);
}

json_t *net_reservations_locked(const struct mgr_tenant_spec *t)
{
	const struct mgr_tenant *cur = mgr_tenant_by_name(&mgr, t->name);
	const struct mgr_desktop **ds = calloc(mgr.n_desktops + 1, sizeof(*ds));
	json_t *a = json_array();
	uint32_t n = 0;
	char ip[16], host[MGR_NAME_LEN];

	/* Not before its create job looked at the PEs' leases: the reservation would take the
	 * address from a client that holds it, and the job would find it free. */
	for (uint32_t i = 0; ds && cur && i < mgr.n_desktops; i++)
		if (mgr.desktops[i]->tenant_id == cur->id && mgr.desktops[i]->address &&
		    mgr.desktops[i]->address_checked)
			ds[n++] = mgr.desktops[i];
	if (ds == NULL) {
		json_decref(a);
		return NULL;
	}
	/* In address order: reconcile compares the list as a whole. */
	qsort(ds, n, sizeof(*ds), by_address);
	for (uint32_t i = 0; i < n; i++) {
		cfg_fmt_ip4(ds[i]->address, ip, sizeof(ip));
		/* Its name as a host name (DHCP's option 12): no '_' there. */
		snprintf(host, sizeof(host), "%s", ds[i]->name);
		for (char *c = host; *c; c++)
			if (*c == '_')
				*c = '-';
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "mac", ds[i]->mac, "address",
						   ip, "hostname", host));
	}
	free(ds);
	return a;
}

/* One PE's DHCP server of a tenant, as the store has it. */
struct resv_step {
	char router[MGR_NAME_LEN];
	char tessd[MGR_URI_LEN];
	json_t *edits;
};

int mgr_net_reserve(uint32_t tenant_id, char *err, size_t len)
{
	struct resv_step *s;
	uint32_t n = 0;
	int rc = 0;

	/* No tenant change in between: its DHCP server is then as its network has it. */
	mgr_net_serialize(true);
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, tenant_id);
	bool dhcp = t && t->spec.network.dhcp.pool_start;
	/* One server item, with every reservation, for each PE. */
	json_t *server = dhcp ? net_pe_dhcp_server(&t->spec) : NULL;
	s = calloc(mgr.n_routers + 1, sizeof(*s));
	for (uint32_t i = 0; s && server && i < mgr.n_routers; i++) {
		const struct mgr_router *r = &mgr.routers[i];
		if (!net_serves(&t->spec, r->spec.name))
			continue;
		snprintf(s[n].router, sizeof(s[n].router), "%s", r->spec.name);
		snprintf(s[n].tessd, sizeof(s[n].tessd), "%s", r->spec.tessd);
		s[n].edits = json_pack("[{s:s, s:s, s:{s:O}, s:O}]", "op", "set", "array",
				       "/dhcp/servers", "match", "interface",
				       json_object_get(server, "interface"), "item", server);
		if (s[n++].edits == NULL)
			rc = -ENOMEM;
	}
	if (dhcp && (s == NULL || server == NULL))
		rc = -ENOMEM;
	if (rc == -ENOMEM)
		snprintf(err, len, "out of memory");
	json_decref(server);
	pthread_mutex_unlock(&mgr.lock);
	/* Every PE is told, whichever fails: the first failure is the answer. No PE is told a
	 * list that lacks a desktop (no memory to make one). */
	bool send = rc == 0;
	for (uint32_t i = 0; s && i < n; i++) {
		json_t *res = NULL;
		char why[512];
		if (!send) {
			json_decref(s[i].edits);
			continue;
		}
		int r = mgr_tessd_call(s[i].tessd, "config.batch",
				       json_pack("{s:o}", "edits", s[i].edits), &res, why,
				       sizeof(why));
		json_decref(res);
		if (r < 0 && rc == 0) {
			snprintf(err, len, "router %s: %s", s[i].router, why);
			rc = r;
		}
	}
	mgr_net_serialize(false);
	free(s);
	return rc;
}

#define NET_MAX_RESV_PENDING 256 /* tenants whose PEs missed a change of their reservations */
/* A tenant to tell again; gen: its last failure's, so that a retry that began before it
 * does not take it off the list. */
struct resv_pending {
	uint32_t tenant_id, gen;
};
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static struct resv_pending pending[NET_MAX_RESV_PENDING];
static uint32_t n_pending, pending_gen;

static void pend(uint32_t tenant_id)
{
	uint32_t i;

	pthread_mutex_lock(&pending_lock);
	for (i = 0; i < n_pending && pending[i].tenant_id != tenant_id; i++)
		;
	/* Full: the oldest goes (reconcile still finds what its PEs lack). */
	if (i == n_pending && n_pending == NET_MAX_RESV_PENDING) {
		memmove(pending, pending + 1, (NET_MAX_RESV_PENDING - 1) * sizeof(*pending));
		i = --n_pending;
	}
	if (i == n_pending)
		n_pending++;
	pending[i] = (struct resv_pending){ .tenant_id = tenant_id, .gen = ++pending_gen };
	pthread_mutex_unlock(&pending_lock);
}

/* p's reservations are right on every PE, unless they failed again since. */
static void unpend(struct resv_pending p)
{
	pthread_mutex_lock(&pending_lock);
	for (uint32_t i = 0; i < n_pending; i++)
		if (pending[i].tenant_id == p.tenant_id && pending[i].gen == p.gen) {
			memmove(pending + i, pending + i + 1, (--n_pending - i) * sizeof(*pending));
			break;
		}
	pthread_mutex_unlock(&pending_lock);
}

void mgr_net_reserve_or_retry(uint32_t tenant_id)
{
	char err[512];

	if (mgr_net_reserve(tenant_id, err, sizeof(err)) == 0)
		return;
	tlog(LOG_WARNING, TLOG_F(.tenant = tenant_id),
	     "tenant %u's DHCP reservations: %s (retried)", tenant_id, err);
	pend(tenant_id);
}

void net_retry_reservations(void)
{
	struct resv_pending todo[NET_MAX_RESV_PENDING];
	uint32_t n;
	char err[512];

	/* Pending until told: the count never reads 0 while a retry is under way. */
	pthread_mutex_lock(&pending_lock);
	n = n_pending;
	memcpy(todo, pending, n * sizeof(*todo));
	pthread_mutex_unlock(&pending_lock);
	/* A tenant deleted since has nothing left to reserve: mgr_net_reserve does nothing. */
	for (uint32_t i = 0; i < n; i++)
		if (mgr_net_reserve(todo[i].tenant_id, err, sizeof(err)) == 0)
			unpend(todo[i]);
}

uint32_t mgr_net_reservations_pending(void)
{
	pthread_mutex_lock(&pending_lock);
	uint32_t n = n_pending;
	pthread_mutex_unlock(&pending_lock);
	return n;
}

void net_reservations_clear(void)
{
	pthread_mutex_lock(&pending_lock);
	n_pending = 0;
	pthread_mutex_unlock(&pending_lock);
}
