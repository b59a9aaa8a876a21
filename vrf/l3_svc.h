/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP services of the router's interfaces (a DHCP server, say): a module
 * claims a UDP destination port (and a TCP one, if it speaks TCP too, for
 * unicasts only) on the interfaces the config enables it on,
 * and gets those datagrams on the control thread, the broadcast ones and
 * those from 0.0.0.0 included (which the router otherwise drops as not for
 * it or martian), and the unicast ones to the address of the interface they
 * come in on (to another of the router's addresses they are local
 * delivery's). Workers punt them in a budget of their own per VRF (the
 * VRF's service_pps), so that a flood of them starves neither the VRF's
 * other punts nor another VRF's. The router names no service.
 */
#ifndef TESS_L3_SVC_H
#define TESS_L3_SVC_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tessd_config.h"

#define L3_SVC_MAX 4

struct l3_svc {
	const char *name;
	uint16_t port;     /* the UDP destination port claimed */
	uint16_t tcp_port; /* and a TCP one (segments to the interface's address); 0: none */
	/*
	 * At each snapshot build: sets bit in on[i] for each router interface i
	 * (cfg->router.interfaces[i]) it runs on; -ENOMEM.
	 */
	int (*mark)(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit);
	/* Control thread: a datagram for it (an Ethernet frame, untagged; consumed). */
	void (*input)(struct rte_mbuf *m, uint16_t iface, uint16_t vrf);
	/* Optional: an ARP packet on iface says sha holds ip (what a conflict probe awaits). */
	void (*arp_seen)(uint16_t iface, uint32_t ip, const struct rte_ether_addr *sha);
	/*
	 * Optional, control thread: whether a unicast to an address of iface
	 * that came in on another interface of its VRF is the service's too
	 * (what a relay's servers send back to its interface's address); input
	 * gets it with that iface (l3_meta(m)->iface says where it came in),
	 * before the services of the interface it came in on are offered it.
	 * Those come in the VRF's budget of other punts.
	 */
	bool (*routed)(uint16_t iface);
	/*
	 * Optional: a packet (whole, not a fragment) to one of the router's
	 * addresses in VRF vrf, from interface iif, that no service's port took,
	 * offered before the router's own handling (echo, the kernel's): the
	 * answer to one the service sent itself (a query it forwarded, to any
	 * port). true: taken (consumed); false: the router's as before. In the
	 * VRF's budget of other punts.
	 */
	bool (*local)(struct rte_mbuf *m, uint16_t iif, uint16_t vrf);
	uint8_t idx; /* set at registration */
};

void l3_svc_register(struct l3_svc *s);
#define L3_SVC_REGISTER(s)            \
	RTE_INIT(l3_svc_register_##s) \
	{                             \
		l3_svc_register(&s);  \
	}

extern struct l3_svc *l3_svcs[L3_SVC_MAX];
extern unsigned l3_n_svcs;

/* Datagrams of service svc from interface iface the punt budget refused, all workers. */
uint64_t l3_svc_limited(uint16_t iface, unsigned svc);

/* For services, on the control thread: */
/* The router's id of interface name (0: none), its VRF, MAC and addresses. */
uint16_t l3_svc_iface(const char *name);
uint16_t l3_svc_iface_vrf(uint16_t iface);
bool l3_svc_iface_mac(uint16_t iface, struct rte_ether_addr *mac);
/* Interface iface's address on ip's subnet (host order), or its first; 0: none. */
uint32_t l3_svc_iface_addr(uint16_t iface, uint32_t ip);
/* An mbuf to build a frame in (NULL: none yet, or out of them). */
struct rte_mbuf *l3_svc_alloc(void);
/* Sends a complete untagged Ethernet frame out of iface (tagged there if a VLAN). */
void l3_svc_send(struct rte_mbuf *m, uint16_t iface);
/*
 * Sends an IPv4 packet the service made (in an Ethernet frame whose
 * addresses are filled on the way) in vrf, routed as the router's own: 0,
 * or -EHOSTUNREACH (no route to it; counted against the VRF).
 */
int l3_svc_route(struct rte_mbuf *m, uint16_t vrf);
/*
 * The router's address in vrf to send to dst from (the egress interface's), and
 * that interface's VRF in *out_vrf (another one through a leaked route: replies
 * come in there); 0: no route.
 */
uint32_t l3_svc_route_src(uint16_t vrf, uint32_t dst, uint16_t *out_vrf);
/*
 * Fills the IPv4 and UDP headers of a datagram of len payload bytes (already
 * written after the UDP header, which follows ip) from src:sport to dst:dport
 * (host order), checksums included.
 */
void l3_svc_udp4_hdr(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst, uint16_t sport,
		     uint16_t dport, size_t len);
/* Asks (ARP request, broadcast) who holds ip on iface: answers come to arp_seen. */
void l3_svc_arp_probe(uint16_t iface, uint32_t ip);
/* The router's ARP input: tells the services of iface about sender ip (host order). */
void l3_svc_arp_seen(uint16_t iface, uint32_t ip, const struct rte_ether_addr *sha);

#endif
