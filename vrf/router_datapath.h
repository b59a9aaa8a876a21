/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router pipeline of a worker, per burst: frames for a router
 * interface (a routed port or VLAN sub-interface, or the router MAC inside
 * a vswitch group) are checked per RFC 1812 5.2.2, looked up in their VRF's
 * FIB all at once, and forwarded: TTL decremented with an RFC 1624
 * incremental checksum, MACs rewritten from the neighbour table, tagged for
 * a sub-interface, switched for a group interface. What needs thought (ARP,
 * packets for the router, ICMP errors, IP options, fragmentation, unresolved
 * neighbours) is punted to the control thread, at a bounded rate.
 * No syscalls, locks, logs or allocation here.
 */
#ifndef TESS_ROUTER_DATAPATH_H
#define TESS_ROUTER_DATAPATH_H

#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_ring_elem.h>

#include "fib.h"
#include "ipv4.h"
#include "kick.h"
#include "l3.h"
#include "neigh.h"
#include "nexthop.h"
#include "router_hooks.h"
#include "switch_datapath.h"

extern struct fib l3_fib;
extern struct nh_table l3_nh;
extern struct neigh_table l3_neigh;

/* What the router's functions need of a worker and a snapshot. */
struct l3_ctx {
	struct dp_worker *w;
	struct l3_worker *lw;
	const struct dp_snapshot *s;
	const struct l3_tables *t;
};

static inline void l3_ctx_init(struct l3_ctx *c, struct dp_worker *w, const struct dp_snapshot *s)
{
	c->w = w;
	c->lw = dp_worker_mod(w, &l3_module);
	c->s = s;
	c->t = l3_tables_of(s);
}

static inline void l3_ttl_decrement(struct rte_ipv4_hdr *ip)
{
	uint16_t old = (uint16_t)(ip->time_to_live << 8 | ip->next_proto_id);

	ip->time_to_live--;
	ip->hdr_checksum = rte_cpu_to_be_16(
		ip4_csum_replace(rte_be_to_cpu_16(ip->hdr_checksum), old, (uint16_t)(old - 0x100)));
}

/*
 * Cuts a chained m to len bytes (<= pkt_len), in whichever segment that
 * falls: rte_pktmbuf_trim trims the last one only, and fails (leaving the
 * padding) when the IP packet ends before it. Segments past len are freed.
 */
static inline void l3_trim_chain(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *s = m, *rest;
	uint32_t off = 0;
	uint16_t n = 1;

	while (off + s->data_len < len) {
		off += s->data_len;
		s = s->next;
		n++;
	}
	rest = s->next;
	if (rest) {
		rest->nb_segs = (uint16_t)(m->nb_segs - n);
		rest->pkt_len = m->pkt_len - off - s->data_len;
		s->next = NULL;
		rte_pktmbuf_free(rest);
	}
	s->data_len = (uint16_t)(len - off);
	m->nb_segs = n;
	m->pkt_len = len;
}

/*
 * RFC 1812 5.2.2 on the IPv4 header after the Ethernet one: L3_DROP_NONE if
 * fine (and Ethernet padding trimmed), else the reason to drop silently.
 * Inlined always: gcc kept it out of line, and the call's saves and
 * restores of six registers were 15% of its samples in router-tenants.
 */
static __rte_always_inline enum l3_drop l3_check_ipv4(struct rte_mbuf *m, struct rte_ipv4_hdr **out)
{
	struct rte_ipv4_hdr *ip;
	uint32_t ihl, tot, room;

	if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return L3_DROP_IP_HEADER;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	ihl = (ip->version_ihl & 0xf) * 4u;
	tot = rte_be_to_cpu_16(ip->total_length);
	room = m->pkt_len - RTE_ETHER_HDR_LEN;
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) ||
	    m->data_len < RTE_ETHER_HDR_LEN + ihl || tot < ihl || tot > room)
		return L3_DROP_IP_HEADER;
	if (!ip4_hdr_cksum_ok(ip, ihl))
		return L3_DROP_IP_CHECKSUM;
	if (room > tot) {
		if (unlikely(m->nb_segs > 1))
			l3_trim_chain(m, RTE_ETHER_HDR_LEN + tot);
		else /* within its one segment: cannot fail */
			rte_pktmbuf_trim(m, (uint16_t)(room - tot));
	}
	*out = ip;
	return L3_DROP_NONE;
}

/* Never a source: 0/8, 127/8, multicast, the limited broadcast. */
static inline bool l3_martian_src(uint32_t a)
{
	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 28) == 0xe || a == UINT32_MAX;
}

/* Never forwarded: 0/8, 127/8, multicast, limited broadcast (and class E). */
static inline bool l3_bad_dst(uint32_t a)
{
	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 28) >= 0xe;
}

/* A drop of the router (its own reason or a core one) on an interface and its VRF. */
static inline void l3_count_drop(const struct l3_ctx *c, uint16_t iface, uint16_t vrf, unsigned why)
{
	dp_cnt_add(&c->lw->ifc[iface].drop[why], 1);
	dp_cnt_add(&c->lw->vrfc[vrf].drop[why], 1);
	dp_count_drops(c->w, DP_PORT_NONE, dp_drop_id(&l3_drops, why), 1);
}

static inline void l3_drop(const struct l3_ctx *c, struct rte_mbuf *m, uint16_t iface, uint16_t vrf,
			   unsigned why)
{
	l3_count_drop(c, iface, vrf, why);
	rte_pktmbuf_free(m);
}

/*
 * To the control thread. "why" is counted as a drop when the packet will
 * not be forwarded as it is (an ICMP error answers it), L3_DROP_NONE if not.
 */
static inline void l3_punt_via(const struct l3_ctx *c, struct rte_mbuf *m, uint16_t iface,
			       uint16_t vrf, uint16_t route_vrf, enum l3_punt reason,
			       enum l3_drop why, uint32_t mtu, uint64_t now)
{
	struct l3_meta *meta = l3_meta(m);
	struct l3_worker *w = c->lw;
	unsigned cls = reason == L3_PUNT_ARP       ? L3_PC_ARP
		       : reason == L3_PUNT_SERVICE ? L3_PC_SERVICE
						   : L3_PC_OTHER;
	uint32_t pps = __atomic_load_n(&l3_vrf_punt[vrf].pps[cls], __ATOMIC_RELAXED);

	if (!dp_bucket_ok(&w->punt_rl[vrf][cls], pps, now)) {
		if (cls == L3_PC_SERVICE)
			dp_cnt_add(&w->svc_limited[iface][meta->svc], 1);
		l3_drop(c, m, iface, vrf, L3_DROP_PUNT_LIMIT);
		return;
	}
	meta->iface = iface;
	meta->vrf = vrf;
	meta->route_vrf = route_vrf;
	meta->reason = (uint8_t)reason;
	meta->mtu = mtu;
	if (rte_ring_sp_enqueue(w->punt, m) != 0) {
		l3_drop(c, m, iface, vrf, L3_DROP_PUNT_LIMIT);
		return;
	}
	w->punted = true;
	dp_cnt_add(&w->ifc[iface].punted, 1);
	dp_cnt_add(&w->vrfc[vrf].punted, 1);
	if (why != L3_DROP_NONE)
		l3_count_drop(c, iface, vrf, why);
}

/* At the end of a burst that punted: one kick (kick.h) per burst, not per packet. */
static inline void l3_kick_flush(struct l3_worker *lw)
{
	if (lw->punted) {
		lw->punted = false;
		dp_kick_control();
	}
}

/* A punt of a packet routed in its interface's VRF. */
static inline void l3_punt(const struct l3_ctx *c, struct rte_mbuf *m, uint16_t iface, uint16_t vrf,
			   enum l3_punt reason, enum l3_drop why, uint32_t mtu, uint64_t now)
{
	l3_punt_via(c, m, iface, vrf, vrf, reason, why, mtu, now);
}

/* A hook's punt (l3_hook.h): to its handler on the control thread, in the VRF's budget. */
static inline void l3_hook_punt(const struct l3_ctx *c, struct rte_mbuf *m, uint16_t iface,
				uint16_t vrf, uint8_t hook, uint64_t now)
{
	l3_meta(m)->svc = hook;
	l3_punt(c, m, iface, vrf, L3_PUNT_HOOK, L3_DROP_NONE, 0, now);
}

/*
 * The service of interface in (l3_svc.h) whose UDP port, or TCP port, a
 * checked IPv4 packet, not a fragment, is for; L3_SVC_MAX: none.
 */
static inline unsigned l3_svc_of(const struct l3_iface *in, const struct rte_mbuf *m,
				 const struct rte_ipv4_hdr *ip)
{
	bool udp = ip->next_proto_id == IPPROTO_UDP;
	uint32_t hlen, l4 = udp ? sizeof(struct rte_udp_hdr) : sizeof(struct rte_tcp_hdr);
	rte_be16_t dport;

	if ((!udp && ip->next_proto_id != IPPROTO_TCP) ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		return L3_SVC_MAX;
	hlen = (ip->version_ihl & 0xf) * 4u;
	if (m->data_len < RTE_ETHER_HDR_LEN + hlen + l4 ||
	    rte_be_to_cpu_16(ip->total_length) < hlen + l4)
		return L3_SVC_MAX;
	/* The destination port: at the same place in UDP and TCP. */
	dport = ((const struct rte_udp_hdr *)((const uint8_t *)ip + hlen))->dst_port;
	for (unsigned i = 0; i < l3_n_svcs; i++)
		if ((in->svc & (1u << i)) &&
		    (udp ? dport == rte_cpu_to_be_16(l3_svcs[i]->port)
			 : l3_svcs[i]->tcp_port && dport == rte_cpu_to_be_16(l3_svcs[i]->tcp_port)))
			return i;
	return L3_SVC_MAX;
}

/*
 * A frame for a UDP service of interface in (l3_svc.h), broadcast and from
 * 0.0.0.0 included: punted to it (true), or false (untouched) when not one.
 * Only for frames the checks below would otherwise drop, and for the
 * interfaces with a service, so that forwarding pays nothing for it.
 */
static inline bool l3_svc_take(const struct l3_ctx *x, struct rte_mbuf *m, uint16_t ifc,
			       const struct l3_iface *in, uint64_t now)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip;
	unsigned svc;

	if (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    (!rte_is_broadcast_ether_addr(&eh->dst_addr) &&
	     !rte_is_same_ether_addr(&eh->dst_addr, &in->mac)) ||
	    l3_check_ipv4(m, &ip) != L3_DROP_NONE || ip->next_proto_id != IPPROTO_UDP ||
	    (svc = l3_svc_of(in, m, ip)) == L3_SVC_MAX)
		return false; /* (TCP is for unicasts to the interface's address only) */
	l3_meta(m)->svc = (uint8_t)svc;
	l3_punt(x, m, ifc, in->vrf, L3_PUNT_SERVICE, L3_DROP_NONE, 0, now);
	return true;
}

/*
 * Why a packet to one of the router's addresses (g, its local route) goes to
 * the control thread: a UDP datagram to the address of the interface it came
 * in on, to a port a service of that interface claims (a DHCP renewal,
 * RELEASE, INFORM), is the service's, in its budget; the rest is local
 * delivery's. Only local delivery pays for the look.
 */
static inline enum l3_punt l3_local_reason(const struct l3_ctx *x, uint16_t iif,
					   const struct nh_group *g, struct rte_mbuf *m,
					   const struct rte_ipv4_hdr *ip)
{
	const struct l3_iface *in = &x->t->iface[iif];
	unsigned svc;

	if (in->svc == 0 || g->origin != NH_ORIGIN_LOCAL || g->path[0].iface != iif ||
	    (svc = l3_svc_of(in, m, ip)) == L3_SVC_MAX)
		return L3_PUNT_LOCAL;
	l3_meta(m)->svc = (uint8_t)svc;
	return L3_PUNT_SERVICE;
}

/* Packets and bytes of a run of packets for one counter set, written once per run. */
struct l3_run {
	struct l3_hot *c;
	uint32_t pkts;
	uint64_t bytes;
};

static inline void l3_run_flush(struct l3_run *r, bool rx)
{
	if (r->pkts) {
		dp_cnt_add(rx ? &r->c->rx_pkts : &r->c->tx_pkts, r->pkts);
		dp_cnt_add(rx ? &r->c->rx_bytes : &r->c->tx_bytes, r->bytes);
	}
	r->pkts = 0;
	r->bytes = 0;
}

static inline void l3_run_add(struct l3_run *r, struct l3_hot *c, uint32_t len, bool rx)
{
	if (unlikely(c != r->c)) {
		l3_run_flush(r, rx);
		r->c = c;
	}
	r->pkts++;
	r->bytes += len;
}

#define L3_NO_PRE UINT16_MAX /* l3_burst.cur: not a packet of ip4-route's lookup */

/*
 * What one burst carries from packet to packet while it is forwarded:
 * counter runs (forwarded per VRF, sent per interface), the last next hop's
 * neighbour, which the packets of a one-tenant burst mostly share, and, in
 * a mixed burst, the neighbours of all its packets looked up together
 * (l3_neigh_bulk), which is what pays when each packet is another tenant's.
 */
struct l3_burst {
	struct l3_run fwd, tx;
	uint64_t nh_key; /* neigh_key of nh, UINT64_MAX: none */
	struct neigh *nh;
	uint16_t cur; /* the packet of pre_key being forwarded, or L3_NO_PRE */
	bool hold;    /* an "out" hook exists: packets wait in held (router_hooks.h) */
	struct l3_held held;
	/* Packets held for the egress hooks of their interfaces (l3_hook.h): paths, lookup VRFs. */
	struct l3_egress_burst *eg;
	const struct nh_path *eg_path[DP_BURST];
	uint16_t eg_lvrf[DP_BURST];
	uint64_t pre_key[DP_BURST];     /* neigh_key of packet i's next hop, UINT64_MAX: none */
	struct neigh *pre_ne[DP_BURST]; /* its entry (NULL: none), found in this burst */
};

static inline void l3_burst_init(struct l3_burst *b)
{
	/* Not held's arrays: only what is below held.n is ever read. */
	memset(b, 0, offsetof(struct l3_burst, held.oif));
	b->nh_key = UINT64_MAX;
	b->cur = L3_NO_PRE;
}

static inline void l3_burst_flush(struct l3_burst *b)
{
	l3_run_flush(&b->fwd, false);
	l3_run_flush(&b->tx, false);
}

/* Counts a frame leaving interface oif: in b's run, or at once without one. */
static inline void l3_count_tx(const struct l3_ctx *x, uint16_t oif, uint32_t len,
			       struct l3_burst *b)
{
	struct l3_hot *c = &x->lw->ifh[oif];

	if (b) {
		l3_run_add(&b->tx, c, len, false);
	} else {
		dp_cnt_add(&c->tx_pkts, 1);
		dp_cnt_add(&c->tx_bytes, len);
	}
}

/*
 * Sends a frame whose Ethernet header is complete (tagged for a
 * sub-interface) out of interface oif: to its port, or switched in its group.
 */
/*
 * Switches a frame into group vlan from its router interface (IRB): to its
 * port, or flooded. False when the group's "out" hook dropped it, or its
 * port could not take it (counted there), so that the router does not count
 * it as sent. A flooded frame counts as sent (its copies' drops are the ports').
 */
static inline bool l3_send_group(const struct l3_ctx *x, uint16_t vlan, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct fdb_entry *e = rte_is_unicast_ether_addr(&eh->dst_addr)
				      ? fdb_find(&vsw_fdb, fdb_key(vlan, &eh->dst_addr))
				      : NULL;
	uint16_t out = e ? __atomic_load_n(&e->port, __ATOMIC_ACQUIRE) : DP_PORT_NONE;
	struct vsw_acc acc = { .vlan = vlan };
	struct vsw_ctx c;

	vsw_ctx_init(&c, x->w, x->s);
	/* Into the group: its "out" hook (a call per frame only where one is attached). */
	if (unlikely(dp_hook_on(x->s, DP_HOOK_GROUP, DP_HOOK_OUT, vlan)) &&
	    dp_hook_call(x->w, x->s, DP_HOOK_GROUP, DP_HOOK_OUT, vlan, DP_PORT_NONE, &m, 1,
			 x->w->now))
		return false;
	if (e && vsw_member(&c.vp->group[vlan], out)) {
		bool sent = vsw_unicast(&c, out, vlan, vlan, m, &acc);
		vsw_acc_flush(c.vw, &acc, false);
		return sent;
	}
	vsw_flood(&c, DP_PORT_NONE, vlan, vlan, m);
	return true;
}

/*
 * Sends m out of oif; false when it was dropped instead (a group's "out" hook,
 * longer than the port's MTU, untaggable for a trunk: counted there), so not
 * sent by the router.
 */
static __rte_always_inline bool l3_send(const struct l3_ctx *x, uint16_t oif, struct rte_mbuf *m)
{
	const struct l3_iface *o = &x->t->iface[oif];

	if (o->kind == L3_IF_GROUP)
		return l3_send_group(x, o->vlan, m);
	if (unlikely(!dp_fits_mtu(m, x->s->port[o->port].mtu))) {
		dp_drop(x->w, o->port, DP_DROP_MTU_EXCEEDED, m);
		return false;
	}
	dp_tx(x->w, o->port, m);
	return true;
}

/* Sends a frame the control thread finished (untagged) out of interface oif. */
static inline void l3_emit(const struct l3_ctx *x, uint16_t oif, struct rte_mbuf *m)
{
	const struct l3_iface *o = &x->t->iface[oif];
	uint32_t len = m->pkt_len;

	if (o->kind == L3_IF_SUBIF && !vlan_push(m, o->vlan)) {
		l3_drop(x, m, oif, o->vrf, DP_DROP_NO_MBUF);
		return;
	}
	if (l3_send(x, oif, m))
		l3_count_tx(x, oif, len, NULL);
}

/*
 * Writes a routed packet's Ethernet header for interface o: destination
 * mac (NEIGH_MAC_VALID | MAC), o's MAC, and for a sub-interface its tag,
 * prepended so that the old header's ethertype stays where it belongs. The
 * header is written whole, never read back (which would stall on the stores
 * just made). False without room or when the mbuf is shared.
 */
static inline bool l3_write_l2(struct rte_mbuf *m, const struct l3_iface *o, uint64_t mac)
{
	uint8_t *p;

	if (o->kind == L3_IF_SUBIF) {
		rte_be32_t tag = rte_cpu_to_be_32((uint32_t)RTE_ETHER_TYPE_VLAN << 16 | o->vlan);
		if (!vlan_writable(m) ||
		    (p = (uint8_t *)rte_pktmbuf_prepend(m, RTE_VLAN_HLEN)) == NULL)
			return false;
		memcpy(p + 2 * RTE_ETHER_ADDR_LEN, &tag, sizeof(tag));
	} else {
		p = rte_pktmbuf_mtod(m, uint8_t *);
	}
	/* 8 bytes (2 of them the flag and padding), then the source MAC over those 2. */
	memcpy(p, &mac, sizeof(mac));
	memcpy(p + RTE_ETHER_ADDR_LEN, &o->mac, RTE_ETHER_ADDR_LEN);
	return true;
}

/*
 * A routed packet sent, then counted (forwarded by its input VRF, sent by
 * oif) unless it was dropped on the way out: tenants are not billed for
 * what was policed away or never left.
 */
static __rte_always_inline void l3_sent(const struct l3_ctx *x, uint16_t vrf, uint16_t oif,
					struct rte_mbuf *m, struct l3_burst *b)
{
	uint32_t len = m->pkt_len;

	if (!l3_send(x, oif, m))
		return;
	l3_run_add(&b->fwd, &x->lw->vrfh[vrf], len, false);
	l3_count_tx(x, oif, len, b);
}

static __rte_always_inline void l3_forward_out(const struct l3_ctx *x, uint16_t iif, uint16_t lvrf,
					       struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
					       const struct nh_path *path, uint64_t now,
					       struct l3_burst *b);

/*
 * Forwarding of one packet after its lookup in VRF lvrf (its interface's,
 * or another a stage chose): value is its route's next-hop group.
 */
static inline void l3_forward(const struct l3_ctx *x, uint16_t iif, uint16_t lvrf,
			      struct rte_mbuf *m, struct rte_ipv4_hdr *ip, uint32_t value,
			      uint64_t now, struct l3_burst *b)
{
	uint16_t vrf = x->t->iface[iif].vrf;
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	const struct nh_group *g;
	const struct nh_path *path;
	const struct l3_iface *o;

	/*
	 * No route: the slow path looks again (a config change may be between
	 * publishing its interfaces and installing its routes) and counts it.
	 */
	if (value == FIB_NO_ROUTE) {
		l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_NO_ROUTE, L3_DROP_NONE, 0, now);
		return;
	}
	g = nh_group(&l3_nh, value);
	if (g->type == NH_VRF) {
		/* Into another VRF, once: a route there leading on again is no route. */
		value = fib_lookup(&l3_fib, g->target_vrf, dst);
		g = nh_group(&l3_nh, value);
		if (value == FIB_NO_ROUTE || g->type == NH_VRF) {
			l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_NO_ROUTE, L3_DROP_NONE, 0, now);
			return;
		}
	}
	switch (g->type) {
	case NH_LOCAL:
		l3_punt_via(x, m, iif, vrf, lvrf, l3_local_reason(x, iif, g, m, ip), L3_DROP_NONE,
			    0, now);
		return;
	case NH_BLACKHOLE:
		l3_drop(x, m, iif, vrf, L3_DROP_BLACKHOLE);
		return;
	case NH_REJECT:
		l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_REJECT, L3_DROP_REJECT, 0, now);
		return;
	default:
		break;
	}
	if (unlikely(ip->time_to_live <= 1)) {
		l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_TTL, L3_DROP_TTL_EXCEEDED, 0, now);
		return;
	}
	path = &g->path[g->n > 1 ? ip4_flow_hash(ip, m->data_len - RTE_ETHER_HDR_LEN) % g->n : 0];
	o = &x->t->iface[path->iface];
	if (unlikely(!o->on)) {
		l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_NO_ROUTE, L3_DROP_NONE, 0, now);
		return;
	}
	if (unlikely(o->egress)) {
		/* Held for the egress hooks, which see the burst's packets together. */
		struct l3_egress_burst *eg = b->eg;
		eg->pkts[eg->n] = m;
		eg->iif[eg->n] = iif;
		eg->oif[eg->n] = path->iface;
		b->eg_lvrf[eg->n] = lvrf;
		b->eg_path[eg->n++] = path;
		return;
	}
	l3_forward_out(x, iif, lvrf, m, ip, path, now, b);
}

/*
 * Forwarding of one packet whose route and egress interface (path) are
 * known: the slow path's cases, the neighbour, the rewrite, the send.
 * Inlined always: gcc called it per packet with eight arguments, and the
 * call's saves and restores were a tenth of its samples in router-tenants.
 */
static __rte_always_inline void l3_forward_out(const struct l3_ctx *x, uint16_t iif, uint16_t lvrf,
					       struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
					       const struct nh_path *path, uint64_t now,
					       struct l3_burst *b)
{
	uint16_t vrf = x->t->iface[iif].vrf;
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	const struct l3_iface *o = &x->t->iface[path->iface];
	struct neigh *ne;
	uint64_t mac, key;

	if (unlikely((ip->version_ihl & 0xf) != 5)) {
		l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_SLOW, L3_DROP_NONE, 0,
			    now); /* IP options */
		return;
	}
	if (unlikely(rte_be_to_cpu_16(ip->total_length) > o->mtu)) {
		if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))
			l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_FRAG_NEEDED, L3_DROP_FRAG_NEEDED,
				    o->mtu, now);
		else
			l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_SLOW, L3_DROP_NONE, 0,
				    now); /* fragment */
		return;
	}
	/*
	 * One lookup per next hop and burst, done for the whole burst at once
	 * when it could be (l3_neigh_bulk): the entry stays valid until quiescence.
	 */
	key = neigh_key(o->vrf, path->gw ? path->gw : dst);
	if (key != b->nh_key) {
		b->nh_key = key;
		b->nh = b->cur != L3_NO_PRE && b->pre_key[b->cur] == key
				? b->pre_ne[b->cur]
				: neigh_find(&l3_neigh, o->vrf, (uint32_t)key);
		if (b->nh)
			neigh_touch(b->nh, now, dp_tsc_hz);
	}
	ne = b->nh;
	mac = ne ? __atomic_load_n(&ne->mac, __ATOMIC_ACQUIRE) : 0;
	if (unlikely(!(mac & NEIGH_MAC_VALID))) {
		l3_punt_via(x, m, iif, vrf, lvrf, L3_PUNT_RESOLVE, L3_DROP_NONE, 0, now);
		return;
	}
	l3_ttl_decrement(ip);
	if (unlikely(!l3_write_l2(m, o, mac))) {
		l3_drop(x, m, path->iface, o->vrf, DP_DROP_NO_MBUF);
		return;
	}
	if (unlikely(b->hold)) {
		b->held.pkts[b->held.n] = m;
		b->held.oif[b->held.n] = path->iface;
		b->held.ivrf[b->held.n++] = vrf;
		return;
	}
	l3_sent(x, vrf, path->iface, m, b);
}

/* The held packets through the "out" hooks, then out. */
static inline void l3_send_held(const struct l3_ctx *x, struct l3_burst *b, uint16_t port,
				uint64_t now)
{
	struct l3_held *h = &b->held;

	l3_hooks_out(x->w, x->s, x->t, h, port, now);
	for (uint16_t i = 0; i < h->n; i++)
		l3_sent(x, h->ivrf[i], h->oif[i], h->pkts[i], b);
	h->n = 0;
}

/*
 * Whether a burst's packets are on more than one interface. A burst of one
 * (a port of one tenant, one VLAN's flow) shares its interface's lines and
 * the last next hop's neighbour: the per-packet prefetches and the bulk
 * neighbour lookup, which pay when each packet is another tenant's, only
 * cost there: the two-VRF router's own code took 38 cycles a frame more
 * with them than without (e288c00).
 */
static inline bool l3_args_mixed(const struct dp_burst *bu)
{
	/* Out at the first other one: in a mixed burst, as a rule, the second packet. */
	for (uint16_t i = 1; i < bu->n; i++)
		if (bu->arg[i] != bu->arg[0])
			return true;
	return false;
}

/*
 * Stage ip4-input: frames already matched to an interface (b->arg), tags
 * removed. ARP is punted, the rest checked (RFC 1812 5.2.2); what passes
 * goes on, with its interface, to the next stage of arc "ip4".
 */
static inline void l3_input(const struct l3_ctx *x, struct dp_burst *bu)
{
	struct l3_run rx_if = { 0 }, rx_vrf = { 0 };
	const bool mixed = l3_args_mixed(bu);
	uint16_t k = 0;

	/* Each packet may be another tenant's: its interface and counters, all loads at once. */
	if (mixed) {
		for (uint16_t i = 0; i < bu->n; i++) {
			rte_prefetch0(&x->t->iface[bu->arg[i]]);
			rte_prefetch0(&x->lw->ifh[bu->arg[i]]);
		}
	}
	for (uint16_t i = 0; i < bu->n; i++) {
		struct rte_mbuf *m = bu->pkts[i];
		uint16_t ifc = bu->arg[i];
		const struct l3_iface *in = &x->t->iface[ifc];
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		struct rte_ipv4_hdr *ip;
		enum l3_drop why;

		/* The VRF's counters a little ahead: its id is in the interface. */
		if (mixed && i + 2 < bu->n)
			rte_prefetch0(&x->lw->vrfh[x->t->iface[bu->arg[i + 2]].vrf]);

		l3_run_add(&rx_if, &x->lw->ifh[ifc], m->pkt_len, true);
		l3_run_add(&rx_vrf, &x->lw->vrfh[in->vrf], m->pkt_len, true);
		if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			if (rte_is_same_ether_addr(&eh->dst_addr, &in->mac) ||
			    rte_is_broadcast_ether_addr(&eh->dst_addr))
				l3_punt(x, m, ifc, in->vrf, L3_PUNT_ARP, L3_DROP_NONE, 0, bu->now);
			else
				l3_drop(x, m, ifc, in->vrf, L3_DROP_NOT_ROUTER_MAC);
			continue;
		}
		if (unlikely(!rte_is_same_ether_addr(&eh->dst_addr, &in->mac))) {
			if (!(in->svc && l3_svc_take(x, m, ifc, in, bu->now)))
				l3_drop(x, m, ifc, in->vrf, L3_DROP_NOT_ROUTER_MAC);
			continue;
		}
		if (unlikely(eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
			l3_drop(x, m, ifc, in->vrf, L3_DROP_UNSUPPORTED);
			continue;
		}
		why = l3_check_ipv4(m, &ip);
		if (unlikely(why != L3_DROP_NONE)) {
			l3_drop(x, m, ifc, in->vrf, why);
			continue;
		}
		if (unlikely(l3_martian_src(rte_be_to_cpu_32(ip->src_addr)))) {
			if (!(in->svc && l3_svc_take(x, m, ifc, in, bu->now)))
				l3_drop(x, m, ifc, in->vrf, L3_DROP_MARTIAN_SRC);
			continue;
		}
		if (unlikely(l3_bad_dst(rte_be_to_cpu_32(ip->dst_addr)))) {
			if (!(in->svc && l3_svc_take(x, m, ifc, in, bu->now)))
				l3_drop(x, m, ifc, in->vrf, L3_DROP_BAD_DST);
			continue;
		}
		bu->pkts[k] = m;
		bu->arg[k++] = ifc;
	}
	l3_run_flush(&rx_if, true);
	l3_run_flush(&rx_vrf, true);
	bu->n = k;
	if (unlikely(k && (dp_hook_any(x->s, DP_HOOK_IFACE, DP_HOOK_IN) ||
			   dp_hook_any(x->s, DP_HOOK_VRF, DP_HOOK_IN))))
		l3_hooks_in(x->w, x->s, x->t, bu);
}

/*
 * The packets b held for egress hooks: each hook gets those leaving an
 * interface it marked (together, in their order), then what all kept is
 * forwarded. The hooks see the packets as they came in (header unchanged).
 */
static inline void l3_egress_run(const struct l3_ctx *x, struct l3_burst *b)
{
	struct l3_egress_burst *eg = b->eg, sub;
	uint16_t idx[DP_BURST];

	for (uint16_t i = 0; i < eg->n; i++)
		eg->keep[i] = true;
	for (unsigned k = 0; k < l3_n_hooks; k++) {
		sub.n = 0;
		sub.now = eg->now;
		for (uint16_t i = 0; i < eg->n; i++) {
			if (!eg->keep[i] || !(x->t->iface[eg->oif[i]].egress & (1u << k)))
				continue;
			sub.pkts[sub.n] = eg->pkts[i];
			sub.iif[sub.n] = eg->iif[i];
			sub.oif[sub.n] = eg->oif[i];
			sub.keep[sub.n] = true;
			idx[sub.n++] = i;
		}
		if (sub.n == 0)
			continue;
		l3_hooks[k]->egress(x->w, x->s, &sub);
		for (uint16_t j = 0; j < sub.n; j++)
			eg->keep[idx[j]] = sub.keep[j];
	}
	for (uint16_t i = 0; i < eg->n; i++)
		if (eg->keep[i])
			l3_forward_out(x, eg->iif[i], b->eg_lvrf[i], eg->pkts[i],
				       ip4_hdr(eg->pkts[i]), b->eg_path[i], eg->now, b);
}

/*
 * The neighbours of the n packets whose lookups gave res, for b: each
 * distinct next hop's (of a unicast route with one path, the common case;
 * the rest look theirs up one by one). A gateway's is first taken from its
 * group's hint (neigh_hint: no hashing), the others found in one bulk hash
 * lookup, whose bucket and entry loads overlap; the hints of the
 * groups that missed are set. Consecutive packets with the same next hop
 * share one key. Only for a mixed burst (l3_args_mixed): a burst of one
 * interface looks its next hops' neighbours up as it forwards. The egress
 * interfaces and their counters are prefetched on the way.
 */
/* One bulk hash lookup per burst, and at[] indexes a burst in a byte. */
_Static_assert(DP_BURST <= LF_BULK_MAX && DP_BURST < 256,
	       "l3_neigh_bulk: a burst must fit one bulk lookup");
_Static_assert(DP_BURST <= FIB_BULK_MAX, "l3_route: a burst must fit one FIB bulk lookup");

#define L3_AT_HINT UINT8_MAX /* at[i]: packet i's entry came from its group's hint */

static inline void l3_neigh_bulk(const struct l3_ctx *x, struct rte_ipv4_hdr *const *iph,
				 const uint32_t *res, uint16_t n, struct l3_burst *b)
{
	/* Both zeroed for gcc's analyzer, which loses track of which entries the loops set. */
	uint64_t ukey[DP_BURST] = { 0 };
	void *found[DP_BURST] = { NULL };
	uint32_t uslot[DP_BURST]; /* the group whose hint a key's entry goes to, 0: none */
	uint8_t at[DP_BURST];
	bool gw[DP_BURST]; /* packet i's path is via a gateway (its group has a hint) */
	unsigned nu = 0;

	/* Keys, and the hints' entries loading while the rest is worked out. */
	for (uint16_t i = 0; i < n; i++) {
		const struct nh_group *g = nh_group(&l3_nh, res[i]);
		const struct nh_path *p = &g->path[0];

		b->pre_key[i] = UINT64_MAX;
		gw[i] = false;
		if (res[i] == FIB_NO_ROUTE || g->type != NH_UNICAST || g->n != 1)
			continue;
		rte_prefetch0(&x->t->iface[p->iface]);
		rte_prefetch0(&x->lw->ifh[p->iface]);
		b->pre_key[i] = neigh_key(x->t->iface[p->iface].vrf,
					  p->gw ? p->gw : rte_be_to_cpu_32(iph[i]->dst_addr));
		gw[i] = p->gw != 0;
		if (gw[i])
			rte_prefetch0(neigh_hint_peek(&l3_neigh, res[i]));
	}
	for (uint16_t i = 0; i < n; i++) {
		uint64_t key = b->pre_key[i];

		if (key == UINT64_MAX)
			continue;
		if (gw[i] && (b->pre_ne[i] = neigh_hint(&l3_neigh, res[i], (uint16_t)(key >> 32),
							(uint32_t)key))) {
			at[i] = L3_AT_HINT;
			continue;
		}
		if (nu == 0 || ukey[nu - 1] != key) {
			ukey[nu] = key;
			uslot[nu] = gw[i] ? res[i] : 0;
			nu++;
		}
		at[i] = (uint8_t)(nu - 1);
	}
	if (nu == 1) {
		found[0] = lf_find(&l3_neigh.t, ukey[0]);
	} else if (nu > 1) {
		lf_find_bulk(&l3_neigh.t, ukey, nu, found);
	}
	for (unsigned j = 0; j < nu; j++)
		if (uslot[j] && found[j])
			neigh_hint_set(&l3_neigh, uslot[j], found[j]);
	for (uint16_t i = 0; i < n; i++)
		if (b->pre_key[i] != UINT64_MAX && at[i] != L3_AT_HINT)
			b->pre_ne[i] = found[at[i]];
}

/*
 * Stage ip4-route: checked IPv4 packets (b->arg: their interface) looked up
 * in their VRFs' FIBs together (the interface's, or with L3_ARG_VRF the one
 * a stage before chose), then forwarded each.
 */
static inline void l3_route(const struct l3_ctx *x, struct dp_burst *bu)
{
	struct rte_ipv4_hdr *iph[DP_BURST];
	uint16_t vrfs[DP_BURST];
	uint32_t dst[DP_BURST], res[DP_BURST];
	struct l3_egress_burst eg;
	struct l3_burst b;
	uint16_t vdiff = 0;
	bool mixed;

	l3_burst_init(&b);
	b.hold = l3_hooks_out_any(x->s);
	for (uint16_t i = 0; i < bu->n; i++) {
		uint16_t a = bu->arg[i];

		iph[i] = rte_pktmbuf_mtod_offset(bu->pkts[i], struct rte_ipv4_hdr *,
						 RTE_ETHER_HDR_LEN);
		vrfs[i] = unlikely(a & L3_ARG_VRF) ? l3_meta(bu->pkts[i])->route_vrf
						   : x->t->iface[a].vrf;
		vdiff |= vrfs[i] ^ vrfs[0];
		dst[i] = rte_be_to_cpu_32(iph[i]->dst_addr);
	}
	/* A stage before may have chosen each packet's VRF (L3_ARG_VRF): theirs count too. */
	mixed = vdiff != 0 || l3_args_mixed(bu);
	fib_lookup_bulk(&l3_fib, vrfs, dst, res, bu->n);
	if (mixed) {
		for (uint16_t i = 0; i < bu->n; i++) {
			rte_prefetch0(nh_group(&l3_nh, res[i]));
			rte_prefetch0(&l3_neigh.hint[res[i]]);
		}
		l3_neigh_bulk(x, iph, res, bu->n, &b);
	}
	eg.n = 0;
	eg.now = bu->now;
	b.eg = &eg;
	for (uint16_t i = 0; i < bu->n; i++) {
		if (mixed)
			b.cur = i;
		l3_forward(x, L3_ARG_IFACE(bu->arg[i]), vrfs[i], bu->pkts[i], iph[i], res[i],
			   bu->now, &b);
	}
	b.cur = L3_NO_PRE;
	if (unlikely(eg.n))
		l3_egress_run(x,
			      &b); /* before the "out" hooks: what it keeps may be held for them */
	if (unlikely(b.held.n))
		l3_send_held(x, &b, bu->port, bu->now);
	l3_burst_flush(&b);
}

/*
 * Stage ip4-port: a burst from a routed port, each frame to the interface
 * of its VLAN (or untagged), then into arc "ip4" with its interface.
 */
static inline void l3_port_input(const struct l3_ctx *x, struct dp_burst *bu)
{
	uint16_t port = bu->port, k = 0;
	const uint8_t slot = x->t->port_slot[port];

	for (uint16_t i = 0; i < bu->n; i++) {
		struct rte_mbuf *m = bu->pkts[i];
		struct vlan_tag t;
		uint16_t ifc;

		if (unlikely(m->data_len < RTE_ETHER_HDR_LEN || !vlan_outer(m, &t))) {
			dp_drop(x->w, port, DP_DROP_BAD_FRAME, m);
			continue;
		}
		ifc = slot ? x->t->port_iface[slot - 1][t.present ? t.tci & VLAN_VID_MASK : 0] : 0;
		if (ifc == 0) {
			dp_drop(x->w, port, dp_drop_id(&l3_drops, L3_DROP_NO_INTERFACE), m);
			continue;
		}
		if (t.present)
			vlan_pop(m);
		bu->pkts[k] = m;
		bu->arg[k++] = ifc;
	}
	bu->n = k;
}

/* Frames the control thread built (ARP, ICMP, the slow path): out of their interface. */
static inline void l3_inject(const struct l3_ctx *x)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(x->lw->inject, (void **)m, DP_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		uint16_t oif = l3_meta(m[i])->oif;
		if (x->t && oif && x->t->iface[oif].on)
			l3_emit(x, oif, m[i]);
		else /* the interface went away meanwhile */
			dp_drop(x->w, DP_PORT_NONE, dp_drop_id(&l3_drops, L3_DROP_NO_INTERFACE),
				m[i]);
	}
}

#endif
