/* SPDX-License-Identifier: BSD-3-Clause */
#include "ipv4.h"

#include <errno.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_icmp.h>

/*
 * The option at offset i of the n option bytes o: 1 with its length (1 for
 * a NOP), 0 at the end (EOL, or no bytes left), -1 when its length is wrong.
 */
static int opt_at(const uint8_t *o, uint32_t n, uint32_t i, uint8_t *len)
{
	if (i >= n || o[i] == IP4_OPT_EOL)
		return 0;
	if (o[i] == IP4_OPT_NOP) {
		*len = 1;
		return 1;
	}
	if (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i)
		return -1;
	*len = o[i + 1];
	return 1;
}

enum ip4_opt_result ip4_options_forward(struct rte_ipv4_hdr *ip, uint32_t out_addr, uint32_t *where)
{
	uint8_t *o = (uint8_t *)(ip + 1), len = 0;
	uint32_t n = ip4_hlen(ip) - sizeof(*ip), i;
	int r;

	for (i = 0; (r = opt_at(o, n, i, &len)) > 0; i += len) {
		uint8_t type = o[i], ptr;

		if (type == IP4_OPT_LSRR || type == IP4_OPT_SSRR)
			return IP4_OPT_SOURCE_ROUTE;
		if (type != IP4_OPT_RR && type != IP4_OPT_TS)
			continue;
		*where = (uint32_t)sizeof(*ip) + i + 2;
		if (len < 3)
			return IP4_OPT_MALFORMED;
		ptr = o[i + 2];
		/* RR: 4 + 4k; timestamp: 5 + 4k (or 8k); a full option is left alone. */
		if (ptr < (type == IP4_OPT_RR ? 4 : 5))
			return IP4_OPT_MALFORMED;
		if (type == IP4_OPT_RR && ptr + 3u <= len) {
			uint32_t a = rte_cpu_to_be_32(out_addr);
			memcpy(&o[i + ptr - 1], &a, sizeof(a));
			o[i + 2] = (uint8_t)(ptr + 4);
		}
	}
	if (r < 0) {
		*where = (uint32_t)sizeof(*ip) + i + 1; /* its length octet */
		return IP4_OPT_MALFORMED;
	}
	return IP4_OPT_OK;
}

uint32_t ip4_options_copied(const struct rte_ipv4_hdr *ip, uint8_t *dst)
{
	const uint8_t *o = (const uint8_t *)(ip + 1);
	uint32_t n = ip4_hlen(ip) - sizeof(*ip), k = 0;
	uint8_t len = 0;

	/* Checked before fragmenting; a malformed one just ends the list here. */
	for (uint32_t i = 0; opt_at(o, n, i, &len) > 0; i += len) {
		if (o[i] & IP4_OPT_COPIED) {
			memcpy(dst + k, o + i, len);
			k += len;
		}
	}
	while (k % 4)
		dst[k++] = IP4_OPT_EOL;
	return k;
}

/* Copies len bytes at off of m to dst; false if m is shorter. */
static bool read_into(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *dst)
{
	const void *p = rte_pktmbuf_read(m, off, len, dst);

	if (p && p != dst)
		memcpy(dst, p, len);
	return p != NULL;
}

/* A single-segment mbuf holding len bytes, or NULL. */
static struct rte_mbuf *alloc_len(struct rte_mempool *mp, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m && rte_pktmbuf_append(m, (uint16_t)len) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

int ip4_fragment(const struct rte_mbuf *m, uint32_t mtu, struct rte_mempool *mp,
		 struct rte_mbuf **out, unsigned max)
{
	uint8_t hdr[60], copied[40];
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)hdr;
	uint32_t hlen, tot, room, first_hlen, other_hlen, done = 0, olen;
	uint16_t frag, base_off;
	struct rte_ether_hdr ehb;
	unsigned n = 0;

	if (!read_into(m, RTE_ETHER_HDR_LEN, sizeof(*ip), hdr))
		return -EINVAL;
	hlen = ip4_hlen(ip);
	if (hlen < sizeof(*ip) || !read_into(m, RTE_ETHER_HDR_LEN, hlen, hdr))
		return -EINVAL;
	tot = rte_be_to_cpu_16(ip->total_length);
	olen = ip4_options_copied(ip, copied);
	first_hlen = hlen;
	other_hlen = (uint32_t)sizeof(*ip) + olen;
	/* Each fragment fits one segment, so any port can send it. */
	room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN -
	       RTE_VLAN_HLEN;
	if (mtu > room)
		mtu = room;
	if (mtu < first_hlen + 8 || mtu < other_hlen + 8 || tot <= hlen)
		return -EMSGSIZE;
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	base_off = (uint16_t)(frag & RTE_IPV4_HDR_OFFSET_MASK);
	/* A fragment reaching past 65535 bytes of datagram is malformed: its offsets would not fit.
	 */
	if (base_off * 8u + (tot - hlen) > UINT16_MAX)
		return -EINVAL;
	if (!read_into(m, 0, sizeof(ehb), &ehb))
		return -EINVAL;
	while (done < tot - hlen) {
		uint32_t h = n == 0 ? first_hlen : other_hlen;
		uint32_t chunk = (mtu - h) & ~7u, left = tot - hlen - done;
		bool last = chunk >= left;
		struct rte_mbuf *f;
		struct rte_ipv4_hdr *fi;
		uint8_t *p;

		if (last)
			chunk = left;
		if (n == max) {
			rte_pktmbuf_free_bulk(out, n);
			return -EMSGSIZE;
		}
		f = alloc_len(mp, RTE_ETHER_HDR_LEN + h + chunk);
		if (f == NULL) {
			rte_pktmbuf_free_bulk(out, n);
			return -ENOBUFS;
		}
		p = rte_pktmbuf_mtod(f, uint8_t *);
		memcpy(p, &ehb, RTE_ETHER_HDR_LEN);
		fi = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
		memcpy(fi, ip, sizeof(*ip));
		if (n == 0)
			memcpy(fi + 1, (const uint8_t *)ip + sizeof(*ip), hlen - sizeof(*ip));
		else
			memcpy(fi + 1, copied, olen);
		fi->version_ihl = (uint8_t)(0x40 | h / 4);
		fi->total_length = rte_cpu_to_be_16((uint16_t)(h + chunk));
		/* MF on all but the last, which keeps the original's (it may be a fragment). */
		fi->fragment_offset = rte_cpu_to_be_16(
			(uint16_t)((frag & ~RTE_IPV4_HDR_OFFSET_MASK & ~RTE_IPV4_HDR_MF_FLAG) |
				   (last ? (frag & RTE_IPV4_HDR_MF_FLAG) : RTE_IPV4_HDR_MF_FLAG) |
				   (base_off + done / 8)));
		if (!read_into(m, RTE_ETHER_HDR_LEN + hlen + done, chunk, (uint8_t *)fi + h)) {
			rte_pktmbuf_free(f);
			rte_pktmbuf_free_bulk(out, n);
			return -EINVAL;
		}
		ip4_set_cksum(fi);
		out[n++] = f;
		done += chunk;
	}
	return (int)n;
}

bool ip4_may_icmp_error(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	uint32_t src = rte_be_to_cpu_32(ip->src_addr), dst = rte_be_to_cpu_32(ip->dst_addr);

	if (rte_is_multicast_ether_addr(&eh->dst_addr))
		return false;
	if (dst == UINT32_MAX || (dst >> 28) == 0xe || src == 0 || (src >> 24) == 0 ||
	    (src >> 24) == 127 || (src >> 28) >= 0xe)
		return false;
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
		return false;
	if (ip->next_proto_id == IPPROTO_ICMP) {
		const struct rte_icmp_hdr *ic;
		struct rte_icmp_hdr icb;

		ic = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN + ip4_hlen(ip), sizeof(icb), &icb);
		/* Queries (echo, timestamp, information, address mask) may be answered. */
		if (ic == NULL ||
		    !(ic->icmp_type == RTE_IP_ICMP_ECHO_REQUEST ||
		      ic->icmp_type == RTE_IP_ICMP_ECHO_REPLY || ic->icmp_type == 13 ||
		      ic->icmp_type == 14 || ic->icmp_type == 15 || ic->icmp_type == 16 ||
		      ic->icmp_type == 17 || ic->icmp_type == 18))
			return false;
	}
	return true;
}

struct rte_mbuf *ip4_icmp_error(struct rte_mempool *mp, const struct rte_mbuf *orig, uint32_t src,
				uint8_t type, uint8_t code, uint32_t extra)
{
	const struct rte_ipv4_hdr *oip =
		rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t quote = orig->pkt_len - RTE_ETHER_HDR_LEN;
	uint32_t max = IP4_ICMP_ERR_MAX - sizeof(struct rte_ipv4_hdr) - sizeof(struct rte_icmp_hdr);
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	struct rte_mbuf *m;
	uint32_t be;

	if (quote > max)
		quote = max;
	m = alloc_len(mp, RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*ic) + quote);
	if (m == NULL)
		return NULL;
	ip = ip4_hdr(m);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*ic) + quote)),
		.time_to_live = 64,
		.next_proto_id = IPPROTO_ICMP,
		.src_addr = rte_cpu_to_be_32(src),
		.dst_addr = oip->src_addr,
	};
	ip4_set_cksum(ip);
	ic->icmp_type = type;
	ic->icmp_code = code;
	ic->icmp_cksum = 0;
	be = rte_cpu_to_be_32(extra);
	memcpy(&ic->icmp_ident, &be, sizeof(be));
	if (!read_into(orig, RTE_ETHER_HDR_LEN, quote, ic + 1)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + quote);
	return m;
}
