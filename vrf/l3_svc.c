/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP services of router interfaces: their registry and what they may use (l3_svc.h). */
#include "l3_svc.h"

#include <netinet/in.h>
#include <string.h>

#include <rte_log.h>
#include <rte_udp.h>

#include "router_int.h"
#include "worker.h"

struct l3_svc *l3_svcs[L3_SVC_MAX];
unsigned l3_n_svcs;

void l3_svc_register(struct l3_svc *s)
{
	if (l3_n_svcs == L3_SVC_MAX)
		rte_panic("more than %d router UDP services\n", L3_SVC_MAX);
	s->idx = (uint8_t)l3_n_svcs;
	l3_svcs[l3_n_svcs++] = s;
}

uint64_t l3_svc_limited(uint16_t iface, unsigned svc)
{
	uint64_t n = 0;

	for (unsigned w = 0; w < dp_worker_count(); w++) {
		const struct l3_worker *lw = dp_worker_get(w)->mod[l3_module.id];
		if (lw && lw->svc_limited)
			n += __atomic_load_n(&lw->svc_limited[iface][svc], __ATOMIC_RELAXED);
	}
	return n;
}

uint16_t l3_svc_iface(const char *name)
{
	return rt_ifs ? rt_iface_id(name) : 0;
}

uint16_t l3_svc_iface_vrf(uint16_t iface)
{
	return rt_ifs[iface].vrf;
}

bool l3_svc_iface_mac(uint16_t iface, struct rte_ether_addr *mac)
{
	const struct l3_tables *t = rt_tables();

	if (t == NULL || !t->iface[iface].on)
		return false;
	rte_ether_addr_copy(&t->iface[iface].mac, mac);
	return true;
}

uint32_t l3_svc_iface_addr(uint16_t iface, uint32_t ip)
{
	return rt_src_addr(iface, ip);
}

struct rte_mbuf *l3_svc_alloc(void)
{
	return rt_pool ? rte_pktmbuf_alloc(rt_pool) : NULL;
}

void l3_svc_send(struct rte_mbuf *m, uint16_t iface)
{
	rt_inject(m, iface);
}

int l3_svc_route(struct rte_mbuf *m, uint16_t vrf)
{
	return rt_originate(m, vrf);
}

uint32_t l3_svc_route_src(uint16_t vrf, uint32_t dst, uint16_t *out_vrf)
{
	return rt_route_src(vrf, dst, out_vrf);
}

void l3_svc_arp_probe(uint16_t iface, uint32_t ip)
{
	rt_arp_request(iface, ip, NULL);
}

void l3_svc_arp_seen(uint16_t iface, uint32_t ip, const struct rte_ether_addr *sha)
{
	const struct l3_tables *t = rt_tables();
	uint8_t on = t && iface ? t->iface[iface].svc : 0;

	for (unsigned i = 0; on && i < l3_n_svcs; i++)
		if ((on & (1u << i)) && l3_svcs[i]->arp_seen)
			l3_svcs[i]->arp_seen(iface, ip, sha);
}

void l3_svc_udp4_hdr(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst, uint16_t sport,
		     uint16_t dport, size_t len)
{
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*uh) + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	uh->src_port = rte_cpu_to_be_16(sport);
	uh->dst_port = rte_cpu_to_be_16(dport);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*uh) + len));
	uh->dgram_cksum = 0;
	uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
}
