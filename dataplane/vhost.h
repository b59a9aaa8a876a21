/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost port backend: a port that is a vhost-user socket served by
 * DPDK's vhost library directly (no ethdev), so a host tessd holds up to
 * DP_MAX_VHOST of them next to its DP_MAX_ETHDEV ethdev ports. Port ids
 * DP_MAX_ETHDEV.. are vhost ports.
 *
 * Polling follows the work. Each vhost port belongs to one worker. The
 * worker polls only the ports on its active list; a port idle for
 * DP_VHOST_IDLE_MS leaves the list (handed to the control thread on the
 * worker's idle ring). The control thread enables the guest's notifications
 * for it, re-checks its ring (a frame queued meanwhile would ring no bell),
 * and waits on its kick eventfd; a kick (or a guest connecting) puts the
 * port back on the worker's ready ring. Idle ports cost the workers nothing.
 *
 * Threads: workers read dp_vhost[].vid (atomic) and call the vhost library's
 * burst functions; the vhost library's thread runs new_device/destroy_device/
 * vring_state_changed, which only store atomics and enqueue on the lock-free
 * ready rings (destroy_device then waits an RCU grace period, so no worker
 * uses a stale device); the control thread parks and wakes ports.
 */
#ifndef TESS_VHOST_H
#define TESS_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"

#define DP_VHOST_IDLE_MS 50 /* a port without frames this long stops being polled */

enum dp_vhost_state {
	DP_VHOST_PARKED, /* on no worker list: the control thread waits for its kick */
	DP_VHOST_LISTED, /* on a ready ring, an active list or an idle ring */
};

/* What the workers read of a vhost port (indexed by port id - DP_MAX_ETHDEV). */
struct dp_vhost {
	int vid;       /* the vhost library's device, -1: no guest connected */
	uint8_t state; /* enum dp_vhost_state */
	uint16_t worker;
	struct rte_mempool *mp; /* frames from the guest */
	uint32_t ctl_busy;      /* the control thread is calling the library with vid */
} __rte_cache_aligned;

extern struct dp_vhost dp_vhost[DP_MAX_VHOST];

static inline bool dp_port_is_vhost(uint16_t port)
{
	return port >= DP_MAX_ETHDEV;
}

struct dp_port;
struct evloop;

/* Control thread. */
int dp_vhost_open(struct dp_port *p, char *err, size_t len);
void dp_vhost_close(struct dp_port *p);
bool dp_vhost_connected(const struct dp_port *p);
/* Parks the ports workers handed back, watches kicks (main's tick). */
void dp_vhost_tick(void);
int dp_vhost_start(struct evloop *l);
void dp_vhost_fini(void);

struct dp_vhost_stats {
	uint64_t connects, disconnects, parks, wakes;
	uint64_t refused; /* front-ends that came while one was connected: not taken */
	unsigned active;  /* on a worker's list now */
};
void dp_vhost_stats(const struct dp_port *p, struct dp_vhost_stats *st);
/* Ports of the backend that workers poll now (the others are parked). */
unsigned dp_vhost_polled(void);

#endif
