/* SPDX-License-Identifier: BSD-3-Clause */
/* The host vswitch, control thread side. */
#ifndef TESS_SWITCH_H
#define TESS_SWITCH_H

#include <jansson.h>

#include "dp.h"
#include "fdb.h"
#include "port.h"
#include "tessd_config.h"

extern struct fdb vsw_fdb;

int vsw_init(const struct tessd_cfg *cfg);
void vsw_fini(void);

/* Fills the switch part of a snapshot (ports' VLAN rules, groups' members) from cfg. */
void vsw_build(struct dp_snapshot *s, const struct tessd_cfg *cfg);
/*
 * After a snapshot built from "cur" is published: drops FDB entries that
 * no longer fit (port left the group, group gone), installs the static
 * ones, resets the anti-spoof lock of ports whose rules changed, and takes
 * the new MAC limits. "old" is the previous config (NULL at start).
 */
void vsw_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur);
/* Control loop: learn what the workers saw; age once a second. */
void vsw_poll(const struct tessd_cfg *cfg, uint64_t now);

/* Counters */
void vsw_stats_reset(void);
void vsw_group_rebase(uint16_t vlan);
/* A port id in use again: its learn counters and anti-spoof lock start afresh. */
void vsw_port_reset(uint16_t port);
json_t *vsw_groups_json(const struct tessd_cfg *cfg);
/* Adds a switch port's learning numbers and anti-spoof lock to its stats object. */
void vsw_port_json(const struct dp_port *p, json_t *o);

int vsw_api_register(void);

#endif
