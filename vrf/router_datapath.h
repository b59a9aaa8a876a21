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
#include <rte_ring_elem.h>

#include "fib.h"
#include "ipv4.h"
#include "l3.h"
#include "neigh.h"
#include "nexthop.h"
#include "switch_datapath.h"

#define L3_PUNT_PPS 20000 /* punts per second per worker */

extern struct fib l3_fib;
extern struct nh_table l3_nh;
extern struct neigh_table l3_neigh;

static inline void l3_ttl_decrement(struct rte_ipv4_hdr *ip)
{
	uint16_t old = (uint16_t)(ip->time_to_live << 8 | ip->next_proto_id);

	ip->time_to_live--;
	ip->hdr_checksum = rte_cpu_to_be_16(
		ip4_csum_replace(rte_be_to_cpu_16(ip->hdr_checksum), old, (uint16_t)(old - 0x100)));
}

/*
 * RFC 1812 5.2.2 on the IPv4 header after the Ethernet one: DP_DROP_MAX if
 * fine (and Ethernet padding trimmed), else the reason to drop silently.
 */
static inline enum dp_drop l3_check_ipv4(struct rte_mbuf *m, struct rte_ipv4_hdr **out)
{
	struct rte_ipv4_hdr *ip;
	uint32_t ihl, tot, room;

	if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return DP_DROP_IP_HEADER;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	ihl = (ip->version_ihl & 0xf) * 4u;
	tot = rte_be_to_cpu_16(ip->total_length);
	room = m->pkt_len - RTE_ETHER_HDR_LEN;
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) ||
	    m->data_len < RTE_ETHER_HDR_LEN + ihl || tot < ihl || tot > room)
		return DP_DROP_IP_HEADER;
	if (!ip4_hdr_cksum_ok(ip, ihl))
		return DP_DROP_IP_CHECKSUM;
	if (room > tot)
		rte_pktmbuf_trim(m, (uint16_t)(room - tot));
	*out = ip;
	return DP_DROP_MAX;
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

static inline void l3_count_drop(struct dp_worker *w, uint16_t iface, uint16_t vrf,
				 enum dp_drop why)
{
	dp_cnt_add(&w->ifc[iface].drop[why], 1);
	dp_cnt_add(&w->vrfc[vrf].drop[why], 1);
}

static inline void l3_drop(struct dp_worker *w, struct rte_mbuf *m, uint16_t iface, uint16_t vrf,
			   enum dp_drop why)
{
	l3_count_drop(w, iface, vrf, why);
	rte_pktmbuf_free(m);
}

/*
 * To the control thread. "why" is counted as a drop when the packet will
 * not be forwarded as it is (an ICMP error answers it), DP_DROP_MAX if not.
 */
static inline void l3_punt(struct dp_worker *w, struct rte_mbuf *m, uint16_t iface, uint16_t vrf,
			   enum l3_punt reason, enum dp_drop why, uint32_t mtu, uint64_t now)
{
	struct l3_meta *meta = l3_meta(m);

	if (!dp_bucket_ok(&w->punt_rl, L3_PUNT_PPS, now)) {
		l3_drop(w, m, iface, vrf, DP_DROP_PUNT_LIMIT);
		return;
	}
	meta->iface = iface;
	meta->vrf = vrf;
	meta->reason = (uint8_t)reason;
	meta->mtu = mtu;
	if (rte_ring_sp_enqueue(w->punt, m) != 0) {
		l3_drop(w, m, iface, vrf, DP_DROP_PUNT_LIMIT);
		return;
	}
	dp_cnt_add(&w->ifc[iface].punted, 1);
	dp_cnt_add(&w->vrfc[vrf].punted, 1);
	if (why != DP_DROP_MAX)
		l3_count_drop(w, iface, vrf, why);
}

/* Packets and bytes of a run of packets for one counter set, written once per run. */
struct l3_run {
	struct dp_counters *c;
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

static inline void l3_run_add(struct l3_run *r, struct dp_counters *c, uint32_t len, bool rx)
{
	if (unlikely(c != r->c)) {
		l3_run_flush(r, rx);
		r->c = c;
	}
	r->pkts++;
	r->bytes += len;
}

/*
 * What one burst carries from packet to packet: counter runs (received per
 * interface and VRF, forwarded per VRF, sent per interface) and the last
 * next hop's neighbour, which the packets of a burst mostly share.
 */
struct l3_burst {
	struct l3_run rx_if, rx_vrf, fwd, tx;
	uint64_t nh_key; /* neigh_key of nh, UINT64_MAX: none */
	struct neigh *nh;
};

static inline void l3_burst_init(struct l3_burst *b)
{
	memset(b, 0, sizeof(*b));
	b->nh_key = UINT64_MAX;
}

static inline void l3_burst_flush(struct l3_burst *b)
{
	l3_run_flush(&b->rx_if, true);
	l3_run_flush(&b->rx_vrf, true);
	l3_run_flush(&b->fwd, false);
	l3_run_flush(&b->tx, false);
}

/* Counts a frame leaving interface oif: in b's run, or at once without one. */
static inline void l3_count_tx(struct dp_worker *w, uint16_t oif, uint32_t len, struct l3_burst *b)
{
	struct dp_counters *c = &w->ifc[oif];

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
static inline void l3_send(struct dp_worker *w, const struct dp_snapshot *s, uint16_t oif,
			   struct rte_mbuf *m)
{
	const struct l3_iface *o = &s->l3->iface[oif];

	if (o->kind == L3_IF_GROUP) {
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		const struct dp_group *g = &s->group[o->vlan];
		struct fdb_entry *e = rte_is_unicast_ether_addr(&eh->dst_addr)
					      ? fdb_find(&vsw_fdb, fdb_key(o->vlan, &eh->dst_addr))
					      : NULL;
		uint16_t out = e ? __atomic_load_n(&e->port, __ATOMIC_ACQUIRE) : DP_PORT_NONE;
		struct vsw_acc acc = { .vlan = o->vlan };

		if (e && vsw_member(g, out)) {
			vsw_unicast(w, s, out, o->vlan, o->vlan, m, &acc);
			vsw_acc_flush(w, &acc, false);
		} else {
			vsw_flood(w, s, DP_PORT_NONE, o->vlan, o->vlan, m);
		}
		return;
	}
	if (unlikely(!dp_fits_mtu(m, s->port[o->port].mtu))) {
		dp_drop(w, o->port, DP_DROP_MTU_EXCEEDED, m);
		return;
	}
	dp_tx(w, o->port, m);
}

/* Sends a frame the control thread finished (untagged) out of interface oif. */
static inline void l3_emit(struct dp_worker *w, const struct dp_snapshot *s, uint16_t oif,
			   struct rte_mbuf *m)
{
	const struct l3_iface *o = &s->l3->iface[oif];

	l3_count_tx(w, oif, m->pkt_len, NULL);
	if (o->kind == L3_IF_SUBIF && !vlan_push(m, o->vlan)) {
		l3_drop(w, m, oif, o->vrf, DP_DROP_NO_MBUF);
		return;
	}
	l3_send(w, s, oif, m);
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

/* Forwarding of one packet after its lookup: value is its route's next-hop group. */
static inline void l3_forward(struct dp_worker *w, const struct dp_snapshot *s, uint16_t iif,
			      struct rte_mbuf *m, struct rte_ipv4_hdr *ip, uint32_t value,
			      uint64_t now, struct l3_burst *b)
{
	uint16_t vrf = s->l3->iface[iif].vrf;
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	const struct nh_group *g;
	const struct nh_path *path;
	const struct l3_iface *o;
	struct neigh *ne;
	uint64_t mac, key;

	/*
	 * No route: the slow path looks again (a config change may be between
	 * publishing its interfaces and installing its routes) and counts it.
	 */
	if (value == FIB_NO_ROUTE) {
		l3_punt(w, m, iif, vrf, L3_PUNT_NO_ROUTE, DP_DROP_MAX, 0, now);
		return;
	}
	g = nh_group(&l3_nh, value);
	if (g->type == NH_VRF) {
		/* Into another VRF, once: a route there leading on again is no route. */
		value = fib_lookup(&l3_fib, g->target_vrf, dst);
		g = nh_group(&l3_nh, value);
		if (value == FIB_NO_ROUTE || g->type == NH_VRF) {
			l3_punt(w, m, iif, vrf, L3_PUNT_NO_ROUTE, DP_DROP_MAX, 0, now);
			return;
		}
	}
	switch (g->type) {
	case NH_LOCAL:
		l3_punt(w, m, iif, vrf, L3_PUNT_LOCAL, DP_DROP_MAX, 0, now);
		return;
	case NH_BLACKHOLE:
		l3_drop(w, m, iif, vrf, DP_DROP_BLACKHOLE);
		return;
	case NH_REJECT:
		l3_punt(w, m, iif, vrf, L3_PUNT_REJECT, DP_DROP_REJECT, 0, now);
		return;
	default:
		break;
	}
	if (unlikely(ip->time_to_live <= 1)) {
		l3_punt(w, m, iif, vrf, L3_PUNT_TTL, DP_DROP_TTL_EXCEEDED, 0, now);
		return;
	}
	path = &g->path[g->n > 1 ? ip4_flow_hash(ip, m->data_len - RTE_ETHER_HDR_LEN) % g->n : 0];
	o = &s->l3->iface[path->iface];
	if (unlikely(!o->on)) {
		l3_punt(w, m, iif, vrf, L3_PUNT_NO_ROUTE, DP_DROP_MAX, 0, now);
		return;
	}
	if (unlikely((ip->version_ihl & 0xf) != 5)) {
		l3_punt(w, m, iif, vrf, L3_PUNT_SLOW, DP_DROP_MAX, 0, now); /* IP options */
		return;
	}
	if (unlikely(rte_be_to_cpu_16(ip->total_length) > o->mtu)) {
		if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))
			l3_punt(w, m, iif, vrf, L3_PUNT_FRAG_NEEDED, DP_DROP_FRAG_NEEDED, o->mtu,
				now);
		else
			l3_punt(w, m, iif, vrf, L3_PUNT_SLOW, DP_DROP_MAX, 0, now); /* fragment */
		return;
	}
	/* One hash lookup per next hop and burst: the entry stays valid until quiescence. */
	key = neigh_key(o->vrf, path->gw ? path->gw : dst);
	if (key != b->nh_key) {
		b->nh_key = key;
		b->nh = neigh_find(&l3_neigh, o->vrf, (uint32_t)key);
		if (b->nh)
			neigh_touch(b->nh, now, dp_tsc_hz);
	}
	ne = b->nh;
	mac = ne ? __atomic_load_n(&ne->mac, __ATOMIC_ACQUIRE) : 0;
	if (unlikely(!(mac & NEIGH_MAC_VALID))) {
		l3_punt(w, m, iif, vrf, L3_PUNT_RESOLVE, DP_DROP_MAX, 0, now);
		return;
	}
	l3_ttl_decrement(ip);
	if (unlikely(!l3_write_l2(m, o, mac))) {
		l3_drop(w, m, path->iface, o->vrf, DP_DROP_NO_MBUF);
		return;
	}
	l3_run_add(&b->fwd, &w->vrfc[vrf], m->pkt_len, false);
	l3_count_tx(w, path->iface, m->pkt_len, b);
	l3_send(w, s, path->iface, m);
}

/*
 * Router input of frames already matched to an interface (ifaces[i]),
 * tags removed. Checks each, looks them up together, forwards each.
 */
static inline void l3_input(struct dp_worker *w, const struct dp_snapshot *s,
			    struct rte_mbuf **pkts, const uint16_t *ifaces, uint16_t n,
			    uint64_t now)
{
	struct rte_mbuf *ok[DP_BURST];
	struct rte_ipv4_hdr *iph[DP_BURST];
	uint16_t iif[DP_BURST], vrfs[DP_BURST];
	uint32_t dst[DP_BURST], res[DP_BURST];
	struct l3_burst b;
	uint16_t k = 0;

	l3_burst_init(&b);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t ifc = ifaces[i];
		const struct l3_iface *in = &s->l3->iface[ifc];
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		struct rte_ipv4_hdr *ip;
		enum dp_drop why;

		l3_run_add(&b.rx_if, &w->ifc[ifc], m->pkt_len, true);
		l3_run_add(&b.rx_vrf, &w->vrfc[in->vrf], m->pkt_len, true);
		if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			if (rte_is_same_ether_addr(&eh->dst_addr, &in->mac) ||
			    rte_is_broadcast_ether_addr(&eh->dst_addr))
				l3_punt(w, m, ifc, in->vrf, L3_PUNT_ARP, DP_DROP_MAX, 0, now);
			else
				l3_drop(w, m, ifc, in->vrf, DP_DROP_NOT_ROUTER_MAC);
			continue;
		}
		if (unlikely(!rte_is_same_ether_addr(&eh->dst_addr, &in->mac))) {
			l3_drop(w, m, ifc, in->vrf, DP_DROP_NOT_ROUTER_MAC);
			continue;
		}
		if (unlikely(eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
			l3_drop(w, m, ifc, in->vrf, DP_DROP_UNSUPPORTED);
			continue;
		}
		why = l3_check_ipv4(m, &ip);
		if (unlikely(why != DP_DROP_MAX)) {
			l3_drop(w, m, ifc, in->vrf, why);
			continue;
		}
		if (unlikely(l3_martian_src(rte_be_to_cpu_32(ip->src_addr)))) {
			l3_drop(w, m, ifc, in->vrf, DP_DROP_MARTIAN_SRC);
			continue;
		}
		if (unlikely(l3_bad_dst(rte_be_to_cpu_32(ip->dst_addr)))) {
			l3_drop(w, m, ifc, in->vrf, DP_DROP_BAD_DST);
			continue;
		}
		ok[k] = m;
		iph[k] = ip;
		iif[k] = ifc;
		vrfs[k] = in->vrf;
		dst[k] = rte_be_to_cpu_32(ip->dst_addr);
		k++;
	}
	if (k) {
		fib_lookup_bulk(&l3_fib, vrfs, dst, res, k);
		for (uint16_t i = 0; i < k; i++)
			l3_forward(w, s, iif[i], ok[i], iph[i], res[i], now, &b);
	}
	l3_burst_flush(&b);
}

/* A burst from a routed port: each frame to the interface of its VLAN (or untagged). */
static inline void l3_port_input(struct dp_worker *w, const struct dp_snapshot *s, uint16_t port,
				 struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct rte_mbuf *mine[DP_BURST];
	uint16_t ifaces[DP_BURST], k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct vlan_tag t;
		uint16_t ifc;

		if (unlikely(m->data_len < RTE_ETHER_HDR_LEN || !vlan_outer(m, &t))) {
			dp_drop(w, port, DP_DROP_BAD_FRAME, m);
			continue;
		}
		ifc = s->l3->port_iface[port][t.present ? t.tci & VLAN_VID_MASK : 0];
		if (ifc == 0) {
			dp_drop(w, port, DP_DROP_NO_INTERFACE, m);
			continue;
		}
		if (t.present)
			vlan_pop(m);
		mine[k] = m;
		ifaces[k++] = ifc;
	}
	if (k)
		l3_input(w, s, mine, ifaces, k, now);
}

/* Frames the control thread built (ARP, ICMP, the slow path): out of their interface. */
static inline void l3_inject(struct dp_worker *w, const struct dp_snapshot *s)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->inject, (void **)m, DP_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		uint16_t oif = l3_meta(m[i])->oif;
		if (s->l3 && oif && s->l3->iface[oif].on)
			l3_emit(w, s, oif, m[i]);
		else
			rte_pktmbuf_free(m[i]); /* the interface went away meanwhile */
	}
}

#endif
