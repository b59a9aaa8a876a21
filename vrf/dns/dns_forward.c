/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queries for names outside a server's zone, forwarded to the tenant's
 * resolvers in its VRF (routed as the router's own packets): each leaves
 * with a random id and source port, waits in the server's bounded table,
 * and is answered by the reply that matches resolver, port, id and
 * question, or by SERVFAIL at its timeout. Each leaves with EDNS (at most
 * DNS_EDNS_SIZE), so answers up to that size reach a client over TCP.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_random.h>
#include <rte_udp.h>

#include "dns_int.h"
#include "l3_svc.h"

#define PORT_LO 1024 /* source ports of forwarded queries: 1024..65535, random */

static struct dns_pending *pending_find(struct dns_srv *s, uint32_t fwd, uint16_t port, uint16_t id)
{
	for (uint32_t i = 0; i < s->max_pend && s->n_pend; i++) {
		struct dns_pending *pe = &s->pend[i];
		if (pe->used && pe->fwd == fwd && pe->port == port && pe->id == id)
			return pe;
	}
	return NULL;
}

static struct rte_mbuf *build(uint32_t src, uint32_t dst, uint16_t sport, const uint8_t *p,
			      size_t len, uint16_t id, const struct dns_query *q)
{
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *uh;
	struct rte_mbuf *m = l3_svc_alloc();
	size_t cap = len + (q->opt_size_off ? 0 : DNS_OPT_LEN);
	uint8_t *eh;

	if (m == NULL ||
	    (eh = (uint8_t *)rte_pktmbuf_append(
		     m, (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*uh) + cap))) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(eh, 0, RTE_ETHER_HDR_LEN); /* the router fills it toward the next hop */
	((struct rte_ether_hdr *)eh)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + RTE_ETHER_HDR_LEN);
	uh = (struct rte_udp_hdr *)(ip + 1);
	memcpy(uh + 1, p, len);
	((uint8_t *)(uh + 1))[0] = (uint8_t)(id >> 8);
	((uint8_t *)(uh + 1))[1] = (uint8_t)id;
	/* Answers larger than ours would come in fragments, which the router does not reassemble.
	 */
	if (q->opt_size_off && q->udp_size > DNS_EDNS_SIZE) {
		((uint8_t *)(uh + 1))[q->opt_size_off] = DNS_EDNS_SIZE >> 8;
		((uint8_t *)(uh + 1))[q->opt_size_off + 1] = DNS_EDNS_SIZE & 0xff;
	}
	/*
	 * Without EDNS the resolver would cut any answer over 512 bytes (TC), which
	 * a client retrying over TCP would get again: ours is offered, and taken off
	 * the reply to that client.
	 */
	if (!q->opt_size_off)
		len = dns_add_opt((uint8_t *)(uh + 1), len, cap, DNS_EDNS_SIZE);
	l3_svc_udp4_hdr(ip, src, dst, sport, DNS_PORT, len);
	return m;
}

void dns_forward(struct dns_srv *s, const struct dns_client *c, const struct dns_query *q,
		 const uint8_t *p, size_t len)
{
	const struct tessd_dns_server_cfg *sc = dns_srv_cfg(s);
	struct dns_pending *pe = NULL;
	struct rte_mbuf *m;
	uint32_t fwd, src;
	uint16_t id = 0, port = 0, evrf = s->vrf;

	if (s->n_pend == s->max_pend) {
		s->c.forward_full++; /* this tenant's share of waiting queries is taken */
		dns_reply_rcode(s, c, q, DNS_SERVFAIL);
		return;
	}
	for (uint32_t i = 0; pe == NULL && i < s->max_pend; i++)
		if (!s->pend[i].used)
			pe = &s->pend[i];
	fwd = sc->forwarders[s->fwd_next++ % sc->n_forwarders];
	src = l3_svc_route_src(s->vrf, fwd, &evrf);
	if (pe == NULL || src == 0) {
		s->c.forward_no_route++;
		dns_reply_rcode(s, c, q, DNS_SERVFAIL);
		return;
	}
	/* Unpredictable id and port (RFC 5452), unique among those waiting. */
	do {
		uint64_t r = rte_rand();
		id = (uint16_t)r;
		port = (uint16_t)(PORT_LO + (r >> 16) % (65536 - PORT_LO));
	} while (pending_find(s, fwd, port, id));
	m = build(src, fwd, port, p, len, id, q);
	if (m == NULL) {
		s->c.no_mbuf++;
		dns_reply_rcode(s, c, q, DNS_SERVFAIL);
		return;
	}
	*pe = (struct dns_pending){
		.used = true, .id = id, .port = port, .fwd = fwd, .vrf = evrf, .c = *c, .q = *q
	};
	pe->deadline = rte_rdtsc() + (uint64_t)sc->forward_timeout_ms * (dp_tsc_hz / 1000);
	s->n_pend++;
	s->c.forwarded++;
	l3_svc_route(m, s->vrf);
}

static void pending_end(struct dns_srv *s, struct dns_pending *pe)
{
	pe->used = false;
	s->n_pend--;
}

/* The server waiting on (fwd, port, id) for a reply coming in through vrf, and the query. */
static struct dns_srv *waiting(uint16_t vrf, uint32_t fwd, uint16_t port, uint16_t id,
			       struct dns_pending **pe)
{
	for (uint32_t i = 0; i < dns_n_srvs; i++) {
		struct dns_srv *s = &dns_srvs[i];
		/* The VRF its query left through: another one's for a leaked route. */
		if (s->on && s->n_pend && (*pe = pending_find(s, fwd, port, id)) != NULL &&
		    (*pe)->vrf == vrf)
			return s;
	}
	return NULL;
}

bool dns_forward_reply(struct rte_mbuf *m, uint16_t iif, uint16_t vrf)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u, ulen;
	const struct rte_udp_hdr *uh;
	struct dns_pending *pe = NULL;
	struct dns_srv *s;
	uint8_t buf[1500], hdr[2];
	const uint8_t *p;
	size_t len;

	(void)iif;
	if (dns_n_srvs == 0 || ip->next_proto_id != IPPROTO_UDP ||
	    rte_be_to_cpu_16(ip->total_length) < hlen + sizeof(*uh) + DNS_HDR_LEN ||
	    m->pkt_len < RTE_ETHER_HDR_LEN + hlen + sizeof(*uh) + DNS_HDR_LEN)
		return false;
	uh = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, RTE_ETHER_HDR_LEN + hlen);
	p = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN + hlen + sizeof(*uh), 2, hdr);
	if (uh->src_port != RTE_BE16(DNS_PORT) || p == NULL ||
	    (s = waiting(vrf, rte_be_to_cpu_32(ip->src_addr), rte_be_to_cpu_16(uh->dst_port),
			 (uint16_t)(p[0] << 8 | p[1]), &pe)) == NULL)
		return false; /* not awaited: the router's (port unreachable) */
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	if (ulen < sizeof(*uh) + DNS_HDR_LEN || ulen > rte_be_to_cpu_16(ip->total_length) - hlen ||
	    ulen - sizeof(*uh) > sizeof(buf) ||
	    (uh->dgram_cksum != 0 &&
	     rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, (uint16_t)(RTE_ETHER_HDR_LEN + hlen)) != 0) ||
	    (p = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN + hlen + sizeof(*uh), ulen - sizeof(*uh),
				  buf)) == NULL) {
		s->c.forward_unmatched++;
		rte_pktmbuf_free(m);
		return true;
	}
	len = ulen - sizeof(*uh);
	if (p != buf)
		memcpy(buf, p, len);
	rte_pktmbuf_free(m);
	/* Another question under the same id and port: a spoof, or a stale answer; still waits. */
	if (dns_reply_matches(buf, len, pe->id, &pe->q) < 0) {
		s->c.forward_unmatched++;
		return true;
	}
	buf[0] = (uint8_t)(pe->q.id >> 8);
	buf[1] = (uint8_t)pe->q.id;
	/* Ours is no authority for it; recursion is what the client got. */
	buf[2] &= (uint8_t) ~(DNS_AA >> 8);
	buf[3] |= DNS_RA;
	if (!pe->q.edns)
		len = dns_strip_opt(buf, len); /* ours (dns_forward), not the client's */
	if (len > pe->c.limit) {
		len = dns_truncate(buf, len, pe->c.limit);
		s->c.truncated++;
	}
	s->c.forward_replies++;
	dns_send(s, &pe->c, buf, len);
	pending_end(s, pe);
	return true;
}

void dns_forward_expire(struct dns_srv *s, uint64_t now)
{
	for (uint32_t i = 0; i < s->max_pend && s->n_pend; i++) {
		struct dns_pending *pe = &s->pend[i];
		if (!pe->used || pe->deadline > now)
			continue;
		s->c.forward_timeouts++;
		dns_reply_rcode(s, &pe->c, &pe->q, DNS_SERVFAIL);
		pending_end(s, pe);
	}
}
