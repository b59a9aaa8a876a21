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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_route_adds),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
