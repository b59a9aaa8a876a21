/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant networks: routers' and hosts' tessds compared with the store, and repaired. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_priv.h"
#include "vswitch.h"
#include "tlog.h"

json_t *net_find_elem(json_t *config, const char *array, json_t *match)
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

bool net_covers(json_t *el, json_t *item)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(item)) {
		if (!json_is_object(el))
			return false;
		json_object_foreach (item, k, v)
			if (!net_covers(json_object_get(el, k), v))
				return false;
		return true;
	}
	if (json_is_array(item)) {
		if (!json_is_array(el) || json_array_size(el) != json_array_size(item))
			return false;
		json_array_foreach (item, i, v)
			if (!net_covers(json_array_get(el, i), v))
				return false;
		return true;
	}
	return json_equal(el, item);
}

void net_look_router_locked(struct net_look *l, const struct mgr_router *r)
{
	l->id = r->id;
	l->router = true;
	snprintf(l->name, sizeof(l->name), "%s", r->spec.name);
	snprintf(l->tessd, sizeof(l->tessd), "%s", r->spec.tessd);
	snprintf(l->key, sizeof(l->key), "%s", r->tessd_key);
	l->adds = json_array();
	l->trunks = json_array();
	for (uint32_t i = 0; i < mgr.n_tenants; i++) {
		const struct mgr_tenant_spec *t = &mgr.tenants[i].spec;
		if (net_serves(t, r->spec.name))
			json_array_append_new(l->adds,
					      json_pack("{s:s, s:o}", "tenant", t->name, "edits",
							net_pe_adds(t, &r->spec)));
	}
	for (uint32_t i = 0; i < r->spec.n_trunk_ports; i++)
		json_array_append_new(l->trunks, json_string(r->spec.trunk_ports[i]));
}

void net_look_host_locked(struct net_look *l, const struct mgr_host *h)
{
	l->id = h->id;
	snprintf(l->name, sizeof(l->name), "%s", h->spec.name);
	snprintf(l->tessd, sizeof(l->tessd), "%s", h->spec.tessd);
	snprintf(l->key, sizeof(l->key), "%s", h->tessd_key);
	l->adds = json_array();
	l->ports = json_array();
	l->lans = json_array();
	for (uint32_t i = 0; i < mgr.n_tenants; i++) {
		const struct mgr_tenant_spec *t = &mgr.tenants[i].spec;
		if (!net_host_reaches(h, t))
			continue;
		json_array_append_new(l->adds, net_group_params(t));
		/* Off, a set or guard of ours left on the group is found and taken away. */
		struct net_lan_want w;
		net_lan_want(&w, t, net_lan_on(t));
		json_array_append_new(l->lans,
				      json_pack("{s:s, s:i, s:s, s:O*, s:O, s:O*}", "tenant",
						t->name, "vlan", (int)t->vlan, "name", w.name,
						"set", w.set, "guard", w.guard, "group", w.group));
		net_lan_free(&w);
	}
	for (uint32_t i = 0; i < mgr.n_desktops; i++) {
		const struct mgr_desktop *d = mgr.desktops[i];
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
		/* A desktop whose job is at work has its port in that job's hands. */
		if (d->host_id != h->id || !d->port[0] || t == NULL ||
		    (d->state != MGR_DESK_RUNNING && d->state != MGR_DESK_STOPPED))
			continue;
		json_array_append_new(l->ports,
				      json_pack("{s:I, s:s, s:s, s:s, s:I, s:i, s:s, s:s}",
						"desktop_id", (json_int_t)d->id, "port", d->port,
						"vhost_socket", d->vhost_socket, "mac", d->mac,
						"address", (json_int_t)d->address, "vlan",
						(int)t->spec.vlan, "group", t->spec.vlan_name,
						"tenant", t->spec.name));
	}
}

void net_look_free(struct net_look *l)
{
	json_decref(l->adds);
	json_decref(l->trunks);
	json_decref(l->ports);
	json_decref(l->lans);
	memset(l, 0, sizeof(*l));
}

/* Whether the router or host of l is still there, with the same tessd (under mgr.lock). */
static bool look_current_locked(const struct net_look *l)
{
	const char *key = NULL;

	if (l->router) {
		const struct mgr_router *r = mgr_router_get(&mgr, l->id);
		key = r ? r->tessd_key : NULL;
	} else {
		const struct mgr_host *h = mgr_host_get(&mgr, l->id);
		key = h ? h->tessd_key : NULL;
	}
	return key && strcmp(key, l->key) == 0;
}

/* Says in o whether the tessd answered (rc 0), and if not why: whether to compare. */
static bool answered(json_t *o, int rc, const char *err)
{
	json_object_set_new(o, "reachable", json_boolean(rc == 0));
	if (rc < 0)
		json_object_set_new(o, "error", json_string(err));
	return rc == 0;
}

static json_t *router_reconcile(const struct net_look *l, bool repair)
{
	json_t *config = NULL, *o = json_pack("{s:s}", "router", l->name), *ta, *ed, *port;
	char err[512];
	size_t i, k;
	int rc = mgr_tessd_call(l->tessd, "config.get", NULL, &config, err, sizeof(err));

	if (!answered(o, rc, err))
		return o;
	json_t *missing = json_array(), *differ = json_array(), *fix = json_array();
	json_array_foreach (l->adds, i, ta) {
		json_array_foreach (json_object_get(ta, "edits"), k, ed) {
			json_t *match = json_object_get(ed, "match"),
			       *item = json_object_get(ed, "item");
			const char *array = net_str(ed, "array");
			json_t *el = net_find_elem(config, array, match);
			json_t *what = json_pack("{s:s, s:s, s:O}", "tenant", net_str(ta, "tenant"),
						 "array", array, "match", match);
			if (el == NULL) {
				json_array_append_new(missing, what);
				json_array_append(fix, ed);
			} else if (!net_covers(el, item)) {
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
		const char *why = net_trunk_problem(config, json_string_value(port));
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

/*
 * The tenants' sets and guards between desktops on l's host (its config, or NULL with why in
 * err: its config.get failed), after its groups: the differing ones into o's "firewall", made
 * right in one batch if repair (counted as such, one for each). Whether they are right now.
 */
static bool lan_reconcile(const struct net_look *l, json_t *config, const char *why, json_t *o,
			  bool repair, uint32_t *fixed, uint32_t *failed)
{
	json_t *doit = json_array(), *undo = json_array(), *report = json_array(), *el, *res = NULL;
	char err[512] = "";
	size_t i;
	int rc = 0;

	if (json_array_size(l->lans) && config == NULL) {
		snprintf(err, sizeof(err), "%s", why);
		rc = -EIO;
		(*failed)++; /* nothing compared: the ticker tries again */
	}
	json_array_foreach (l->lans, i, el) {
		struct net_lan_want w = { .vlan = (uint16_t)json_integer_value(
						  json_object_get(el, "vlan")),
					  .set = json_object_get(el, "set"),
					  .guard = json_object_get(el, "guard"),
					  .group = json_object_get(el, "group") };
		snprintf(w.name, sizeof(w.name), "%s", net_str(el, "name"));
		if (rc == 0 && net_lan_diff(config, &w, doit, undo) != 0)
			json_array_append_new(
				report, json_pack("{s:s, s:s, s:s, s:O}", "tenant",
						  net_str(el, "tenant"), "set", w.name, "want",
						  w.set ? "attached" : "absent", "guard", w.guard));
	}
	if (rc == 0 && repair && json_array_size(doit)) {
		rc = mgr_tessd_call(l->tessd, "config.batch", json_pack("{s:O}", "edits", doit),
				    &res, err, sizeof(err));
		json_decref(res);
		if (rc == 0)
			*fixed += (uint32_t)json_array_size(report);
		else
			*failed += (uint32_t)json_array_size(report);
	}
	if (rc < 0)
		json_object_set_new(o, "firewall_error", json_string(err));
	json_object_set_new(o, "firewall", report);
	json_decref(doit);
	json_decref(undo);
	return rc == 0 && (repair || json_array_size(report) == 0);
}

/* Whether tenant keeps its desktops apart on l's host (a set or a guard on its group). */
static bool lan_wanted(const struct net_look *l, const char *tenant)
{
	json_t *el;
	size_t i;

	json_array_foreach (l->lans, i, el)
		if (strcmp(net_str(el, "tenant"), tenant) == 0 && json_object_get(el, "group"))
			return true;
	return false;
}

/* Whether port configs a and b have the same list at key (a key left out: none). */
static bool same_list(json_t *a, json_t *b, const char *key)
{
	json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	return (json_array_size(x) == 0 && json_array_size(y) == 0) || json_equal(x, y);
}

/*
 * A desktop's port on the host whose locks (its MAC, its address) are not the store's: into
 * o's "port_locks", and set right if repair (tessd's port.set changes them in place).
 */
static void lock_reconcile(const struct net_look *l, json_t *config, json_t *want, json_t *locks,
			   bool repair, uint32_t *fixed, uint32_t *failed)
{
	struct mgr_port_req r = {
		.port = net_str(want, "port"),
		.mac = net_str(want, "mac"),
		.address = (uint32_t)json_integer_value(json_object_get(want, "address")),
		.group = net_str(want, "group"),
		.tenant = net_str(want, "tenant"),
	};
	json_t *match = json_pack("{s:s}", "name", r.port), *res = NULL;
	json_t *el = net_find_elem(config, "/ports", match);
	char err[512];
	json_decref(match);
	json_t *p =
		el ? mgr_vswitch_port_params(&r, net_str(want, "vhost_socket"), err, sizeof(err))
		   : NULL;
	if (p == NULL || (same_list(el, p, "allowed_macs") && same_list(el, p, "allowed_ips"))) {
		json_decref(p);
		return;
	}
	json_t *set = json_pack("{s:s, s:O, s:O}", "name", r.port, "allowed_macs",
				json_object_get(p, "allowed_macs"), "allowed_ips",
				json_object_get(p, "allowed_ips"));
	json_array_append_new(locks, json_pack("{s:O, s:s, s:O, s:O}", "desktop_id",
					       json_object_get(want, "desktop_id"), "port", r.port,
					       "allowed_macs", json_object_get(p, "allowed_macs"),
					       "allowed_ips", json_object_get(p, "allowed_ips")));
	json_decref(p);
	if (!repair || !port_still_wanted(json_integer_value(json_object_get(want, "desktop_id")),
					  l->id, r.port)) {
		json_decref(set);
		return;
	}
	if (mgr_tessd_call(l->tessd, "port.set", set, &res, err, sizeof(err)) < 0) {
		(*failed)++;
		tlog(LOG_WARNING, NULL, "host %s: the locks of port %s: %s", l->name, r.port, err);
	} else {
		(*fixed)++;
	}
	json_decref(res);
}

static json_t *host_reconcile(const struct net_look *l, bool repair)
{
	json_t *groups = NULL, *ports = NULL, *config = NULL,
	       *o = json_pack("{s:s}", "host", l->name), *res, *want, *g;
	char err[512], why[512] = "";
	size_t i, k;
	int rc = mgr_tessd_call(l->tessd, "group.list", NULL, &groups, err, sizeof(err));
	uint32_t fixed = 0, failed = 0;

	if (rc == 0)
		rc = mgr_tessd_call(l->tessd, "port.list", NULL, &ports, err, sizeof(err));
	if (!answered(o, rc, err)) {
		json_decref(groups);
		return o;
	}
	json_t *mg = json_array(), *mp = json_array();
	json_array_foreach (l->adds, i, want) {
		json_int_t vlan = json_integer_value(json_object_get(want, "vlan"));
		bool there = false;
		json_array_foreach (groups, k, g)
			there |= json_integer_value(json_object_get(g, "vlan")) == vlan;
		if (there)
			continue;
		json_array_append_new(
			mg, json_pack("{s:s, s:I}", "group", net_str(want, "name"), "vlan", vlan));
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
	/* The sets, guards and ports' locks are compared with its config, once the groups are
	 * there. Before the ports: a desktop's port joins a group that has its set. */
	if ((json_array_size(l->lans) || json_array_size(l->ports)) &&
	    mgr_tessd_call(l->tessd, "config.get", NULL, &config, why, sizeof(why)) < 0)
		config = NULL;
	bool lans_ok = lan_reconcile(l, config, why, o, repair, &fixed, &failed);
	json_t *locks = json_array();
	json_array_foreach (l->ports, i, want) {
		json_int_t id = json_integer_value(json_object_get(want, "desktop_id"));
		if (listed(ports, "name", net_str(want, "port"))) {
			if (config)
				lock_reconcile(l, config, want, locks, repair, &fixed, &failed);
			continue;
		}
		json_array_append_new(mp, json_pack("{s:I, s:s}", "desktop_id", id, "port",
						    net_str(want, "port")));
		/* Not into a group whose set or guard could not be made right (tried again). */
		if (repair && !lans_ok && lan_wanted(l, net_str(want, "tenant"))) {
			failed++;
			continue;
		}
		if (repair && port_still_wanted(id, l->id, net_str(want, "port"))) {
			struct mgr_port_req req = {
				.socket = l->tessd,
				.port = net_str(want, "port"),
				.vhost_socket = net_str(want, "vhost_socket"),
				.mac = net_str(want, "mac"),
				.address = (uint32_t)json_integer_value(
					json_object_get(want, "address")),
				.vlan = (uint16_t)json_integer_value(json_object_get(want, "vlan")),
				.group = net_str(want, "group"),
				.tenant = net_str(want, "tenant"),
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
	json_object_set_new(o, "port_locks", locks);
	if (config == NULL && json_array_size(l->ports)) {
		/* Not compared: said, and tried again by the ticker (once: the sets' count it). */
		json_object_set_new(o, "port_locks_error", json_string(why));
		failed += repair && json_array_size(l->lans) == 0;
	}
	json_decref(config);
	if (repair && (fixed || failed)) {
		json_object_set_new(o, "repaired", json_integer(fixed));
		json_object_set_new(o, "repair_failed", json_integer(failed));
		tlog(LOG_NOTICE, NULL,
		     "host %s: %u groups, rule sets and desktop ports repaired, %u not", l->name,
		     fixed, failed);
	}
	return o;
}

json_t *net_look_reconcile(const struct net_look *l, bool repair)
{
	return l->router ? router_reconcile(l, repair) : host_reconcile(l, repair);
}

json_t *mgr_net_reconcile(bool repair)
{
	json_t *routers = json_array(), *hosts = json_array(), **got;
	struct net_look *l;
	uint32_t n = 0;

	pthread_mutex_lock(&mgr.lock);
	l = calloc(mgr.n_routers + mgr.n_hosts + 1, sizeof(*l));
	for (uint32_t i = 0; l && i < mgr.n_routers; i++)
		net_look_router_locked(&l[n++], &mgr.routers[i]);
	for (uint32_t i = 0; l && i < mgr.n_hosts; i++)
		if (mgr.hosts[i]->spec.tessd[0])
			net_look_host_locked(&l[n++], mgr.hosts[i]);
	pthread_mutex_unlock(&mgr.lock);
	got = calloc(n + 1, sizeof(*got));
	for (uint32_t i = 0; got && i < n; i++)
		got[i] = net_look_reconcile(&l[i], repair);
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
		net_look_free(&l[i]);
	free(got);
	free(l);
	return json_pack("{s:o, s:o}", "routers", routers, "hosts", hosts);
}
