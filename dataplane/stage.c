/* SPDX-License-Identifier: BSD-3-Clause */
#include "stage.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "tx_datapath.h"

struct dp_stage *dp_stages[DP_MAX_STAGES];
unsigned dp_n_stages;

/* A port no module owns: whatever it receives is dropped. */
static void drop_stage(struct dp_worker *w, const struct dp_snapshot *s, struct dp_burst *b)
{
	(void)s;
	for (uint16_t i = 0; i < b->n; i++)
		dp_drop(w, b->port, DP_DROP_NO_OUTPUT, b->pkts[i]);
}

static struct dp_stage drop = { .name = "drop", .module = "core", .fn = drop_stage };

void dp_stage_register(struct dp_stage *st)
{
	if (dp_n_stages == 0) {
		dp_stages[0] = &drop;
		dp_n_stages = 1;
	}
	/* A constructor cannot fail: a build with too many stages stops at once. */
	RTE_VERIFY(dp_n_stages < DP_MAX_STAGES);
	st->id = (uint16_t)dp_n_stages;
	dp_stages[dp_n_stages++] = st;
}

static const char *arc_of(const struct dp_stage *st)
{
	return st->arc ? st->arc : st->name;
}

int dp_stages_link(void)
{
	if (dp_n_stages == 0) {
		dp_stages[0] = &drop;
		dp_n_stages = 1;
	}
	for (unsigned i = 1; i < dp_n_stages; i++) {
		struct dp_stage *st = dp_stages[i];
		struct dp_stage *best = NULL;

		/* The next: the lowest rank above ours on the same arc (ties by registration). */
		for (unsigned k = 1; k < dp_n_stages; k++) {
			struct dp_stage *o = dp_stages[k];
			if (k == i || strcmp(arc_of(o), arc_of(st)) != 0)
				continue;
			if (o->rank == st->rank) {
				DP_LOG(ERR, "stages %s and %s share rank %d of arc %s", st->name,
				       o->name, st->rank, arc_of(st));
				return -EINVAL;
			}
			if (o->rank > st->rank && (best == NULL || o->rank < best->rank))
				best = o;
		}
		st->next = best ? best->id : DP_STAGE_DROP;
	}
	return 0;
}

uint16_t dp_arc_first(const char *arc)
{
	const struct dp_stage *first = NULL;

	for (unsigned i = 1; i < dp_n_stages; i++)
		if (strcmp(arc_of(dp_stages[i]), arc) == 0 &&
		    (first == NULL || dp_stages[i]->rank < first->rank))
			first = dp_stages[i];
	return first ? first->id : DP_STAGE_DROP;
}
