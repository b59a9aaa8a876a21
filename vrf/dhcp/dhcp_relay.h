/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DHCP relay of router interfaces (dhcp_relay.c), what the DHCP
 * module's server file hands it: the datagrams of relay interfaces, config
 * syncs, counters and the API.
 */
#ifndef TESS_DHCP_RELAY_H
#define TESS_DHCP_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_mbuf.h>

#include "ctl_server.h"
#include "tessd_config.h"

/* The API's filter of leases and relays: of a VRF, of an interface ("": any). */
struct dhcp_filter {
	char vrf[TESS_NAME_LEN];
	char interface[TESS_NAME_LEN];
};

/* The UDP payload of datagram m (an Ethernet frame) into buf: its length, -EBADMSG. */
long dhcp_udp_read(struct rte_mbuf *m, uint8_t *buf, size_t cap, const uint8_t **p);

/* Whether interface iface has a relay (l3_svc routed: its servers' replies come to it). */
bool dhcp_relay_on(uint16_t iface);
/* A datagram to port 67 of relay interface iface (consumed). */
void dhcp_relay_input(struct rte_mbuf *m, uint16_t iface);
void dhcp_relay_sync(const struct tessd_cfg *cur, unsigned svc);
void dhcp_relay_fini(void);
void dhcp_relay_stats_reset(unsigned svc);
/* The relays' counters (of vrf if set), as stats' "dhcp_relays". */
json_t *dhcp_relay_stats(const char *vrf, unsigned svc);
/* dhcp.relays: the relays of a filter, with their config and counters. */
int dhcp_relay_api(const struct dhcp_filter *f, unsigned svc, json_t **result,
		   struct ctl_error *err);

#endif
