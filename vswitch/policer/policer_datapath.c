/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policer's hook (dataplane/hook.h): called once per run of frames of
 * one policed object; meters each frame on this worker's meter of the
 * attachment, drops red, re-marks yellow if asked, counts once per run.
 * Worker code: no syscalls, locks, logs or allocation.
 */
#include "hook.h"
#include "policer_meter.h"
#include "tx_datapath.h"

uint32_t pol_hook(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind, unsigned dir,
		  uint16_t id, uint16_t port, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	const struct pol_part *pp = dp_snap_part(s, &pol_module);
	uint16_t slot = pp->slot[kind][dir][id];
	const struct pol_profile *p = &pp->prof[slot];
	struct pol_worker *pw = dp_worker_mod(w, &pol_module);
	struct pol_meter *m = &pw->meter[slot];
	struct pol_counters *c = &pw->cnt[slot];
	uint32_t np[RTE_COLORS] = { 0 }, remarked = 0, gone = 0;
	uint64_t nb[RTE_COLORS] = { 0 };

	if (unlikely(m->gen != p->gen))
		pol_meter_reset(m, p, now);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *pk = pkts[i];
		enum rte_color in =
			p->color == TESS_POL_BLIND ? RTE_COLOR_GREEN : pol_color_of(p->color, pk);
		enum rte_color col = pol_meter_check(m, p, now, pk->pkt_len, in);

		np[col]++;
		nb[col] += pk->pkt_len;
		if (col == RTE_COLOR_RED) {
			gone |= UINT32_C(1) << i;
			rte_pktmbuf_free(pk);
		} else if (col == RTE_COLOR_YELLOW && p->yellow_dscp >= 0 &&
			   pol_remark(pk, (uint8_t)p->yellow_dscp)) {
			remarked++;
		}
	}
	for (unsigned k = 0; k < RTE_COLORS; k++) {
		if (np[k]) {
			dp_cnt_add(&c->pkts[k], np[k]);
			dp_cnt_add(&c->bytes[k], nb[k]);
		}
	}
	if (np[RTE_COLOR_RED]) {
		dp_cnt_add(&c->dropped, np[RTE_COLOR_RED]);
		dp_count_drops(w, port, dp_drop_id(&pol_drops, POL_DROP_POLICED),
			       np[RTE_COLOR_RED]);
	}
	if (remarked)
		dp_cnt_add(&c->remarked, remarked);
	return gone;
}

DP_DROPS_REGISTER(pol_drops, "policer", POL_DROPS)

/* After the firewall's (100): what a rule refuses takes no tokens of a policer's. */
struct dp_hook pol_dp_hook = { .name = "policer", .rank = 200, .fn = pol_hook };
DP_HOOK_REGISTER(pol_dp_hook)
