/* SPDX-License-Identifier: BSD-3-Clause */
#include "hook.h"

#include <rte_debug.h>

static struct dp_hook *hooks[DP_HOOK_MAX]; /* by rank */
static unsigned n_hooks;

void dp_hook_register(struct dp_hook *h)
{
	unsigned i = n_hooks;

	/* A constructor cannot fail: more hooks than dp_hooks has room for is a build error. */
	RTE_VERIFY(n_hooks < DP_HOOK_MAX && h->fn != NULL);
	h->idx = (uint8_t)n_hooks++;
	for (; i > 0 && hooks[i - 1]->rank > h->rank; i--)
		hooks[i] = hooks[i - 1];
	hooks[i] = h;
}

uint32_t dp_hook_call(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind, unsigned dir,
		      uint16_t id, uint16_t port, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct rte_mbuf *left[DP_BURST];
	uint8_t pos[DP_BURST];
	uint32_t gone = 0;

	for (unsigned h = 0; h < n_hooks; h++) {
		uint32_t g;
		uint16_t k = 0;

		if (!dp_bit(s->hooks.mod[hooks[h]->idx][kind][dir], id))
			continue;
		if (gone == 0) { /* the first to drop anything: the burst as it came */
			gone = hooks[h]->fn(w, s, kind, dir, id, port, pkts, n, now);
			continue;
		}
		for (uint16_t i = 0; i < n; i++) {
			if (gone >> i & 1)
				continue;
			left[k] = pkts[i];
			pos[k++] = (uint8_t)i;
		}
		if (k == 0)
			break;
		g = hooks[h]->fn(w, s, kind, dir, id, port, left, k, now);
		for (uint16_t j = 0; g && j < k; j++)
			if (g >> j & 1)
				gone |= UINT32_C(1) << pos[j];
	}
	return gone;
}
