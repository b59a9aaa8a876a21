/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT44's ICMP error translation: quoted packets parsed, rewrites against full recomputation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nat_icmp.h"

#define TEST_RAND_SEED 0x69636d7065727273ull /* this file's own sequence */
#include "test_rand.h"

/* An ICMP error: outer IP, ICMP header, quoted IP and L4 (ql4 bytes of a dl4-byte datagram). */
struct err {
	struct rte_ipv4_hdr ip;
	struct rte_icmp_hdr icmp;
	struct rte_ipv4_hdr in;
	uint8_t l4[64];
} __attribute__((packed));

#define ERR_HDRS (sizeof(struct rte_ipv4_hdr) * 2 + sizeof(struct rte_icmp_hdr))

static const uint8_t error_types[] = { NAT_ICMP_UNREACH, NAT_ICMP_TIME_EXCEEDED,
				       NAT_ICMP_PARAM_PROBLEM };

/* The quoted datagram of proto, whole (dl4 bytes of L4), its checksums right. */
static void quoted(struct err *p, uint8_t proto, uint16_t dl4, bool udp_csum)
{
	p->in.version_ihl = 0x45;
	p->in.total_length = rte_cpu_to_be_16((uint16_t)(20 + dl4));
	p->in.time_to_live = 1;
	p->in.next_proto_id = proto;
	p->in.packet_id = (uint16_t)rnd();
	p->in.src_addr = rnd();
	p->in.dst_addr = rnd();
	for (unsigned i = 0; i < sizeof(p->l4); i++)
		p->l4[i] = (uint8_t)rnd();
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)p->l4;
		t->data_off = 0x50;
		t->cksum = 0;
		t->cksum = rte_ipv4_udptcp_cksum(&p->in, t);
	} else if (proto == IPPROTO_UDP) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)p->l4;
		u->dgram_len = rte_cpu_to_be_16(dl4);
		u->dgram_cksum = 0;
		if (udp_csum)
			u->dgram_cksum = rte_ipv4_udptcp_cksum(&p->in, u);
	} else {
		struct rte_icmp_hdr *c = (struct rte_icmp_hdr *)p->l4;
		c->icmp_type = rnd() & 1 ? RTE_IP_ICMP_ECHO_REQUEST : RTE_IP_ICMP_ECHO_REPLY;
		c->icmp_code = 0;
		c->icmp_cksum = 0;
		c->icmp_cksum = (uint16_t)~rte_raw_cksum(c, dl4);
	}
	p->in.hdr_checksum = 0;
	p->in.hdr_checksum = rte_ipv4_cksum(&p->in);
}

/* The error about it, sent to the quoted packet's source; ql4 bytes of L4 quoted. */
static uint32_t make(struct err *p, uint8_t proto, uint16_t dl4, uint16_t ql4, bool udp_csum)
{
	uint32_t l4len = sizeof(struct rte_icmp_hdr) + 20 + ql4;

	memset(p, 0, sizeof(*p));
	quoted(p, proto, dl4, udp_csum);
	p->ip.version_ihl = 0x45;
	p->ip.total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
	p->ip.time_to_live = 64;
	p->ip.next_proto_id = IPPROTO_ICMP;
	p->ip.src_addr = rnd();
	p->ip.dst_addr = p->in.src_addr;
	p->icmp.icmp_type = error_types[rnd() % 3];
	p->icmp.icmp_code = (uint8_t)(rnd() % 5);
	p->icmp.icmp_ident = (uint16_t)rnd(); /* unused / next-hop MTU / pointer */
	p->icmp.icmp_seq_nb = (uint16_t)rnd();
	p->icmp.icmp_cksum = 0;
	p->icmp.icmp_cksum = (uint16_t)~rte_raw_cksum(&p->icmp, l4len);
	p->ip.hdr_checksum = 0;
	p->ip.hdr_checksum = rte_ipv4_cksum(&p->ip);
	return l4len;
}

/* What a session translates the quoted flow's reverse k to: its source kept or not. */
static struct conn_tuple random_to(const struct conn_tuple *k, bool keep_src)
{
	struct conn_tuple to = { .src = keep_src ? k->src : rnd(),
				 .dst = rnd(),
				 .sport = keep_src ? k->sport : (uint16_t)rnd(),
				 .dport = (uint16_t)rnd(),
				 .vrf = 11,
				 .proto = k->proto };
	if (k->proto == IPPROTO_ICMP)
		to.sport = to.dport;
	return to;
}

static void check_headers(struct err *p, uint32_t l4len)
{
	assert_int_equal(rte_ipv4_cksum(&p->ip), 0);
	assert_int_equal(rte_ipv4_cksum(&p->in), 0);
	assert_int_equal(rte_raw_cksum(&p->icmp, l4len), 0xffff);
}

/* Whole quoted datagrams: every checksum (outer IP, ICMP, quoted IP and L4) recomputed. */
static void test_rewrite_matches_recomputation(void **state)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };

	(void)state;
	for (int round = 0; round < 30000; round++) {
		uint8_t proto = protos[round % 3];
		uint16_t dl4 = proto == IPPROTO_TCP ? 40 : 24;
		bool keep_src = round / 3 % 2, udp_csum = round / 6 % 4 != 0;
		bool own = round / 24 % 2; /* the router's own error: its source stays */
		struct conn_tuple q = { 0 }, k, to;
		struct nat_icmp_err e = { 0 };
		uint32_t src, l4len;
		struct err p;

		l4len = make(&p, proto, dl4, dl4, udp_csum);
		src = p.ip.src_addr;
		assert_int_equal(nat_icmp_parse(&p.ip, l4len, 5, &q, &e), NAT_ICMP_OK);
		assert_int_equal(q.src, p.in.src_addr);
		assert_int_equal(q.vrf, 5);
		k = conn_tuple_reverse(&q);
		to = random_to(&k, keep_src);
		nat_icmp_rewrite(&e, &k, &to, own);
		check_headers(&p, l4len);
		assert_int_equal(p.ip.dst_addr, to.dst);
		assert_int_equal(p.ip.src_addr, keep_src || own ? src : to.src);
		assert_int_equal(p.in.src_addr, to.dst);
		assert_int_equal(p.in.dst_addr, to.src);
		if (proto == IPPROTO_ICMP) {
			struct rte_icmp_hdr *c = (struct rte_icmp_hdr *)p.l4;
			assert_int_equal(c->icmp_ident, to.sport);
			assert_int_equal(rte_raw_cksum(c, dl4), 0xffff);
			continue;
		}
		/* TCP's and UDP's ports are at the same place. */
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)p.l4;
		assert_int_equal(u->src_port, to.dport);
		assert_int_equal(u->dst_port, to.sport);
		if (proto == IPPROTO_TCP) {
			struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)p.l4;
			uint16_t got = t->cksum;
			t->cksum = 0;
			assert_int_equal(got, rte_ipv4_udptcp_cksum(&p.in, t));
		} else if (!udp_csum) {
			assert_int_equal(u->dgram_cksum, 0); /* "none" stays none */
		} else {
			uint16_t got = u->dgram_cksum;
			u->dgram_cksum = 0;
			assert_int_equal(got, rte_ipv4_udptcp_cksum(&p.in, u));
		}
	}
}

/* RFC 792's minimum: 8 bytes of TCP quoted (no checksum there); the rest stays right. */
static void test_truncated_tcp_quote(void **state)
{
	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct conn_tuple q = { 0 }, k, to;
		struct nat_icmp_err e = { 0 };
		struct err p;
		uint32_t l4len = make(&p, IPPROTO_TCP, 40, 8, true);
		uint8_t rest[56];

		memcpy(rest, p.l4 + 8, sizeof(rest));
		assert_int_equal(nat_icmp_parse(&p.ip, l4len, 5, &q, &e), NAT_ICMP_OK);
		assert_int_equal(e.il4len, 8);
		k = conn_tuple_reverse(&q);
		to = random_to(&k, round & 1);
		nat_icmp_rewrite(&e, &k, &to, false);
		check_headers(&p, l4len);
		assert_memory_equal(rest, p.l4 + 8,
				    sizeof(rest)); /* nothing written past the quote */
		assert_int_equal(((struct rte_tcp_hdr *)p.l4)->dst_port, to.sport);
	}
}

static void test_parse_refuses(void **state)
{
	struct conn_tuple q;
	struct nat_icmp_err e;
	struct err p;
	uint32_t l4len;

	(void)state;
	/* Not errors: echo, and a fragment (its ICMP header may be elsewhere). */
	l4len = make(&p, IPPROTO_UDP, 24, 24, true);
	p.icmp.icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_NOT_ERROR);
	l4len = make(&p, IPPROTO_UDP, 24, 24, true);
	p.ip.fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_NOT_ERROR);
	l4len = make(&p, IPPROTO_UDP, 24, 24, true);
	p.ip.next_proto_id = IPPROTO_UDP;
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_NOT_ERROR);
	/* Bad: truncated quotes. */
	l4len = make(&p, IPPROTO_UDP, 24, 24, true);
	assert_int_equal(nat_icmp_parse(&p.ip, 8 + 20 + 7, 1, &q, &e), NAT_ICMP_BAD);
	assert_int_equal(nat_icmp_parse(&p.ip, 8 + 19, 1, &q, &e), NAT_ICMP_BAD);
	/* Bad quoted headers: IHL, version, options beyond what is there. */
	p.in.version_ihl = 0x44;
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_BAD);
	p.in.version_ihl = 0x65;
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_BAD);
	p.in.version_ihl = 0x4f;
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_BAD);
	/* A quoted non-first fragment has no ports; a quoted first fragment has. */
	l4len = make(&p, IPPROTO_UDP, 24, 24, true);
	p.in.fragment_offset = rte_cpu_to_be_16(3);
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_BAD);
	p.in.fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_OK);
	/* An error about an error; another protocol. */
	l4len = make(&p, IPPROTO_ICMP, 24, 24, true);
	((struct rte_icmp_hdr *)p.l4)->icmp_type = NAT_ICMP_UNREACH;
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_BAD);
	l4len = make(&p, IPPROTO_UDP, 24, 24, true);
	p.in.next_proto_id = 47;
	assert_int_equal(nat_icmp_parse(&p.ip, l4len, 1, &q, &e), NAT_ICMP_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite_matches_recomputation),
		cmocka_unit_test(test_truncated_tcp_quote),
		cmocka_unit_test(test_parse_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
