/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Burst hooks: where modules (the policer, the firewall) act on the packets
 * of an object (a port, a vswitch group, a VRF, a router interface) in one
 * direction. The snapshot marks the objects something is attached to
 * (dp_hook_mark, by each module's build); a stage asks once per burst
 * whether any object of a kind has one (dp_hook_any) and only then calls
 * dp_hook_call, once per run of packets of one object, which runs the
 * functions of the modules attached to that object in rank order, each on
 * what the ones before kept. With nothing attached a burst costs one load,
 * never a call per packet.
 */
#ifndef TESS_HOOK_H
#define TESS_HOOK_H

#include "dp.h"

/*
 * The function a module registers: acts on n packets of object id (all of
 * that object, in that direction), frees and counts (on port, unless
 * DP_PORT_NONE) those it drops and returns them as a mask (bit i: pkts[i]).
 */
typedef uint32_t (*dp_hook_fn)(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind,
			       unsigned dir, uint16_t id, uint16_t port, struct rte_mbuf **pkts,
			       uint16_t n, uint64_t now);

/* A module's hook, registered before main() (a constructor). */
struct dp_hook {
	const char *name;
	unsigned rank; /* lower runs first on an object both modules hook */
	dp_hook_fn fn;
	uint8_t idx; /* set at registration: its bits in dp_hooks.mod */
};

/* More than DP_HOOK_MAX hooks stop tessd at start. */
void dp_hook_register(struct dp_hook *h);
#define DP_HOOK_REGISTER(h)            \
	RTE_INIT(dp_hook_register_##h) \
	{                              \
		dp_hook_register(&h);  \
	}

/* For a module's build: h acts on object id of kind in direction dir (id < DP_HOOK_IDS). */
static inline void dp_hook_mark(struct dp_snapshot *s, const struct dp_hook *h, unsigned kind,
				unsigned dir, uint16_t id)
{
	dp_bit_set(s->hooks.mod[h->idx][kind][dir], id);
	dp_bit_set(s->hooks.on[kind][dir], id);
	s->hooks.any[kind][dir] = true;
}

/*
 * The hooks on n packets of object id, which has one (dp_hook_on): each
 * module's attached to it, in rank order, on the packets the ones before
 * kept. The mask of those dropped (freed and counted by their module).
 */
uint32_t dp_hook_call(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind, unsigned dir,
		      uint16_t id, uint16_t port, struct rte_mbuf **pkts, uint16_t n, uint64_t now);

static inline bool dp_hook_any(const struct dp_snapshot *s, unsigned kind, unsigned dir)
{
	return s->hooks.any[kind][dir];
}

static inline bool dp_hook_on(const struct dp_snapshot *s, unsigned kind, unsigned dir, uint16_t id)
{
	return id < DP_HOOK_IDS && dp_bit(s->hooks.on[kind][dir], id);
}

/* The hook on n packets of one object if it has one: the mask of those dropped. */
static inline uint32_t dp_hook_run(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind,
				   unsigned dir, uint16_t id, uint16_t port, struct rte_mbuf **pkts,
				   uint16_t n, uint64_t now)
{
	if (!dp_hook_on(s, kind, dir, id))
		return 0;
	return dp_hook_call(w, s, kind, dir, id, port, pkts, n, now);
}

/*
 * The hook on runs of packets of the same object (ids[i] of pkts[i]): the
 * mask of those dropped. Call only when dp_hook_any says so.
 */
static inline uint32_t dp_hook_runs(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind,
				    unsigned dir, const uint16_t *ids, uint16_t port,
				    struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	uint32_t mask = 0;
	uint16_t i = 0;

	while (i < n) {
		uint16_t j = i + 1;

		while (j < n && ids[j] == ids[i])
			j++;
		mask |= dp_hook_run(w, s, kind, dir, ids[i], port, pkts + i, (uint16_t)(j - i), now)
			<< i;
		i = j;
	}
	return mask;
}

/* Removes the packets of mask from pkts (the kept ones keep their order): the count left. */
static inline uint16_t dp_hook_compact(struct rte_mbuf **pkts, uint16_t *arg, uint16_t n,
				       uint32_t mask)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (mask >> i & 1)
			continue;
		if (arg)
			arg[k] = arg[i];
		pkts[k++] = pkts[i];
	}
	return k;
}

#endif
