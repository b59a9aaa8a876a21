/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VRFs bound to the Linux kernel (control thread only). A bound VRF follows
 * one routing table of a network namespace (the kernel's side of the VRF:
 * FRR's netns VRF backend; this kernel has no VRF devices): libnl-3 keeps a
 * route cache of that namespace with change notifications, and its unicast
 * IPv4 routes (gateways, ECMP, blackhole, unreachable, prohibit) are
 * mirrored into the VRF's FIB with origin "kernel". Each interface of the
 * VRF gets a TAP in the namespace with its MAC, addresses and MTU: traffic
 * for the router that tessd does not answer itself (TCP, UDP, ICMP other
 * than echo requests) and ARP replies go to the kernel through it, and what
 * the kernel sends out of it leaves through the interface.
 *
 * Precedence: a route of tessd's own (configured, connected, local) wins
 * over a kernel route for the same prefix; the kernel's comes back when
 * tessd's goes.
 */
#ifndef TESS_KERNEL_H
#define TESS_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_mbuf.h>

#include "router_check.h"
#include "tessd_config.h"

struct evloop;

/* The control thread's loop, which netlink and TAP sockets join. */
void kern_attach(struct evloop *loop);
/* Binds, rebinds and unbinds VRFs, and makes or updates their interfaces' TAPs, as cur says. */
void kern_sync(const struct tessd_router_index *ix);
void kern_fini(void);
/* Each tick: resyncs asked for, TAPs changed under tessd. */
void kern_poll(void);

/* The kernel's route for vrf prefix/len, if it has one: installed now; true if so. */
bool kern_route_fallback(uint16_t vrf, uint32_t ip, uint8_t len);
/* The kernel's route for vrf prefix/len left the FIB to make room: installed again later. */
void kern_route_evicted(uint16_t vrf, uint32_t ip, uint8_t len);

/* Packets for the router: to the kernel if iface is bound (consumed: true). */
bool kern_punt(struct rte_mbuf *m, uint16_t iface);
/*
 * A copy of a well-formed ARP frame for the kernel, if iface is bound and
 * the ARP is for it: one tessd accepted itself (accepted), or a reply to a
 * request the kernel sent. Nothing else, lest the tenant link poison it.
 */
void kern_arp_copy(const struct rte_mbuf *m, uint16_t iface, bool accepted);

/* The binding of a VRF, its sync counters and the routes it could not map; NULL if unbound. */
json_t *kern_vrf_json(uint16_t vrf);
/* Counters of an interface's TAP; NULL if it has none. */
json_t *kern_iface_json(uint16_t iface);

#endif
