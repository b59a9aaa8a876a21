/* SPDX-License-Identifier: BSD-3-Clause */
/* The host vswitch part of tessd's config: groups, static MACs, ports' membership. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tessd_config.h"

/* A station address: unicast, not all zeros. */
static int check_mac(const void *val, char *why, size_t len)
{
	const struct cfg_mac *mac = val;
	const uint8_t *m = mac->b;
	char s[CFG_MAC_STRLEN];

	if (m[0] & 1) {
		snprintf(why, len, "%s is a multicast address", cfg_fmt_mac(mac, s, sizeof(s)));
		return EINVAL;
	}
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
		snprintf(why, len, "the all-zero MAC is not a station address");
		return EINVAL;
	}
	return 0;
}

const struct cfg_node tessd_mac_schema = {
	.type = CFG_MAC,
	.str = { .min_len = 17, .max_len = 17, .charset = "0123456789abcdefABCDEF:" },
	.check = check_mac,
};

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

bool tessd_port_anti_spoof(const struct tessd_port_cfg *p)
{
	if (p->mode != TESS_PORT_ACCESS || p->anti_spoof == TESS_SPOOF_OFF)
		return false;
	return p->anti_spoof == TESS_SPOOF_ON || strncmp(p->devargs, "net_vhost", 9) == 0 ||
	       p->n_allowed_macs || p->n_allowed_ips;
}

static void validate_groups(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	char p[CFG_PATH_MAX];
	uint64_t statics = 0;

	for (uint32_t i = 0; i < cfg->sw.n_groups; i++) {
		const struct tessd_group_cfg *g = &cfg->sw.groups[i];

		for (uint32_t j = 0; j < i; j++) {
			if (strcmp(g->name, cfg->sw.groups[j].name) == 0) {
				snprintf(p, sizeof(p), "/switch/groups/%u/name", i);
				cfg_err_add(errs, EEXIST, p, "duplicate group name '%s'", g->name);
			}
			if (g->vlan == cfg->sw.groups[j].vlan) {
				snprintf(p, sizeof(p), "/switch/groups/%u/vlan", i);
				cfg_err_add(errs, EEXIST, p, "VLAN %u is already group '%s'",
					    g->vlan, cfg->sw.groups[j].name);
			}
		}
		statics += g->n_static_macs;
		if (g->n_static_macs && statics > cfg->sw.fdb_size / 2) {
			snprintf(p, sizeof(p), "/switch/groups/%u/static_macs", i);
			cfg_err_add(
				errs, ENOSPC, p,
				"%" PRIu64
				" static MACs in all; they may use half of switch.fdb_size (%u)",
				statics, cfg->sw.fdb_size);
		}
		for (uint32_t k = 0; k < g->n_static_macs; k++) {
			const struct tessd_static_mac *sm = &g->static_macs[k];
			const struct tessd_port_cfg *port = tessd_cfg_port(cfg, sm->port);
			char mac[CFG_MAC_STRLEN];

			/* A port that does not exist: the schema's reference check says so. */
			snprintf(p, sizeof(p), "/switch/groups/%u/static_macs/%u/port", i, k);
			if (port && !tessd_port_in_group(port, g))
				cfg_err_add(errs, EINVAL, p, "port '%s' is not in group '%s'",
					    sm->port, g->name);
			for (uint32_t l = 0; l < k; l++) {
				if (memcmp(&sm->mac, &g->static_macs[l].mac, sizeof(sm->mac)) ==
				    0) {
					snprintf(p, sizeof(p),
						 "/switch/groups/%u/static_macs/%u/mac", i, k);
					cfg_err_add(errs, EEXIST, p,
						    "%s is already a static MAC here",
						    cfg_fmt_mac(&sm->mac, mac, sizeof(mac)));
				}
			}
		}
	}
}

/* Reports a port field that its mode does not use. */
static void not_for_mode(const char *key, bool set, unsigned i, const char *why,
			 struct cfg_errs *errs)
{
	char p[CFG_PATH_MAX];

	if (!set)
		return;
	snprintf(p, sizeof(p), "/ports/%u/%s", i, key);
	cfg_err_add(errs, EINVAL, p, "%s", why);
}

static void validate_port(const struct tessd_cfg *cfg, unsigned i, struct cfg_errs *errs)
{
	const struct tessd_port_cfg *pc = &cfg->ports[i];
	bool access = pc->mode == TESS_PORT_ACCESS, trunk = pc->mode == TESS_PORT_TRUNK;
	char p[CFG_PATH_MAX];

	not_for_mode("group", !access && pc->group[0], i, "only access ports have a group", errs);
	not_for_mode("groups", !trunk && pc->n_groups, i, "only trunk ports carry groups", errs);
	not_for_mode("all_groups", !trunk && pc->all_groups, i, "only trunk ports carry groups",
		     errs);
	not_for_mode("native_group", !trunk && pc->native_group[0], i,
		     "only trunk ports have a native group", errs);
	not_for_mode("anti_spoof", !access && pc->anti_spoof == TESS_SPOOF_ON, i,
		     "anti-spoofing is for access ports", errs);
	not_for_mode("allowed_macs", !access && pc->n_allowed_macs, i,
		     "anti-spoofing is for access ports", errs);
	not_for_mode("allowed_ips", !access && pc->n_allowed_ips, i,
		     "anti-spoofing is for access ports", errs);
	not_for_mode("storm_pps", !access && pc->storm_pps, i, "storm control is for access ports",
		     errs);
	not_for_mode("mac_limit", !access && !trunk && pc->mac_limit, i,
		     "only switch ports learn MACs", errs);
	not_for_mode("anti_spoof",
		     access && pc->anti_spoof == TESS_SPOOF_OFF &&
			     (pc->n_allowed_macs || pc->n_allowed_ips),
		     i, "allowed MACs or IPs need anti-spoofing (on or auto)", errs);

	if (access) {
		snprintf(p, sizeof(p), "/ports/%u/group", i);
		if (pc->group[0] == '\0')
			cfg_err_add(errs, EINVAL, p, "an access port needs a group");
	}
	if (trunk) {
		snprintf(p, sizeof(p), "/ports/%u/groups", i);
		if (pc->all_groups && pc->n_groups)
			cfg_err_add(errs, EINVAL, p, "give groups or all_groups, not both");
		else if (!pc->all_groups && pc->n_groups == 0)
			cfg_err_add(errs, EINVAL, p, "a trunk carries some groups, or all_groups");
		for (uint32_t k = 0; k < pc->n_groups; k++) {
			snprintf(p, sizeof(p), "/ports/%u/groups/%u", i, k);
			for (uint32_t l = 0; l < k; l++)
				if (strcmp(pc->groups[k], pc->groups[l]) == 0)
					cfg_err_add(errs, EEXIST, p, "group '%s' is listed twice",
						    pc->groups[k]);
		}
		if (pc->native_group[0]) {
			const struct tessd_group_cfg *g = tessd_cfg_group(cfg, pc->native_group);
			snprintf(p, sizeof(p), "/ports/%u/native_group", i);
			if (g && !tessd_port_in_group(pc, g))
				cfg_err_add(errs, EINVAL, p, "the trunk does not carry group '%s'",
					    pc->native_group);
		}
	}
	for (uint32_t k = 0; k < pc->n_allowed_macs; k++) {
		for (uint32_t l = 0; l < k; l++) {
			if (memcmp(&pc->allowed_macs[k], &pc->allowed_macs[l],
				   sizeof(pc->allowed_macs[k])) == 0) {
				snprintf(p, sizeof(p), "/ports/%u/allowed_macs/%u", i, k);
				cfg_err_add(errs, EEXIST, p, "listed twice");
			}
		}
	}
}

int tessd_switch_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;

	validate_groups(cfg, errs);
	for (uint32_t i = 0; i < cfg->n_ports; i++)
		validate_port(cfg, i, errs);
	return errs->n == before ? 0 : -EINVAL;
}
