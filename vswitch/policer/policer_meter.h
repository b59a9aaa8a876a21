/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Metering one frame: its colour in (colour-aware modes), the meter's
 * verdict, the yellow re-mark; and a config profile made an rte_meter one.
 * Plain functions of a frame, a meter and a time (TSC), unit-tested with a
 * synthetic clock. Worker code but pol_profile_make.
 */
#ifndef TESS_POLICER_METER_H
#define TESS_POLICER_METER_H

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_meter.h>

#include "policer.h"
#include "tessd_config.h"

/* The IPv4 header of a frame, after one 802.1Q/802.1ad tag if any; NULL if none or short. */
static inline struct rte_ipv4_hdr *pol_ipv4(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint32_t off = RTE_ETHER_HDR_LEN;
	rte_be16_t type = eh->ether_type;

	if (m->data_len < RTE_ETHER_HDR_LEN)
		return NULL;
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) || type == RTE_BE16(RTE_ETHER_TYPE_QINQ)) {
		if (m->data_len < RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN)
			return NULL;
		type = rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *, RTE_ETHER_HDR_LEN)
			       ->eth_proto;
		off += RTE_VLAN_HLEN;
	}
	if (type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    m->data_len < off + sizeof(struct rte_ipv4_hdr))
		return NULL;
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, off);
}

/*
 * The colour a frame carries: dscp: the drop precedence of an AF class
 * (AFx1 green, AFx2 yellow, AFx3 red), any other DSCP or no IPv4 green;
 * pcp: the outer 802.1Q tag's DEI (drop eligible) bit yellow, else green.
 */
static inline enum rte_color pol_color_of(uint8_t mode, struct rte_mbuf *m)
{
	if (mode == TESS_POL_DSCP) {
		const struct rte_ipv4_hdr *ip = pol_ipv4(m);
		unsigned dscp = ip ? ip->type_of_service >> 2 : 0;

		/* AF11..AF43: 0b CCC DD0, class 1-4, drop precedence DD 1-3. */
		if ((dscp & 1) == 0 && dscp >> 3 >= 1 && dscp >> 3 <= 4 && (dscp >> 1 & 3) >= 2)
			return (dscp >> 1 & 3) == 2 ? RTE_COLOR_YELLOW : RTE_COLOR_RED;
		return RTE_COLOR_GREEN;
	}
	if (mode == TESS_POL_PCP) {
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		if (m->data_len >= RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN &&
		    (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
		     eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_QINQ)) &&
		    (rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *, RTE_ETHER_HDR_LEN)
			     ->vlan_tci &
		     RTE_BE16(0x1000)))
			return RTE_COLOR_YELLOW;
	}
	return RTE_COLOR_GREEN;
}

/* Makes meter m afresh for profile p, full buckets, at time now. */
static inline void pol_meter_reset(struct pol_meter *m, const struct pol_profile *p, uint64_t now)
{
	struct pol_profile *pp = (struct pol_profile *)(uintptr_t)p; /* rte_meter takes non-const */

	if (p->type == TESS_POL_SRTCM) {
		rte_meter_srtcm_config(&m->sr, &pp->sr);
		m->sr.time = now;
	} else {
		rte_meter_trtcm_config(&m->tr, &pp->tr);
		m->tr.time_tc = now;
		m->tr.time_tp = now;
	}
	m->gen = p->gen;
}

/* The colour of a frame of len bytes (coming in as in) at time now. */
static inline enum rte_color pol_meter_check(struct pol_meter *m, const struct pol_profile *p,
					     uint64_t now, uint32_t len, enum rte_color in)
{
	struct pol_profile *pp = (struct pol_profile *)(uintptr_t)p;

	if (p->type == TESS_POL_SRTCM)
		return p->color == TESS_POL_BLIND
			       ? rte_meter_srtcm_color_blind_check(&m->sr, &pp->sr, now, len)
			       : rte_meter_srtcm_color_aware_check(&m->sr, &pp->sr, now, len, in);
	return p->color == TESS_POL_BLIND
		       ? rte_meter_trtcm_color_blind_check(&m->tr, &pp->tr, now, len)
		       : rte_meter_trtcm_color_aware_check(&m->tr, &pp->tr, now, len, in);
}

/*
 * Writes dscp into an IPv4 frame's TOS (ECN kept), checksum updated
 * (RFC 1624). False when not IPv4 or the frame is shared (a flood's copies).
 */
static inline bool pol_remark(struct rte_mbuf *m, uint8_t dscp)
{
	struct rte_ipv4_hdr *ip;
	uint16_t old, new;
	uint32_t sum;

	if (rte_mbuf_refcnt_read(m) != 1 || !RTE_MBUF_DIRECT(m) || (ip = pol_ipv4(m)) == NULL)
		return false;
	old = (uint16_t)(ip->version_ihl << 8 | ip->type_of_service);
	ip->type_of_service = (uint8_t)(dscp << 2 | (ip->type_of_service & 3));
	new = (uint16_t)(ip->version_ihl << 8 | ip->type_of_service);
	sum = (uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum) + (uint16_t)~old + new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
	return true;
}

/*
 * A config policer as a worker's profile when its traffic is spread over
 * share workers (1: one worker meets it all): rates and bursts divided, each
 * burst still at least max_frame bytes (the largest frame a port takes).
 * Periods come from rte_get_tsc_hz(), as rte_meter's. -errno from rte_meter
 * (a rate or burst it refuses).
 */
int pol_profile_make(struct pol_profile *out, const struct tessd_policer_cfg *c, unsigned share,
		     uint32_t max_frame);

#endif
