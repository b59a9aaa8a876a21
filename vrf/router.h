/* SPDX-License-Identifier: BSD-3-Clause */
/* The provider-edge router, control thread side. */
#ifndef TESS_ROUTER_H
#define TESS_ROUTER_H

#include <jansson.h>

#include "dp.h"
#include "tessd_config.h"

int router_init(const struct tessd_cfg *cfg);
void router_fini(void);

/*
 * Fills the router part of a snapshot from cfg: a new interface table
 * (ports with interfaces become routed ports). -ENOMEM, or -ENOSPC when
 * interface ids run out; the snapshot is then unusable.
 */
int router_build(struct dp_snapshot *s, const struct tessd_cfg *cfg);
/*
 * After a snapshot built from "cur" is published: VRFs, connected, local
 * and static routes, static neighbours follow cur; what "old" had and cur
 * has not goes. old is NULL at start.
 */
void router_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur);
/* Control loop: punted packets, neighbour resolution and aging. */
void router_poll(uint64_t now);

/* Snapshots share interface tables: one more, one fewer. */
void router_tables_get(struct l3_tables *t);
void router_tables_put(struct l3_tables *t);

void router_stats_reset(void);
/* "vrfs" and "interfaces" counters; only VRF vrf if not NULL. */
json_t *router_vrfs_json(const struct tessd_cfg *cfg, const char *vrf);
json_t *router_ifaces_json(const struct tessd_cfg *cfg, const char *vrf);

int router_api_register(void);

#endif
