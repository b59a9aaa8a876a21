/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policers: config profiles made rte_meter ones (defaults, rate split over
 * workers), metering against rte_meter itself and against RFC 2697/2698 by
 * hand with a synthetic clock, colours from DSCP and DEI, the yellow
 * re-mark's checksum, and the config rules with their paths.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "policer_meter.h"
#include "tessd_config.h"
#include "unit_assert.h"
#include "unit_eal.h"

/* The largest frame of a port of MTU 1500: Ethernet header and two tags. */
#define FRAME 1522u

static struct rte_mempool *pool;
static uint64_t hz;

static int eal_setup(void **state)
{
	(void)state;
	if (unit_eal_init("policer", 64, NULL) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	hz = rte_get_tsc_hz();
	return pool ? 0 : -1;
}

static int eal_teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	return unit_eal_cleanup();
}

static struct tessd_policer_cfg srtcm(uint32_t kbps, uint32_t cbs, uint32_t ebs)
{
	return (struct tessd_policer_cfg){
		.type = TESS_POL_SRTCM, .cir_kbps = kbps, .cbs = cbs, .ebs = ebs, .yellow_dscp = -1
	};
}

static void test_profile_srtcm(void **state)
{
	struct tessd_policer_cfg c = srtcm(20000, 0, 3000);
	struct rte_meter_srtcm_profile want;
	struct rte_meter_srtcm_params p = { .cir = 2500000, .cbs = 250000, .ebs = 3000 };
	struct pol_profile got;

	(void)state;
	/* cbs 0: 100 ms of 20 Mbit/s = 250000 bytes. */
	assert_int_equal(pol_profile_make(&got, &c, 1, FRAME), 0);
	assert_int_equal(rte_meter_srtcm_profile_config(&want, &p), 0);
	assert_memory_equal(&got.sr, &want, sizeof(want));
	/* Over 4 workers: a quarter of the rate and of each burst on each, a frame at least. */
	p = (struct rte_meter_srtcm_params){ .cir = 625000, .cbs = 62500, .ebs = FRAME };
	assert_int_equal(pol_profile_make(&got, &c, 4, FRAME), 0);
	assert_int_equal(rte_meter_srtcm_profile_config(&want, &p), 0);
	assert_memory_equal(&got.sr, &want, sizeof(want));
	/* A slow rate's default burst is still a full frame, the largest a port takes. */
	c = srtcm(8, 0, 0);
	p = (struct rte_meter_srtcm_params){ .cir = 1000, .cbs = FRAME };
	assert_int_equal(pol_profile_make(&got, &c, 1, FRAME), 0);
	assert_int_equal(rte_meter_srtcm_profile_config(&want, &p), 0);
	assert_memory_equal(&got.sr, &want, sizeof(want));
}

static void test_profile_trtcm(void **state)
{
	struct tessd_policer_cfg c = { .type = TESS_POL_TRTCM,
				       .cir_kbps = 8000,
				       .pir_kbps = 16000,
				       .cbs = 5000,
				       .yellow_dscp = 10 };
	struct rte_meter_trtcm_params p = {
		.cir = 500000, .pir = 1000000, .cbs = 2500, .pbs = 100000
	};
	struct rte_meter_trtcm_profile want;
	struct pol_profile got;

	(void)state;
	assert_int_equal(pol_profile_make(&got, &c, 2, FRAME), 0);
	assert_int_equal(rte_meter_trtcm_profile_config(&want, &p), 0);
	assert_memory_equal(&got.tr, &want, sizeof(want));
	assert_int_equal(got.type, TESS_POL_TRTCM);
	assert_int_equal(got.yellow_dscp, 10);
}

/* RFC 2697 by hand: 1000 bytes/s, C and E of 1518; 1000-byte frames. */
static void test_srtcm_by_hand(void **state)
{
	struct tessd_policer_cfg c = srtcm(8, 1518, 1518);
	struct pol_profile p;
	struct pol_meter m = { 0 };
	uint64_t t = UINT64_C(1) << 40; /* any start: the synthetic clock */

	(void)state;
	assert_int_equal(pol_profile_make(&p, &c, 1, FRAME), 0);
	p.gen = 1;
	pol_meter_reset(&m, &p, t);
	assert_int_equal(m.gen, 1);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_GREEN);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_YELLOW);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_RED);
	/* A quarter second: 250 bytes into C (518 + 250 < 1000); a whole one: C holds a frame. */
	assert_int_equal(pol_meter_check(&m, &p, t + hz / 4, 1000, RTE_COLOR_GREEN), RTE_COLOR_RED);
	assert_int_equal(pol_meter_check(&m, &p, t + hz, 1000, RTE_COLOR_GREEN), RTE_COLOR_GREEN);
	/* Colour-aware: a yellow frame may only take E's tokens, never C's. */
	p.color = TESS_POL_DSCP;
	pol_meter_reset(&m, &p, t);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_YELLOW), RTE_COLOR_YELLOW);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_YELLOW), RTE_COLOR_RED);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_GREEN);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_RED), RTE_COLOR_RED);
}

/*
 * Bursts split over 2 workers still hold a full frame on each: cbs 1518 (or
 * the default of a slow rate) would leave 759 bytes, and every larger frame
 * red forever on every worker.
 */
static void test_split_holds_a_frame(void **state)
{
	const struct tessd_policer_cfg cs[] = {
		srtcm(8, 1518, 1518),
		srtcm(100, 0, 0),
		{ .type = TESS_POL_TRTCM, .cir_kbps = 8, .pir_kbps = 16, .cbs = 1518, .pbs = 1518 },
	};
	uint64_t t = UINT64_C(1) << 40;

	(void)state;
	for (unsigned i = 0; i < RTE_DIM(cs); i++) {
		struct pol_profile p;
		struct pol_meter m[2] = { 0 };

		assert_int_equal(pol_profile_make(&p, &cs[i], 2, FRAME), 0);
		p.gen = 1;
		for (unsigned w = 0; w < 2; w++) {
			pol_meter_reset(&m[w], &p, t);
			/* Full buckets: a full tagged frame is green on each worker. */
			assert_int_equal(pol_meter_check(&m[w], &p, t, FRAME, RTE_COLOR_GREEN),
					 RTE_COLOR_GREEN);
		}
	}
}

/*
 * One policer's traffic spread evenly over 2 workers, each offered 2.5 times
 * the whole rate for 4 s of a synthetic clock: what the two pass together
 * is the configured rate times the time plus the configured burst (green
 * for cir, green and yellow for trTCM's pir), within a frame per worker and
 * rte_meter's period rounding. rate/2 and burst/2 on each; a split that
 * forgot either is off by far more.
 */
static void check_split_rate(const struct tessd_policer_cfg *c, uint64_t rate, uint64_t burst,
			     bool with_yellow)
{
	const unsigned secs = 4, len = 1000;
	const uint64_t gap = hz / 2500; /* 2.5 MB/s of 1000-byte frames on each worker */
	struct pol_profile p;
	struct pol_meter m[2] = { 0 };
	uint64_t t0 = 987654321, passed = 0, want = rate * secs + burst;

	assert_int_equal(pol_profile_make(&p, c, 2, FRAME), 0);
	p.gen = 1;
	pol_meter_reset(&m[0], &p, t0);
	pol_meter_reset(&m[1], &p, t0);
	for (uint64_t t = t0; t < t0 + secs * hz; t += gap)
		for (unsigned w = 0; w < 2; w++) {
			enum rte_color col = pol_meter_check(&m[w], &p, t, len, RTE_COLOR_GREEN);

			if (col == RTE_COLOR_GREEN || (with_yellow && col == RTE_COLOR_YELLOW))
				passed += len;
		}
	if (passed + 2 * len + want / 200 < want || passed > want + want / 200) {
		fprintf(stderr, "passed %" PRIu64 " bytes in %u s, want %" PRIu64 "\n", passed,
			secs, want);
		fail();
	}
}

static void test_split_rate(void **state)
{
	struct tessd_policer_cfg sr = srtcm(8000, 40000, 0);
	struct tessd_policer_cfg tr = { .type = TESS_POL_TRTCM,
					.cir_kbps = 8000,
					.pir_kbps = 16000,
					.cbs = 40000,
					.pbs = 80000 };

	(void)state;
	check_split_rate(&sr, 1000000, 40000, false);
	check_split_rate(&tr, 1000000, 40000, false);
	check_split_rate(&tr, 2000000, 80000, true);
}

/*
 * RFC 2698 by hand: CIR 1000 bytes/s, PIR 2000, CBS 1518, PBS 3036;
 * 1000-byte frames. A frame over P's tokens is red, else over C's yellow
 * (taking P's only), else green (taking both).
 */
static void test_trtcm_by_hand(void **state)
{
	struct tessd_policer_cfg c = {
		.type = TESS_POL_TRTCM, .cir_kbps = 8, .pir_kbps = 16, .cbs = 1518, .pbs = 3036
	};
	struct pol_profile p;
	struct pol_meter m = { 0 };
	uint64_t t = UINT64_C(3) << 38;

	(void)state;
	assert_int_equal(pol_profile_make(&p, &c, 1, FRAME), 0);
	p.gen = 1;
	pol_meter_reset(&m, &p, t);
	/* P 3036 C 1518 -> P 2036 C 518 */
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_GREEN);
	/* C short: yellow, P 1036, then 36 */
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_YELLOW);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_YELLOW);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_RED);
	/* Half a second: P 36 + 1000, C 518 + 500: both hold a frame again. */
	assert_int_equal(pol_meter_check(&m, &p, t + hz / 2, 1000, RTE_COLOR_GREEN),
			 RTE_COLOR_GREEN);
	/* Colour-aware: a yellow frame never takes C's tokens, a red one is red. */
	p.color = TESS_POL_PCP;
	pol_meter_reset(&m, &p, t);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_RED), RTE_COLOR_RED);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_YELLOW), RTE_COLOR_YELLOW);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_GREEN);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_YELLOW);
	assert_int_equal(pol_meter_check(&m, &p, t, 1000, RTE_COLOR_GREEN), RTE_COLOR_RED);
}

static struct rte_mbuf *ipv4_frame(uint8_t tos, bool tagged, uint16_t tci)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	struct rte_ipv4_hdr *ip;
	uint32_t off = RTE_ETHER_HDR_LEN + (tagged ? RTE_VLAN_HLEN : 0);

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(off + sizeof(*ip) + 8));
	assert_non_null(p);
	memset(p, 0, m->data_len);
	if (tagged) {
		((struct rte_ether_hdr *)p)->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		((struct rte_vlan_hdr *)(p + RTE_ETHER_HDR_LEN))->vlan_tci = rte_cpu_to_be_16(tci);
		((struct rte_vlan_hdr *)(p + RTE_ETHER_HDR_LEN))->eth_proto =
			RTE_BE16(RTE_ETHER_TYPE_IPV4);
	} else {
		((struct rte_ether_hdr *)p)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	}
	ip = (struct rte_ipv4_hdr *)(p + off);
	ip->version_ihl = 0x45;
	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16(28);
	ip->time_to_live = 64;
	ip->next_proto_id = 17;
	ip->src_addr = RTE_BE32(0x0a000001);
	ip->dst_addr = RTE_BE32(0x0a000002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static void test_colours(void **state)
{
	static const struct {
		uint8_t dscp;
		enum rte_color c;
	} cases[] = {
		{ 10, RTE_COLOR_GREEN }, { 12, RTE_COLOR_YELLOW }, { 14, RTE_COLOR_RED },
		{ 18, RTE_COLOR_GREEN }, { 20, RTE_COLOR_YELLOW }, { 38, RTE_COLOR_RED },
		{ 46, RTE_COLOR_GREEN }, { 0, RTE_COLOR_GREEN },   { 48, RTE_COLOR_GREEN },
		{ 44, RTE_COLOR_GREEN }, /* class 5: no AF */
	};
	struct rte_mbuf *m;

	(void)state;
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		for (int tagged = 0; tagged < 2; tagged++) {
			m = ipv4_frame((uint8_t)(cases[i].dscp << 2 | 1), tagged, 5);
			assert_int_equal(pol_color_of(TESS_POL_DSCP, m), cases[i].c);
			assert_int_equal(pol_color_of(TESS_POL_BLIND, m), RTE_COLOR_GREEN);
			rte_pktmbuf_free(m);
		}
	}
	m = ipv4_frame(14 << 2, true, 0x1000 | 5); /* DEI set, AF13 */
	assert_int_equal(pol_color_of(TESS_POL_PCP, m), RTE_COLOR_YELLOW);
	rte_pktmbuf_free(m);
	m = ipv4_frame(0, true, 0xe005); /* PCP 7, no DEI */
	assert_int_equal(pol_color_of(TESS_POL_PCP, m), RTE_COLOR_GREEN);
	rte_pktmbuf_free(m);
	m = ipv4_frame(0, false, 0);
	assert_int_equal(pol_color_of(TESS_POL_PCP, m), RTE_COLOR_GREEN);
	m->data_len = 10; /* short: no header to read, green */
	assert_int_equal(pol_color_of(TESS_POL_DSCP, m), RTE_COLOR_GREEN);
	rte_pktmbuf_free(m);
}

/* Whether an IPv4 header's checksum is what it should be. */
static bool cksum_ok(struct rte_ipv4_hdr *ip)
{
	uint16_t had = ip->hdr_checksum, want;

	ip->hdr_checksum = 0;
	want = rte_ipv4_cksum(ip);
	ip->hdr_checksum = had;
	return want == had;
}

static void test_remark(void **state)
{
	for (int tagged = 0; tagged < 2; tagged++) {
		struct rte_mbuf *m = ipv4_frame(12 << 2 | 2, tagged, 7);
		struct rte_ipv4_hdr *ip = pol_ipv4(m);

		(void)state;
		assert_non_null(ip);
		assert_true(pol_remark(m, 0));
		assert_int_equal(ip->type_of_service, 2); /* DSCP 0, ECN kept */
		assert_true(cksum_ok(ip));
		assert_true(pol_remark(m, 46));
		assert_int_equal(ip->type_of_service, 46 << 2 | 2);
		assert_true(cksum_ok(ip));
		/* A shared frame (a flood's) is left alone. */
		rte_mbuf_refcnt_update(m, 1);
		assert_false(pol_remark(m, 0));
		rte_pktmbuf_free(m);
		rte_pktmbuf_free(m);
	}
}

static void expect_error(const char *json, const char *path, const char *msg)
{
	json_error_t je;
	json_t *doc = json_loads(json, 0, &je);
	struct tessd_cfg cfg;
	struct cfg_errs errs;
	bool found = false;

	assert_non_null(doc);
	cfg_errs_init(&errs);
	assert_int_equal(cfg_decode(&tessd_cfg_schema, doc, &cfg, NULL, &errs), 0);
	assert_int_equal(tessd_policers_validate(&cfg, &errs), -EINVAL);
	for (unsigned i = 0; i < errs.n && i < CFG_MAX_ERRS; i++)
		if (strcmp(errs.e[i].path, path) == 0 && strstr(errs.e[i].msg, msg))
			found = true;
	if (!found)
		cfg_errs_print(&errs, "got", stderr);
	assert_true(found);
	tessd_cfg_free(&cfg);
	json_decref(doc);
}

static void test_config_rules(void **state)
{
	(void)state;
	expect_error("{\"policers\": [{\"name\": \"a\", \"cir_kbps\": 100, \"cbs\": 100}]}",
		     "/policers/0/cbs", "full frame");
	expect_error("{\"policers\": [{\"name\": \"a\", \"cir_kbps\": 100, \"pir_kbps\": 200}]}",
		     "/policers/0/pir_kbps", "no peak rate");
	expect_error("{\"policers\": [{\"name\": \"a\", \"type\": \"trtcm\", \"cir_kbps\": 100, "
		     "\"pir_kbps\": 50}]}",
		     "/policers/0/pir_kbps", "below cir_kbps");
	expect_error("{\"policers\": [{\"name\": \"a\", \"type\": \"trtcm\", \"cir_kbps\": 100, "
		     "\"pir_kbps\": 100, \"ebs\": 3000}]}",
		     "/policers/0/ebs", "no excess burst");
	expect_error("{\"policers\": [{\"name\": \"a\", \"cir_kbps\": 100}, {\"name\": \"a\", "
		     "\"cir_kbps\": 100}]}",
		     "/policers/1/name", "duplicate");
	expect_error("{\"policers\": [{\"name\": \"a\", \"cir_kbps\": 100, \"ports\": [\"p\"], "
		     "\"direction\": \"both\"}, {\"name\": \"b\", \"cir_kbps\": 100, \"ports\": "
		     "[\"p\"], \"direction\": \"out\"}]}",
		     "/policers/1/ports/0", "already has policer 'a' out");
}

/* One tenant's objects hold at most TESS_POL_TENANT_METERS attachments; the provider's more. */
static void test_tenant_share(void **state)
{
	size_t cap = 64 * 1024, len = 0;
	char *j = malloc(cap);

	(void)state;
	assert_non_null(j);
	len += (size_t)snprintf(j + len, cap - len, "{\"switch\": {\"groups\": [");
	for (unsigned g = 0; g < 130; g++)
		len += (size_t)snprintf(j + len, cap - len,
					"%s{\"name\": \"g%u\", \"vlan\": %u, \"tenant\": \"t\"}",
					g ? ", " : "", g, g + 1);
	len += (size_t)snprintf(j + len, cap - len, "]}, \"policers\": [");
	/* Two policers on 64 groups each, both ways: 256, the share; one more is refused. */
	for (unsigned p = 0; p < 2; p++) {
		len += (size_t)snprintf(j + len, cap - len,
					"{\"name\": \"p%u\", \"cir_kbps\": 100, \"direction\": "
					"\"both\", \"groups\": [",
					p);
		for (unsigned g = 0; g < 64; g++)
			len += (size_t)snprintf(j + len, cap - len, "%s\"g%u\"", g ? ", " : "",
						p * 64 + g);
		len += (size_t)snprintf(j + len, cap - len, "]}, ");
	}
	snprintf(j + len, cap - len,
		 "{\"name\": \"p2\", \"cir_kbps\": 100, \"groups\": [\"g128\"]}]}");
	expect_error(j, "/policers/2/groups/0", "tenant 't' has 256 attachments");
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_srtcm),
		cmocka_unit_test(test_profile_trtcm),
		cmocka_unit_test(test_srtcm_by_hand),
		cmocka_unit_test(test_trtcm_by_hand),
		cmocka_unit_test(test_split_holds_a_frame),
		cmocka_unit_test(test_split_rate),
		cmocka_unit_test(test_colours),
		cmocka_unit_test(test_remark),
		cmocka_unit_test(test_config_rules),
		cmocka_unit_test(test_tenant_share),
	};

	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
