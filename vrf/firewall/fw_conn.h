/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's connection tracking on the shared connection table
 * (vrf/conn/conn.h): a packet's tuple, and for an ICMP error the tuple of
 * the packet it quotes (what makes it related). Worker code.
 */
#ifndef TESS_FW_CONN_H
#define TESS_FW_CONN_H

#include <stdbool.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "conn.h"

extern struct conn_table *fw_conn; /* NULL: no tracking (firewall.conn_capacity 0) */

/* ICMP errors that quote a packet (RFC 792): unreachable, quench, redirect, time, param. */
static inline bool fw_icmp_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/*
 * The tuple of the IPv4 packet at ip (avail bytes readable from it) in vrf:
 * false when its ports cannot be read (a later fragment, a truncated
 * header), which is then not tracked. ICMP queries use their id as both
 * ports (conn.h). flags (NULL for a quoted packet, of which 8 bytes of L4
 * are all an ICMP error must carry) gets TCP's flag byte: a segment shorter
 * than TCP's 20-byte header has none and is not tracked either.
 */
static inline bool fw_tuple_at(const struct rte_ipv4_hdr *ip, uint32_t avail, uint16_t vrf,
			       struct conn_tuple *t, uint8_t *flags)
{
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u;
	const uint8_t *l4 = (const uint8_t *)ip + hlen;

	if (flags)
		*flags = 0;
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK) || avail < hlen + 8)
		return false;
	*t = (struct conn_tuple){
		.src = ip->src_addr, .dst = ip->dst_addr, .vrf = vrf, .proto = ip->next_proto_id
	};
	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
		if (flags) {
			if (avail < hlen + sizeof(struct rte_tcp_hdr))
				return false;
			*flags = l4[13];
		}
		/* fall through */
	case IPPROTO_UDP:
		memcpy(&t->sport, l4, 2);
		memcpy(&t->dport, l4 + 2, 2);
		break;
	case IPPROTO_ICMP:
		if (fw_icmp_is_error(l4[0]))
			return false; /* an error is no flow of its own */
		memcpy(&t->sport, l4 + 4, 2);
		t->dport = t->sport;
		break;
	default:
		break;
	}
	return true;
}

/* The tuple of the packet an ICMP error (m: Ethernet first) quotes; false if none. */
static inline bool fw_related_tuple(const struct rte_mbuf *m, uint16_t vrf, struct conn_tuple *t)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u;
	uint32_t len = RTE_MIN((uint32_t)m->data_len - RTE_ETHER_HDR_LEN,
			       (uint32_t)rte_be_to_cpu_16(ip->total_length));
	const uint8_t *ic = (const uint8_t *)ip + hlen;
	const struct rte_ipv4_hdr *in;

	if (ip->next_proto_id != IPPROTO_ICMP || len < hlen + 8 + sizeof(*in) ||
	    !fw_icmp_is_error(ic[0]))
		return false;
	in = (const struct rte_ipv4_hdr *)(ic + 8);
	/* The quoted packet, as it went: its tuple is one of its connection's. */
	return (in->version_ihl >> 4) == 4 && fw_tuple_at(in, len - hlen - 8, vrf, t, NULL);
}

#endif
