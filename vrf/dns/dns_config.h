/* SPDX-License-Identifier: BSD-3-Clause */
/* The DNS section of tessd's config (dns_config.c): responders of router interfaces. */
#ifndef TESS_DNS_CONFIG_H
#define TESS_DNS_CONFIG_H

#include "tessd_base.h"

#define TESS_DNS_MAX_FWD    4
#define TESS_DNS_MAX_STATIC 1024 /* configured records of one server */
#define TESS_DNS_NAME_LEN   256  /* a domain name, dotted (255 + NUL) */
#define TESS_DNS_LABEL_LEN  64   /* a label (63 + NUL) */
#define TESS_DNS_MAX_DENY   16   /* deny_names of one server */

struct tessd_dns_record {
	char name[TESS_DNS_NAME_LEN]; /* relative to the zone */
	uint32_t address;
};

struct tessd_dns_server_cfg {
	char interface[TESS_NAME_LEN];
	char domain[TESS_DNS_NAME_LEN]; /* the zone; "": the DHCP server's domain */
	uint32_t *forwarders;
	uint32_t n_forwarders;
	struct tessd_dns_record *records;
	uint32_t n_records;
	uint32_t ttl;
	uint32_t max_records; /* static and dynamic together */
	uint32_t qps;         /* queries answered per second */
	uint32_t max_pending; /* forwarded queries waiting for an answer */
	uint32_t forward_timeout_ms;
	uint32_t tcp_conns; /* TCP connections open at once; 0: no TCP */
	uint32_t tcp_timeout_ms;
	char (*deny_names)[TESS_DNS_LABEL_LEN]; /* host labels never published from leases */
	uint32_t n_deny_names;
};

struct tessd_dns_cfg {
	uint32_t record_capacity; /* the servers' max_records together, at most */
	uint32_t vrf_qps;         /* queries answered per second by a VRF's servers together */
	struct tessd_dns_server_cfg *servers;
	uint32_t n_servers;
};

extern const struct cfg_node tessd_dns_schema;
/*
 * Its section of tessd's config: struct tessd_cfg's member, the JSON key, the
 * type and the schema (registered by vrf/dns/meson.build, see config/tessd_config.h).
 */
#define TESSD_DNS_SECTION(OBJ, ARR) OBJ(dns, "dns", struct tessd_dns_cfg, tessd_dns_schema)

/* The DNS section's rules past the schema's. */
int tessd_dns_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* Sets bit in on[i] for each router interface i with a DNS server; -ENOMEM. */
int tessd_dns_mark(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit);
const struct tessd_dns_server_cfg *tessd_cfg_dns_server(const struct tessd_cfg *cfg,
							const char *iface);
/* The zone of sc: its domain, else the DHCP server's of its interface ("": none). */
const char *tessd_dns_zone(const struct tessd_cfg *cfg, const struct tessd_dns_server_cfg *sc);

#endif
