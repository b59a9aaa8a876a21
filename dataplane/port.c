/* SPDX-License-Identifier: BSD-3-Clause */
#include "port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "event.h"
#include "log.h"
#include "stats.h"
#include "module.h"
#include "vhost.h"
#include "worker.h"

static struct dp_port ports[DP_MAX_PORTS];

struct dp_port *dp_port_next(struct dp_port *p)
{
	size_t i = p ? (size_t)(p - ports) + 1 : 0;

	for (; i < RTE_DIM(ports); i++)
		if (ports[i].used)
			return &ports[i];
	return NULL;
}

struct dp_port *dp_port_by_name(const char *name)
{
	DP_PORT_FOREACH (p) {
		if (strcmp(p->cfg.name, name) == 0)
			return p;
	}
	return NULL;
}

struct dp_port *dp_port_by_id(uint16_t id)
{
	return id < RTE_DIM(ports) && ports[id].used ? &ports[id] : NULL;
}

unsigned dp_port_count(void)
{
	unsigned n = 0;

	DP_PORT_FOREACH (p) {
		(void)p;
		n++;
	}
	return n;
}

void dp_port_capacity(struct dp_port_capacity *c)
{
	unsigned total = rte_eth_dev_count_total(), room;

	memset(c, 0, sizeof(*c));
	c->ethdev_max = DP_MAX_ETHDEV;
	c->vhost_max = DP_MAX_VHOST;
	c->fd_set_max = DP_VHOST_FD_SET;
	DP_PORT_FOREACH (p) {
		if (!dp_port_is_vhost(p->id)) {
			c->ethdev_used++;
			continue;
		}
		c->vhost_used++;
		if (p->cfg.vhost.client)
			c->vhost_client++;
		else
			c->vhost_server++;
		if (p->vhost_open && dp_vhost_connected(p))
			c->vhost_connected++;
	}
	/* Ethdevs DPDK made that are no port of ours (a bonded slave, a probed PCI NIC)
	 * take ids too. */
	c->ethdev_free = total < DP_MAX_ETHDEV ? DP_MAX_ETHDEV - total : 0;
	c->fd_set_committed = 2 * c->vhost_server + c->vhost_client;
	room = c->fd_set_committed < c->fd_set_max ? c->fd_set_max - c->fd_set_committed : 0;
	c->vhost_free = c->vhost_max - c->vhost_used;
	if (room < c->vhost_free)
		c->vhost_free = room;
}

/* Undoes a probe that gave no usable port. */
static void remove_device(const char *devargs)
{
	struct rte_devargs da;

	if (rte_devargs_parse(&da, devargs) == 0) {
		/* da.name is the bus's own spelling (a PCI address gets its domain). */
		if (da.bus)
			rte_eal_hotplug_remove(rte_bus_name(da.bus), da.name);
		rte_devargs_reset(&da);
	}
}

/* The value of key in "dev,key=value,..." devargs, or "" (len bytes at most). */
static void devarg(const char *devargs, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	out[0] = '\0';
	for (const char *p = strchr(devargs, ','); p; p = strchr(p + 1, ',')) {
		if (strncmp(p + 1, key, kl) == 0 && p[1 + kl] == '=') {
			snprintf(out, len, "%.*s", (int)strcspn(p + 2 + kl, ","), p + 2 + kl);
			return;
		}
	}
}

/*
 * A vhost-user server socket left by a tessd that died would stop the port
 * from binding: remove it when nothing listens there; refuse when something
 * does (another process serves that VM).
 */
static int clear_stale_vhost_socket(const struct tessd_port_cfg *pc, const char *path, char *err,
				    size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char client[8], iface[sizeof(sa.sun_path)];
	struct stat st;
	int fd, rc = 0;

	if (strncmp(pc->devargs, "net_vhost", 9) != 0)
		return 0;
	devarg(pc->devargs, "client", client, sizeof(client));
	devarg(pc->devargs, "iface", iface, sizeof(iface));
	if (strcmp(client, "1") == 0 || iface[0] == '\0' || lstat(iface, &st) < 0 ||
	    !S_ISSOCK(st.st_mode))
		return 0;
	memcpy(sa.sun_path, iface, strlen(iface) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, len, "%s/devargs: %s is served by another process", path, iface);
		rc = -EADDRINUSE;
	} else if (errno == ECONNREFUSED) {
		DP_LOG(NOTICE, "removing stale vhost-user socket %s", iface);
		unlink(iface);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A vhost port takes the first free id above the ethdev range: nothing to probe. */
static int probe_vhost(const struct tessd_port_cfg *pc, const char *path, struct dp_port **out,
		       char *err, size_t len)
{
	uint16_t id = DP_MAX_ETHDEV;

	while (id < DP_MAX_PORTS && ports[id].used)
		id++;
	if (id == DP_MAX_PORTS) {
		snprintf(err, len, "%s/vhost: all %u vhost ports are in use", path, DP_MAX_VHOST);
		return -ENOSPC;
	}
	struct dp_port *p = &ports[id];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->id = id;
	p->kind = DP_PORT_VHOST;
	p->cfg = *pc;
	snprintf(p->devname, sizeof(p->devname), "%s", pc->vhost.path);
	p->socket = (int)rte_socket_id();
	*out = p;
	return 0;
}

static int probe(const struct tessd_port_cfg *pc, const char *path, struct dp_port **out, char *err,
		 size_t len)
{
	char devname[TESS_DEVARGS_LEN];
	struct rte_dev_iterator it;
	uint16_t id = RTE_MAX_ETHPORTS;
	int rc;

	if (pc->vhost.path[0])
		return probe_vhost(pc, path, out, err, len);
	tessd_devargs_name(pc->devargs, devname, sizeof(devname));
	rc = clear_stale_vhost_socket(pc, path, err, len);
	if (rc < 0)
		return rc;
	rc = rte_dev_probe(pc->devargs);
	if (rc < 0) {
		snprintf(err, len, "%s/devargs: cannot probe '%s': %s%s", path, pc->devargs,
			 rte_strerror(-rc), rc == -EEXIST ? " (device already probed)" : "");
		return rc;
	}
	if (rte_eth_dev_get_port_by_name(devname, &id) != 0) {
		/* A PCI address with options, or a class filter: let ethdev match it. */
		RTE_ETH_FOREACH_MATCHING_DEV (id, pc->devargs, &it) {
			rte_eth_iterator_cleanup(&it);
			break;
		}
	}
	if (id >= RTE_MAX_ETHPORTS || ports[id].used) {
		snprintf(err, len, "%s/devargs: '%s' probed but no new ethdev port appeared", path,
			 pc->devargs);
		remove_device(pc->devargs);
		return -ENODEV;
	}
	struct dp_port *p = &ports[id];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->id = id;
	p->cfg = *pc;
	snprintf(p->devname, sizeof(p->devname), "%s", devname);
	p->socket = rte_eth_dev_socket_id(id);
	if (p->socket < 0)
		p->socket = (int)rte_socket_id();
	*out = p;
	return 0;
}

/* Queue counts from the config, the driver's limits and the worker count. */
static int plan_queues(struct dp_port *p, const char *path, char *err, size_t len)
{
	unsigned nw = dp_worker_count();
	struct rte_eth_dev_info info;
	int rc;

	if (p->kind == DP_PORT_VHOST) {
		/* One queue pair, polled by one worker; any worker sends to it. */
		snprintf(p->driver, sizeof(p->driver), "vhost");
		p->n_rxq = p->n_txq = 1;
		p->tx_multiseg = true;
		return 0;
	}
	rc = rte_eth_dev_info_get(p->id, &info);
	if (rc < 0) {
		snprintf(err, len, "%s: cannot read device info: %s", path, rte_strerror(-rc));
		return rc;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	if (nw > info.max_tx_queues) {
		snprintf(err, len,
			 "%s: driver %s offers %u TX queues, tessd needs one per worker "
			 "(%u)%s",
			 path, p->driver, info.max_tx_queues, nw,
			 strstr(p->driver, "vhost") ? "; add queues=N to its devargs" : "");
		return -EINVAL;
	}
	if (p->cfg.rx_queues > info.max_rx_queues) {
		snprintf(err, len, "%s/rx_queues: driver %s offers at most %u RX queues", path,
			 p->driver, info.max_rx_queues);
		return -EINVAL;
	}
	p->n_txq = (uint16_t)nw;
	p->n_rxq = p->cfg.rx_queues ? p->cfg.rx_queues : (uint16_t)RTE_MIN(nw, info.max_rx_queues);
	p->rx_desc = p->cfg.rx_desc;
	p->tx_desc = p->cfg.tx_desc;
	p->tx_multiseg = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* Final ring sizes before the pools are sized from them. */
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &p->rx_desc, &p->tx_desc);
	if (rc < 0) {
		snprintf(err, len, "%s: bad descriptor counts: %s", path, rte_strerror(-rc));
		return rc;
	}
	return 0;
}

/* Each worker polls at most DP_MAX_RXQ_PER_WORKER queues (see plan_rx). */
static int check_rxq_plan(char *err, size_t len)
{
	unsigned total = 0, nw = dp_worker_count();

	DP_PORT_FOREACH (p) {
		total += p->kind == DP_PORT_ETHDEV ? p->n_rxq : 0; /* vhost ones: vhost.h */
	}
	if ((total + nw - 1) / nw > DP_MAX_RXQ_PER_WORKER) {
		snprintf(err, len,
			 "/ports: %u RX queues in all, more than %u workers can poll (%u each); "
			 "lower rx_queues",
			 total, nw, DP_MAX_RXQ_PER_WORKER);
		return -E2BIG;
	}
	return 0;
}

static int configure_vhost(struct dp_port *p, const char *path, char *err, size_t len)
{
	char why[512];
	int rc = dp_vhost_open(p, why, sizeof(why));

	if (rc < 0) {
		snprintf(err, len, "%s/vhost/path: %s", path, why);
		return rc;
	}
	/* Its own locally administered MAC (for router interfaces on it), from its id. */
	p->mac = (struct rte_ether_addr){ { 0x02, 0x76, 0x68, 0x00, (uint8_t)(p->id >> 8),
					    (uint8_t)p->id } };
	p->link.link_status = RTE_ETH_LINK_DOWN;
	dp_stats_port_rebase(p);
	DP_LOG_F(INFO, DP_PORT_FIELDS(&p->cfg), "port %s (vhost-user %s %s): MTU %u", p->cfg.name,
		 p->cfg.vhost.client ? "client of" : "server on", p->cfg.vhost.path, p->cfg.mtu);
	return 0;
}

static int configure(struct dp_port *p, const char *path, char *err, size_t len)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint32_t frame = dp_port_max_frame(p);
	struct rte_mempool *mp = dp_mempool(p->socket);
	int rc;

	if (p->kind == DP_PORT_VHOST)
		return configure_vhost(p, path, err, len);
	rte_eth_dev_info_get(p->id, &info);
	if (p->cfg.mtu < info.min_mtu || p->cfg.mtu > info.max_mtu) {
		snprintf(err, len, "%s/mtu: driver %s supports MTU %u to %u", path, p->driver,
			 info.min_mtu, info.max_mtu);
		return -EINVAL;
	}
	/* ethdev's own rule: the driver's frame limit minus its L2 overhead. */
	uint32_t overhead = info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu
				    ? info.max_rx_pktlen - info.max_mtu
				    : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
	if (p->cfg.mtu + overhead > info.max_rx_pktlen) {
		snprintf(err, len, "%s/mtu: driver %s takes frames up to %u bytes: MTU %u at most",
			 path, p->driver, info.max_rx_pktlen, info.max_rx_pktlen - overhead);
		return -EINVAL;
	}
	conf.rxmode.mtu = p->cfg.mtu;
	if (frame > (uint32_t)rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM) {
		/* Frames longer than one mbuf arrive as chains. */
		if (!(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)) {
			snprintf(err, len,
				 "%s/mtu: MTU %u needs scattered RX, which driver %s lacks", path,
				 p->cfg.mtu, p->driver);
			return -EINVAL;
		}
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		p->scatter = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (p->n_rxq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
		p->rss = conf.rx_adv_conf.rss_conf.rss_hf != 0;
		if (!p->rss)
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	}
	if (p->n_rxq > 1 && !p->rss)
		DP_LOG(NOTICE,
		       "port %s: %u RX queues without RSS: the driver spreads traffic its own way "
		       "(net_tap by flow; others may use only queue 0)",
		       p->cfg.name, p->n_rxq);
	rc = rte_eth_dev_configure(p->id, p->n_rxq, p->n_txq, &conf);
	if (rc < 0) {
		snprintf(err, len, "%s: cannot configure %s with %u RX / %u TX queues: %s", path,
			 p->driver, p->n_rxq, p->n_txq, rte_strerror(-rc));
		return rc;
	}
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->id, q, p->rx_desc, (unsigned)p->socket, NULL, mp);
		if (rc < 0) {
			snprintf(err, len, "%s: cannot set up RX queue %u: %s", path, q,
				 rte_strerror(-rc));
			return rc;
		}
	}
	for (uint16_t q = 0; q < p->n_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->id, q, p->tx_desc, (unsigned)p->socket, NULL);
		if (rc < 0) {
			snprintf(err, len, "%s: cannot set up TX queue %u: %s", path, q,
				 rte_strerror(-rc));
			return rc;
		}
	}
	if (p->cfg.promiscuous) {
		rc = rte_eth_promiscuous_enable(p->id);
		if (rc < 0 && rc != -ENOTSUP) {
			snprintf(err, len, "%s/promiscuous: cannot enable: %s", path,
				 rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(p->id);
	if (rc < 0) {
		snprintf(err, len, "%s: cannot start: %s", path, rte_strerror(-rc));
		return rc;
	}
	rte_eth_macaddr_get(p->id, &p->mac);
	rte_eth_link_get_nowait(p->id, &p->link);
	dp_stats_port_rebase(p);
	DP_LOG_F(INFO, DP_PORT_FIELDS(&p->cfg),
		 "port %s (%s, driver %s): %u RX queue%s%s, %u TX queues, MTU %u", p->cfg.name,
		 p->devname, p->driver, p->n_rxq, p->n_rxq > 1 ? "s" : "",
		 p->rss ? " with RSS" : "", p->n_txq, p->cfg.mtu);
	return 0;
}

static void close_port(struct dp_port *p)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (p->kind == DP_PORT_VHOST) {
		dp_vhost_close(p);
		p->used = false;
		return;
	}
	if (rte_eth_dev_info_get(p->id, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(p->id);
	rte_eth_dev_close(p->id);
	/* Detach the device too, so a tap interface or vhost socket goes away. */
	if (dev)
		rte_dev_remove(dev);
	p->used = false;
}

/* The path naming a port in errors: its place in the startup config. */
static void port_path(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "/ports/%u", i);
}

int dp_ports_init(const struct tessd_cfg *cfg, char *err, size_t len)
{
	struct dp_port *p[TESS_MAX_PORTS];
	char path[32];
	int rc = 0;

	/* All probed first, so the pools are sized for all of them. */
	for (uint32_t i = 0; i < cfg->n_ports && rc == 0; i++) {
		port_path(path, sizeof(path), i);
		rc = probe(&cfg->ports[i], path, &p[i], err, len);
		if (rc == 0)
			rc = plan_queues(p[i], path, err, len);
	}
	if (rc == 0)
		rc = check_rxq_plan(err, len);
	if (rc == 0)
		rc = dp_mempools_init(&cfg->eal, err, len);
	for (uint32_t i = 0; i < cfg->n_ports && rc == 0; i++) {
		port_path(path, sizeof(path), i);
		rc = dp_mempool_reserve(p[i], path, err, len);
		if (rc == 0)
			rc = configure(p[i], path, err, len);
	}
	if (rc < 0)
		dp_ports_fini();
	return rc;
}

int dp_port_create(const struct tessd_port_cfg *pc, const char *path, char *err, size_t len)
{
	struct dp_port *p;
	int rc;

	if (dp_port_by_name(pc->name)) {
		snprintf(err, len, "%s/name: port '%s' exists", path, pc->name);
		return -EEXIST;
	}
	rc = probe(pc, path, &p, err, len);
	if (rc < 0)
		return rc;
	rc = plan_queues(p, path, err, len);
	if (rc == 0)
		rc = check_rxq_plan(err, len);
	if (rc == 0)
		rc = dp_mempool_reserve(p, path, err, len);
	if (rc == 0) {
		rc = configure(p, path, err, len);
		if (rc < 0)
			dp_mempool_release(p);
	}
	if (rc < 0) {
		close_port(p);
		return rc;
	}
	TESS_MODULE_FOREACH (m) {
		if (m->port_reset)
			m->port_reset(p->id);
	}
	return 0;
}

void dp_port_destroy(struct dp_port *p)
{
	DP_LOG_F(INFO, DP_PORT_FIELDS(&p->cfg), "port %s (%s) removed", p->cfg.name, p->devname);
	dp_mempool_release(p);
	close_port(p);
}

void dp_ports_fini(void)
{
	DP_PORT_FOREACH (p) {
		if (p->mbufs)
			dp_mempool_release(p);
		close_port(p);
	}
}

void dp_ports_poll_link(void)
{
	DP_PORT_FOREACH (p) {
		struct rte_eth_link l = { 0 };

		if (p->kind == DP_PORT_VHOST)
			l.link_status = dp_vhost_connected(p) ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
		else if (rte_eth_link_get_nowait(p->id, &l) < 0)
			continue;
		if (l.link_status != p->link.link_status) {
			/* vhost and some PMDs have no speed (the string would be "None"). */
			bool speed = l.link_status && l.link_speed != RTE_ETH_SPEED_NUM_NONE &&
				     l.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN;

			DP_LOG_F(NOTICE, DP_PORT_FIELDS(&p->cfg), "port %s link %s%s%s",
				 p->cfg.name, l.link_status ? "up" : "down", speed ? ", " : "",
				 speed ? rte_eth_link_speed_to_str(l.link_speed) : "");
			if (tess_event_wanted())
				tess_event_emit("port.link",
						json_pack("{s:s, s:b, s:I}", "port", p->cfg.name,
							  "up", l.link_status != 0, "speed_mbps",
							  (json_int_t)l.link_speed));
		}
		p->link = l;
	}
}
