/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP errors about translated flows (RFC 5508 section 4.2, RFC 5382
 * REQ-9): destination unreachable (frag-needed included), time exceeded
 * and parameter problem quote the start of the packet they are about
 * (its IP header and at least 8 bytes of its L4 header). The quoted
 * packet went the other way, so its tuple reversed is a packet of the
 * session; the error is translated as that packet would be: the quoted
 * packet gets the reverse of the translated tuple (addresses and ports or
 * ICMP id, with its IP checksum and its L4 checksum where quoted), the
 * outer header its destination (and its source when the error comes
 * from the translated side: an inside host or router must not show its
 * private address outside), and the ICMP checksum follows every changed
 * word. Plain C on headers, for the stage and the unit tests.
 */
#ifndef TESS_NAT_ICMP_H
#define TESS_NAT_ICMP_H

#include "nat_xlate.h"

/* RFC 792's error types. */
#define NAT_ICMP_UNREACH       3
#define NAT_ICMP_TIME_EXCEEDED 11
#define NAT_ICMP_PARAM_PROBLEM 12

/* Where the parts of an ICMP error are, after nat_icmp_parse. */
struct nat_icmp_err {
	struct rte_ipv4_hdr *ip;    /* outer */
	struct rte_icmp_hdr *icmp;  /* outer */
	struct rte_ipv4_hdr *inner; /* the quoted packet */
	uint8_t *il4;               /* its L4 header */
	uint32_t il4len;            /* bytes of it quoted (at least 8) */
};

enum nat_icmp_rc {
	NAT_ICMP_NOT_ERROR, /* not an ICMP error (echo, other types) */
	NAT_ICMP_OK,
	NAT_ICMP_BAD, /* an error whose quoted packet is malformed, truncated or not translatable */
};

static inline bool nat_icmp_is_error(uint8_t type)
{
	return type == NAT_ICMP_UNREACH || type == NAT_ICMP_TIME_EXCEEDED ||
	       type == NAT_ICMP_PARAM_PROBLEM;
}

/*
 * An unfragmented IPv4 packet ip with l4len bytes after its header: if an
 * ICMP error, the tuple *k (in VRF vrf) of the quoted packet and where its
 * parts are. Quoted TCP and UDP need their ports, ICMP an echo (its id);
 * a quoted non-first fragment has no ports (NAT_ICMP_BAD).
 */
static inline enum nat_icmp_rc nat_icmp_parse(struct rte_ipv4_hdr *ip, uint32_t l4len, uint16_t vrf,
					      struct conn_tuple *k, struct nat_icmp_err *e)
{
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u, ihlen;
	struct rte_ipv4_hdr *in;

	if (ip->next_proto_id != IPPROTO_ICMP || l4len < sizeof(struct rte_icmp_hdr) ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		return NAT_ICMP_NOT_ERROR; /* a fragment's ICMP header may not be there */
	e->ip = ip;
	e->icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	if (!nat_icmp_is_error(e->icmp->icmp_type))
		return NAT_ICMP_NOT_ERROR;
	if (l4len < sizeof(struct rte_icmp_hdr) + sizeof(*in))
		return NAT_ICMP_BAD;
	in = (struct rte_ipv4_hdr *)(e->icmp + 1);
	ihlen = (in->version_ihl & 0xf) * 4u;
	if ((in->version_ihl >> 4) != 4 || ihlen < sizeof(*in) ||
	    l4len < sizeof(struct rte_icmp_hdr) + ihlen + 8)
		return NAT_ICMP_BAD;
	if (in->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
		return NAT_ICMP_BAD;
	e->inner = in;
	e->il4 = (uint8_t *)in + ihlen;
	e->il4len = l4len - (uint32_t)sizeof(struct rte_icmp_hdr) - ihlen;
	*k = (struct conn_tuple){
		.src = in->src_addr, .dst = in->dst_addr, .vrf = vrf, .proto = in->next_proto_id
	};
	switch (in->next_proto_id) {
	case IPPROTO_TCP:
	case IPPROTO_UDP: {
		const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)e->il4;

		k->sport = u->src_port; /* TCP's ports are where UDP's are */
		k->dport = u->dst_port;
		return NAT_ICMP_OK;
	}
	case IPPROTO_ICMP: {
		const struct rte_icmp_hdr *c = (const struct rte_icmp_hdr *)e->il4;

		if ((c->icmp_type != RTE_IP_ICMP_ECHO_REQUEST &&
		     c->icmp_type != RTE_IP_ICMP_ECHO_REPLY) ||
		    c->icmp_code != 0)
			return NAT_ICMP_BAD; /* an error about an error, or not a query */
		k->sport = k->dport = c->icmp_ident;
		return NAT_ICMP_OK;
	}
	default:
		return NAT_ICMP_BAD;
	}
}

/* Sets a 16-bit or 32-bit field of the ICMP message to v, keeping the ICMP checksum ck right. */
#define NAT_ICMP_SET16(field, v, ck)                   \
	do {                                           \
		uint16_t v_ = (v);                     \
		(ck) = nat_csum_16((ck), (field), v_); \
		(field) = v_;                          \
	} while (0)
#define NAT_ICMP_SET32(field, v, ck)                   \
	do {                                           \
		uint32_t v_ = (v);                     \
		(ck) = nat_csum_32((ck), (field), v_); \
		(field) = v_;                          \
	} while (0)

/* The quoted L4 header to ports sport -> dport (ICMP: id sport), addresses osrc/odst -> to. */
static inline void nat_icmp_inner_l4(struct nat_icmp_err *e, const struct conn_tuple *to,
				     uint32_t osrc, uint32_t odst, uint16_t *ck)
{
	switch (e->inner->next_proto_id) {
	case IPPROTO_TCP: {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)e->il4;

		/* Its checksum is at bytes 16-17: only updated when quoted. */
		if (e->il4len >= offsetof(struct rte_tcp_hdr, cksum) + 2) {
			uint16_t c = nat_csum_32(t->cksum, osrc, to->src);

			c = nat_csum_32(c, odst, to->dst);
			c = nat_csum_16(c, t->src_port, to->sport);
			NAT_ICMP_SET16(t->cksum, nat_csum_16(c, t->dst_port, to->dport), *ck);
		}
		NAT_ICMP_SET16(t->src_port, to->sport, *ck);
		NAT_ICMP_SET16(t->dst_port, to->dport, *ck);
		break;
	}
	case IPPROTO_UDP: {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)e->il4;

		if (u->dgram_cksum) {
			uint16_t c = nat_csum_32(u->dgram_cksum, osrc, to->src);

			c = nat_csum_32(c, odst, to->dst);
			c = nat_csum_16(c, u->src_port, to->sport);
			c = nat_csum_16(c, u->dst_port, to->dport);
			NAT_ICMP_SET16(u->dgram_cksum, c ? c : 0xffff, *ck);
		}
		NAT_ICMP_SET16(u->src_port, to->sport, *ck);
		NAT_ICMP_SET16(u->dst_port, to->dport, *ck);
		break;
	}
	case IPPROTO_ICMP: {
		struct rte_icmp_hdr *c = (struct rte_icmp_hdr *)e->il4;

		NAT_ICMP_SET16(c->icmp_cksum, nat_csum_16(c->icmp_cksum, c->icmp_ident, to->sport),
			       *ck);
		NAT_ICMP_SET16(c->icmp_ident, to->sport, *ck);
		break;
	}
	default:
		break;
	}
}

/*
 * Rewrites parsed error e whose quoted tuple reversed (k) a session
 * translates to tuple to: the quoted packet becomes reverse(to), the outer
 * destination to.dst, and the outer source to.src when the session
 * translates the source side (k.src != to.src) unless keep_src (the
 * router's own error: from its address on the sender's side already).
 */
static inline void nat_icmp_rewrite(struct nat_icmp_err *e, const struct conn_tuple *k,
				    const struct conn_tuple *to, bool keep_src)
{
	struct conn_tuple q = conn_tuple_reverse(to);
	struct rte_ipv4_hdr *ip = e->ip, *in = e->inner;
	uint32_t osrc = in->src_addr, odst = in->dst_addr;
	uint16_t ck = e->icmp->icmp_cksum, ic = in->hdr_checksum;

	nat_icmp_inner_l4(e, &q, osrc, odst, &ck);
	ic = nat_csum_32(ic, osrc, q.src);
	ic = nat_csum_32(ic, odst, q.dst);
	NAT_ICMP_SET16(in->hdr_checksum, ic, ck);
	NAT_ICMP_SET32(in->src_addr, q.src, ck);
	NAT_ICMP_SET32(in->dst_addr, q.dst, ck);
	e->icmp->icmp_cksum = ck;
	ic = nat_csum_32(ip->hdr_checksum, ip->dst_addr, to->dst);
	ip->dst_addr = to->dst;
	if (k->src != to->src && !keep_src) {
		ic = nat_csum_32(ic, ip->src_addr, to->src);
		ip->src_addr = to->src;
	}
	ip->hdr_checksum = ic;
}

#endif
