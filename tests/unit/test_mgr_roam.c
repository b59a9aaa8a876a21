/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The roaming desktop's pure parts: great-circle distance, the nearest
 * site, a client's address matched to a site's prefixes, the "same
 * location" rule, locations as clients give them, and a desktop's links to
 * its base image copies as it moves.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roam.h"
#include "tessd_config.h"

static struct mgr_site sites[4];

static void site(unsigned i, const char *name, double lat, double lon, const char *prefix)
{
	memset(&sites[i], 0, sizeof(sites[i]));
	sites[i].id = i + 1;
	snprintf(sites[i].spec.name, sizeof(sites[i].spec.name), "%s", name);
	sites[i].spec.latitude = lat;
	sites[i].spec.longitude = lon;
	if (prefix) {
		struct cfg_prefix4 pf;
		assert_int_equal(cfg_parse_prefix4(prefix, &pf), 0);
		sites[i].prefixes[0].addr = pf.ip;
		sites[i].prefixes[0].len = pf.len;
		sites[i].n_prefixes = 1;
	}
}

static int setup(void **state)
{
	(void)state;
	site(0, "paris", 48.8566, 2.3522, "10.1.0.0/16");
	site(1, "london", 51.5074, -0.1278, "10.2.0.0/16");
	site(2, "newyork", 40.7128, -74.0060, "10.0.0.0/8");
	site(3, "tokyo", 35.6762, 139.6503, "10.2.128.0/17");
	return 0;
}

static void test_distance(void **state)
{
	(void)state;
	/* Reference great-circle distances (mean radius 6371.0088 km). */
	assert_true(fabs(mgr_distance_km(48.8566, 2.3522, 51.5074, -0.1278) - 343.6) < 1.0);
	assert_true(fabs(mgr_distance_km(48.8566, 2.3522, 40.7128, -74.0060) - 5837.2) < 3.0);
	assert_true(mgr_distance_km(10, 20, 10, 20) == 0.0);
	/* Symmetric, and antipodes are half the circumference. */
	assert_true(fabs(mgr_distance_km(1, 2, 3, 4) - mgr_distance_km(3, 4, 1, 2)) < 1e-9);
	assert_true(fabs(mgr_distance_km(0, 0, 0, 180) - M_PI * 6371.0088) < 0.01);
	assert_true(fabs(mgr_distance_km(90, 0, -90, 0) - M_PI * 6371.0088) < 0.01);
	/* Across the antimeridian: 2 degrees of longitude, not 358. */
	assert_true(mgr_distance_km(0, 179, 0, -179) < 230);
}

static void test_nearest_sites(void **state)
{
	uint32_t order[4];

	(void)state;
	/* From Brussels: Paris (264 km), London (320), New York, Tokyo. */
	mgr_sites_by_distance(sites, 4, 50.8503, 4.3517, order);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 3);
	/* From Boston: New York first, Tokyo last. */
	mgr_sites_by_distance(sites, 4, 42.3601, -71.0589, order);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[3], 3);
	/* Ties by name: two sites at one place. */
	site(3, "aaa", 48.8566, 2.3522, NULL);
	mgr_sites_by_distance(sites, 4, 48.8566, 2.3522, order);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 0);
}

static void test_ip_to_site(void **state)
{
	(void)state;
	assert_int_equal(mgr_site_of_ip(sites, 4, 0x0a010203), 0);  /* 10.1.2.3: paris /16 */
	assert_int_equal(mgr_site_of_ip(sites, 4, 0x0a020304), 1);  /* 10.2.3.4: london /16 */
	assert_int_equal(mgr_site_of_ip(sites, 4, 0x0a028001), 3);  /* 10.2.128.1: tokyo /17 */
	assert_int_equal(mgr_site_of_ip(sites, 4, 0x0a090909), 2);  /* 10.9.9.9: the /8 */
	assert_int_equal(mgr_site_of_ip(sites, 4, 0xc0a80001), -1); /* 192.168.0.1: none */
}

static void test_locations(void **state)
{
	struct mgr_location loc;
	char err[256];
	double lat, lon;
	int s;

	(void)state;
	assert_int_equal(mgr_location_parse("51.5,-0.12", &loc, err, sizeof(err)), 0);
	assert_int_equal(loc.kind, MGR_LOC_POINT);
	assert_true(loc.lat == 51.5 && loc.lon == -0.12);
	assert_int_equal(mgr_location_parse("10.2.3.4", &loc, err, sizeof(err)), 0);
	assert_int_equal(loc.kind, MGR_LOC_IP);
	assert_int_equal(mgr_location_resolve(&loc, sites, 4, &lat, &lon, &s, err, sizeof(err)), 0);
	assert_int_equal(s, 1);
	assert_true(lat == sites[1].spec.latitude);
	assert_int_equal(mgr_location_parse("london", &loc, err, sizeof(err)), 0);
	assert_int_equal(loc.kind, MGR_LOC_SITE);
	assert_int_equal(mgr_location_resolve(&loc, sites, 4, &lat, &lon, &s, err, sizeof(err)), 0);
	assert_int_equal(s, 1);
	/* Unknown site, an address of no site. */
	assert_int_equal(mgr_location_parse("mars", &loc, err, sizeof(err)), 0);
	assert_int_equal(mgr_location_resolve(&loc, sites, 4, &lat, &lon, &s, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "mars"));
	assert_int_equal(mgr_location_parse("192.168.1.1", &loc, err, sizeof(err)), 0);
	assert_int_equal(mgr_location_resolve(&loc, sites, 4, &lat, &lon, &s, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "192.168.1.1"));
	/* Malformed. */
	const char *bad[] = { "91,0", "0,181",    "1,",    ",1",      "1,2,3", "a,b",
			      "",     "bad name", "nan,0", "1e999,0", "x/y" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mgr_location_parse(bad[i], &loc, err, sizeof(err)), -EINVAL);
}

static void test_same_location(void **state)
{
	(void)state;
	/* Same-site rule: an address or name at the desktop's site; a point at its nearest. */
	assert_true(mgr_same_location(sites, 4, 0, 0, 0, 0, 0));
	assert_false(mgr_same_location(sites, 4, 0, 1, 0, 0, 0));
	assert_true(mgr_same_location(sites, 4, 0, -1, 48.9, 2.4, 0));   /* near Paris */
	assert_false(mgr_same_location(sites, 4, 0, -1, 51.4, -0.1, 0)); /* near London */
	/* Distance rule: within same_km of the desktop's site. */
	assert_true(mgr_same_location(sites, 4, 0, -1, 51.5, -0.12, 400));
	assert_false(mgr_same_location(sites, 4, 0, -1, 51.5, -0.12, 300));
}

static void test_links(void **state)
{
	const uint32_t copy_sites[] = { 1, 2, 3, 2 };
	const char *const paths[] = { "/p/base", "/l/base", "/n/base", "/l/dup" };
	struct mgr_link links[8];
	int n;

	(void)state;
	/* Moving to site 2: its copy active, the others passive, each site once. */
	n = mgr_links_build(copy_sites, paths, 4, 2, links, 8);
	assert_int_equal(n, 3);
	assert_int_equal(links[0].site_id, 2);
	assert_true(links[0].active);
	assert_string_equal(links[0].path, "/l/base");
	assert_int_equal(links[1].site_id, 1);
	assert_false(links[1].active);
	assert_int_equal(links[2].site_id, 3);
	assert_false(links[2].active);
	/* Moving on to site 3: the active link follows. */
	n = mgr_links_build(copy_sites, paths, 4, 3, links, 8);
	assert_int_equal(n, 3);
	assert_int_equal(links[0].site_id, 3);
	assert_true(links[0].active);
	assert_false(links[1].active || links[2].active);
	/* A site without a copy cannot be active; the list is bounded. */
	assert_int_equal(mgr_links_build(copy_sites, paths, 4, 9, links, 8), -ENOENT);
	assert_int_equal(mgr_links_build(copy_sites, paths, 4, 1, links, 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_distance, setup),
		cmocka_unit_test_setup(test_nearest_sites, setup),
		cmocka_unit_test_setup(test_ip_to_site, setup),
		cmocka_unit_test_setup(test_locations, setup),
		cmocka_unit_test_setup(test_same_location, setup),
		cmocka_unit_test_setup(test_links, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
