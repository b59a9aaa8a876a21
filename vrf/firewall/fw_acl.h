/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's classification on DPDK's rte_acl: a rule's match
 * (tessd_fw_match) as an ACL rule, a context built from a rule list (on
 * the control thread), and the key a packet is classified by, built per
 * packet so that IP options, the interface and its VLAN cost the same as
 * the 5-tuple. ICMP's type and code sit where the ports are. Keys are in
 * network order, rules in host order, as rte_acl wants them.
 */
#ifndef TESS_FW_ACL_H
#define TESS_FW_ACL_H

#include <stdint.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tessd_config.h"

/* What a packet is classified by: the first field one byte, the rest in 4-byte groups. */
struct fw_key {
	uint8_t proto;
	uint8_t pad[3];
	rte_be32_t src, dst;
	rte_be16_t sport, dport; /* ICMP: type, code */
	rte_be16_t iface, vlan;  /* its ingress interface (the router's id) and its VLAN */
};

enum { FW_F_PROTO, FW_F_SRC, FW_F_DST, FW_F_SPORT, FW_F_DPORT, FW_F_IFACE, FW_F_VLAN, FW_F_MAX };

RTE_ACL_RULE_DEF(fw_acl_rule, FW_F_MAX);

/*
 * Rule index (0-based, first match wins) of a list of n as an ACL rule:
 * priority falls with the index, the result is index + 1 (0: no match).
 * iface: the router's id of the rule's interface, 0: any.
 */
void fw_rule_to_acl(const struct tessd_fw_match *m, uint16_t iface, uint32_t index, uint32_t n,
		    struct fw_acl_rule *out);
/* A context of n rules, named name (unique); NULL with rte_errno. */
struct rte_acl_ctx *fw_acl_build(const char *name, const struct fw_acl_rule *rules, uint32_t n,
				 int socket);

/* The key of a checked IPv4 packet (Ethernet header first) seen on interface iface. */
static inline void fw_key_of(const struct rte_mbuf *m, uint16_t iface, uint16_t vlan,
			     struct fw_key *k)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u;
	const rte_be16_t *l4 = (const rte_be16_t *)((const uint8_t *)ip + hlen);
	bool first = !(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK));

	k->proto = ip->next_proto_id;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	k->src = ip->src_addr;
	k->dst = ip->dst_addr;
	/* Ports (type, code) only where the packet holds them: else 0, which port rules miss. */
	if (first && m->data_len >= RTE_ETHER_HDR_LEN + hlen + 4 &&
	    rte_be_to_cpu_16(ip->total_length) >= hlen + 4) {
		k->sport = l4[0];
		k->dport = l4[1];
		if (k->proto == IPPROTO_ICMP) { /* type and code, one byte each */
			const uint8_t *b = (const uint8_t *)l4;
			k->sport = rte_cpu_to_be_16(b[0]);
			k->dport = rte_cpu_to_be_16(b[1]);
		}
	} else {
		k->sport = 0;
		k->dport = 0;
	}
	k->iface = rte_cpu_to_be_16(iface);
	k->vlan = rte_cpu_to_be_16(vlan);
}

#endif
