/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading a packet's tuple and rewriting it to another, with incremental
 * checksums (RFC 1624): the IP header's, TCP's and UDP's (pseudo-header
 * addresses and ports; a UDP checksum of zero, "none", stays zero) and
 * ICMP's (the query id; no pseudo header). Plain C on headers, for the
 * stage and the unit tests.
 */
#ifndef TESS_NAT_XLATE_H
#define TESS_NAT_XLATE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "conn.h"

/* Where a packet's ports (or ICMP id) are, after nat_parse. */
struct nat_pkt {
	struct rte_ipv4_hdr *ip;
	void *l4;
	uint8_t tcp_flags;
};

enum nat_parse_rc {
	NAT_PARSE_OK,
	NAT_PARSE_TRUNCATED,   /* its L4 header is not all there */
	NAT_PARSE_UNSUPPORTED, /* a later fragment, an ICMP error or another protocol */
};

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over 16-bit words. */
static inline uint16_t nat_csum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static inline uint16_t nat_csum_16(uint16_t csum, uint16_t old, uint16_t new_)
{
	uint32_t s = (uint16_t)~csum;

	s += (uint16_t)~old + (uint32_t)new_;
	return (uint16_t)~nat_csum_fold(s);
}

/* Addresses: as two 16-bit words, in the order they are in memory. */
static inline uint16_t nat_csum_32(uint16_t csum, uint32_t old, uint32_t new_)
{
	csum = nat_csum_16(csum, (uint16_t)old, (uint16_t)new_);
	return nat_csum_16(csum, (uint16_t)(old >> 16), (uint16_t)(new_ >> 16));
}

/*
 * The tuple of a checked IPv4 packet (header of hlen bytes, l4len bytes
 * after it in the first segment) in VRF vrf. ICMP echo requests and replies
 * are queries: their id is both ports.
 */
static inline enum nat_parse_rc nat_parse(struct rte_ipv4_hdr *ip, uint32_t l4len, uint16_t vrf,
					  struct conn_tuple *k, struct nat_pkt *p)
{
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u;

	p->ip = ip;
	p->l4 = (uint8_t *)ip + hlen;
	p->tcp_flags = 0;
	*k = (struct conn_tuple){
		.src = ip->src_addr, .dst = ip->dst_addr, .vrf = vrf, .proto = ip->next_proto_id
	};
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
		return NAT_PARSE_UNSUPPORTED; /* no L4 header: nat_frag.c's */
	switch (ip->next_proto_id) {
	case IPPROTO_TCP: {
		const struct rte_tcp_hdr *t = p->l4;

		if (l4len < sizeof(*t))
			return NAT_PARSE_TRUNCATED;
		k->sport = t->src_port;
		k->dport = t->dst_port;
		p->tcp_flags = t->tcp_flags;
		return NAT_PARSE_OK;
	}
	case IPPROTO_UDP: {
		const struct rte_udp_hdr *u = p->l4;

		if (l4len < sizeof(*u))
			return NAT_PARSE_TRUNCATED;
		k->sport = u->src_port;
		k->dport = u->dst_port;
		return NAT_PARSE_OK;
	}
	case IPPROTO_ICMP: {
		const struct rte_icmp_hdr *c = p->l4;

		if (l4len < sizeof(*c))
			return NAT_PARSE_TRUNCATED;
		if ((c->icmp_type != RTE_IP_ICMP_ECHO_REQUEST &&
		     c->icmp_type != RTE_IP_ICMP_ECHO_REPLY) ||
		    c->icmp_code != 0)
			return NAT_PARSE_UNSUPPORTED; /* errors: their inner packet is translated */
		k->sport = k->dport = c->icmp_ident;
		return NAT_PARSE_OK;
	}
	default:
		return NAT_PARSE_UNSUPPORTED;
	}
}

/* Rewrites the parsed packet's addresses and ports (ICMP id: to->sport) to tuple to. */
static inline void nat_rewrite(struct nat_pkt *p, const struct conn_tuple *to)
{
	struct rte_ipv4_hdr *ip = p->ip;
	uint32_t osrc = ip->src_addr, odst = ip->dst_addr;
	uint16_t c = ip->hdr_checksum;

	ip->src_addr = to->src;
	ip->dst_addr = to->dst;
	c = nat_csum_32(c, osrc, to->src);
	ip->hdr_checksum = nat_csum_32(c, odst, to->dst);
	switch (ip->next_proto_id) {
	case IPPROTO_TCP: {
		struct rte_tcp_hdr *t = p->l4;

		c = nat_csum_32(t->cksum, osrc, to->src);
		c = nat_csum_32(c, odst, to->dst);
		c = nat_csum_16(c, t->src_port, to->sport);
		t->cksum = nat_csum_16(c, t->dst_port, to->dport);
		t->src_port = to->sport;
		t->dst_port = to->dport;
		break;
	}
	case IPPROTO_UDP: {
		struct rte_udp_hdr *u = p->l4;

		if (u->dgram_cksum) {
			c = nat_csum_32(u->dgram_cksum, osrc, to->src);
			c = nat_csum_32(c, odst, to->dst);
			c = nat_csum_16(c, u->src_port, to->sport);
			c = nat_csum_16(c, u->dst_port, to->dport);
			u->dgram_cksum = c ? c : 0xffff; /* 0 would mean "none" (RFC 768) */
		}
		u->src_port = to->sport;
		u->dst_port = to->dport;
		break;
	}
	case IPPROTO_ICMP: {
		struct rte_icmp_hdr *ic = p->l4;

		ic->icmp_cksum = nat_csum_16(ic->icmp_cksum, ic->icmp_ident, to->sport);
		ic->icmp_ident = to->sport;
		break;
	}
	default:
		break;
	}
}

#endif
