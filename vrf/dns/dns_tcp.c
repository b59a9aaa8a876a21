/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS over TCP, the minimal responder RFC 7766 allows: a connection per
 * query (handshake, a 2-byte length framed query, possibly split across
 * segments, the framed answer with FIN), at most tcp_conns open per server
 * (half of them per source address; all taken, the oldest half-open one is
 * evicted), each reset after tcp_timeout_ms (a handshake after at most
 * HANDSHAKE_MS) whatever its state; any other segment
 * is answered with a reset (RFC 793 3.4). No retransmission: a segment
 * lost is the client's timeout. Control thread only.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_random.h>
#include <rte_tcp.h>

#include "dns_int.h"
#include "l3_svc.h"

#define MSS_DEFAULT 536 /* without the option (RFC 879) */
#define MSS_OURS    1460
#define WINDOW      (2 + DNS_TCP_QUERY_MAX)
/* A handshake not completed by then frees its slot (SYNs never completed
 * must not hold the slots for the whole tcp_timeout_ms). */
#define HANDSHAKE_MS 1000

struct seg {
	const struct rte_ether_addr *mac;
	uint32_t src, dst;
	uint16_t dport;
	uint32_t seq, ack;
	uint8_t flags;
	bool mss; /* our MSS option (SYN-ACK) */
};

static void seg_send(struct dns_srv *s, const struct seg *g, const uint8_t *p, size_t len)
{
	size_t th = sizeof(struct rte_tcp_hdr) + (g->mss ? 4 : 0);
	struct rte_ether_addr own;
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *tcp;
	struct rte_mbuf *m;

	if (!l3_svc_iface_mac(s->ifid, &own))
		return;
	m = l3_svc_alloc();
	if (m == NULL ||
	    (eh = (struct rte_ether_hdr *)rte_pktmbuf_append(
		     m, (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(*ip) + th + len))) == NULL) {
		rte_pktmbuf_free(m);
		s->c.no_mbuf++;
		return;
	}
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	tcp = (struct rte_tcp_hdr *)(ip + 1);
	rte_ether_addr_copy(g->mac, &eh->dst_addr);
	rte_ether_addr_copy(&own, &eh->src_addr);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + th + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(g->src);
	ip->dst_addr = rte_cpu_to_be_32(g->dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memset(tcp, 0, th);
	tcp->src_port = RTE_BE16(DNS_PORT);
	tcp->dst_port = rte_cpu_to_be_16(g->dport);
	tcp->sent_seq = rte_cpu_to_be_32(g->seq);
	tcp->recv_ack = rte_cpu_to_be_32(g->ack);
	tcp->data_off = (uint8_t)((th / 4) << 4);
	tcp->tcp_flags = g->flags;
	tcp->rx_win = rte_cpu_to_be_16(WINDOW);
	if (g->mss) {
		uint8_t *o = (uint8_t *)(tcp + 1);
		o[0] = 2; /* MSS */
		o[1] = 4;
		o[2] = MSS_OURS >> 8;
		o[3] = MSS_OURS & 0xff;
	}
	if (len)
		memcpy((uint8_t *)tcp + th, p, len);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	l3_svc_send(m, s->ifid);
}

/* A segment of connection t. */
static void conn_send(struct dns_srv *s, const struct dns_tcp *t, uint32_t seq, uint8_t flags,
		      const uint8_t *p, size_t len, bool mss)
{
	struct seg g = { .mac = &t->mac,
			 .src = t->own,
			 .dst = t->ip,
			 .dport = t->port,
			 .seq = seq,
			 .ack = t->rcv_nxt,
			 .flags = flags,
			 .mss = mss };

	seg_send(s, &g, p, len);
}

static void conn_free(struct dns_srv *s, struct dns_tcp *t)
{
	t->state = DT_FREE;
	s->n_tcp--;
}

static void conn_reset(struct dns_srv *s, struct dns_tcp *t)
{
	conn_send(s, t, t->snd_nxt, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, false);
	conn_free(s, t);
}

/* What the segment's sender sees in a reset (RFC 793 3.4 "Reset Generation"). */
static void stray_reset(struct dns_srv *s, const struct dns_client *c, uint8_t flags, uint32_t seq,
			uint32_t ack, uint32_t len)
{
	struct seg g = { .mac = &c->mac, .src = c->own, .dst = c->ip, .dport = c->port };

	if (flags & RTE_TCP_RST_FLAG)
		return; /* never a reset for a reset */
	if (flags & RTE_TCP_ACK_FLAG) {
		g.seq = ack;
		g.flags = RTE_TCP_RST_FLAG;
	} else {
		g.ack = seq + len + !!(flags & RTE_TCP_SYN_FLAG) + !!(flags & RTE_TCP_FIN_FLAG);
		g.flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	s->c.tcp_resets++;
	seg_send(s, &g, NULL, 0);
}

static struct dns_tcp *conn_find(struct dns_srv *s, const struct dns_client *c)
{
	for (uint32_t i = 0; i < s->n_tcp_slots && s->n_tcp; i++) {
		struct dns_tcp *t = &s->tcp[i];
		if (t->state != DT_FREE && t->ip == c->ip && t->port == c->port && t->own == c->own)
			return t;
	}
	return NULL;
}

/* The MSS option of a SYN (RFC 9293 3.7.1), or the default. */
static uint16_t syn_mss(const uint8_t *o, size_t len)
{
	for (size_t i = 0; i < len;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			break;
		if (o[i] == 2 && o[i + 1] == 4) {
			uint16_t v = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
			return v < 64 ? 64 : v > MSS_OURS ? MSS_OURS : v;
		}
		i += o[i + 1];
	}
	return MSS_DEFAULT;
}

static uint64_t ms_tsc(uint32_t ms)
{
	return (uint64_t)ms * (dp_tsc_hz / 1000);
}

/* Slots one source address may hold: half of them, at least one. */
static bool source_full(const struct dns_srv *s, uint32_t ip)
{
	uint32_t n = 0, max = s->n_tcp_slots / 2 ? s->n_tcp_slots / 2 : 1;

	for (uint32_t i = 0; i < s->n_tcp_slots; i++)
		n += s->tcp[i].state != DT_FREE && s->tcp[i].ip == ip;
	return n >= max;
}

/*
 * A free slot; all taken, the oldest half-open one (reset): SYNs that never
 * complete then cannot keep real clients out.
 */
static struct dns_tcp *slot_take(struct dns_srv *s)
{
	struct dns_tcp *old = NULL;

	for (uint32_t i = 0; i < s->n_tcp_slots; i++) {
		struct dns_tcp *t = &s->tcp[i];
		if (t->state == DT_FREE)
			return t;
		if (t->state == DT_SYN_RCVD && (old == NULL || t->gen - old->gen > UINT32_MAX / 2))
			old = t;
	}
	if (old) {
		s->c.tcp_evicted++;
		conn_reset(s, old);
	}
	return old;
}

static void accept_syn(struct dns_srv *s, const struct dns_client *c, uint32_t seq,
		       const uint8_t *opt, size_t optlen)
{
	const struct tessd_dns_server_cfg *sc = dns_srv_cfg(s);
	struct dns_tcp *t;

	if (sc == NULL || source_full(s, c->ip) || (t = slot_take(s)) == NULL) {
		s->c.tcp_refused++; /* this tenant's (or this source's) connections all taken */
		stray_reset(s, c, RTE_TCP_SYN_FLAG, seq, 0, 0);
		return;
	}
	if (!dns_admit(s, sc))
		return;
	*t = (struct dns_tcp){ .state = DT_SYN_RCVD,
			       .gen = ++s->tcp_gen,
			       .mac = c->mac,
			       .ip = c->ip,
			       .own = c->own,
			       .port = c->port,
			       .mss = syn_mss(opt, optlen),
			       .rcv_nxt = seq + 1,
			       .snd_nxt = (uint32_t)rte_rand() };
	t->deadline = rte_rdtsc() + ms_tsc(RTE_MIN(sc->tcp_timeout_ms, (uint32_t)HANDSHAKE_MS));
	s->n_tcp++;
	s->c.tcp_conns++;
	conn_send(s, t, t->snd_nxt++, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, true);
}

/* Query bytes of an open connection; the query once whole. */
static void take_data(struct dns_srv *s, struct dns_tcp *t, const uint8_t *p, uint32_t len)
{
	struct dns_client c = { .mac = t->mac,
				.ip = t->ip,
				.own = t->own,
				.port = t->port,
				.tcp = (int16_t)(t - s->tcp),
				.tcp_gen = t->gen,
				.limit = UINT16_MAX };
	uint16_t qlen;

	if (t->have + len > sizeof(t->buf)) {
		s->c.malformed++; /* longer than any query we take */
		conn_reset(s, t);
		return;
	}
	memcpy(t->buf + t->have, p, len);
	t->have = (uint16_t)(t->have + len);
	t->rcv_nxt += len;
	qlen = t->have >= 2 ? (uint16_t)(t->buf[0] << 8 | t->buf[1]) : 0;
	if (t->have >= 2 && (qlen == 0 || qlen > DNS_TCP_QUERY_MAX)) {
		s->c.malformed++;
		conn_reset(s, t);
		return;
	}
	if (t->have < 2 || t->have < 2 + qlen) {
		conn_send(s, t, t->snd_nxt, RTE_TCP_ACK_FLAG, NULL, 0, false);
		return;
	}
	t->state = DT_WAITING;
	dns_answer(s, &c, t->buf + 2, qlen);
	/* Forwarded (or dropped): the query is acknowledged meanwhile. */
	if (t->state == DT_WAITING)
		conn_send(s, t, t->snd_nxt, RTE_TCP_ACK_FLAG, NULL, 0, false);
}

/*
 * The client's FIN at seq + len (its data taken or, past the query, ignored).
 * Once its query is whole it may half-close (RFC 7766 lets it): the FIN
 * is acknowledged and the answer still goes; before that the query is lost.
 */
static void take_fin(struct dns_srv *s, struct dns_tcp *t, uint32_t seq, uint32_t ack, uint32_t len)
{
	if (t->state != DT_WAITING && t->state != DT_CLOSING) {
		conn_reset(s, t); /* closed before its query was whole */
		return;
	}
	t->rcv_nxt = seq + len + 1;
	conn_send(s, t, t->snd_nxt, RTE_TCP_ACK_FLAG, NULL, 0, false);
	if (t->state == DT_CLOSING && ack == t->snd_nxt)
		conn_free(s, t); /* both sides done */
	else
		t->fin_rcvd = true; /* our FIN's ACK (if it is still to come) frees the slot */
}

/* RFC 793 3.4: a bad ACK in SYN_RCVD gets <SEQ=SEG.ACK><CTL=RST>, the
 * connection stays (else anyone guessing the 4-tuple resets it). */
static void bad_ack(struct dns_srv *s, const struct dns_tcp *t, uint32_t seq, uint32_t ack)
{
	struct dns_client c = { .mac = t->mac, .ip = t->ip, .own = t->own, .port = t->port };

	stray_reset(s, &c, RTE_TCP_ACK_FLAG, seq, ack, 0);
}

static void established(struct dns_srv *s, struct dns_tcp *t, uint8_t flags, uint32_t seq,
			uint32_t ack, const uint8_t *p, uint32_t len)
{
	const struct tessd_dns_server_cfg *sc;

	if (flags & RTE_TCP_SYN_FLAG) {
		/* Our SYN-ACK lost: the SYN again; else a SYN inside the connection
		 * gets a challenge ACK, not a reset (RFC 5961 4.2): a client that
		 * really restarted answers it with an in-window RST. */
		if (t->state == DT_SYN_RCVD && seq + 1 == t->rcv_nxt && !(flags & RTE_TCP_ACK_FLAG))
			conn_send(s, t, t->snd_nxt - 1, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL,
				  0, true);
		else
			conn_send(s, t, t->snd_nxt, RTE_TCP_ACK_FLAG, NULL, 0, false);
		return;
	}
	if (!(flags & RTE_TCP_ACK_FLAG))
		return;
	if (t->state == DT_SYN_RCVD) {
		if (ack != t->snd_nxt) {
			bad_ack(s, t, seq, ack);
			return;
		}
		t->state = DT_OPEN;
		/* Open: the connection's whole life from now (the handshake's was short). */
		if ((sc = dns_srv_cfg(s)) != NULL)
			t->deadline = rte_rdtsc() + ms_tsc(sc->tcp_timeout_ms);
	}
	if (seq != t->rcv_nxt) {
		/* Out of order, or again: what we have is said again. */
		conn_send(s, t, t->snd_nxt, RTE_TCP_ACK_FLAG, NULL, 0, false);
		return;
	}
	if (t->state == DT_CLOSING && t->fin_rcvd && ack == t->snd_nxt) {
		conn_free(s, t); /* our FIN acknowledged after theirs: both sides done */
		return;
	}
	if (len && t->state == DT_OPEN)
		take_data(s, t, p, len);
	if (t->state != DT_FREE && (flags & RTE_TCP_FIN_FLAG))
		take_fin(s, t, seq, ack, len);
}

void dns_tcp_input(struct dns_srv *s, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u, th, len, seq, ack;
	const struct rte_tcp_hdr *tcp;
	/* The largest header (60 bytes) and the most our MSS lets a client send. */
	uint8_t buf[60 + MSS_OURS], flags;
	const uint8_t *p;
	struct dns_client c;
	struct dns_tcp *t;

	tcp = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, RTE_ETHER_HDR_LEN + hlen);
	th = (tcp->data_off >> 4) * 4u;
	c = (struct dns_client){ .ip = rte_be_to_cpu_32(ip->src_addr),
				 .own = rte_be_to_cpu_32(ip->dst_addr),
				 .port = rte_be_to_cpu_16(tcp->src_port) };
	rte_ether_addr_copy(&eh->src_addr, &c.mac);
	if (th < sizeof(*tcp) || rte_be_to_cpu_16(ip->total_length) < hlen + th ||
	    /* Header and payload are read into buf: both bounded (jumbo MTUs). */
	    (len = rte_be_to_cpu_16(ip->total_length) - hlen - th) > sizeof(buf) - th ||
	    l3_svc_iface_addr(s->ifid, c.own) != c.own || c.ip == 0 || c.port == 0 ||
	    rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, (uint16_t)(RTE_ETHER_HDR_LEN + hlen)) != 0 ||
	    (p = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN + hlen, th + len, buf)) == NULL) {
		s->c.malformed++;
		rte_pktmbuf_free(m);
		return;
	}
	if (p != buf)
		memcpy(buf, p, th + len);
	rte_pktmbuf_free(m);
	seq = rte_be_to_cpu_32(((const struct rte_tcp_hdr *)buf)->sent_seq);
	ack = rte_be_to_cpu_32(((const struct rte_tcp_hdr *)buf)->recv_ack);
	flags = ((const struct rte_tcp_hdr *)buf)->tcp_flags;
	t = conn_find(s, &c);
	if (flags & RTE_TCP_RST_FLAG) {
		if (t && seq == t->rcv_nxt)
			conn_free(s, t); /* the client gave up (in window only: RFC 5961) */
		return;
	}
	if (t) {
		established(s, t, flags, seq, ack, buf + th, len);
		return;
	}
	if ((flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG)
		accept_syn(s, &c, seq, buf + sizeof(*tcp), th - sizeof(*tcp));
	else
		stray_reset(s, &c, flags, seq, ack, len);
}

void dns_tcp_send(struct dns_srv *s, const struct dns_client *c, const uint8_t *p, size_t len)
{
	struct dns_tcp *t = c->tcp < (int32_t)s->n_tcp_slots ? &s->tcp[c->tcp] : NULL;
	uint8_t framed[2 + 1500]; /* answers are at most what a forwarder sends over UDP */
	size_t total = 2 + len;

	/* The connection gone (reset, timed out, its slot reused): the answer too. */
	if (t == NULL || t->gen != c->tcp_gen || t->state != DT_WAITING || len > sizeof(framed) - 2)
		return;
	framed[0] = (uint8_t)(len >> 8);
	framed[1] = (uint8_t)len;
	memcpy(framed + 2, p, len);
	for (size_t off = 0; off < total; off += t->mss) {
		size_t n = total - off < t->mss ? total - off : t->mss;
		uint8_t flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
		if (off + n == total)
			flags |= RTE_TCP_FIN_FLAG; /* one answer per connection: closed with it */
		conn_send(s, t, t->snd_nxt + (uint32_t)off, flags, framed + off, n, false);
	}
	t->snd_nxt += (uint32_t)total + 1;
	t->state = DT_CLOSING;
}

void dns_tcp_expire(struct dns_srv *s, uint64_t now)
{
	for (uint32_t i = 0; i < s->n_tcp_slots && s->n_tcp; i++) {
		struct dns_tcp *t = &s->tcp[i];
		if (t->state == DT_FREE || t->deadline > now)
			continue;
		s->c.tcp_timeouts++;
		conn_reset(s, t);
	}
}
