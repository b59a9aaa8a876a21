/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the nat44 stage (nat_datapath.c) hands to the datapath parts in
 * their own files: ICMP errors (nat_icmp.c), fragments (nat_frag.c). Worker code.
 */
#ifndef TESS_NAT_DP_H
#define TESS_NAT_DP_H

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "nat.h"
#include "router_int.h" /* l3_fib, l3_nh */

/* What became of a packet (the stage's verdicts, in its order). */
enum nat_dp_verdict {
	NAT_DP_PASS,       /* untouched */
	NAT_DP_TRANSLATED, /* route it in l3_meta's route_vrf */
	NAT_DP_DROPPED,
	NAT_DP_NOT_MINE, /* not for this part: the stage goes on with it */
};

/*
 * A worker's view of the module in one burst; or the control thread's
 * (w NULL, nw nat_ctl_cnt, own set) for the router's own ICMP errors.
 */
struct nat_dp {
	struct dp_worker *w;
	const struct nat_part *p;
	struct nat_worker *nw;
	uint64_t now;
	bool own; /* an error the router built: its outer source kept, counted apart */
};

/* Whether inside VRF vrf routes dst into VRF out (a route of type vrf). */
static inline bool nat_routes_out(uint16_t vrf, uint32_t dst, uint16_t out)
{
	uint32_t v = fib_lookup(&l3_fib, vrf, rte_be_to_cpu_32(dst));
	const struct nh_group *g;

	if (v == FIB_NO_ROUTE)
		return false;
	g = nh_group(&l3_nh, v);
	return g->type == NH_VRF && g->target_vrf == out;
}

/*
 * Whether a packet in VRF vrf to dst concerns NAT: one of an inside VRF
 * (*n its instance) that the VRF routes into the instance's outside VRF, or
 * any packet of an outside VRF (*n NULL).
 */
static inline bool nat_concerns(const struct nat_part *p, uint16_t vrf, uint32_t dst,
				struct nat_inst **n)
{
	uint16_t i1 = p->inst_of_vrf[vrf];

	*n = i1 ? p->pi[i1 - 1].n : NULL;
	return *n ? nat_routes_out(vrf, dst, (*n)->out_vrf) : p->outside[vrf] != 0;
}

/*
 * An ICMP error (ip, l4len bytes after its header) in VRF vrf, n the
 * instance whose inside VRF it is (NULL: an outside VRF): translated when
 * it quotes a packet of a session; NAT_DP_NOT_MINE if not an ICMP error.
 */
enum nat_dp_verdict nat_icmp_error(const struct nat_dp *x, struct rte_mbuf *m,
				   struct rte_ipv4_hdr *ip, uint32_t l4len, uint16_t vrf,
				   struct nat_inst *n);
/*
 * nat_icmp_error, and once more when it took an error from an inside VRF
 * into an outside one: an error about a hairpinned flow goes on to its
 * sender, inside too, with that sender's view of the addresses.
 */
enum nat_dp_verdict nat_icmp_errors(const struct nat_dp *x, struct rte_mbuf *m,
				    struct rte_ipv4_hdr *ip, uint32_t l4len, uint16_t vrf,
				    struct nat_inst *n);

/* Fragment records an instance holds at most (nat_frag.c). */
#define NAT_FRAG_MAX 1024

/* A first fragment (ip, as translated; k its tuple as it came, m its mbuf) was translated. */
void nat_frag_note(const struct nat_dp *x, struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		   const struct conn_tuple *k);

/*
 * A later fragment in VRF vrf (n: the instance whose inside VRF it is and
 * routes out, NULL for an outside VRF): translated as its first was, or
 * dropped (no record) when it concerns NAT.
 */
enum nat_dp_verdict nat_frag_rest(const struct nat_dp *x, struct rte_mbuf *m,
				  struct rte_ipv4_hdr *ip, uint16_t vrf, struct nat_inst *n);

#endif
