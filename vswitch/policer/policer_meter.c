/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "policer_meter.h"

/* kbit/s as bytes per second, over share workers (at least 1 byte/s: rte_meter refuses 0). */
static uint64_t rate_of(uint32_t kbps, unsigned share)
{
	uint64_t r = (uint64_t)kbps * 1000 / 8 / share;

	return r ? r : 1;
}

static uint64_t burst_of(uint32_t set, uint32_t kbps, unsigned share)
{
	uint64_t b = tessd_policer_burst(set, kbps) / share;

	return b ? b : 1;
}

int pol_profile_make(struct pol_profile *out, const struct tessd_policer_cfg *c, unsigned share)
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
			.cbs = burst_of(c->cbs, c->cir_kbps, share),
			.ebs = c->ebs / share,
		};
		return rte_meter_srtcm_profile_config(&out->sr, &p);
	}
	struct rte_meter_trtcm_params p = {
		.cir = rate_of(c->cir_kbps, share),
		.pir = rate_of(c->pir_kbps, share),
		.cbs = burst_of(c->cbs, c->cir_kbps, share),
		.pbs = burst_of(c->pbs, c->pir_kbps, share),
	};
	return rte_meter_trtcm_profile_config(&out->tr, &p);
}
