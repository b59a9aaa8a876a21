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
/* Mbufs beyond what rings and buffers can hold: in flight between stages, punted... */
#define DP_MEMPOOL_RESERVE 4096

static struct rte_mempool *pools[RTE_MAX_NUMA_NODES];

/*
 * Data room of the mbufs: the default 2 KiB, unless a port has longer frames
 * and its driver cannot chain mbufs on RX (no scatter, e.g. af_packet) or
 * cannot send chains (no multi-segment TX): then every mbuf is made large
 * enough for that port's longest frame. So a chained frame only ever meets
 * ports that can send it, and the datapath never checks.
 */
static uint16_t data_room(void)
{
	uint32_t room = RTE_MBUF_DEFAULT_DATAROOM;

	DP_PORT_FOREACH (p) {
		struct rte_eth_dev_info info;
		uint32_t frame = dp_port_max_frame(p);

		if (frame > room && rte_eth_dev_info_get(p->id, &info) == 0 &&
		    (!(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) || !p->tx_multiseg))
			room = frame;
	}
	return (uint16_t)(RTE_ALIGN_CEIL(room, RTE_CACHE_LINE_SIZE) + RTE_PKTMBUF_HEADROOM);
}

int dp_mempools_create(char *err, size_t len)
{
	uint64_t need[RTE_MAX_NUMA_NODES] = { 0 };
	unsigned nw = dp_worker_count(), np = dp_port_count();
	uint16_t room = data_room();

	uint64_t tx_all = 0;

	/*
	 * RX rings fill from their own node's pool; a TX ring can hold mbufs of
	 * any pool (a frame leaves on another port than it came in), so every
	 * pool counts every TX ring.
	 */
	DP_PORT_FOREACH (p) {
		need[p->socket] += (uint64_t)p->n_rxq * p->rx_desc;
		tx_all += (uint64_t)p->n_txq * p->tx_desc;
	}
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		char name[RTE_MEMPOOL_NAMESIZE];
		uint64_t n;

		if (need[s] == 0 || pools[s])
			continue;
		n = need[s] + tx_all + (uint64_t)nw * DP_BURST * (np + 1) +
		    (uint64_t)rte_lcore_count() * DP_MEMPOOL_CACHE + DP_MEMPOOL_RESERVE;
		/* A pool of 2^k - 1 elements uses its ring fully. */
		n = rte_align64pow2(n + 1) - 1;
		snprintf(name, sizeof(name), "tess_mbuf_%d", s);
		pools[s] = rte_pktmbuf_pool_create(name, (unsigned)n, DP_MEMPOOL_CACHE, 0, room, s);
		if (pools[s] == NULL) {
			snprintf(err, len,
				 "/eal/memory_mb: cannot create a pool of %" PRIu64
				 " mbufs (%" PRIu64
				 " MiB) on NUMA node %d: %s; raise it or reserve more hugepages",
				 n, (n * (room + sizeof(struct rte_mbuf))) >> 20, s,
				 rte_strerror(rte_errno));
			return -ENOMEM;
		}
		DP_LOG(INFO, "mbuf pool on NUMA node %d: %" PRIu64 " mbufs of %u bytes", s, n,
		       room);
	}
	return 0;
}

struct rte_mempool *dp_mempool(int socket)
{
	return socket >= 0 && socket < RTE_MAX_NUMA_NODES ? pools[socket] : NULL;
}

void dp_mempools_free(void)
{
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(pools[s]);
		pools[s] = NULL;
	}
}
