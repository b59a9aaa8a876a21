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
/* The name of the group of a VLAN in the running config, or "?". */
const char *vsw_group_name(uint16_t vlan);

/*
 * For a module with a router interface in group vlan, in its build (after
 * the vswitch's): frames to mac, and broadcast ARP, go to vsw_irb_stage
 * with arg; copies of broadcast IPv4 UDP to one of the n_udp ports udp
 * (host order; at most VSW_IRB_UDP_MAX kept) too, for the services of the
 * interface that answer them (such as a DHCP server).
 */
void vsw_group_set_irb(struct dp_snapshot *s, uint16_t vlan, uint16_t arg,
		       const struct rte_ether_addr *mac, const uint16_t *udp, unsigned n_udp);

#endif
