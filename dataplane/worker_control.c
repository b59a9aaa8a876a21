/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <stdio.h>

#include "log.h"
#include "module.h"
#include "worker.h"

static struct dp_worker *workers[DP_MAX_WORKERS];
static unsigned n_workers;

static int worker_alloc(unsigned lcore)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct dp_worker *w;

	if (n_workers == DP_MAX_WORKERS)
		return -E2BIG;
	w = rte_zmalloc_socket("tess_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL)
		return -ENOMEM;
	w->idx = n_workers;
	w->lcore = lcore;
	w->cpu = (unsigned)rte_lcore_to_cpu_id((int)lcore);
	workers[n_workers++] = w;
	/* Sized by the drop reasons the built-in modules registered. */
	w->port_drop =
		rte_zmalloc_socket("tess_port_drops", sizeof(uint64_t) * DP_MAX_PORTS * dp_n_drops,
				   RTE_CACHE_LINE_SIZE, socket);
	w->drop_total = rte_zmalloc_socket("tess_drop_totals", sizeof(uint64_t) * dp_n_drops,
					   RTE_CACHE_LINE_SIZE, socket);
	if (w->port_drop == NULL || w->drop_total == NULL)
		return -ENOMEM;
	/* Each vhost port is on one ring at most: DP_MAX_VHOST entries never fill them. */
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "tess_vh_ready_%u", w->idx);
	w->vh_ready = rte_ring_create_elem(name, sizeof(uint32_t), DP_MAX_VHOST * 2, socket,
					   RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "tess_vh_idle_%u", w->idx);
	w->vh_idle = rte_ring_create_elem(name, sizeof(uint32_t), DP_MAX_VHOST * 2, socket,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->vh_ready == NULL || w->vh_idle == NULL)
		return -ENOMEM;
	TESS_MODULE_FOREACH (m) {
		int rc = m->worker_init ? m->worker_init(w, socket) : 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int dp_workers_init(void)
{
	unsigned lcore;

	RTE_LCORE_FOREACH_WORKER (lcore) {
		int rc = worker_alloc(lcore);
		if (rc < 0)
			return rc;
	}
	TESS_MODULE_FOREACH (m) {
		if (m->worker_poll)
			dp_worker_poll_add(m->worker_poll);
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
		/* Modules whose worker_init may not have run see NULL in w->mod. */
		for (unsigned k = tess_module_count(); k-- > 0;) {
			struct tess_module *m = tess_module_at(k);
			if (m->worker_fini)
				m->worker_fini(workers[i]);
		}
		rte_free(workers[i]->port_drop);
		rte_free(workers[i]->drop_total);
		rte_ring_free(workers[i]->vh_ready);
		rte_ring_free(workers[i]->vh_idle);
		rte_free(workers[i]);
	}
	n_workers = 0;
}
