/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's classification: config rules to their match and to
 * rte_acl rules field by field, packets to keys (IP options, fragments,
 * ICMP), first match through rte_acl_classify on a burst, and a 10,000-rule
 * context against a linear reference on random packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "fw_acl.h"
#include "unit_eal.h"

#define TEST_RAND_SEED 0x9e3779b97f4a7c15ull /* this file's own sequence */
#include "test_rand.h"

static struct rte_mempool *pool;

static int setup(void **state)
{
	(void)state;
	if (unit_eal_init("fw", 256, NULL) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("fwtest", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	return pool ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	return unit_eal_cleanup();
}

static struct tessd_fw_rule rule(uint8_t action, const char *proto)
{
	struct tessd_fw_rule r;

	memset(&r, 0, sizeof(r));
	r.action = action;
	strcpy(r.proto, proto);
	r.icmp_type = -1;
	r.icmp_code = -1;
	return r;
}

/* A frame: IPv4 (olen bytes of options) with an L4 header of proto, ports or type/code. */
static struct rte_mbuf *frame(uint32_t src, uint32_t dst, uint8_t proto, uint16_t a, uint16_t b,
			      uint32_t olen, uint16_t frag)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t hlen = sizeof(struct rte_ipv4_hdr) + olen, l4 = 20;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + hlen + l4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	uint8_t *l = (uint8_t *)ip + hlen;

	if (p == NULL)
		abort(); /* not fail(): the analyzer is to know it does not return */
	memset(p, 0, RTE_ETHER_HDR_LEN + hlen + l4);
	ip->version_ihl = (uint8_t)(0x40 | hlen / 4);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(hlen + l4));
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	if (proto == IPPROTO_ICMP) {
		l[0] = (uint8_t)a;
		l[1] = (uint8_t)b;
	} else {
		((rte_be16_t *)l)[0] = rte_cpu_to_be_16(a);
		((rte_be16_t *)l)[1] = rte_cpu_to_be_16(b);
	}
	return m;
}

static void test_match_and_acl_fields(void **state)
{
	struct tessd_fw_rule r = rule(TESS_FW_DROP, "tcp");
	struct tessd_fw_match m;
	struct fw_acl_rule a;

	(void)state;
	r.src = (struct cfg_prefix4){ 0x0a000000, 8 };
	r.dst = (struct cfg_prefix4){ 0xc0a80100, 24 };
	strcpy(r.sport, "1024-65535");
	strcpy(r.dport, "443");
	strcpy(r.vlan, "100-200");
	tessd_fw_match(&r, &m);
	fw_rule_to_acl(&m, 7, 2, 10, &a);
	assert_int_equal(a.field[FW_F_PROTO].value.u8, 6);
	assert_int_equal(a.field[FW_F_PROTO].mask_range.u8, 0xff);
	assert_int_equal(a.field[FW_F_SRC].value.u32, 0x0a000000);
	assert_int_equal(a.field[FW_F_SRC].mask_range.u32, 8);
	assert_int_equal(a.field[FW_F_DST].mask_range.u32, 24);
	assert_int_equal(a.field[FW_F_SPORT].value.u16, 1024);
	assert_int_equal(a.field[FW_F_SPORT].mask_range.u16, 65535);
	assert_int_equal(a.field[FW_F_DPORT].value.u16, 443);
	assert_int_equal(a.field[FW_F_DPORT].mask_range.u16, 443);
	assert_int_equal(a.field[FW_F_IFACE].value.u16, 7);
	assert_int_equal(a.field[FW_F_IFACE].mask_range.u16, 7);
	assert_int_equal(a.field[FW_F_VLAN].value.u16, 100);
	assert_int_equal(a.field[FW_F_VLAN].mask_range.u16, 200);
	assert_int_equal(a.data.userdata, 3);
	assert_int_equal(a.data.priority, 8); /* rule 2 of 10: below rules 0 and 1 */

	/* Any protocol, any interface: mask 0 and the whole range. */
	r = rule(TESS_FW_ACCEPT, "any");
	tessd_fw_match(&r, &m);
	fw_rule_to_acl(&m, 0, 0, 1, &a);
	assert_int_equal(a.field[FW_F_PROTO].mask_range.u8, 0);
	assert_int_equal(a.field[FW_F_SPORT].mask_range.u16, 65535);
	assert_int_equal(a.field[FW_F_IFACE].mask_range.u16, UINT16_MAX);
	assert_int_equal(a.field[FW_F_VLAN].mask_range.u16, 4095);

	/* ICMP: type and code where the ports are; a type alone takes every code. */
	r = rule(TESS_FW_DROP, "icmp");
	r.icmp_type = 8;
	tessd_fw_match(&r, &m);
	assert_int_equal(m.proto[0], 1);
	assert_int_equal(m.sport[0], 8);
	assert_int_equal(m.sport[1], 8);
	assert_int_equal(m.dport[0], 0);
	assert_int_equal(m.dport[1], 255);
	r = rule(TESS_FW_DROP, "47");
	tessd_fw_match(&r, &m);
	assert_int_equal(m.proto[0], 47);
	assert_int_equal(m.proto[1], 47);
}

static void test_keys(void **state)
{
	struct fw_key k;
	struct rte_mbuf *m;

	(void)state;
	/* Options move the L4 header; the key finds it. */
	m = frame(0x0a000001, 0x0a000002, IPPROTO_TCP, 1234, 80, 8, 0);
	fw_key_of(m, 3, 100, &k);
	assert_int_equal(k.proto, IPPROTO_TCP);
	assert_int_equal(rte_be_to_cpu_16(k.sport), 1234);
	assert_int_equal(rte_be_to_cpu_16(k.dport), 80);
	assert_int_equal(rte_be_to_cpu_16(k.iface), 3);
	assert_int_equal(rte_be_to_cpu_16(k.vlan), 100);
	assert_int_equal(rte_be_to_cpu_32(k.src), 0x0a000001);
	rte_pktmbuf_free(m);
	/* A later fragment has no ports: 0. The first one has. */
	m = frame(1, 2, IPPROTO_UDP, 53, 53, 0, 185);
	fw_key_of(m, 1, 0, &k);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
	rte_pktmbuf_free(m);
	m = frame(1, 2, IPPROTO_UDP, 53, 54, 0, RTE_IPV4_HDR_MF_FLAG);
	fw_key_of(m, 1, 0, &k);
	assert_int_equal(rte_be_to_cpu_16(k.dport), 54);
	rte_pktmbuf_free(m);
	/* ICMP: type and code, one byte each. */
	m = frame(1, 2, IPPROTO_ICMP, 3, 13, 0, 0);
	fw_key_of(m, 1, 0, &k);
	assert_int_equal(rte_be_to_cpu_16(k.sport), 3);
	assert_int_equal(rte_be_to_cpu_16(k.dport), 13);
	rte_pktmbuf_free(m);
}

/* Packets 3 and 5 come in by interface 2 (VLAN 300), the others by interface 1. */
static bool in2(uint32_t i)
{
	return i == 3 || i == 5;
}

/* Classifies the frames of a burst at once through a context of rules; results in res. */
static void classify(const struct tessd_fw_rule *rules, uint32_t n, const uint16_t *iface,
		     struct rte_mbuf **pkts, uint32_t np, uint32_t *res)
{
	struct fw_acl_rule *ar = calloc(n, sizeof(*ar));
	struct fw_key *keys = calloc(np, sizeof(*keys));
	const uint8_t **data = calloc(np, sizeof(*data));
	struct rte_acl_ctx *ctx;

	for (uint32_t i = 0; i < n; i++) {
		struct tessd_fw_match m;
		tessd_fw_match(&rules[i], &m);
		fw_rule_to_acl(&m, iface ? iface[i] : 0, i, n, &ar[i]);
	}
	ctx = fw_acl_build("fwtest", ar, n, SOCKET_ID_ANY);
	assert_non_null(ctx);
	for (uint32_t i = 0; i < np; i++) {
		fw_key_of(pkts[i], in2(i) ? 2 : 1, in2(i) ? 300 : 0, &keys[i]);
		data[i] = (const uint8_t *)&keys[i];
	}
	assert_int_equal(rte_acl_classify(ctx, data, res, np, 1), 0);
	rte_acl_free(ctx);
	free(ar);
	free(keys);
	free(data);
}

static void test_first_match_on_a_burst(void **state)
{
	struct tessd_fw_rule r[7];
	uint16_t ifc[7] = { 0 };
	struct rte_mbuf *p[8];
	uint32_t res[8];
	static const uint32_t want[8] = { 1, 2, 3, 4, 5, 6, 7, 0 };

	(void)state;
	r[0] = rule(TESS_FW_ACCEPT, "tcp");
	strcpy(r[0].dport, "80");
	r[1] = rule(TESS_FW_DROP, "tcp"); /* 80 too, but after rule 0 */
	strcpy(r[1].dport, "1-1000");
	r[2] = rule(TESS_FW_DROP, "icmp");
	r[2].icmp_type = 8;
	r[3] = rule(TESS_FW_DROP, "udp");
	strcpy(r[3].vlan, "300");
	r[4] = rule(TESS_FW_DROP, "any");
	r[4].src = (struct cfg_prefix4){ 0xac100000, 12 };
	r[5] = rule(TESS_FW_DROP, "any");
	ifc[5] = 2;
	r[6] = rule(TESS_FW_DROP, "udp");
	r[6].dst = (struct cfg_prefix4){ 0x0a0000ff, 32 };
	p[0] = frame(0x0a000001, 0x0a000002, IPPROTO_TCP, 999, 80, 0, 0);
	p[1] = frame(0x0a000001, 0x0a000002, IPPROTO_TCP, 999, 81, 0, 0);
	p[2] = frame(0x0a000001, 0x0a000002, IPPROTO_ICMP, 8, 0, 4, 0);
	p[3] = frame(0x0a000001, 0x0a000002, IPPROTO_UDP, 9, 9, 0, 0); /* VLAN 300 */
	p[4] = frame(0xac1f0001, 0x0a000002, IPPROTO_UDP, 9, 9, 0, 0); /* 172.31/12 */
	p[5] = frame(0x0a000001, 0x0a000002, IPPROTO_GRE, 0, 0, 0, 0); /* interface 2 */
	p[6] = frame(0x0a000001, 0x0a0000ff, IPPROTO_UDP, 9, 9, 0, 0);
	p[7] = frame(0x0a000001, 0x0a000002, IPPROTO_TCP, 999, 1001, 0, 0);
	classify(r, 7, ifc, p, 8, res);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(res[i], want[i]);
		rte_pktmbuf_free(p[i]);
	}
}

/* The first of rules (as ranges) that a key matches, + 1; 0: none. */
static uint32_t linear(const struct tessd_fw_match *m, uint32_t n, uint8_t proto, uint32_t src,
		       uint32_t dst, uint16_t dport)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t sm = m[i].src_len ? UINT32_MAX << (32 - m[i].src_len) : 0;
		uint32_t dm = m[i].dst_len ? UINT32_MAX << (32 - m[i].dst_len) : 0;
		if (proto >= m[i].proto[0] && proto <= m[i].proto[1] &&
		    ((src ^ m[i].src) & sm) == 0 && ((dst ^ m[i].dst) & dm) == 0 &&
		    dport >= m[i].dport[0] && dport <= m[i].dport[1])
			return i + 1;
	}
	return 0;
}

static void test_10k_rules_against_a_linear_scan(void **state)
{
	enum { N = 10000, P = 64 };
	struct tessd_fw_rule *r = calloc(N, sizeof(*r));
	struct tessd_fw_match *m = calloc(N, sizeof(*m));
	struct rte_mbuf *p[P];
	uint32_t res[P], hits = 0;

	(void)state;
	if (r == NULL || m == NULL)
		abort(); /* not fail(): the analyzer is to know it does not return */
	for (uint32_t i = 0; i < N; i++) {
		uint8_t len = (uint8_t)(16 + rnd() % 17);
		uint32_t lo = (uint32_t)(rnd() % 1000);
		r[i] = rule(i % 3 ? TESS_FW_DROP : TESS_FW_ACCEPT, i % 2 ? "tcp" : "udp");
		r[i].src.len = len;
		r[i].src.ip =
			(uint32_t)(0x0a000000 | (rnd() & 0xffff)) & (UINT32_MAX << (32 - len));
		snprintf(r[i].dport, sizeof(r[i].dport), "%u-%u", lo, lo + (uint32_t)(rnd() % 50));
		tessd_fw_match(&r[i], &m[i]);
	}
	for (uint32_t i = 0; i < P; i++) {
		/* Half the packets from a rule's own prefix, so that many match. */
		uint32_t src = i % 2 ? m[rnd() % N].src : (uint32_t)(0x0a000000 | (rnd() & 0xffff));
		uint16_t dport = (uint16_t)(rnd() % 1050);
		p[i] = frame(src, 0x0b000001, i % 4 < 2 ? IPPROTO_TCP : IPPROTO_UDP, 1, dport, 0,
			     0);
	}
	classify(r, N, NULL, p, P, res);
	for (uint32_t i = 0; i < P; i++) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
			p[i], const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)(ip + 1);
		uint32_t want =
			linear(m, N, ip->next_proto_id, rte_be_to_cpu_32(ip->src_addr),
			       rte_be_to_cpu_32(ip->dst_addr), rte_be_to_cpu_16(u->dst_port));
		assert_int_equal(res[i], want);
		hits += want != 0;
		rte_pktmbuf_free(p[i]);
	}
	assert_true(hits > P / 4); /* the comparison meant something */
	free(r);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_acl_fields),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_first_match_on_a_burst),
		cmocka_unit_test(test_10k_rules_against_a_linear_scan),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
