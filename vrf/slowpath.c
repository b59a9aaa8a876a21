/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What workers punt: packets for the router (echo, UDP to a closed port),
 * ICMP errors (RFC 1812 4.3), and forwarding the fast path leaves alone
 * (IP options, fragmentation, next hops being resolved). Frames leave
 * through worker 0, which owns a TX queue on every port.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "ipv4.h"
#include "kernel.h"
#include "router_int.h"
#include "worker.h"

#define MAX_FRAGS 64

void rt_inject(struct rte_mbuf *m, uint16_t oif)
{
	struct dp_worker *w = dp_worker_get(0);
	struct l3_worker *lw = w ? dp_worker_mod(w, &l3_module) : NULL;

	l3_meta(m)->oif = oif;
	if (lw == NULL || rte_ring_sp_enqueue(lw->inject, m) != 0) {
		rt_count_drop(oif, rt_ifs[oif].vrf, DP_DROP_TX_FULL);
		rte_pktmbuf_free(m);
	}
}

/*
 * The route to dst in vrf, into another VRF once: NULL with *why when there
 * is none to forward by (why is L3_DROP_NONE for a local route).
 */
static const struct nh_group *route_to(uint16_t vrf, uint32_t dst, enum l3_drop *why)
{
	uint32_t v = fib_lookup(&l3_fib, vrf, dst);
	const struct nh_group *g = v ? nh_group(&l3_nh, v) : NULL;

	if (g && g->type == NH_VRF) {
		v = fib_lookup(&l3_fib, g->target_vrf, dst);
		g = v ? nh_group(&l3_nh, v) : NULL;
		if (g && g->type == NH_VRF)
			g = NULL;
	}
	*why = L3_DROP_NO_ROUTE;
	if (g == NULL)
		return NULL;
	switch (g->type) {
	case NH_LOCAL:
		*why = L3_DROP_NONE;
		return NULL;
	case NH_BLACKHOLE:
		*why = L3_DROP_BLACKHOLE;
		return NULL;
	case NH_REJECT:
		*why = L3_DROP_REJECT;
		return NULL;
	default:
		return g;
	}
}

static const struct nh_path *pick(const struct nh_group *g, const struct rte_ipv4_hdr *ip,
				  uint32_t avail)
{
	return &g->path[g->n > 1 ? ip4_flow_hash(ip, avail) % g->n : 0];
}

/* Sends m (IPv4 in Ethernet) out of oif toward nh, in fragments if larger than mtu. */
static void output(struct rte_mbuf *m, uint16_t oif, uint32_t nh, uint32_t mtu)
{
	struct rte_mbuf *frags[MAX_FRAGS];
	struct l3_meta keep = *l3_meta(m);
	int n;

	if (rte_be_to_cpu_16(ip4_hdr(m)->total_length) <= mtu) {
		rt_neigh_output(m, oif, nh);
		return;
	}
	n = rt_pool ? ip4_fragment(m, mtu, rt_pool, frags, MAX_FRAGS) : -ENOBUFS;
	rte_pktmbuf_free(m);
	if (n < 0) {
		rt_count_drop(keep.iface, keep.vrf,
			      n == -EINVAL ? L3_DROP_IP_HEADER : DP_DROP_NO_MBUF);
		return;
	}
	for (int i = 0; i < n; i++) {
		*l3_meta(frags[i]) = keep;
		rt_neigh_output(frags[i], oif, nh);
	}
}

/* Sends a packet the router made (echo reply, ICMP error, a service's) in vrf. */
int rt_originate(struct rte_mbuf *m, uint16_t vrf)
{
	struct rte_ipv4_hdr *ip = ip4_hdr(m);
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	const struct nh_group *g;
	const struct nh_path *p;
	const struct l3_tables *t = rt_tables();
	enum l3_drop why;

	l3_meta(m)->iface = 0;
	l3_meta(m)->vrf = vrf;
	l3_meta(m)->route_vrf = vrf; /* an error about it (ARP failed) is the router's own */
	g = route_to(vrf, dst, &why);
	if (g == NULL || t == NULL ||
	    !t->iface[(p = pick(g, ip, m->data_len - RTE_ETHER_HDR_LEN))->iface].on) {
		rt_count_drop(0, vrf, why == L3_DROP_NONE ? L3_DROP_LOCAL : why);
		rte_pktmbuf_free(m);
		return -EHOSTUNREACH;
	}
	output(m, p->iface, p->gw ? p->gw : dst, t->iface[p->iface].mtu);
	return 0;
}

uint32_t rt_route_src(uint16_t vrf, uint32_t dst, uint16_t *out_vrf)
{
	enum l3_drop why;
	const struct nh_group *g = route_to(vrf, dst, &why);

	if (g == NULL || g->n == 0)
		return 0;
	*out_vrf = rt_ifs[g->path[0].iface].vrf; /* another VRF's, through a leaked route */
	return rt_src_addr(g->path[0].iface, dst);
}

/*
 * The error hooks (l3_hook.h) on error e about a packet that came in on iif
 * and was looked up in rvrf: the VRF to send e in (vrf, the one of iif,
 * unless a hook rewrote it), or -1 when a hook consumed it.
 */
static int error_hooks(struct rte_mbuf *e, uint16_t iif, uint16_t vrf, uint16_t rvrf)
{
	struct rte_ipv4_hdr *ip = ip4_hdr(e);
	rte_be32_t dst = ip->dst_addr;
	bool rewritten = false;
	uint32_t src;

	for (unsigned k = 0; k < l3_n_hooks; k++) {
		if (l3_hooks[k]->icmp_error == NULL)
			continue;
		switch (l3_hooks[k]->icmp_error(e, &rvrf)) {
		case L3_ERR_DROPPED:
			return -1;
		case L3_ERR_REWRITTEN:
			rewritten = true;
			break;
		default:
			break;
		}
	}
	if (!rewritten)
		return vrf;
	/* To its real sender, behind iif too: from our address on that sender's subnet. */
	src = rt_src_addr(iif, rte_be_to_cpu_32(ip->dst_addr));
	if (ip->dst_addr != dst && src) {
		ip->src_addr = rte_cpu_to_be_32(src);
		ip4_set_cksum(ip);
	}
	return rvrf;
}

void rt_icmp_error(struct rte_mbuf *m, uint16_t iif, uint16_t vrf, uint8_t type, uint8_t code,
		   uint32_t extra)
{
	uint16_t rvrf = l3_meta(m)->route_vrf; /* where it was looked up (punted or held) */
	struct rt_vrf *v = &rt_vrfs[vrf];
	uint32_t dst = rte_be_to_cpu_32(ip4_hdr(m)->dst_addr);
	uint32_t src = rt_src_addr(iif, rte_be_to_cpu_32(ip4_hdr(m)->src_addr));
	uint32_t bv = fib_get(&l3_fib, vrf, dst, 32);
	struct rte_mbuf *e;
	int out;

	/* Never about errors, fragments after the first, broadcasts; at the VRF's rate. */
	if (!ip4_may_icmp_error(m) || src == 0 ||
	    (bv && nh_group(&l3_nh, bv)->origin == NH_ORIGIN_BROADCAST) || v->icmp_rate == 0 ||
	    !dp_bucket_ok(&v->icmp, v->icmp_rate, rte_rdtsc())) {
		rte_pktmbuf_free(m);
		return;
	}
	e = rt_pool ? ip4_icmp_error(rt_pool, m, src, type, code, extra) : NULL;
	rte_pktmbuf_free(m);
	if (e == NULL) {
		rt_count_drop(iif, vrf, DP_DROP_NO_MBUF);
		return;
	}
	out = error_hooks(e, iif, vrf, rvrf);
	if (out < 0)
		return;
	rt_ifs[iif].ctl.icmp_sent++;
	v->ctl.icmp_sent++;
	rt_originate(e, (uint16_t)out);
}

/* An echo request to one of our addresses: the reply, made in place. */
static void echo_reply(struct rte_mbuf *m, uint16_t vrf)
{
	struct rte_ipv4_hdr *ip = ip4_hdr(m);
	uint32_t hlen = ip4_hlen(ip), opt = hlen - sizeof(*ip);
	struct rte_icmp_hdr *ic;
	rte_be32_t a;

	if (opt) {
		/* The reply carries no options: the headers move up over them. */
		memmove(rte_pktmbuf_mtod_offset(m, uint8_t *, opt), rte_pktmbuf_mtod(m, uint8_t *),
			RTE_ETHER_HDR_LEN + sizeof(*ip));
		rte_pktmbuf_adj(m, (uint16_t)opt);
		ip = ip4_hdr(m);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length =
			rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->total_length) - opt));
	}
	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = rte_cpu_to_be_16(ip4_csum_replace(rte_be_to_cpu_16(ic->icmp_cksum),
							   RTE_IP_ICMP_ECHO_REQUEST << 8,
							   RTE_IP_ICMP_ECHO_REPLY << 8));
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	ip4_set_cksum(ip);
	rt_originate(m, vrf);
}

/*
 * A datagram to a UDP service of interface sif, or a segment to its TCP
 * port (true: handed to it, consumed); one that came in on another
 * interface only to those that take routed ones.
 */
static bool svc_input(struct rte_mbuf *m, uint16_t sif, uint16_t vrf, const struct rte_ipv4_hdr *ip,
		      uint32_t hlen)
{
	const struct l3_tables *t = rt_tables();
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)((const uint8_t *)ip + hlen);
	uint8_t on = t && sif ? t->iface[sif].svc : 0;
	bool routed = sif != l3_meta(m)->iface, udp = ip->next_proto_id == IPPROTO_UDP;
	uint32_t l4 = udp ? sizeof(*uh) : sizeof(struct rte_tcp_hdr);

	if (on == 0 || (!udp && ip->next_proto_id != IPPROTO_TCP) ||
	    rte_be_to_cpu_16(ip->total_length) < hlen + l4 ||
	    m->data_len < RTE_ETHER_HDR_LEN + hlen + l4)
		return false;
	for (unsigned i = 0; i < l3_n_svcs; i++) {
		uint16_t port = udp ? l3_svcs[i]->port : l3_svcs[i]->tcp_port;
		if ((on & (1u << i)) && port && uh->dst_port == rte_cpu_to_be_16(port) &&
		    (!routed || (l3_svcs[i]->routed && l3_svcs[i]->routed(sif)))) {
			l3_svcs[i]->input(m, sif, vrf);
			return true;
		}
	}
	return false;
}

/* A packet for a service that sent its question itself (true: taken, consumed). */
static bool svc_local(struct rte_mbuf *m, uint16_t iif, uint16_t vrf)
{
	for (unsigned i = 0; i < l3_n_svcs; i++)
		if (l3_svcs[i]->local && l3_svcs[i]->local(m, iif, vrf))
			return true;
	return false;
}

static void local_input(struct rte_mbuf *m)
{
	const struct l3_meta *meta = l3_meta(m);
	uint16_t iif = meta->iface, vrf = meta->vrf;
	struct rte_ipv4_hdr *ip = ip4_hdr(m);
	uint32_t hlen = ip4_hlen(ip), len = rte_be_to_cpu_16(ip->total_length) - hlen;
	uint16_t own = rt_own_iface(vrf, rte_be_to_cpu_32(ip->dst_addr));
	const struct rte_icmp_hdr *ic;
	bool frag;

	if (own == 0)
		goto drop; /* ours only if addressed to one of our addresses (not a broadcast) */
	frag = ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK);
	/*
	 * A unicast to a service of the interface it is addressed to (a relay's
	 * server reply, before a service of the interface it came in on would
	 * take it as its own), or of the interface (a DHCP renewal), or the
	 * answer to what a service sent (a forwarded DNS query): before the
	 * kernel's.
	 */
	if (!frag && ((own != iif && svc_input(m, own, vrf, ip, hlen)) ||
		      svc_input(m, iif, vrf, ip, hlen) || svc_local(m, iif, vrf)))
		return;
	/* Bound to the kernel: all but whole echo requests are the kernel's (BGP, fragments). */
	ic = (const struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	if ((frag || ip->next_proto_id != IPPROTO_ICMP || len < sizeof(*ic) ||
	     m->data_len < RTE_ETHER_HDR_LEN + hlen + sizeof(*ic) ||
	     ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST) &&
	    kern_punt(m, iif))
		return;
	if (frag)
		goto drop; /* whole only */
	switch (ip->next_proto_id) {
	case IPPROTO_ICMP:
		ic = (const struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
		if (len < sizeof(*ic) || m->nb_segs > 1 ||
		    m->data_len < RTE_ETHER_HDR_LEN + hlen + len ||
		    ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0 ||
		    rte_raw_cksum(ic, len) != 0xffff)
			goto drop;
		echo_reply(m, vrf);
		return;
	case IPPROTO_UDP:
		/* No UDP service here: traceroute to the router ends on port unreachable. */
		rt_icmp_error(m, iif, vrf, IP4_ICMP_UNREACH, IP4_UNREACH_PORT, 0);
		return;
	default:
		break;
	}
drop:
	rt_count_drop(iif, vrf, L3_DROP_LOCAL);
	rte_pktmbuf_free(m);
}

/* Forwarding that the fast path leaves to us: IP options, fragmentation, resolution. */
static void slow_forward(struct rte_mbuf *m)
{
	struct l3_meta *meta = l3_meta(m);
	uint16_t iif = meta->iface, vrf = meta->vrf;
	struct rte_ipv4_hdr *ip = ip4_hdr(m);
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr), where = 0, tot;
	const struct l3_tables *t = rt_tables();
	const struct nh_group *g;
	const struct nh_path *p;
	const struct l3_iface *o;
	enum l3_drop why;

	g = route_to(meta->route_vrf, dst, &why); /* where ip4-route looked it up */
	if (g == NULL) {
		if (why == L3_DROP_NONE) {
			local_input(m); /* became ours meanwhile */
			return;
		}
		rt_count_drop(iif, vrf, why);
		if (why == L3_DROP_NO_ROUTE || why == L3_DROP_REJECT)
			rt_icmp_error(m, iif, vrf, IP4_ICMP_UNREACH,
				      why == L3_DROP_REJECT ? IP4_UNREACH_HOST : IP4_UNREACH_NET,
				      0);
		else
			rte_pktmbuf_free(m);
		return;
	}
	p = pick(g, ip, m->data_len - RTE_ETHER_HDR_LEN);
	o = t ? &t->iface[p->iface] : NULL;
	if (o == NULL || !o->on) {
		rt_count_drop(iif, vrf, L3_DROP_NO_ROUTE);
		rt_icmp_error(m, iif, vrf, IP4_ICMP_UNREACH, IP4_UNREACH_NET, 0);
		return;
	}
	if (ip->time_to_live <= 1) {
		rt_count_drop(iif, vrf, L3_DROP_TTL_EXCEEDED);
		rt_icmp_error(m, iif, vrf, IP4_ICMP_TIME_EXCEEDED, 0, 0);
		return;
	}
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot > o->mtu && (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))) {
		rt_count_drop(iif, vrf, L3_DROP_FRAG_NEEDED);
		rt_icmp_error(m, iif, vrf, IP4_ICMP_UNREACH, IP4_UNREACH_FRAG_NEEDED, o->mtu);
		return;
	}
	switch (ip4_options_forward(ip, rt_src_addr(p->iface, dst), &where)) {
	case IP4_OPT_MALFORMED:
		rt_count_drop(iif, vrf, L3_DROP_IP_HEADER);
		rt_icmp_error(m, iif, vrf, IP4_ICMP_PARAM_PROBLEM, 0, where << 24);
		return;
	case IP4_OPT_SOURCE_ROUTE:
		rt_count_drop(iif, vrf, L3_DROP_SOURCE_ROUTE);
		rte_pktmbuf_free(m);
		return;
	default:
		break;
	}
	ip->time_to_live--;
	ip4_set_cksum(ip);
	rt_vrfs[vrf].ctl.dp.tx_pkts++;
	rt_vrfs[vrf].ctl.dp.tx_bytes += m->pkt_len;
	output(m, p->iface, p->gw ? p->gw : dst, o->mtu);
}

void rt_punt(struct rte_mbuf *m)
{
	const struct l3_meta *meta = l3_meta(m);
	uint16_t iif = meta->iface, vrf = meta->vrf;

	switch (meta->reason) {
	case L3_PUNT_ARP:
		rt_arp_input(m);
		break;
	case L3_PUNT_LOCAL:
		local_input(m);
		break;
	case L3_PUNT_TTL:
		rt_icmp_error(m, iif, vrf, IP4_ICMP_TIME_EXCEEDED, 0, 0);
		break;
	case L3_PUNT_REJECT:
		rt_icmp_error(m, iif, vrf, IP4_ICMP_UNREACH, IP4_UNREACH_HOST, 0);
		break;
	case L3_PUNT_FRAG_NEEDED:
		rt_icmp_error(m, iif, vrf, IP4_ICMP_UNREACH, IP4_UNREACH_FRAG_NEEDED, meta->mtu);
		break;
	case L3_PUNT_SERVICE:
		if (meta->svc < l3_n_svcs)
			l3_svcs[meta->svc]->input(m, iif, vrf);
		else
			rte_pktmbuf_free(m);
		break;
	case L3_PUNT_HOOK:
		if (meta->svc < l3_n_hooks && l3_hooks[meta->svc]->punted)
			l3_hooks[meta->svc]->punted(m, iif, vrf);
		else
			rte_pktmbuf_free(m);
		break;
	case L3_PUNT_NO_ROUTE: /* looked up again: the route may have come meanwhile */
	case L3_PUNT_SLOW:
	case L3_PUNT_RESOLVE:
		slow_forward(m);
		break;
	default:
		rte_pktmbuf_free(m);
		break;
	}
}
