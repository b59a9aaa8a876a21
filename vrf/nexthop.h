/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next-hop groups: what a route leads to. A route's FIB value is the id of
 * its group. Groups are immutable once published and shared by every route
 * with the same next hops (deduplicated, counted); a group is reused only
 * after the RCU grace period that follows its last route's removal.
 */
#ifndef TESS_NEXTHOP_H
#define TESS_NEXTHOP_H

#include <stdint.h>

#include "tessd_config.h"

#define NH_MAX_GROUPS 65536 /* ids 1..65535 */
#define NH_MAX_OWNERS 4096  /* VRF ids that make groups (FIB_MAX_VRFS), 0: none */
#define NH_MAX_PATHS  TESS_MAX_NEXTHOPS

enum nh_type {
	NH_UNICAST,   /* forward: to a gateway, or to the destination itself (connected) */
	NH_LOCAL,     /* one of the router's addresses */
	NH_BLACKHOLE, /* drop silently */
	NH_REJECT,    /* drop, ICMP host unreachable */
	NH_VRF,       /* look up again in another VRF */
};

/* Where a route comes from: part of its group, so route show can tell. */
enum nh_origin {
	NH_ORIGIN_STATIC,
	NH_ORIGIN_CONNECTED, /* an interface's subnet */
	NH_ORIGIN_LOCAL,     /* an interface's address */
	NH_ORIGIN_BROADCAST, /* an interface's subnet broadcast: received, never forwarded */
	NH_ORIGIN_KERNEL,    /* mirrored from a kernel routing table */
	NH_ORIGIN_MAX
};

struct nh_path {
	uint16_t iface;
	uint32_t gw; /* host order; 0: the destination is on the interface's subnet */
};

struct nh_group {
	uint8_t type;
	uint8_t n; /* paths (ECMP) */
	uint8_t origin;
	uint16_t target_vrf;
	struct nh_path path[NH_MAX_PATHS];
};

#define NH_BUCKETS 16384

struct nh_table {
	struct nh_group *g; /* [NH_MAX_GROUPS], read by workers */
	uint32_t *refs;     /* routes using each group (control) */
	uint32_t *bucket;   /* [NH_BUCKETS]: first group of each hash chain (control) */
	uint32_t *next;     /* [NH_MAX_GROUPS]: next group in its chain */
	uint16_t *owner;    /* [NH_MAX_GROUPS]: the VRF that made each group, 0: none (control) */
	uint32_t *owned;    /* [NH_MAX_OWNERS]: live groups each VRF made (control) */
	uint32_t *owned_kernel; /* [NH_MAX_OWNERS]: of those, of kernel routes (control) */
	uint32_t *free_ids;
	uint32_t n_free;
	uint32_t next_fresh;
	uint32_t used;
};

int nh_init(struct nh_table *t, int socket);
void nh_fini(struct nh_table *t);
/* The id of a group equal to *g (made if new, counted once more); 0 when full. */
uint32_t nh_get(struct nh_table *t, const struct nh_group *g);
/*
 * The same, a new group counted as VRF vrf's (nh_owned) until its last route
 * goes; a group without paths (blackhole, reject, into a VRF) is vrf's own.
 */
uint32_t nh_get_for(struct nh_table *t, const struct nh_group *g, uint16_t vrf);
/* The id of a group equal to *g, 0 if there is none (nothing counted). */
uint32_t nh_find(const struct nh_table *t, const struct nh_group *g);
/* The same, as nh_get_for(vrf) would share it (a group without paths is per VRF). */
uint32_t nh_find_for(const struct nh_table *t, const struct nh_group *g, uint16_t vrf);
/* One route less; the group is reused after the grace period once none is left. */
void nh_put(struct nh_table *t, uint32_t id);

static inline uint32_t nh_owned(const struct nh_table *t, uint16_t vrf)
{
	return vrf < NH_MAX_OWNERS ? t->owned[vrf] : 0;
}

/* Of vrf's groups, those of its kernel routes. */
static inline uint32_t nh_owned_kernel(const struct nh_table *t, uint16_t vrf)
{
	return vrf < NH_MAX_OWNERS ? t->owned_kernel[vrf] : 0;
}

static inline const struct nh_group *nh_group(const struct nh_table *t, uint32_t id)
{
	return &t->g[id];
}

#endif
