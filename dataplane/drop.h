/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Drop reasons. The core declares the few that any stage may hit; each
 * module declares its own next to its code (an X-macro list) and registers
 * them with DP_DROPS_REGISTER. A module's reasons are numbered after the
 * core's (DP_DROP_CORE_MAX ...), so its counter blocks hold the core
 * reasons and its own and nothing else; 0 is never a drop (DP_DROP_NONE).
 * At start every reason of every module gets a global id, which indexes
 * the per-port counters and the per-reason totals (`tessctl stats`).
 */
#ifndef TESS_DROP_H
#define TESS_DROP_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_debug.h>

/* id, name shown to users */
#define DP_CORE_DROPS(_)                                                                \
	_(NO_OUTPUT, "no_output")       /* rx port: nothing forwards from it */         \
	_(BAD_FRAME, "bad_frame")       /* rx port: shorter than its headers */         \
	_(MTU_EXCEEDED, "mtu_exceeded") /* tx port: frame larger than its MTU allows */ \
	_(TX_FULL, "tx_full")           /* tx port: its TX queue was full */            \
	_(NO_MBUF, "no_mbuf")           /* out of mbufs for a copy or a tag */

#define DP_DROP_ENUM(id, name) DP_DROP_##id,
#define DP_DROP_NAME(id, name) name,

enum dp_drop {
	DP_DROP_NONE = 0, /* the packet goes on */
	DP_CORE_DROPS(DP_DROP_ENUM) DP_DROP_CORE_MAX
};

/* A module's reasons: names[r - DP_DROP_CORE_MAX] for its reason r. */
struct dp_drop_set {
	const char *module;
	const char *const *names;
	unsigned n;
	unsigned base; /* global id of reason r (>= DP_DROP_CORE_MAX) is base + r */
};

/* Called by DP_DROPS_REGISTER before main(). */
void dp_drops_register(struct dp_drop_set *set);

#define DP_DROPS_REGISTER(var, module_name, LIST)                        \
	static const char *const var##_names[] = { LIST(DP_DROP_NAME) }; \
	struct dp_drop_set var = { .module = (module_name),              \
				   .names = var##_names,                 \
				   .n = RTE_DIM(var##_names) };          \
	RTE_INIT(var##_register)                                         \
	{                                                                \
		dp_drops_register(&var);                                 \
	}

/* Global ids: 0 (none), the core's, then every module's. Final once main() runs. */
#define DP_MAX_DROPS 128
extern unsigned dp_n_drops;

/* The global id of reason "why" of a module (core reasons are their own id). */
static inline unsigned dp_drop_id(const struct dp_drop_set *set, unsigned why)
{
	return why < DP_DROP_CORE_MAX ? why : set->base + why;
}

/* Drops the control thread makes itself (slow path), by global id, for the totals. */
void dp_ctl_drop(unsigned id);
uint64_t dp_ctl_drops(unsigned id);

/* The name and the module of a global id ("core" for the core's). */
const char *dp_drop_name(unsigned id);
const char *dp_drop_module(unsigned id);
/* The name of a module's reason (what its own counter blocks hold). */
const char *dp_drop_set_name(const struct dp_drop_set *set, unsigned why);

#endif
