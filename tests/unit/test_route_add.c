/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * route.add's path (checked against the running config, installed in the
 * FIB, recorded): N adds cost O(N log N) in all. 200,000 routes are added
 * one by one; the route index's probes stay linear and the work per add does
 * not grow with the table (the last tenth takes about as long as the first).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fib.h"
#include "rcu.h"
#include "router.h"
#include "router_int.h"
#include "unit_assert.h"
#include "unit_eal.h"

#define N_ROUTES 200000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
	(void)state;
	if (unit_eal_init("route_add", 512, NULL) < 0 || dp_rcu_init(1) != 0)
		return -1;
	dp_tsc_hz = rte_get_tsc_hz();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_rcu_fini();
	return unit_eal_cleanup();
}

static struct tessd_route_cfg blackhole(const char *vrf, uint32_t i)
{
	struct tessd_route_cfg rc = { .type = TESS_ROUTE_BLACKHOLE };

	snprintf(rc.vrf, sizeof(rc.vrf), "%s", vrf);
	/* /32s spread over 10.0.0.0/8 and 11.0.0.0/8: no two alike. */
	rc.prefix.ip = 0x0a000000u + i * 97u % (1u << 25);
	rc.prefix.len = 32;
	return rc;
}

static void test_many_route_adds(void **state)
{
	struct tessd_vrf_cfg vrf = { .id = 1 };
	struct tessd_cfg cfg = { 0 };
	struct ctl_error err;
	double t0 = 0, first = 0, last = 0;
	uint64_t probes0;

	(void)state;
	snprintf(vrf.name, sizeof(vrf.name), "a");
	cfg.router.vrfs = &vrf;
	cfg.router.n_vrfs = 1;
	cfg.router.neigh_capacity = 1024;
	assert_int_equal(l3_module.init(&cfg), 0);
	assert_int_equal(fib_vrf_add(&l3_fib, 1), 0);
	probes0 = rt_route_ix_probes;
	for (uint32_t i = 0; i < N_ROUTES; i++) {
		struct tessd_route_cfg rc = blackhole("a", i);

		if (i == 0 || i == N_ROUTES - N_ROUTES / 10)
			t0 = now_s();
		if (rt_route_add(&cfg, &rc, &err) != 0)
			fail_msg("route %u: %s at %s", i, err.message, err.path);
		if (i == N_ROUTES / 10 - 1)
			first = now_s() - t0;
		if (i == N_ROUTES - 1)
			last = now_s() - t0;
	}
	assert_int_equal(cfg.router.n_routes, N_ROUTES);
	assert_int_equal(fib_count(&l3_fib, 1), N_ROUTES);
	/* Each add probes a few slots of the index: linear in all, never N per add. */
	assert_true(rt_route_ix_probes - probes0 < 8ull * N_ROUTES);
	print_message("%u adds: first tenth %.3f s, last tenth %.3f s, %.2f probes per add\n",
		      N_ROUTES, first, last,
		      (double)(rt_route_ix_probes - probes0) / (double)N_ROUTES);
	/* The same route again, and one into a VRF that does not exist: refused, nothing added. */
	struct tessd_route_cfg again = blackhole("a", 12345);
	assert_int_equal(rt_route_add(&cfg, &again, &err), -EEXIST);
	assert_string_equal(err.path, "/params/prefix");
	struct tessd_route_cfg nowhere = blackhole("b", N_ROUTES + 1);
	assert_int_equal(rt_route_add(&cfg, &nowhere, &err), -ENOENT);
	assert_string_equal(err.path, "/params/vrf");
	assert_string_equal(err.message, "no VRF named 'b'");
	assert_int_equal(cfg.router.n_routes, N_ROUTES);
	cfg.router.vrfs = NULL;
	cfg.router.n_vrfs = 0;
	tessd_cfg_free(&cfg);
	rt_route_index_free();
	l3_module.fini();
}

/*
 * Review 3.2: a VRF's max_routes and max_nexthop_groups hold whatever installs
 * the routes (rt_route_set: config, route.add, kernel sync), counted when hit;
 * replacing a route or sharing a group is no more of either; other VRFs are free.
 */
static void test_per_vrf_route_and_group_limits(void **state)
{
	struct tessd_vrf_cfg vrfs[2] = {
		{ .id = 2, .max_routes = 5, .max_nexthop_groups = 2 },
		{ .id = 3, .max_routes = 100, .max_nexthop_groups = 100 }
	};
	struct tessd_cfg cfg = { 0 };
	struct nh_group g[3];

	(void)state;
	snprintf(vrfs[0].name, sizeof(vrfs[0].name), "lim");
	snprintf(vrfs[1].name, sizeof(vrfs[1].name), "free");
	cfg.router.vrfs = vrfs;
	cfg.router.n_vrfs = 2;
	cfg.router.neigh_capacity = 1024;
	assert_int_equal(l3_module.init(&cfg), 0);
	router_sync(NULL, &cfg);
	for (unsigned i = 0; i < 3; i++)
		g[i] = (struct nh_group){ .type = NH_UNICAST,
					  .n = 1,
					  .path = { { .iface = (uint16_t)(100 + i), .gw = 1 } } };
	/* Two groups: a third is refused, an existing one shared. */
	assert_int_equal(rt_route_set(2, 0x0a000000, 24, &g[0]), 0);
	assert_int_equal(rt_route_set(2, 0x0a000100, 24, &g[1]), 0);
	assert_int_equal(rt_route_set(2, 0x0a000200, 24, &g[2]), -EDQUOT);
	assert_int_equal(rt_vrfs[2].groups_refused, 1);
	assert_int_equal(rt_route_set(2, 0x0a000200, 24, &g[0]), 0);
	assert_int_equal(rt_route_set(2, 0x0a000300, 24, &g[1]), 0);
	assert_int_equal(rt_route_set(2, 0x0a000400, 24, &g[1]), 0);
	/* Five routes: a sixth is refused; replacing one is not a new one. */
	assert_int_equal(rt_route_set(2, 0x0a000500, 24, &g[0]), -EDQUOT);
	assert_int_equal(rt_vrfs[2].routes_refused, 1);
	assert_int_equal(rt_route_set(2, 0x0a000400, 24, &g[0]), 0);
	assert_int_equal(fib_count(&l3_fib, 2), 5);
	/* Room again once a route goes, and the group of the last route is freed for another. */
	assert_int_equal(rt_route_unset(2, 0x0a000100, 24), 0);
	assert_int_equal(rt_route_unset(2, 0x0a000300, 24), 0);
	assert_int_equal(rt_route_set(2, 0x0a000500, 24, &g[2]), 0);
	/* Another VRF is not held by the first's limits. */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(rt_route_set(3, 0x0b000000 + (i << 8), 24, &g[i]), 0);
	assert_int_equal(rt_vrfs[3].routes_refused + rt_vrfs[3].groups_refused, 0);
	cfg.router.vrfs = NULL;
	cfg.router.n_vrfs = 0;
	tessd_cfg_free(&cfg);
	l3_module.fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_route_adds),
		cmocka_unit_test(test_per_vrf_route_and_group_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
