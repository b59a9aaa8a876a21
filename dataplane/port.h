/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports: DPDK devices probed from devargs, configured and started (control thread). */
#ifndef TESS_PORT_H
#define TESS_PORT_H

#include <stdbool.h>

#include <rte_ethdev.h>

#include "dp.h"
#include "tessd_config.h"

/* A port's backend: an ethdev (ids below DP_MAX_ETHDEV) or a vhost-user socket (vhost.h). */
enum dp_port_kind { DP_PORT_ETHDEV, DP_PORT_VHOST };

struct dp_port {
	bool used;
	uint16_t id;
	uint8_t kind;    /* enum dp_port_kind */
	bool vhost_open; /* vhost: its socket is registered */
	struct tessd_port_cfg cfg;
	char devname[TESS_DEVARGS_LEN];
	char driver[32];
	int socket;
	uint16_t n_rxq, n_txq;
	uint16_t rx_desc, tx_desc;
	bool rss, scatter;
	bool tx_multiseg; /* can send chained mbufs */
	bool draining;    /* being removed: workers no longer poll it */
	uint64_t mbufs;   /* its share of the pool budget */
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	/* Counters at the last reset: reported values are "now - base". */
	struct dp_counters base;
	uint64_t drop_base[DP_MAX_DROPS];
	struct rte_eth_stats hw_base;
};

#define DP_PORT_FOREACH(p) \
	for (struct dp_port *p = dp_port_next(NULL); p != NULL; p = dp_port_next(p))

/*
 * Brings up every port of cfg: probe all, size and create the mbuf pools,
 * configure and start. On failure closes what it opened and fills "err"
 * naming the port's config path.
 */
int dp_ports_init(const struct tessd_cfg *cfg, char *err, size_t err_len);
void dp_ports_fini(void);
/*
 * At runtime: brings up one port, or says why not with "path" (e.g.
 * "/params") naming it. It carries no traffic until a snapshot names it.
 */
int dp_port_create(const struct tessd_port_cfg *pc, const char *path, char *err, size_t len);
/* Closes a port no snapshot names any more and no worker can touch (after RCU). */
void dp_port_destroy(struct dp_port *p);

/* Longest frame the port receives or sends: MTU, Ethernet header, two VLAN tags. */
static inline uint32_t dp_port_max_frame(const struct dp_port *p)
{
	return p->cfg.mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN;
}

struct dp_port *dp_port_next(struct dp_port *p);
struct dp_port *dp_port_by_name(const char *name);
struct dp_port *dp_port_by_id(uint16_t id);
unsigned dp_port_count(void);

/*
 * How many more ports tessd can take, from its real limits: ethdev ids (DPDK's
 * RTE_MAX_ETHPORTS, shared with devices DPDK probed itself) and vhost slots
 * (DP_MAX_VHOST). The vhost library also polls every server port's listening fd
 * and every connected guest's fd in one set of DP_VHOST_FD_SET (DPDK 22.11's
 * MAX_FDS less its own slot): a client port (tessmgrd's desktops) takes one slot
 * once its guest connects, a server port one for listening and one for its guest.
 * vhost_free is the client ports that still fit both, each counted as connected.
 */
#define DP_VHOST_FD_SET 1023
struct dp_port_capacity {
	unsigned ethdev_max, ethdev_used, ethdev_free;
	unsigned vhost_max, vhost_used, vhost_free;
	unsigned vhost_server, vhost_client, vhost_connected;
	unsigned fd_set_max, fd_set_committed; /* slots, every port counted as connected */
};
void dp_port_capacity(struct dp_port_capacity *c);

/* Polls link state and logs changes. */
void dp_ports_poll_link(void);

/*
 * Mbuf pools, one per NUMA node with ports. Sized at start from the ports'
 * rings, the workers' bursts and buffers, and room for ports added later
 * (or eal.mbufs); each port then reserves its rings' share, and a port is
 * refused when its pool cannot hold its rings.
 */
int dp_mempools_init(const struct tessd_eal_cfg *eal, char *err, size_t len);
int dp_mempool_reserve(struct dp_port *p, const char *path, char *err, size_t len);
void dp_mempool_release(struct dp_port *p);
struct rte_mempool *dp_mempool(int socket);
void dp_mempools_free(void);

#endif
