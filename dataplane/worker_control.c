/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring_elem.h>
#include <stdio.h>

#include "l3.h"
#include "log.h"
#include "worker.h"

static struct dp_worker *workers[DP_MAX_WORKERS];
static unsigned n_workers;

int dp_workers_init(void)
{
	unsigned lcore;

	RTE_LCORE_FOREACH_WORKER (lcore) {
		char name[RTE_RING_NAMESIZE];
		struct dp_worker *w;

		if (n_workers == DP_MAX_WORKERS)
			return -E2BIG;
		w = rte_zmalloc_socket("tess_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
				       (int)rte_lcore_to_socket_id(lcore));
		if (w == NULL)
			return -ENOMEM;
		w->idx = n_workers;
		w->lcore = lcore;
		w->cpu = (unsigned)rte_lcore_to_cpu_id((int)lcore);
		workers[n_workers++] = w;
		w->grp =
			rte_zmalloc_socket("tess_group_counters", sizeof(*w->grp) * DP_VLANS,
					   RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
		snprintf(name, sizeof(name), "tess_learn%u", w->idx);
		w->learn = rte_ring_create_elem(name, sizeof(struct dp_learn_event), DP_LEARN_RING,
						(int)rte_lcore_to_socket_id(lcore),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->grp == NULL || w->learn == NULL)
			return -ENOMEM;
		w->vrfc =
			rte_zmalloc_socket("tess_vrf_counters", sizeof(*w->vrfc) * FIB_MAX_VRFS,
					   RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
		w->ifc =
			rte_zmalloc_socket("tess_iface_counters", sizeof(*w->ifc) * L3_MAX_IFACES,
					   RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
		snprintf(name, sizeof(name), "tess_punt%u", w->idx);
		w->punt = rte_ring_create(name, DP_PUNT_RING, (int)rte_lcore_to_socket_id(lcore),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "tess_inject%u", w->idx);
		w->inject = rte_ring_create(name, DP_PUNT_RING, (int)rte_lcore_to_socket_id(lcore),
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->vrfc == NULL || w->ifc == NULL || w->punt == NULL || w->inject == NULL)
			return -ENOMEM;
	}
	return n_workers ? 0 : -ENODEV;
}

unsigned dp_worker_count(void)
{
	return n_workers;
}

struct dp_worker *dp_worker_get(unsigned idx)
{
	return idx < n_workers ? workers[idx] : NULL;
}

int dp_workers_start(void)
{
	__atomic_store_n(&dp_running, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n_workers; i++) {
		int rc = rte_eal_remote_launch(dp_worker_main, workers[i], workers[i]->lcore);
		if (rc < 0) {
			DP_LOG(ERR, "cannot launch worker %u on lcore %u: %s", i, workers[i]->lcore,
			       rte_strerror(-rc));
			dp_workers_stop();
			return rc;
		}
	}
	return 0;
}

void dp_workers_stop(void)
{
	__atomic_store_n(&dp_running, false, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
}

void dp_workers_free(void)
{
	for (unsigned i = 0; i < n_workers; i++) {
		struct rte_mbuf *m;
		/* Packets still in flight between the control thread and the workers. */
		while (workers[i]->punt && rte_ring_dequeue(workers[i]->punt, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		while (workers[i]->inject && rte_ring_dequeue(workers[i]->inject, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(workers[i]->punt);
		rte_ring_free(workers[i]->inject);
		rte_free(workers[i]->vrfc);
		rte_free(workers[i]->ifc);
		rte_ring_free(workers[i]->learn);
		rte_free(workers[i]->grp);
		rte_free(workers[i]);
	}
	n_workers = 0;
}
