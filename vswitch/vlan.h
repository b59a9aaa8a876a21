/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 802.1Q / 802.1ad tags on mbufs, in place: read the outer tag, pop it, push
 * one. The Ethernet header must be in the first segment.
 */
#ifndef TESS_VLAN_H
#define TESS_VLAN_H

#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define VLAN_VID_MASK 0x0fff

static inline bool vlan_is_tpid(rte_be16_t type)
{
	return type == RTE_BE16(RTE_ETHER_TYPE_VLAN) || type == RTE_BE16(RTE_ETHER_TYPE_QINQ);
}

struct vlan_tag {
	bool present;
	uint16_t tci; /* host order: PCP, DEI, VID */
};

/*
 * The tag right after the MAC addresses, if any. Returns false when the
 * frame is too short for what its ethertype announces.
 */
static inline bool vlan_outer(const struct rte_mbuf *m, struct vlan_tag *t)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	t->present = vlan_is_tpid(eh->ether_type);
	t->tci = 0;
	if (!t->present)
		return true;
	if (m->data_len < RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN)
		return false;
	t->tci = rte_be_to_cpu_16(((const struct rte_vlan_hdr *)(eh + 1))->vlan_tci);
	return true;
}

/*
 * Moves the two MAC addresses (12 bytes) from src to dst, which overlap by
 * 8 bytes: both loads before the stores, inline (gcc sent a memmove of
 * these 12 bytes to libc: a call per frame).
 */
static inline void vlan_move_macs(char *dst, const char *src)
{
	uint64_t head;
	uint32_t tail;

	memcpy(&head, src, sizeof(head));
	memcpy(&tail, src + 8, sizeof(tail));
	memcpy(dst, &head, sizeof(head));
	memcpy(dst + 8, &tail, sizeof(tail));
}

/* Removes the outer tag (the caller checked it is there). */
static inline void vlan_pop(struct rte_mbuf *m)
{
	char *p = rte_pktmbuf_mtod(m, char *);

	vlan_move_macs(p + RTE_VLAN_HLEN, p);
	rte_pktmbuf_adj(m, RTE_VLAN_HLEN);
}

/* Whether m's first segment may be written in front of its data (not shared with anyone). */
static inline bool vlan_writable(const struct rte_mbuf *m)
{
	return rte_mbuf_refcnt_read(m) == 1 &&
	       (RTE_MBUF_DIRECT(m) ||
		(RTE_MBUF_HAS_EXTBUF(m) && rte_mbuf_ext_refcnt_read(m->shinfo) == 1));
}

/*
 * Inserts an 802.1Q tag after the MAC addresses. The mbuf's data must be
 * its own (unshared, direct or an unshared external buffer) with 4 bytes of
 * headroom; returns false otherwise.
 */
static inline bool vlan_push(struct rte_mbuf *m, uint16_t tci)
{
	struct rte_vlan_hdr *vh;
	char *p;

	if (!vlan_writable(m))
		return false;
	p = rte_pktmbuf_prepend(m, RTE_VLAN_HLEN);
	if (p == NULL)
		return false;
	vlan_move_macs(p, p + RTE_VLAN_HLEN); /* the MACs up 4 bytes */
	((struct rte_ether_hdr *)p)->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
	vh = (struct rte_vlan_hdr *)(p + RTE_ETHER_HDR_LEN);
	/* Keep the original ethertype, which now follows the tag: it was already there. */
	vh->vlan_tci = rte_cpu_to_be_16(tci);
	return true;
}

#endif
