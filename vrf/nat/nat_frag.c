/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nat44 stage's fragments. A first fragment carries the L4 header: it
 * is translated as a whole packet would be (its L4 checksum covers the
 * whole datagram, so the incremental update is right), and leaves a
 * fragment record: (VRF, source, destination, protocol, IP id) as it came
 * -> the addresses and VRF it became. Later fragments (no ports) look it
 * up and get the same addresses. Records are entries of the connection
 * table (one-way, the tuple's pad 1 so that they never meet a session's
 * tuple) under the instance's records owner, at most NAT_FRAG_MAX per
 * instance (frag_limit beyond: the datagram's later fragments are
 * dropped); one is brief (CONN_F_BRIEF): stale after CONN_BRIEF_SEC
 * without a fragment and gone at the expiry scan after that (a datagram
 * whose last fragment never came gives its place back in seconds, not
 * after its protocol's timeout), or once its last fragment (MF clear)
 * passed.
 *
 * Out of order: a later fragment arriving before its first has no record
 * and is dropped (frag_unknown, drop nat_frag_unknown); the sender's
 * reassembly timer then gives up on the datagram, as after any loss.
 * Holding fragments would need a buffer per datagram in a worker (and a
 * second pass when the first one comes): not worth it for a case senders
 * rarely produce. Worker code.
 */
#include "l3.h"
#include "nat_dp.h"
#include "nat_xlate.h"
#include "tx_datapath.h"

static struct conn_tuple frag_key(uint32_t src, uint32_t dst, uint16_t id, uint16_t vrf,
				  uint8_t proto)
{
	return (struct conn_tuple){
		.src = src, .dst = dst, .sport = id, .vrf = vrf, .proto = proto, .pad = 1
	};
}

/* The instance tuple k (as it came) concerns: its inside VRF's, or its outside address's. */
static struct nat_inst *frag_inst(const struct nat_part *p, const struct conn_tuple *k)
{
	uint16_t i1 = p->inst_of_vrf[k->vrf];
	uint32_t h = rte_be_to_cpu_32(k->dst);
	const struct nat_addr *a;

	if (i1)
		return p->pi[i1 - 1].n;
	a = nat_addr_find(p, k->vrf, h, NAT_ADDR_POOL);
	if (a == NULL)
		a = nat_addr_find(p, k->vrf, h, NAT_ADDR_STATIC_OUT);
	return a ? p->pi[a->pi].n : NULL;
}

void nat_frag_note(const struct nat_dp *x, struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		   const struct conn_tuple *k)
{
	struct conn_tuple key = frag_key(k->src, k->dst, ip->packet_id, k->vrf, k->proto);
	uint64_t user[2] = { NAT_FRAG | (uint64_t)l3_meta(m)->route_vrf << 8,
			     (uint64_t)ip->src_addr << 32 | ip->dst_addr };
	struct nat_inst *n = frag_inst(x->p, k);
	struct conn_entry *e;
	int d, err;

	if (n == NULL)
		return;
	e = conn_lookup(nat_conn, &key, &d);
	if (e) {
		/* The id came round again: this datagram's addresses. */
		__atomic_store_n(&e->user[1], user[1], __ATOMIC_RELAXED);
		__atomic_store_n(&e->user[0], user[0], __ATOMIC_RELAXED);
		conn_hit(e, CONN_ORIG, 0, x->now);
		return;
	}
	if (__atomic_fetch_add(&n->frags, 1, __ATOMIC_RELAXED) >= NAT_FRAG_MAX) {
		__atomic_fetch_sub(&n->frags, 1, __ATOMIC_RELAXED);
		dp_cnt_add(&x->nw->cnt[n->slot].frag_limit, 1);
		return;
	}
	e = conn_new(nat_conn, x->w->idx, nat_owner_records(n->slot), CONN_F_ONEWAY | CONN_F_BRIEF,
		     &key, NULL, user, 0, x->now, &err);
	if (e == NULL) {
		__atomic_fetch_sub(&n->frags, 1, __ATOMIC_RELAXED);
		if (err != -EEXIST) /* -EEXIST: another worker's first copy made it */
			dp_cnt_add(&x->nw->cnt[n->slot].frag_limit, 1);
	}
}

enum nat_dp_verdict nat_frag_rest(const struct nat_dp *x, struct rte_mbuf *m,
				  struct rte_ipv4_hdr *ip, uint16_t vrf, struct nat_inst *n)
{
	struct conn_tuple key =
		frag_key(ip->src_addr, ip->dst_addr, ip->packet_id, vrf, ip->next_proto_id);
	struct conn_entry *e = conn_lookup(nat_conn, &key, &(int){ 0 });

	if (e && (e->user[0] & NAT_KIND_MASK) == NAT_FRAG &&
	    x->now - __atomic_load_n(&e->last, __ATOMIC_RELAXED) <=
		    CONN_BRIEF_SEC * nat_conn->tsc_hz) {
		uint64_t u0 = __atomic_load_n(&e->user[0], __ATOMIC_RELAXED);
		uint64_t u1 = __atomic_load_n(&e->user[1], __ATOMIC_RELAXED);
		uint32_t src = (uint32_t)(u1 >> 32), dst = (uint32_t)u1;
		uint16_t c = nat_csum_32(ip->hdr_checksum, ip->src_addr, src);

		ip->hdr_checksum = nat_csum_32(c, ip->dst_addr, dst);
		ip->src_addr = src;
		ip->dst_addr = dst;
		l3_meta(m)->route_vrf = (uint16_t)(u0 >> 8);
		if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG))
			conn_hit(e, CONN_ORIG, 0, x->now);
		else
			conn_kill(e); /* the last one: gone at the next scan */
		dp_cnt_add(&x->nw->cnt[e->owner / 2].frag_translated, 1);
		return NAT_DP_TRANSLATED;
	}
	if (e && (e->user[0] & NAT_KIND_MASK) == NAT_FRAG)
		conn_kill(e); /* stale */
	if (n == NULL) {
		n = frag_inst(x->p, &key);
		if (n == NULL)
			return NAT_DP_PASS; /* outside traffic not for a translated address */
	}
	dp_cnt_add(&x->nw->cnt[n->slot].frag_unknown, 1);
	dp_drop(x->w, DP_PORT_NONE, dp_drop_id(&nat_drops, NAT_DROP_FRAG_UNKNOWN), m);
	return NAT_DP_DROPPED;
}
