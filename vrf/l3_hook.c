/* SPDX-License-Identifier: BSD-3-Clause */
/* Hooks of other modules in the router: their registry and what they may use (l3_hook.h). */
#include "l3_hook.h"

#include <rte_cycles.h>

#include "ipv4.h"
#include "router_int.h"

struct l3_hook *l3_hooks[L3_HOOK_MAX];
unsigned l3_n_hooks;

void l3_hook_register(struct l3_hook *h)
{
	if (l3_n_hooks == L3_HOOK_MAX)
		rte_panic("more than %d router hooks\n", L3_HOOK_MAX);
	h->idx = (uint8_t)l3_n_hooks;
	l3_hooks[l3_n_hooks++] = h;
}

void l3_hook_icmp_error(struct rte_mbuf *m, uint16_t iif, uint16_t vrf, uint8_t type, uint8_t code)
{
	rt_icmp_error(m, iif, vrf, type, code, 0);
}

bool l3_hook_originate(struct rte_mbuf *m, uint16_t vrf)
{
	struct rt_vrf *v = &rt_vrfs[vrf];

	/* Answers of a hook (a TCP reset) are errors too: in the VRF's ICMP error budget. */
	if (v->icmp_rate == 0 || !dp_bucket_ok(&v->icmp, v->icmp_rate, rte_rdtsc())) {
		rte_pktmbuf_free(m);
		return false;
	}
	v->ctl.icmp_sent++;
	rt_originate(m, vrf);
	return true;
}

struct rte_mbuf *l3_hook_alloc(void)
{
	return rt_pool ? rte_pktmbuf_alloc(rt_pool) : NULL;
}

uint16_t l3_hook_iface(const char *name)
{
	return rt_ifs ? rt_iface_id(name) : 0;
}
