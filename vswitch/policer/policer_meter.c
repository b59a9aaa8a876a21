/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "policer_meter.h"

/* kbit/s as bytes per second, over share workers (at least 1 byte/s: rte_meter refuses 0). */
static uint64_t rate_of(uint32_t kbps, unsigned share)
{
	uint64_t r = (uint64_t)kbps * 1000 / 8 / share;

	return r ? r : 1;
}

/*
 * A worker's share of a burst, never below a frame of max_frame bytes: a
 * bucket smaller than a frame colours every such frame red forever, whatever
 * the rate (the config only checks the total against 1518 bytes).
 */
static uint64_t burst_of(uint32_t total, unsigned share, uint32_t max_frame)
{
	uint64_t b = total / share;

	return b < max_frame ? max_frame : b;
}

int pol_profile_make(struct pol_profile *out, const struct tessd_policer_cfg *c, unsigned share,
		     uint32_t max_frame)
{
	if (share == 0)
		share = 1;
	memset(out, 0, sizeof(*out));
	out->type = c->type;
	out->color = c->color;
	out->yellow_dscp = (int8_t)c->yellow_dscp;
	if (c->type == TESS_POL_SRTCM) {
		struct rte_meter_srtcm_params p = {
			.cir = rate_of(c->cir_kbps, share),
			.cbs = burst_of(tessd_policer_burst(c->cbs, c->cir_kbps), share, max_frame),
			/* ebs 0: no excess burst, nothing yellow. */
			.ebs = c->ebs ? burst_of(c->ebs, share, max_frame) : 0,
		};
		return rte_meter_srtcm_profile_config(&out->sr, &p);
	}
	struct rte_meter_trtcm_params p = {
		.cir = rate_of(c->cir_kbps, share),
		.pir = rate_of(c->pir_kbps, share),
		.cbs = burst_of(tessd_policer_burst(c->cbs, c->cir_kbps), share, max_frame),
		.pbs = burst_of(tessd_policer_burst(c->pbs, c->pir_kbps), share, max_frame),
	};
	return rte_meter_trtcm_profile_config(&out->tr, &p);
}
