/* SPDX-License-Identifier: BSD-3-Clause */
/* The host vswitch section of tessd's config (switch_config.c): groups, static MACs. */
#ifndef TESS_SWITCH_CONFIG_H
#define TESS_SWITCH_CONFIG_H

#include "tessd_base.h"

struct tessd_static_mac {
	struct cfg_mac mac;
	char port[TESS_NAME_LEN];
};

struct tessd_group_cfg {
	char name[TESS_NAME_LEN];
	char tenant[TESS_TENANT_LEN];
	uint16_t vlan;
	uint32_t mac_limit;
	bool flood_unknown_unicast;
	bool flood_multicast;
	bool ipv4_only;          /* access ports: only IPv4 and ARP */
	bool dhcp_guard;         /* access ports: no DHCP server messages */
	uint32_t *protected_ips; /* access ports may not use these (host order) */
	uint32_t n_protected_ips;
	struct tessd_static_mac *static_macs;
	uint32_t n_static_macs;
};

struct tessd_switch_cfg {
	uint32_t aging_sec; /* 0: never */
	uint32_t fdb_size;
	struct tessd_group_cfg *groups;
	uint32_t n_groups;
};

extern const struct cfg_node tessd_switch_schema;
/*
 * Its section of tessd's config: struct tessd_cfg's member, the JSON key, the
 * type and the schema (registered by vswitch/meson.build, see config/tessd_config.h).
 */
#define TESSD_SWITCH_SECTION(OBJ, ARR) \
	OBJ(sw, "switch", struct tessd_switch_cfg, tessd_switch_schema)

extern const struct cfg_node tessd_group_schema;
extern const struct cfg_node tessd_static_mac_schema;
const struct tessd_group_cfg *tessd_cfg_group(const struct tessd_cfg *cfg, const char *name);
struct tessd_port_cfg;
/* Whether port p is an access port of group g or a trunk carrying it. */
bool tessd_port_in_group(const struct tessd_port_cfg *p, const struct tessd_group_cfg *g);

#endif
