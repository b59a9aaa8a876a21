/* SPDX-License-Identifier: BSD-3-Clause */
/* Name lookups over a router config in O(log n): configs may hold thousands of VRFs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "router_check.h"

/* qsort has no argument: the config being sorted, for the comparators (one thread). */
static const struct tessd_cfg *sorting;

static int cmp_vrf(const void *a, const void *b)
{
	return strcmp(sorting->router.vrfs[*(const uint32_t *)a].name,
		      sorting->router.vrfs[*(const uint32_t *)b].name);
}

static int cmp_iface(const void *a, const void *b)
{
	return strcmp(sorting->router.interfaces[*(const uint32_t *)a].name,
		      sorting->router.interfaces[*(const uint32_t *)b].name);
}

/* The position of name among n sorted entries (name_of(i)), or -1. */
static long find(const struct tessd_router_index *ix, const uint32_t *sorted, uint32_t n,
		 const char *(*name_of)(const struct tessd_cfg *, uint32_t), const char *name)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name_of(ix->cfg, sorted[mid]), name);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static const char *vrf_name(const struct tessd_cfg *cfg, uint32_t i)
{
	return cfg->router.vrfs[i].name;
}

static const char *iface_name(const struct tessd_cfg *cfg, uint32_t i)
{
	return cfg->router.interfaces[i].name;
}

int tessd_router_index_init(struct tessd_router_index *ix, const struct tessd_cfg *cfg)
{
	const struct tessd_router_cfg *r = &cfg->router;
	uint32_t *pos;

	memset(ix, 0, sizeof(*ix));
	ix->cfg = cfg;
	ix->vrfs = malloc((r->n_vrfs + 1) * sizeof(*ix->vrfs));
	ix->ifaces = malloc((r->n_interfaces + 1) * sizeof(*ix->ifaces));
	ix->by_vrf = malloc((r->n_interfaces + 1) * sizeof(*ix->by_vrf));
	ix->by_vrf_start = calloc(r->n_vrfs + 2, sizeof(*ix->by_vrf_start));
	pos = calloc(r->n_vrfs + 1, sizeof(*pos));
	if (!ix->vrfs || !ix->ifaces || !ix->by_vrf || !ix->by_vrf_start || !pos) {
		free(pos);
		tessd_router_index_fini(ix);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < r->n_vrfs; i++)
		ix->vrfs[i] = i;
	for (uint32_t i = 0; i < r->n_interfaces; i++)
		ix->ifaces[i] = i;
	sorting = cfg;
	qsort(ix->vrfs, r->n_vrfs, sizeof(*ix->vrfs), cmp_vrf);
	qsort(ix->ifaces, r->n_interfaces, sizeof(*ix->ifaces), cmp_iface);
	sorting = NULL;
	/* Interfaces grouped by the sorted position of their VRF (unknown VRFs: last). */
	for (uint32_t i = 0; i < r->n_interfaces; i++) {
		long v = find(ix, ix->vrfs, r->n_vrfs, vrf_name, r->interfaces[i].vrf);
		ix->by_vrf_start[(v < 0 ? r->n_vrfs : (uint32_t)v) + 1]++;
	}
	for (uint32_t v = 0; v <= r->n_vrfs; v++) {
		ix->by_vrf_start[v + 1] += ix->by_vrf_start[v];
		pos[v] = ix->by_vrf_start[v];
	}
	for (uint32_t i = 0; i < r->n_interfaces; i++) {
		long v = find(ix, ix->vrfs, r->n_vrfs, vrf_name, r->interfaces[i].vrf);
		ix->by_vrf[pos[v < 0 ? r->n_vrfs : (uint32_t)v]++] = i;
	}
	free(pos);
	return 0;
}

void tessd_router_index_fini(struct tessd_router_index *ix)
{
	free(ix->vrfs);
	free(ix->ifaces);
	free(ix->by_vrf);
	free(ix->by_vrf_start);
	memset(ix, 0, sizeof(*ix));
}

const struct tessd_vrf_cfg *tessd_ix_vrf(const struct tessd_router_index *ix, const char *name)
{
	long k = find(ix, ix->vrfs, ix->cfg->router.n_vrfs, vrf_name, name);

	return k < 0 ? NULL : &ix->cfg->router.vrfs[ix->vrfs[k]];
}

const struct tessd_iface_cfg *tessd_ix_iface(const struct tessd_router_index *ix, const char *name)
{
	long k = find(ix, ix->ifaces, ix->cfg->router.n_interfaces, iface_name, name);

	return k < 0 ? NULL : &ix->cfg->router.interfaces[ix->ifaces[k]];
}

uint32_t tessd_ix_vrf_ifaces(const struct tessd_router_index *ix, const char *vrf,
			     const uint32_t **idx)
{
	long k = find(ix, ix->vrfs, ix->cfg->router.n_vrfs, vrf_name, vrf);

	if (k < 0) {
		*idx = NULL;
		return 0;
	}
	*idx = ix->by_vrf + ix->by_vrf_start[k];
	return ix->by_vrf_start[k + 1] - ix->by_vrf_start[k];
}
