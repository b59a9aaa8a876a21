/* SPDX-License-Identifier: BSD-3-Clause */
/* The host vswitch, control thread side: what its files share and what other modules may call. */
#ifndef TESS_SWITCH_H
#define TESS_SWITCH_H

#include <jansson.h>

#include "ctl_server.h"
#include "dp.h"
#include "fdb.h"
#include "port.h"
#include "switch_tables.h"
#include "tessd_config.h"

extern struct fdb vsw_fdb;
extern const struct ctl_method vsw_methods[];

/* The switch section's rules, and the ports' switching keys (the module's validate). */
int vsw_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);

/* A group's counters start from zero now (a group added again). */
void vsw_group_rebase(uint16_t vlan);

/*
 * For a module with a router interface in group vlan, in its build (after
 * the vswitch's): frames to mac, and broadcast ARP, go to vsw_irb_stage
 * with arg; with bcast_ip, copies of broadcast IPv4 too (for a service of
 * the interface that answers them, such as DHCP).
 */
void vsw_group_set_irb(struct dp_snapshot *s, uint16_t vlan, uint16_t arg,
		       const struct rte_ether_addr *mac, bool bcast_ip);

#endif
