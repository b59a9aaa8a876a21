/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DNS responder module: a server per router interface of the config's
 * "dns" section, on that interface's address (a UDP service of the router,
 * l3_svc.h: in the VRF's service_pps budget, then the server's qps),
 * served on the control thread. Its zone holds configured records and the
 * host names of the interface's DHCP clients (vrf/dhcp, dhcp.h), remade
 * when the leases change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_cycles.h>
#include <rte_ip.h>

#include "ctl_server.h"
#include "dhcp.h"
#include "dns_int.h"
#include "l3.h"
#include "l3_svc.h"
#include "log.h"
#include "module.h"
#include "tessd.h"

struct dns_srv *dns_srvs; /* [dns_n_srvs], in the config's order */
uint32_t dns_n_srvs;
struct dns_srv *dns_by_if[L3_MAX_IFACES];
static uint64_t sync_errors; /* servers whose new zone or tables could not be made */
static struct l3_svc dns_svc;

const struct tessd_dns_server_cfg *dns_srv_cfg(const struct dns_srv *s)
{
	const struct tessd_dns_cfg *d = &tessd.cfg.dns;

	if (s->sc_idx < d->n_servers && strcmp(d->servers[s->sc_idx].interface, s->iface) == 0)
		return &d->servers[s->sc_idx];
	return tessd_cfg_dns_server(&tessd.cfg, s->iface);
}

const struct tessd_iface_cfg *dns_srv_iface(const struct dns_srv *s)
{
	const struct tessd_router_cfg *r = &tessd.cfg.router;

	if (s->ic_idx < r->n_interfaces && strcmp(r->interfaces[s->ic_idx].name, s->iface) == 0)
		return &r->interfaces[s->ic_idx];
	return tessd_cfg_iface(&tessd.cfg, s->iface);
}

/* ---- the zone: configured records, then the DHCP clients' names ---- */

struct lease_name {
	uint32_t ip;
	bool denied; /* its label is one of deny_names: never published */
	char name[DNS_NAME_MAX];
};

struct lease_list {
	struct lease_name *l;
	uint32_t n, cap;
	const char *zone;
	const struct tessd_dns_server_cfg *sc;
	bool nomem;
};

/* A client's label is denied when it is one of deny_names, whatever its case. */
static bool label_denied(const struct tessd_dns_server_cfg *sc, const char *label)
{
	for (uint32_t i = 0; i < sc->n_deny_names; i++)
		if (strcasecmp(sc->deny_names[i], label) == 0)
			return true;
	return false;
}

static void lease_add(void *arg, uint32_t ip, const char *hostname)
{
	struct lease_list *ll = arg;
	char label[64];

	dns_host_label(hostname, label, sizeof(label));
	if (label[0] == '\0')
		return;
	if (ll->n == ll->cap) {
		uint32_t cap = ll->cap ? 2 * ll->cap : 64;
		struct lease_name *l = realloc(ll->l, cap * sizeof(*l));
		if (l == NULL) {
			ll->nomem = true;
			return;
		}
		ll->l = l;
		ll->cap = cap;
	}
	if ((size_t)snprintf(ll->l[ll->n].name, DNS_NAME_MAX, "%s.%s", label, ll->zone) >=
	    DNS_NAME_MAX - 1)
		return; /* too long with the zone: no name */
	ll->l[ll->n].denied = label_denied(ll->sc, label);
	for (char *c = ll->l[ll->n].name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	ll->l[ll->n++].ip = ip;
}

enum refusal { REF_CONFLICT, REF_FULL, REF_DENIED };

static uint64_t refusal_key(uint32_t ip, const char *name, enum refusal why)
{
	uint64_t h = 1469598103934665603ull;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 1099511628211ull;
	return (h ^ ip) << 2 | why;
}

static bool was_refused(const struct dns_srv *s, uint64_t key)
{
	for (uint32_t i = 0; i < s->n_refused; i++)
		if (s->refused[i] == key)
			return true;
	return false;
}

/*
 * s's zone made afresh from sc and its interface's leases; a client that
 * held its name keeps it (first come, first served); -ENOMEM leaves it.
 */
static int zone_build(struct dns_srv *s, const struct tessd_dns_server_cfg *sc)
{
	struct lease_list ll = { .zone = s->zone, .sc = sc };
	struct dns_zone z;
	uint64_t *refused = NULL;
	uint32_t n_refused = 0;
	char name[2 * DNS_NAME_MAX + 1];
	/* Taken before the walk (a change meanwhile rebuilds again); kept only on success. */
	uint64_t version = dhcp_bound_version(s->ifid);

	if (s->ifid)
		dhcp_bound_each(s->ifid, lease_add, &ll);
	if (ll.nomem || dns_zone_init(&z, sc->n_records + ll.n, sc->max_records) < 0 ||
	    (ll.n && (refused = malloc(ll.n * sizeof(*refused))) == NULL)) {
		if (!ll.nomem)
			dns_zone_fini(&z);
		free(ll.l);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < sc->n_records; i++) {
		/* Validation bounds the name with its zone (253). */
		snprintf(name, sizeof(name), "%s.%s", sc->records[i].name, s->zone);
		/* No room for its parents' index: no zone, rather than one without the name. */
		if (dns_zone_add(&z, name, sc->records[i].address, DNS_REC_STATIC) == -ENOMEM) {
			dns_zone_fini(&z);
			free(refused);
			free(ll.l);
			return -ENOMEM;
		}
	}
	/* First the names their clients had, then new ones. */
	for (uint32_t i = 0; i < ll.n; i++) {
		const struct dns_rec *o = dns_zone_by_name(&s->z, ll.l[i].name);
		if (!ll.l[i].denied && o && o->kind == DNS_REC_DHCP && o->ip == ll.l[i].ip)
			dns_zone_add(&z, ll.l[i].name, ll.l[i].ip, DNS_REC_DHCP);
	}
	for (uint32_t i = 0; i < ll.n; i++) {
		const struct dns_rec *o = dns_zone_by_name(&z, ll.l[i].name);
		enum refusal why;
		uint64_t key;

		if (ll.l[i].denied) {
			why = REF_DENIED; /* wpad.<zone> from a lease: a proxy for everyone */
		} else {
			if (o && o->ip == ll.l[i].ip)
				continue;
			if (o == NULL &&
			    dns_zone_add(&z, ll.l[i].name, ll.l[i].ip, DNS_REC_DHCP) == 0)
				continue;
			why = o ? REF_CONFLICT : REF_FULL;
		}
		/* Counted once while it lasts, not at every rebuild. */
		key = refusal_key(ll.l[i].ip, ll.l[i].name, why);
		if (!was_refused(s, key)) {
			if (why == REF_CONFLICT)
				s->c.name_conflicts++;
			else if (why == REF_FULL)
				s->c.records_full++;
			else
				s->c.denied_names++;
		}
		refused[n_refused++] = key;
	}
	free(ll.l);
	dns_zone_fini(&s->z);
	s->z = z;
	free(s->refused);
	s->refused = refused;
	s->n_refused = n_refused;
	s->serial++;
	s->dhcp_version = version; /* failed, it stays old: the next poll tries again */
	return 0;
}

/* ---- config ---- */

static void srv_free(struct dns_srv *s)
{
	dns_zone_fini(&s->z);
	free(s->refused);
	free(s->pend);
	free(s->tcp);
	memset(s, 0, sizeof(*s));
}

/* s (new, for sc) takes what o had: counters, zone (for its owners), waiting queries. */
static void srv_take(struct dns_srv *s, struct dns_srv *o)
{
	s->c = o->c;
	s->base = o->base;
	s->limited_base = o->limited_base;
	s->qb = o->qb;
	s->serial = o->serial;
	s->z = o->z;
	memset(&o->z, 0, sizeof(o->z));
	s->refused = o->refused;
	s->n_refused = o->n_refused;
	o->refused = NULL;
	/* Open connections stay in their slots (waiting answers name them), those that fit. */
	s->tcp_gen = o->tcp_gen;
	for (uint32_t i = 0; i < o->n_tcp_slots; i++) {
		if (o->tcp[i].state == DT_FREE)
			continue;
		if (i < s->n_tcp_slots) {
			s->tcp[i] = o->tcp[i];
			s->n_tcp++;
		}
	}
	/* Waiting queries that fit the new table stay (it holds max_pending). */
	for (uint32_t i = 0, k = 0; i < o->max_pend; i++) {
		if (!o->pend[i].used)
			continue;
		if (k < s->max_pend) {
			s->pend[k++] = o->pend[i];
			s->n_pend++;
		}
	}
}

static void dns_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	uint32_t n = cur->dns.n_servers;
	struct dns_srv *ns = calloc(n ? n : 1, sizeof(*ns));
	int rc;
	uint32_t *order = tessd_cfg_iface_order(cur, &rc);

	(void)old;
	if (ns == NULL || rc < 0) {
		free(ns);
		free(order);
		sync_errors++;
		DP_LOG(ERR, "dns: no memory to apply the config: servers unchanged");
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct tessd_dns_server_cfg *sc = &cur->dns.servers[i];
		struct dns_srv *s = &ns[i], *o;

		snprintf(s->iface, sizeof(s->iface), "%s", sc->interface);
		snprintf(s->zone, sizeof(s->zone), "%s", tessd_dns_zone(cur, sc));
		for (char *c = s->zone; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		s->sc_idx = i;
		s->ic_idx = (uint32_t)tessd_cfg_iface_find(cur, order, sc->interface);
		s->ifid = l3_svc_iface(sc->interface);
		s->vrf = s->ifid ? l3_svc_iface_vrf(s->ifid) : 0;
		s->max_pend = sc->max_pending;
		s->pend = calloc(s->max_pend, sizeof(*s->pend));
		s->n_tcp_slots = sc->tcp_conns;
		s->tcp = sc->tcp_conns ? calloc(sc->tcp_conns, sizeof(*s->tcp)) : NULL;
		o = s->ifid ? dns_by_if[s->ifid] : NULL;
		if (o && strcmp(o->iface, s->iface) != 0)
			o = NULL;
		if (s->pend == NULL || (sc->tcp_conns && s->tcp == NULL)) {
			sync_errors++;
			DP_LOG(ERR, "dns: no memory for the server of %s: not served", s->iface);
			continue;
		}
		if (o) {
			o->kept = true;
			srv_take(s, o);
		} else {
			s->limited_base = s->ifid ? l3_svc_limited(s->ifid, dns_svc.idx) : 0;
		}
		if (zone_build(s, sc) < 0) {
			sync_errors++;
			DP_LOG(ERR, "dns: no memory for the zone of %s: %s", s->iface,
			       s->z.r ? "its old names kept" : "no names");
		}
		s->on = true;
	}
	for (uint32_t i = 0; i < dns_n_srvs; i++)
		srv_free(&dns_srvs[i]);
	free(dns_srvs);
	dns_srvs = ns;
	dns_n_srvs = n;
	free(order);
	memset(dns_by_if, 0, sizeof(dns_by_if));
	for (uint32_t i = 0; i < n; i++)
		if (ns[i].on && ns[i].ifid)
			dns_by_if[ns[i].ifid] = &ns[i];
}

static void dns_fini(void)
{
	for (uint32_t i = 0; i < dns_n_srvs; i++)
		srv_free(&dns_srvs[i]);
	free(dns_srvs);
	dns_srvs = NULL;
	dns_n_srvs = 0;
	memset(dns_by_if, 0, sizeof(dns_by_if));
}

static void dns_poll(const struct tessd_cfg *cfg, uint64_t now)
{
	(void)cfg;
	for (uint32_t i = 0; i < dns_n_srvs; i++) {
		struct dns_srv *s = &dns_srvs[i];
		const struct tessd_dns_server_cfg *sc;

		if (!s->on)
			continue;
		if (s->n_pend)
			dns_forward_expire(s, now);
		if (s->n_tcp)
			dns_tcp_expire(s, now);
		/* The interface's leases changed: its names follow. */
		if (dhcp_bound_version(s->ifid) != s->dhcp_version && (sc = dns_srv_cfg(s)) &&
		    zone_build(s, sc) < 0)
			sync_errors++;
	}
}

/* ---- the router's UDP service ---- */

static void dns_input(struct rte_mbuf *m, uint16_t iface, uint16_t vrf)
{
	struct dns_srv *s = dns_by_if[iface];
	const struct rte_ipv4_hdr *ip;

	(void)vrf;
	if (s == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	if (ip->next_proto_id == IPPROTO_UDP)
		dns_udp_input(s, m);
	else if (ip->next_proto_id == IPPROTO_TCP)
		dns_tcp_input(s, m);
	else
		rte_pktmbuf_free(m);
}

static struct l3_svc dns_svc = {
	.name = "dns",
	.port = DNS_PORT,
	.tcp_port = DNS_PORT,
	.mark = tessd_dns_mark,
	.input = dns_input,
	.local = dns_forward_reply,
};
L3_SVC_REGISTER(dns_svc)

/* ---- counters ---- */

static void dns_stats_reset(void)
{
	for (uint32_t i = 0; i < dns_n_srvs; i++) {
		dns_srvs[i].base = dns_srvs[i].c;
		dns_srvs[i].limited_base =
			dns_srvs[i].ifid ? l3_svc_limited(dns_srvs[i].ifid, dns_svc.idx) : 0;
	}
}

static json_t *srv_counters(const struct dns_srv *s)
{
	json_t *o = json_object();

#define CNT_JSON(n) json_object_set_new(o, #n, json_integer((json_int_t)(s->c.n - s->base.n)));
	DNS_COUNTERS(CNT_JSON)
#undef CNT_JSON
	/* What the workers refused before the server saw it (the VRF's service_pps). */
	json_object_set_new(
		o, "service_limited",
		json_integer((json_int_t)((s->ifid ? l3_svc_limited(s->ifid, dns_svc.idx) : 0) -
					  s->limited_base)));
	return o;
}

static void dns_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf)
{
	json_t *a = json_array();

	(void)cfg;
	for (uint32_t i = 0; i < dns_n_srvs; i++) {
		const struct dns_srv *s = &dns_srvs[i];
		const struct tessd_iface_cfg *ic = dns_srv_iface(s);
		json_t *o;

		if (!s->on || ic == NULL || (vrf && strcmp(vrf, ic->vrf) != 0))
			continue;
		o = srv_counters(s);
		json_object_set_new(o, "interface", json_string(s->iface));
		json_object_set_new(o, "vrf", json_string(ic->vrf));
		json_object_set_new(o, "zone", json_string(s->zone));
		json_object_set_new(o, "records", json_integer(s->z.n));
		json_object_set_new(o, "max_records", json_integer(s->z.cap));
		json_object_set_new(o, "pending", json_integer(s->n_pend));
		json_array_append_new(a, o);
	}
	if (vrf == NULL)
		json_object_set_new(stats, "dns_sync_errors",
				    json_integer((json_int_t)sync_errors));
	json_object_set_new(stats, "dns", a);
}

/* ---- API ---- */

struct records_filter {
	char vrf[TESS_NAME_LEN];
	char interface[TESS_NAME_LEN];
};

static int dns_records_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct records_filter *f = params;
	json_t *a;

	if (f->vrf[0] && tessd_cfg_vrf(&tessd.cfg, f->vrf) == NULL) {
		ctl_error_set(err, ENOENT, "/params/vrf", "no VRF %s", f->vrf);
		return -ENOENT;
	}
	if (f->interface[0] && tessd_cfg_dns_server(&tessd.cfg, f->interface) == NULL) {
		ctl_error_set(err, ENOENT, "/params/interface", "no DNS server on interface %s",
			      f->interface);
		return -ENOENT;
	}
	a = json_array();
	for (uint32_t i = 0; i < dns_n_srvs; i++) {
		const struct dns_srv *s = &dns_srvs[i];
		const struct tessd_iface_cfg *ic = dns_srv_iface(s);
		const struct tessd_dns_server_cfg *sc = dns_srv_cfg(s);

		if (!s->on || ic == NULL || sc == NULL || (f->vrf[0] && strcmp(f->vrf, ic->vrf)) ||
		    (f->interface[0] && strcmp(f->interface, s->iface)))
			continue;
		for (uint32_t k = 0; k < s->z.n; k++) {
			char ip[TESS_IP4_LEN];
			cfg_fmt_ip4(s->z.r[k].ip, ip, sizeof(ip));
			json_array_append_new(
				a,
				json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}", "vrf", ic->vrf, "interface",
					  s->iface, "name", s->z.r[k].name, "address", ip, "source",
					  s->z.r[k].kind == DNS_REC_DHCP ? "dhcp" : "config", "ttl",
					  (int)sc->ttl));
		}
	}
	*result = a;
	return 0;
}

static const struct cfg_field filter_fields[] = {
	CFG_FIELD(struct records_filter, vrf, "vrf", &tessd_opt_name_schema, false, "\"\""),
	CFG_FIELD(struct records_filter, interface, "interface", &tessd_opt_name_schema, false,
		  "\"\""),
	{ 0 },
};
static const struct cfg_node filter_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = filter_fields, .size = sizeof(struct records_filter) },
};

static const struct ctl_method dns_methods[] = {
	{ "dns.records", &filter_schema, dns_records_api,
	  "DNS names (of a VRF, an interface): configured ones and DHCP clients'" },
	{ 0 },
};

static const char *const dns_depends[] = { "router", "dhcp", NULL };

static struct tess_module dns_module = {
	.name = "dns",
	.depends = dns_depends,
	.validate = tessd_dns_validate,
	.fini = dns_fini,
	.sync = dns_sync,
	.poll = dns_poll,
	.stats_reset = dns_stats_reset,
	.stats_json = dns_stats_json,
	.methods = dns_methods,
};
TESS_MODULE_REGISTER(dns_module)
