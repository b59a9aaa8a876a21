/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running config's static routes by (VRF, prefix): route.add and
 * route.del find one in O(1) instead of scanning every route (adding N
 * routes was O(N^2)). A hash of indexes into cfg->router.routes, rebuilt
 * after a commit replaced the config (router_sync) or a removal shifted
 * the indexes (O(N), as the removal itself), grown by doubling. Control
 * thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "router_check.h"
#include "router_int.h"

static uint32_t *slot;       /* route index + 1; 0: empty */
static uint32_t mask;        /* slots - 1 */
static uint32_t used;        /* routes indexed */
static bool valid;           /* matches the running config's routes */
uint64_t rt_route_ix_probes; /* slots looked at, for the complexity test */
/* The running config's routes and groups per VRF, as validation counts them (route.add). */
static struct tessd_vrf_counts counts;
static bool counts_valid;

static uint64_t key_hash(const char *vrf, uint32_t ip, uint8_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (const char *c = vrf; *c; c++)
		h = (h ^ (uint8_t)*c) * UINT64_C(0x100000001b3);
	h ^= (uint64_t)ip << 8 | len;
	h *= UINT64_C(0x9e3779b97f4a7c15);
	return h ^ h >> 29;
}

static bool same(const struct tessd_route_cfg *rc, const char *vrf, uint32_t ip, uint8_t len)
{
	return rc->prefix.ip == ip && rc->prefix.len == len && strcmp(rc->vrf, vrf) == 0;
}

static void put(const struct tessd_cfg *cfg, uint32_t i)
{
	const struct tessd_route_cfg *rc = &cfg->router.routes[i];
	uint32_t s = (uint32_t)key_hash(rc->vrf, rc->prefix.ip, rc->prefix.len) & mask;

	while (slot[s]) {
		rt_route_ix_probes++;
		s = (s + 1) & mask;
	}
	slot[s] = i + 1;
	used++;
}

/* Indexes every route of cfg in a table of at least twice their number; -ENOMEM. */
static int rebuild(const struct tessd_cfg *cfg, uint32_t want)
{
	uint32_t n = 64;

	while (n < 2 * want)
		n *= 2;
	free(slot);
	slot = calloc(n, sizeof(*slot));
	valid = false;
	used = 0;
	if (slot == NULL)
		return -ENOMEM;
	mask = n - 1;
	for (uint32_t i = 0; i < cfg->router.n_routes; i++)
		put(cfg, i);
	valid = true;
	return 0;
}

int rt_route_find(const struct tessd_cfg *cfg, const char *vrf, uint32_t ip, uint8_t len)
{
	uint32_t s;

	if (!valid && rebuild(cfg, cfg->router.n_routes) < 0)
		return -ENOMEM;
	s = (uint32_t)key_hash(vrf, ip, len) & mask;
	for (; slot[s]; s = (s + 1) & mask) {
		rt_route_ix_probes++;
		if (same(&cfg->router.routes[slot[s] - 1], vrf, ip, len))
			return (int)(slot[s] - 1);
	}
	return -ENOENT;
}

void rt_route_indexed(const struct tessd_cfg *cfg, uint32_t i)
{
	if (!valid)
		return; /* built whole at the next find */
	if (2 * (used + 1) > mask + 1) {
		rebuild(cfg, cfg->router.n_routes);
		return;
	}
	put(cfg, i);
}

struct tessd_vrf_counts *rt_route_counts(const struct tessd_router_index *ix)
{
	if (!counts_valid) {
		tessd_vrf_counts_fini(&counts);
		if (tessd_vrf_counts_init(&counts, ix) < 0)
			return NULL;
		counts_valid = true;
	}
	return &counts;
}

void rt_route_counted(const struct tessd_router_index *ix, const struct tessd_route_cfg *rc)
{
	if (counts_valid && tessd_vrf_counts_add(&counts, ix, rc) < 0)
		counts_valid = false; /* counted whole again at the next route.add */
}

void rt_route_index_reset(void)
{
	valid = false;
	counts_valid = false;
}

void rt_route_index_free(void)
{
	tessd_vrf_counts_fini(&counts);
	counts_valid = false;
	free(slot);
	slot = NULL;
	valid = false;
	used = 0;
}
