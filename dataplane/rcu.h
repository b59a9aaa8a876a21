/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Quiescent-state RCU for tables that workers read without locks. Workers
 * report a quiescent state once per poll loop (between bursts, holding no
 * table pointer); the control thread replaces a table, then either waits
 * (dp_rcu_synchronize) or defers the free of the old copy (dp_rcu_defer),
 * which dp_rcu_reclaim runs once every worker has passed a quiescent state.
 * DPDK 22.11's rte_fib/rte_hash have no built-in RCU, so every table of
 * Tessera goes through this.
 */
#ifndef TESS_RCU_H
#define TESS_RCU_H

#include <rte_rcu_qsbr.h>

extern struct rte_rcu_qsbr *dp_rcu_qsv;

/* Control thread. max_threads: the number of reader (worker) threads. */
int dp_rcu_init(unsigned max_threads);
void dp_rcu_fini(void);
void dp_rcu_synchronize(void);
/*
 * Calls fn(arg) once no reader can hold what arg points to. Never fails:
 * when the defer queue is full it waits for readers and frees at once.
 */
void dp_rcu_defer(void (*fn)(void *), void *arg);
/* Runs the deferred frees that are due; returns how many. */
unsigned dp_rcu_reclaim(void);
/* Deferred frees not yet run. */
unsigned dp_rcu_pending(void);

/* Reader (worker) threads. */
void dp_rcu_online(unsigned tid);
void dp_rcu_offline(unsigned tid);
static inline void dp_rcu_quiescent(unsigned tid)
{
	rte_rcu_qsbr_quiescent(dp_rcu_qsv, tid);
}

#endif
