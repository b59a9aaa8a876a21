/* SPDX-License-Identifier: BSD-3-Clause */
/* The DNS responder part of tessd's config (the module is vrf/dns): one server per interface. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tessd_config.h"

static const struct cfg_node iface_ref_node = {
	.type = CFG_REF,
	.str = { .min_len = 1, .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
	.ref = { .table = "/router/interfaces", .key = "name", .what = "interface" },
};

/* Labels of 1 to 63 characters between dots, none leading or trailing (RFC 1035 2.3.4). */
static int check_name(const void *val, char *why, size_t len)
{
	const char *s = val;
	size_t run = 0;

	if (s[0] == '\0')
		return 0;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (run == 0 || run > 63) {
				snprintf(why, len, "labels are 1 to 63 characters between dots");
				return EINVAL;
			}
			if (*p == '\0')
				return 0;
			run = 0;
		} else {
			run++;
		}
	}
}

#define NAME_CHARSET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."
/* hostmaster.<zone>, the SOA's mailbox, is a name of at most 253 characters too. */
#define ZONE_MAX 242
static const struct cfg_node domain_node = {
	.type = CFG_STRING,
	.str = { .max_len = ZONE_MAX, .charset = NAME_CHARSET },
	.check = check_name,
};
/* One label, no dot: a DHCP client's host name is matched whole. */
static const struct cfg_node label_node = {
	.type = CFG_STRING,
	.str = { .min_len = 1,
		 .max_len = TESS_DNS_LABEL_LEN - 1,
		 .charset = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-" },
};
static const struct cfg_node record_name_node = {
	.type = CFG_STRING,
	.str = { .min_len = 1, .max_len = 253, .charset = NAME_CHARSET },
	.check = check_name,
};

static const struct cfg_field record_fields[] = {
	CFG_FIELD(struct tessd_dns_record, name, "name", &record_name_node, true, NULL),
	CFG_FIELD(struct tessd_dns_record, address, "address", &tessd_ip4_schema, true, NULL),
	{ 0 },
};

static const struct cfg_field server_fields[] = {
	CFG_FIELD(struct tessd_dns_server_cfg, interface, "interface", &iface_ref_node, true, NULL),
	CFG_FIELD(struct tessd_dns_server_cfg, domain, "domain", &domain_node, false, "\"\""),
	CFG_ARRAY_FIELD(struct tessd_dns_server_cfg, forwarders, n_forwarders, "forwarders",
			CFG_ARR_NODE(&tessd_ip4_schema, TESS_DNS_MAX_FWD, uint32_t), false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_dns_server_cfg, records, n_records, "records",
			CFG_ARR_NODE(CFG_OBJ_NODE(record_fields, struct tessd_dns_record),
				     TESS_DNS_MAX_STATIC, struct tessd_dns_record),
			false, "[]"),
	CFG_FIELD(struct tessd_dns_server_cfg, ttl, "ttl", CFG_INT_NODE(0, 86400), false, "60"),
	/* A tenant's share: its clients' host names cannot fill every table of tessd. */
	CFG_FIELD(struct tessd_dns_server_cfg, max_records, "max_records", CFG_INT_NODE(1, 65536),
		  false, "1024"),
	CFG_FIELD(struct tessd_dns_server_cfg, qps, "qps", CFG_INT_NODE(1, 100000), false, "1000"),
	CFG_FIELD(struct tessd_dns_server_cfg, max_pending, "max_pending", CFG_INT_NODE(1, 4096),
		  false, "128"),
	CFG_FIELD(struct tessd_dns_server_cfg, forward_timeout_ms, "forward_timeout_ms",
		  CFG_INT_NODE(100, 30000), false, "2000"),
	/* DNS over TCP: a connection slot each, for one query and its answer (RFC 7766). */
	CFG_FIELD(struct tessd_dns_server_cfg, tcp_conns, "tcp_conns", CFG_INT_NODE(0, 64), false,
		  "8"),
	CFG_FIELD(struct tessd_dns_server_cfg, tcp_timeout_ms, "tcp_timeout_ms",
		  CFG_INT_NODE(100, 60000), false, "5000"),
	/* Names a client could hijack others' traffic with (WPAD, ISATAP proxies). */
	CFG_ARRAY_FIELD(struct tessd_dns_server_cfg, deny_names, n_deny_names, "deny_names",
			CFG_ARR_NODE(&label_node, TESS_DNS_MAX_DENY, char[TESS_DNS_LABEL_LEN]),
			false, "[\"wpad\", \"isatap\"]"),
	{ 0 },
};

static const struct cfg_field dns_fields[] = {
	/* Record tables are allocated whole: their sum bounds the memory all tenants share. */
	CFG_FIELD(struct tessd_dns_cfg, record_capacity, "record_capacity",
		  CFG_INT_NODE(1, 1 << 22), false, "262144"),
	CFG_FIELD(struct tessd_dns_cfg, vrf_qps, "vrf_qps", CFG_INT_NODE(1, 1000000), false,
		  "5000"),
	CFG_ARRAY_FIELD(struct tessd_dns_cfg, servers, n_servers, "servers",
			CFG_ARR_NODE(CFG_OBJ_NODE(server_fields, struct tessd_dns_server_cfg), 8192,
				     struct tessd_dns_server_cfg),
			false, "[]"),
	{ 0 },
};
const struct cfg_node tessd_dns_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = dns_fields, .size = sizeof(struct tessd_dns_cfg) },
};

int tessd_dns_mark(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit)
{
	int rc;
	uint32_t *order = tessd_cfg_iface_order(cfg, &rc);

	for (uint32_t i = 0; order && i < cfg->dns.n_servers; i++) {
		int64_t k = tessd_cfg_iface_find(cfg, order, cfg->dns.servers[i].interface);
		if (k >= 0)
			on[k] |= bit;
	}
	free(order);
	return rc;
}

const struct tessd_dns_server_cfg *tessd_cfg_dns_server(const struct tessd_cfg *cfg,
							const char *iface)
{
	for (uint32_t i = 0; i < cfg->dns.n_servers; i++)
		if (strcmp(cfg->dns.servers[i].interface, iface) == 0)
			return &cfg->dns.servers[i];
	return NULL;
}

const char *tessd_dns_zone(const struct tessd_cfg *cfg, const struct tessd_dns_server_cfg *sc)
{
	const struct tessd_dhcp_server_cfg *d;

	if (sc->domain[0])
		return sc->domain;
	d = tessd_cfg_dhcp_server(cfg, sc->interface);
	return d ? d->domain : "";
}

/* ---- rules ---- */

static int cmp_name(const void *a, const void *b, void *arg)
{
	const struct tessd_dns_server_cfg *sc = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcasecmp(sc->records[x].name, sc->records[y].name);

	return c ? c : (x > y) - (x < y);
}

static void validate_records(const struct tessd_dns_server_cfg *sc, uint32_t i, size_t zlen,
			     struct cfg_errs *errs)
{
	uint32_t n = sc->n_records;
	uint32_t *o;
	char path[CFG_PATH_MAX];

	if (n == 0)
		return;
	o = malloc(n * sizeof(*o));
	if (o == NULL) {
		cfg_err_add(errs, ENOMEM, "/dns", "no memory to check records");
		return;
	}
	for (uint32_t k = 0; k < n; k++) {
		o[k] = k;
		if (strlen(sc->records[k].name) + 1 + zlen > 253) {
			snprintf(path, sizeof(path), "/dns/servers/%u/records/%u/name", i, k);
			cfg_err_add(errs, EINVAL, path,
				    "with the zone the name is longer than 253 characters");
		}
	}
	/* Names are case-insensitive: each once (sorted: a server may hold a thousand). */
	qsort_r(o, n, sizeof(*o), cmp_name, (void *)sc);
	for (uint32_t k = 1; k < n; k++) {
		if (strcasecmp(sc->records[o[k]].name, sc->records[o[k - 1]].name))
			continue;
		snprintf(path, sizeof(path), "/dns/servers/%u/records/%u/name", i, o[k]);
		cfg_err_add(errs, EEXIST, path, "name already has a record (records/%u)", o[k - 1]);
	}
	free(o);
	if (n > sc->max_records) {
		snprintf(path, sizeof(path), "/dns/servers/%u/records", i);
		cfg_err_add(errs, ENOSPC, path, "%u records, more than max_records (%u)", n,
			    sc->max_records);
	}
}

/* A zone taken from the DHCP server's domain: the rules of dns.domain, at its path. */
static void check_dhcp_zone(const struct tessd_cfg *cfg, const struct tessd_dns_server_cfg *sc,
			    struct cfg_errs *errs)
{
	/* Its length needs no check: a DHCP domain is at most 63 characters. */
	const struct tessd_dhcp_server_cfg *d = tessd_cfg_dhcp_server(cfg, sc->interface);
	char path[CFG_PATH_MAX], why[96];
	int rc;

	if (sc->domain[0] || d == NULL || d->domain[0] == '\0')
		return; /* its own domain, checked as dns.domain; or none (said elsewhere) */
	rc = check_name(d->domain, why, sizeof(why));
	if (rc == 0 && strspn(d->domain, NAME_CHARSET) != strlen(d->domain)) {
		snprintf(why, sizeof(why), "letters, digits, '-' and '.' only");
		rc = EINVAL;
	}
	if (rc == 0)
		return;
	snprintf(path, sizeof(path), "/dhcp/servers/%u/domain", (unsigned)(d - cfg->dhcp.servers));
	cfg_err_add(errs, EINVAL, path, "the DNS zone of %s: %s", sc->interface, why);
}

static void validate_server(const struct tessd_cfg *cfg, const uint32_t *order, uint32_t i,
			    struct cfg_errs *errs)
{
	const struct tessd_dns_server_cfg *sc = &cfg->dns.servers[i];
	int64_t at = tessd_cfg_iface_find(cfg, order, sc->interface);
	const struct tessd_iface_cfg *ic = at >= 0 ? &cfg->router.interfaces[at] : NULL;
	const char *zone = tessd_dns_zone(cfg, sc);
	char path[CFG_PATH_MAX];

	if (ic == NULL)
		return; /* cfg_check_refs says so */
	if (ic->n_addresses == 0) {
		snprintf(path, sizeof(path), "/dns/servers/%u/interface", i);
		cfg_err_add(errs, EINVAL, path, "interface %s has no address to answer on",
			    ic->name);
	}
	if (zone[0] == '\0') {
		snprintf(path, sizeof(path), "/dns/servers/%u/domain", i);
		cfg_err_add(errs, EINVAL, path,
			    "no zone: set it, or a domain in the DHCP server of %s", ic->name);
	}
	check_dhcp_zone(cfg, sc, errs);
	for (uint32_t k = 0; k < sc->n_forwarders; k++) {
		uint32_t f = sc->forwarders[k];
		const char *why = NULL;

		if (f == 0 || f == UINT32_MAX || (f >> 24) == 127 || (f >> 28) >= 14)
			why = "is not a unicast address";
		for (uint32_t a = 0; why == NULL && a < ic->n_addresses; a++)
			if (ic->addresses[a].ip == f)
				why = "is the server's own address (a loop)";
		if (why) {
			snprintf(path, sizeof(path), "/dns/servers/%u/forwarders/%u", i, k);
			cfg_err_add(errs, EINVAL, path, "%s", why);
		}
	}
	validate_records(sc, i, strlen(zone), errs);
}

int tessd_dns_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;
	uint64_t sum = 0;
	int rc;
	uint32_t *order = tessd_cfg_iface_order(cfg, &rc);

	if (rc < 0) {
		cfg_err_add(errs, ENOMEM, "/dns", "no memory to check the DNS config");
		return rc;
	}
	/* One server per interface. */
	cfg_check_unique(cfg->dns.servers, cfg->dns.n_servers, sizeof(*cfg->dns.servers),
			 offsetof(struct tessd_dns_server_cfg, interface), "/dns/servers",
			 "interface", "a DNS server", errs);
	for (uint32_t i = 0; i < cfg->dns.n_servers; i++) {
		validate_server(cfg, order, i, errs);
		sum += cfg->dns.servers[i].max_records;
		if (sum > cfg->dns.record_capacity &&
		    sum - cfg->dns.servers[i].max_records <= cfg->dns.record_capacity) {
			char path[CFG_PATH_MAX];
			snprintf(path, sizeof(path), "/dns/servers/%u/max_records", i);
			cfg_err_add(errs, ENOSPC, path,
				    "the servers' max_records add up past dns.record_capacity (%u)",
				    cfg->dns.record_capacity);
		}
	}
	free(order);
	cfg_check_refs_in(&tessd_cfg_schema, cfg, "dns", errs);
	return errs->n == before ? 0 : -EINVAL;
}
