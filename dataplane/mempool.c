/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "log.h"
#include "port.h"
#include "worker.h"

#define DP_MEMPOOL_CACHE 256
/* Mbufs beyond what rings and buffers can hold: in flight between stages, flood copies... */
#define DP_MEMPOOL_RESERVE 4096
/* Room for ports added at runtime when eal.mbufs is 0: 8 ports of 1024+1024 descriptors. */
#define DP_MEMPOOL_SPARE 16384

struct pool {
	struct rte_mempool *mp;
	uint64_t size;      /* mbufs in the pool */
	uint64_t committed; /* mbufs the ports' rings may hold */
};

static struct pool pools[RTE_MAX_NUMA_NODES];
static uint16_t room;      /* data room of every mbuf, headroom included */
static uint32_t cfg_mbufs; /* eal.mbufs */
static uint64_t tx_total;  /* TX ring slots of all ports: any pool's mbufs can sit in them */

/* RX rings fill from their own node's pool; TX rings hold mbufs of any pool. */
static uint64_t rx_need(const struct dp_port *p)
{
	if (p->kind == DP_PORT_VHOST)
		return 0; /* the guest's rings hold its own memory, not mbufs */
	return (uint64_t)p->n_rxq * p->rx_desc;
}

static uint64_t tx_need(const struct dp_port *p)
{
	if (p->kind == DP_PORT_VHOST)
		return 0;
	return (uint64_t)p->n_txq * p->tx_desc;
}

/*
 * Mbufs a worker holds outside rings: what came in since its TX buffers were
 * last flushed, at most DP_TX_HOLD_MAX and the burst that reached it (dp.h),
 * twice (a flood adds one tagged copy of a frame its access ports share).
 * Not per port: 1056 ports' buffers of DP_BURST would be 33792 a worker.
 */
#define DP_WORKER_HOLD (2 * (DP_TX_HOLD_MAX + DP_BURST))

/* Mbufs held outside rings: the workers', lcore caches, the reserve. */
static uint64_t overhead(void)
{
	return (uint64_t)dp_worker_count() * DP_WORKER_HOLD +
	       (uint64_t)rte_lcore_count() * DP_MEMPOOL_CACHE + DP_MEMPOOL_RESERVE;
}

/* Whether p's frames may be chained mbufs: it can receive and send chains. */
static bool can_chain(const struct dp_port *p)
{
	struct rte_eth_dev_info info;

	if (p->kind == DP_PORT_VHOST)
		return true; /* the vhost library chains and sends chains */
	return rte_eth_dev_info_get(p->id, &info) == 0 &&
	       (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) && p->tx_multiseg;
}

/*
 * Data room: eal.mbuf_size, or the default 2 KiB unless a startup port has
 * longer frames and cannot chain mbufs; then every mbuf holds that port's
 * longest frame. So a chained frame only ever meets ports that can send it,
 * and the datapath never checks.
 */
static uint16_t pick_room(const struct tessd_eal_cfg *eal)
{
	uint32_t r = eal->mbuf_size ? eal->mbuf_size : RTE_MBUF_DEFAULT_DATAROOM;

	if (eal->mbuf_size == 0) {
		DP_PORT_FOREACH (p) {
			if (dp_port_max_frame(p) > r && !can_chain(p))
				r = dp_port_max_frame(p);
		}
	}
	return (uint16_t)(RTE_ALIGN_CEIL(r, RTE_CACHE_LINE_SIZE) + RTE_PKTMBUF_HEADROOM);
}

static int create(int s, uint64_t need, char *err, size_t len)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	uint64_t n = cfg_mbufs ? cfg_mbufs : need + tx_total + overhead() + DP_MEMPOOL_SPARE;

	/* A pool of 2^k - 1 elements uses its ring fully. */
	n = rte_align64pow2(n + 1) - 1;
	snprintf(name, sizeof(name), "tess_mbuf_%d", s);
	pools[s].mp = rte_pktmbuf_pool_create(name, (unsigned)n, DP_MEMPOOL_CACHE, 0, room, s);
	if (pools[s].mp == NULL) {
		snprintf(err, len,
			 "/eal/memory_mb: cannot create a pool of %" PRIu64 " mbufs (%" PRIu64
			 " MiB) on NUMA node %d: %s; raise it or reserve more hugepages",
			 n, (n * (room + sizeof(struct rte_mbuf))) >> 20, s,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	pools[s].size = n;
	pools[s].committed = tx_total + overhead();
	DP_LOG(INFO, "mbuf pool on NUMA node %d: %" PRIu64 " mbufs of %u bytes", s, n, room);
	return 0;
}

int dp_mempools_init(const struct tessd_eal_cfg *eal, char *err, size_t len)
{
	uint64_t need[RTE_MAX_NUMA_NODES] = { 0 };

	cfg_mbufs = eal->mbufs;
	room = pick_room(eal);
	DP_PORT_FOREACH (p) {
		need[p->socket] += rx_need(p) + tx_need(p);
	}
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		uint64_t all_tx = 0;
		DP_PORT_FOREACH (p) {
			all_tx += p->socket == s ? 0 : tx_need(p);
		}
		if (need[s] && create(s, need[s] + all_tx, err, len) < 0)
			return -ENOMEM;
	}
	return 0;
}

int dp_mempool_reserve(struct dp_port *p, const char *path, char *err, size_t len)
{
	uint64_t rx = rx_need(p), tx = tx_need(p);
	struct pool *own;

	if (room == 0) {
		snprintf(err, len, "%s: mbuf pools are not set up", path);
		return -EINVAL;
	}
	if (dp_port_max_frame(p) > (uint32_t)room - RTE_PKTMBUF_HEADROOM && !can_chain(p)) {
		snprintf(err, len,
			 "%s/mtu: MTU %u needs mbufs of %u bytes (driver %s cannot chain them), "
			 "tessd's have %u: set eal.mbuf_size and restart",
			 path, p->cfg.mtu, dp_port_max_frame(p), p->driver,
			 room - RTE_PKTMBUF_HEADROOM);
		return -EINVAL;
	}
	own = &pools[p->socket];
	if (own->mp == NULL && create(p->socket, rx + tx, err, len) < 0)
		return -ENOMEM;
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		uint64_t add = tx + (s == p->socket ? rx : 0);
		if (pools[s].mp && pools[s].committed + add > pools[s].size) {
			snprintf(err, len,
				 "%s: the mbuf pool of NUMA node %d has %" PRIu64 " of %" PRIu64
				 " mbufs committed, this port's rings need %" PRIu64
				 "; raise eal.mbufs or lower rx_desc/tx_desc",
				 path, s, pools[s].committed, pools[s].size, add);
			return -ENOSPC;
		}
	}
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (pools[s].mp)
			pools[s].committed += tx + (s == p->socket ? rx : 0);
	tx_total += tx;
	p->mbufs = rx + tx;
	return 0;
}

void dp_mempool_release(struct dp_port *p)
{
	uint64_t rx = rx_need(p), tx = tx_need(p);

	if (p->mbufs == 0)
		return;
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (pools[s].mp)
			pools[s].committed -= tx + (s == p->socket ? rx : 0);
	tx_total -= tx;
	p->mbufs = 0;
}

struct rte_mempool *dp_mempool(int socket)
{
	return socket >= 0 && socket < RTE_MAX_NUMA_NODES ? pools[socket].mp : NULL;
}

void dp_mempools_free(void)
{
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(pools[s].mp);
		pools[s] = (struct pool){ 0 };
	}
	room = 0;
	tx_total = 0;
}
