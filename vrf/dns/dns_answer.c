/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queries to a tenant network's DNS server: its zone's names (A, and PTR
 * for its interface's subnets) answered with authority, others forwarded
 * to the tenant's resolvers or refused, over UDP from the control thread.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dns_int.h"
#include "fib.h"
#include "l3_svc.h"
#include "tessd.h"

static uint16_t client_limit(const struct dns_client *c, const struct dns_query *q)
{
	if (c->tcp >= 0)
		return UINT16_MAX;
	if (!q->edns)
		return DNS_UDP_MIN;
	return q->udp_size < DNS_EDNS_SIZE ? q->udp_size : DNS_EDNS_SIZE;
}

void dns_send(struct dns_srv *s, const struct dns_client *c, const uint8_t *payload, size_t len)
{
	struct rte_ether_addr own;
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *uh;
	struct rte_mbuf *m;

	if (c->tcp >= 0) {
		dns_tcp_send(s, c, payload, len);
		return;
	}
	if (!l3_svc_iface_mac(s->ifid, &own))
		return;
	m = l3_svc_alloc();
	if (m == NULL ||
	    (eh = (struct rte_ether_hdr *)rte_pktmbuf_append(
		     m, (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*uh) + len))) == NULL) {
		rte_pktmbuf_free(m);
		s->c.no_mbuf++;
		return;
	}
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	uh = (struct rte_udp_hdr *)(ip + 1);
	memcpy(uh + 1, payload, len);
	rte_ether_addr_copy(&c->mac, &eh->dst_addr);
	rte_ether_addr_copy(&own, &eh->src_addr);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	l3_svc_udp4_hdr(ip, c->own, c->ip, DNS_PORT, c->port, len);
	l3_svc_send(m, s->ifid);
}

static void send_reply(struct dns_srv *s, const struct dns_client *c, const struct dns_query *q,
		       const struct dns_reply *r)
{
	uint8_t buf[DNS_EDNS_SIZE];
	size_t len = dns_build_reply(buf, sizeof(buf), client_limit(c, q), q, r);

	if (len == 0) {
		s->c.truncated++; /* not even the question fits what the client takes */
		return;
	}
	if (buf[2] & (DNS_TC >> 8))
		s->c.truncated++;
	dns_send(s, c, buf, len);
}

void dns_reply_rcode(struct dns_srv *s, const struct dns_client *c, const struct dns_query *q,
		     uint8_t rcode)
{
	const struct tessd_dns_server_cfg *sc = dns_srv_cfg(s);
	struct dns_reply r = { .rcode = rcode, .ra = sc && sc->n_forwarders };

	send_reply(s, c, q, &r);
}

/* The interface's subnet that holds a (its reverse zone into rev), or false. */
static bool own_subnet(const struct tessd_iface_cfg *ic, uint32_t a, char *rev, size_t cap)
{
	for (uint32_t k = 0; k < ic->n_addresses; k++) {
		uint8_t len = ic->addresses[k].len;
		uint32_t m = len ? UINT32_MAX << (32 - len) : 0;
		if (len >= 8 && (a & m) == (ic->addresses[k].ip & m)) {
			dns_reverse_zone(ic->addresses[k].ip & m, len, rev, cap);
			return true;
		}
	}
	return false;
}

static void resolve(struct dns_srv *s, const struct dns_client *c, const struct dns_query *q,
		    const uint8_t *p, size_t len)
{
	const struct tessd_dns_server_cfg *sc = dns_srv_cfg(s);
	const struct tessd_iface_cfg *ic = dns_srv_iface(s);
	char rev[DNS_NAME_MAX];
	struct dns_soa soa;
	struct dns_rr rr;
	struct dns_reply r;
	const struct dns_rec *rec;
	uint32_t a;
	bool apex;

	if (sc == NULL || ic == NULL)
		return;
	r = (struct dns_reply){ .ttl = sc->ttl, .ra = sc->n_forwarders > 0 };
	soa = (struct dns_soa){ .zone = s->zone, .serial = s->serial, .minimum = sc->ttl };
	if (q->qclass != DNS_CLASS_IN) {
		s->c.refused++;
		r.rcode = DNS_REFUSED;
	} else if (dns_in_zone(q->qname, s->zone, &apex)) {
		/* Its own zone: answered with authority, never forwarded. */
		r.aa = true;
		rec = apex ? NULL : dns_zone_by_name(&s->z, q->qname);
		if (rec && q->qtype == DNS_T_A) {
			rr = (struct dns_rr){ .type = DNS_T_A, .addr = rec->ip };
			r.an = &rr;
			r.n_an = 1;
		} else if (apex && q->qtype == DNS_T_SOA) {
			r.soa = &soa;
			r.soa_answer = true;
		} else {
			r.soa = &soa; /* NODATA, or NXDOMAIN (RFC 2308) */
			r.rcode = rec || apex || dns_zone_has_below(&s->z, q->qname) ? DNS_NOERROR
										     : DNS_NXDOMAIN;
		}
	} else if (dns_ptr_addr(q->qname, &a) == 0 && own_subnet(ic, a, rev, sizeof(rev))) {
		/* An address of its network: the reverse of its names. */
		r.aa = true;
		soa.zone = rev;
		rec = dns_zone_by_ip(&s->z, a);
		if (rec && q->qtype == DNS_T_PTR) {
			rr = (struct dns_rr){ .type = DNS_T_PTR, .ptr = rec->name };
			r.an = &rr;
			r.n_an = 1;
		} else {
			r.soa = &soa;
			r.rcode = rec ? DNS_NOERROR : DNS_NXDOMAIN;
		}
	} else if (sc->n_forwarders) {
		dns_forward(s, c, q, p, len);
		return;
	} else {
		s->c.refused++; /* not a recursive resolver for anyone */
		r.rcode = DNS_REFUSED;
	}
	if (r.rcode == DNS_NXDOMAIN)
		s->c.nxdomain++;
	else if (r.rcode == DNS_NOERROR)
		s->c.answered++;
	send_reply(s, c, q, &r);
}

void dns_answer(struct dns_srv *s, const struct dns_client *c, const uint8_t *p, size_t len)
{
	struct dns_client cl = *c;
	struct dns_query q;
	uint8_t err[DNS_HDR_LEN];

	s->c.queries++;
	switch (dns_parse_query(p, len, &q)) {
	case DNS_P_DROP:
		s->c.malformed++;
		return;
	case DNS_P_FORMERR:
		s->c.malformed++;
		dns_send(s, c, err, dns_build_error(err, p, len, DNS_FORMERR));
		return;
	case DNS_P_NOTIMP:
		s->c.notimp++;
		dns_send(s, c, err, dns_build_error(err, p, len, DNS_NOTIMP));
		return;
	default:
		break;
	}
	cl.limit = client_limit(c, &q);
	resolve(s, &cl, &q, p, len);
}

/* Per VRF: several servers of a tenant together within vrf_qps. */
static struct dp_storm vrf_qb[FIB_MAX_VRFS];

bool dns_admit(struct dns_srv *s, const struct tessd_dns_server_cfg *sc)
{
	uint64_t now = rte_rdtsc();

	if (!dp_bucket2_ok(&s->qb, sc->qps, &vrf_qb[s->vrf % FIB_MAX_VRFS], tessd.cfg.dns.vrf_qps,
			   now)) {
		s->c.rate_limited++;
		return false;
	}
	return true;
}

void dns_udp_input(struct dns_srv *s, struct rte_mbuf *m)
{
	const struct tessd_dns_server_cfg *sc = dns_srv_cfg(s);
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u, ulen;
	const struct rte_udp_hdr *uh;
	struct dns_client c;
	uint8_t buf[1500];
	const uint8_t *p;

	uh = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, RTE_ETHER_HDR_LEN + hlen);
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	c = (struct dns_client){ .ip = rte_be_to_cpu_32(ip->src_addr),
				 .own = rte_be_to_cpu_32(ip->dst_addr),
				 .port = rte_be_to_cpu_16(uh->src_port),
				 .tcp = -1 };
	rte_ether_addr_copy(&eh->src_addr, &c.mac);
	/* To its own address only: a broadcast or 0.0.0.0 sender is nobody to answer. */
	if (sc == NULL || l3_svc_iface_addr(s->ifid, c.own) != c.own || c.ip == 0 || c.port == 0) {
		s->c.malformed++;
		goto out;
	}
	if (!dns_admit(s, sc)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (ulen < sizeof(*uh) || ulen > rte_be_to_cpu_16(ip->total_length) - hlen ||
	    ulen - sizeof(*uh) > sizeof(buf) ||
	    (uh->dgram_cksum != 0 &&
	     rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, (uint16_t)(RTE_ETHER_HDR_LEN + hlen)) != 0)) {
		s->c.malformed++;
		goto out;
	}
	p = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN + hlen + sizeof(*uh), ulen - sizeof(*uh), buf);
	if (p == NULL) {
		s->c.malformed++;
		goto out;
	}
	if (p != buf)
		memcpy(buf, p, ulen - sizeof(*uh));
	rte_pktmbuf_free(m);
	dns_answer(s, &c, buf, ulen - sizeof(*uh));
	return;
out:
	rte_pktmbuf_free(m);
}
