/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's lookups of a whole burst against the one-by-one path, on
 * random tables: the neighbours of l3_neigh_bulk (bursts mixing VRFs, next
 * hops, ECMP and non-unicast routes) are the entries neigh_find gives for
 * the key l3_forward_out computes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static void test_neigh_bulk_matches_one_by_one(void **state)
{
	struct l3_tables *t = calloc(1, sizeof(*t));
	struct rte_ipv4_hdr hdr[DP_BURST], *iph[DP_BURST];
	uint32_t ids[GROUPS], dsts[DSTS], gws[16], res[DP_BURST];
	struct l3_ctx x = { .t = t };
	struct l3_burst b;
	unsigned n_ids = 0, prefetched = 0, missing = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(nh_init(&l3_nh, 0), 0);
	assert_int_equal(neigh_init(&l3_neigh, 4096, 0), 0);
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
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neigh_bulk_matches_one_by_one),
	};

	return cmocka_run_group_tests(tests, unit_dp_setup, unit_dp_teardown);
}
