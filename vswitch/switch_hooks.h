/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The group hooks (dataplane/hook.h) of a burst from a port, once its frames
 * are classified: "in" for every frame a group receives from its ports,
 * "out" for those the switch then forwards to the group's ports (not those
 * for its router interface: they leave the group). The router's frames into
 * a group take "out" in l3_send_group. Worker code.
 */
#ifndef TESS_SWITCH_HOOKS_H
#define TESS_SWITCH_HOOKS_H

#include <rte_ether.h>

#include "hook.h"
#include "switch_tables.h"

/* The frames of a burst past classification, in parallel arrays (vsw_input's). */
struct vsw_rx {
	struct rte_mbuf **m;
	uint16_t *vlan, *tci;
	uint64_t *skey, *dkey;
	uint8_t *sidx, *didx;
};

/* Keeps the frames not in gone: the count left. */
static inline uint16_t vsw_rx_keep(const struct vsw_rx *r, uint16_t k, uint32_t gone)
{
	uint16_t j = 0;

	for (uint16_t i = 0; i < k; i++) {
		if (gone >> i & 1)
			continue;
		r->m[j] = r->m[i];
		r->vlan[j] = r->vlan[i];
		r->tci[j] = r->tci[i];
		r->skey[j] = r->skey[i];
		r->dkey[j] = r->dkey[i];
		r->sidx[j] = r->sidx[i];
		r->didx[j] = r->didx[i];
		j++;
	}
	return j;
}

/* Whether a frame of group g goes to its router interface (vsw_to_router's test). */
static inline bool vsw_for_router(const struct vsw_group *g, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return g->irb_arg != 0 && rte_is_same_ether_addr(&eh->dst_addr, &g->irb_mac);
}

/* The group "out" hook of the frames the group's ports will get: the mask dropped. */
static inline uint32_t vsw_hook_out(struct dp_worker *w, const struct dp_snapshot *s,
				    const struct vsw_part *vp, const struct vsw_rx *r, uint16_t k,
				    uint16_t in, uint64_t now)
{
	struct rte_mbuf *pk[DP_BURST];
	uint16_t ids[DP_BURST];
	uint8_t pos[DP_BURST];
	uint32_t gone, mask = 0;
	uint16_t n = 0;

	for (uint16_t i = 0; i < k; i++) {
		if (!dp_hook_on(s, DP_HOOK_GROUP, DP_HOOK_OUT, r->vlan[i]) ||
		    vsw_for_router(&vp->group[r->vlan[i]], r->m[i]))
			continue;
		pk[n] = r->m[i];
		ids[n] = r->vlan[i];
		pos[n++] = (uint8_t)i;
	}
	gone = n ? dp_hook_runs(w, s, DP_HOOK_GROUP, DP_HOOK_OUT, ids, in, pk, n, now) : 0;
	for (uint16_t j = 0; j < n; j++)
		if (gone >> j & 1)
			mask |= UINT32_C(1) << pos[j];
	return mask;
}

/* Both group hooks of a classified burst from port in: the count of frames kept. */
static inline uint16_t vsw_group_hooks(struct dp_worker *w, const struct dp_snapshot *s,
				       const struct vsw_part *vp, const struct vsw_rx *r,
				       uint16_t k, uint16_t in, uint64_t now)
{
	uint32_t gone;

	if (dp_hook_any(s, DP_HOOK_GROUP, DP_HOOK_IN)) {
		gone = dp_hook_runs(w, s, DP_HOOK_GROUP, DP_HOOK_IN, r->vlan, in, r->m, k, now);
		if (gone)
			k = vsw_rx_keep(r, k, gone);
	}
	if (k && dp_hook_any(s, DP_HOOK_GROUP, DP_HOOK_OUT)) {
		gone = vsw_hook_out(w, s, vp, r, k, in, now);
		if (gone)
			k = vsw_rx_keep(r, k, gone);
	}
	return k;
}

#endif
