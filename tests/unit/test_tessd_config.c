/* SPDX-License-Identifier: BSD-3-Clause */
/* tessd's config: defaults, cross references, every bad-config class, examples, file I/O. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply.h"
#include "cfg_file.h"
#include "module.h"
#include "router_check.h"
#include "tessd_config.h"
#include "unit_assert.h"

static int decode(const char *text, struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	int rc;

	assert_non_null(j);
	cfg_errs_init(errs);
	rc = tessd_cfg_decode(j, cfg, errs, dp_cfg_validate);
	json_decref(j);
	return rc;
}

static void expect_ok(const char *text)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;

	if (decode(text, &cfg, &e) != 0)
		fail_msg("refused: %s: %s", e.e[0].path, e.e[0].msg);
	tessd_cfg_free(&cfg);
}

static void expect_error(const char *text, const char *path, const char *msg_part)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;

	if (decode(text, &cfg, &e) == 0)
		fail_msg("accepted: %s", text);
	for (unsigned i = 0; i < e.n && i < CFG_MAX_ERRS; i++)
		if (strcmp(e.e[i].path, path) == 0 && strstr(e.e[i].msg, msg_part))
			return;
	fail_msg("for %s expected '%s: ...%s...', got '%s: %s'", text, path, msg_part, e.e[0].path,
		 e.e[0].msg);
}

#define PORTS2                                                       \
	"\"ports\": [{\"name\": \"a\", \"devargs\": \"net_tap0\"}, " \
	"{\"name\": \"b\", \"devargs\": \"net_tap1,iface=x\"}]"

static void test_schema_consistent(void **state)
{
	struct cfg_errs e;

	(void)state;
	cfg_errs_init(&e);
	assert_int_equal(cfg_schema_check(&tessd_cfg_schema, &e), 0);
}

static void test_defaults(void **state)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;

	(void)state;
	assert_int_equal(decode("{}", &cfg, &e), 0);
	assert_int_equal(cfg.eal.main_cpu, 0);
	assert_int_equal(cfg.eal.n_workers, 1);
	assert_int_equal(cfg.eal.workers[0], 1);
	assert_int_equal(cfg.eal.memory_mb, 512);
	assert_int_equal(cfg.eal.hugepages, TESS_HUGEPAGES_AUTO);
	assert_string_equal(cfg.eal.file_prefix, "tessd");
	assert_string_equal(cfg.control.socket, "/run/tessera/tessd.sock");
	assert_string_equal(cfg.control.mode, "0660");
	assert_int_equal(cfg.control.max_request, 1 << 20);
	assert_int_equal(cfg.control.max_depth, 32);
	assert_int_equal(cfg.n_ports, 0);
	tessd_cfg_free(&cfg);

	assert_int_equal(decode("{" PORTS2 "}", &cfg, &e), 0);
	assert_int_equal(cfg.ports[0].mtu, 1500);
	assert_int_equal(cfg.ports[0].rx_queues, 0);
	assert_int_equal(cfg.ports[0].rx_desc, 1024);
	assert_true(cfg.ports[1].promiscuous);
	tessd_cfg_free(&cfg);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_error("{\"eal\": {\"workers\": []}}", "/eal/workers", "has 0 items");
	expect_error("{\"eal\": {\"workers\": [1, \"2\"]}}", "/eal/workers/1", "expected integer");
	expect_error("{\"eal\": {\"memory_mb\": 1}}", "/eal/memory_mb", "out of range");
	expect_error("{\"eal\": {\"hugepages\": \"maybe\"}}", "/eal/hugepages", "not one of");
	expect_error("{\"eal\": {\"file_prefix\": \"a/b\"}}", "/eal/file_prefix", "'/'");
	expect_error("{\"eal\": {\"args\": [\"\"]}}", "/eal/args/0", "length 0");
	expect_error("{\"eal\": {\"cores\": [1]}}", "/eal/cores", "unknown key");
	expect_error("{\"control\": {\"socket\": \"tessd.sock\"}}", "/control/socket", "absolute");
	expect_error("{\"control\": {\"mode\": \"0999\"}}", "/control/mode", "'9'");
	expect_error("{\"control\": {\"mode\": \"7777\"}}", "/control/mode", "permission bits");
	expect_error("{\"control\": {\"max_request\": 10}}", "/control/max_request",
		     "out of range");
	expect_error("{\"ports\": [{\"name\": \"a\"}]}", "/ports/0/devargs",
		     "missing: a port needs");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_null0\", \"vhost\": "
		     "{\"path\": \"/run/a.sock\"}}]}",
		     "/ports/0/vhost/path", "not both");
	expect_error("{\"ports\": [{\"name\": \"a\", \"vhost\": {\"path\": \"a.sock\"}}]}",
		     "/ports/0/vhost/path", "absolute");
	expect_error("{\"ports\": [{\"name\": \"a\", \"vhost\": {\"path\": \"/run/a.sock\"}}, "
		     "{\"name\": \"b\", \"vhost\": {\"path\": \"/run/a.sock\"}}]}",
		     "/ports/1/vhost/path", "already port 'a'");
	expect_error("{\"ports\": [{\"devargs\": \"net_null0\"}]}", "/ports/0/name", "missing");
	expect_error("{\"ports\": [{\"name\": \"\", \"devargs\": \"net_null0\"}]}", "/ports/0/name",
		     "length 0");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net null0\"}]}",
		     "/ports/0/devargs", "without spaces");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_null0\", \"mtu\": 67}]}",
		     "/ports/0/mtu", "out of range");
	expect_error(
		"{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_null0\", \"rx_desc\": 1000}]}",
		"/ports/0/rx_desc", "power of two");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_null0\", \"mtu\": true}]}",
		     "/ports/0/mtu", "expected integer, got boolean");
	expect_error("{\"ports\": {}}", "/ports", "expected array");
	expect_error("{\"xconnects\": [{\"a\": \"x\"}]}", "/xconnects/0/b", "missing");
}

static void test_cross_references(void **state)
{
	(void)state;
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_tap0\"}, "
		     "{\"name\": \"a\", \"devargs\": \"net_tap1\"}]}",
		     "/ports/1/name", "duplicate port name 'a'");
	expect_error("{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_tap0,iface=x\"}, "
		     "{\"name\": \"b\", \"devargs\": \"net_tap0,iface=y\"}]}",
		     "/ports/1/devargs", "device 'net_tap0' is already port 'a'");
	expect_error("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"c\"}]}",
		     "/xconnects/0/b", "no port named 'c'");
	expect_error("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"a\"}]}",
		     "/xconnects/0/b", "itself");
	expect_error("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"b\"}, "
		     "{\"a\": \"b\", \"b\": \"a\"}]}",
		     "/xconnects/1/a", "already cross-connected");
}

/* A PE router: two ports, a trunk port, VRFs a and b; "%s" takes more of the router object. */
#define ROUTER(more)                                                                              \
	"{\"ports\": [{\"name\": \"e\", \"devargs\": \"net_tap0\"}, "                             \
	"{\"name\": \"t\", \"devargs\": \"net_tap1\"}, "                                          \
	"{\"name\": \"s\", \"devargs\": \"net_tap2\", \"mode\": \"access\", \"group\": \"g\"}], " \
	"\"switch\": {\"groups\": [{\"name\": \"g\", \"vlan\": 10}]}, "                           \
	"\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1}, {\"name\": \"b\", \"id\": 2}], "   \
	"\"interfaces\": [{\"name\": \"ea\", \"vrf\": \"a\", \"port\": \"e\", "                   \
	"\"addresses\": [\"192.168.1.1/24\"]}, {\"name\": \"ta\", \"vrf\": \"a\", "               \
	"\"port\": \"t\", \"vlan\": 100, \"addresses\": [\"10.0.0.1/30\"]}, "                     \
	"{\"name\": \"tb\", \"vrf\": \"b\", \"port\": \"t\", \"vlan\": 200, "                     \
	"\"addresses\": [\"192.168.1.1/24\"]}]" more "}}"

/* Review 3.2: a config whose routes do not fit a VRF's max_routes is refused whole. */
static void test_vrf_max_routes(void **state)
{
	(void)state;
	expect_error("{\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1, \"max_routes\": 2}], "
		     "\"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\", \"type\": "
		     "\"blackhole\"}, {\"vrf\": \"a\", \"prefix\": \"10.2.0.0/16\", \"type\": "
		     "\"blackhole\"}, {\"vrf\": \"a\", \"prefix\": \"10.3.0.0/16\", \"type\": "
		     "\"blackhole\"}]}}",
		     "/router/vrfs/0/max_routes", "3 routes configured");
}

/*
 * Review 3.2 (second look): configured routes are always installed once valid, so their
 * next-hop groups (one each for blackhole, reject, each next-hop set; an interface's
 * connected, local and broadcast ones) must fit max_nexthop_groups too; shared ones once.
 */
static void test_vrf_max_nexthop_groups(void **state)
{
	(void)state;
	expect_error("{\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1, "
		     "\"max_nexthop_groups\": 2}, {\"name\": \"z\", \"id\": 5}], "
		     "\"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\", \"type\": "
		     "\"blackhole\"}, {\"vrf\": \"a\", \"prefix\": \"10.2.0.0/16\", \"type\": "
		     "\"blackhole\"}, {\"vrf\": \"a\", \"prefix\": \"10.3.0.0/16\", \"type\": "
		     "\"reject\"}, {\"vrf\": \"a\", \"prefix\": \"10.4.0.0/16\", \"type\": "
		     "\"vrf\", \"target_vrf\": \"z\"}]}}",
		     "/router/vrfs/0/max_nexthop_groups", "3 next-hop groups");
	/* Two blackholes and a reject: two groups, within. */
	expect_ok("{\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1, "
		  "\"max_nexthop_groups\": 2}], "
		  "\"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\", \"type\": "
		  "\"blackhole\"}, {\"vrf\": \"a\", \"prefix\": \"10.2.0.0/16\", \"type\": "
		  "\"blackhole\"}, {\"vrf\": \"a\", \"prefix\": \"10.3.0.0/16\", \"type\": "
		  "\"reject\"}]}}");
	/* An interface's three (a /24: connected, local, broadcast) and one gateway on it. */
	expect_error("{\"ports\": [{\"name\": \"e\", \"devargs\": \"net_tap0\"}], "
		     "\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1}, {\"name\": \"b\", "
		     "\"id\": 2, \"max_nexthop_groups\": 3}], \"interfaces\": [{\"name\": \"eb\", "
		     "\"vrf\": \"b\", \"port\": \"e\", \"addresses\": [\"192.168.1.1/24\"]}], "
		     "\"routes\": [{\"vrf\": \"b\", \"prefix\": \"10.9.0.0/16\", \"nexthops\": "
		     "[{\"via\": \"192.168.1.2\"}]}, {\"vrf\": \"b\", \"prefix\": \"10.8.0.0/16\", "
		     "\"nexthops\": [{\"via\": \"192.168.1.2\"}]}]}}",
		     "/router/vrfs/1/max_nexthop_groups", "4 next-hop groups");
}

/* Review 3.4: VRFs' explicit neighbour limits may not add up to more than the table holds. */
static void test_vrf_neigh_limits_fit_the_capacity(void **state)
{
	(void)state;
	expect_error("{\"router\": {\"neigh_capacity\": 8192, \"vrfs\": [{\"name\": \"a\", "
		     "\"id\": 1, \"neigh_limit\": 4096}, {\"name\": \"b\", \"id\": 2}, "
		     "{\"name\": \"c\", \"id\": 3, \"neigh_limit\": 4097}]}}",
		     "/router/vrfs/2/neigh_limit", "router.neigh_capacity");
	/* Automatic shares below the floor: refused at the first VRF that does not get it. */
	char text[8192];
	int n = snprintf(text, sizeof(text), "{\"router\": {\"neigh_capacity\": 1024, \"vrfs\": [");
	for (int i = 0; i < 65; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "%s{\"name\": \"v%d\", \"id\": %d}", i ? ", " : "", i, i + 1);
	snprintf(text + n, sizeof(text) - (size_t)n, "]}}");
	expect_error(text, "/router/vrfs/64/neigh_limit", "at least 16");
}

/* A config of VRFs on defaults: n of them, the first with neigh_limit explicit (0: none). */
static char *many_vrfs(unsigned n, unsigned first_limit)
{
	size_t cap = 64 + (size_t)n * 64, k;
	char *text = malloc(cap);

	assert_non_null(text);
	k = (size_t)snprintf(text, cap, "{\"router\": {\"vrfs\": [");
	for (unsigned i = 0; i < n; i++) {
		k += (size_t)snprintf(text + k, cap - k, "%s{\"name\": \"t%u\", \"id\": %u",
				      i ? ", " : "", i, i + 1);
		if (i == 0 && first_limit)
			k += (size_t)snprintf(text + k, cap - k, ", \"neigh_limit\": %u",
					      first_limit);
		k += (size_t)snprintf(text + k, cap - k, "}");
	}
	snprintf(text + k, cap - k, "]}}");
	return text;
}

/* The limits in force for the i-th VRF of cfg. */
static struct tessd_vrf_limits limits(const struct tessd_cfg *cfg, uint32_t i)
{
	const struct tessd_vrf_limits auto_shares = tessd_vrf_auto_shares(&cfg->router);

	return tessd_vrf_limits(&auto_shares, &cfg->router.vrfs[i]);
}

/* Review 3.4 (second look): a PE of hundreds of tenants on defaults gets shares, not a refusal. */
static void test_vrf_neigh_shares(void **state)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;
	char *text;

	(void)state;
	text = many_vrfs(200, 0);
	assert_int_equal(decode(text, &cfg, &e), 0);
	assert_int_equal(cfg.router.vrfs[7].neigh_limit, 0); /* automatic */
	assert_int_equal(tessd_vrf_auto_shares(&cfg.router).neigh, 65536 / 200);
	assert_int_equal(limits(&cfg, 7).neigh, 65536 / 200);
	tessd_cfg_free(&cfg);
	free(text);
	/* Explicit limits come first; the automatic ones share what is left. */
	text = many_vrfs(3, 60000);
	assert_int_equal(decode(text, &cfg, &e), 0);
	assert_int_equal(limits(&cfg, 0).neigh, 60000);
	assert_int_equal(limits(&cfg, 1).neigh, (65536 - 60000) / 2);
	tessd_cfg_free(&cfg);
	free(text);
	/* A few VRFs: each gets the cap, not the whole table. */
	text = many_vrfs(2, 0);
	assert_int_equal(decode(text, &cfg, &e), 0);
	assert_int_equal(limits(&cfg, 1).neigh, 4096);
	tessd_cfg_free(&cfg);
	free(text);
}

/*
 * Review 3.2 (third look): next-hop group limits are shares of the 65,535 group ids, as
 * neighbour limits are of the table: a PE of many tenants on defaults gets a share each
 * (16 VRFs of 4,096 groups each no longer promise more ids than there are), explicit limits
 * may not add up to more, and what they leave gives each automatic VRF at least 16.
 */
/* The automatic shares of n VRFs on defaults. */
static struct tessd_vrf_limits auto_shares(int n)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;
	char *text = many_vrfs(n, 0);
	struct tessd_vrf_limits share;

	assert_int_equal(decode(text, &cfg, &e), 0);
	share = tessd_vrf_auto_shares(&cfg.router);
	tessd_cfg_free(&cfg);
	free(text);
	return share;
}

static void test_vrf_group_shares(void **state)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;
	char *text, text2[8192];
	int n;

	(void)state;
	text = many_vrfs(1000, 0);
	assert_int_equal(decode(text, &cfg, &e), 0);
	assert_int_equal(cfg.router.vrfs[7].max_nexthop_groups, 0); /* automatic */
	assert_int_equal(limits(&cfg, 7).groups, 65535 / 1000);
	tessd_cfg_free(&cfg);
	free(text);
	assert_int_equal(auto_shares(2).groups, 4096); /* the cap */
	expect_error("{\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1, "
		     "\"max_nexthop_groups\": 40000}, {\"name\": \"b\", \"id\": 2}, "
		     "{\"name\": \"c\", \"id\": 3, \"max_nexthop_groups\": 30000}]}}",
		     "/router/vrfs/2/max_nexthop_groups", "next-hop group ids");
	/* 65,000 explicit leave 535: 34 automatic VRFs would get 15 each, under the floor. */
	n = snprintf(text2, sizeof(text2),
		     "{\"router\": {\"vrfs\": [{\"name\": \"big\", \"id\": 1, "
		     "\"max_nexthop_groups\": 65000}");
	for (int i = 0; i < 34; i++)
		n += snprintf(text2 + n, sizeof(text2) - (size_t)n,
			      ", {\"name\": \"v%d\", \"id\": %d}", i, i + 2);
	snprintf(text2 + n, sizeof(text2) - (size_t)n, "]}}");
	expect_error(text2, "/router/vrfs/34/max_nexthop_groups", "at least 16");
	/* 65,519 explicit leave a's automatic share at 16; its interface's 3 groups and 14
	 * gateways' are 17: refused at its limit, saying it is its share. */
	n = snprintf(text2, sizeof(text2),
		     "{\"ports\": [{\"name\": \"e\", \"devargs\": \"net_tap0\"}], "
		     "\"router\": {\"vrfs\": [{\"name\": \"big\", \"id\": 1, "
		     "\"max_nexthop_groups\": 65519}, {\"name\": \"a\", \"id\": 2}], "
		     "\"interfaces\": [{\"name\": \"ea\", \"vrf\": \"a\", \"port\": \"e\", "
		     "\"addresses\": [\"192.168.1.1/24\"]}], \"routes\": [");
	for (int i = 0; i < 14; i++)
		n += snprintf(text2 + n, sizeof(text2) - (size_t)n,
			      "%s{\"vrf\": \"a\", \"prefix\": \"10.%d.0.0/16\", \"nexthops\": "
			      "[{\"via\": \"192.168.1.%d\"}]}",
			      i ? ", " : "", i, i + 2);
	snprintf(text2 + n, sizeof(text2) - (size_t)n, "]}}");
	expect_error(text2, "/router/vrfs/1/max_nexthop_groups", "(16, its automatic share)");
}

/*
 * Review of 3.2 (FIB nodes): max_fib_nodes shares router.fib_nodes as groups
 * share their ids; the config's own prefixes are counted as the trie holds
 * them (scattered /32s three nodes each, a /32 beside another none).
 */
static void test_vrf_fib_node_shares(void **state)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;
	char text2[8192];
	int n;

	(void)state;
	/* router.fib_nodes defaults to 262,144. */
	assert_int_equal(auto_shares(1000).nodes, 262144 / 1000);
	assert_int_equal(auto_shares(2).nodes, TESSD_FIB_SHARE_MAX);
	expect_error("{\"router\": {\"fib_nodes\": 4096, \"vrfs\": [{\"name\": \"a\", \"id\": 1, "
		     "\"max_fib_nodes\": 3000}, {\"name\": \"b\", \"id\": 2, "
		     "\"max_fib_nodes\": 2000}]}}",
		     "/router/vrfs/1/max_fib_nodes", "router.fib_nodes (4096)");
	expect_error("{\"router\": {\"fib_nodes\": 4096, \"vrfs\": [{\"name\": \"a\", \"id\": 1, "
		     "\"max_fib_nodes\": 4090}, {\"name\": \"b\", \"id\": 2}]}}",
		     "/router/vrfs/1/max_fib_nodes", "at least 16");
	/*
	 * Its root, 192/8, 192.168/16 and 192.168.1/24 (the interface's /32s), three for
	 * 10.0.0.1/32 and none for 10.0.0.2/32 beside it, three for 20.0.0.1-2: 10 nodes.
	 */
	for (int max = 10; max >= 9; max--) {
		n = snprintf(text2, sizeof(text2),
			     "{\"ports\": [{\"name\": \"e\", \"devargs\": \"net_tap0\"}], "
			     "\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 2, "
			     "\"max_fib_nodes\": %d}], "
			     "\"interfaces\": [{\"name\": \"ea\", \"vrf\": \"a\", \"port\": \"e\", "
			     "\"addresses\": [\"192.168.1.1/24\"]}], \"routes\": [",
			     max);
		for (int i = 0; i < 4; i++)
			n += snprintf(text2 + n, sizeof(text2) - (size_t)n,
				      "%s{\"vrf\": \"a\", \"prefix\": \"%d.0.0.%d/32\", \"type\": "
				      "\"blackhole\"}",
				      i ? ", " : "", 10 + i / 2 * 10, 1 + i % 2);
		snprintf(text2 + n, sizeof(text2) - (size_t)n, "]}}");
		if (max == 10) {
			assert_int_equal(decode(text2, &cfg, &e), 0);
			tessd_cfg_free(&cfg);
		} else {
			expect_error(text2, "/router/vrfs/0/max_fib_nodes", "needs 10 FIB nodes");
		}
	}
}

static void test_router_config(void **state)
{
	static const struct {
		const char *more, *path, *msg;
	} bad[] = {
		{ ", \"routes\": [{\"vrf\": \"c\", \"prefix\": \"10.1.0.0/16\", \"type\": "
		  "\"blackhole\"}]",
		  "/router/routes/0/vrf", "no VRF named 'c'" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.1/16\", \"type\": "
		  "\"blackhole\"}]",
		  "/router/routes/0/prefix", "did you mean 10.1.0.0/16" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\"}]",
		  "/router/routes/0/nexthops", "needs next hops" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\", "
		  "\"nexthops\": "
		  "[{\"via\": \"10.0.0.2\"}], \"type\": \"reject\"}]",
		  "/router/routes/0/nexthops", "a reject route has no next hops" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\", "
		  "\"nexthops\": "
		  "[{\"via\": \"172.16.0.1\"}]}]",
		  "/router/routes/0/nexthops/0/via", "not on a connected subnet of VRF a" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\", "
		  "\"nexthops\": "
		  "[{\"via\": \"10.0.0.1\"}]}]",
		  "/router/routes/0/nexthops/0/via", "an address of this router" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\", "
		  "\"nexthops\": "
		  "[{\"via\": \"192.168.1.2\", \"interface\": \"tb\"}]}]",
		  "/router/routes/0/nexthops/0/interface", "in VRF b, not a" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.1.0.0/16\", "
		  "\"nexthops\": "
		  "[{\"via\": \"192.168.1.2\", \"interface\": \"ta\"}]}]",
		  "/router/routes/0/nexthops/0/interface", "not on a subnet of interface 'ta'" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"192.168.1.0/24\", "
		  "\"type\": "
		  "\"blackhole\"}]",
		  "/router/routes/0/prefix", "connected subnet of interface 'ea'" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"192.168.1.1/32\", "
		  "\"type\": "
		  "\"blackhole\"}]",
		  "/router/routes/0/prefix", "an address of this router" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.9.0.0/16\", \"type\": "
		  "\"vrf\", \"target_vrf\": \"a\"}]",
		  "/router/routes/0/target_vrf", "back into its own VRF" },
		{ ", \"routes\": [{\"vrf\": \"a\", \"prefix\": \"10.9.0.0/16\", \"type\": "
		  "\"blackhole\"}, {\"vrf\": \"a\", \"prefix\": \"10.9.0.0/16\", \"type\": "
		  "\"reject\"}]",
		  "/router/routes/1/prefix", "already has a route to 10.9.0.0/16" },
		{ ", \"neighbours\": [{\"vrf\": \"a\", \"ip\": \"172.16.0.9\", \"mac\": "
		  "\"02:00:00:00:00:09\"}]",
		  "/router/neighbours/0/interface", "not on a connected subnet" },
		{ ", \"neighbours\": [{\"vrf\": \"a\", \"ip\": \"192.168.1.1\", \"mac\": "
		  "\"02:00:00:00:00:09\"}]",
		  "/router/neighbours/0/ip", "an address of this router" },
		/* The later of two, whatever lies between (the check sorts). */
		{ ", \"neighbours\": [{\"vrf\": \"a\", \"ip\": \"10.0.0.9\", \"mac\": "
		  "\"02:00:00:00:00:09\"}, {\"vrf\": \"a\", \"ip\": \"10.0.0.5\", \"mac\": "
		  "\"02:00:00:00:00:05\"}, {\"vrf\": \"a\", \"ip\": \"10.0.0.9\", \"mac\": "
		  "\"02:00:00:00:00:0a\"}]",
		  "/router/neighbours/2/ip", "VRF a already has neighbour 10.0.0.9" },
	};
	struct tessd_cfg cfg;
	struct cfg_errs e;
	char text[4096];

	(void)state;
	/* Valid, with defaults. */
	snprintf(text, sizeof(text),
		 ROUTER(", \"routes\": [{\"vrf\": \"a\", \"prefix\": "
			"\"0.0.0.0/0\", \"nexthops\": [{\"via\": "
			"\"10.0.0.2\"}]}]"));
	assert_int_equal(decode(text, &cfg, &e), 0);
	assert_int_equal(cfg.router.n_vrfs, 2);
	assert_int_equal(cfg.router.vrfs[0].icmp_rate, 100);
	assert_int_equal(cfg.router.vrfs[0].neigh_limit, 0); /* automatic: a share */
	assert_int_equal(cfg.router.vrfs[0].neigh_queue, 3);
	assert_int_equal(cfg.router.interfaces[1].mtu, 1500);
	assert_int_equal(cfg.router.routes[0].type, TESS_ROUTE_UNICAST);
	assert_int_equal(cfg.router.neigh_capacity, 65536);
	tessd_cfg_free(&cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), ROUTER("%s"), bad[i].more);
		expect_error(text, bad[i].path, bad[i].msg);
	}
}

/* One VRF "a" over ports e (plain) and s (a switch access port), with these interfaces. */
#define IFACES(list)                                                                              \
	"{\"ports\": [{\"name\": \"e\", \"devargs\": \"net_tap0\", \"mtu\": 1500}, "              \
	"{\"name\": \"s\", \"devargs\": \"net_tap2\", \"mode\": \"access\", \"group\": \"g\"}], " \
	"\"switch\": {\"groups\": [{\"name\": \"g\", \"vlan\": 10}]}, "                           \
	"\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1}], \"interfaces\": [" list "]}}"

static void test_router_interfaces(void **state)
{
	(void)state;
	expect_error("{\"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1}, {\"name\": "
		     "\"b\", \"id\": 1}]}}",
		     "/router/vrfs/1/id", "already VRF 'a'");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"port\": \"s\"}"),
		     "/router/interfaces/0/port", "is a switch access port");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"port\": \"e\", "
			    "\"group\": \"g\"}"),
		     "/router/interfaces/0/port", "give one of port, group");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"group\": \"g\", "
			    "\"vlan\": 10}"),
		     "/router/interfaces/0/vlan", "leave vlan out");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"z\", \"port\": \"e\"}"),
		     "/router/interfaces/0/vrf", "no VRF named 'z'");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"port\": \"e\", "
			    "\"mtu\": 9000}"),
		     "/router/interfaces/0/mtu", "more than port e's 1500");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"port\": \"e\", "
			    "\"addresses\": [\"10.0.0.255/24\"]}"),
		     "/router/interfaces/0/addresses/0", "broadcast address");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"port\": \"e\", "
			    "\"addresses\": [\"127.0.0.2/8\"]}"),
		     "/router/interfaces/0/addresses/0", "not a unicast host address");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"port\": \"e\", "
			    "\"addresses\": [\"10.0.0.1/24\"]}, {\"name\": \"y\", \"vrf\": "
			    "\"a\", \"port\": \"e\", \"vlan\": 5, \"addresses\": "
			    "[\"10.0.9.1/16\"]}"),
		     "/router/interfaces/1/addresses/0", "overlaps 10.0.0.1/24");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"port\": \"e\", "
			    "\"vlan\": 5}, {\"name\": \"y\", \"vrf\": \"a\", \"port\": "
			    "\"e\", \"vlan\": 5}"),
		     "/router/interfaces/1/vlan", "already interface 'x'");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"group\": \"g\", "
			    "\"mtu\": 9000}"),
		     "/router/interfaces/0/mtu", "more than port s's 1500 in group g");
	expect_error(IFACES("{\"name\": \"x\", \"vrf\": \"a\", \"port\": \"e\", "
			    "\"mac\": \"01:00:5e:00:00:01\"}"),
		     "/router/interfaces/0/mac", "multicast");
}

static void test_xc_helpers(void **state)
{
	struct tessd_cfg cfg;
	struct cfg_errs e;

	(void)state;
	assert_int_equal(
		decode("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"b\"}]}", &cfg, &e), 0);
	assert_int_equal(tessd_cfg_xc_of(&cfg, "b"), 0);
	assert_int_equal(tessd_cfg_xc_of(&cfg, "z"), -1);
	tessd_cfg_free(&cfg);
	/* The same pair again: its first end is taken (the cross-connect module's rules).
	 */
	assert_true(decode("{" PORTS2 ", \"xconnects\": [{\"a\": \"a\", \"b\": \"b\"}, "
			   "{\"a\": \"b\", \"b\": \"a\"}]}",
			   &cfg, &e) < 0);
	assert_string_equal(e.e[0].path, "/xconnects/1/a");
	assert_int_equal(e.e[0].code, EBUSY);
}

static void test_devargs_name(void **state)
{
	char n[16];

	(void)state;
	tessd_devargs_name("net_tap0,iface=x", n, sizeof(n));
	assert_string_equal(n, "net_tap0");
	tessd_devargs_name("0000:03:00.0", n, sizeof(n));
	assert_string_equal(n, "0000:03:00.0");
	tessd_devargs_name("averyveryverylongdevicename,x", n, sizeof(n));
	assert_string_equal(n, "averyveryverylo");
}

static void test_examples_validate(void **state)
{
	DIR *d = opendir(EXAMPLES_DIR);
	struct dirent *ent;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((ent = readdir(d)) != NULL) {
		char path[1024];
		struct tessd_cfg cfg;
		struct cfg_errs e;
		json_t *doc;

		if (strstr(ent->d_name, ".json") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", EXAMPLES_DIR, ent->d_name);
		cfg_errs_init(&e);
		doc = cfg_file_load(path, &e);
		if (doc == NULL || tessd_cfg_decode(doc, &cfg, &e, dp_cfg_validate) < 0)
			fail_msg("%s: %s: %s", path, e.e[0].path, e.e[0].msg);
		json_decref(doc);
		tessd_cfg_free(&cfg);
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
}

/*
 * What only one interface may have (a name, a port and VLAN, a group, a
 * kernel name in a namespace): each later one is refused once, naming the
 * first; the same VLAN on another port and a kernel name in another
 * namespace are not.
 */
static void test_interface_duplicates(void **state)
{
	static const char *const want[][2] = {
		{ "/router/interfaces/1/kernel_name",
		  "interface 'i0' has the kernel name 'k' in netns n1" },
		{ "/router/interfaces/3/name", "duplicate interface name 'i0'" },
		{ "/router/interfaces/3/vlan", "port a VLAN 5 is already interface 'i0'" },
		{ "/router/interfaces/5/group", "group g already has interface 'i4'" },
	};
	const char *text =
		"{" PORTS2 ", \"switch\": {\"groups\": [{\"name\": \"g\", \"vlan\": 10}]}, "
		"\"router\": {\"vrfs\": [{\"name\": \"v\", \"id\": 1, \"kernel\": {\"netns\": "
		"\"n1\"}}, {\"name\": \"w\", \"id\": 2, \"kernel\": {\"netns\": \"n1\", "
		"\"table\": 100}}, {\"name\": \"x\", \"id\": 3, \"kernel\": {\"netns\": \"n2\"}}], "
		"\"interfaces\": ["
		"{\"name\": \"i0\", \"vrf\": \"v\", \"port\": \"a\", \"vlan\": 5, "
		"\"kernel_name\": \"k\"}, "
		"{\"name\": \"i1\", \"vrf\": \"w\", \"port\": \"a\", \"vlan\": 6, "
		"\"kernel_name\": \"k\"}, "
		"{\"name\": \"i2\", \"vrf\": \"x\", \"port\": \"b\", \"vlan\": 5, "
		"\"kernel_name\": \"k\"}, "
		"{\"name\": \"i0\", \"vrf\": \"x\", \"port\": \"a\", \"vlan\": 5}, "
		"{\"name\": \"i4\", \"vrf\": \"x\", \"group\": \"g\"}, "
		"{\"name\": \"i5\", \"vrf\": \"x\", \"group\": \"g\"}]}}";
	struct tessd_cfg cfg;
	struct cfg_errs e;

	(void)state;
	assert_int_not_equal(decode(text, &cfg, &e), 0);
	for (unsigned i = 0; e.n != 4 && i < e.n; i++)
		print_message("%s: %s\n", e.e[i].path, e.e[i].msg);
	assert_int_equal(e.n, 4);
	for (unsigned w = 0; w < 4; w++) {
		bool found = false;
		for (unsigned i = 0; i < e.n; i++)
			found |= strcmp(e.e[i].path, want[w][0]) == 0 &&
				 strcmp(e.e[i].msg, want[w][1]) == 0;
		assert_true(found);
	}
}

/* NAT44 review of c5de64f: three vrfs, two instances a and b into c, NAT_FMT's holes filled
 * (workers, a's max_blocks, b's max_sessions). */
#define NAT_FMT                                                                                 \
	"{\"eal\": {\"workers\": [%s]}, \"router\": {\"vrfs\": [{\"name\": \"a\", \"id\": 1}, " \
	"{\"name\": \"b\", \"id\": 2}, {\"name\": \"c\", \"id\": 3}]}, \"nat\": "               \
	"{\"session_capacity\": 1024, \"pools\": [{\"name\": \"p\", \"prefix\": "               \
	"\"192.0.2.1/32\", \"port_min\": 1024, \"port_max\": 2047, \"block_size\": 512}], "     \
	"\"instances\": [{\"name\": \"a\", \"inside_vrf\": \"a\", \"outside_vrf\": \"c\", "     \
	"\"pool\": \"p\", \"max_blocks\": %u, \"max_sessions\": 100}, {\"name\": \"b\", "       \
	"\"inside_vrf\": \"b\", \"outside_vrf\": \"c\", \"pool\": \"p\", \"max_blocks\": 1, "   \
	"\"max_sessions\": %u}]}}"

static void expect_nat_sessions(const char *workers, unsigned max_blocks, unsigned b_sessions,
				const char *path, const char *msg_part)
{
	char text[2048];

	snprintf(text, sizeof(text), NAT_FMT, workers, max_blocks, b_sessions);
	if (path)
		expect_error(text, path, msg_part);
	else
		expect_ok(text);
}

static void expect_nat(const char *workers, unsigned max_blocks, const char *path,
		       const char *msg_part)
{
	expect_nat_sessions(workers, max_blocks, 100, path, msg_part);
}

/*
 * Finding 2: the instances' sessions and records fit the table. Two workers
 * may hold 3 x 200 of its 1024 entries on one of them (it borrows from the
 * other's slice), not 3 x 250.
 */
static void test_nat_sessions_fit_the_table(void **state)
{
	(void)state;
	expect_nat("1", 1, NULL, NULL);
	expect_nat_sessions("1, 2", 1, 200, NULL, NULL);
	expect_nat_sessions("1, 2", 1, 250, "/nat/instances/1/max_sessions",
			    "past nat.session_capacity (1024, 1024 in 2 workers");
}

/* Finding 4: instances sharing a pool of 2 blocks hold at most 2 between them. */
static void test_nat_pool_shares_fit_the_pool(void **state)
{
	(void)state;
	expect_nat("1", 1, NULL, NULL);
	expect_nat("1", 2, "/nat/instances/1/max_blocks", "past its 2 blocks");
}

#define LOG_FMT                                                                       \
	"{\"control\": {\"log_dirs\": [\"/nonexistent-natlogfix/logs/\"]}, \"nat\": " \
	"{\"logging\": {\"path\": \"%s\"}}}"

/* natlog review of 9ec1183, 1 and 8: confined to control.log_dirs, lexically (no
 * filesystem). */
static void test_nat_log_path_confined_lexically(void **state)
{
	static const char *const bad[] = { "/etc/shadow", "/nonexistent-natlogfix/logs/../x",
					   "/nonexistent-natlogfix/logs//x",
					   "/nonexistent-natlogfix/logsx/y", NULL };
	char text[512];

	(void)state;
	/* Its directory does not exist: no commit fails for it (opening it is counted). */
	snprintf(text, sizeof(text), LOG_FMT, "/nonexistent-natlogfix/logs/sub/nat.log");
	expect_ok(text);
	for (const char *const *b = bad; *b; b++) {
		snprintf(text, sizeof(text), LOG_FMT, *b);
		expect_error(text, "/nat/logging/path",
			     *b == bad[0] || *b == bad[3] ? "control.log_dirs" : "plain path");
	}
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tess-cfg-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_file_load_errors(void **state)
{
	char path[128];
	struct cfg_errs e;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	cfg_errs_init(&e);
	assert_null(cfg_file_load(path, &e));
	assert_int_equal(e.e[0].code, ENOENT);

	snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	write_file(path, "{\n  \"ports\": [,]\n}\n");
	cfg_errs_init(&e);
	assert_null(cfg_file_load(path, &e));
	assert_int_equal(e.e[0].code, EBADMSG);
	assert_non_null(strstr(e.e[0].msg, "line 2"));

	write_file(path, "{\"eal\": {}, \"eal\": {}}");
	cfg_errs_init(&e);
	assert_null(cfg_file_load(path, &e));
	assert_non_null(strstr(e.e[0].msg, "duplicate"));

	write_file(path, "[1, 2]");
	cfg_errs_init(&e);
	assert_null(cfg_file_load(path, &e));
	assert_non_null(strstr(e.e[0].msg, "expected an object"));

	cfg_errs_init(&e);
	assert_null(cfg_file_load(tmpdir, &e));
	assert_non_null(strstr(e.e[0].msg, "not a regular file"));
}

static void test_file_save_atomic(void **state)
{
	char path[128], why[256];
	struct cfg_errs e;
	struct stat st;
	json_t *doc = json_pack("{s:[i,i]}", "x", 1, 2), *back;
	DIR *d;
	struct dirent *ent;

	(void)state;
	/* A new file is created 0640. */
	snprintf(path, sizeof(path), "%s/saved.json", tmpdir);
	unlink(path);
	assert_int_equal(cfg_file_save(path, doc, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* An existing file is replaced whole and keeps its mode. */
	write_file(path, "old");
	chmod(path, 0600);
	assert_int_equal(cfg_file_save(path, doc, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	cfg_errs_init(&e);
	back = cfg_file_load(path, &e);
	assert_non_null(back);
	assert_true(json_equal(doc, back));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* No temporary file is left behind. */
	d = opendir(tmpdir);
	assert_non_null(d);
	while ((ent = readdir(d)) != NULL)
		assert_null(strstr(ent->d_name, ".saved.json."));
	closedir(d);
	json_decref(back);

	/* A symlink is not followed, and its target is left alone. */
	char link[160], target[160];
	snprintf(target, sizeof(target), "%s/target.json", tmpdir);
	snprintf(link, sizeof(link), "%s/link.json", tmpdir);
	write_file(target, "{}");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(cfg_file_save(link, doc, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a regular file"));
	cfg_errs_init(&e);
	back = cfg_file_load(target, &e);
	assert_int_equal(json_object_size(back), 0);
	json_decref(back);

	/* A directory that does not exist: an error, and nothing written. */
	assert_true(cfg_file_save("/nonexistent-dir/x.json", doc, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "temporary"));
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_consistent),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_cross_references),
		cmocka_unit_test(test_xc_helpers),
		cmocka_unit_test(test_devargs_name),
		cmocka_unit_test(test_examples_validate),
		cmocka_unit_test(test_file_load_errors),
		cmocka_unit_test(test_file_save_atomic),
		cmocka_unit_test(test_router_config),
		cmocka_unit_test(test_router_interfaces),
		cmocka_unit_test(test_vrf_max_routes),
		cmocka_unit_test(test_vrf_max_nexthop_groups),
		cmocka_unit_test(test_vrf_neigh_limits_fit_the_capacity),
		cmocka_unit_test(test_vrf_neigh_shares),
		cmocka_unit_test(test_vrf_group_shares),
		cmocka_unit_test(test_vrf_fib_node_shares),
		cmocka_unit_test(test_nat_sessions_fit_the_table),
		cmocka_unit_test(test_interface_duplicates),
		cmocka_unit_test(test_nat_pool_shares_fit_the_pool),
		cmocka_unit_test(test_nat_log_path_confined_lexically),
	};
	/* Each section's rules are its module's: the config is checked as tessd checks it.
	 */
	if (tess_modules_sort() < 0)
		return 1;
	return cmocka_run_group_tests(tests, make_tmpdir, rm_tmpdir);
}
