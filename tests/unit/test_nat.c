/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT44's translation: tuples read from packets, rewrites with incremental checksums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nat_xlate.h"

#define TEST_RAND_SEED 0x6e6174343433ull /* this file's own sequence */
#include "test_rand.h"

struct pkt {
	struct rte_ipv4_hdr ip;
	uint8_t l4[64];
} __attribute__((packed));

static void make(struct pkt *p, uint8_t proto, uint16_t l4len)
{
	memset(p, 0, sizeof(*p));
	p->ip.version_ihl = 0x45;
	p->ip.total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
	p->ip.time_to_live = 64;
	p->ip.next_proto_id = proto;
	p->ip.src_addr = (uint32_t)rnd();
	p->ip.dst_addr = (uint32_t)rnd();
	for (unsigned i = 0; i < sizeof(p->l4); i++)
		p->l4[i] = (uint8_t)rnd();
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)p->l4;
		t->data_off = 0x50;
		t->cksum = 0;
		t->cksum = rte_ipv4_udptcp_cksum(&p->ip, t);
	} else if (proto == IPPROTO_UDP) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)p->l4;
		u->dgram_len = rte_cpu_to_be_16(l4len);
		u->dgram_cksum = 0;
		u->dgram_cksum = rte_ipv4_udptcp_cksum(&p->ip, u);
	} else if (proto == IPPROTO_ICMP) {
		struct rte_icmp_hdr *c = (struct rte_icmp_hdr *)p->l4;
		c->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
		c->icmp_code = 0;
		c->icmp_cksum = 0;
		c->icmp_cksum = (uint16_t)~rte_raw_cksum(c, l4len);
	}
	p->ip.hdr_checksum = 0;
	p->ip.hdr_checksum = rte_ipv4_cksum(&p->ip);
}

static struct conn_tuple random_to(uint8_t proto)
{
	struct conn_tuple k = { .src = (uint32_t)rnd(),
				.dst = (uint32_t)rnd(),
				.sport = (uint16_t)rnd(),
				.dport = (uint16_t)rnd(),
				.vrf = 7,
				.proto = proto };
	if (proto == IPPROTO_ICMP)
		k.dport = k.sport;
	return k;
}

/* Every rewrite's checksums equal a full recomputation, for each protocol. */
static void test_checksums_match_recomputation(void **state)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint8_t proto = protos[round % 3];
		uint16_t l4len = proto == IPPROTO_TCP ? 40 : 24;
		struct pkt p;
		struct conn_tuple k, to = random_to(proto), back;
		struct nat_pkt np;

		make(&p, proto, l4len);
		assert_int_equal(nat_parse(&p.ip, l4len, 3, &k, &np), NAT_PARSE_OK);
		nat_rewrite(&np, &to);
		assert_int_equal(p.ip.src_addr, to.src);
		assert_int_equal(p.ip.dst_addr, to.dst);
		assert_int_equal(rte_ipv4_cksum(&p.ip), 0); /* over a header with its checksum */
		assert_int_equal(nat_parse(&p.ip, l4len, 7, &back, &np), NAT_PARSE_OK);
		assert_true(conn_tuple_eq(&back, &to));
		if (proto == IPPROTO_TCP) {
			struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)p.l4;
			uint16_t got = t->cksum;
			t->cksum = 0;
			assert_int_equal(got, rte_ipv4_udptcp_cksum(&p.ip, t));
		} else if (proto == IPPROTO_UDP) {
			struct rte_udp_hdr *u = (struct rte_udp_hdr *)p.l4;
			uint16_t got = u->dgram_cksum;
			u->dgram_cksum = 0;
			/* DPDK gives 0xffff for a sum of zero, as RFC 768 wants on the wire. */
			assert_int_equal(got, rte_ipv4_udptcp_cksum(&p.ip, u));
		} else {
			struct rte_icmp_hdr *c = (struct rte_icmp_hdr *)p.l4;
			assert_int_equal(rte_raw_cksum(c, l4len), 0xffff);
			assert_int_equal(c->icmp_ident, to.sport);
		}
	}
}

static void test_udp_without_checksum_stays_without(void **state)
{
	struct pkt p;
	struct conn_tuple k, to = random_to(IPPROTO_UDP);
	struct nat_pkt np;
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)p.l4;

	(void)state;
	make(&p, IPPROTO_UDP, 16);
	u->dgram_cksum = 0;
	assert_int_equal(nat_parse(&p.ip, 16, 1, &k, &np), NAT_PARSE_OK);
	nat_rewrite(&np, &to);
	assert_int_equal(u->dgram_cksum, 0);
	assert_int_equal(u->src_port, to.sport);
	assert_int_equal(u->dst_port, to.dport);
	assert_int_equal(rte_ipv4_cksum(&p.ip), 0); /* over a header with its checksum */
}

/* An update whose result sums to zero is sent as 0xffff, never as "no checksum". */
static void test_udp_checksum_never_becomes_zero(void **state)
{
	(void)state;
	for (int round = 0; round < 1000; round++) {
		struct pkt p;
		struct conn_tuple k, to = random_to(IPPROTO_UDP);
		struct nat_pkt np;
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)p.l4;
		uint16_t c, old, got;

		make(&p, IPPROTO_UDP, 16);
		nat_parse(&p.ip, 16, 1, &k, &np);
		nat_rewrite(&np, &to);
		/* The source port that makes the sum zero: ~c + ~old + new = 0xffff. */
		c = u->dgram_cksum;
		old = u->src_port;
		to.sport = (uint16_t)~nat_csum_fold((uint32_t)(uint16_t)~c + (uint16_t)~old);
		nat_rewrite(&np, &to);
		assert_int_equal(u->dgram_cksum, 0xffff);
		got = u->dgram_cksum;
		u->dgram_cksum = 0;
		assert_int_equal(got, rte_ipv4_udptcp_cksum(&p.ip, u));
	}
}

static void test_parse_refuses(void **state)
{
	struct pkt p;
	struct conn_tuple k;
	struct nat_pkt np;
	struct rte_icmp_hdr *c = (struct rte_icmp_hdr *)p.l4;

	(void)state;
	make(&p, IPPROTO_TCP, 40);
	assert_int_equal(nat_parse(&p.ip, 19, 1, &k, &np), NAT_PARSE_TRUNCATED);
	make(&p, IPPROTO_UDP, 16);
	assert_int_equal(nat_parse(&p.ip, 7, 1, &k, &np), NAT_PARSE_TRUNCATED);
	p.ip.fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG); /* a first fragment: ports */
	assert_int_equal(nat_parse(&p.ip, 16, 1, &k, &np), NAT_PARSE_OK);
	p.ip.fragment_offset = RTE_BE16(5);
	assert_int_equal(nat_parse(&p.ip, 16, 1, &k, &np), NAT_PARSE_UNSUPPORTED);
	make(&p, IPPROTO_ICMP, 24);
	c->icmp_type = 3 /* destination unreachable */;
	assert_int_equal(nat_parse(&p.ip, 24, 1, &k, &np), NAT_PARSE_UNSUPPORTED);
	c->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	assert_int_equal(nat_parse(&p.ip, 7, 1, &k, &np), NAT_PARSE_TRUNCATED);
	assert_int_equal(nat_parse(&p.ip, 8, 1, &k, &np), NAT_PARSE_OK);
	assert_int_equal(k.sport, c->icmp_ident);
	assert_int_equal(k.dport, c->icmp_ident);
	make(&p, 47, 24); /* GRE */
	assert_int_equal(nat_parse(&p.ip, 24, 1, &k, &np), NAT_PARSE_UNSUPPORTED);
	/* The tuple of a TCP packet, with its flags. */
	make(&p, IPPROTO_TCP, 40);
	((struct rte_tcp_hdr *)p.l4)->tcp_flags = 0x12;
	assert_int_equal(nat_parse(&p.ip, 40, 9, &k, &np), NAT_PARSE_OK);
	assert_int_equal(k.vrf, 9);
	assert_int_equal(k.src, p.ip.src_addr);
	assert_int_equal(k.sport, ((struct rte_tcp_hdr *)p.l4)->src_port);
	assert_int_equal(np.tcp_flags, 0x12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksums_match_recomputation),
		cmocka_unit_test(test_udp_without_checksum_stays_without),
		cmocka_unit_test(test_udp_checksum_never_becomes_zero),
		cmocka_unit_test(test_parse_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
