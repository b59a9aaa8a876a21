/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's own ICMP errors about packets NAT translated (control
 * thread): a frag-needed, net or host unreachable or time exceeded that the
 * router builds about a packet after the nat44 stage rewrote it quotes the
 * packet as translated and is addressed to its translated source (a pool
 * address: the router's own, and lost). Through the router's error hook
 * (l3_hook.h) it goes the way an error arriving in the VRF the packet was
 * routed in goes through the stage (nat_icmp.c): translated back for the
 * packet's real sender, twice for a hairpinned flow, and routed in the
 * sender's VRF; so path MTU discovery works through NAT. Its outer source
 * stays the router's address on the sender's side. An error NAT cannot
 * translate (its session gone meanwhile) is counted and dropped.
 */
#include <rte_cycles.h>

#include "ipv4.h"
#include "l3.h"
#include "nat_dp.h"

struct nat_worker *nat_ctl_cnt;

static enum l3_err_verdict nat_router_error(struct rte_mbuf *e, uint16_t *vrf)
{
	const struct nat_part *p = dp_snap ? dp_snap_part(dp_snap, &nat_module) : NULL;
	struct nat_dp x = { .p = p, .nw = nat_ctl_cnt, .now = rte_rdtsc(), .own = true };
	struct rte_ipv4_hdr *ip = ip4_hdr(e);
	struct nat_inst *n;

	if (p == NULL || p->n_inst == 0 || nat_conn == NULL || nat_ctl_cnt == NULL ||
	    *vrf >= NAT_MAX_VRFS || !nat_concerns(p, *vrf, ip->dst_addr, &n))
		return L3_ERR_PASS;
	switch (nat_icmp_errors(&x, e, ip, e->data_len - RTE_ETHER_HDR_LEN - ip4_hlen(ip), *vrf,
				n)) {
	case NAT_DP_TRANSLATED:
		*vrf = l3_meta(e)->route_vrf;
		return L3_ERR_REWRITTEN;
	case NAT_DP_DROPPED:
		return L3_ERR_DROPPED;
	default:
		return L3_ERR_PASS;
	}
}

static struct l3_hook nat_err_hook = { .name = "nat", .icmp_error = nat_router_error };
L3_HOOK_REGISTER(nat_err_hook)
