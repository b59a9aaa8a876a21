/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What runs, for GET /v1/usage: libvirt's running domains on every host, per
 * tenant label. One listing serves every call for usage.active_cache_sec, so
 * that many tenants asking at once list each host once (review 1.15), not
 * once per call; a job that ends, or a host that comes, goes, turns up or
 * down, makes the next call list again.
 */
#ifndef TESS_MGR_USAGE_ACTIVE_H
#define TESS_MGR_USAGE_ACTIVE_H

#include <time.h>

#include <jansson.h>

/*
 * {vlan_name: {"domains", "vcpus", "memory_mb"}} of the running domains (a reference), and
 * when it was listed. Without mgr.lock: it takes it, and lists the hosts without it; calls
 * that come during a listing wait for it and share it.
 */
json_t *mgr_usage_active(time_t *listed);
/* What was listed may have changed (a job ended): the next call lists again. */
void mgr_usage_active_stale(void);
/* Frees the listing kept (at stop). */
void mgr_usage_active_clear(void);

#endif
