/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nat44 stage's ICMP errors (nat_icmp.h for the rewrite): an error
 * quoting a packet of a session is translated as a packet of it would be
 * and routed in the VRF it goes to. An error does not refresh its session
 * (a stream of errors must not keep a dead flow's mapping). Quoted packets
 * that are malformed or not translatable (an error about an error, a
 * non-first fragment, another protocol) are counted (icmp_bad) and
 * dropped when the error concerns NAT (from an inside VRF, or to a pool or
 * static address); an error whose quoted flow has no session is counted
 * (icmp_no_session) and dropped likewise: it would show an inside host's
 * private address outside, or reach nobody inside. Worker code.
 */
#include "l3.h"
#include "nat_dp.h"
#include "nat_icmp.h"
#include "tx_datapath.h"

/* Whether an outside VRF's packet to dst concerns NAT (a pool or static outside address). */
static bool nat_address(const struct nat_part *p, uint16_t vrf, uint32_t dst)
{
	uint32_t h = rte_be_to_cpu_32(dst);

	return nat_addr_find(p, vrf, h, NAT_ADDR_POOL) ||
	       nat_addr_find(p, vrf, h, NAT_ADDR_STATIC_OUT);
}

static enum nat_dp_verdict drop(const struct nat_dp *x, struct rte_mbuf *m, struct nat_inst *n,
				enum nat_drop why)
{
	if (x->own) {
		/* The router's own (control thread): one counter and reason for any cause. */
		if (n)
			dp_cnt_add(&x->nw->cnt[n->slot].router_icmp_dropped, 1);
		dp_ctl_drop(dp_drop_id(&nat_drops, NAT_DROP_ROUTER_ICMP));
		rte_pktmbuf_free(m);
		return NAT_DP_DROPPED;
	}
	if (n)
		dp_cnt_add(why == NAT_DROP_ICMP_BAD ? &x->nw->cnt[n->slot].icmp_bad
						    : &x->nw->cnt[n->slot].icmp_no_session,
			   1);
	dp_drop(x->w, DP_PORT_NONE, dp_drop_id(&nat_drops, why), m);
	return NAT_DP_DROPPED;
}

/* The instance an outside VRF's error to dst is for (its pool or static address), or NULL. */
static struct nat_inst *inst_of(const struct nat_part *p, uint16_t vrf, uint32_t dst)
{
	uint32_t h = rte_be_to_cpu_32(dst);
	const struct nat_addr *a = nat_addr_find(p, vrf, h, NAT_ADDR_POOL);

	if (a == NULL)
		a = nat_addr_find(p, vrf, h, NAT_ADDR_STATIC_OUT);
	return a ? p->pi[a->pi].n : NULL;
}

enum nat_dp_verdict nat_icmp_error(const struct nat_dp *x, struct rte_mbuf *m,
				   struct rte_ipv4_hdr *ip, uint32_t l4len, uint16_t vrf,
				   struct nat_inst *n)
{
	struct conn_tuple q, k, to;
	struct nat_icmp_err e = { 0 };
	enum nat_icmp_rc rc;
	struct conn_entry *s;
	int d;

	rc = nat_icmp_parse(ip, l4len, vrf, &q, &e);
	if (rc == NAT_ICMP_NOT_ERROR)
		return NAT_DP_NOT_MINE;
	if (n == NULL) {
		if (!nat_address(x->p, vrf, ip->dst_addr))
			return NAT_DP_PASS; /* outside traffic not for a translated address */
		n = inst_of(x->p, vrf, ip->dst_addr);
	}
	if (rc == NAT_ICMP_BAD)
		return drop(x, m, n, NAT_DROP_ICMP_BAD);
	k = conn_tuple_reverse(&q);
	/* An error goes back to the quoted packet's source. */
	if (ip->dst_addr != k.dst)
		return drop(x, m, n, NAT_DROP_ICMP_BAD);
	s = conn_lookup(nat_conn, &k, &d);
	if (s == NULL)
		return drop(x, m, n, NAT_DROP_ICMP_NO_SESSION);
	n = nat_slots[s->owner / 2];
	to = conn_tuple_reverse(&s->key[1 - d]);
	nat_icmp_rewrite(&e, &k, &to, x->own);
	l3_meta(m)->route_vrf = to.vrf;
	dp_cnt_add(x->own ? &x->nw->cnt[n->slot].router_icmp_translated
			  : &x->nw->cnt[n->slot].icmp_translated,
		   1);
	return NAT_DP_TRANSLATED;
}

enum nat_dp_verdict nat_icmp_errors(const struct nat_dp *x, struct rte_mbuf *m,
				    struct rte_ipv4_hdr *ip, uint32_t l4len, uint16_t vrf,
				    struct nat_inst *n)
{
	enum nat_dp_verdict v = nat_icmp_error(x, m, ip, l4len, vrf, n);
	uint16_t to;

	if (v != NAT_DP_TRANSLATED || n == NULL) /* m may be gone: dropped */
		return v;
	to = l3_meta(m)->route_vrf;
	if (!x->p->outside[to])
		return v;
	/* Now to a pool or static address of the outside VRF: a hairpin's sender's, or passed. */
	v = nat_icmp_error(x, m, ip, l4len, to, NULL);
	return v == NAT_DP_DROPPED ? v : NAT_DP_TRANSLATED;
}
