/* SPDX-License-Identifier: BSD-3-Clause */
#include "rcu.h"

#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "log.h"

#define DP_RCU_DQ_SIZE 4096

struct rcu_item {
	void (*fn)(void *);
	void *arg;
};

struct rte_rcu_qsbr *dp_rcu_qsv;
static struct rte_rcu_qsbr_dq *dq;
static unsigned n_pending;

static void dq_free(void *p, void *elems, unsigned int n)
{
	struct rcu_item *it = elems;

	(void)p;
	for (unsigned i = 0; i < n; i++)
		it[i].fn(it[i].arg);
	n_pending -= n;
}

int dp_rcu_init(unsigned max_threads)
{
	size_t sz = rte_rcu_qsbr_get_memsize(max_threads);
	struct rte_rcu_qsbr_dq_parameters params = {
		.name = "tess_rcu_dq",
		.size = DP_RCU_DQ_SIZE,
		.esize = sizeof(struct rcu_item),
		/* Reclaim inline once a quarter of the queue is waiting. */
		.trigger_reclaim_limit = DP_RCU_DQ_SIZE / 4,
		.max_reclaim_size = DP_RCU_DQ_SIZE,
		.free_fn = dq_free,
	};

	dp_rcu_qsv = rte_zmalloc("tess_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (dp_rcu_qsv == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(dp_rcu_qsv, max_threads) < 0) {
		rte_free(dp_rcu_qsv);
		dp_rcu_qsv = NULL;
		return -rte_errno;
	}
	params.v = dp_rcu_qsv;
	dq = rte_rcu_qsbr_dq_create(&params);
	if (dq == NULL) {
		int e = rte_errno;
		rte_free(dp_rcu_qsv);
		dp_rcu_qsv = NULL;
		return -e;
	}
	n_pending = 0;
	return 0;
}

void dp_rcu_fini(void)
{
	if (dq) {
		/* Readers are gone by now: everything left is due. */
		dp_rcu_synchronize();
		dp_rcu_reclaim();
		rte_rcu_qsbr_dq_delete(dq);
		dq = NULL;
	}
	rte_free(dp_rcu_qsv);
	dp_rcu_qsv = NULL;
}

void dp_rcu_synchronize(void)
{
	rte_rcu_qsbr_synchronize(dp_rcu_qsv, RTE_QSBR_THRID_INVALID);
}

void dp_rcu_defer(void (*fn)(void *), void *arg)
{
	struct rcu_item it = { .fn = fn, .arg = arg };

	if (rte_rcu_qsbr_dq_enqueue(dq, &it) == 0) {
		n_pending++;
		return;
	}
	DP_LOG(WARNING, "RCU defer queue full (%s): waiting for workers", rte_strerror(rte_errno));
	dp_rcu_synchronize();
	fn(arg);
}

unsigned dp_rcu_reclaim(void)
{
	unsigned freed = 0, pending = 0, avail = 0;

	if (dq == NULL)
		return 0;
	rte_rcu_qsbr_dq_reclaim(dq, DP_RCU_DQ_SIZE, &freed, &pending, &avail);
	return freed;
}

unsigned dp_rcu_pending(void)
{
	return n_pending;
}

void dp_rcu_online(unsigned tid)
{
	rte_rcu_qsbr_thread_register(dp_rcu_qsv, tid);
	rte_rcu_qsbr_thread_online(dp_rcu_qsv, tid);
}

void dp_rcu_offline(unsigned tid)
{
	rte_rcu_qsbr_thread_offline(dp_rcu_qsv, tid);
	rte_rcu_qsbr_thread_unregister(dp_rcu_qsv, tid);
}
