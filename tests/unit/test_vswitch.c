/* SPDX-License-Identifier: BSD-3-Clause */
/* VLAN parse/push/pop for every tag combination; FDB learn, move, limits, aging, flush. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "fdb.h"
#include "rcu.h"
#include "switch.h"
#include "switch_datapath.h"
#include "vlan.h"
#include "unit_assert.h"
#include "unit_eal.h"

static struct rte_mempool *pool;

static int eal_setup(void **state)
{
	static const char *const vdevs[] = { "--vdev=net_null0", "--vdev=net_null1",
					     "--vdev=net_null2", NULL };

	(void)state;
	if (unit_eal_init("vswitch", 128, vdevs) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL || dp_rcu_init(1) != 0)
		return -1;
	/* Three null ports to flood to: they free what they are given. */
	for (uint16_t p = 0; p < 3; p++) {
		struct rte_eth_conf conf = { 0 }; /* net_null frees what it sends, chains too */
		if (rte_eth_dev_configure(p, 1, 1, &conf) < 0 ||
		    rte_eth_rx_queue_setup(p, 0, 64, 0, NULL, pool) < 0 ||
		    rte_eth_tx_queue_setup(p, 0, 64, 0, NULL) < 0 || rte_eth_dev_start(p) < 0)
			return -1;
	}
	return 0;
}

static int eal_teardown(void **state)
{
	(void)state;
	dp_rcu_fini();
	for (uint16_t p = 0; p < 3; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_mempool_free(pool);
	return unit_eal_cleanup();
}

/* ---- VLAN ---- */

static const uint8_t DST[6] = { 0x02, 0, 0, 0, 0, 0xdd };
static const uint8_t SRC[6] = { 0x02, 0, 0, 0, 0, 0x55 };

/* A frame: MACs, then the given 16-bit words (tags and ethertype), then a payload. */
static struct rte_mbuf *frame(int nwords, ...)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	va_list ap;
	int len = 12 + 2 * nwords + 20;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, DST, 6);
	memcpy(p + 6, SRC, 6);
	va_start(ap, nwords);
	for (int i = 0; i < nwords; i++) {
		unsigned w = va_arg(ap, unsigned);
		p[12 + 2 * i] = (uint8_t)(w >> 8);
		p[13 + 2 * i] = (uint8_t)w;
	}
	va_end(ap);
	for (int k = 0; k < 20; k++)
		p[12 + 2 * nwords + k] = (uint8_t)(0xa0 + k);
	return m;
}

static void expect_words(struct rte_mbuf *m, int nwords, ...)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	va_list ap;

	assert_memory_equal(p, DST, 6);
	assert_memory_equal(p + 6, SRC, 6);
	va_start(ap, nwords);
	for (int i = 0; i < nwords; i++) {
		unsigned w = va_arg(ap, unsigned);
		assert_int_equal((p[12 + 2 * i] << 8) | p[13 + 2 * i], w);
	}
	va_end(ap);
	/* The payload is untouched and right after the words. */
	assert_int_equal(m->pkt_len, 12 + 2 * nwords + 20);
	for (int k = 0; k < 20; k++)
		assert_int_equal(p[12 + 2 * nwords + k], 0xa0 + k);
}

static void test_vlan_parse(void **state)
{
	struct vlan_tag t;
	struct rte_mbuf *m;

	(void)state;
	m = frame(1, 0x0800u); /* untagged IPv4 */
	assert_true(vlan_outer(m, &t));
	assert_false(t.present);
	rte_pktmbuf_free(m);

	m = frame(3, 0x8100u, 0xa064u, 0x0800u); /* 802.1Q PCP 5 VID 100 */
	assert_true(vlan_outer(m, &t));
	assert_true(t.present);
	assert_int_equal(t.tci & VLAN_VID_MASK, 100);
	assert_int_equal(t.tci >> 13, 5);
	rte_pktmbuf_free(m);

	m = frame(3, 0x88a8u, 0x00c8u, 0x0800u); /* 802.1ad VID 200 */
	assert_true(vlan_outer(m, &t));
	assert_true(t.present);
	assert_int_equal(t.tci & VLAN_VID_MASK, 200);
	rte_pktmbuf_free(m);

	m = frame(5, 0x88a8u, 0x00c8u, 0x8100u, 0x0064u, 0x0800u); /* QinQ: outer 200 */
	assert_true(vlan_outer(m, &t));
	assert_int_equal(t.tci & VLAN_VID_MASK, 200);
	rte_pktmbuf_free(m);

	m = frame(3, 0x8100u, 0x6000u, 0x0806u); /* priority tag: VID 0, PCP 3 */
	assert_true(vlan_outer(m, &t));
	assert_true(t.present);
	assert_int_equal(t.tci & VLAN_VID_MASK, 0);
	rte_pktmbuf_free(m);

	/* A TPID with no room for its tag is malformed. */
	m = rte_pktmbuf_alloc(pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 16);
	memset(p, 0, 16);
	p[12] = 0x81;
	p[13] = 0x00;
	assert_false(vlan_outer(m, &t));
	rte_pktmbuf_free(m);
}

static void test_vlan_pop_push_roundtrip(void **state)
{
	static const unsigned outer[] = { 0x8100u, 0x88a8u };
	struct vlan_tag t;

	(void)state;
	for (int o = 0; o < 2; o++) {
		/* One tag: pop leaves the untagged frame. */
		struct rte_mbuf *m = frame(3, outer[o], 0x0064u, 0x0800u);
		uint32_t len = m->pkt_len;
		vlan_pop(m);
		assert_int_equal(m->pkt_len, len - 4);
		expect_words(m, 1, 0x0800u);
		/* Push puts an 802.1Q tag back. */
		assert_true(vlan_push(m, 0x2064));
		assert_int_equal(m->pkt_len, len);
		expect_words(m, 3, 0x8100u, 0x2064u, 0x0800u);
		assert_true(vlan_outer(m, &t));
		assert_int_equal(t.tci, 0x2064);
		rte_pktmbuf_free(m);

		/* Two tags: pop removes only the outer one. */
		m = frame(5, outer[o], 0x00c8u, 0x8100u, 0x0064u, 0x86ddu);
		vlan_pop(m);
		expect_words(m, 3, 0x8100u, 0x0064u, 0x86ddu);
		/* Push on a tagged frame stacks a new outer tag. */
		assert_true(vlan_push(m, 300));
		expect_words(m, 5, 0x8100u, 300u, 0x8100u, 0x0064u, 0x86ddu);
		rte_pktmbuf_free(m);
	}
	/* Push onto an untagged ARP frame. */
	struct rte_mbuf *m = frame(1, 0x0806u);
	assert_true(vlan_push(m, 4094));
	expect_words(m, 3, 0x8100u, 4094u, 0x0806u);
	rte_pktmbuf_free(m);
}

static void test_vlan_push_refuses_shared_or_full(void **state)
{
	struct rte_mbuf *m = frame(1, 0x0800u);

	(void)state;
	rte_mbuf_refcnt_update(m, 1); /* shared: another port sends these bytes too */
	assert_false(vlan_push(m, 100));
	expect_words(m, 1, 0x0800u);
	rte_mbuf_refcnt_update(m, -1);
	rte_pktmbuf_prepend(m, (uint16_t)rte_pktmbuf_headroom(m)); /* no headroom left */
	rte_pktmbuf_adj(m, 0);
	assert_false(vlan_push(m, 100));
	rte_pktmbuf_free(m);
}

/* ---- FDB ---- */

static struct rte_ether_addr mac(unsigned n)
{
	struct rte_ether_addr a = { { 0x02, 0, 0, 0, (uint8_t)(n >> 8), (uint8_t)n } };
	return a;
}

static uint64_t key(uint16_t vlan, unsigned n)
{
	struct rte_ether_addr a = mac(n);
	return fdb_key(vlan, &a);
}

static void test_fdb_learn_refresh_move(void **state)
{
	struct fdb f;
	struct fdb_entry *e;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	assert_int_equal(fdb_learn(&f, key(100, 1), 3, 1000, 0, 0), FDB_LEARNED);
	e = fdb_find(&f, key(100, 1));
	assert_non_null(e);
	assert_int_equal(e->port, 3);
	assert_int_equal(fdb_entry_vlan(e), 100);
	assert_int_equal(fdb_entry_mac(e).addr_bytes[5], 1);
	/* The same MAC in another VLAN is another entry. */
	assert_null(fdb_find(&f, key(200, 1)));
	assert_int_equal(fdb_learn(&f, key(200, 1), 4, 1000, 0, 0), FDB_LEARNED);
	assert_int_equal(fdb_find(&f, key(200, 1))->port, 4);
	assert_int_equal(fdb_find(&f, key(100, 1))->port, 3);

	assert_int_equal(fdb_learn(&f, key(100, 1), 3, 2000, 0, 0), FDB_REFRESHED);
	assert_int_equal(e->seen, 2000);
	/* A move updates the entry in place, and the per-port counts. */
	assert_int_equal(fdb_learn(&f, key(100, 1), 5, 3000, 0, 0), FDB_MOVED);
	assert_ptr_equal(fdb_find(&f, key(100, 1)), e);
	assert_int_equal(e->port, 5);
	assert_int_equal(f.per_port[3], 0);
	assert_int_equal(f.per_port[5], 1);
	assert_int_equal(f.per_vlan[100], 1);
	assert_int_equal(f.stats.moved, 1);

	/* Datapath lookups see the same. */
	uint64_t k[3] = { key(100, 1), key(200, 1), key(100, 9) };
	struct fdb_entry *out[3];
	fdb_lookup_bulk(&f, k, 3, out);
	assert_ptr_equal(out[0], e);
	assert_int_equal(out[1]->port, 4);
	assert_null(out[2]);
	fdb_fini(&f);
}

static void test_fdb_limits(void **state)
{
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	/* Port limit 2. */
	assert_int_equal(fdb_learn(&f, key(100, 1), 1, 0, 2, 0), FDB_LEARNED);
	assert_int_equal(fdb_learn(&f, key(100, 2), 1, 0, 2, 0), FDB_LEARNED);
	assert_int_equal(fdb_learn(&f, key(100, 3), 1, 0, 2, 0), FDB_REFUSED_PORT_LIMIT);
	assert_null(fdb_find(&f, key(100, 3)));
	assert_int_equal(f.refused_port_count[1], 1);
	/* A refresh of a known MAC is never refused. */
	assert_int_equal(fdb_learn(&f, key(100, 2), 1, 5, 2, 0), FDB_REFRESHED);
	/* A move onto a full port is refused; the entry stays where it was. */
	assert_int_equal(fdb_learn(&f, key(100, 7), 2, 0, 0, 0), FDB_LEARNED);
	assert_int_equal(fdb_learn(&f, key(100, 7), 1, 0, 2, 0), FDB_REFUSED_PORT_LIMIT);
	assert_int_equal(fdb_find(&f, key(100, 7))->port, 2);
	/* Group (VLAN) limit 3: VLAN 100 already has 3. */
	assert_int_equal(fdb_learn(&f, key(100, 8), 4, 0, 0, 3), FDB_REFUSED_GROUP_LIMIT);
	assert_int_equal(fdb_learn(&f, key(200, 8), 4, 0, 0, 3), FDB_LEARNED);
	/* Static entries do not count against limits. */
	assert_int_equal(fdb_add_static(&f, key(100, 50), 1, 0), 0);
	assert_int_equal(f.per_port[1], 2);
	fdb_fini(&f);
}

/* A trunk's limit bounds each group's MACs on it: counted per group from when it is one. */
static void test_fdb_trunk_limit_per_group(void **state)
{
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	assert_int_equal(fdb_learn(&f, key(100, 1), 1, 0, 2, 0), FDB_LEARNED);
	assert_int_equal(fdb_learn(&f, key(100, 2), 1, 0, 2, 0), FDB_LEARNED);
	assert_int_equal(fdb_add_static(&f, key(200, 50), 1, 0), 0);
	/* Counted per port: group 200 finds the port full. */
	assert_int_equal(fdb_learn(&f, key(200, 1), 1, 0, 2, 0), FDB_REFUSED_PORT_LIMIT);
	assert_int_equal(fdb_port_per_group(&f, 1, true), 0);
	assert_int_equal(f.per_group[1][100], 2); /* the entries it had, not the static one */
	assert_int_equal(f.per_group[1][200], 0);
	assert_int_equal(fdb_learn(&f, key(100, 3), 1, 0, 2, 0), FDB_REFUSED_PORT_LIMIT);
	assert_int_equal(fdb_learn(&f, key(200, 1), 1, 0, 2, 0), FDB_LEARNED);
	assert_int_equal(fdb_learn(&f, key(200, 2), 1, 0, 2, 0), FDB_LEARNED);
	/* A move counts in the group it is in, off the port it left. */
	assert_int_equal(fdb_learn(&f, key(300, 1), 2, 0, 0, 0), FDB_LEARNED);
	assert_int_equal(fdb_learn(&f, key(300, 1), 1, 0, 2, 0), FDB_MOVED);
	assert_int_equal(f.per_group[1][300], 1);
	assert_int_equal(fdb_learn(&f, key(300, 1), 2, 0, 0, 0), FDB_MOVED);
	assert_int_equal(f.per_group[1][300], 0);
	/* Deleted and aged entries leave their group's count. */
	assert_int_equal(fdb_del(&f, key(100, 1)), 0);
	assert_int_equal(f.per_group[1][100], 1);
	assert_int_equal(fdb_learn(&f, key(100, 3), 1, 0, 2, 0), FDB_LEARNED);
	assert_int_equal(f.per_port[1], 4);
	/* No longer a trunk: the port's 4 entries count together again. */
	assert_int_equal(fdb_port_per_group(&f, 1, false), 0);
	assert_null(f.per_group[1]);
	assert_int_equal(fdb_learn(&f, key(400, 1), 1, 0, 4, 0), FDB_REFUSED_PORT_LIMIT);
	assert_int_equal(fdb_learn(&f, key(400, 1), 1, 0, 5, 0), FDB_LEARNED);
	assert_int_equal(fdb_port_per_group(&f, 1, true), 0);
	assert_int_equal(f.per_group[1][400], 1);
	fdb_fini(&f);
}

static void test_fdb_full(void **state)
{
	struct fdb f;
	unsigned learned = 0;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	for (unsigned i = 0; i < 1100; i++)
		if (fdb_learn(&f, key(1, i), 0, 0, 0, 0) == FDB_LEARNED)
			learned++;
	/* Extendable buckets: capacity is exact. */
	assert_int_equal(learned, 1024);
	assert_int_equal(f.stats.refused_full, 1100 - 1024);
	fdb_fini(&f);
}

static void test_fdb_static(void **state)
{
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	assert_int_equal(fdb_learn(&f, key(100, 1), 1, 0, 0, 0), FDB_LEARNED);
	/* A static entry replaces a learned one and pins the MAC to its port. */
	assert_int_equal(fdb_add_static(&f, key(100, 1), 2, 0), 0);
	assert_int_equal(fdb_find(&f, key(100, 1))->port, 2);
	assert_int_equal(fdb_learn(&f, key(100, 1), 3, 0, 0, 0), FDB_STATIC_CONFLICT);
	assert_int_equal(fdb_find(&f, key(100, 1))->port, 2);
	assert_true(fdb_find(&f, key(100, 1))->flags & FDB_F_STATIC);
	/* Never aged. */
	assert_int_equal(fdb_age(&f, UINT64_MAX, 10), 0);
	assert_int_equal(fdb_del(&f, key(100, 1)), 0);
	assert_int_equal(fdb_del(&f, key(100, 1)), -ENOENT);
	fdb_fini(&f);
}

/* A config without static MACs: nothing to sort or search (qsort and bsearch take no NULL
 * array, even an empty one: UBSan stops this test in the ASan build if they are given one). */
static void test_sync_without_static_macs(void **state)
{
	struct tessd_group_cfg g = { .vlan = 100, .mac_limit = 7 };
	struct tessd_cfg cfg = { .sw = { .fdb_size = 1024, .groups = &g, .n_groups = 1 } };

	(void)state;
	assert_int_equal(vsw_module.init(&cfg), 0);
	vsw_module.sync(NULL, &cfg);
	vsw_module.sync(&cfg, &cfg);
	assert_int_equal(vsw_fdb.t.n_live, 0);
	vsw_module.fini();
}

static void test_fdb_age_and_flush(void **state)
{
	struct fdb_filter all = { .port = -1, .vlan = -1, .dynamics = true };
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	for (unsigned i = 0; i < 10; i++)
		fdb_learn(&f, key(i < 5 ? 100 : 200, i), (uint16_t)(i % 2), 1000 + i, 0, 0);
	fdb_add_static(&f, key(100, 99), 1, 0);
	/* Entries seen before 1005 are older than 100 at t=1105. */
	assert_int_equal(fdb_age(&f, 1105, 100), 5);
	assert_null(fdb_find(&f, key(100, 0)));
	assert_non_null(fdb_find(&f, key(200, 5)));
	assert_int_equal(f.per_vlan[100], 0);
	/* Flush by port: of 5..9, port 1 has 5, 7 and 9. */
	struct fdb_filter by_port = all;
	by_port.port = 1;
	assert_int_equal(fdb_flush(&f, &by_port), 3);
	assert_non_null(fdb_find(&f, key(100, 99))); /* statics stay */
	struct fdb_filter by_vlan = all;
	by_vlan.vlan = 200;
	assert_int_equal(fdb_flush(&f, &by_vlan), 2);
	assert_int_equal(f.t.n_live, 1);
	by_vlan.vlan = 100;
	by_vlan.statics = true;
	assert_int_equal(fdb_flush(&f, &by_vlan), 1);
	assert_int_equal(f.t.n_live, 0);
	fdb_fini(&f);
}

/* Deleted entries are reused only after the grace period. */
static void test_fdb_reuse_after_grace(void **state)
{
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	dp_rcu_online(0);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(fdb_learn(&f, key(1, i), 0, 0, 0, 0), FDB_LEARNED);
	struct fdb_entry *old = fdb_find(&f, key(1, 5));
	assert_int_equal(fdb_del(&f, key(1, 5)), 0);
	/* A reader may still hold "old": nothing can take its place yet. */
	assert_int_equal(fdb_learn(&f, key(2, 5), 0, 0, 0, 0), FDB_REFUSED_FULL);
	assert_int_equal(old->port, 0);
	dp_rcu_quiescent(0);
	dp_rcu_reclaim();
	assert_int_equal(fdb_learn(&f, key(2, 5), 7, 0, 0, 0), FDB_LEARNED);
	assert_ptr_equal(fdb_find(&f, key(2, 5)), old);
	dp_rcu_offline(0);
	fdb_fini(&f);
}

/* Many rounds of learning and deleting: every live key stays findable, slots are reused. */
static void test_fdb_churn(void **state)
{
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	for (unsigned round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 500; i++)
			assert_int_equal(fdb_learn(&f, key(1, round * 1000 + i), 1, 0, 0, 0),
					 FDB_LEARNED);
		/* A key that stays throughout. */
		if (round == 0)
			assert_int_equal(fdb_learn(&f, key(2, 7), 3, 0, 0, 0), FDB_LEARNED);
		for (unsigned i = 0; i < 500; i++) {
			assert_non_null(fdb_find(&f, key(1, round * 1000 + i)));
			if (i % 2 == 0)
				assert_int_equal(fdb_del(&f, key(1, round * 1000 + i)), 0);
		}
		/* Nothing reads the table here: every deferred free is due. */
		dp_rcu_reclaim();
		for (unsigned i = 1; i < 500; i += 2)
			assert_int_equal(fdb_del(&f, key(1, round * 1000 + i)), 0);
		dp_rcu_reclaim();
		assert_non_null(fdb_find(&f, key(2, 7)));
		assert_int_equal(f.t.n_live, 1);
	}
	assert_int_equal(fdb_find(&f, key(2, 7))->port, 3);
	fdb_fini(&f);
}

static void test_fdb_static_evicts_when_full(void **state)
{
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(fdb_learn(&f, key(1, i), 0, 0, 0, 0), FDB_LEARNED);
	assert_int_equal(fdb_add_static(&f, key(9, 9), 4, 0), 0);
	assert_int_equal(fdb_find(&f, key(9, 9))->port, 4);
	assert_int_equal(f.t.n_live, 1024);
	fdb_fini(&f);
}

/* A learned MAC pinned while the table is full gives its own slot, once: its port's and
 * group's counts drop by one (they wrapped, refusing all learning there, when it was
 * removed twice). */
static void test_fdb_static_over_learned_when_full(void **state)
{
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	assert_int_equal(fdb_learn(&f, key(100, 1), 7, 0, 0, 0), FDB_LEARNED);
	for (unsigned i = 0; i < 1023; i++)
		assert_int_equal(fdb_learn(&f, key(1, i), 0, 0, 0, 0), FDB_LEARNED);
	assert_int_equal(f.per_port[7], 1);
	assert_int_equal(fdb_add_static(&f, key(100, 1), 7, 0), 0);
	assert_true(fdb_find(&f, key(100, 1))->flags & FDB_F_STATIC);
	assert_int_equal(f.per_port[7], 0);
	assert_int_equal(f.per_vlan[100], 0);
	assert_int_equal(f.per_port[0], 1023); /* no other learned entry made room */
	assert_int_equal(f.t.n_live, 1024);
	/* Port 7 and group 100 learn again, within limits of 1. */
	assert_int_equal(fdb_del(&f, key(1, 0)), 0);
	dp_rcu_synchronize();
	dp_rcu_reclaim();
	assert_int_equal(fdb_learn(&f, key(100, 2), 7, 0, 1, 1), FDB_LEARNED);
	fdb_fini(&f);
}

/* An entry touched after the aging scan read the clock is young, not 2^64 cycles old. */
static void test_fdb_age_touched_after_now(void **state)
{
	struct fdb f;

	(void)state;
	assert_int_equal(fdb_init(&f, 1024, 0), 0);
	assert_int_equal(fdb_learn(&f, key(1, 1), 0, 1000, 0, 0), FDB_LEARNED);
	fdb_touch(fdb_find(&f, key(1, 1)), 5000, 1);
	assert_int_equal(fdb_age(&f, 4000, 300), 0);
	assert_int_equal(fdb_age(&f, 5301, 300), 1);
	fdb_fini(&f);
}

/* A chained frame flooded to several ports: every segment is shared, freed exactly once. */
static void flood_chain(bool trunks)
{
	struct dp_worker *w = rte_zmalloc(NULL, sizeof(*w), RTE_CACHE_LINE_SIZE);
	struct dp_snapshot *s = rte_zmalloc(NULL, sizeof(*s), RTE_CACHE_LINE_SIZE);
	struct vsw_worker *vw = rte_zmalloc(NULL, sizeof(*vw), RTE_CACHE_LINE_SIZE);
	struct vsw_part *vp = rte_zmalloc(NULL, sizeof(*vp), RTE_CACHE_LINE_SIZE);
	unsigned before = rte_mempool_avail_count(pool);
	struct rte_mbuf *m = frame(1, 0x0800u), *seg = rte_pktmbuf_alloc(pool);
	struct vsw_ctx c;

	assert_non_null(w);
	assert_non_null(s);
	assert_non_null(vw);
	assert_non_null(vp);
	vw->grp = rte_zmalloc(NULL, sizeof(*vw->grp) * DP_VLANS, 0);
	assert_non_null(vw->grp);
	w->drop_total = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops, 0);
	w->port_drop = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops * DP_MAX_PORTS, 0);
	assert_non_null(w->drop_total);
	assert_non_null(w->port_drop);
	w->mod[vsw_module.id] = vw;
	s->part[vsw_module.id] = vp;
	dp_tsc_hz = rte_get_tsc_hz();
	/* Ports 1 and 2 are members besides the ingress port 0: access ports, or trunks. */
	vp->group[100].flags = VSW_GROUP_ON | VSW_GROUP_FLOOD_UU;
	for (uint16_t p = 0; p < 3; p++) {
		vp->port[p].mode = trunks && p ? VSW_PORT_TRUNK : VSW_PORT_ACCESS;
		s->port[p].mtu = 9000;
		vsw_group_add(&vp->group[100], trunks && p ? VSW_TRUNK : VSW_ACCESS, p);
	}
	assert_non_null(rte_pktmbuf_append(seg, 1000));
	assert_int_equal(rte_pktmbuf_chain(m, seg), 0);
	vsw_ctx_init(&c, w, s);
	vsw_flood(&c, 0, 100, 100, m);
	/* Two ports hold the frame: each of its segments has two references. */
	for (struct rte_mbuf *x = m; x; x = x->next)
		assert_int_equal(rte_mbuf_refcnt_read(x), 2);
	dp_tx_flush_all(w);
	assert_int_equal(w->port[1].tx_pkts + w->port[2].tx_pkts, 2);
	assert_int_equal(w->port[1].tx_bytes, trunks ? 1038 : 1034);
	/* Every mbuf back in the pool, none twice (a double free would make more). */
	assert_int_equal(rte_mempool_avail_count(pool), before);
	rte_free(vw->grp);
	rte_free(vw);
	rte_free(vp);
	rte_free(w->drop_total);
	rte_free(w->port_drop);
	rte_free(w);
	rte_free(s);
}

static void test_flood_chained_to_access_ports(void **state)
{
	(void)state;
	flood_chain(false);
}

static void test_flood_chained_to_trunks(void **state)
{
	(void)state;
	flood_chain(true);
}

/*
 * A worker polling many busy vhost ports (a group of desktops): every one gives
 * a burst per poll, each frame to another desktop, none of whose TX buffers
 * fills. What the buffers hold stays within the pool's per-worker reserve
 * (mempool.c), however many ports: the pool never runs dry. (A flood is not
 * the risk: its access ports share one mbuf.)
 */
static void test_tx_held_bounded_over_many_vhost_ports(void **state)
{
	enum { N = 600, PER = DP_BURST - 1 };
	struct dp_worker *w = rte_zmalloc(NULL, sizeof(*w), RTE_CACHE_LINE_SIZE);
	unsigned before = rte_mempool_avail_count(pool), most = 0;
	uint64_t dropped = 0;

	(void)state;
	assert_non_null(w);
	/* More than the pool holds if nothing left before the poll's end. */
	assert_true(N * PER > before);
	w->drop_total = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops, 0);
	w->port_drop = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops * DP_MAX_PORTS, 0);
	assert_non_null(w->drop_total);
	assert_non_null(w->port_drop);
	/* One poll: a burst from each port, as worker_datapath.c's input_burst ends it. */
	for (unsigned p = 0; p < N; p++) {
		for (unsigned i = 0; i < PER; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			assert_non_null(m); /* the pool did not run dry */
			assert_non_null(rte_pktmbuf_append(m, 60));
			/* Each port gets PER frames in the whole poll: its buffer never fills. */
			dp_tx(w, (uint16_t)(DP_MAX_ETHDEV + (p * PER + i) % N), m);
		}
		dp_tx_received(w, PER);
		if (before - rte_mempool_avail_count(pool) > most)
			most = before - rte_mempool_avail_count(pool);
	}
	dp_tx_flush_all(w);
	/* Within one worker's share of the reserve (mempool.c DP_WORKER_HOLD). */
	assert_true(most <= DP_TX_HOLD_MAX + DP_BURST);
	for (uint16_t p = DP_MAX_ETHDEV; p < DP_MAX_ETHDEV + N; p++)
		dropped += w->port_drop[p * dp_n_drops + DP_DROP_TX_FULL]; /* no guest there */
	assert_int_equal(dropped, (uint64_t)N * PER);
	assert_int_equal(rte_mempool_avail_count(pool), before);
	rte_free(w->drop_total);
	rte_free(w->port_drop);
	rte_free(w);
}

/* A worker, a snapshot with the vswitch's part, a routed burst and an FDB for vsw_input. */
struct vsw_fix {
	struct dp_worker *w;
	struct dp_snapshot *s;
	struct vsw_worker *vw;
	struct vsw_part *vp;
	struct dp_burst *r;
	struct vsw_ctx c;
};

static void fix_init(struct vsw_fix *f, const char *ring)
{
	f->w = rte_zmalloc(NULL, sizeof(*f->w), RTE_CACHE_LINE_SIZE);
	f->s = rte_zmalloc(NULL, sizeof(*f->s), RTE_CACHE_LINE_SIZE);
	f->vw = rte_zmalloc(NULL, sizeof(*f->vw), RTE_CACHE_LINE_SIZE);
	f->vp = rte_zmalloc(NULL, sizeof(*f->vp), RTE_CACHE_LINE_SIZE);
	f->r = rte_zmalloc(NULL, sizeof(*f->r), 0);
	assert_non_null(f->w);
	assert_non_null(f->s);
	assert_non_null(f->vw);
	assert_non_null(f->vp);
	assert_non_null(f->r);
	f->vw->grp = rte_zmalloc(NULL, sizeof(*f->vw->grp) * DP_VLANS, 0);
	f->vw->learn = rte_ring_create_elem(ring, sizeof(struct vsw_learn_event), 64, 0,
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
	f->w->drop_total = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops, 0);
	f->w->port_drop = rte_zmalloc(NULL, sizeof(uint64_t) * dp_n_drops * DP_MAX_PORTS, 0);
	assert_non_null(f->vw->grp);
	assert_non_null(f->vw->learn);
	assert_non_null(f->w->drop_total);
	assert_non_null(f->w->port_drop);
	assert_int_equal(fdb_init(&vsw_fdb, 1024, 0), 0);
	f->w->mod[vsw_module.id] = f->vw;
	f->s->part[vsw_module.id] = f->vp;
	dp_tsc_hz = rte_get_tsc_hz();
	vsw_ctx_init(&f->c, f->w, f->s);
}

static void fix_fini(struct vsw_fix *f)
{
	fdb_fini(&vsw_fdb);
	rte_ring_free(f->vw->learn);
	rte_free(f->vw->grp);
	rte_free(f->vw);
	rte_free(f->vp);
	rte_free(f->r);
	rte_free(f->w->drop_total);
	rte_free(f->w->port_drop);
	rte_free(f->w);
	rte_free(f->s);
}

/*
 * Port p holds no frame (tci < 0), or one: untagged (tci 0), or carrying an
 * 802.1Q tag of that TCI, with the frame's own words after it.
 */
static void expect_queued(const struct dp_worker *w, uint16_t p, int tci)
{
	if (tci < 0) {
		assert_int_equal(w->txb[p].n, 0);
		return;
	}
	assert_int_equal(w->txb[p].n, 1);
	if (tci == 0)
		expect_words(w->txb[p].pkts[0], 1, 0x0800u);
	else
		expect_words(w->txb[p].pkts[0], 3, 0x8100u, (unsigned)tci, 0x0800u);
}

/*
 * A group whose members are spread over the words of port ids, the first
 * and the last among them: a flood reaches every member but the ingress
 * port, the access ports and the native trunk untagged, the other trunks
 * tagged with the frame's TCI, and no other port.
 */
static void test_flood_members_across_words(void **state)
{
	static const uint16_t acc[] = { 1, 70, DP_MAX_PORTS - 1 }, trk[] = { 2, 640 };
	const uint16_t native = 130, in = 600, other = 3;
	const int tci = 0x2064; /* priority 1, VLAN 100 */
	unsigned before = rte_mempool_avail_count(pool);
	struct vsw_fix f;

	(void)state;
	fix_init(&f, "flood_words");
	f.vp->group[100].flags = VSW_GROUP_ON | VSW_GROUP_FLOOD_UU;
	for (unsigned i = 0; i < RTE_DIM(acc); i++)
		vsw_group_add(&f.vp->group[100], VSW_ACCESS, acc[i]);
	for (unsigned i = 0; i < RTE_DIM(trk); i++)
		vsw_group_add(&f.vp->group[100], VSW_TRUNK, trk[i]);
	vsw_group_add(&f.vp->group[100], VSW_TRUNK, native);
	vsw_group_add(&f.vp->group[100], VSW_NATIVE, native);
	vsw_group_add(&f.vp->group[100], VSW_ACCESS, in);
	vsw_group_add(&f.vp->group[200], VSW_ACCESS, other);
	for (uint16_t p = 0; p < DP_MAX_PORTS; p++)
		f.s->port[p].mtu = 1500;

	/* From a member (not flooded back to it), then from the router interface (NONE). */
	for (int from_router = 0; from_router < 2; from_router++) {
		vsw_flood(&f.c, from_router ? DP_PORT_NONE : in, 100, tci, frame(1, 0x0800u));
		for (unsigned i = 0; i < RTE_DIM(acc); i++)
			expect_queued(f.w, acc[i], 0);
		for (unsigned i = 0; i < RTE_DIM(trk); i++)
			expect_queued(f.w, trk[i], tci);
		expect_queued(f.w, native, 0);
		expect_queued(f.w, in, from_router ? 0 : -1);
		expect_queued(f.w, other, -1);
		assert_int_equal(f.vw->grp[100].tx_pkts, from_router ? 7 + 6 : 6);
		dp_tx_flush_all(f.w);
	}
	assert_int_equal(f.vw->grp[100].flooded, 2);
	assert_int_equal(f.w->port[in].flooded, 1);
	assert_int_equal(rte_mempool_avail_count(pool), before);
	fix_fini(&f);
}

/* An untagged broadcast IPv4 UDP frame from SRC to port dport; frag: the IPv4 fragment field. */
static struct rte_mbuf *bcast_udp(uint16_t dport, uint16_t frag)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 16);
	assert_non_null(p);
	memset(p, 0, 14 + 20 + 8 + 16);
	memset(p, 0xff, 6);
	memcpy(p + 6, SRC, 6);
	p[12] = 0x08;
	p[14] = 0x45;
	p[17] = 20 + 8 + 16;
	p[20] = (uint8_t)(frag >> 8);
	p[21] = (uint8_t)frag;
	p[22] = 64;
	p[23] = 17;
	memset(p + 30, 0xff, 4);
	p[35] = 68;
	p[36] = (uint8_t)(dport >> 8);
	p[37] = (uint8_t)dport;
	return m;
}

/*
 * Broadcast IPv4 in a group whose router interface has a service on UDP port
 * 67: only the datagrams to that port are copied to the router, not a
 * fragment nor another port's broadcast, and none that storm control drops
 * (counted by the pool: a copy is an allocation).
 */
static void test_irb_bcast_copies_service_port_only(void **state)
{
	const struct rte_ether_addr irb = { { 0x02, 0, 0, 0, 0, 0x11 } };
	struct rte_mbuf *in[6];
	uint64_t now = rte_get_tsc_cycles() + 10 * rte_get_tsc_hz();
	unsigned used;
	struct vsw_fix f;

	(void)state;
	fix_init(&f, "irb_learn");
	f.vp->group[100].flags = VSW_GROUP_ON;
	for (uint16_t p = 0; p < 2; p++) {
		f.vp->port[p].mode = VSW_PORT_ACCESS;
		f.vp->port[p].vlan = 100;
		f.s->port[p].mtu = 9000;
		vsw_group_add(&f.vp->group[100], VSW_ACCESS, p);
	}
	vsw_group_set_irb(f.s, 100, 7, &irb, (const uint16_t[]){ 67, 67 }, 2);
	assert_int_equal(f.vp->group[100].n_irb_udp, 1); /* the same port twice: kept once */

	/* DHCP, another port, a fragment of DHCP, DHCP again: two copies. */
	in[0] = bcast_udp(67, 0);
	in[1] = bcast_udp(137, 0);
	in[2] = bcast_udp(67, 0x2000);
	in[3] = bcast_udp(67, 0);
	used = rte_mempool_in_use_count(pool);
	vsw_input(&f.c, 0, 0, in, 4, now, f.r);
	assert_int_equal(f.r->n, 2);
	assert_int_equal(rte_mempool_in_use_count(pool), used + 2);
	for (uint16_t i = 0; i < f.r->n; i++) {
		assert_int_equal(f.r->arg[i], 7);
		rte_pktmbuf_free(f.r->pkts[i]);
	}
	f.r->n = 0;
	dp_tx_flush_all(f.w);

	/* Storm control lets one broadcast of the port through: the others are not copied. */
	f.vp->port[0].storm_pps = 1;
	for (unsigned i = 0; i < 4; i++)
		in[i] = bcast_udp(67, 0);
	used = rte_mempool_in_use_count(pool);
	vsw_input(&f.c, 0, 0, in, 4, now, f.r);
	assert_int_equal(f.vw->grp[100].drop[VSW_DROP_STORM], 3);
	assert_int_equal(f.r->n, 1);
	assert_int_equal(rte_mempool_in_use_count(pool), used - 3 + 1);
	rte_pktmbuf_free(f.r->pkts[0]);
	dp_tx_flush_all(f.w);
	fix_fini(&f);
}

/* A frame tagged vid from src to dst (IPv4 ethertype, 20 bytes of payload). */
static struct rte_mbuf *tagged(uint16_t vid, const uint8_t *dst, const uint8_t *src)
{
	struct rte_mbuf *m = frame(3, 0x8100u, (unsigned)vid, 0x0800u);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	return m;
}

/*
 * A trunk's learn rate is per group: one group's MACs over the rate leave the
 * others' learned. An access port's is the port's.
 */
static void test_trunk_learn_rate_per_group(void **state)
{
	uint64_t now = rte_get_tsc_cycles() + 10 * rte_get_tsc_hz();
	unsigned burst = VSW_LEARN_PPS / 10; /* what a bucket holds */
	struct vsw_fix f;

	(void)state;
	fix_init(&f, "learn_rate");
	rte_ring_free(f.vw->learn);
	f.vw->learn = rte_ring_create_elem("learn_rate_big", sizeof(struct vsw_learn_event), 2048,
					   0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(f.vw->learn);
	for (unsigned i = 0; i < burst + 100; i++)
		vsw_learn(f.vw, key(100, i + 1), 0, now, true, true);
	assert_int_equal(f.vw->learn_limited, 100);
	vsw_learn(f.vw, key(200, 1), 0, now, true, true);
	assert_int_equal(f.vw->learn_limited, 100);
	/* Port 3 is an access port: its bucket is the port's, whatever the key's VLAN. */
	for (unsigned i = 0; i < burst; i++)
		vsw_learn(f.vw, key(100, 1000 + i), 3, now, true, false);
	vsw_learn(f.vw, key(200, 1000), 3, now, true, false);
	assert_int_equal(f.vw->learn_limited, 101);
	assert_int_equal(rte_ring_count(f.vw->learn), burst + 1 + burst);
	fix_fini(&f);
}

/*
 * A burst from a trunk, each frame in its group: the source and destination
 * read before the tag is popped are the frame's (learned under the group's
 * key, forwarded to the destination's port), a multicast or zero source is
 * dropped as bad_src_mac in its group, and a group bit anywhere but the
 * first byte makes no address multicast.
 */
static void test_trunk_keys_and_bad_sources(void **state)
{
	static const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	static const uint8_t zero[6] = { 0 };
	static const uint8_t odd[6] = { 0x02, 0x01, 0x01, 0x01, 0x01, 0x01 };
	uint64_t now = rte_get_tsc_cycles() + 10 * rte_get_tsc_hz();
	unsigned before = rte_mempool_avail_count(pool);
	struct vsw_learn_event ev[8];
	struct rte_mbuf *in[6];
	struct rte_ether_addr a;
	struct vsw_fix f;
	unsigned n;

	(void)state;
	fix_init(&f, "trunk_learn");
	/* Trunk 0 carries groups 100 and 200; port 1 is 100's access port, port 2 is 200's. */
	f.vp->port[0].mode = VSW_PORT_TRUNK;
	dp_bit_set(f.vp->port[0].vlans, 100);
	dp_bit_set(f.vp->port[0].vlans, 200);
	for (uint16_t g = 100; g <= 200; g += 100) {
		uint16_t p = g / 100;
		f.vp->group[g].flags = VSW_GROUP_ON | VSW_GROUP_FLOOD_UU | VSW_GROUP_FLOOD_MC;
		f.vp->port[p].mode = VSW_PORT_ACCESS;
		f.vp->port[p].vlan = g;
		vsw_group_add(&f.vp->group[g], VSW_ACCESS, p);
		vsw_group_add(&f.vp->group[g], VSW_TRUNK, 0);
	}
	for (uint16_t p = 0; p < 3; p++)
		f.s->port[p].mtu = 9000;
	/* DST is known in group 100 only: on port 1. */
	memcpy(a.addr_bytes, DST, 6);
	assert_int_equal(fdb_add_static(&vsw_fdb, fdb_key(100, &a), 1, now), 0);

	in[0] = tagged(100, DST, SRC);   /* to port 1; SRC learned in 100 */
	in[1] = tagged(200, DST, mcast); /* bad source */
	in[2] = tagged(100, DST, zero);  /* bad source */
	in[3] = tagged(200, mcast, odd); /* multicast: flooded to port 2; odd learned in 200 */
	in[4] = tagged(200, DST, SRC);   /* DST unknown in 200: flooded to port 2 */
	in[5] = tagged(100, odd, SRC);   /* odd is unicast, unknown in 100: flooded to port 1 */
	vsw_input(&f.c, 0, 0, in, 6, now, f.r);
	dp_tx_flush_all(f.w);

	assert_int_equal(f.r->n, 0);
	assert_int_equal(f.vw->grp[100].drop[VSW_DROP_BAD_SRC_MAC], 1);
	assert_int_equal(f.vw->grp[200].drop[VSW_DROP_BAD_SRC_MAC], 1);
	assert_int_equal(f.w->port[1].tx_pkts, 2);
	assert_int_equal(f.w->port[2].tx_pkts, 2);
	assert_int_equal(f.vw->grp[100].flooded, 1);
	assert_int_equal(f.vw->grp[200].flooded, 2);
	/* Learned: SRC in 100 and in 200, odd in 200, each once (in order, on port 0). */
	n = rte_ring_dequeue_burst_elem(f.vw->learn, ev, sizeof(ev[0]), 8, NULL);
	assert_int_equal(n, 3);
	memcpy(a.addr_bytes, SRC, 6);
	assert_true(ev[0].key == fdb_key(100, &a) && ev[0].port == 0);
	memcpy(a.addr_bytes, odd, 6);
	assert_true(ev[1].key == fdb_key(200, &a) && ev[1].port == 0);
	memcpy(a.addr_bytes, SRC, 6);
	assert_true(ev[2].key == fdb_key(200, &a) && ev[2].port == 0);
	assert_int_equal(rte_mempool_avail_count(pool), before);
	fix_fini(&f);
}

/* A tenant's bucket that refuses must not spend the server's own token (and the reverse). */
static void test_bucket2_spends_neither_when_one_refuses(void **st)
{
	struct dp_storm own = { 0 }, vrf = { 0 };
	uint64_t now = 1000 * rte_get_tsc_hz();

	(void)st;
	dp_tsc_hz = rte_get_tsc_hz();
	own.last = vrf.last = now - dp_tsc_hz; /* a second since: both buckets full */
	assert_true(dp_bucket2_ok(&own, 1000, &vrf, 100, now)); /* bursts 100 and 16 */
	assert_int_equal(own.tokens, 99);
	assert_int_equal(vrf.tokens, 15);
	vrf.tokens = 0;
	for (int i = 0; i < 50; i++)
		assert_false(dp_bucket2_ok(&own, 1000, &vrf, 100, now));
	assert_int_equal(own.tokens, 99);
	own.tokens = 0;
	vrf.tokens = 5;
	assert_false(dp_bucket2_ok(&own, 1000, &vrf, 100, now));
	assert_int_equal(vrf.tokens, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vlan_parse),
		cmocka_unit_test(test_vlan_pop_push_roundtrip),
		cmocka_unit_test(test_vlan_push_refuses_shared_or_full),
		cmocka_unit_test(test_fdb_learn_refresh_move),
		cmocka_unit_test(test_fdb_limits),
		cmocka_unit_test(test_fdb_trunk_limit_per_group),
		cmocka_unit_test(test_fdb_full),
		cmocka_unit_test(test_fdb_static),
		cmocka_unit_test(test_fdb_static_over_learned_when_full),
		cmocka_unit_test(test_sync_without_static_macs),
		cmocka_unit_test(test_fdb_age_and_flush),
		cmocka_unit_test(test_fdb_reuse_after_grace),
		cmocka_unit_test(test_fdb_churn),
		cmocka_unit_test(test_fdb_static_evicts_when_full),
		cmocka_unit_test(test_fdb_age_touched_after_now),
		cmocka_unit_test(test_flood_chained_to_access_ports),
		cmocka_unit_test(test_flood_chained_to_trunks),
		cmocka_unit_test(test_flood_members_across_words),
		cmocka_unit_test(test_tx_held_bounded_over_many_vhost_ports),
		cmocka_unit_test(test_irb_bcast_copies_service_port_only),
		cmocka_unit_test(test_trunk_learn_rate_per_group),
		cmocka_unit_test(test_trunk_keys_and_bad_sources),
		cmocka_unit_test(test_bucket2_spends_neither_when_one_refuses),
	};
	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
