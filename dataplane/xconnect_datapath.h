/* SPDX-License-Identifier: BSD-3-Clause */
/* Port cross-connect (L2 patch): every frame received on a port leaves on its peer. */
#ifndef TESS_XCONNECT_DATAPATH_H
#define TESS_XCONNECT_DATAPATH_H

#include "tx_datapath.h"

static inline void xc_input(struct dp_worker *w, const struct dp_snapshot *s, uint16_t in,
			    struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t out = s->port[in].peer;
	uint32_t mtu = s->port[out].mtu;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (unlikely(m->pkt_len < RTE_ETHER_HDR_LEN))
			dp_drop(w, in, DP_DROP_BAD_FRAME, m);
		else if (unlikely(!dp_fits_mtu(m, mtu)))
			dp_drop(w, out, DP_DROP_MTU_EXCEEDED, m);
		else
			dp_tx(w, out, m);
	}
}

#endif
