/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's hooks (dataplane/hook.h): "in" of interfaces and VRFs on the
 * checked packets of ip4-input, "out" on the packets ip4-route forwards,
 * held per burst while an "out" hook exists and sent after it. A VRF's "in"
 * is what its interfaces receive, its "out" what it routes out of its
 * interfaces. Worker code.
 */
#ifndef TESS_ROUTER_HOOKS_H
#define TESS_ROUTER_HOOKS_H

#include "hook.h"
#include "l3.h"

/* Interface and VRF "in" hooks of a checked burst (arg: interfaces): the count kept. */
static inline uint16_t l3_hooks_in(struct dp_worker *w, const struct dp_snapshot *s,
				   const struct l3_tables *t, struct dp_burst *bu)
{
	uint16_t vrfs[DP_BURST];
	uint32_t gone;

	if (dp_hook_any(s, DP_HOOK_IFACE, DP_HOOK_IN)) {
		gone = dp_hook_runs(w, s, DP_HOOK_IFACE, DP_HOOK_IN, bu->arg, bu->port, bu->pkts,
				    bu->n, bu->now);
		if (gone)
			bu->n = dp_hook_compact(bu->pkts, bu->arg, bu->n, gone);
	}
	if (bu->n && dp_hook_any(s, DP_HOOK_VRF, DP_HOOK_IN)) {
		for (uint16_t i = 0; i < bu->n; i++)
			vrfs[i] = t->iface[bu->arg[i]].vrf;
		gone = dp_hook_runs(w, s, DP_HOOK_VRF, DP_HOOK_IN, vrfs, bu->port, bu->pkts, bu->n,
				    bu->now);
		if (gone)
			bu->n = dp_hook_compact(bu->pkts, bu->arg, bu->n, gone);
	}
	return bu->n;
}

/* Routed packets held for the "out" hooks: each with its output interface and input VRF. */
struct l3_held {
	uint16_t n;
	uint16_t oif[DP_BURST];
	uint16_t ivrf[DP_BURST];
	struct rte_mbuf *pkts[DP_BURST];
};

static inline bool l3_hooks_out_any(const struct dp_snapshot *s)
{
	return dp_hook_any(s, DP_HOOK_IFACE, DP_HOOK_OUT) ||
	       dp_hook_any(s, DP_HOOK_VRF, DP_HOOK_OUT);
}

/* Keeps the held packets not in gone. */
static inline void l3_held_keep(struct l3_held *h, uint32_t gone)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < h->n; i++) {
		if (gone >> i & 1)
			continue;
		h->pkts[k] = h->pkts[i];
		h->oif[k] = h->oif[i];
		h->ivrf[k++] = h->ivrf[i];
	}
	h->n = k;
}

/* Interface and VRF (of the output interface) "out" hooks of the held packets. */
static inline void l3_hooks_out(struct dp_worker *w, const struct dp_snapshot *s,
				const struct l3_tables *t, struct l3_held *h, uint16_t port,
				uint64_t now)
{
	uint16_t vrfs[DP_BURST];
	uint32_t gone;

	if (dp_hook_any(s, DP_HOOK_IFACE, DP_HOOK_OUT)) {
		gone = dp_hook_runs(w, s, DP_HOOK_IFACE, DP_HOOK_OUT, h->oif, port, h->pkts, h->n,
				    now);
		if (gone)
			l3_held_keep(h, gone);
	}
	if (h->n && dp_hook_any(s, DP_HOOK_VRF, DP_HOOK_OUT)) {
		for (uint16_t i = 0; i < h->n; i++)
			vrfs[i] = t->iface[h->oif[i]].vrf;
		gone = dp_hook_runs(w, s, DP_HOOK_VRF, DP_HOOK_OUT, vrfs, port, h->pkts, h->n, now);
		if (gone)
			l3_held_keep(h, gone);
	}
}

#endif
