/* SPDX-License-Identifier: BSD-3-Clause */
#include "drop.h"

#include <stddef.h>

#define DP_MAX_DROP_SETS 16

static const char *const core_names[] = { NULL, DP_CORE_DROPS(DP_DROP_NAME) };
static struct dp_drop_set *sets[DP_MAX_DROP_SETS];
static unsigned n_sets;
unsigned dp_n_drops = DP_DROP_CORE_MAX;
static uint64_t ctl_drops[DP_MAX_DROPS];

void dp_drops_register(struct dp_drop_set *set)
{
	/* A constructor cannot fail: a build with too many modules stops at once. */
	RTE_VERIFY(n_sets < DP_MAX_DROP_SETS && dp_n_drops + set->n <= DP_MAX_DROPS);
	set->base = dp_n_drops - DP_DROP_CORE_MAX;
	dp_n_drops += set->n;
	sets[n_sets++] = set;
}

static const struct dp_drop_set *set_of(unsigned id)
{
	for (unsigned i = 0; i < n_sets; i++)
		if (id >= sets[i]->base + DP_DROP_CORE_MAX &&
		    id < sets[i]->base + DP_DROP_CORE_MAX + sets[i]->n)
			return sets[i];
	return NULL;
}

const char *dp_drop_name(unsigned id)
{
	const struct dp_drop_set *s;

	if (id < DP_DROP_CORE_MAX)
		return core_names[id];
	s = set_of(id);
	return s ? s->names[id - s->base - DP_DROP_CORE_MAX] : NULL;
}

const char *dp_drop_module(unsigned id)
{
	const struct dp_drop_set *s;

	if (id < DP_DROP_CORE_MAX)
		return id ? "core" : NULL;
	s = set_of(id);
	return s ? s->module : NULL;
}

const char *dp_drop_set_name(const struct dp_drop_set *set, unsigned why)
{
	if (why < DP_DROP_CORE_MAX)
		return core_names[why];
	return why - DP_DROP_CORE_MAX < set->n ? set->names[why - DP_DROP_CORE_MAX] : NULL;
}

void dp_ctl_drop(unsigned id)
{
	if (id < DP_MAX_DROPS)
		ctl_drops[id]++;
}

uint64_t dp_ctl_drops(unsigned id)
{
	return id < DP_MAX_DROPS ? ctl_drops[id] : 0;
}
