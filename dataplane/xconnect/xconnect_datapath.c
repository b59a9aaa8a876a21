/* SPDX-License-Identifier: BSD-3-Clause */
/* The cross-connect's stage: a burst from a port goes out of its peer. Worker code. */
#include "tx_datapath.h"
#include "xconnect.h"

static void xc_input(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	const struct xc_part *xp = dp_snap_part(s, &xc_module);
	uint16_t in = b->port, out = xp->peer[in];
	uint32_t mtu = s->port[out].mtu;

	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->pkts[i];

		if (unlikely(m->pkt_len < RTE_ETHER_HDR_LEN))
			dp_drop(w, in, DP_DROP_BAD_FRAME, m);
		else if (unlikely(!dp_fits_mtu(m, mtu)))
			dp_drop(w, out, DP_DROP_MTU_EXCEEDED, m);
		else
			dp_tx(w, out, m);
	}
}

struct dp_stage xc_stage = { .name = "xconnect", .module = "xconnect", .fn = xc_input };
DP_STAGE_REGISTER(xc_stage)
