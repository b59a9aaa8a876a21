/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet pipeline as stages, VPP/grout node style. A module registers
 * its stages (DP_STAGE_REGISTER) on an arc: the stages of one arc run in
 * rank order, each passing what it keeps on with dp_stage_next(), so a new
 * stage (NAT before routing, say) goes in by its module with a rank, and
 * no other code changes. A port's received bursts enter the stage its
 * owning module set in the snapshot (dp_port_fwd.stage); a stage may also
 * hand packets to another arc's first stage. Each stage counts its calls,
 * packets and cycles per worker (its own cycles, not those of the stages
 * it called), as VPP's `show runtime` does.
 */
#ifndef TESS_STAGE_H
#define TESS_STAGE_H

#include <rte_cycles.h>

#include "dp.h"

#define DP_STAGE_DROP   0 /* the core's: drops as no_output (a port nothing owns) */
#define DP_STAGE_TIMING 8 /* full bursts per timed one */

/* What a stage gets: packets, and per packet what the stage before found (an interface...). */
struct dp_burst {
	uint16_t n;
	uint16_t port;  /* received on; DP_PORT_NONE when not straight from a port */
	uint16_t queue; /* its RX queue */
	uint16_t stage; /* the stage running it */
	uint64_t now;   /* TSC at the start of the poll */
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t arg[DP_BURST];
};

typedef void (*dp_stage_fn)(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b);

struct dp_stage {
	const char *name;   /* shown in stats, e.g. "ip4-input" */
	const char *module; /* its module */
	const char *arc;    /* its arc; NULL: an arc of its own, named as the stage */
	int rank;           /* order within the arc */
	dp_stage_fn fn;     /* must consume (send, drop, hand on) every packet of the burst */
	uint16_t id;        /* set at registration */
	uint16_t next;      /* set at start: the next stage of its arc, DP_STAGE_DROP if last */
};

void dp_stage_register(struct dp_stage *st);
#define DP_STAGE_REGISTER(st)            \
	RTE_INIT(dp_stage_register_##st) \
	{                                \
		dp_stage_register(&st);  \
	}

extern struct dp_stage *dp_stages[DP_MAX_STAGES];
extern unsigned dp_n_stages;

/* Links the stages of each arc in rank order; before workers start. */
int dp_stages_link(void);
/* The first stage of an arc, or DP_STAGE_DROP (no such arc): for modules at init. */
uint16_t dp_arc_first(const char *arc);

/*
 * Runs stage id on b. Calls and packets are always counted; cycles only in
 * the bursts the worker times (dp_worker.timed: every small burst, one full
 * burst in DP_STAGE_TIMING): two TSC reads per stage and burst cost about
 * as much as a stage's own work at full rate.
 */
static inline void dp_stage_run(struct dp_worker *w, const struct dp_snapshot *s, uint16_t id,
				struct dp_burst *b)
{
	struct dp_stage_counters *c = &w->stage[id];
	uint64_t outer, t0, dt;
	uint16_t n = b->n;

	b->stage = id;
	dp_cnt_add(&c->calls, 1);
	dp_cnt_add(&c->pkts, n);
	if (likely(!w->timed)) {
		dp_stages[id]->fn(w, s, b);
		return;
	}
	outer = w->stage_nested;
	w->stage_nested = 0;
	t0 = rte_rdtsc();
	dp_stages[id]->fn(w, s, b);
	dt = rte_rdtsc() - t0;
	dp_cnt_add(&c->timed_pkts, n);
	dp_cnt_add(&c->cycles, dt - w->stage_nested);
	/* Our whole time is the calling stage's children's time. */
	w->stage_nested = outer + dt;
}

/* Hands what is left of b (b->n packets) to the next stage of the running stage's arc. */
static inline void dp_stage_next(struct dp_worker *w, const struct dp_snapshot *s,
				 struct dp_burst *b)
{
	if (b->n)
		dp_stage_run(w, s, dp_stages[b->stage]->next, b);
}

#endif
