/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's lookups of a whole burst against the one-by-one path, on
 * random tables: the neighbours of l3_neigh_bulk (bursts mixing VRFs, next
 * hops, ECMP and non-unicast routes) are the entries neigh_find gives for
 * the key l3_forward_out computes; and the groups' neighbour hints, under
 * neighbours deleted, failed, re-resolved and their elements reused for
 * other keys, give what the hash gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_malloc.h>

#include "rcu.h"
#include "router_datapath.h"
#include "unit_dp.h"

#define TEST_RAND_SEED 0x6a09e667f3bcc908ull /* this file's own sequence */
#include "test_rand.h"

#define VRFS   40
#define IFACES 200
#define GROUPS 400
#define DSTS   64 /* destinations: few, so that connected next hops repeat */
#define BURSTS 3000

/* The neighbour key l3_forward_out looks up for a packet to dst by group id (one path). */
static uint64_t want_key(const struct l3_tables *t, uint32_t id, uint32_t dst)
{
	const struct nh_group *g = nh_group(&l3_nh, id);

	return neigh_key(t->iface[g->path[0].iface].vrf, g->path[0].gw ? g->path[0].gw : dst);
}

/* Interface counters for l3_neigh_bulk's prefetches. */
static struct l3_hot *counters(void)
{
	struct l3_hot *c = rte_zmalloc(NULL, sizeof(*c) * L3_MAX_IFACES, 0);

	assert_non_null(c);
	return c;
}

static void test_neigh_bulk_matches_one_by_one(void **state)
{
	struct l3_tables *t = calloc(1, sizeof(*t));
	struct rte_ipv4_hdr hdr[DP_BURST], *iph[DP_BURST];
	uint32_t ids[GROUPS], dsts[DSTS], gws[16], res[DP_BURST];
	struct l3_worker lw = { .ifh = counters() };
	struct l3_ctx x = { .t = t, .lw = &lw };
	struct l3_burst b;
	unsigned n_ids = 0, prefetched = 0, missing = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(nh_init(&l3_nh, 0), 0);
	assert_int_equal(neigh_init(&l3_neigh, 4096, NH_MAX_GROUPS, 0), 0);
	for (uint16_t i = 1; i <= IFACES; i++)
		t->iface[i] = (struct l3_iface){ .on = true, .vrf = (uint16_t)(1 + rnd() % VRFS) };
	for (unsigned k = 0; k < 16; k++)
		gws[k] = 0xc6336400 | (rnd() % 250 + 1);
	for (unsigned k = 0; k < DSTS; k++)
		dsts[k] = 0x0a000000 | (rnd() & 0xffffff);
	/* Groups: mostly one path (via a gateway or connected), some ECMP, some not unicast. */
	while (n_ids < GROUPS) {
		struct nh_group g = { .type = NH_UNICAST, .n = 1 };
		unsigned kind = rnd() % 10;

		if (kind == 0)
			g = (struct nh_group){ .type = (uint8_t)(NH_LOCAL + rnd() % 4),
					       .target_vrf = (uint16_t)(1 + rnd() % VRFS) };
		else if (kind == 1)
			g.n = 2;
		for (unsigned p = 0; g.type == NH_UNICAST && p < g.n; p++)
			g.path[p] = (struct nh_path){ .iface = (uint16_t)(1 + rnd() % IFACES),
						      .gw = rnd() % 3 ? gws[rnd() % 16] : 0 };
		ids[n_ids++] = nh_get_for(&l3_nh, &g, (uint16_t)(1 + rnd() % VRFS));
	}
	/* Neighbours for two thirds of what the groups can lead to. */
	for (uint16_t v = 1; v <= VRFS; v++) {
		for (unsigned k = 0; k < 16 + DSTS; k++) {
			uint32_t ip = k < 16 ? gws[k] : dsts[k - 16];
			if (rnd() % 3 && neigh_find(&l3_neigh, v, ip) == NULL)
				assert_non_null(neigh_create(&l3_neigh, v, ip, 1, NEIGH_INCOMPLETE,
							     1000, 1));
		}
	}
	for (unsigned r = 0; r < BURSTS; r++) {
		uint16_t n = (uint16_t)(1 + rnd() % DP_BURST);
		/* Some bursts one next hop throughout (one tenant), most all mixed. */
		bool same = r % 4 == 0;
		uint32_t id0 = ids[rnd() % n_ids], dst0 = dsts[rnd() % DSTS];

		for (uint16_t i = 0; i < n; i++) {
			res[i] = same ? id0 : rnd() % 20 ? ids[rnd() % n_ids] : FIB_NO_ROUTE;
			hdr[i].dst_addr = rte_cpu_to_be_32(same ? dst0 : dsts[rnd() % DSTS]);
			iph[i] = &hdr[i];
		}
		memset(&b, 0, sizeof(b)); /* pre_ne too: the analyzer checks what the test reads */
		l3_burst_init(&b);
		l3_neigh_bulk(&x, iph, res, n, &b);
		for (uint16_t i = 0; i < n; i++) {
			const struct nh_group *g = nh_group(&l3_nh, res[i]);
			uint64_t key;

			if (res[i] == FIB_NO_ROUTE || g->type != NH_UNICAST || g->n != 1) {
				/* Left to the one-by-one lookup. */
				assert_true(b.pre_key[i] == UINT64_MAX);
				continue;
			}
			key = want_key(t, res[i], rte_be_to_cpu_32(hdr[i].dst_addr));
			assert_true(b.pre_key[i] == key);
			assert_ptr_equal(b.pre_ne[i], neigh_find(&l3_neigh, (uint16_t)(key >> 32),
								 (uint32_t)key));
			prefetched++;
			missing += b.pre_ne[i] == NULL;
		}
	}
	/* Both kinds of answer were seen, many times. */
	assert_true(prefetched > 10000 && missing > 1000 && prefetched - missing > 1000);
	neigh_fini(&l3_neigh);
	nh_fini(&l3_nh);
	rte_free(lw.ifh);
	free(t);
}

/* The MAC forwarding would use with entry e (what l3_forward_out reads), 0: none (punted). */
static uint64_t usable(const struct neigh *e)
{
	uint64_t mac = e ? e->mac : 0;

	return mac & NEIGH_MAC_VALID ? mac : 0;
}

#define HINT_GWS    24
#define HINT_ROUNDS 20000

/*
 * Groups via gateways, their neighbours changing between bursts: each
 * packet's entry gives the MAC the hash's entry gives (none included),
 * whatever the group's hint last pointed at.
 */
static void test_neigh_hints_follow_changes(void **state)
{
	struct l3_tables *t = calloc(1, sizeof(*t));
	struct l3_worker lw = { .ifh = counters() };
	struct l3_ctx x = { .t = t, .lw = &lw };
	struct rte_ipv4_hdr hdr[DP_BURST], *iph[DP_BURST];
	uint32_t ids[GROUPS], gws[HINT_GWS], res[DP_BURST];
	unsigned hinted = 0, checked = 0, none = 0, reused = 0;
	struct l3_burst b;

	(void)state;
	assert_non_null(t);
	assert_int_equal(nh_init(&l3_nh, 0), 0);
	assert_int_equal(neigh_init(&l3_neigh, 256, NH_MAX_GROUPS, 0), 0);
	for (uint16_t i = 1; i <= IFACES; i++)
		t->iface[i] = (struct l3_iface){ .on = true, .vrf = (uint16_t)(1 + i % 4) };
	for (unsigned k = 0; k < HINT_GWS; k++)
		gws[k] = 0xc6336400 | (k + 1);
	for (unsigned k = 0; k < GROUPS; k++) {
		struct nh_group g = { .type = NH_UNICAST, .n = 1 };
		g.path[0] = (struct nh_path){ .iface = (uint16_t)(1 + rnd() % IFACES),
					      .gw = gws[rnd() % HINT_GWS] };
		ids[k] = nh_get_for(&l3_nh, &g, 1);
	}
	for (unsigned r = 0; r < HINT_ROUNDS; r++) {
		uint16_t n = (uint16_t)(1 + rnd() % DP_BURST), vrf = (uint16_t)(1 + rnd() % 4);
		uint32_t ip = gws[rnd() % HINT_GWS];
		struct neigh *e = neigh_find(&l3_neigh, vrf, ip);
		struct rte_ether_addr mac = { { 0x02, 0, 0, 0, (uint8_t)r, (uint8_t)(r >> 8) } };

		/* One change to one neighbour, then the grace period (elements reused at once). */
		switch (rnd() % 4) {
		case 0:
			if (e)
				neigh_delete(&l3_neigh, e);
			break;
		case 1:
			if (e == NULL) {
				reused += l3_neigh.t.n_free < l3_neigh.t.cap;
				e = neigh_create(&l3_neigh, vrf, ip, 1, NEIGH_INCOMPLETE, 0, r);
			}
			if (e && rnd() % 4)
				neigh_set_mac(e, &mac, NEIGH_REACHABLE, r);
			break;
		case 2:
			if (e)
				neigh_fail(e, r);
			break;
		default:
			break;
		}
		dp_rcu_reclaim();
		for (uint16_t i = 0; i < n; i++) {
			res[i] = ids[rnd() % GROUPS];
			hdr[i].dst_addr = rte_cpu_to_be_32(0x0a000001);
			iph[i] = &hdr[i];
		}
		memset(&b, 0, sizeof(b)); /* pre_ne too: the analyzer checks what the test reads */
		l3_burst_init(&b);
		l3_neigh_bulk(&x, iph, res, n, &b);
		for (uint16_t i = 0; i < n; i++) {
			uint64_t key = want_key(t, res[i], 0);
			const struct neigh *want =
				neigh_find(&l3_neigh, (uint16_t)(key >> 32), (uint32_t)key);

			assert_true(b.pre_key[i] == key);
			assert_true(usable(b.pre_ne[i]) == usable(want));
			hinted += b.pre_ne[i] && b.pre_ne[i] == l3_neigh.hint[res[i]];
			none += usable(want) == 0;
			checked++;
		}
	}
	/* Usable and unusable next hops, hints in use, elements reused: all seen, often. */
	assert_true(checked > 100000 && none > 10000 && checked - none > 10000);
	assert_true(hinted > 10000 && reused > 100);
	neigh_fini(&l3_neigh);
	nh_fini(&l3_nh);
	rte_free(lw.ifh);
	free(t);
}

/* A group's hint is what finds its gateway's entry: with the key gone from the hash, still. */
static void test_neigh_hint_spares_the_hash(void **state)
{
	struct l3_tables *t = calloc(1, sizeof(*t));
	struct l3_worker lw = { .ifh = counters() };
	struct l3_ctx x = { .t = t, .lw = &lw };
	struct nh_group g = { .type = NH_UNICAST, .n = 1 };
	struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0, 1 } };
	struct rte_ipv4_hdr hdr = { .dst_addr = RTE_BE32(0x0a000001) }, *iph = &hdr;
	uint64_t key = neigh_key(3, 0xc6336401);
	struct l3_burst b;
	struct neigh *e;
	uint32_t id;

	(void)state;
	assert_non_null(t);
	assert_int_equal(nh_init(&l3_nh, 0), 0);
	assert_int_equal(neigh_init(&l3_neigh, 64, NH_MAX_GROUPS, 0), 0);
	t->iface[7] = (struct l3_iface){ .on = true, .vrf = 3 };
	g.path[0] = (struct nh_path){ .iface = 7, .gw = 0xc6336401 };
	id = nh_get_for(&l3_nh, &g, 3);
	e = neigh_create(&l3_neigh, 3, 0xc6336401, 7, NEIGH_INCOMPLETE, 0, 1);
	assert_non_null(e);
	neigh_set_mac(e, &mac, NEIGH_REACHABLE, 1);
	memset(&b, 0, sizeof(b)); /* pre_ne too: the analyzer checks what the test reads */
	l3_burst_init(&b);
	l3_neigh_bulk(&x, &iph, &id, 1, &b); /* found by hashing, hint set */
	assert_ptr_equal(b.pre_ne[0], e);
	assert_ptr_equal(l3_neigh.hint[id], e);
	/* Out of its chain (the only one of its bucket): only the hint can find it now. */
	assert_ptr_equal(lf_find(&l3_neigh.t, key), e);
	l3_neigh.t.bucket[lf_bucket(&l3_neigh.t, key)] = LF_NIL;
	assert_null(lf_find(&l3_neigh.t, key));
	memset(&b, 0, sizeof(b)); /* pre_ne too: the analyzer checks what the test reads */
	l3_burst_init(&b);
	l3_neigh_bulk(&x, &iph, &id, 1, &b);
	assert_ptr_equal(b.pre_ne[0], e);
	/* Unusable (as a deleted entry is made): the hint is not taken. */
	neigh_fail(e, 2);
	memset(&b, 0, sizeof(b)); /* pre_ne too: the analyzer checks what the test reads */
	l3_burst_init(&b);
	l3_neigh_bulk(&x, &iph, &id, 1, &b);
	assert_null(b.pre_ne[0]);
	neigh_fini(&l3_neigh);
	nh_fini(&l3_nh);
	rte_free(lw.ifh);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neigh_bulk_matches_one_by_one),
		cmocka_unit_test(test_neigh_hints_follow_changes),
		cmocka_unit_test(test_neigh_hint_spares_the_hash),
	};

	return cmocka_run_group_tests(tests, unit_dp_setup, unit_dp_teardown);
}
