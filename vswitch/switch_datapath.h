/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host vswitch pipeline for one burst from one access or trunk port:
 *   1. classify: VLAN rules of the port -> group (VLAN), tag popped;
 *      source MAC sanity, anti-spoofing and IPv4 source guard;
 *   2. look up the burst's distinct source and destination keys at once;
 *   3. learn (events to the control thread), then forward: known unicast
 *      to its port if that port is still in the group, else flood to the
 *      group's other ports (storm control first); a trunk gets the group's
 *      tag pushed.
 * Worker code: no syscalls, locks, logs or allocation beyond flood copies.
 */
#ifndef TESS_SWITCH_DATAPATH_H
#define TESS_SWITCH_DATAPATH_H

#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include "fdb.h"
#include "kick.h"
#include "stage.h"
#include "switch_hooks.h"
#include "switch_tables.h"
#include "tx_datapath.h"
#include "vlan.h"

extern struct fdb vsw_fdb;

/* What the vswitch's functions need of a worker and a snapshot. */
struct vsw_ctx {
	struct dp_worker *w;
	struct vsw_worker *vw;
	const struct dp_snapshot *s;
	const struct vsw_part *vp;
};

static inline void vsw_ctx_init(struct vsw_ctx *c, struct dp_worker *w, const struct dp_snapshot *s)
{
	c->w = w;
	c->vw = dp_worker_mod(w, &vsw_module);
	c->s = s;
	c->vp = dp_snap_part(s, &vsw_module);
}

#define VSW_BCAST_KEY UINT64_MAX /* marks a broadcast or multicast destination */

/*
 * A MAC of an Ethernet header as the low 48 bits of a key (the layout of
 * fdb_key). One 8-byte load and a mask: both addresses of a header are
 * followed by at least 2 readable bytes, and a 6-byte copy into a zeroed
 * word would stall store forwarding on every packet.
 */
static inline uint64_t vsw_hdr_mac64(const struct rte_ether_addr *a)
{
	uint64_t k;

	memcpy(&k, a->addr_bytes, sizeof(k));
	return rte_le_to_cpu_64(k) & UINT64_C(0xffffffffffff);
}

/* Group counters of a run of frames in one group, written once per run rather than per frame. */
struct vsw_acc {
	uint16_t vlan;
	uint32_t pkts;
	uint64_t bytes;
};

static inline void vsw_acc_flush(struct vsw_worker *vw, struct vsw_acc *a, bool rx)
{
	vsw_counters_t *gc = &vw->grp[a->vlan];

	if (a->pkts) {
		dp_cnt_add(rx ? &gc->rx_pkts : &gc->tx_pkts, a->pkts);
		dp_cnt_add(rx ? &gc->rx_bytes : &gc->tx_bytes, a->bytes);
	}
	a->pkts = 0;
	a->bytes = 0;
}

static inline void vsw_acc_add(struct vsw_worker *vw, struct vsw_acc *a, bool rx, uint16_t vlan,
			       uint32_t len)
{
	if (unlikely(vlan != a->vlan)) {
		vsw_acc_flush(vw, a, rx);
		a->vlan = vlan;
	}
	a->pkts++;
	a->bytes += len;
}

/* A drop counted on the port (and in the totals) only. */
static inline void vsw_port_drop(struct dp_worker *w, uint16_t port, unsigned why,
				 struct rte_mbuf *m)
{
	dp_drop(w, port, dp_drop_id(&vsw_drops, why), m);
}

/* A drop counted on the group too (port DP_PORT_NONE: on the group only). */
static inline void vsw_group_drop(const struct vsw_ctx *c, uint16_t port, uint16_t vlan,
				  unsigned why, struct rte_mbuf *m)
{
	dp_cnt_add(&c->vw->grp[vlan].drop[why], 1);
	vsw_port_drop(c->w, port, why, m);
}

/* Source MAC allowed on an anti-spoofed port: configured ones, or the first one seen. */
static inline bool vsw_mac_allowed(const struct vsw_port *pf, uint16_t port,
				   const struct rte_ether_addr *src)
{
	uint64_t want, cur;

	if (pf->n_macs) {
		for (unsigned i = 0; i < pf->n_macs; i++)
			if (rte_is_same_ether_addr(&pf->macs[i], src))
				return true;
		return false;
	}
	want = vsw_hdr_mac64(src) | UINT64_C(1) << 63;
	cur = __atomic_load_n(&vsw_port_state[port].locked_mac, __ATOMIC_ACQUIRE);
	if (likely(cur == want))
		return true;
	/* Lock-free: among workers racing for an unlocked port, one MAC wins. */
	if (cur == 0 && __atomic_compare_exchange_n(&vsw_port_state[port].locked_mac, &cur, want,
						    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return true;
	return cur == want;
}

static inline bool vsw_ip_listed(const struct vsw_port *pf, rte_be32_t ip)
{
	for (unsigned i = 0; i < pf->n_ips; i++)
		if (pf->ips[i] == ip)
			return true;
	return false;
}

/*
 * An ARP's sender MAC must be the frame's source (already checked against the
 * MAC guard): otherwise any port could claim another's MAC for an address
 * (ARP spoofing of a neighbour or the gateway). Short ARP fails.
 */
static inline bool vsw_arp_sha_ok(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eh + 1);

	return m->data_len >= RTE_ETHER_HDR_LEN + sizeof(*arp) &&
	       rte_is_same_ether_addr(&arp->arp_data.arp_sha, &eh->src_addr);
}

/*
 * IPv4 source guard: IPv4 sources and ARP sender addresses must be allowed,
 * and ARP's sender MAC be the frame's source.
 * Address-less bootstrapping passes: DHCP (0.0.0.0 to 255.255.255.255) and
 * ARP probes (sender 0.0.0.0). Other ethertypes are not guarded.
 */
static inline bool vsw_ip_allowed(const struct vsw_port *pf, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	/* A tag would hide the addresses from this check (classify refuses them anyway). */
	if (vlan_is_tpid(eh->ether_type))
		return false;
	if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
		if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*ip))
			return false;
		return vsw_ip_listed(pf, ip->src_addr) ||
		       (ip->src_addr == 0 && ip->dst_addr == RTE_BE32(0xffffffff));
	}
	if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eh + 1);
		if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*arp))
			return false;
		return vsw_arp_sha_ok(m) &&
		       (arp->arp_data.arp_sip == 0 || vsw_ip_listed(pf, arp->arp_data.arp_sip));
	}
	return true;
}

/*
 * Whether IPv4 header h (len bytes from it in the segment) is a DHCP server's message: UDP
 * from port 67, or to port 68 (clients take any source port there); a first fragment or a
 * whole datagram; one too short to tell counts.
 */
static inline bool vsw_dhcp_server(const struct rte_ipv4_hdr *h, uint32_t len)
{
	uint32_t hlen = (h->version_ihl & 0xfu) * 4u;
	const struct rte_udp_hdr *uh;

	if (h->next_proto_id != IPPROTO_UDP ||
	    (h->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)))
		return false;
	if (hlen < sizeof(*h) || len < hlen + sizeof(*uh))
		return true;
	uh = (const struct rte_udp_hdr *)((const uint8_t *)h + hlen);
	return uh->src_port == RTE_BE16(67) || uh->dst_port == RTE_BE16(68);
}

/*
 * The group's rules for what its access ports send: only IPv4 and ARP (ipv4_only), no
 * DHCP server's message (dhcp_guard: only the trunk's server answers), and nothing from or
 * claiming its protected addresses (a gateway's: a desktop answering ARP for it, or offering
 * leases that name it the router, would draw its neighbours' routed traffic). 0, or the
 * reason to drop m.
 */
static inline unsigned vsw_group_guard(const struct vsw_port *pf, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	rte_be32_t ip;

	if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *h = (const struct rte_ipv4_hdr *)(eh + 1);
		if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*h))
			return pf->n_protected || pf->dhcp_guard ? VSW_DROP_SPOOFED_IP : 0;
		if (pf->dhcp_guard && vsw_dhcp_server(h, m->data_len - RTE_ETHER_HDR_LEN))
			return VSW_DROP_ROGUE_DHCP;
		ip = h->src_addr;
	} else if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(eh + 1);
		if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*a))
			return pf->n_protected ? VSW_DROP_SPOOFED_IP : 0;
		ip = a->arp_data.arp_sip;
	} else {
		if (pf->ipv4_only)
			return VSW_DROP_NOT_IPV4;
		/* A tag (none passes classify on an access port) would hide the addresses. */
		return (pf->n_protected || pf->dhcp_guard) && vlan_is_tpid(eh->ether_type)
			       ? VSW_DROP_SPOOFED_IP
			       : 0;
	}
	for (unsigned i = 0; i < pf->n_protected; i++)
		if (pf->protected_ips[i] == ip)
			return VSW_DROP_SPOOFED_IP;
	return 0;
}

/*
 * Asks the control thread to learn key on port, unless asked within the last
 * 10 ms, and at most VSW_LEARN_PPS times a second per port (per group over
 * the trunks, which carry many tenants): a port, or a tenant on a trunk,
 * sending from ever new MACs (or refused at its limit) cannot crowd out the
 * others.
 * A MAC not in the FDB (fresh) has the control thread kicked at the burst's
 * end; a move waits for its tick: a MAC flapping between two ports (a loop)
 * would wake it at every burst.
 */
static inline void vsw_learn(struct vsw_worker *w, uint64_t key, uint16_t port, uint64_t now,
			     bool fresh, bool trunk)
{
	unsigned slot = (unsigned)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 56) % VSW_LEARN_MEMO;
	struct vsw_learn_event ev = { .key = key, .port = port };
	struct dp_storm *rl = &w->learn_rl[port];

	if (w->memo[slot].key == key && w->memo[slot].port == port &&
	    now - w->memo[slot].tsc < dp_tsc_hz / 100)
		return;
	/* A group's on every trunk together: one tenant's, whichever trunk it storms. */
	if (trunk)
		rl = &w->learn_rl_group[fdb_key_vlan(key)];
	if (!dp_bucket_ok(rl, VSW_LEARN_PPS, now)) {
		dp_cnt_add(&w->learn_limited, 1);
		return;
	}
	if (rte_ring_sp_enqueue_elem(w->learn, &ev, sizeof(ev)) != 0) {
		dp_cnt_add(&w->learn_lost, 1);
		return;
	}
	w->memo[slot].key = key;
	w->memo[slot].port = port;
	w->memo[slot].tsc = now;
	w->learned |= fresh;
}

static inline bool vsw_member(const struct vsw_group *g, uint16_t port)
{
	const uint64_t *w = g->ports[port / 64];

	return ((w[VSW_ACCESS] | w[VSW_TRUNK]) >> (port % 64)) & 1;
}

/*
 * Sends m (unshared) out of one port of the group, tagging it for a trunk;
 * false when it was dropped instead (counted).
 */
static inline bool vsw_unicast(const struct vsw_ctx *c, uint16_t out, uint16_t vlan, uint16_t tci,
			       struct rte_mbuf *m, struct vsw_acc *tx)
{
	const struct vsw_port *op = &c->vp->port[out];

	/* A trunk tags every group but its native one. */
	if (op->mode == VSW_PORT_TRUNK && op->vlan != vlan && !vlan_push(m, tci)) {
		vsw_group_drop(c, out, vlan, DP_DROP_NO_MBUF, m);
		return false;
	}
	if (unlikely(!dp_fits_mtu(m, c->s->port[out].mtu))) {
		vsw_group_drop(c, out, vlan, DP_DROP_MTU_EXCEEDED, m);
		return false;
	}
	vsw_acc_add(c->vw, tx, false, vlan, m->pkt_len);
	dp_tx(c->w, out, m);
	return true;
}

/*
 * Floods m to the group's ports but "in": the untagged frame is shared by
 * the access ports (reference counts), one tagged copy by the trunks. It
 * visits only the words of port ids that hold a member (vsw_group.words):
 * scanning all DP_PORT_WORDS of them was most of a flooded frame's cost.
 */
static inline void vsw_flood(const struct vsw_ctx *c, uint16_t in, uint16_t vlan, uint16_t tci,
			     struct rte_mbuf *m)
{
	const struct vsw_group *g = &c->vp->group[vlan];
	vsw_counters_t *gc = &c->vw->grp[vlan];
	/* The member words, packed: acc[j] and trk[j] are those of port ids wid[j] * 64 on. */
	uint64_t acc[DP_PORT_WORDS], trk[DP_PORT_WORDS];
	uint8_t wid[DP_PORT_WORDS];
	unsigned nw = 0, na = 0, nt = 0;
	struct rte_mbuf *tagged = NULL;

	for (uint32_t ws = g->words; ws; ws &= ws - 1, nw++) {
		unsigned i = (unsigned)__builtin_ctz(ws);
		const uint64_t *pw = g->ports[i];
		/* Not back out of "in"; DP_PORT_NONE (from the router interface) is in no word. */
		uint64_t not_in = in / 64 == i ? ~(UINT64_C(1) << (in % 64)) : UINT64_MAX;

		wid[nw] = (uint8_t)i;
		/* Trunks where the group is native take the untagged frame, like access ports. */
		acc[nw] = (pw[VSW_ACCESS] | pw[VSW_NATIVE]) & not_in;
		trk[nw] = pw[VSW_TRUNK] & ~pw[VSW_NATIVE] & not_in;
		na += (unsigned)__builtin_popcountll(acc[nw]);
		nt += (unsigned)__builtin_popcountll(trk[nw]);
	}
	if (na + nt == 0) {
		vsw_group_drop(c, in, vlan, VSW_DROP_NO_DESTINATION, m);
		return;
	}
	if (in != DP_PORT_NONE)
		dp_cnt_add(&c->w->port[in].flooded, 1);
	dp_cnt_add(&gc->flooded, 1);
	if (nt) {
		tagged = na ? rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX) : m;
		if (tagged == NULL || !vlan_push(tagged, tci)) {
			/* The trunks miss this one; it is counted, the access ports still get it.
			 */
			dp_cnt_add(&gc->drop[DP_DROP_NO_MBUF], 1);
			dp_count_drops(c->w, in, DP_DROP_NO_MBUF, 1);
			if (tagged && tagged != m)
				rte_pktmbuf_free(tagged);
			if (na == 0) {
				rte_pktmbuf_free(m);
				return;
			}
			tagged = NULL;
			nt = 0;
		}
	}
	/* Every segment is shared: a chained frame's later segments too. */
	if (na > 1)
		rte_pktmbuf_refcnt_update(m, (int16_t)(na - 1));
	if (nt > 1)
		rte_pktmbuf_refcnt_update(tagged, (int16_t)(nt - 1));
	for (unsigned j = 0; j < nw; j++) {
		uint64_t bits = acc[j] | (nt ? trk[j] : 0);
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			uint16_t out = (uint16_t)(wid[j] * 64 + b);
			/* No trunk (nt 0): every port takes m, said first for gcc -fanalyzer. */
			struct rte_mbuf *v = nt && !((acc[j] >> b) & 1) ? tagged : m;

			bits &= bits - 1;
			if (unlikely(!dp_fits_mtu(v, c->s->port[out].mtu))) {
				vsw_group_drop(c, out, vlan, DP_DROP_MTU_EXCEEDED, v);
				continue;
			}
			dp_cnt_add(&gc->tx_pkts, 1);
			dp_cnt_add(&gc->tx_bytes, v->pkt_len);
			dp_tx(c->w, out, v);
		}
	}
}

/*
 * Removes a priority tag; a frame with another tag behind it is dropped
 * (it would carry a VLAN, or hide its addresses, past the port's rules).
 */
static inline bool vsw_pop_priority(struct dp_worker *w, uint16_t in, struct rte_mbuf *m)
{
	struct vlan_tag t;

	vlan_pop(m);
	if (!vlan_outer(m, &t) || t.present) {
		vsw_port_drop(w, in, VSW_DROP_PRIORITY_STACKED, m);
		return false;
	}
	return true;
}

/*
 * Stage 1 for one frame: the group it belongs to, tag popped, and its MACs
 * as keys' low bits (vsw_hdr_mac64). Returns the VLAN, or 0 when the frame
 * was dropped (and counted). The MACs are read before the pop moves them:
 * read after it, the source's 8 bytes span the pop's two stores, which the
 * CPU cannot forward to one load (13% of the stage's samples on a trunk).
 */
static inline uint16_t vsw_classify(struct dp_worker *w, const struct vsw_port *pf, uint16_t in,
				    struct rte_mbuf *m, uint16_t *tci, uint64_t *dmac,
				    uint64_t *smac)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct vlan_tag t;
	uint16_t vid, vlan;

	if (unlikely(m->pkt_len < RTE_ETHER_HDR_LEN || m->data_len < RTE_ETHER_HDR_LEN ||
		     !vlan_outer(m, &t))) {
		dp_drop(w, in, DP_DROP_BAD_FRAME, m);
		return 0;
	}
	*dmac = vsw_hdr_mac64(&eh->dst_addr);
	*smac = vsw_hdr_mac64(&eh->src_addr);
	vid = t.tci & VLAN_VID_MASK;
	*tci = t.tci & ~VLAN_VID_MASK; /* priority bits travel with the frame */
	if (pf->mode == VSW_PORT_ACCESS) {
		/* A priority tag (VID 0) counts as untagged; any other tag is refused. */
		if (unlikely(t.present)) {
			if (vid) {
				vsw_port_drop(w, in, VSW_DROP_TAGGED_ON_ACCESS, m);
				return 0;
			}
			if (!vsw_pop_priority(w, in, m))
				return 0;
		}
		vlan = pf->vlan;
	} else if (vid == 0) {
		/* Untagged (or priority-tagged) on a trunk: only into a configured native group. */
		if (!pf->vlan) {
			vsw_port_drop(w, in, VSW_DROP_UNTAGGED_ON_TRUNK, m);
			return 0;
		}
		if (t.present && !vsw_pop_priority(w, in, m))
			return 0;
		vlan = pf->vlan;
	} else {
		if (!dp_bit(pf->vlans, vid)) {
			vsw_port_drop(w, in, VSW_DROP_VLAN_NOT_CARRIED, m);
			return 0;
		}
		vlan_pop(m); /* an inner tag, if any, stays: it is the group's payload */
		vlan = vid;
	}
	*tci |= vlan;
	return vlan;
}

/* Unicast to the MAC of the group's router interface (IRB): to it, with its irb_arg. */
static inline bool vsw_to_router(const struct vsw_group *g, struct rte_mbuf *m, struct dp_burst *r)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (!rte_is_same_ether_addr(&eh->dst_addr, &g->irb_mac))
		return false;
	r->arg[r->n] = g->irb_arg;
	r->pkts[r->n++] = m;
	return true;
}

/* IPv4 UDP, not a fragment, to a port a service of the group's router interface claims. */
static inline bool vsw_irb_udp(const struct vsw_group *g, const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *uh;
	uint32_t hlen;

	if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return false;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	hlen = (ip->version_ihl & 0xfu) * 4u;
	if (ip->next_proto_id != IPPROTO_UDP || hlen < sizeof(*ip) ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    m->data_len < RTE_ETHER_HDR_LEN + hlen + sizeof(*uh))
		return false;
	uh = (const struct rte_udp_hdr *)((const uint8_t *)ip + hlen);
	for (unsigned i = 0; i < g->n_irb_udp; i++)
		if (uh->dst_port == g->irb_udp[i])
			return true;
	return false;
}

/*
 * A broadcast storm control let through, about to flood: a copy to the
 * group's router interface when an ARP, or IPv4 UDP to a port one of its
 * services claims (a DHCP server's), so that other broadcasts (a NetBIOS
 * flood) cost no allocation. A copy, not a clone: flooding to a trunk pushes
 * a VLAN tag into the frame's data in place, and vlan_push refuses a shared one.
 */
static inline void vsw_bcast_to_router(const struct vsw_group *g, struct rte_mbuf *m,
				       struct dp_burst *r)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct rte_mbuf *c;

	if (!rte_is_broadcast_ether_addr(&eh->dst_addr) ||
	    !(eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP) ||
	      (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) && g->n_irb_udp &&
	       vsw_irb_udp(g, m))))
		return;
	c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
	if (c != NULL) {
		r->arg[r->n] = g->irb_arg;
		r->pkts[r->n++] = c;
	}
}

_Static_assert(2 * DP_BURST <= LF_BULK_MAX, "vsw_input: a burst's keys must fit one bulk lookup");

/* A burst from an access or trunk port; frames for a group's router interface go into routed. */
static inline void vsw_input(const struct vsw_ctx *c, uint16_t in, uint16_t queue,
			     struct rte_mbuf **pkts, uint16_t n, uint64_t now,
			     struct dp_burst *routed)
{
	struct dp_worker *w = c->w;
	struct vsw_worker *vw = c->vw;
	const struct vsw_port *pf = &c->vp->port[in];
	struct rte_mbuf *ok[DP_BURST];
	uint16_t vlans[DP_BURST], tcis[DP_BURST];
	uint64_t skey[DP_BURST], dkey[DP_BURST];
	uint8_t sidx[DP_BURST], didx[DP_BURST];
	uint64_t uniq[2 * DP_BURST];
	struct fdb_entry *e[2 * DP_BURST];
	struct vsw_acc rx = { 0 }, tx = { 0 };
	uint16_t k = 0;
	uint32_t nu = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eh;
		uint64_t dmac = 0, smac = 0;
		uint16_t tci, vlan = vsw_classify(w, pf, in, m, &tci, &dmac, &smac);

		if (vlan == 0)
			continue;
		eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		/* Multicast (the first byte's lowest bit: the word is little-endian) or zero. */
		if (unlikely((smac & RTE_ETHER_GROUP_ADDR) || smac == 0)) {
			vsw_group_drop(c, in, vlan, VSW_DROP_BAD_SRC_MAC, m);
			continue;
		}
		if (pf->anti_spoof) {
			if (unlikely(!vsw_mac_allowed(pf, in, &eh->src_addr))) {
				vsw_group_drop(c, in, vlan, VSW_DROP_SPOOFED_MAC, m);
				continue;
			}
			if (pf->n_ips) {
				if (unlikely(!vsw_ip_allowed(pf, m))) {
					vsw_group_drop(c, in, vlan, VSW_DROP_SPOOFED_IP, m);
					continue;
				}
			} else if (unlikely(eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) &&
				   !vsw_arp_sha_ok(m)) {
				/* The MAC guard alone (no address list): the ARP's MAC is guarded.
				 */
				vsw_group_drop(c, in, vlan, VSW_DROP_SPOOFED_MAC, m);
				continue;
			}
		}
		if (pf->group_guard) {
			unsigned why = vsw_group_guard(pf, m);
			if (why) {
				vsw_group_drop(c, in, vlan, why, m);
				continue;
			}
		}
		vsw_acc_add(vw, &rx, true, vlan, m->pkt_len);
		ok[k] = m;
		vlans[k] = vlan;
		tcis[k] = tci;
		skey[k] = smac | (uint64_t)vlan << 48;
		dkey[k] =
			(dmac & RTE_ETHER_GROUP_ADDR) ? VSW_BCAST_KEY : dmac | (uint64_t)vlan << 48;
		/* A burst usually repeats its keys: look each distinct one up once. */
		if (k && skey[k] == skey[k - 1]) {
			sidx[k] = sidx[k - 1];
		} else {
			sidx[k] = (uint8_t)nu;
			uniq[nu++] = skey[k];
		}
		if (dkey[k] == VSW_BCAST_KEY) {
			didx[k] = UINT8_MAX;
		} else if (k && dkey[k] == dkey[k - 1]) {
			didx[k] = didx[k - 1];
		} else {
			didx[k] = (uint8_t)nu;
			uniq[nu++] = dkey[k];
		}
		k++;
	}
	vsw_acc_flush(vw, &rx, true);
	if (unlikely(dp_hook_any(c->s, DP_HOOK_GROUP, DP_HOOK_IN) ||
		     dp_hook_any(c->s, DP_HOOK_GROUP, DP_HOOK_OUT))) {
		const struct vsw_rx r = { ok, vlans, tcis, skey, dkey, sidx, didx };
		k = vsw_group_hooks(w, c->s, c->vp, &r, k, in, now);
	}
	if (k == 0)
		return;
	/*
	 * With every frame another tenant's, the groups are lines apart: their
	 * first lines (flags, the member sets of the first 128 port ids) load
	 * while the lookup waits for its buckets and entries.
	 */
	for (uint16_t i = 0; i < k; i++)
		rte_prefetch0(&c->vp->group[vlans[i]]);
	fdb_lookup_bulk(&vsw_fdb, uniq, nu, e);

	for (uint16_t i = 0; i < k; i++) {
		struct rte_mbuf *m = ok[i];
		uint16_t vlan = vlans[i];
		const struct vsw_group *g = &c->vp->group[vlan];
		struct fdb_entry *src = e[sidx[i]];
		struct fdb_entry *dst = didx[i] == UINT8_MAX ? NULL : e[didx[i]];

		/* Learn: unknown source, or one that moved here (static entries never move). */
		if (likely(src && src->port == in))
			fdb_touch(src, now, dp_tsc_hz);
		else if (src == NULL || !(src->flags & FDB_F_STATIC))
			vsw_learn(vw, skey[i], in, now, src == NULL, pf->mode == VSW_PORT_TRUNK);

		if (unlikely(g->irb_arg != 0) && dkey[i] != VSW_BCAST_KEY &&
		    vsw_to_router(g, m, routed))
			continue;

		/* One read of the port: a move may change it under us; what is checked is used. */
		uint16_t out = dst ? __atomic_load_n(&dst->port, __ATOMIC_ACQUIRE) : DP_PORT_NONE;
		if (dst && vsw_member(g, out)) {
			if (unlikely(out == in))
				vsw_group_drop(c, in, vlan, VSW_DROP_LOCAL_DEST, m);
			else
				vsw_unicast(c, out, vlan, tcis[i], m, &tx);
			continue;
		}
		if (dkey[i] != VSW_BCAST_KEY && !(g->flags & VSW_GROUP_FLOOD_UU)) {
			vsw_group_drop(c, in, vlan, VSW_DROP_UNKNOWN_UNICAST, m);
			continue;
		}
		if (dkey[i] == VSW_BCAST_KEY && !(g->flags & VSW_GROUP_FLOOD_MC) &&
		    !rte_is_broadcast_ether_addr(
			    &rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr)) {
			vsw_group_drop(c, in, vlan, VSW_DROP_MULTICAST, m);
			continue;
		}
		if (pf->storm_pps && !dp_bucket_ok(&vw->storm[in][queue], pf->storm_pps, now)) {
			vsw_group_drop(c, in, vlan, VSW_DROP_STORM, m);
			continue;
		}
		if (unlikely(g->irb_arg != 0) && dkey[i] == VSW_BCAST_KEY)
			vsw_bcast_to_router(g, m, routed);
		vsw_flood(c, in, vlan, tcis[i], m);
	}
	vsw_acc_flush(vw, &tx, false);
	/* Learnt now, not at the control thread's next tick: until then frames to the
	 * source are flooded. One kick a burst (and a write per wake-up), not a packet. */
	if (vw->learned) {
		vw->learned = false;
		dp_kick_control();
	}
}

#endif
