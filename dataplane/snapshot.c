/* SPDX-License-Identifier: BSD-3-Clause */
#include "snapshot.h"

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "module.h"
#include "port.h"
#include "rcu.h"
#include "stage.h"
#include "worker.h"

struct dp_snapshot *dp_snap;
bool dp_running;
uint64_t dp_tsc_hz;

static struct dp_snapshot *snap_alloc(void)
{
	return rte_zmalloc("tess_snapshot", sizeof(struct dp_snapshot), RTE_CACHE_LINE_SIZE);
}

/* RX queues go to workers round-robin across all ports, so load spreads evenly. */
static void plan_rx(struct dp_snapshot *s)
{
	unsigned nw = dp_worker_count(), k = 0;

	memset(s->n_rxq, 0, sizeof(s->n_rxq));
	for (uint16_t id = 0; id < DP_MAX_PORTS; id++) {
		struct dp_port *p = dp_port_by_id(id);

		if (p && p->draining)
			p = NULL; /* being removed: no worker polls or sends to it */
		s->port[id].mtu = p ? p->cfg.mtu : 0;
		if (p == NULL) {
			s->port[id].stage = DP_STAGE_DROP;
			continue;
		}
		if (p->kind == DP_PORT_VHOST)
			continue; /* polled from its worker's active list (vhost.h) */
		for (uint16_t q = 0; q < p->n_rxq; q++, k++) {
			unsigned w = k % nw;
			if (s->n_rxq[w] < DP_MAX_RXQ_PER_WORKER)
				s->rxq[w][s->n_rxq[w]++] =
					(struct dp_rxq){ .port = id, .queue = q };
		}
	}
}

int dp_snapshot_init(void)
{
	struct dp_snapshot *s = snap_alloc();

	dp_tsc_hz = rte_get_tsc_hz();
	if (s == NULL)
		return -ENOMEM;
	plan_rx(s);
	__atomic_store_n(&dp_snap, s, __ATOMIC_RELEASE);
	return 0;
}

void dp_snapshot_fini(void)
{
	dp_snapshot_discard(dp_snap);
	dp_snap = NULL;
}

struct dp_snapshot *dp_snapshot_copy(void)
{
	struct dp_snapshot *s = snap_alloc();

	if (s == NULL)
		return NULL;
	memcpy(s, dp_snap, sizeof(*s));
	memset(s->part, 0, sizeof(s->part));
	TESS_MODULE_FOREACH (m) {
		void *old = dp_snap->part[m->id];

		if (m->part_size) /* its build fills it afresh */
			s->part[m->id] = rte_zmalloc("tess_snapshot_part", m->part_size,
						     RTE_CACHE_LINE_SIZE);
		else if (m->snap_copy && old)
			s->part[m->id] = m->snap_copy(old);
		if ((m->part_size || (m->snap_copy && old)) && s->part[m->id] == NULL) {
			dp_snapshot_discard(s);
			return NULL;
		}
	}
	return s;
}

void dp_snapshot_discard(struct dp_snapshot *s)
{
	TESS_MODULE_FOREACH (m) {
		if (m->part_size)
			rte_free(s->part[m->id]);
		else if (m->snap_free && s->part[m->id])
			m->snap_free(s->part[m->id]);
	}
	rte_free(s);
}

static void snap_free(void *arg)
{
	dp_snapshot_discard(arg);
}

void dp_snapshot_publish(struct dp_snapshot *next)
{
	struct dp_snapshot *old = dp_snap;

	next->gen = old->gen + 1;
	plan_rx(next);
	__atomic_store_n(&dp_snap, next, __ATOMIC_RELEASE);
	dp_rcu_defer(snap_free, old);
}
