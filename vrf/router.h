/* SPDX-License-Identifier: BSD-3-Clause */
/* The provider-edge router, control thread side: what its files share. */
#ifndef TESS_ROUTER_H
#define TESS_ROUTER_H

#include <jansson.h>

#include "ctl_server.h"
#include "dp.h"
#include "l3.h"
#include "tessd_config.h"

extern const struct ctl_method router_methods[];

/*
 * After a snapshot built from "cur" is published: VRFs, connected, local
 * and static routes, static neighbours follow cur; what "old" had and cur
 * has not goes. old is NULL at start.
 */
void router_sync(const struct tessd_cfg *old, const struct tessd_cfg *cur);

/* Snapshots share interface tables: one more, one fewer. */
void router_tables_get(struct l3_tables *t);
void router_tables_put(struct l3_tables *t);

#endif
