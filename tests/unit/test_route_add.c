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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fib.h"
#include "rcu.h"
#include "router.h"
#include "router_int.h"
#include "unit_assert.h"
#include "unit_dp.h"

#define N_ROUTES 200000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
 * Review 3.2: a VRF's max_routes and max_nexthop_groups hold for kernel-synced
 * routes at install (rt_route_set), counted when hit; replacing a route or
 * sharing a group is no more of either; other VRFs are free.
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
					  .origin = NH_ORIGIN_KERNEL,
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

/*
 * Review of 3.2 (item 1): a kernel route's next hop changed while its VRF is at
 * max_nexthop_groups is no more of them when its old group goes with it (that
 * route its only user): the replacement goes in, the old group freed. One whose
 * old group is shared is still refused.
 */
static void test_kernel_replacement_frees_its_group(void **state)
{
	struct tessd_vrf_cfg vrf = { .id = 2, .max_routes = 10, .max_nexthop_groups = 2 };
	struct tessd_cfg cfg = { 0 };
	struct nh_group g[4];
	uint32_t old;

	(void)state;
	snprintf(vrf.name, sizeof(vrf.name), "rep");
	cfg.router.vrfs = &vrf;
	cfg.router.n_vrfs = 1;
	cfg.router.neigh_capacity = 1024;
	assert_int_equal(l3_module.init(&cfg), 0);
	router_sync(NULL, &cfg);
	for (unsigned i = 0; i < 4; i++)
		g[i] = (struct nh_group){ .type = NH_UNICAST,
					  .n = 1,
					  .origin = NH_ORIGIN_KERNEL,
					  .path = { { .iface = 100, .gw = 1 + i } } };
	assert_int_equal(rt_route_set(2, 0x0a000000, 24, &g[0]), 0);
	assert_int_equal(rt_route_set(2, 0x0a000100, 24, &g[1]), 0);
	assert_int_equal(rt_route_set(2, 0x0a000200, 24, &g[1]), 0);
	assert_int_equal(nh_owned(&l3_nh, 2), 2);
	/* 10.0.0.0/24 alone uses g[0]: its new next hop takes that group's place. */
	old = fib_get(&l3_fib, 2, 0x0a000000, 24);
	assert_true(rt_kernel_fits(2, 0x0a000000, 24, &g[2]));
	assert_int_equal(rt_route_set(2, 0x0a000000, 24, &g[2]), 0);
	assert_int_not_equal(fib_get(&l3_fib, 2, 0x0a000000, 24), old);
	assert_int_equal(nh_group(&l3_nh, fib_get(&l3_fib, 2, 0x0a000000, 24))->path[0].gw, 3);
	assert_int_equal(nh_owned(&l3_nh, 2), 2);
	assert_int_equal(rt_vrfs[2].groups_refused, 0);
	/* 10.0.1.0/24 shares g[1]: a new group for it would be a third. */
	assert_false(rt_kernel_fits(2, 0x0a000100, 24, &g[3]));
	assert_int_equal(rt_route_set(2, 0x0a000100, 24, &g[3]), -EDQUOT);
	assert_int_equal(rt_vrfs[2].groups_refused, 1);
	cfg.router.vrfs = NULL;
	cfg.router.n_vrfs = 0;
	tessd_cfg_free(&cfg);
	l3_module.fini();
}

/* cur as a commit would apply it: validated (accepted), built, synced after old. */
static void commit(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	struct dp_snapshot *s = calloc(1, sizeof(*s));
	struct ctl_error err;
	struct cfg_errs errs;

	assert_non_null(s);
	cfg_errs_init(&errs);
	if (tessd_router_validate(cur, &errs) != 0)
		fail_msg("refused: %s: %s", errs.e[0].path, errs.e[0].msg);
	assert_int_equal(l3_module.build(s, cur, &err), 0);
	router_sync(old, cur);
	l3_module.snap_free(s->part[l3_module.id]);
	free(s);
}

struct one_vrf {
	struct tessd_port_cfg port;
	struct tessd_vrf_cfg vrf;
	struct cfg_prefix4 addr;
	struct tessd_iface_cfg ic;
	struct tessd_route_cfg rc;
	struct tessd_cfg cfg;
};

/* VRF "cap" (id 2) with interface i0 of address ip/24 (three routes, three groups). */
static void one_vrf(struct one_vrf *o, uint32_t max_routes, uint32_t max_groups, uint32_t ip)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->port.name, sizeof(o->port.name), "p0");
	o->port.mtu = 1500;
	o->vrf = (struct tessd_vrf_cfg){ .id = 2,
					 .max_routes = max_routes,
					 .max_nexthop_groups = max_groups };
	snprintf(o->vrf.name, sizeof(o->vrf.name), "cap");
	o->addr = (struct cfg_prefix4){ .ip = ip, .len = 24 };
	o->ic = (struct tessd_iface_cfg){ .mtu = 1500, .addresses = &o->addr, .n_addresses = 1 };
	snprintf(o->ic.name, sizeof(o->ic.name), "i0");
	snprintf(o->ic.vrf, sizeof(o->ic.vrf), "cap");
	snprintf(o->ic.port, sizeof(o->ic.port), "p0");
	o->cfg.ports = &o->port;
	o->cfg.n_ports = 1;
	o->cfg.router.vrfs = &o->vrf;
	o->cfg.router.n_vrfs = 1;
	o->cfg.router.interfaces = &o->ic;
	o->cfg.router.n_interfaces = 1;
	o->cfg.router.neigh_capacity = 1024;
	o->cfg.router.fib_nodes = 262144;
}

/*
 * Review 3.2 (second look): a VRF exactly at max_routes whose interface is
 * renumbered keeps its routes: the commit was valid, so the new connected,
 * local and broadcast routes go in (before the old ones leave), none refused.
 */
static void test_renumber_at_max_routes(void **state)
{
	struct one_vrf a, b;

	(void)state;
	one_vrf(&a, 3, 3, 0x0a010001);
	one_vrf(&b, 3, 3, 0x0a020001);
	assert_int_equal(l3_module.init(&a.cfg), 0);
	commit(NULL, &a.cfg);
	assert_int_equal(fib_count(&l3_fib, 2), 3);
	commit(&a.cfg, &b.cfg);
	assert_int_not_equal(fib_get(&l3_fib, 2, 0x0a020000, 24), 0);
	assert_int_not_equal(fib_get(&l3_fib, 2, 0x0a020001, 32), 0);
	assert_int_not_equal(fib_get(&l3_fib, 2, 0x0a0200ff, 32), 0);
	assert_int_equal(fib_get(&l3_fib, 2, 0x0a010000, 24), 0);
	assert_int_equal(fib_count(&l3_fib, 2), 3);
	assert_true(nh_owned(&l3_nh, 2) <= 3);
	assert_int_equal(rt_vrfs[2].routes_refused + rt_vrfs[2].groups_refused, 0);
	assert_false(rt_vrfs[2].resync);
	l3_module.fini();
}

static uint32_t kernel_routes(uint16_t vrf, uint32_t first, uint32_t n)
{
	uint32_t in = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = fib_get(&l3_fib, vrf, first + (i << 16), 16);
		in += v && nh_group(&l3_nh, v)->origin == NH_ORIGIN_KERNEL;
	}
	return in;
}

/*
 * Review 3.2 (second look): kernel routes that filled the VRF up to its limits
 * do not starve a later commit's static route: it goes in, kernel routes make
 * way (counted as refused) so the VRF is within max_routes and
 * max_nexthop_groups again.
 */
static void test_kernel_fill_then_static(void **state)
{
	struct one_vrf a, b;
	struct nh_group k = { .type = NH_UNICAST, .n = 1, .origin = NH_ORIGIN_KERNEL };
	uint64_t refused;

	(void)state;
	one_vrf(&a, 5, 4, 0x0a010001);
	one_vrf(&b, 5, 4, 0x0a010001);
	b.rc = (struct tessd_route_cfg){ .type = TESS_ROUTE_BLACKHOLE,
					 .prefix = { .ip = 0x0a090000, .len = 16 } };
	snprintf(b.rc.vrf, sizeof(b.rc.vrf), "cap");
	b.cfg.router.routes = &b.rc;
	b.cfg.router.n_routes = 1;
	assert_int_equal(l3_module.init(&a.cfg), 0);
	commit(NULL, &a.cfg);
	k.path[0].iface = rt_iface_id("i0");
	k.path[0].gw = 0x0a010002;
	/* The kernel fills it: two routes more (five), one group more (four); a third refused. */
	assert_int_equal(rt_route_set(2, 0x14000000, 16, &k), 0);
	assert_int_equal(rt_route_set(2, 0x14010000, 16, &k), 0);
	assert_int_equal(rt_route_set(2, 0x14020000, 16, &k), -EDQUOT);
	assert_int_equal(kernel_routes(2, 0x14000000, 3), 2);
	refused = rt_vrfs[2].routes_refused + rt_vrfs[2].groups_refused;
	/* A valid commit adds a static route (a fourth configured route, a fourth group). */
	commit(&a.cfg, &b.cfg);
	assert_int_not_equal(fib_get(&l3_fib, 2, 0x0a090000, 16), 0);
	assert_int_not_equal(fib_get(&l3_fib, 2, 0x0a010000, 24), 0);
	assert_false(rt_vrfs[2].resync);
	assert_true(fib_count(&l3_fib, 2) <= 5);
	assert_true(nh_owned(&l3_nh, 2) <= 4);
	/* The kernel's group had to go, and its routes with it: counted. */
	assert_int_equal(kernel_routes(2, 0x14000000, 3), 0);
	assert_true(rt_vrfs[2].routes_refused + rt_vrfs[2].groups_refused >= refused + 2);
	/* Not by an install of the kernel's, now: the VRF's groups are the config's. */
	assert_int_equal(rt_route_set(2, 0x14000000, 16, &k), -EDQUOT);
	/* Limits raised by a commit: kernel routes waiting may fit (kern_poll retries them). */
	rt_vrfs[2].room = false;
	b.vrf.max_routes = 7;
	b.vrf.max_nexthop_groups = 5;
	commit(&b.cfg, &b.cfg);
	assert_true(rt_vrfs[2].room);
	assert_true(rt_kernel_fits(2, 0x14000000, 16, &k));
	l3_module.fini();
}

/*
 * Review 3.2 (second look): route.add counts the VRF's own routes (static and
 * connected, not the kernel's) against max_routes before touching anything:
 * refused with ENOSPC and counted, the config and the FIB unchanged; under the
 * limit it goes in even when kernel routes filled the VRF, one of them making way.
 */
static void test_route_add_counts_its_own(void **state)
{
	struct tessd_vrf_cfg vrf = { .id = 4, .max_routes = 3, .max_nexthop_groups = 2 };
	struct nh_group kbh = { .type = NH_BLACKHOLE, .origin = NH_ORIGIN_KERNEL };
	struct tessd_cfg cfg = { 0 };
	struct ctl_error err;
	uint64_t refused;

	(void)state;
	snprintf(vrf.name, sizeof(vrf.name), "ra");
	cfg.router.vrfs = &vrf;
	cfg.router.n_vrfs = 1;
	cfg.router.neigh_capacity = 1024;
	assert_int_equal(l3_module.init(&cfg), 0);
	router_sync(NULL, &cfg);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(rt_route_set(4, 0x1e000000 + (i << 16), 16, &kbh), 0);
	for (uint32_t i = 0; i < 3; i++) {
		struct tessd_route_cfg rc = blackhole("ra", i);
		if (rt_route_add(&cfg, &rc, &err) != 0)
			fail_msg("route %u: %s at %s", i, err.message, err.path);
		assert_int_not_equal(fib_get(&l3_fib, 4, rc.prefix.ip, 32), 0);
		assert_int_equal(fib_count(&l3_fib, 4), 3);
	}
	assert_int_equal(kernel_routes(4, 0x1e000000, 3), 0);
	/* Three of its own: a fourth is refused before anything changes. */
	struct tessd_route_cfg more = blackhole("ra", 3);
	refused = rt_vrfs[4].routes_refused;
	assert_int_equal(rt_route_add(&cfg, &more, &err), -ENOSPC);
	assert_string_equal(err.path, "/params");
	assert_non_null(strstr(err.message, "max_routes"));
	assert_int_equal(rt_vrfs[4].routes_refused, refused + 1);
	assert_int_equal(cfg.router.n_routes, 3);
	assert_int_equal(fib_get(&l3_fib, 4, more.prefix.ip, 32), 0);
	assert_int_equal(fib_count(&l3_fib, 4), 3);
	cfg.router.vrfs = NULL;
	cfg.router.n_vrfs = 0;
	tessd_cfg_free(&cfg);
	rt_route_index_free();
	l3_module.fini();
}

/*
 * Review of 3.2 (item 2): route.add counts as the config's validation does
 * (the config's routes and groups, and the new one), not what the FIB holds:
 * a static /32 on an interface's broadcast address is two routes of the
 * config (the broadcast one, its group too) and one of the FIB. Past the
 * limits route.add is refused, and the running config stays valid: the next
 * commit passes.
 */
static void test_route_add_counts_as_validation(void **state)
{
	struct one_vrf a;
	struct tessd_route_cfg *bc = calloc(1, sizeof(*bc));
	struct ctl_error err;
	struct tessd_route_cfg rej;

	(void)state;
	assert_non_null(bc);
	/* Routes: connected, local, broadcast, the static /32 on it (4 of 6). Groups: 4 of 4. */
	one_vrf(&a, 6, 4, 0x0a010001);
	*bc = (struct tessd_route_cfg){ .type = TESS_ROUTE_BLACKHOLE,
					.prefix = { .ip = 0x0a0100ff, .len = 32 } };
	snprintf(bc->vrf, sizeof(bc->vrf), "cap");
	a.cfg.router.routes = bc;
	a.cfg.router.n_routes = 1;
	assert_int_equal(l3_module.init(&a.cfg), 0);
	commit(NULL, &a.cfg);
	assert_int_equal(fib_count(&l3_fib, 2), 3);
	/* A fifth group: refused, though the FIB has only three. */
	rej = blackhole("cap", 1);
	rej.type = TESS_ROUTE_REJECT;
	assert_int_equal(rt_route_add(&a.cfg, &rej, &err), -ENOSPC);
	assert_non_null(strstr(err.message, "max_nexthop_groups"));
	assert_int_equal(a.cfg.router.n_routes, 1);
	/* Two routes more (the blackhole group shared) fit; a third is a seventh route. */
	for (uint32_t i = 2; i < 4; i++) {
		struct tessd_route_cfg rc = blackhole("cap", i);
		if (rt_route_add(&a.cfg, &rc, &err) != 0)
			fail_msg("route %u: %s at %s", i, err.message, err.path);
	}
	struct tessd_route_cfg more = blackhole("cap", 4);
	assert_int_equal(rt_route_add(&a.cfg, &more, &err), -ENOSPC);
	assert_non_null(strstr(err.message, "max_routes"));
	assert_int_equal(a.cfg.router.n_routes, 3);
	/* What route.add left is a valid config: an unrelated commit passes. */
	commit(&a.cfg, &a.cfg);
	free(a.cfg.router.routes);
	rt_route_index_free();
	l3_module.fini();
}

/* Whether vrf holds a kernel route prefix/len. */
static bool kernel_has(uint16_t vrf, uint32_t ip, uint8_t len)
{
	uint32_t v = fib_get(&l3_fib, vrf, ip, len);

	return v && nh_group(&l3_nh, v)->origin == NH_ORIGIN_KERNEL;
}

/*
 * Review of 3.2 (FIB nodes): a VRF's max_fib_nodes bounds the hugepage
 * memory its prefixes take, whatever max_routes allows. Kernel routes that
 * need nodes past it are refused (counted, the limit named), those that fit
 * in the nodes there are not; the config's own are counted as the trie
 * holds them at validation and by route.add, and kernel routes make way for
 * them, longest first, until the VRF is within.
 */
static void test_fib_node_limit(void **state)
{
	struct one_vrf a, small;
	struct nh_group k = { .type = NH_BLACKHOLE, .origin = NH_ORIGIN_KERNEL };
	struct tessd_route_cfg rc = { .type = TESS_ROUTE_BLACKHOLE,
				      .prefix = { .ip = 0x14000001, .len = 32 } };
	struct ctl_error err;
	struct cfg_errs errs;
	char why[128];

	(void)state;
	/* 10.1.0.1/24: its root, 10/8, 10.1/16 and 10.1.0/24 (its local /32s): 4 of 8. */
	one_vrf(&a, 1000, 100, 0x0a010001);
	a.vrf.max_fib_nodes = 8;
	assert_int_equal(l3_module.init(&a.cfg), 0);
	commit(NULL, &a.cfg);
	assert_int_equal(fib_nodes(&l3_fib, 2), 4);
	/* A /32 in a new /8 takes three: 7. Another one would be 10: refused, named. */
	assert_int_equal(rt_route_set(2, 0x0b000001, 32, &k), 0);
	assert_int_equal(rt_route_set(2, 0x0c000001, 32, &k), -EDQUOT);
	assert_int_equal(rt_vrfs[2].nodes_refused, 1);
	assert_non_null(strstr(rt_limit_text(2, why, sizeof(why)), "max_fib_nodes (8)"));
	/* What fits in the nodes there goes in: a /8, a /32 and a /24 beside the first. */
	assert_int_equal(rt_route_set(2, 0x0d000000, 8, &k), 0);
	assert_int_equal(rt_route_set(2, 0x0b000002, 32, &k), 0);
	assert_int_equal(rt_route_set(2, 0x0b000100, 24, &k), 0);
	/* The eighth node for 11.1/16, none past it for 11.2/16. */
	assert_int_equal(rt_route_set(2, 0x0b010000, 24, &k), 0);
	assert_int_equal(fib_nodes(&l3_fib, 2), 8);
	assert_int_equal(rt_route_set(2, 0x0b020000, 24, &k), -EDQUOT);
	assert_int_equal(rt_vrfs[2].nodes_refused, 2);
	assert_int_equal(rt_vrfs[2].routes_refused + rt_vrfs[2].groups_refused, 0);
	/*
	 * route.add of 20.0.0.1/32: the config's own are then 7 nodes, within; the FIB's 11:
	 * kernel routes leave, longest first, until it is within again.
	 */
	snprintf(rc.vrf, sizeof(rc.vrf), "cap");
	if (rt_route_add(&a.cfg, &rc, &err) != 0)
		fail_msg("route.add: %s at %s", err.message, err.path);
	assert_int_not_equal(fib_get(&l3_fib, 2, 0x14000001, 32), 0);
	assert_true(fib_nodes(&l3_fib, 2) <= 8);
	assert_int_not_equal(fib_get(&l3_fib, 2, 0x0a010001, 32), 0);
	assert_false(kernel_has(2, 0x0b000001, 32) || kernel_has(2, 0x0b000002, 32));
	assert_true(kernel_has(2, 0x0d000000, 8)); /* takes no node: stays */
	assert_true(rt_vrfs[2].nodes_refused > 2);
	/* Another /32 in a new /8 would make the config's own 10: refused, nothing changed. */
	struct tessd_route_cfg more = blackhole("cap", 0);
	more.prefix.ip = 0x1e000001;
	uint64_t refused = rt_vrfs[2].nodes_refused;
	assert_int_equal(rt_route_add(&a.cfg, &more, &err), -ENOSPC);
	assert_string_equal(err.path, "/params");
	assert_non_null(strstr(err.message, "7 FIB nodes for its own routes, 10 with this one"));
	assert_non_null(strstr(err.message, "max_fib_nodes (8)"));
	assert_int_equal(rt_vrfs[2].nodes_refused, refused + 1);
	assert_int_equal(a.cfg.router.n_routes, 1);
	assert_int_equal(fib_get(&l3_fib, 2, 0x1e000001, 32), 0);
	/* One in 20.0.0/24 needs none: it goes in. The running config stays valid. */
	more.prefix.ip = 0x14000002;
	if (rt_route_add(&a.cfg, &more, &err) != 0)
		fail_msg("route.add: %s at %s", err.message, err.path);
	commit(&a.cfg, &a.cfg);
	/* A config whose own routes need more than its limit is refused, at the limit's path. */
	one_vrf(&small, 1000, 100, 0x0a010001);
	small.vrf.max_fib_nodes = 3;
	cfg_errs_init(&errs);
	assert_int_not_equal(tessd_router_validate(&small.cfg, &errs), 0);
	assert_string_equal(errs.e[0].path, "/router/vrfs/0/max_fib_nodes");
	assert_non_null(strstr(errs.e[0].msg, "needs 4 FIB nodes"));
	free(a.cfg.router.routes);
	rt_route_index_free();
	l3_module.fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_route_adds),
		cmocka_unit_test(test_per_vrf_route_and_group_limits),
		cmocka_unit_test(test_kernel_replacement_frees_its_group),
		cmocka_unit_test(test_renumber_at_max_routes),
		cmocka_unit_test(test_kernel_fill_then_static),
		cmocka_unit_test(test_route_add_counts_its_own),
		cmocka_unit_test(test_route_add_counts_as_validation),
		cmocka_unit_test(test_fib_node_limit),
	};
	return cmocka_run_group_tests(tests, unit_dp_setup, unit_dp_teardown);
}
