/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DHCP part of tessd's config (the module is vrf/dhcp): a server or a
 * relay per interface.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessd_config.h"

static const struct cfg_node iface_ref_node = {
	.type = CFG_REF,
	.str = { .min_len = 1, .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
	.ref = { .table = "/router/interfaces", .key = "name", .what = "interface" },
};
/* Host and domain names: letters, digits, '-' and '.' (RFC 1123). */
static const struct cfg_node text_node = {
	.type = CFG_STRING,
	.str = { .max_len = TESS_DHCP_TEXT_LEN - 1,
		 .charset = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-." },
};

static int check_unicast_mac(const void *val, char *why, size_t len)
{
	const struct cfg_mac *m = val;

	if (m->b[0] & 1) {
		snprintf(why, len, "a client's MAC is not multicast");
		return EINVAL;
	}
	return 0;
}

static const struct cfg_node mac_node = {
	.type = CFG_MAC,
	.str = { .min_len = 17, .max_len = TESS_MAC_LEN - 1, .charset = "0123456789abcdefABCDEF:" },
	.check = check_unicast_mac,
};

static const struct cfg_field pool_fields[] = {
	CFG_FIELD(struct tessd_dhcp_range, start, "start", &tessd_ip4_schema, true, NULL),
	CFG_FIELD(struct tessd_dhcp_range, end, "end", &tessd_ip4_schema, true, NULL),
	{ 0 },
};
static const struct cfg_field excl_fields[] = {
	CFG_FIELD(struct tessd_dhcp_range, start, "start", &tessd_ip4_schema, true, NULL),
	CFG_FIELD(struct tessd_dhcp_range, end, "end", &tessd_opt_ip4_schema, false, "\"\""),
	{ 0 },
};
static const struct cfg_field resv_fields[] = {
	CFG_FIELD(struct tessd_dhcp_resv, mac, "mac", &mac_node, true, NULL),
	CFG_FIELD(struct tessd_dhcp_resv, address, "address", &tessd_ip4_schema, true, NULL),
	CFG_FIELD(struct tessd_dhcp_resv, hostname, "hostname", &text_node, false, "\"\""),
	{ 0 },
};
static const struct cfg_field route_fields[] = {
	CFG_FIELD(struct tessd_dhcp_route, prefix, "prefix", &tessd_prefix_schema, true, NULL),
	CFG_FIELD(struct tessd_dhcp_route, via, "via", &tessd_ip4_schema, true, NULL),
	{ 0 },
};

static const struct cfg_field server_fields[] = {
	CFG_FIELD(struct tessd_dhcp_server_cfg, interface, "interface", &iface_ref_node, true,
		  NULL),
	CFG_ARRAY_FIELD(struct tessd_dhcp_server_cfg, pools, n_pools, "pools",
			CFG_ARR_NODE(CFG_OBJ_NODE(pool_fields, struct tessd_dhcp_range),
				     TESS_DHCP_MAX_POOLS, struct tessd_dhcp_range),
			false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_dhcp_server_cfg, exclude, n_exclude, "exclude",
			CFG_ARR_NODE(CFG_OBJ_NODE(excl_fields, struct tessd_dhcp_range), 256,
				     struct tessd_dhcp_range),
			false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_dhcp_server_cfg, reservations, n_reservations, "reservations",
			CFG_ARR_NODE(CFG_OBJ_NODE(resv_fields, struct tessd_dhcp_resv),
				     TESS_DHCP_MAX_RESV, struct tessd_dhcp_resv),
			false, "[]"),
	CFG_FIELD(struct tessd_dhcp_server_cfg, lease_sec, "lease_sec", CFG_INT_NODE(60, 31536000),
		  false, "3600"),
	CFG_FIELD(struct tessd_dhcp_server_cfg, router, "router", &tessd_opt_ip4_schema, false,
		  "\"\""),
	CFG_ARRAY_FIELD(struct tessd_dhcp_server_cfg, dns, n_dns, "dns",
			CFG_ARR_NODE(&tessd_ip4_schema, TESS_DHCP_MAX_DNS, uint32_t), false, "[]"),
	CFG_FIELD(struct tessd_dhcp_server_cfg, domain, "domain", &text_node, false, "\"\""),
	CFG_FIELD(struct tessd_dhcp_server_cfg, mtu, "mtu", CFG_INT_NODE(0, 65535), false, "0"),
	CFG_ARRAY_FIELD(struct tessd_dhcp_server_cfg, routes, n_routes, "routes",
			CFG_ARR_NODE(CFG_OBJ_NODE(route_fields, struct tessd_dhcp_route),
				     TESS_DHCP_MAX_ROUTES, struct tessd_dhcp_route),
			false, "[]"),
	/* A tenant's share: one interface's clients cannot take every lease of tessd. */
	CFG_FIELD(struct tessd_dhcp_server_cfg, max_leases, "max_leases",
		  CFG_INT_NODE(1, TESS_DHCP_MAX_ADDRS + TESS_DHCP_MAX_RESV), false, "1024"),
	{ 0 },
};

/* Option 82's ids: printable, no quotes or spaces (what logs and the API show as is). */
static const struct cfg_node agent_id_node = {
	.type = CFG_STRING,
	.str = { .max_len = TESS_DHCP_AGENT_ID_LEN - 1,
		 .charset = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:/" },
};

static const struct cfg_field relay_fields[] = {
	CFG_FIELD(struct tessd_dhcp_relay_cfg, interface, "interface", &iface_ref_node, true, NULL),
	CFG_ARRAY_FIELD(struct tessd_dhcp_relay_cfg, servers, n_servers, "servers",
			(&(const struct cfg_node){ .type = CFG_ARRAY,
						   .arr = { .item = &tessd_ip4_schema,
							    .min = 1,
							    .max = TESS_DHCP_RELAY_SERVERS,
							    .item_size = sizeof(uint32_t) } }),
			true, NULL),
	CFG_FIELD(struct tessd_dhcp_relay_cfg, circuit_id, "circuit_id", &agent_id_node, false,
		  "\"\""),
	CFG_FIELD(struct tessd_dhcp_relay_cfg, remote_id, "remote_id", &agent_id_node, false,
		  "\"\""),
	/* RFC 1542 4.1.1: more than 16 relays on the way is a loop. */
	CFG_FIELD(struct tessd_dhcp_relay_cfg, max_hops, "max_hops", CFG_INT_NODE(1, 16), false,
		  "16"),
	{ 0 },
};

static int check_abs_or_empty(const void *val, char *why, size_t len)
{
	const char *s = val;

	if (s[0] && s[0] != '/') {
		snprintf(why, len, "must be an absolute path");
		return EINVAL;
	}
	return 0;
}

static const struct cfg_field dhcp_fields[] = {
	CFG_FIELD(struct tessd_dhcp_cfg, leases_file, "leases_file",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = TESS_PATH_LEN - 1 },
					     .check = check_abs_or_empty }),
		  false, "\"\""),
	CFG_FIELD(struct tessd_dhcp_cfg, save_ms, "save_ms", CFG_INT_NODE(10, 600000), false,
		  "1000"),
	CFG_FIELD(struct tessd_dhcp_cfg, decline_sec, "decline_sec", CFG_INT_NODE(1, 86400), false,
		  "600"),
	CFG_FIELD(struct tessd_dhcp_cfg, offer_sec, "offer_sec", CFG_INT_NODE(1, 3600), false,
		  "60"),
	/* ISC and Kea check an address is unused before offering it: ARP, then this wait. */
	CFG_FIELD(struct tessd_dhcp_cfg, probe_ms, "probe_ms", CFG_INT_NODE(0, 5000), false, "300"),
	/* Lease tables are allocated whole: their sum bounds the memory all tenants share. */
	CFG_FIELD(struct tessd_dhcp_cfg, lease_capacity, "lease_capacity", CFG_INT_NODE(1, 1 << 22),
		  false, "262144"),
	/* A byte per pool address, allocated whole and scanned at a change: bounded together. */
	CFG_FIELD(struct tessd_dhcp_cfg, pool_capacity, "pool_capacity", CFG_INT_NODE(1, 1 << 26),
		  false, "4194304"),
	CFG_ARRAY_FIELD(struct tessd_dhcp_cfg, servers, n_servers, "servers",
			CFG_ARR_NODE(CFG_OBJ_NODE(server_fields, struct tessd_dhcp_server_cfg),
				     8192, struct tessd_dhcp_server_cfg),
			false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_dhcp_cfg, relays, n_relays, "relays",
			CFG_ARR_NODE(CFG_OBJ_NODE(relay_fields, struct tessd_dhcp_relay_cfg), 8192,
				     struct tessd_dhcp_relay_cfg),
			false, "[]"),
	{ 0 },
};
const struct cfg_node tessd_dhcp_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = dhcp_fields, .size = sizeof(struct tessd_dhcp_cfg) },
};

int tessd_dhcp_mark(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit)
{
	int rc;
	uint32_t *order = tessd_cfg_iface_order(cfg, &rc);

	for (uint32_t i = 0; order && i < cfg->dhcp.n_servers; i++) {
		int64_t k = tessd_cfg_iface_find(cfg, order, cfg->dhcp.servers[i].interface);
		if (k >= 0)
			on[k] |= bit;
	}
	for (uint32_t i = 0; order && i < cfg->dhcp.n_relays; i++) {
		int64_t k = tessd_cfg_iface_find(cfg, order, cfg->dhcp.relays[i].interface);
		if (k >= 0)
			on[k] |= bit;
	}
	free(order);
	return rc;
}

const struct tessd_dhcp_relay_cfg *tessd_cfg_dhcp_relay(const struct tessd_cfg *cfg,
							const char *iface)
{
	for (uint32_t i = 0; i < cfg->dhcp.n_relays; i++)
		if (strcmp(cfg->dhcp.relays[i].interface, iface) == 0)
			return &cfg->dhcp.relays[i];
	return NULL;
}

const char *tessd_dhcp_circuit(const struct tessd_dhcp_relay_cfg *rc,
			       const struct tessd_iface_cfg *ic, char *buf, size_t len)
{
	if (rc->circuit_id[0])
		snprintf(buf, len, "%s", rc->circuit_id);
	else if (ic && ic->port[0] && ic->vlan)
		snprintf(buf, len, "%s/%u", ic->port, ic->vlan);
	else if (ic && ic->port[0])
		snprintf(buf, len, "%s", ic->port);
	else
		snprintf(buf, len, "%s", rc->interface); /* a group's: the interface names it */
	return buf;
}

const struct tessd_dhcp_server_cfg *tessd_cfg_dhcp_server(const struct tessd_cfg *cfg,
							  const char *iface)
{
	for (uint32_t i = 0; i < cfg->dhcp.n_servers; i++)
		if (strcmp(cfg->dhcp.servers[i].interface, iface) == 0)
			return &cfg->dhcp.servers[i];
	return NULL;
}

/* ---- rules ---- */

/* The interface's address whose subnet holds ip (its index), or -1. */
static int subnet_of(const struct tessd_iface_cfg *ic, uint32_t ip)
{
	for (uint32_t a = 0; a < ic->n_addresses; a++) {
		uint32_t m = cfg_prefix4_mask(ic->addresses[a].len);
		if ((ip & m) == (ic->addresses[a].ip & m))
			return (int)a;
	}
	return -1;
}

/*
 * Why ip cannot be a client's address on ic ("" if it can): on a subnet of
 * the interface, not its network, broadcast or an address of the interface.
 */
static const char *bad_client_addr(const struct tessd_iface_cfg *ic, uint32_t ip, int *subnet)
{
	int a = subnet_of(ic, ip);
	uint32_t m;

	*subnet = a;
	if (a < 0)
		return "is not on a subnet of the interface";
	m = cfg_prefix4_mask(ic->addresses[a].len);
	if (ic->addresses[a].len >= 31)
		return "is on a /31 or /32, which has no room for clients";
	if ((ip & ~m) == 0)
		return "is the subnet's network address";
	if ((ip & ~m) == ~m)
		return "is the subnet's broadcast address";
	for (uint32_t k = 0; k < ic->n_addresses; k++)
		if (ic->addresses[k].ip == ip)
			return "is the interface's own address";
	return "";
}

#define ERR(code, path_fmt, ...)                                                        \
	do {                                                                            \
		char p_[CFG_PATH_MAX];                                                  \
		snprintf(p_, sizeof(p_), "/dhcp/servers/%u/" path_fmt, i, __VA_ARGS__); \
		cfg_err_add(errs, code, p_, "%s %s", ipbuf, why);                       \
	} while (0)

static void validate_range(const struct tessd_iface_cfg *ic, uint32_t i, const char *key,
			   uint32_t k, const struct tessd_dhcp_range *r, bool pool,
			   struct cfg_errs *errs)
{
	char ipbuf[TESS_IP4_LEN], path[CFG_PATH_MAX];
	uint32_t end = r->end ? r->end : r->start;
	int s1, s2;
	const char *why;

	snprintf(path, sizeof(path), "/dhcp/servers/%u/%s/%u", i, key, k);
	if (end < r->start) {
		cfg_err_add(errs, EINVAL, path, "end is before start");
		return;
	}
	if (!pool)
		return; /* exclusions may name anything: what is outside pools is never given */
	cfg_fmt_ip4(r->start, ipbuf, sizeof(ipbuf));
	why = bad_client_addr(ic, r->start, &s1);
	if (why[0]) {
		ERR(EINVAL, "%s/%u/start", key, k);
		return;
	}
	cfg_fmt_ip4(end, ipbuf, sizeof(ipbuf));
	why = bad_client_addr(ic, end, &s2);
	if (why[0]) {
		ERR(EINVAL, "%s/%u/end", key, k);
		return;
	}
	if (s1 != s2) {
		cfg_err_add(errs, EINVAL, path, "start and end are on different subnets");
		return;
	}
	for (uint32_t a = 0; a < ic->n_addresses; a++) {
		if (ic->addresses[a].ip > r->start && ic->addresses[a].ip < end) {
			cfg_fmt_ip4(ic->addresses[a].ip, ipbuf, sizeof(ipbuf));
			cfg_err_add(errs, EINVAL, path,
				    "holds the interface's own address %s: exclude it or split the "
				    "pool",
				    ipbuf);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The largest DHCP message a server sends with sc (vrf/dhcp/dhcp_proto.c's
 * layout): every client accepts 548 bytes (a 576-byte IP datagram less
 * headers, RFC 2131 2), so a config whose replies may not fit is refused.
 */
#define DHCP_MSG_FITS 548
static uint64_t reply_worst(const struct tessd_dhcp_server_cfg *sc)
{
	/* Fixed part and cookie 240; options 53, 54, 51, 58, 59, 1, 28, 3; end. */
	uint64_t n = 240 + 3 + 6 + 3 * 6 + 3 * 6 + 1;
	size_t host = 0;
	bool dflt = false;

	if (sc->n_dns)
		n += 2 + 4 * (uint64_t)sc->n_dns;
	if (sc->domain[0])
		n += 2 + strlen(sc->domain);
	for (uint32_t k = 0; k < sc->n_reservations; k++)
		if (strlen(sc->reservations[k].hostname) > host)
			host = strlen(sc->reservations[k].hostname);
	if (host)
		n += 2 + host;
	if (sc->mtu)
		n += 4;
	if (sc->n_routes) {
		n += 2;
		for (uint32_t k = 0; k < sc->n_routes; k++) {
			n += 1 + (sc->routes[k].prefix.len + 7u) / 8 + 4;
			dflt |= sc->routes[k].prefix.len == 0;
		}
		if (!dflt)
			n += 5; /* the default route added (RFC 3442) */
	}
	return n;
}

static void validate_server(const struct tessd_cfg *cfg, const uint32_t *order, uint32_t i,
			    struct cfg_errs *errs)
{
	const struct tessd_dhcp_server_cfg *sc = &cfg->dhcp.servers[i];
	int64_t at = tessd_cfg_iface_find(cfg, order, sc->interface);
	const struct tessd_iface_cfg *ic = at >= 0 ? &cfg->router.interfaces[at] : NULL;
	char path[CFG_PATH_MAX], ipbuf[TESS_IP4_LEN];
	uint64_t total = 0;

	if (ic == NULL)
		return; /* cfg_check_refs says so */
	if (ic->n_addresses == 0) {
		snprintf(path, sizeof(path), "/dhcp/servers/%u/interface", i);
		cfg_err_add(errs, EINVAL, path, "interface %s has no address to serve from",
			    ic->name);
		return;
	}
	for (uint32_t k = 0; k < sc->n_pools; k++) {
		const struct tessd_dhcp_range *r = &sc->pools[k];
		validate_range(ic, i, "pools", k, r, true, errs);
		if (r->end >= r->start)
			total += (uint64_t)r->end - r->start + 1;
		for (uint32_t j = 0; j < k; j++) {
			if (r->start <= sc->pools[j].end && sc->pools[j].start <= r->end) {
				snprintf(path, sizeof(path), "/dhcp/servers/%u/pools/%u", i, k);
				cfg_err_add(errs, EINVAL, path, "overlaps pool %u", j);
			}
		}
	}
	if (total > TESS_DHCP_MAX_ADDRS) {
		snprintf(path, sizeof(path), "/dhcp/servers/%u/pools", i);
		cfg_err_add(errs, E2BIG, path, "%llu addresses: at most %u per server",
			    (unsigned long long)total, TESS_DHCP_MAX_ADDRS);
	}
	for (uint32_t k = 0; k < sc->n_exclude; k++)
		validate_range(ic, i, "exclude", k, &sc->exclude[k], false, errs);
	/* Reservations: on the subnet, each MAC and address once (sorted keys). */
	uint64_t *keys = sc->n_reservations ? malloc(2 * sc->n_reservations * sizeof(*keys)) : NULL;
	for (uint32_t k = 0; k < sc->n_reservations; k++) {
		const struct tessd_dhcp_resv *rv = &sc->reservations[k];
		const char *why;
		int sub;
		uint64_t mac = 0;

		cfg_fmt_ip4(rv->address, ipbuf, sizeof(ipbuf));
		why = bad_client_addr(ic, rv->address, &sub);
		if (why[0])
			ERR(EINVAL, "reservations/%u/address", k);
		for (int b = 0; b < 6; b++)
			mac = mac << 8 | rv->mac.b[b];
		if (keys) {
			keys[k] = mac << 16 | k; /* by MAC */
			keys[sc->n_reservations + k] =
				(uint64_t)rv->address << 16 | k; /* by address */
		}
	}
	if (keys) {
		uint32_t n = sc->n_reservations;
		qsort(keys, n, sizeof(*keys), cmp_u64);
		qsort(keys + n, n, sizeof(*keys), cmp_u64);
		for (uint32_t k = 1; k < n; k++) {
			if (keys[k] >> 16 == keys[k - 1] >> 16) {
				snprintf(path, sizeof(path), "/dhcp/servers/%u/reservations/%u/mac",
					 i, (unsigned)(keys[k] & 0xffff));
				cfg_err_add(errs, EEXIST, path,
					    "MAC already reserved (reservation %u)",
					    (unsigned)(keys[k - 1] & 0xffff));
			}
			if (keys[n + k] >> 16 == keys[n + k - 1] >> 16) {
				snprintf(path, sizeof(path),
					 "/dhcp/servers/%u/reservations/%u/address", i,
					 (unsigned)(keys[n + k] & 0xffff));
				cfg_err_add(errs, EEXIST, path,
					    "address already reserved (reservation %u)",
					    (unsigned)(keys[n + k - 1] & 0xffff));
			}
		}
		free(keys);
	} else if (sc->n_reservations) {
		cfg_err_add(errs, ENOMEM, "/dhcp", "no memory to check reservations");
	}
	for (uint32_t k = 0; k < sc->n_routes; k++) {
		const struct tessd_dhcp_route *r = &sc->routes[k];
		if (r->prefix.ip & ~cfg_prefix4_mask(r->prefix.len)) {
			snprintf(path, sizeof(path), "/dhcp/servers/%u/routes/%u/prefix", i, k);
			cfg_err_add(errs, EINVAL, path, "has host bits set");
		}
	}
	if (sc->mtu && sc->mtu < 68) {
		snprintf(path, sizeof(path), "/dhcp/servers/%u/mtu", i);
		cfg_err_add(errs, EINVAL, path, "at least 68 (RFC 791), or 0: not sent");
	}
	uint64_t big = reply_worst(sc);
	if (big > DHCP_MSG_FITS) {
		snprintf(path, sizeof(path), "/dhcp/servers/%u", i);
		cfg_err_add(
			errs, E2BIG, path,
			"its largest reply is %llu bytes, more than the %u every client accepts: "
			"shorten domain or the reservations' hostnames, or trim routes or dns",
			(unsigned long long)big, DHCP_MSG_FITS);
	}
}

/* Why relay server ip cannot be one ("" if it can): a unicast address, not the interface's. */
static const char *bad_relay_server(const struct tessd_iface_cfg *ic, uint32_t ip)
{
	if (ip == 0 || ip == UINT32_MAX)
		return "is not a unicast address";
	if ((ip >> 28) >= 0xe)
		return "is a multicast or reserved address";
	if ((ip >> 24) == 127)
		return "is a loopback address";
	for (uint32_t a = 0; a < ic->n_addresses; a++) {
		uint32_t m = cfg_prefix4_mask(ic->addresses[a].len);
		if (ic->addresses[a].ip == ip)
			return "is the relay interface's own address";
		if (ic->addresses[a].len < 31 && (ip & ~m) == ~m &&
		    (ip & m) == (ic->addresses[a].ip & m))
			return "is the relay interface's subnet broadcast";
	}
	return "";
}

static void validate_relay(const struct tessd_cfg *cfg, uint32_t i, int64_t at,
			   struct cfg_errs *errs)
{
	const struct tessd_dhcp_relay_cfg *rc = &cfg->dhcp.relays[i];
	const struct tessd_iface_cfg *ic = &cfg->router.interfaces[at];
	char path[CFG_PATH_MAX], ipbuf[TESS_IP4_LEN];

	if (ic->n_addresses == 0) {
		snprintf(path, sizeof(path), "/dhcp/relays/%u/interface", i);
		cfg_err_add(errs, EINVAL, path,
			    "interface %s has no address to relay from (giaddr)", ic->name);
		return;
	}
	for (uint32_t k = 0; k < rc->n_servers; k++) {
		const char *why = bad_relay_server(ic, rc->servers[k]);
		snprintf(path, sizeof(path), "/dhcp/relays/%u/servers/%u", i, k);
		cfg_fmt_ip4(rc->servers[k], ipbuf, sizeof(ipbuf));
		if (why[0])
			cfg_err_add(errs, EINVAL, path, "%s %s", ipbuf, why);
		for (uint32_t j = 0; j < k; j++)
			if (rc->servers[j] == rc->servers[k])
				cfg_err_add(errs, EEXIST, path, "%s is already server %u", ipbuf,
					    j);
	}
}

/*
 * Relays: an interface has a server or a relay, not both, and one relay
 * (by interface index: configs may hold thousands of each).
 */
static void validate_relays(const struct tessd_cfg *cfg, const uint32_t *order,
			    struct cfg_errs *errs)
{
	uint32_t n = cfg->router.n_interfaces;
	int64_t *srv = n ? malloc(2 * n * sizeof(*srv)) : NULL, *rel = srv ? srv + n : NULL;
	char path[CFG_PATH_MAX];

	if (cfg->dhcp.n_relays == 0)
		goto out;
	if (srv == NULL) {
		cfg_err_add(errs, ENOMEM, "/dhcp/relays", "no memory to check the relays");
		goto out;
	}
	for (uint32_t k = 0; k < 2 * n; k++)
		srv[k] = -1;
	for (uint32_t i = 0; i < cfg->dhcp.n_servers; i++) {
		int64_t at = tessd_cfg_iface_find(cfg, order, cfg->dhcp.servers[i].interface);
		if (at >= 0 && srv[at] < 0)
			srv[at] = i;
	}
	for (uint32_t i = 0; i < cfg->dhcp.n_relays; i++) {
		const char *name = cfg->dhcp.relays[i].interface;
		int64_t at = tessd_cfg_iface_find(cfg, order, name);

		if (at < 0)
			continue; /* cfg_check_refs says so */
		snprintf(path, sizeof(path), "/dhcp/relays/%u/interface", i);
		if (srv[at] >= 0) {
			cfg_err_add(errs, EEXIST, path,
				    "interface %s has a DHCP server (/dhcp/servers/%lld): a server "
				    "or a relay, not both",
				    name, (long long)srv[at]);
			continue;
		}
		if (rel[at] >= 0) {
			cfg_err_add(errs, EEXIST, path,
				    "interface %s already has a DHCP relay (/dhcp/relays/%lld)",
				    name, (long long)rel[at]);
			continue;
		}
		rel[at] = i;
		validate_relay(cfg, i, at, errs);
	}
out:
	free(srv);
}

int tessd_dhcp_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;
	uint64_t sum = 0, addrs = 0;
	int rc;
	uint32_t *order = tessd_cfg_iface_order(cfg, &rc);

	if (rc < 0) {
		cfg_err_add(errs, ENOMEM, "/dhcp", "no memory to check the DHCP config");
		return rc;
	}
	/* One server per interface. */
	cfg_check_unique(cfg->dhcp.servers, cfg->dhcp.n_servers, sizeof(*cfg->dhcp.servers),
			 offsetof(struct tessd_dhcp_server_cfg, interface), "/dhcp/servers",
			 "interface", "a DHCP server", errs);
	validate_relays(cfg, order, errs);
	/* An offer must outlive its probe, or a probed address is never offered. */
	if ((uint64_t)cfg->dhcp.offer_sec * 1000 <= cfg->dhcp.probe_ms)
		cfg_err_add(
			errs, EINVAL, "/dhcp/probe_ms",
			"%u ms is not shorter than offer_sec (%u s): the offer would end before "
			"the probe",
			cfg->dhcp.probe_ms, cfg->dhcp.offer_sec);
	for (uint32_t i = 0; i < cfg->dhcp.n_servers; i++) {
		const struct tessd_dhcp_server_cfg *sc = &cfg->dhcp.servers[i];
		uint64_t before_addrs = addrs;
		validate_server(cfg, order, i, errs);
		for (uint32_t k = 0; k < sc->n_pools; k++)
			if (sc->pools[k].end >= sc->pools[k].start)
				addrs += (uint64_t)sc->pools[k].end - sc->pools[k].start + 1;
		if (addrs > cfg->dhcp.pool_capacity && before_addrs <= cfg->dhcp.pool_capacity) {
			char path[CFG_PATH_MAX];
			snprintf(path, sizeof(path), "/dhcp/servers/%u/pools", i);
			cfg_err_add(errs, ENOSPC, path,
				    "the servers' pools add up to %llu addresses, past "
				    "dhcp.pool_capacity (%u)",
				    (unsigned long long)addrs, cfg->dhcp.pool_capacity);
		}
		sum += cfg->dhcp.servers[i].max_leases;
		if (sum > cfg->dhcp.lease_capacity &&
		    sum - cfg->dhcp.servers[i].max_leases <= cfg->dhcp.lease_capacity) {
			char path[CFG_PATH_MAX];
			snprintf(path, sizeof(path), "/dhcp/servers/%u/max_leases", i);
			cfg_err_add(errs, ENOSPC, path,
				    "the servers' max_leases add up past dhcp.lease_capacity (%u)",
				    cfg->dhcp.lease_capacity);
		}
	}
	free(order);
	cfg_check_refs_in(&tessd_cfg_schema, cfg, "dhcp", errs);
	return errs->n == before ? 0 : -EINVAL;
}
