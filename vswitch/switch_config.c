/* SPDX-License-Identifier: BSD-3-Clause */
/* The host vswitch part of tessd's config: groups, static MACs, ports' membership. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tessd_config.h"

static const struct cfg_field static_mac_fields[] = {
	CFG_FIELD(struct tessd_static_mac, mac, "mac", &tessd_mac_schema, true, NULL),
	CFG_FIELD(struct tessd_static_mac, port, "port", &tessd_port_ref_schema, true, NULL),
	{ 0 },
};
const struct cfg_node tessd_static_mac_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = static_mac_fields, .size = sizeof(struct tessd_static_mac) },
};
static const struct cfg_node static_macs_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_static_mac_schema,
		 .max = 4096,
		 .item_size = sizeof(struct tessd_static_mac) },
};
static const struct cfg_node bool_node = { .type = CFG_BOOL };
static const struct cfg_node protected_ips_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_ip4_schema,
		 .max = TESS_PROTECTED_IPS,
		 .item_size = sizeof(uint32_t) },
};

static const struct cfg_field group_fields[] = {
	CFG_FIELD(struct tessd_group_cfg, name, "name", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_group_cfg, tenant, "tenant",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = TESS_TENANT_LEN - 1 } }),
		  false, "\"\""),
	CFG_FIELD(struct tessd_group_cfg, vlan, "vlan",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, TESS_VLAN_MAX } }), true,
		  NULL),
	CFG_FIELD(struct tessd_group_cfg, mac_limit, "mac_limit",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1 << 24 } }), false, "0"),
	CFG_FIELD(struct tessd_group_cfg, flood_unknown_unicast, "flood_unknown_unicast",
		  &bool_node, false, "true"),
	CFG_FIELD(struct tessd_group_cfg, flood_multicast, "flood_multicast", &bool_node, false,
		  "true"),
	CFG_FIELD(struct tessd_group_cfg, ipv4_only, "ipv4_only", &bool_node, false, "false"),
	CFG_FIELD(struct tessd_group_cfg, dhcp_guard, "dhcp_guard", &bool_node, false, "false"),
	CFG_ARRAY_FIELD(struct tessd_group_cfg, protected_ips, n_protected_ips, "protected_ips",
			&protected_ips_node, false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_group_cfg, static_macs, n_static_macs, "static_macs",
			&static_macs_node, false, "[]"),
	{ 0 },
};
const struct cfg_node tessd_group_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = group_fields, .size = sizeof(struct tessd_group_cfg) },
};
static const struct cfg_node groups_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_group_schema,
		 .max = TESS_VLAN_MAX,
		 .item_size = sizeof(struct tessd_group_cfg) },
};

static const struct cfg_field switch_fields[] = {
	CFG_FIELD(struct tessd_switch_cfg, aging_sec, "aging_sec",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1000000 } }), false, "300"),
	CFG_FIELD(struct tessd_switch_cfg, fdb_size, "fdb_size",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1024, 1 << 22 } }), false,
		  "65536"),
	CFG_ARRAY_FIELD(struct tessd_switch_cfg, groups, n_groups, "groups", &groups_node, false,
			"[]"),
	{ 0 },
};
const struct cfg_node tessd_switch_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = switch_fields, .size = sizeof(struct tessd_switch_cfg) },
};

const struct tessd_group_cfg *tessd_cfg_group(const struct tessd_cfg *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++)
		if (strcmp(cfg->sw.groups[i].name, name) == 0)
			return &cfg->sw.groups[i];
	return NULL;
}

bool tessd_port_in_group(const struct tessd_port_cfg *p, const struct tessd_group_cfg *g)
{
	if (p->mode == TESS_PORT_ACCESS)
		return strcmp(p->group, g->name) == 0;
	if (p->mode != TESS_PORT_TRUNK)
		return false;
	if (p->all_groups)
		return true;
	for (uint32_t i = 0; i < p->n_groups; i++)
		if (strcmp(p->groups[i], g->name) == 0)
			return true;
	return false;
}
