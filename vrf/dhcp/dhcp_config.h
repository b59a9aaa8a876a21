/* SPDX-License-Identifier: BSD-3-Clause */
/* The DHCP section of tessd's config (dhcp_config.c): servers and relays of router interfaces. */
#ifndef TESS_DHCP_CONFIG_H
#define TESS_DHCP_CONFIG_H

#include "tessd_base.h"

#define TESS_DHCP_MAX_POOLS  16
#define TESS_DHCP_MAX_DNS    4
#define TESS_DHCP_MAX_ROUTES 16
#define TESS_DHCP_TEXT_LEN   64    /* domain, host names (63 + NUL) */
#define TESS_DHCP_MAX_ADDRS  65536 /* pool addresses of one server */
#define TESS_DHCP_MAX_RESV   4096

struct tessd_dhcp_range {
	uint32_t start, end; /* host order; end 0 (exclusions): start only */
};

struct tessd_dhcp_resv {
	struct cfg_mac mac;
	uint32_t address;
	char hostname[TESS_DHCP_TEXT_LEN];
};

struct tessd_dhcp_route {
	struct cfg_prefix4 prefix;
	uint32_t via;
};

struct tessd_dhcp_server_cfg {
	char interface[TESS_NAME_LEN];
	struct tessd_dhcp_range *pools;
	uint32_t n_pools;
	struct tessd_dhcp_range *exclude;
	uint32_t n_exclude;
	struct tessd_dhcp_resv *reservations;
	uint32_t n_reservations;
	uint32_t lease_sec;
	uint32_t router; /* option 3; 0: the interface's address */
	uint32_t *dns;
	uint32_t n_dns;
	char domain[TESS_DHCP_TEXT_LEN];
	uint32_t mtu;                    /* option 26; 0: not sent */
	struct tessd_dhcp_route *routes; /* option 121 */
	uint32_t n_routes;
	uint32_t max_leases;
};

#define TESS_DHCP_RELAY_SERVERS 8
#define TESS_DHCP_AGENT_ID_LEN  64 /* option 82's circuit and remote ids (63 + NUL) */

/* A DHCP relay on an interface (instead of a server): to the tenant's own servers. */
struct tessd_dhcp_relay_cfg {
	char interface[TESS_NAME_LEN];
	uint32_t *servers; /* host order; each gets every request */
	uint32_t n_servers;
	char circuit_id[TESS_DHCP_AGENT_ID_LEN]; /* "": port/VLAN, or the interface's name */
	char remote_id[TESS_DHCP_AGENT_ID_LEN];  /* "": the interface's MAC */
	uint32_t max_hops;                       /* requests with more hops are dropped */
};

struct tessd_dhcp_cfg {
	char leases_file[TESS_PATH_LEN]; /* "": next to the startup config */
	uint32_t save_ms;                /* lease changes written at most this often */
	uint32_t decline_sec;            /* a declined address is not offered this long */
	uint32_t offer_sec;              /* an offer holds its address this long */
	uint32_t lease_capacity;         /* the servers' max_leases together, at most */
	uint32_t pool_capacity;          /* the servers' pool addresses together, at most */
	uint32_t probe_ms;               /* ARP probe of a new address before its offer; 0: none */
	struct tessd_dhcp_server_cfg *servers;
	uint32_t n_servers;
	struct tessd_dhcp_relay_cfg *relays;
	uint32_t n_relays;
};

struct tessd_iface_cfg;
extern const struct cfg_node tessd_dhcp_schema;
/*
 * Its section of tessd's config: struct tessd_cfg's member, the JSON key, the
 * type and the schema (registered by vrf/dhcp/meson.build, see config/tessd_config.h).
 */
#define TESSD_DHCP_SECTION(OBJ, ARR) OBJ(dhcp, "dhcp", struct tessd_dhcp_cfg, tessd_dhcp_schema)

/* The DHCP section's rules past the schema's (pools in the interface's subnet...). */
int tessd_dhcp_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* Sets bit in on[i] for each router interface i with a server or a relay; -ENOMEM. */
int tessd_dhcp_mark(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit);
const struct tessd_dhcp_server_cfg *tessd_cfg_dhcp_server(const struct tessd_cfg *cfg,
							  const char *iface);
const struct tessd_dhcp_relay_cfg *tessd_cfg_dhcp_relay(const struct tessd_cfg *cfg,
							const char *iface);
/* The circuit id relay rc sends (configured, else port/VLAN or the interface's name) into buf. */
const char *tessd_dhcp_circuit(const struct tessd_dhcp_relay_cfg *rc,
			       const struct tessd_iface_cfg *ic, char *buf, size_t len);

#endif
