/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's stages: ip4-port (routed ports to their interfaces), then
 * arc "ip4": ip4-input (checks, rank 100) and ip4-route (lookup and
 * forwarding, rank 200). A module adds a stage to arc "ip4" between them
 * (NAT, a firewall) with a rank of its own. Worker code.
 */
#include "router_datapath.h"

uint16_t l3_ip4_arc = DP_STAGE_DROP; /* the first stage of arc "ip4", set at init */

static void ip4_port_stage(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	struct l3_ctx x;

	l3_ctx_init(&x, w, s);
	l3_port_input(&x, b);
	if (b->n)
		dp_stage_run(w, s, l3_ip4_arc, b);
	l3_kick_flush(x.lw);
}

/* What the vswitch routes (IRB): arc "ip4", then the burst's kick. */
static void ip4_irb_stage(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	struct l3_worker *lw = dp_worker_mod(w, &l3_module);

	dp_stage_run(w, s, l3_ip4_arc, b);
	l3_kick_flush(lw);
}

static void ip4_input_stage(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	struct l3_ctx x;

	l3_ctx_init(&x, w, s);
	l3_input(&x, b);
	dp_stage_next(w, s, b);
}

static void ip4_route_stage(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	struct l3_ctx x;

	l3_ctx_init(&x, w, s);
	l3_route(&x, b);
}

struct dp_stage l3_port_stage = { .name = "ip4-port", .module = "router", .fn = ip4_port_stage };
DP_STAGE_REGISTER(l3_port_stage)
struct dp_stage l3_irb_stage = { .name = "ip4-irb", .module = "router", .fn = ip4_irb_stage };
DP_STAGE_REGISTER(l3_irb_stage)
struct dp_stage l3_input_stage = {
	.name = "ip4-input", .module = "router", .arc = "ip4", .rank = 100, .fn = ip4_input_stage
};
DP_STAGE_REGISTER(l3_input_stage)
struct dp_stage l3_route_stage = {
	.name = "ip4-route", .module = "router", .arc = "ip4", .rank = 200, .fn = ip4_route_stage
};
DP_STAGE_REGISTER(l3_route_stage)

void l3_worker_poll(struct dp_worker *w, const struct dp_snapshot *s)
{
	struct l3_ctx x;

	l3_ctx_init(&x, w, s);
	l3_inject(&x);
}

DP_DROPS_REGISTER(l3_drops, "router", L3_DROPS)
