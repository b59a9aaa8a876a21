/* SPDX-License-Identifier: BSD-3-Clause */
/* The vswitch's stage: bursts from access and trunk ports. Worker code. */
#include "switch_datapath.h"

uint16_t vsw_irb_stage = DP_STAGE_DROP;

static void vsw_stage_input(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	struct dp_burst routed;
	struct vsw_ctx c;

	vsw_ctx_init(&c, w, s);
	routed.n = 0;
	vsw_input(&c, b->port, b->queue, b->pkts, b->n, b->now, &routed);
	/* The router interfaces' frames, after the switched ones (as counted in order). */
	if (routed.n) {
		routed.port = b->port;
		routed.queue = b->queue;
		routed.now = b->now;
		dp_stage_run(w, s, vsw_irb_stage, &routed);
	}
}

struct dp_stage vsw_stage = { .name = "vswitch", .module = "vswitch", .fn = vsw_stage_input };
DP_STAGE_REGISTER(vsw_stage)

DP_DROPS_REGISTER(vsw_drops, "vswitch", VSW_DROPS)
