/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DHCPv4 server module: a server per router interface of the config's
 * "dhcp" section, served on the control thread from what the router's
 * workers punt (a UDP service, l3_svc.h: broadcast and 0.0.0.0 included,
 * in the VRF's service_pps budget). Leases are kept per interface (so per
 * tenant: identical MACs and pools in two VRFs never meet), at most
 * max_leases each, and written to the leases file atomically, batched.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "cfg_file.h"
#include "ctl_server.h"
#include "dhcp.h"
#include "dhcp_lease.h"
#include "dhcp_proto.h"
#include "dhcp_relay.h"
#include "fault.h"
#include "l3.h"
#include "l3_svc.h"
#include "log.h"
#include "module.h"
#include "tessd.h"

#define DHCP_COUNTERS(_)   \
	_(discover)        \
	_(offer)           \
	_(request)         \
	_(ack)             \
	_(nak)             \
	_(release)         \
	_(decline)         \
	_(inform)          \
	_(malformed)       \
	_(pool_exhausted)  \
	_(lease_limit)     \
	_(ignored)         \
	_(relayed)         \
	_(conflict)        \
	_(probe_busy)      \
	_(chaddr_mismatch) \
	_(reply_too_big)   \
	_(no_mbuf)         \
	_(leases_dropped)

#define CNT_FIELD(n) uint64_t n;
struct dhcp_counters {
	DHCP_COUNTERS(CNT_FIELD)
};

#define DHCP_PROBES 8 /* new addresses of one interface being probed at once */
#define PROBE_TRIES 3 /* addresses tried for one DISCOVER before the client must ask again */

/* A new address being probed (ARP) before it is offered: the DISCOVER waits here. */
struct dhcp_probe {
	struct dhcp_msg q;
	uint32_t ip;
	uint8_t tries;
	uint64_t deadline; /* TSC: offered then if nobody answered */
};

struct dhcp_srv {
	bool on;
	char iface[TESS_NAME_LEN];
	char vrf_name[TESS_NAME_LEN]; /* its interface's VRF: log lines' TESS_VRF */
	uint16_t ifid, vrf;
	struct dhcp_leases leases;
	struct dhcp_counters c, base;
	uint64_t limited_base;
	uint32_t sc_idx, ic_idx; /* its server's and interface's index in the running config */
	bool kept;               /* a sync found it in the new config */
	bool stale;              /* its table is an older config's (no memory for the new) */
	struct dhcp_probe probes[DHCP_PROBES];
	uint8_t n_probes;
};

/* A server's log fields: its interface's VRF. */
#define SRV_FIELDS(s) TLOG_F(.vrf = (s)->vrf_name[0] ? (s)->vrf_name : NULL)

static struct dhcp_srv *srvs; /* [n_srvs], in the config's order */
static uint32_t n_srvs;
static struct dhcp_srv *by_if[L3_MAX_IFACES];
static bool dirty;          /* leases changed since the file was written */
static uint64_t saved_tsc;  /* when it was */
static uint64_t expire_tsc; /* when leases were last expired */
static uint64_t save_errors;
static uint64_t sync_errors;     /* servers whose new lease table could not be made */
static uint64_t load_errors;     /* leases files unreadable at start (moved to .bad) */
static uint32_t save_wait_ms;    /* after failed writes: the wait before the next (backoff) */
static uint64_t save_logged_tsc; /* when a failed write was last logged */
static uint64_t save_unlogged;   /* failed writes since */
static uint64_t sync_gen;        /* lease tables replaced: dhcp_bound_version moves */
/*
 * The leases file is read by the first sync that makes the servers (not
 * before: a save would write over what is not read yet). Its leases of a
 * server left without a table (no memory) wait aside, written back by each
 * save, until a sync gives it one. A sync that fails, whole or in part, is
 * done again from dhcp_poll after resync_wait_ms (1 s, twice as long each
 * time, up to a minute).
 */
static bool leases_loaded;
static json_t *aside;           /* the file's leases of servers without a table */
static uint32_t resync_wait_ms; /* 0: the last sync gave every server its table */
static uint64_t resync_tsc;     /* when the last sync failed */
static bool tables_old;         /* a whole sync failed: the tables are of an older config */
static struct l3_svc dhcp_svc;

static uint64_t wall(void)
{
	return (uint64_t)time(NULL);
}

/* ---- the leases file ---- */

static bool leases_path(const struct tessd_cfg *cfg, char *buf, size_t len)
{
	char dir[PATH_MAX];

	if (cfg->dhcp.leases_file[0]) {
		snprintf(buf, len, "%s", cfg->dhcp.leases_file);
		return true;
	}
	if (tessd.config_path[0] == '\0')
		return false; /* nowhere to keep them: leases live as long as tessd */
	snprintf(dir, sizeof(dir), "%s", tessd.config_path);
	snprintf(buf, len, "%s/tessd-dhcp-leases.json", dirname(dir));
	return true;
}

static const char *const state_names[] = {
	[DL_OFFERED] = "offered", [DL_BOUND] = "bound", [DL_DECLINED] = "declined"
};

static json_t *lease_json(const struct dhcp_srv *s, const struct dhcp_lease *l, bool api)
{
	char ip[TESS_IP4_LEN], mac[CFG_MAC_STRLEN];
	struct cfg_mac m;
	json_t *o;

	memcpy(m.b, l->mac, 6);
	cfg_fmt_ip4(l->ip, ip, sizeof(ip));
	cfg_fmt_mac(&m, mac, sizeof(mac));
	o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "interface", s->iface, "address", ip, "mac", mac,
		      "state", state_names[l->state], "expires", (json_int_t)l->expires);
	if (l->hostname[0])
		json_object_set_new(o, "hostname", json_string(l->hostname));
	if (api) {
		int64_t left = (int64_t)l->expires - (int64_t)wall();
		json_object_set_new(o, "expires_in", json_integer(left > 0 ? left : 0));
	}
	return o;
}

static void leases_save(const struct tessd_cfg *cfg)
{
	char path[PATH_MAX], why[CFG_MSG_MAX];
	json_t *doc, *a;

	dirty = false;
	saved_tsc = rte_rdtsc();
	if (!leases_path(cfg, path, sizeof(path)))
		return;
	a = json_array();
	for (uint32_t i = 0; i < n_srvs; i++)
		for (uint32_t k = 0; k < srvs[i].leases.n; k++)
			json_array_append_new(a, lease_json(&srvs[i], &srvs[i].leases.l[k], false));
	if (aside)
		json_array_extend(a, aside);
	doc = json_pack("{s:i,s:o}", "version", 1, "leases", a);
	if (doc == NULL || cfg_file_save(path, doc, why, sizeof(why)) < 0) {
		/*
		 * Tried again later, each wait twice the last (up to a minute): a
		 * full disk is not rewritten every save_ms. Counted every time,
		 * logged at most once a minute.
		 */
		save_errors++;
		save_unlogged++;
		dirty = true;
		save_wait_ms = dhcp_save_backoff(save_wait_ms, cfg->dhcp.save_ms);
		if (save_logged_tsc == 0 ||
		    saved_tsc - save_logged_tsc >= DHCP_SAVE_BACKOFF_MAX_MS * (dp_tsc_hz / 1000)) {
			DP_LOG(ERR,
			       "dhcp: cannot write the leases file %s: %s (%llu failures; next "
			       "try in %u ms)",
			       path, doc ? why : "no memory", (unsigned long long)save_unlogged,
			       save_wait_ms);
			save_logged_tsc = saved_tsc;
			save_unlogged = 0;
		}
	} else if (save_wait_ms) {
		DP_LOG(INFO, "dhcp: leases file %s written again", path);
		save_wait_ms = 0;
		save_logged_tsc = 0;
		save_unlogged = 0;
	}
	json_decref(doc);
}

/*
 * The running config's server and interface of s: by the indexes of the
 * last sync (checked: only routes change without one), else looked up.
 */
static const struct tessd_dhcp_server_cfg *srv_cfg(const struct dhcp_srv *s)
{
	const struct tessd_dhcp_cfg *d = &tessd.cfg.dhcp;

	if (s->sc_idx < d->n_servers && strcmp(d->servers[s->sc_idx].interface, s->iface) == 0)
		return &d->servers[s->sc_idx];
	return tessd_cfg_dhcp_server(&tessd.cfg, s->iface);
}

static const struct tessd_iface_cfg *srv_iface(const struct dhcp_srv *s)
{
	const struct tessd_router_cfg *r = &tessd.cfg.router;

	if (s->ic_idx < r->n_interfaces && strcmp(r->interfaces[s->ic_idx].name, s->iface) == 0)
		return &r->interfaces[s->ic_idx];
	return tessd_cfg_iface(&tessd.cfg, s->iface);
}

/* The server of interface iface: by the router's id of it (the API's and the file's names). */
static struct dhcp_srv *srv_named(const char *iface)
{
	uint16_t id = l3_svc_iface(iface);
	struct dhcp_srv *s = id ? by_if[id] : NULL;

	return s && strcmp(s->iface, iface) == 0 ? s : NULL;
}

/* Whether cfg has a DHCP server on interface ifn. */
static bool server_configured(const struct tessd_cfg *cfg, const char *ifn)
{
	for (uint32_t i = 0; i < cfg->dhcp.n_servers; i++)
		if (strcmp(cfg->dhcp.servers[i].interface, ifn) == 0)
			return true;
	return false;
}

/* One lease of the file (e) into server s's table: 0, or why not (not trusted). */
static int lease_restore_json(const struct tessd_cfg *cfg, struct dhcp_srv *s, json_t *e,
			      uint64_t now)
{
	const char *st = json_string_value(json_object_get(e, "state")) ?: "";
	const char *host = json_string_value(json_object_get(e, "hostname"));
	struct dhcp_lease l = { 0 };
	struct cfg_mac mac;

	if (cfg_parse_ip4(json_string_value(json_object_get(e, "address")) ?: "", &l.ip) != 0 ||
	    cfg_parse_mac(json_string_value(json_object_get(e, "mac")) ?: "", &mac) != 0 ||
	    !json_is_integer(json_object_get(e, "expires")))
		return -EINVAL;
	memcpy(l.mac, mac.b, 6);
	l.expires = (uint64_t)json_integer_value(json_object_get(e, "expires"));
	l.state = strcmp(st, "bound") == 0      ? DL_BOUND
		  : strcmp(st, "declined") == 0 ? DL_DECLINED
						: 0; /* offers are not kept */
	if (host)
		snprintf(l.hostname, sizeof(l.hostname), "%s", host);
	/* The file is not trusted: no lease longer than this config gives. */
	dhcp_lease_sanitize(&l, now,
			    l.state == DL_DECLINED ? cfg->dhcp.decline_sec
			    : srv_cfg(s)           ? srv_cfg(s)->lease_sec
						   : 0);
	return dhcp_lease_restore(&s->leases, &l, now);
}

/*
 * Leases of the file, into the servers they belong to; those of a server
 * without a table yet aside; the rest (expired, out of pools) go.
 */
static void leases_load(const struct tessd_cfg *cfg)
{
	char path[PATH_MAX];
	struct cfg_errs errs;
	uint32_t kept = 0, dropped = 0, waiting = 0;
	uint64_t now = wall();
	struct dhcp_srv *last = NULL;
	json_t *doc, *a, *e;
	size_t i;

	if (!leases_path(cfg, path, sizeof(path)) || access(path, F_OK) != 0)
		return;
	cfg_errs_init(&errs);
	doc = cfg_file_load(path, &errs);
	a = doc ? json_object_get(doc, "leases") : NULL;
	if (!json_is_array(a)) {
		char bad[PATH_MAX + 8];
		/* Kept aside for the operator, not overwritten by the next save. */
		snprintf(bad, sizeof(bad), "%s.bad", path);
		load_errors++;
		if (rename(path, bad) == 0)
			DP_LOG(ERR,
			       "dhcp: leases file %s unreadable (%s): moved to %s, starting "
			       "without leases",
			       path, errs.n ? errs.e[0].msg : "no leases array", bad);
		else
			DP_LOG(ERR,
			       "dhcp: leases file %s unreadable (%s), cannot move it to %s: %s",
			       path, errs.n ? errs.e[0].msg : "no leases array", bad,
			       strerror(errno));
		json_decref(doc);
		return;
	}
	json_array_foreach (a, i, e) {
		const char *ifn = json_string_value(json_object_get(e, "interface")) ?: "";

		/* The file holds a server's leases together: one lookup per run of them. */
		if (last == NULL || strcmp(last->iface, ifn) != 0)
			last = srv_named(ifn);
		if (last && lease_restore_json(cfg, last, e, now) == 0) {
			kept++;
		} else if (last == NULL && server_configured(cfg, ifn) &&
			   (aside || (aside = json_array())) && json_array_append(aside, e) == 0) {
			waiting++;
		} else {
			dropped++;
		}
	}
	json_decref(doc);
	DP_LOG(INFO,
	       "dhcp: %u leases loaded from %s, %u waiting for their server, %u dropped "
	       "(expired, outside the pools or taken meanwhile)",
	       kept, path, waiting, dropped);
	if (dropped)
		dirty = true; /* and so if leases were given before the file could be read */
}

/* The leases set aside into the servers that have a table now; those of servers gone go. */
static void aside_restore(const struct tessd_cfg *cfg)
{
	uint64_t now = wall();
	uint32_t kept = 0, dropped = 0;
	size_t i = 0;

	while (i < json_array_size(aside)) {
		json_t *e = json_array_get(aside, i);
		const char *ifn = json_string_value(json_object_get(e, "interface")) ?: "";
		struct dhcp_srv *s = srv_named(ifn);

		if (s == NULL && server_configured(cfg, ifn)) {
			i++;
			continue;
		}
		if (s && lease_restore_json(cfg, s, e, now) == 0)
			kept++;
		else
			dropped++;
		json_array_remove(aside, i);
	}
	if (kept + dropped)
		DP_LOG(INFO, "dhcp: %u leases set aside loaded, %u dropped", kept, dropped);
	if (dropped)
		dirty = true;
	if (json_array_size(aside) == 0) {
		json_decref(aside);
		aside = NULL;
	}
}

/* ---- config ---- */

/* s takes over o's lease table, counters and probes as they are (o keeps none). */
static void srv_take(struct dhcp_srv *s, struct dhcp_srv *o)
{
	s->leases = o->leases;
	memset(&o->leases, 0, sizeof(o->leases));
	s->on = true;
	s->c = o->c;
	s->base = o->base;
	s->limited_base = o->limited_base;
	memcpy(s->probes, o->probes, sizeof(s->probes));
	s->n_probes = o->n_probes;
}

/* A sync failed (in part): done again later, each wait twice the last. */
static void resync_later(void)
{
	resync_wait_ms =
		resync_wait_ms ? RTE_MIN(2 * resync_wait_ms, DHCP_SAVE_BACKOFF_MAX_MS) : 1000;
	resync_tsc = rte_rdtsc();
}

static void dhcp_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	uint32_t n = cur->dhcp.n_servers;
	struct dhcp_srv *ns = calloc(n ? n : 1, sizeof(*ns));
	uint64_t now = wall();
	int rc;
	uint32_t *order = tessd_cfg_iface_order(cur, &rc);
	bool failed = false;

	dhcp_relay_sync(cur, dhcp_svc.idx); /* stateless: whatever the servers' fate */
	if (tables_old)
		old = NULL; /* the tables are of a config before old */
	if (ns == NULL || rc < 0 || dp_fault("dhcp.sync") < 0) {
		free(ns);
		free(order);
		DP_LOG(ERR, "dhcp: no memory to apply the config: servers unchanged, tried "
			    "again later");
		sync_errors++;
		tables_old = true;
		resync_later();
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct tessd_dhcp_server_cfg *sc = &cur->dhcp.servers[i];
		struct dhcp_srv *s = &ns[i], *o;

		snprintf(s->iface, sizeof(s->iface), "%s", sc->interface);
		s->sc_idx = i;
		s->ic_idx = (uint32_t)tessd_cfg_iface_find(cur, order, sc->interface);
		s->ifid = l3_svc_iface(sc->interface);
		s->vrf = s->ifid ? l3_svc_iface_vrf(s->ifid) : 0;
		snprintf(s->vrf_name, sizeof(s->vrf_name), "%s",
			 s->ic_idx < cur->router.n_interfaces
				 ? cur->router.interfaces[s->ic_idx].vrf
				 : "");
		/* The server this interface had (by_if is still the old map). */
		o = s->ifid ? by_if[s->ifid] : NULL;
		if (o && strcmp(o->iface, s->iface) != 0)
			o = NULL;
		if (o)
			o->kept = true;
		if (o && !o->stale && old && o->sc_idx < old->dhcp.n_servers &&
		    dhcp_leases_cfg_same(&old->dhcp.servers[o->sc_idx], sc)) {
			/* Its pools, reservations and limit unchanged: the table moves as it is. */
			srv_take(s, o);
			continue;
		}
		if (dp_fault("dhcp.table") < 0 || dhcp_leases_init(&s->leases, sc) < 0) {
			sync_errors++;
			failed = true;
			if (o == NULL) {
				DP_LOG_F(ERR, SRV_FIELDS(s),
					 "dhcp: no memory for the leases of %s: not served, "
					 "tried again later",
					 sc->interface);
				continue;
			}
			/*
			 * No room for the new table: the old one stays, leases and all
			 * (it serves the old pools until the next change), rather than
			 * every lease of the interface vanishing.
			 */
			DP_LOG_F(ERR, SRV_FIELDS(s),
				 "dhcp: no memory for the new leases of %s: its old table "
				 "kept, tried again later",
				 sc->interface);
			srv_take(s, o);
			s->stale = true;
			continue;
		}
		s->on = true;
		if (o == NULL) {
			s->limited_base = s->ifid ? l3_svc_limited(s->ifid, dhcp_svc.idx) : 0;
			continue;
		}
		/* The same interface: its counters and the leases that still fit stay. */
		s->c = o->c;
		s->base = o->base;
		s->limited_base = o->limited_base;
		memcpy(s->probes, o->probes, sizeof(s->probes));
		s->n_probes = o->n_probes;
		uint64_t dropped = 0;
		for (uint32_t k = 0; k < o->leases.n; k++) {
			if (dhcp_lease_restore(&s->leases, &o->leases.l[k], now) == 0)
				continue;
			dirty = true;
			/* Clients' addresses only: no offer, declined address or expired one. */
			dropped += o->leases.l[k].state == DL_BOUND && o->leases.l[k].expires > now;
		}
		if (dropped) {
			s->c.leases_dropped += dropped;
			DP_LOG_F(WARNING, SRV_FIELDS(s),
				 "dhcp: %" PRIu64 " leases of %s dropped by the config change "
				 "(outside its pools, excluded, reserved or past max_leases)",
				 dropped, sc->interface);
		}
	}
	for (uint32_t i = 0; i < n_srvs; i++) {
		if (!srvs[i].kept && srvs[i].leases.n)
			dirty = true; /* a server gone: its leases too */
		dhcp_leases_fini(&srvs[i].leases);
	}
	free(srvs);
	srvs = ns;
	n_srvs = n;
	memset(by_if, 0, sizeof(by_if));
	for (uint32_t i = 0; i < n; i++)
		if (ns[i].on && ns[i].ifid)
			by_if[ns[i].ifid] = &ns[i];
	free(order);
	sync_gen++;
	tables_old = false;
	if (!leases_loaded)
		leases_load(cur);
	else if (aside)
		aside_restore(cur);
	leases_loaded = true;
	if (failed) {
		resync_later();
		return;
	}
	if (resync_wait_ms)
		DP_LOG(NOTICE, "dhcp: every server has its lease table again");
	resync_wait_ms = 0;
}

static void dhcp_fini(void)
{
	if (dirty && leases_loaded)
		leases_save(&tessd.cfg);
	json_decref(aside);
	aside = NULL;
	leases_loaded = tables_old = false;
	resync_wait_ms = 0;
	for (uint32_t i = 0; i < n_srvs; i++)
		dhcp_leases_fini(&srvs[i].leases);
	free(srvs);
	srvs = NULL;
	n_srvs = 0;
	dhcp_relay_fini();
}

static void probes_expire(struct dhcp_srv *s, uint64_t now);

static void dhcp_poll(const struct tessd_cfg *cfg, uint64_t now)
{
	if (resync_wait_ms && now - resync_tsc >= resync_wait_ms * (dp_tsc_hz / 1000))
		dhcp_sync(cfg, cfg); /* the tables of cfg's servers stay as they are */
	for (uint32_t i = 0; i < n_srvs; i++)
		if (srvs[i].n_probes)
			probes_expire(&srvs[i], now);
	if (now - expire_tsc >= dp_tsc_hz) {
		uint64_t w = wall();
		expire_tsc = now;
		for (uint32_t i = 0; i < n_srvs; i++)
			if (dhcp_leases_expire(&srvs[i].leases, w))
				dirty = true; /* the file must not keep them until another change */
	}
	if (dirty && leases_loaded &&
	    now - saved_tsc >= (uint64_t)(save_wait_ms ? save_wait_ms : cfg->dhcp.save_ms) *
				       (dp_tsc_hz / 1000))
		leases_save(cfg);
}

/* ---- the protocol ---- */

/* The subnet of iface that holds ip: its address (the server identifier) and mask. */
static bool subnet(const struct tessd_iface_cfg *ic, uint32_t ip, uint32_t *addr, uint32_t *mask)
{
	for (uint32_t a = 0; a < ic->n_addresses; a++) {
		uint32_t m = ic->addresses[a].len ? UINT32_MAX << (32 - ic->addresses[a].len) : 0;
		if ((ip & m) == (ic->addresses[a].ip & m)) {
			*addr = ic->addresses[a].ip;
			*mask = m;
			return true;
		}
	}
	return false;
}

static bool own_address(const struct tessd_iface_cfg *ic, uint32_t ip)
{
	for (uint32_t a = 0; a < ic->n_addresses; a++)
		if (ic->addresses[a].ip == ip)
			return true;
	return false;
}

/* The options of sc for a client of address yiaddr (or ciaddr for INFORM). */
static void fill_options(struct dhcp_reply *r, const struct tessd_dhcp_server_cfg *sc,
			 const struct tessd_iface_cfg *ic, uint32_t client)
{
	uint32_t addr = 0, mask = 0;

	if (!subnet(ic, client, &addr, &mask))
		addr = ic->addresses[0].ip;
	r->server_id = addr;
	r->mask = mask;
	r->broadcast = mask ? (addr | ~mask) : 0;
	r->router = sc->router ? sc->router : addr;
	for (uint32_t i = 0; i < sc->n_dns && i < DHCP_MAX_DNS; i++)
		r->dns[r->n_dns++] = sc->dns[i];
	r->domain = sc->domain;
	r->mtu = (uint16_t)sc->mtu;
	if (sc->n_routes) {
		bool dflt = false;
		for (uint32_t i = 0; i < sc->n_routes && i < TESS_DHCP_MAX_ROUTES; i++) {
			r->routes[r->n_routes++] = (struct dhcp_route){
				.ip = sc->routes[i].prefix.ip,
				.len = sc->routes[i].prefix.len,
				.via = sc->routes[i].via,
			};
			dflt |= sc->routes[i].prefix.len == 0;
		}
		/* RFC 3442: a client with option 121 ignores option 3; the default goes in it. */
		if (!dflt)
			r->routes[r->n_routes++] = (struct dhcp_route){ .via = r->router };
	}
}

/*
 * Sends reply r to the client of m (RFC 2131 4.1): a NAK, or a client that
 * asks for it, broadcast; one with an address (ciaddr) to it; else to the
 * offered address at the client's MAC (which has no address to ARP for).
 */
static void send_reply(struct dhcp_srv *s, const struct dhcp_msg *q, const struct dhcp_reply *r)
{
	struct rte_ether_addr own;
	struct rte_mbuf *m;
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *uh;
	uint8_t *payload;
	size_t len;
	uint32_t dst;
	bool bcast;

	if (!l3_svc_iface_mac(s->ifid, &own))
		return;
	m = l3_svc_alloc();
	if (m == NULL ||
	    (eh = (struct rte_ether_hdr *)rte_pktmbuf_append(
		     m, RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*uh) + DHCP_REPLY_MAX)) == NULL) {
		rte_pktmbuf_free(m);
		s->c.no_mbuf++;
		return;
	}
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	uh = (struct rte_udp_hdr *)(ip + 1);
	payload = (uint8_t *)(uh + 1);
	len = dhcp_build_fit(payload, dhcp_max_len(q), r, q->has_prl ? q->prl : NULL);
	if (len == 0) {
		rte_pktmbuf_free(m);
		s->c.reply_too_big++;
		return;
	}
	rte_pktmbuf_trim(m, (uint16_t)(DHCP_REPLY_MAX - len));
	bcast = r->type == DHCP_NAK || (q->ciaddr == 0 && (q->flags & DHCP_BROADCAST));
	dst = bcast ? UINT32_MAX : q->ciaddr ? q->ciaddr : r->yiaddr;
	if (bcast)
		memset(&eh->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	else
		memcpy(&eh->dst_addr, q->chaddr, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&own, &eh->src_addr);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	l3_svc_udp4_hdr(ip, r->server_id, dst, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, len);
	l3_svc_send(m, s->ifid);
}

static void reply_init(struct dhcp_reply *r, const struct dhcp_msg *q, uint8_t type)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->xid = q->xid;
	r->flags = q->flags;
	r->giaddr = q->giaddr;
	memcpy(r->chaddr, q->chaddr, sizeof(r->chaddr));
}

static void nak(struct dhcp_srv *s, const struct dhcp_msg *q, uint32_t server_id, const char *why)
{
	struct dhcp_reply r;

	reply_init(&r, q, DHCP_NAK);
	r.server_id = server_id;
	r.message = why;
	s->c.nak++;
	send_reply(s, q, &r);
}

static void send_offer(struct dhcp_srv *s, const struct tessd_dhcp_server_cfg *sc,
		       const struct tessd_iface_cfg *ic, const struct dhcp_msg *q, uint32_t ip)
{
	const struct tessd_dhcp_resv *rv = dhcp_reservation(&s->leases, q->chaddr);
	struct dhcp_reply r;

	reply_init(&r, q, DHCP_OFFER);
	r.yiaddr = ip;
	r.lease_sec = sc->lease_sec;
	fill_options(&r, sc, ic, ip);
	r.hostname = rv && rv->hostname[0] ? rv->hostname : NULL;
	s->c.offer++;
	send_reply(s, q, &r);
}

/* ---- conflict probes: an ARP request for a new address; an answer means it is in use ---- */

static struct dhcp_probe *probe_of(struct dhcp_srv *s, const uint8_t *mac)
{
	for (uint8_t i = 0; i < s->n_probes; i++)
		if (memcmp(s->probes[i].q.chaddr, mac, 6) == 0)
			return &s->probes[i];
	return NULL;
}

static void probe_start(struct dhcp_srv *s, const struct dhcp_msg *q, uint32_t ip, uint8_t tries)
{
	struct dhcp_probe *p = probe_of(s, q->chaddr);

	if (p == NULL)
		p = &s->probes[s->n_probes++]; /* the caller checked for room */
	p->q = *q;
	p->ip = ip;
	p->tries = tries;
	p->deadline = rte_rdtsc() + tessd.cfg.dhcp.probe_ms * (dp_tsc_hz / 1000);
	l3_svc_arp_probe(s->ifid, ip);
}

static void probe_end(struct dhcp_srv *s, struct dhcp_probe *p)
{
	*p = s->probes[--s->n_probes];
}

/* Probes nobody answered: their offers go out. */
static void probes_expire(struct dhcp_srv *s, uint64_t now)
{
	const struct tessd_dhcp_server_cfg *sc = srv_cfg(s);
	const struct tessd_iface_cfg *ic = srv_iface(s);

	for (uint8_t i = 0; i < s->n_probes;) {
		struct dhcp_probe *p = &s->probes[i];
		const struct dhcp_lease *l;

		if (p->deadline > now) {
			i++;
			continue;
		}
		l = dhcp_lease_by_mac(&s->leases, p->q.chaddr);
		if (sc && ic && ic->n_addresses && l && l->ip == p->ip && l->state == DL_OFFERED)
			send_offer(s, sc, ic, &p->q, p->ip);
		probe_end(s, p);
	}
}

/* The router heard ip from sha on iface: a probed address in use is held back, another tried. */
static void dhcp_arp_seen(uint16_t iface, uint32_t ip, const struct rte_ether_addr *sha)
{
	struct dhcp_srv *s = by_if[iface];
	struct dhcp_probe *p = NULL;
	char a[TESS_IP4_LEN];
	struct dhcp_msg q;
	uint32_t next;

	for (uint8_t i = 0; s && i < s->n_probes && p == NULL; i++)
		if (s->probes[i].ip == ip)
			p = &s->probes[i];
	/* The client itself answering for it is no conflict (it had it before). */
	if (p == NULL || memcmp(sha->addr_bytes, p->q.chaddr, 6) == 0)
		return;
	s->c.conflict++;
	dirty = true;
	DP_LOG_F(WARNING, SRV_FIELDS(s), "dhcp: %s: %s is in use by another host: held %us",
		 s->iface, cfg_fmt_ip4(ip, a, sizeof(a)), tessd.cfg.dhcp.decline_sec);
	dhcp_decline(&s->leases, p->q.chaddr, ip, wall(), tessd.cfg.dhcp.decline_sec);
	q = p->q;
	if (p->tries >= PROBE_TRIES ||
	    dhcp_offer(&s->leases, q.chaddr, 0, wall(), tessd.cfg.dhcp.offer_sec, &next) < 0) {
		probe_end(s, p); /* the client asks again */
		return;
	}
	probe_start(s, &q, next, (uint8_t)(p->tries + 1));
}

static void handle(struct dhcp_srv *s, const struct dhcp_msg *q)
{
	const struct tessd_cfg *cfg = &tessd.cfg;
	const struct tessd_dhcp_server_cfg *sc = srv_cfg(s);
	const struct tessd_iface_cfg *ic = srv_iface(s);
	const struct tessd_dhcp_resv *rv;
	uint64_t now = wall();
	struct dhcp_reply r;
	uint32_t ip, sid, mask;
	int rc;

	if (sc == NULL || ic == NULL || ic->n_addresses == 0)
		return;
	/* Our identifier: the interface's address on the subnet of the pools. */
	sid = 0;
	if (!subnet(ic, sc->n_pools ? sc->pools[0].start : ic->addresses[0].ip, &sid, &mask))
		sid = ic->addresses[0].ip;
	switch (q->type) {
	case DHCP_DISCOVER: {
		struct dhcp_probe *p = probe_of(s, q->chaddr);
		uint32_t changes;
		bool fresh;

		s->c.discover++;
		if (p) {
			p->q = *q; /* a retransmission: answered when the probe ends */
			return;
		}
		/* A new dynamic address is probed first (ISC/Kea); a client's own is not. */
		fresh = cfg->dhcp.probe_ms && dhcp_lease_by_mac(&s->leases, q->chaddr) == NULL &&
			dhcp_reserved_ip(&s->leases, q->chaddr) == 0;
		if (fresh && s->n_probes == DHCP_PROBES) {
			/*
			 * Every probe slot taken (a flood of new MACs, say): offered
			 * unprobed rather than refused, so legitimate clients are served.
			 */
			s->c.probe_busy++;
			fresh = false;
		}
		changes = s->leases.changes;
		rc = dhcp_offer(&s->leases, q->chaddr, q->requested, now, cfg->dhcp.offer_sec, &ip);
		/* Offers are not saved: only a lease it removed (a reservation made since) is. */
		if (s->leases.changes != changes)
			dirty = true;
		if (rc < 0) {
			/* No offer: the client tries again, or another server answers. */
			if (rc == -EDQUOT)
				s->c.lease_limit++;
			else
				s->c.pool_exhausted++;
			return;
		}
		if (fresh) {
			probe_start(s, q, ip, 1);
			return;
		}
		send_offer(s, sc, ic, q, ip);
		return;
	}
	case DHCP_REQUEST:
		s->c.request++;
		if (q->server_id) {
			/* SELECTING: for another server, our offer is declined implicitly. */
			if (!own_address(ic, q->server_id)) {
				struct dhcp_lease *l = dhcp_lease_by_mac(&s->leases, q->chaddr);
				if (l && l->state == DL_OFFERED)
					dhcp_lease_remove(&s->leases, l); /* not saved: no write */
				s->c.ignored++;
				return;
			}
			ip = q->requested;
		} else {
			/* INIT-REBOOT (option 50) or RENEWING/REBINDING (ciaddr). */
			ip = q->requested ? q->requested : q->ciaddr;
		}
		if (ip == 0) {
			s->c.malformed++;
			return;
		}
		rc = dhcp_request_ours(&s->leases, q->chaddr, ip,
				       q->server_id                     ? DR_SELECTING
				       : q->requested && q->ciaddr == 0 ? DR_INIT_REBOOT
									: DR_RENEWING);
		if (rc == 0) {
			s->c.ignored++; /* no record of it: another server's client */
			return;
		}
		if (rc < 0) {
			nak(s, q, sid, "no offer of this address");
			return;
		}
		rc = dhcp_request(&s->leases, q->chaddr, ip, now, sc->lease_sec, q->hostname);
		if (rc == -EDQUOT) {
			s->c.lease_limit++;
			nak(s, q, sid, "no lease left for this network");
			return;
		}
		if (rc < 0) {
			nak(s, q, sid, "address not available");
			return;
		}
		dirty = true;
		reply_init(&r, q, DHCP_ACK);
		r.ciaddr = q->ciaddr;
		r.yiaddr = ip;
		r.lease_sec = sc->lease_sec;
		fill_options(&r, sc, ic, ip);
		rv = dhcp_reservation(&s->leases, q->chaddr);
		r.hostname = rv && rv->hostname[0] ? rv->hostname : NULL;
		s->c.ack++;
		send_reply(s, q, &r);
		return;
	case DHCP_RELEASE:
		s->c.release++;
		if (dhcp_release(&s->leases, q->chaddr, q->ciaddr) == 0)
			dirty = true;
		return;
	case DHCP_DECLINE:
		s->c.decline++;
		if (dhcp_decline(&s->leases, q->chaddr, q->requested, now, cfg->dhcp.decline_sec) ==
		    0) {
			char a[TESS_IP4_LEN];
			dirty = true;
			DP_LOG_F(WARNING, SRV_FIELDS(s),
				 "dhcp: %s: %s declined (in use by another host): held %us",
				 s->iface, cfg_fmt_ip4(q->requested, a, sizeof(a)),
				 cfg->dhcp.decline_sec);
		}
		return;
	case DHCP_INFORM:
		/* Options only, no lease (RFC 2131 3.4), to the address it has. */
		s->c.inform++;
		if (q->ciaddr == 0) {
			s->c.malformed++;
			return;
		}
		reply_init(&r, q, DHCP_ACK);
		r.ciaddr = q->ciaddr;
		fill_options(&r, sc, ic, q->ciaddr);
		s->c.ack++;
		send_reply(s, q, &r);
		return;
	default:
		s->c.malformed++;
		return;
	}
}

/* A datagram to port 67 on an interface with a server or a relay (l3_svc input). */
static void dhcp_input(struct rte_mbuf *m, uint16_t iface, uint16_t vrf)
{
	struct dhcp_srv *s = by_if[iface];
	struct dhcp_msg q;
	uint8_t buf[1500];
	const uint8_t *p;
	long len;

	(void)vrf;
	if (dhcp_relay_on(iface)) {
		dhcp_relay_input(m, iface);
		return;
	}
	if (s == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	len = dhcp_udp_read(m, buf, sizeof(buf), &p);
	if (len < 0 || dhcp_parse(p, (size_t)len, &q) != DHCP_OK) {
		s->c.malformed++;
		rte_pktmbuf_free(m);
		return;
	}
	if (q.giaddr) {
		rte_pktmbuf_free(m);
		s->c.relayed++; /* a relay's: this server is its interface's clients' only */
		return;
	}
	/*
	 * Without a relay the client sends its own frames: a chaddr not its
	 * Ethernet source is forged (one host posing as many to take the pool
	 * and the probe slots).
	 */
	if (memcmp(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->src_addr.addr_bytes, q.chaddr,
		   RTE_ETHER_ADDR_LEN) != 0) {
		rte_pktmbuf_free(m);
		s->c.chaddr_mismatch++;
		return;
	}
	rte_pktmbuf_free(m);
	handle(s, &q);
}

static struct l3_svc dhcp_svc = {
	.name = "dhcp",
	.port = DHCP_SERVER_PORT,
	.mark = tessd_dhcp_mark,
	.input = dhcp_input,
	.arp_seen = dhcp_arp_seen,
	.routed = dhcp_relay_on,
};
L3_SVC_REGISTER(dhcp_svc)

/* ---- for other modules (dhcp.h) ---- */

uint64_t dhcp_bound_version(uint16_t ifid)
{
	const struct dhcp_srv *s = ifid < L3_MAX_IFACES ? by_if[ifid] : NULL;

	/* Every bound lease's change moves changes; a new table moves sync_gen. */
	return s ? sync_gen << 32 | s->leases.changes : 0;
}

void dhcp_bound_each(uint16_t ifid, dhcp_bound_fn fn, void *arg)
{
	const struct dhcp_srv *s = ifid < L3_MAX_IFACES ? by_if[ifid] : NULL;

	for (uint32_t k = 0; s && k < s->leases.n; k++) {
		const struct dhcp_lease *l = &s->leases.l[k];
		const struct tessd_dhcp_resv *rv;

		if (l->state != DL_BOUND)
			continue;
		rv = dhcp_reservation(&s->leases, l->mac);
		if (rv && rv->hostname[0])
			fn(arg, l->ip, rv->hostname);
		else if (l->hostname[0])
			fn(arg, l->ip, l->hostname);
	}
}

/* ---- counters ---- */

static void dhcp_stats_reset(void)
{
	for (uint32_t i = 0; i < n_srvs; i++) {
		srvs[i].base = srvs[i].c;
		srvs[i].limited_base =
			srvs[i].ifid ? l3_svc_limited(srvs[i].ifid, dhcp_svc.idx) : 0;
	}
	dhcp_relay_stats_reset(dhcp_svc.idx);
}

static json_t *srv_counters(const struct dhcp_srv *s)
{
	json_t *o = json_object();

#define CNT_JSON(n) json_object_set_new(o, #n, json_integer((json_int_t)(s->c.n - s->base.n)));
	DHCP_COUNTERS(CNT_JSON)
#undef CNT_JSON
	json_object_set_new(
		o, "rate_limited",
		json_integer((json_int_t)((s->ifid ? l3_svc_limited(s->ifid, dhcp_svc.idx) : 0) -
					  s->limited_base)));
	return o;
}

static void dhcp_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf)
{
	json_t *a = json_array();

	(void)cfg; /* the running config: srv_iface reads it by index */

	for (uint32_t i = 0; i < n_srvs; i++) {
		const struct dhcp_srv *s = &srvs[i];
		const struct tessd_iface_cfg *ic = srv_iface(s);
		json_t *o;

		if (ic == NULL || (vrf && strcmp(vrf, ic->vrf) != 0))
			continue;
		o = srv_counters(s);
		json_object_set_new(o, "interface", json_string(s->iface));
		json_object_set_new(o, "vrf", json_string(ic->vrf));
		json_object_set_new(o, "leases", json_integer(s->leases.n));
		json_object_set_new(o, "max_leases", json_integer(s->leases.cap));
		json_array_append_new(a, o);
	}
	if (vrf == NULL) {
		json_object_set_new(stats, "dhcp_save_errors",
				    json_integer((json_int_t)save_errors));
		json_object_set_new(stats, "dhcp_load_errors",
				    json_integer((json_int_t)load_errors));
		json_object_set_new(stats, "dhcp_sync_errors",
				    json_integer((json_int_t)sync_errors));
	}
	json_object_set_new(stats, "dhcp", a);
	json_object_set_new(stats, "dhcp_relays", dhcp_relay_stats(vrf, dhcp_svc.idx));
}

/* ---- API ---- */

static int dhcp_leases_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct dhcp_filter *f = params;
	json_t *a = json_array();

	if (f->vrf[0] && tessd_cfg_vrf(&tessd.cfg, f->vrf) == NULL) {
		json_decref(a);
		ctl_error_set(err, ENOENT, "/params/vrf", "no VRF %s", f->vrf);
		return -ENOENT;
	}
	if (f->interface[0] && tessd_cfg_dhcp_server(&tessd.cfg, f->interface) == NULL) {
		json_decref(a);
		ctl_error_set(err, ENOENT, "/params/interface", "no DHCP server on interface %s",
			      f->interface);
		return -ENOENT;
	}
	for (uint32_t i = 0; i < n_srvs; i++) {
		const struct dhcp_srv *s = &srvs[i];
		const struct tessd_iface_cfg *ic = srv_iface(s);
		if (ic == NULL || (f->vrf[0] && strcmp(f->vrf, ic->vrf) != 0) ||
		    (f->interface[0] && strcmp(f->interface, s->iface) != 0))
			continue;
		for (uint32_t k = 0; k < s->leases.n; k++) {
			json_t *o = lease_json(s, &s->leases.l[k], true);
			json_object_set_new(o, "vrf", json_string(ic->vrf));
			json_array_append_new(a, o);
		}
	}
	*result = a;
	return 0;
}

struct release_params {
	char interface[TESS_NAME_LEN];
	uint32_t address;
};

static int dhcp_release_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct release_params *p = params;
	struct dhcp_srv *s = srv_named(p->interface);
	struct dhcp_lease *l = s ? dhcp_lease_by_ip(&s->leases, p->address) : NULL;
	char a[TESS_IP4_LEN];

	cfg_fmt_ip4(p->address, a, sizeof(a));
	if (s == NULL) {
		ctl_error_set(err, ENOENT, "/params/interface", "no DHCP server on interface %s",
			      p->interface);
		return -ENOENT;
	}
	if (l == NULL) {
		ctl_error_set(err, ENOENT, "/params/address", "%s has no lease of %s", p->interface,
			      a);
		return -ENOENT;
	}
	*result = lease_json(s, l, true);
	dhcp_lease_remove(&s->leases, l);
	dirty = true;
	DP_LOG_F(INFO, SRV_FIELDS(s), "dhcp: %s: lease of %s cleared by the API", p->interface, a);
	return 0;
}

static const struct cfg_field filter_fields[] = {
	CFG_FIELD(struct dhcp_filter, vrf, "vrf", &tessd_opt_name_schema, false, "\"\""),
	CFG_FIELD(struct dhcp_filter, interface, "interface", &tessd_opt_name_schema, false,
		  "\"\""),
	{ 0 },
};
static const struct cfg_node filter_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = filter_fields, .size = sizeof(struct dhcp_filter) },
};
static int dhcp_relays_api(const void *params, json_t **result, struct ctl_error *err)
{
	return dhcp_relay_api(params, dhcp_svc.idx, result, err);
}

static const struct cfg_field release_fields[] = {
	CFG_FIELD(struct release_params, interface, "interface", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct release_params, address, "address", &tessd_ip4_schema, true, NULL),
	{ 0 },
};
static const struct cfg_node release_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = release_fields, .size = sizeof(struct release_params) },
};

static const struct ctl_method dhcp_methods[] = {
	{ "dhcp.leases", &filter_schema, dhcp_leases_api,
	  "DHCP leases (of a VRF, an interface): address, MAC, state, expiry" },
	{ "dhcp.release", &release_schema, dhcp_release_api,
	  "clear a DHCP lease (the address is free again)" },
	{ "dhcp.relays", &filter_schema, dhcp_relays_api,
	  "DHCP relays (of a VRF, an interface): servers, option 82 ids, counters" },
	{ 0 },
};

static const char *const dhcp_depends[] = { "router", NULL };

static struct tess_module dhcp_module = {
	.name = "dhcp",
	.depends = dhcp_depends,
	.validate = tessd_dhcp_validate,
	.fini = dhcp_fini,
	.sync = dhcp_sync,
	.poll = dhcp_poll,
	.stats_reset = dhcp_stats_reset,
	.stats_json = dhcp_stats_json,
	.methods = dhcp_methods,
};
TESS_MODULE_REGISTER(dhcp_module)
