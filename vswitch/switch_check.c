/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch's config rules, past what the schema says: groups and VLANs
 * unique, static MACs on member ports and within half the FDB, protected
 * addresses unicast and no port's own, ports' keys fitting their mode,
 * trunks' groups listed once, native groups carried.
 * Names that must exist are the schema's references (checked after these).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "switch.h"

/* A group's protected addresses: unicast, each once. */
static void validate_protected(const struct tessd_group_cfg *g, uint32_t i, struct cfg_errs *errs)
{
	char p[CFG_PATH_MAX];

	for (uint32_t k = 0; k < g->n_protected_ips; k++) {
		uint32_t ip = g->protected_ips[k];

		snprintf(p, sizeof(p), "/switch/groups/%u/protected_ips/%u", i, k);
		if (ip == 0 || ip == UINT32_MAX || (ip >> 28) >= 0xe)
			cfg_err_add(errs, EINVAL, p, "a protected address is a unicast address");
		for (uint32_t l = 0; l < k; l++)
			if (g->protected_ips[l] == ip)
				cfg_err_add(errs, EEXIST, p, "listed twice");
	}
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
		validate_protected(g, i, errs);
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
		const struct tessd_group_cfg *g = tessd_cfg_group(cfg, pc->group);

		snprintf(p, sizeof(p), "/ports/%u/group", i);
		if (pc->group[0] == '\0')
			cfg_err_add(errs, EINVAL, p, "an access port needs a group");
		/* Its frames from the address would be dropped all the same: say so now. */
		for (uint32_t k = 0; g && k < pc->n_allowed_ips; k++) {
			for (uint32_t l = 0; l < g->n_protected_ips; l++) {
				if (pc->allowed_ips[k] != g->protected_ips[l])
					continue;
				snprintf(p, sizeof(p), "/ports/%u/allowed_ips/%u", i, k);
				cfg_err_add(errs, EINVAL, p,
					    "group '%s' protects this address from its ports",
					    g->name);
			}
		}
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

int vsw_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;

	validate_groups(cfg, errs);
	for (uint32_t i = 0; i < cfg->n_ports; i++)
		validate_port(cfg, i, errs);
	cfg_check_refs_in(&tessd_cfg_schema, cfg, "switch", errs);
	cfg_check_refs_in(&tessd_cfg_schema, cfg, "ports", errs);
	return errs->n == before ? 0 : -EINVAL;
}
