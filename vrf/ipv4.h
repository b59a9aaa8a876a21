/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 work of the slow path, on frames (Ethernet header + IPv4): options
 * of a forwarded packet (RFC 791, RFC 1812 5.2.4), fragmentation (RFC 791,
 * RFC 1812 5.2.6), ICMP errors (RFC 792, RFC 1812 4.3.2). Control thread.
 */
#ifndef TESS_IPV4_H
#define TESS_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include <string.h>

#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#define IP4_OPT_EOL      0
#define IP4_OPT_NOP      1
#define IP4_OPT_RR       7
#define IP4_OPT_TS       68
#define IP4_OPT_LSRR     131
#define IP4_OPT_SSRR     137
#define IP4_OPT_COPIED   0x80
#define IP4_ICMP_ERR_MAX 576 /* RFC 1812 4.3.2.3: an ICMP error is at most this long */

/* ICMP errors (RFC 792, RFC 1191): types, and the codes of destination unreachable. */
#define IP4_ICMP_UNREACH        3
#define IP4_ICMP_TIME_EXCEEDED  11
#define IP4_ICMP_PARAM_PROBLEM  12
#define IP4_UNREACH_NET         0
#define IP4_UNREACH_HOST        1
#define IP4_UNREACH_PORT        3
#define IP4_UNREACH_FRAG_NEEDED 4
#define IP4_UNREACH_ADMIN       13 /* RFC 1812 5.2.7.1: communication administratively prohibited */

enum ip4_opt_result {
	IP4_OPT_OK,
	IP4_OPT_MALFORMED,    /* *where: the offset of the bad octet in the header */
	IP4_OPT_SOURCE_ROUTE, /* loose or strict source route: refused */
};

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changing from m to m'. */
static inline uint16_t ip4_csum_replace(uint16_t hc, uint16_t m, uint16_t m2)
{
	uint32_t sum = (uint16_t)~hc + (uint32_t)(uint16_t)~m + m2;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * ECMP: the 5-tuple of TCP and UDP (3-tuple for fragments and other
 * protocols). avail: the bytes from ip on in the first segment, so the ports
 * are read only when the packet has them there.
 */
static inline uint32_t ip4_flow_hash(const struct rte_ipv4_hdr *ip, uint32_t avail)
{
	uint32_t h = rte_hash_crc_4byte(ip->src_addr, ip->dst_addr);
	uint32_t ihl = (ip->version_ihl & 0xfu) * 4u;

	h = rte_hash_crc_4byte(ip->next_proto_id, h);
	if ((ip->next_proto_id == IPPROTO_TCP || ip->next_proto_id == IPPROTO_UDP) &&
	    !(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) &&
	    avail >= ihl + 4 && rte_be_to_cpu_16(ip->total_length) >= ihl + 4) {
		uint32_t ports;
		memcpy(&ports, (const uint8_t *)ip + ihl, sizeof(ports));
		h = rte_hash_crc_4byte(ports, h);
	}
	return h;
}

/*
 * Whether a header of hlen bytes (a multiple of 4) sums to all ones: 32-bit
 * words into 64 bits, folded once. The one's complement sum is the same in
 * either byte order, and this is several times faster than 16-bit steps.
 */
static inline bool ip4_hdr_cksum_ok(const struct rte_ipv4_hdr *ip, uint32_t hlen)
{
	const uint8_t *p = (const uint8_t *)ip;
	uint64_t sum = 0;

	for (uint32_t i = 0; i < hlen; i += 4) {
		uint32_t w;
		memcpy(&w, p + i, sizeof(w));
		sum += w;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static inline struct rte_ipv4_hdr *ip4_hdr(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
}

static inline uint32_t ip4_hlen(const struct rte_ipv4_hdr *ip)
{
	return (ip->version_ihl & 0xfu) * 4u;
}

static inline void ip4_set_cksum(struct rte_ipv4_hdr *ip)
{
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/*
 * Checks the options of a packet being forwarded and fills in a Record
 * Route that has room with out_addr (host order), the address of the
 * interface it leaves by. The header checksum is left to the caller.
 */
enum ip4_opt_result ip4_options_forward(struct rte_ipv4_hdr *ip, uint32_t out_addr,
					uint32_t *where);

/* Writes the options every fragment carries (copied flag set), padded to 4; their length. */
uint32_t ip4_options_copied(const struct rte_ipv4_hdr *ip, uint8_t *dst);

/*
 * Splits m (Ethernet + IPv4, consistent lengths) into fragments of at most
 * mtu bytes of IP each, single-segment mbufs from mp, checksums done: the
 * first keeps all options, the others those with the copied flag. Returns
 * how many (<= max) or -errno (-EMSGSIZE: too many or mtu too small for
 * the header). m stays the caller's.
 */
int ip4_fragment(const struct rte_mbuf *m, uint32_t mtu, struct rte_mempool *mp,
		 struct rte_mbuf **out, unsigned max);

/*
 * An ICMP error (type, code; "extra" is the 32 bits after the checksum,
 * host order: next-hop MTU for fragmentation needed, the pointer of a
 * parameter problem in its top byte) about orig, from src (host order),
 * as an Ethernet frame with MACs left to fill, TTL 64; at most 576 bytes
 * of IP. NULL without mbufs.
 */
struct rte_mbuf *ip4_icmp_error(struct rte_mempool *mp, const struct rte_mbuf *orig, uint32_t src,
				uint8_t type, uint8_t code, uint32_t extra);

/*
 * Whether RFC 1812 4.3.2.7 lets an ICMP error be sent about this packet:
 * not about an ICMP error, a non-initial fragment, a broadcast or multicast
 * (link or IP), or a source that is not a unicast host.
 */
bool ip4_may_icmp_error(const struct rte_mbuf *m);

#endif
