/* SPDX-License-Identifier: BSD-3-Clause */
#include "nexthop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "rcu.h"

int nh_init(struct nh_table *t, int socket)
{
	memset(t, 0, sizeof(*t));
	t->g = rte_zmalloc_socket("tess_nexthops", sizeof(*t->g) * NH_MAX_GROUPS,
				  RTE_CACHE_LINE_SIZE, socket);
	t->refs = calloc(NH_MAX_GROUPS, sizeof(*t->refs));
	t->free_ids = malloc(NH_MAX_GROUPS * sizeof(*t->free_ids));
	t->bucket = calloc(NH_BUCKETS, sizeof(*t->bucket));
	t->next = calloc(NH_MAX_GROUPS, sizeof(*t->next));
	t->owner = calloc(NH_MAX_GROUPS, sizeof(*t->owner));
	t->owned = calloc(NH_MAX_OWNERS, sizeof(*t->owned));
	t->owned_kernel = calloc(NH_MAX_OWNERS, sizeof(*t->owned_kernel));
	if (t->g == NULL || t->refs == NULL || t->free_ids == NULL || t->bucket == NULL ||
	    t->next == NULL || t->owner == NULL || t->owned == NULL || t->owned_kernel == NULL) {
		nh_fini(t);
		return -ENOMEM;
	}
	t->next_fresh = 1;
	return 0;
}

void nh_fini(struct nh_table *t)
{
	if (dp_rcu_qsv && dp_rcu_pending()) {
		dp_rcu_synchronize();
		dp_rcu_reclaim();
	}
	rte_free(t->g);
	free(t->refs);
	free(t->free_ids);
	free(t->bucket);
	free(t->next);
	free(t->owner);
	free(t->owned);
	free(t->owned_kernel);
	memset(t, 0, sizeof(*t));
}

static bool same(const struct nh_group *a, const struct nh_group *b)
{
	if (a->type != b->type || a->n != b->n || a->origin != b->origin ||
	    a->target_vrf != b->target_vrf)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (a->path[i].iface != b->path[i].iface || a->path[i].gw != b->path[i].gw)
			return false;
	return true;
}

/*
 * A group without paths (blackhole, reject, into a VRF) names no interface,
 * hence no VRF: each VRF has its own, counted against it (review 3.2).
 * A group with paths is its interfaces' VRF's anyway.
 */
static uint16_t owner_key(const struct nh_group *g, uint16_t vrf)
{
	return g->n == 0 && vrf < NH_MAX_OWNERS ? vrf : 0;
}

static bool mine(const struct nh_table *t, uint32_t id, const struct nh_group *g, uint16_t vrf)
{
	return same(&t->g[id], g) && owner_key(g, vrf) == owner_key(g, t->owner[id]);
}

static uint32_t bucket_of(const struct nh_group *g, uint16_t vrf)
{
	uint64_t h = (uint64_t)g->type << 40 | (uint64_t)g->origin << 32 | (uint64_t)g->n << 24 |
		     ((uint64_t)owner_key(g, vrf) << 16 ^ g->target_vrf);

	for (unsigned i = 0; i < g->n; i++)
		h = (h ^ ((uint64_t)g->path[i].iface << 32 | g->path[i].gw)) *
		    UINT64_C(0x9e3779b97f4a7c15);
	return (uint32_t)(h >> 40) % NH_BUCKETS;
}

uint32_t nh_find(const struct nh_table *t, const struct nh_group *g)
{
	return nh_find_for(t, g, 0);
}

uint32_t nh_find_for(const struct nh_table *t, const struct nh_group *g, uint16_t vrf)
{
	uint32_t id;

	for (id = t->bucket[bucket_of(g, vrf)]; id; id = t->next[id])
		if (mine(t, id, g, vrf))
			return id;
	return 0;
}

uint32_t nh_get(struct nh_table *t, const struct nh_group *g)
{
	return nh_get_for(t, g, 0);
}

uint32_t nh_get_for(struct nh_table *t, const struct nh_group *g, uint16_t vrf)
{
	uint32_t b, id;

	if (vrf >= NH_MAX_OWNERS)
		vrf = 0;
	b = bucket_of(g, vrf);
	for (id = t->bucket[b]; id; id = t->next[id]) {
		if (mine(t, id, g, vrf)) {
			t->refs[id]++;
			return id;
		}
	}
	if (t->n_free)
		id = t->free_ids[--t->n_free];
	else if (t->next_fresh < NH_MAX_GROUPS)
		id = t->next_fresh++;
	else
		return 0;
	memset(&t->g[id], 0, sizeof(t->g[id]));
	t->g[id].type = g->type;
	t->g[id].n = g->n;
	t->g[id].origin = g->origin;
	t->g[id].target_vrf = g->target_vrf;
	memcpy(t->g[id].path, g->path, sizeof(g->path[0]) * g->n);
	t->refs[id] = 1;
	t->next[id] = t->bucket[b];
	t->bucket[b] = id;
	t->used++;
	t->owner[id] = vrf;
	t->owned[vrf]++;
	t->owned_kernel[vrf] += g->origin == NH_ORIGIN_KERNEL;
	return id;
}

struct deferred {
	struct nh_table *t;
	uint32_t id;
};

static void release(void *arg)
{
	struct deferred *d = arg;

	d->t->free_ids[d->t->n_free++] = d->id;
	free(d);
}

void nh_put(struct nh_table *t, uint32_t id)
{
	struct deferred *d;
	uint32_t *p;

	if (id == 0 || id >= NH_MAX_GROUPS || t->refs[id] == 0 || --t->refs[id])
		return;
	/* Out of its chain now: a new group never shares an id in its grace period. */
	for (p = &t->bucket[bucket_of(&t->g[id], t->owner[id])]; *p && *p != id; p = &t->next[*p])
		;
	if (*p)
		*p = t->next[id];
	t->used--;
	t->owned[t->owner[id]]--; /* its VRF may make another at once */
	t->owned_kernel[t->owner[id]] -= t->g[id].origin == NH_ORIGIN_KERNEL;
	t->owner[id] = 0;
	d = malloc(sizeof(*d));
	if (d == NULL)
		return; /* the id is lost to reuse, nothing worse */
	*d = (struct deferred){ t, id };
	dp_rcu_defer(release, d);
}
