/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's packet work: RFC 1624 incremental checksums against full
 * recomputation for every TTL, each RFC 1812 5.2.2 check, martians, IP
 * options, fragmentation, ICMP errors and when they may be sent, next-hop
 * groups and the neighbour table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <rte_icmp.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ipv4.h"
#include "neigh.h"
#include "nexthop.h"
#include "rcu.h"
#include "l3_svc.h"
#include "router_datapath.h"
#include "unit_assert.h"
#include "unit_eal.h"

#define TEST_RAND_SEED 0x243f6a8885a308d3ull /* this file's own sequence */
#include "test_rand.h"

static struct rte_mempool *pool, *big;

static int setup(void **state)
{
	(void)state;
	if (unit_eal_init("router", 256, NULL) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	big = rte_pktmbuf_pool_create("big", 63, 0, 0, RTE_PKTMBUF_HEADROOM + 9216, 0);
	if (pool == NULL || big == NULL || dp_rcu_init(1) != 0)
		return -1;
	dp_tsc_hz = rte_get_tsc_hz();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_rcu_fini();
	rte_mempool_free(pool);
	rte_mempool_free(big);
	return unit_eal_cleanup();
}

/* A frame: Ethernet + IPv4 (options opt[olen]) + payload of plen bytes, checksum set. */
static struct rte_mbuf *frame(const uint8_t *opt, uint32_t olen, uint32_t plen, uint32_t pad)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(plen + pad > 1900 ? big : pool);
	uint32_t hlen = sizeof(struct rte_ipv4_hdr) + olen;
	uint8_t *p;
	struct rte_ipv4_hdr *ip;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + hlen + plen + pad));
	assert_non_null(p);
	memset(p, 0, RTE_ETHER_HDR_LEN);
	((struct rte_ether_hdr *)p)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = (uint8_t)(0x40 | hlen / 4),
		.total_length = rte_cpu_to_be_16((uint16_t)(hlen + plen)),
		.packet_id = RTE_BE16(0x1234),
		.time_to_live = 64,
		.next_proto_id = IPPROTO_UDP,
		.src_addr = RTE_BE32(0xc0a80a0a),
		.dst_addr = RTE_BE32(0xc0a8320a),
	};
	if (olen) /* without options opt is NULL: memcpy takes none, even for 0 bytes */
		memcpy(ip + 1, opt, olen);
	for (uint32_t i = 0; i < plen + pad; i++)
		p[RTE_ETHER_HDR_LEN + hlen + i] = (uint8_t)(i * 7 + 1);
	ip4_set_cksum(ip);
	return m;
}

/* The same frame in two segments, split at "at" (as a port with scatter receives jumbo frames). */
static struct rte_mbuf *split(struct rte_mbuf *m, uint32_t at)
{
	struct rte_mbuf *a = rte_pktmbuf_alloc(pool), *b = rte_pktmbuf_alloc(pool);

	assert_non_null(a);
	assert_non_null(b);
	memcpy(rte_pktmbuf_append(a, (uint16_t)at), rte_pktmbuf_mtod(m, void *), at);
	memcpy(rte_pktmbuf_append(b, (uint16_t)(m->pkt_len - at)),
	       rte_pktmbuf_mtod_offset(m, void *, at), m->pkt_len - at);
	assert_int_equal(rte_pktmbuf_chain(a, b), 0);
	rte_pktmbuf_free(m);
	return a;
}

/* The same frame in three segments: [0, a), [a, b), [b, end). */
static struct rte_mbuf *split3(struct rte_mbuf *m, uint32_t a, uint32_t b)
{
	const uint32_t cut[] = { 0, a, b, m->pkt_len };
	struct rte_mbuf *head = NULL;

	for (unsigned i = 0; i < 3; i++) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(pool);
		uint16_t len = (uint16_t)(cut[i + 1] - cut[i]);

		assert_non_null(s);
		memcpy(rte_pktmbuf_append(s, len), rte_pktmbuf_mtod_offset(m, void *, cut[i]), len);
		if (head == NULL)
			head = s;
		else
			assert_int_equal(rte_pktmbuf_chain(head, s), 0);
	}
	rte_pktmbuf_free(m);
	return head;
}

/* ---- checksums ---- */

static void test_ttl_decrement_matches_full_checksum(void **state)
{
	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct rte_ipv4_hdr ip = {
			.version_ihl = 0x45,
			.type_of_service = (uint8_t)rnd(),
			.total_length = (rte_be16_t)rnd(),
			.packet_id = (rte_be16_t)rnd(),
			.fragment_offset = (rte_be16_t)(rnd() & 0xff3f),
			.next_proto_id = (uint8_t)rnd(),
			.src_addr = rnd(),
			.dst_addr = rnd(),
		};
		/* Every TTL a packet can be forwarded with. */
		for (unsigned ttl = 2; ttl <= 255; ttl++) {
			struct rte_ipv4_hdr a;
			ip.time_to_live = (uint8_t)ttl;
			ip4_set_cksum(&ip);
			a = ip;
			l3_ttl_decrement(&a);
			assert_int_equal(a.time_to_live, ttl - 1);
			/* The header still sums to all ones: what receivers check. */
			assert_int_equal(rte_raw_cksum(&a, sizeof(a)), 0xffff);
			uint16_t got = a.hdr_checksum;
			ip4_set_cksum(&a);
			/* RFC 1624: eqn. 3 never yields -0 where a full sum gives +0 (or the
			 * reverse). */
			assert_int_equal(got, a.hdr_checksum);
		}
	}
}

static void test_header_checksum_check(void **state)
{
	(void)state;
	for (int i = 0; i < 100000; i++) {
		uint8_t h[60];
		uint32_t hlen = 20 + 4 * (rnd() % 11);
		for (uint32_t k = 0; k < hlen; k++)
			h[k] = (uint8_t)rnd();
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)h;
		ip->version_ihl = (uint8_t)(0x40 | hlen / 4);
		/* Half of them right, half off by one bit somewhere. */
		ip4_set_cksum(ip);
		if (i & 1)
			h[rnd() % hlen] ^= (uint8_t)(1u << (rnd() % 8));
		assert_int_equal(ip4_hdr_cksum_ok(ip, hlen), rte_raw_cksum(h, hlen) == 0xffff);
	}
}

static void test_csum_replace_any_field(void **state)
{
	(void)state;
	for (int i = 0; i < 100000; i++) {
		uint16_t w[10];
		for (int k = 0; k < 10; k++)
			w[k] = (uint16_t)rnd();
		w[5] = 0;
		w[5] = (uint16_t)~rte_raw_cksum(w, sizeof(w));
		int k = (int)(rnd() % 10);
		if (k == 5)
			continue;
		uint16_t old = rte_be_to_cpu_16(w[k]), neu = (uint16_t)rnd();
		w[k] = rte_cpu_to_be_16(neu);
		w[5] = rte_cpu_to_be_16(ip4_csum_replace(rte_be_to_cpu_16(w[5]), old, neu));
		assert_int_equal(rte_raw_cksum(w, sizeof(w)), 0xffff);
	}
}

/* ---- RFC 1812 5.2.2 ---- */

static enum l3_drop check(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	enum l3_drop d = l3_check_ipv4(m, &ip);

	rte_pktmbuf_free(m);
	return d;
}

static void test_rfc1812_header_checks(void **state)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;

	(void)state;
	/* Good, with Ethernet padding trimmed. */
	m = frame(NULL, 0, 6, 20);
	assert_int_equal(l3_check_ipv4(m, &ip), L3_DROP_NONE);
	assert_int_equal(m->pkt_len, RTE_ETHER_HDR_LEN + 26);
	rte_pktmbuf_free(m);
	/* Shorter than a header. */
	m = frame(NULL, 0, 0, 0);
	rte_pktmbuf_trim(m, 1);
	assert_int_equal(check(m), L3_DROP_IP_HEADER);
	/* Version. */
	m = frame(NULL, 0, 8, 0);
	ip4_hdr(m)->version_ihl = 0x65;
	ip4_set_cksum(ip4_hdr(m));
	assert_int_equal(check(m), L3_DROP_IP_HEADER);
	/* IHL below 5. */
	m = frame(NULL, 0, 8, 0);
	ip4_hdr(m)->version_ihl = 0x44;
	assert_int_equal(check(m), L3_DROP_IP_HEADER);
	/* IHL beyond the frame. */
	m = frame(NULL, 0, 8, 0);
	ip4_hdr(m)->version_ihl = 0x4f;
	assert_int_equal(check(m), L3_DROP_IP_HEADER);
	/* Total length below the header, and beyond the frame. */
	m = frame(NULL, 0, 8, 0);
	ip4_hdr(m)->total_length = RTE_BE16(19);
	ip4_set_cksum(ip4_hdr(m));
	assert_int_equal(check(m), L3_DROP_IP_HEADER);
	m = frame(NULL, 0, 8, 0);
	ip4_hdr(m)->total_length = RTE_BE16(29);
	ip4_set_cksum(ip4_hdr(m));
	assert_int_equal(check(m), L3_DROP_IP_HEADER);
	/* Checksum, with and without options. */
	m = frame(NULL, 0, 8, 0);
	ip4_hdr(m)->hdr_checksum ^= 1;
	assert_int_equal(check(m), L3_DROP_IP_CHECKSUM);
	static const uint8_t nops[4] = { 1, 1, 1, 0 };
	m = frame(nops, 4, 8, 0);
	assert_int_equal(check(m), L3_DROP_NONE);
	m = frame(nops, 4, 8, 0);
	((uint8_t *)(ip4_hdr(m) + 1))[1] = 7;
	assert_int_equal(check(m), L3_DROP_IP_CHECKSUM);
}

/*
 * Review 3.5: a scattered frame whose IP total length ends before its last
 * segment is cut to it whole (rte_pktmbuf_trim trims the last segment only),
 * the segments beyond returned to their pool.
 */
static void test_padding_trim_on_chained_mbufs(void **state)
{
	static const uint32_t at[] = { 1000, 114, 60, 100 };
	struct rte_ipv4_hdr *ip = NULL;

	(void)state;
	for (unsigned i = 0; i < RTE_DIM(at); i++) {
		/* IP total length 100 (frame 114), then 2900 bytes of trailer. */
		struct rte_mbuf *m = split3(frame(NULL, 0, 80, 2900), at[i], 1500);
		unsigned avail;

		avail = rte_mempool_avail_count(pool);
		assert_int_equal(l3_check_ipv4(m, &ip), L3_DROP_NONE);
		assert_int_equal(m->pkt_len, RTE_ETHER_HDR_LEN + 100);
		assert_int_equal(rte_pktmbuf_pkt_len(m), RTE_ETHER_HDR_LEN + 100);
		assert_int_equal(rte_mbuf_check(m, 1, NULL), 0);
		assert_int_equal(m->nb_segs, at[i] < RTE_ETHER_HDR_LEN + 100 ? 2 : 1);
		assert_true(rte_mempool_avail_count(pool) > avail);
		assert_int_equal(rte_be_to_cpu_16(ip->total_length), 100);
		rte_pktmbuf_free(m);
	}
}

static void test_martians(void **state)
{
	static const struct {
		uint32_t a;
		bool martian_src, bad_dst;
	} cases[] = {
		{ 0x00000000, true, true },   { 0x00010203, true, true },
		{ 0x7f000001, true, true },   { 0xe0000005, true, true },
		{ 0xefffffff, true, true },   { 0xffffffff, true, true },
		{ 0xf0000001, false, true },  { 0x0a000001, false, false },
		{ 0xc0a80a0a, false, false }, { 0x01000000, false, false },
		{ 0xdfffffff, false, false },
	};

	(void)state;
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		assert_int_equal(l3_martian_src(cases[i].a), cases[i].martian_src);
		assert_int_equal(l3_bad_dst(cases[i].a), cases[i].bad_dst);
	}
}

/* ---- options ---- */

static void test_options_record_route(void **state)
{
	/* NOP, RR with room for 2 (one filled), EOL. */
	uint8_t opt[12] = { 1, 7, 11, 8, 10, 0, 0, 1, 0, 0, 0, 0 };
	struct rte_mbuf *m = frame(opt, sizeof(opt), 8, 0);
	uint8_t *o = (uint8_t *)(ip4_hdr(m) + 1);
	uint32_t where = 0;

	(void)state;
	assert_int_equal(ip4_options_forward(ip4_hdr(m), 0xc0a83201, &where), IP4_OPT_OK);
	assert_int_equal(o[3], 12);
	assert_memory_equal(o + 8, "\xc0\xa8\x32\x01", 4);
	/* Full now: left alone. */
	assert_int_equal(ip4_options_forward(ip4_hdr(m), 0x0a000001, &where), IP4_OPT_OK);
	assert_int_equal(o[3], 12);
	assert_memory_equal(o + 8, "\xc0\xa8\x32\x01", 4);
	rte_pktmbuf_free(m);
}

static void test_options_malformed_and_source_route(void **state)
{
	static const struct {
		uint8_t opt[8];
		enum ip4_opt_result want;
		uint32_t where;
	} cases[] = {
		{ { 7, 1, 4, 0, 0, 0, 0, 0 }, IP4_OPT_MALFORMED, 21 },  /* length 1 */
		{ { 1, 7, 12, 4, 0, 0, 0, 0 }, IP4_OPT_MALFORMED, 22 }, /* longer than the header */
		{ { 7, 7, 3, 0, 0, 0, 0, 0 }, IP4_OPT_MALFORMED, 22 },  /* RR pointer below 4 */
		{ { 68, 8, 2, 0, 0, 0, 0, 0 }, IP4_OPT_MALFORMED, 22 }, /* timestamp pointer */
		{ { 0x83, 7, 4, 10, 0, 0, 1, 0 }, IP4_OPT_SOURCE_ROUTE, 21 }, /* LSRR */
		{ { 0x89, 7, 4, 10, 0, 0, 1, 0 }, IP4_OPT_SOURCE_ROUTE, 21 }, /* SSRR */
		{ { 68, 8, 5, 0, 0, 0, 0, 0 }, IP4_OPT_OK, 0 },   /* timestamp with room */
		{ { 0, 99, 99, 99, 0, 0, 0, 0 }, IP4_OPT_OK, 0 }, /* after EOL: not read */
		{ { 0x94, 4, 0, 0, 1, 1, 1, 1 }, IP4_OPT_OK, 0 }, /* router alert, NOPs */
	};

	(void)state;
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		struct rte_mbuf *m = frame(cases[i].opt, 8, 8, 0);
		uint32_t where = 0;
		assert_int_equal(ip4_options_forward(ip4_hdr(m), 1, &where), cases[i].want);
		if (cases[i].want == IP4_OPT_MALFORMED)
			assert_int_equal(where, cases[i].where);
		rte_pktmbuf_free(m);
	}
}

/* ---- fragmentation ---- */

static void test_fragment_and_reassemble(void **state)
{
	/* Router alert (copied), RR (not copied), padding: 16 bytes. */
	static const uint8_t opt[16] = { 0x94, 4, 0, 0, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	const uint32_t plen = 3001;

	(void)state;
	for (int round = 0; round < 3; round++) {
		bool as_fragment = round == 1;
		struct rte_mbuf *m = frame(opt, sizeof(opt), plen, 0), *f[16];
		uint8_t whole[4096] = { 0 };
		uint32_t covered = 0, base = as_fragment ? 100 : 0;
		int n;

		if (as_fragment) {
			/* A fragment itself (offset 800, more to come) fragments on. */
			ip4_hdr(m)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | 100);
			ip4_set_cksum(ip4_hdr(m));
		}
		if (round == 2)
			m = split(m, 1500);
		n = ip4_fragment(m, 1000, pool, f, 16);
		assert_int_equal(n, 4);
		for (int i = 0; i < n; i++) {
			struct rte_ipv4_hdr *ip = ip4_hdr(f[i]);
			uint32_t hlen = ip4_hlen(ip), tot = rte_be_to_cpu_16(ip->total_length);
			uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
			uint32_t off = (fo & RTE_IPV4_HDR_OFFSET_MASK) * 8u - base * 8;

			assert_true(tot <= 1000);
			assert_int_equal(f[i]->pkt_len, RTE_ETHER_HDR_LEN + tot);
			assert_int_equal(f[i]->nb_segs, 1);
			assert_int_equal(rte_raw_cksum(ip, hlen), 0xffff);
			assert_int_equal(ip->packet_id, RTE_BE16(0x1234));
			/* The first keeps every option; the others only the copied one. */
			assert_int_equal(hlen, i == 0 ? 36 : 24);
			assert_int_equal(((uint8_t *)(ip + 1))[0], 0x94);
			bool last = i == n - 1;
			assert_int_equal(!!(fo & RTE_IPV4_HDR_MF_FLAG), !last || as_fragment);
			if (!last)
				assert_int_equal((tot - hlen) % 8, 0);
			assert_int_equal(off, covered);
			memcpy(whole + off, (uint8_t *)ip + hlen, tot - hlen);
			covered += tot - hlen;
		}
		assert_int_equal(covered, plen);
		for (uint32_t i = 0; i < plen; i++)
			assert_int_equal(whole[i], (uint8_t)(i * 7 + 1));
		rte_pktmbuf_free_bulk(f, (unsigned)n);
		rte_pktmbuf_free(m);
	}
}

static void test_fragment_limits(void **state)
{
	struct rte_mbuf *m = frame(NULL, 0, 1000, 0), *f[4], *bad;

	(void)state;
	/* An MTU with no room for 8 bytes of data, or too many pieces. */
	assert_int_equal(ip4_fragment(m, 27, pool, f, 4), -EMSGSIZE);
	assert_int_equal(ip4_fragment(m, 100, pool, f, 4), -EMSGSIZE);
	assert_int_equal(ip4_fragment(m, 28, pool, f, 4), -EMSGSIZE);
	assert_int_equal(ip4_fragment(m, 600, pool, f, 4), 2);
	rte_pktmbuf_free_bulk(f, 2);
	rte_pktmbuf_free(m);
	/* A fragment whose offset plus data passes 65535 bytes: its pieces' offsets would not fit.
	 */
	bad = frame(NULL, 0, 1000, 0);
	ip4_hdr(bad)->fragment_offset = rte_cpu_to_be_16(8100);
	assert_int_equal(ip4_fragment(bad, 600, pool, f, 4), -EINVAL);
	rte_pktmbuf_free(bad);
}

/* ---- ICMP errors ---- */

static void test_icmp_error_format(void **state)
{
	struct rte_mbuf *m = frame(NULL, 0, 1400, 0), *e;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	uint32_t tot;

	(void)state;
	e = ip4_icmp_error(pool, m, 0xc0a80a01, 3, 4, 1400);
	assert_non_null(e);
	ip = ip4_hdr(e);
	tot = rte_be_to_cpu_16(ip->total_length);
	assert_int_equal(tot, 576);
	assert_int_equal(e->pkt_len, RTE_ETHER_HDR_LEN + 576);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	assert_int_equal(ip->src_addr, RTE_BE32(0xc0a80a01));
	assert_int_equal(ip->dst_addr, ip4_hdr(m)->src_addr);
	assert_int_equal(ip->next_proto_id, IPPROTO_ICMP);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	assert_int_equal(ic->icmp_type, 3);
	assert_int_equal(ic->icmp_code, 4);
	/* RFC 1191: the next-hop MTU in the low 16 bits of the second word. */
	assert_memory_equal(&ic->icmp_ident, "\x00\x00\x05\x78", 4);
	assert_int_equal(rte_raw_cksum(ic, tot - 20), 0xffff);
	/* The quote starts with the offending header. */
	assert_memory_equal(ic + 1, ip4_hdr(m), 548);
	rte_pktmbuf_free(e);
	rte_pktmbuf_free(m);
}

static void test_when_icmp_errors_may_be_sent(void **state)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;

	(void)state;
	m = frame(NULL, 0, 16, 0);
	assert_true(ip4_may_icmp_error(m));
	/* A non-initial fragment. */
	ip4_hdr(m)->fragment_offset = RTE_BE16(10);
	assert_false(ip4_may_icmp_error(m));
	ip4_hdr(m)->fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
	assert_true(ip4_may_icmp_error(m));
	ip4_hdr(m)->fragment_offset = 0;
	/* Link-layer broadcast or multicast. */
	memset(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes, 0xff, 6);
	assert_false(ip4_may_icmp_error(m));
	memset(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes, 0, 6);
	/* IP broadcast, multicast destination; sources that are no host. */
	ip = ip4_hdr(m);
	ip->dst_addr = RTE_BE32(0xffffffff);
	assert_false(ip4_may_icmp_error(m));
	ip->dst_addr = RTE_BE32(0xe0000001);
	assert_false(ip4_may_icmp_error(m));
	ip->dst_addr = RTE_BE32(0xc0a8320a);
	ip->src_addr = 0;
	assert_false(ip4_may_icmp_error(m));
	ip->src_addr = RTE_BE32(0x7f000001);
	assert_false(ip4_may_icmp_error(m));
	ip->src_addr = RTE_BE32(0xc0a80a0a);
	/* ICMP: errors never, queries yes. */
	ip->next_proto_id = IPPROTO_ICMP;
	uint8_t *icmp = (uint8_t *)(ip + 1);
	for (unsigned type = 0; type < 20; type++) {
		icmp[0] = (uint8_t)type;
		bool query = type == 0 || type == 8 || (type >= 13 && type <= 18);
		assert_int_equal(ip4_may_icmp_error(m), query);
	}
	rte_pktmbuf_free(m);
}

/* ---- next-hop groups ---- */

static void test_nexthop_groups_are_shared_and_reused_after_grace(void **state)
{
	struct nh_table t;
	struct nh_group a = { .type = NH_UNICAST, .n = 2, .path = { { 1, 10 }, { 2, 20 } } };
	struct nh_group b = a;
	uint32_t ia, ib, ic;

	(void)state;
	assert_int_equal(nh_init(&t, 0), 0);
	ia = nh_get(&t, &a);
	assert_int_not_equal(ia, 0);
	assert_int_equal(nh_get(&t, &a), ia); /* shared, counted */
	assert_int_equal(t.used, 1);
	b.origin = NH_ORIGIN_KERNEL; /* another origin is another group */
	ib = nh_get(&t, &b);
	assert_int_not_equal(ib, ia);
	assert_int_equal(nh_group(&t, ia)->path[1].gw, 20);
	nh_put(&t, ia);
	assert_int_equal(t.used, 2);
	nh_put(&t, ia);
	assert_int_equal(t.used, 1);
	/* Not reused before the grace period, even for an equal group. */
	ic = nh_get(&t, &a);
	assert_int_not_equal(ic, ia);
	nh_put(&t, ic);
	dp_rcu_synchronize();
	dp_rcu_reclaim();
	assert_int_equal(nh_get(&t, &a) == ia || nh_get(&t, &a) == ic, true);
	nh_fini(&t);
}

/*
 * Review 3.2 (second look): a group with no interface (blackhole, reject, into
 * a VRF) is each VRF's own, counted against the VRF that asked for it, never
 * against the first VRF that made one; a group with paths stays shared.
 */
static void test_nexthop_groups_without_interface_are_per_vrf(void **state)
{
	struct nh_table t;
	struct nh_group bh = { .type = NH_BLACKHOLE };
	struct nh_group to = { .type = NH_VRF, .target_vrf = 9 };
	uint32_t a, b;

	(void)state;
	assert_int_equal(nh_init(&t, 0), 0);
	a = nh_get_for(&t, &bh, 1);
	b = nh_get_for(&t, &bh, 2);
	assert_int_not_equal(a, 0);
	assert_int_not_equal(b, a);
	assert_int_equal(nh_get_for(&t, &bh, 2), b); /* shared within the VRF */
	assert_int_equal(nh_find_for(&t, &bh, 1), a);
	assert_int_equal(nh_find_for(&t, &bh, 3), 0);
	assert_int_not_equal(nh_get_for(&t, &to, 1), nh_get_for(&t, &to, 2));
	assert_int_equal(nh_owned(&t, 1), 2);
	assert_int_equal(nh_owned(&t, 2), 2);
	/* VRF 1's route goes: its count drops, whatever VRF 2 still holds. */
	nh_put(&t, a);
	assert_int_equal(nh_owned(&t, 1), 1);
	assert_int_equal(nh_owned(&t, 2), 2);
	assert_int_equal(nh_find_for(&t, &bh, 2), b);
	nh_fini(&t);
}

/* ---- neighbours ---- */

static void test_neigh_limits_and_held_packets(void **state)
{
	struct neigh_table n;
	struct rte_mbuf *out[NEIGH_MAX_QUEUE];
	struct neigh *e, *f;
	struct rte_ether_addr mac = { { 2, 0, 0, 0, 0, 1 } }, got;
	unsigned avail = rte_mempool_avail_count(pool);

	(void)state;
	assert_int_equal(neigh_init(&n, 1024, 0, 0), 0);
	e = neigh_create(&n, 7, 0x0a000001, 3, NEIGH_INCOMPLETE, 2, 1);
	assert_non_null(e);
	assert_null(neigh_find(&n, 8, 0x0a000001)); /* per VRF */
	assert_ptr_equal(neigh_find(&n, 7, 0x0a000001), e);
	assert_false(__atomic_load_n(&e->mac, __ATOMIC_RELAXED) & NEIGH_MAC_VALID);
	/* Age: a timer tick may carry a time taken before the packet that set the state. */
	neigh_set_mac(e, &mac, NEIGH_STALE, 1000);
	assert_int_equal(neigh_age(e, 1500), 500);
	assert_int_equal(neigh_age(e, 400), 0);
	f = neigh_create(&n, 7, 0x0a000002, 3, NEIGH_INCOMPLETE, 2, 1);
	assert_non_null(f);
	/* The VRF's limit. */
	assert_null(neigh_create(&n, 7, 0x0a000003, 3, NEIGH_INCOMPLETE, 2, 1));
	assert_int_equal(errno, ENOSPC);
	assert_non_null(neigh_create(&n, 9, 0x0a000003, 3, NEIGH_INCOMPLETE, 2, 1));
	/* Held packets: up to the neighbour's queue, and all together up to held_max. */
	for (int i = 0; i < 3; i++)
		assert_true(neigh_hold(&n, e, rte_pktmbuf_alloc(pool), 3));
	struct rte_mbuf *x = rte_pktmbuf_alloc(pool);
	assert_false(neigh_hold(&n, e, x, 3));
	n.held_max = 4;
	assert_true(neigh_hold(&n, f, x, 3));
	x = rte_pktmbuf_alloc(pool);
	assert_false(neigh_hold(&n, f, x, 3));
	rte_pktmbuf_free(x);
	assert_int_equal(neigh_unhold(&n, e, out), 3);
	assert_int_equal(n.held, 1);
	rte_pktmbuf_free_bulk(out, 3);
	/* Resolved: usable; failed: not, MAC kept. */
	neigh_set_mac(e, &mac, NEIGH_REACHABLE, 2);
	assert_true(__atomic_load_n(&e->mac, __ATOMIC_RELAXED) & NEIGH_MAC_VALID);
	neigh_mac(e, &got);
	assert_true(rte_is_same_ether_addr(&got, &mac));
	neigh_fail(e, 3);
	assert_false(__atomic_load_n(&e->mac, __ATOMIC_RELAXED) & NEIGH_MAC_VALID);
	/* Deleting frees what it held and its place in the VRF's count. */
	neigh_delete(&n, f);
	assert_int_equal(n.held, 0);
	assert_int_equal(n.per_vrf[7], 1);
	assert_null(neigh_find(&n, 7, 0x0a000002));
	neigh_fini(&n);
	/* Every mbuf came back. */
	assert_int_equal(rte_mempool_avail_count(pool), avail);
}

/*
 * Review 3.4: packets held for unresolved neighbours are a shared pool too:
 * one VRF holds at most held_vrf_max of them, and another VRF still holds.
 */
static void test_held_packets_per_vrf(void **state)
{
	struct neigh_table n;
	struct rte_mbuf *out[NEIGH_MAX_QUEUE], *x;
	struct neigh *e[3], *other;
	unsigned avail = rte_mempool_avail_count(pool);

	(void)state;
	assert_int_equal(neigh_init(&n, 1024, 0, 0), 0);
	assert_true(n.held_vrf_max > 0 && n.held_vrf_max < n.held_max);
	n.held_vrf_max = 4;
	for (uint32_t i = 0; i < 3; i++)
		assert_non_null(
			e[i] = neigh_create(&n, 7, 0x0a000001 + i, 3, NEIGH_INCOMPLETE, 100, 1));
	other = neigh_create(&n, 8, 0x0a000001, 3, NEIGH_INCOMPLETE, 100, 1);
	assert_non_null(other);
	for (uint32_t i = 0; i < 4; i++)
		assert_true(neigh_hold(&n, e[i % 3], rte_pktmbuf_alloc(pool), 3));
	x = rte_pktmbuf_alloc(pool);
	assert_false(neigh_hold(&n, e[2], x, 3)); /* VRF 7's share is used up */
	assert_true(neigh_hold(&n, other, x, 3)); /* VRF 8 still holds */
	/* Handing back or deleting frees the VRF's share. */
	assert_int_equal(neigh_unhold(&n, e[0], out), 2);
	rte_pktmbuf_free_bulk(out, 2);
	x = rte_pktmbuf_alloc(pool);
	assert_true(neigh_hold(&n, e[2], x, 3));
	neigh_delete(&n, e[1]);
	neigh_delete(&n, e[2]);
	neigh_delete(&n, other);
	assert_int_equal(n.held, 0);
	neigh_fini(&n);
	assert_int_equal(rte_mempool_avail_count(pool), avail);
}

/* ---- UDP services: unicast to the router ---- */

static void svc_test_input(struct rte_mbuf *m, uint16_t iface, uint16_t vrf)
{
	(void)iface;
	(void)vrf;
	rte_pktmbuf_free(m);
}

static struct l3_svc svc_test = {
	.name = "test", .port = 4000, .tcp_port = 4001, .input = svc_test_input
};

/* A UDP datagram to the router's address dst, port dport, on interface 1: its punt reason. */
static uint8_t local_l4(struct l3_ctx *x, uint32_t value, uint32_t dst, uint16_t dport,
			uint16_t frag, uint8_t proto)
{
	struct rte_mbuf *m = frame(NULL, 0, 8 + 32, 0), *out = NULL;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);
	struct l3_burst b;
	uint8_t reason;

	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->next_proto_id = proto;
	ip4_set_cksum(ip);
	uh->dst_port = rte_cpu_to_be_16(dport);
	l3_burst_init(&b);
	l3_forward(x, 1, x->t->iface[1].vrf, m, ip, value,
		   rte_get_tsc_cycles() + 10 * rte_get_tsc_hz(), &b);
	if (rte_ring_sc_dequeue(x->lw->punt, (void **)&out) != 0)
		return UINT8_MAX; /* dropped: over its budget */
	reason = l3_meta(out)->reason;
	rte_pktmbuf_free(out);
	return reason;
}

static uint8_t local_udp(struct l3_ctx *x, uint32_t value, uint32_t dst, uint16_t dport,
			 uint16_t frag)
{
	return local_l4(x, value, dst, dport, frag, IPPROTO_UDP);
}

/*
 * A unicast to a service's port at the address of the interface it came in
 * on (a DHCP renewal) is punted as the service's, in the VRF's service
 * budget (refusals counted as the service's rate_limited), not in its other
 * punts' budget; other local UDP, fragments, and another interface's
 * address stay local delivery.
 */
static void test_unicast_to_service_uses_service_budget(void **state)
{
	struct dp_worker *w = rte_zmalloc(NULL, sizeof(*w), RTE_CACHE_LINE_SIZE);
	struct l3_worker *lw = rte_zmalloc(NULL, sizeof(*lw), RTE_CACHE_LINE_SIZE);
	struct l3_tables *t = rte_zmalloc(NULL, sizeof(*t), RTE_CACHE_LINE_SIZE);
	struct nh_group mine = {
		.type = NH_LOCAL, .n = 1, .origin = NH_ORIGIN_LOCAL, .path = { { 1, 0 } }
	};
	struct nh_group other = mine;
	uint32_t g1, g2;
	struct l3_ctx x;

	(void)state;
	assert_non_null(w);
	assert_non_null(lw);
	assert_non_null(t);
	l3_svc_register(&svc_test);
	assert_int_equal(l3_meta_register(), 0);
	lw->vrfc = rte_zmalloc(NULL, sizeof(*lw->vrfc) * FIB_MAX_VRFS, 0);
	lw->ifc = rte_zmalloc(NULL, sizeof(*lw->ifc) * L3_MAX_IFACES, 0);
	lw->vrfh = rte_zmalloc(NULL, sizeof(*lw->vrfh) * FIB_MAX_VRFS, 0);
	lw->ifh = rte_zmalloc(NULL, sizeof(*lw->ifh) * L3_MAX_IFACES, 0);
	lw->punt_rl = rte_zmalloc(NULL, sizeof(*lw->punt_rl) * FIB_MAX_VRFS, 0);
	lw->svc_limited = rte_zmalloc(NULL, sizeof(*lw->svc_limited) * L3_MAX_IFACES, 0);
	lw->punt = rte_ring_create("svc_punt", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	w->drop_total = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops, 0);
	w->port_drop = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops * DP_MAX_PORTS, 0);
	assert_non_null(lw->vrfc);
	assert_non_null(lw->ifc);
	assert_non_null(lw->vrfh);
	assert_non_null(lw->ifh);
	assert_non_null(lw->punt_rl);
	assert_non_null(lw->svc_limited);
	assert_non_null(lw->punt);
	assert_non_null(w->drop_total);
	assert_non_null(w->port_drop);
	dp_tsc_hz = rte_get_tsc_hz();
	assert_int_equal(nh_init(&l3_nh, 0), 0);
	g1 = nh_get(&l3_nh, &mine);
	other.path[0].iface = 2;
	g2 = nh_get(&l3_nh, &other);
	assert_int_not_equal(g1, 0);
	assert_int_not_equal(g2, 0);
	t->iface[1] = (struct l3_iface){
		.on = true, .vrf = 3, .mtu = 1500, .svc = (uint8_t)(1u << svc_test.idx)
	};
	t->iface[2] = (struct l3_iface){ .on = true, .vrf = 3, .mtu = 1500 };
	x = (struct l3_ctx){ .w = w, .lw = lw, .t = t };
	/* One service punt a second (one token now), plenty of the others. */
	l3_vrf_punt[3].pps[L3_PC_SERVICE] = 1;
	l3_vrf_punt[3].pps[L3_PC_OTHER] = 1000;

	assert_int_equal(local_udp(&x, g1, 0x0a000001, 4000, 0), L3_PUNT_SERVICE);
	assert_int_equal(local_udp(&x, g1, 0x0a000001, 4000, 0), UINT8_MAX);
	assert_int_equal(lw->svc_limited[1][svc_test.idx], 1);
	assert_int_equal(lw->vrfc[3].drop[L3_DROP_PUNT_LIMIT], 1);
	/* The other budget is untouched by those: its burst is all there. */
	assert_int_equal(local_udp(&x, g1, 0x0a000001, 53, 0), L3_PUNT_LOCAL);
	assert_int_equal(lw->punt_rl[3][L3_PC_OTHER].tokens, 100 - 1);
	assert_int_equal(local_udp(&x, g1, 0x0a000001, 4000, 0x2000), L3_PUNT_LOCAL);
	assert_int_equal(local_udp(&x, g2, 0x0a000101, 4000, 0), L3_PUNT_LOCAL);
	assert_int_equal(lw->svc_limited[1][svc_test.idx], 1);
	/*
	 * Its TCP port is the service's too, in its budget (spent: refused and
	 * counted); TCP to its UDP port, or UDP to its TCP port, is local.
	 */
	assert_int_equal(local_l4(&x, g1, 0x0a000001, 4001, 0, IPPROTO_TCP), UINT8_MAX);
	assert_int_equal(lw->svc_limited[1][svc_test.idx], 2);
	assert_int_equal(local_l4(&x, g1, 0x0a000001, 4000, 0, IPPROTO_TCP), L3_PUNT_LOCAL);
	assert_int_equal(local_udp(&x, g1, 0x0a000001, 4001, 0), L3_PUNT_LOCAL);

	nh_put(&l3_nh, g1);
	nh_put(&l3_nh, g2);
	nh_fini(&l3_nh);
	memset(&l3_vrf_punt[3], 0, sizeof(l3_vrf_punt[3]));
	rte_ring_free(lw->punt);
	rte_free(lw->vrfc);
	rte_free(lw->ifc);
	rte_free(lw->vrfh);
	rte_free(lw->ifh);
	rte_free(lw->punt_rl);
	rte_free(lw->svc_limited);
	rte_free(lw);
	rte_free(t);
	rte_free(w->drop_total);
	rte_free(w->port_drop);
	rte_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_decrement_matches_full_checksum),
		cmocka_unit_test(test_header_checksum_check),
		cmocka_unit_test(test_csum_replace_any_field),
		cmocka_unit_test(test_rfc1812_header_checks),
		cmocka_unit_test(test_padding_trim_on_chained_mbufs),
		cmocka_unit_test(test_martians),
		cmocka_unit_test(test_options_record_route),
		cmocka_unit_test(test_options_malformed_and_source_route),
		cmocka_unit_test(test_fragment_and_reassemble),
		cmocka_unit_test(test_fragment_limits),
		cmocka_unit_test(test_icmp_error_format),
		cmocka_unit_test(test_when_icmp_errors_may_be_sent),
		cmocka_unit_test(test_nexthop_groups_are_shared_and_reused_after_grace),
		cmocka_unit_test(test_nexthop_groups_without_interface_are_per_vrf),
		cmocka_unit_test(test_neigh_limits_and_held_packets),
		cmocka_unit_test(test_held_packets_per_vrf),
		cmocka_unit_test(test_unicast_to_service_uses_service_budget),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
