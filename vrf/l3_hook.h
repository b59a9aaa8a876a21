/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hooks of other modules in the router (a firewall, say), as generic as
 * l3_svc.h: an egress hook sees the packets the route lookup sent out of
 * the interfaces it marks, a burst at a time, before they are rewritten
 * (the next hop resolved, the TTL decremented), and keeps or consumes each;
 * and a module may punt packets to its own handler on the control thread
 * (in the VRF's punt budget), where it may answer with packets the router
 * sends at the VRF's ICMP error rate; and a module that rewrites packets
 * before they are routed (NAT) sees the ICMP errors the router builds about
 * them, to translate them back for their sender. The router names no hook.
 */
#ifndef TESS_L3_HOOK_H
#define TESS_L3_HOOK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "tessd_config.h"

#define L3_HOOK_MAX 4

/* What an egress hook gets: routed packets, the interfaces they came in by and leave by. */
struct l3_egress_burst {
	uint16_t n;
	uint64_t now;
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t iif[DP_BURST];
	uint16_t oif[DP_BURST];
	bool keep[DP_BURST]; /* the hook clears it for each packet it consumed */
};

/* What an error hook did with an ICMP error the router built (l3_hook.icmp_error). */
enum l3_err_verdict {
	L3_ERR_PASS,      /* not its concern: the error goes as built */
	L3_ERR_REWRITTEN, /* rewritten (another destination): sent in the VRF the hook says */
	L3_ERR_DROPPED,   /* freed and counted by the hook: nobody to send it to */
};

struct l3_hook {
	const char *name;
	/*
	 * At each snapshot build: sets bit in on[i] for each router interface i
	 * (cfg->router.interfaces[i]) whose egress it filters; -ENOMEM. NULL: none.
	 */
	int (*mark_egress)(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit);
	/*
	 * Worker: the packets leaving a marked interface (b->keep all true):
	 * each is kept, or consumed (dropped, punted) with keep cleared.
	 */
	void (*egress)(struct dp_worker *w, const struct dp_snapshot *s, struct l3_egress_burst *b);
	/* Control thread: a packet it punted (l3_hook_punt) from interface iface (consumed). */
	void (*punted)(struct rte_mbuf *m, uint16_t iface, uint16_t vrf);
	/*
	 * Control thread: an ICMP error e (IPv4 in an Ethernet frame, one
	 * segment) the router built about a packet it could not forward, which
	 * it had looked up in VRF *vrf (the VRF a stage before ip4-route chose
	 * when one rewrote the packet: e quotes it as rewritten). The hook may
	 * rewrite e for the packet's real sender, its outer source excepted
	 * (the router's address on the sender's side), and set *vrf to the VRF
	 * to send it in. NULL: none.
	 */
	enum l3_err_verdict (*icmp_error)(struct rte_mbuf *e, uint16_t *vrf);
	uint8_t idx; /* set at registration */
};

void l3_hook_register(struct l3_hook *h);
#define L3_HOOK_REGISTER(h)            \
	RTE_INIT(l3_hook_register_##h) \
	{                              \
		l3_hook_register(&h);  \
	}

extern struct l3_hook *l3_hooks[L3_HOOK_MAX];
extern unsigned l3_n_hooks;

/* For hooks, on the control thread: */
/*
 * An ICMP error (type, code) about m (consumed) to its sender, from
 * interface iif, under the router's rules and the VRF's ICMP rate.
 */
void l3_hook_icmp_error(struct rte_mbuf *m, uint16_t iif, uint16_t vrf, uint8_t type, uint8_t code);
/*
 * Sends m (an IPv4 packet the hook made, in an Ethernet frame whose header
 * the router writes) in vrf, routed as the router's own packets, at the
 * VRF's ICMP error rate (consumed; false if refused).
 */
bool l3_hook_originate(struct rte_mbuf *m, uint16_t vrf);
/* An mbuf to build a packet in (NULL: none yet, or out of them). */
struct rte_mbuf *l3_hook_alloc(void);
/* The router's id of interface name (0: none). */
uint16_t l3_hook_iface(const char *name);

#endif
