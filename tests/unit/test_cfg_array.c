/* SPDX-License-Identifier: BSD-3-Clause */
/* Config collections by JSON pointer: lookup, add, set, del, limits, deep copies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg_array.h"
#include "tessd_config.h"
#include "unit_assert.h"

static const char *const DOC =
	"{\"ports\": [{\"name\": \"a\", \"devargs\": \"net_tap0\", \"mode\": \"trunk\","
	" \"groups\": [\"g1\"]},"
	" {\"name\": \"b\", \"devargs\": \"net_tap1\", \"mode\": \"access\", \"group\": \"g2\"}],"
	" \"switch\": {\"groups\": ["
	"  {\"name\": \"g1\", \"tenant\": \"t\", \"vlan\": 10},"
	"  {\"name\": \"g2\", \"tenant\": \"t\", \"vlan\": 20, \"static_macs\":"
	"   [{\"mac\": \"02:00:00:00:00:01\", \"port\": \"b\"},"
	"    {\"mac\": \"02:00:00:00:00:02\", \"port\": \"b\"}]},"
	"  {\"name\": \"g3\", \"tenant\": \"t\", \"vlan\": 30}]}}";

static void load(struct tessd_cfg *cfg)
{
	json_t *j = json_loads(DOC, 0, NULL);
	struct cfg_errs errs;

	assert_non_null(j);
	cfg_errs_init(&errs);
	if (tessd_cfg_decode(j, cfg, &errs, NULL) < 0)
		fail_msg("%s: %s", errs.e[0].path, errs.e[0].msg);
	json_decref(j);
}

/* The names of a collection of named objects, comma-separated. */
static const char *names(const struct cfg_array *a)
{
	static char s[256];
	size_t n = 0;

	s[0] = '\0';
	for (uint32_t i = 0; i < *a->n && n < sizeof(s); i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s", i ? "," : "",
				      (const char *)cfg_array_at(a, i));
	return s;
}

static void test_find(void **state)
{
	struct tessd_cfg cfg;
	struct cfg_array a;

	(void)state;
	load(&cfg);
	assert_int_equal(cfg_array_find(&tessd_cfg_schema, &cfg, "/switch/groups", &a), 0);
	assert_ptr_equal(a.items, (void **)&cfg.sw.groups);
	assert_ptr_equal(a.n, &cfg.sw.n_groups);
	assert_ptr_equal(a.node->arr.item, &tessd_group_schema);
	assert_ptr_equal(cfg_array_at(&a, 2), &cfg.sw.groups[2]);
	assert_int_equal(
		cfg_array_find(&tessd_cfg_schema, &cfg, "/switch/groups/1/static_macs", &a), 0);
	assert_ptr_equal(a.n, &cfg.sw.groups[1].n_static_macs);
	assert_ptr_equal(cfg_array_at(&a, 1), &cfg.sw.groups[1].static_macs[1]);
	assert_int_equal(cfg_array_find(&tessd_cfg_schema, &cfg, "/router/routes", &a), 0);
	assert_ptr_equal(a.n, &cfg.router.n_routes);
	assert_int_equal(cfg_array_find(&tessd_cfg_schema, &cfg, "/ports/0/groups", &a), 0);
	assert_int_equal(*a.n, 1);

	static const struct {
		const char *ptr;
		int rc;
	} bad[] = {
		{ "", -EINVAL },
		{ "switch/groups", -EINVAL },
		{ "/", -ENOENT },
		{ "/nope", -ENOENT },
		{ "/switch", -EINVAL },           /* an object */
		{ "/switch/aging_sec", -EINVAL }, /* a number */
		{ "/switch/groups/0", -EINVAL },  /* an element */
		{ "/switch/groups/0/name", -EINVAL },
		{ "/switch/groups/3/static_macs", -ENOENT },
		{ "/switch/groups/01/static_macs", -EINVAL },
		{ "/switch/groups/-1/static_macs", -EINVAL },
		{ "/switch/groups/x/static_macs", -EINVAL },
		{ "/switch/groups//static_macs", -EINVAL },
		{ "/switch/groups/1/nope", -ENOENT },
		{ "/switch/groupsx", -ENOENT },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cfg_array_find(&tessd_cfg_schema, &cfg, bad[i].ptr, &a) != bad[i].rc)
			fail_msg("'%s': expected %d", bad[i].ptr, bad[i].rc);
	tessd_cfg_free(&cfg);
}

static void test_add_set_del(void **state)
{
	struct tessd_cfg cfg;
	struct tessd_group_cfg g4;
	struct cfg_array a;
	json_t *j;

	(void)state;
	load(&cfg);
	assert_int_equal(cfg_array_find(&tessd_cfg_schema, &cfg, "/switch/groups", &a), 0);

	/* Added: a deep copy, so the source's arrays stay the caller's. */
	j = cfg_encode(&tessd_group_schema, &cfg.sw.groups[1]);
	json_object_set_new(j, "name", json_string("g4"));
	json_object_set_new(j, "vlan", json_integer(40));
	assert_int_equal(cfg_decode(&tessd_group_schema, j, &g4, NULL, NULL), 0);
	assert_int_equal(cfg_array_add(&a, &g4), 0);
	assert_string_equal(names(&a), "g1,g2,g3,g4");
	assert_int_equal(cfg.sw.groups[3].n_static_macs, 2);
	assert_ptr_not_equal(cfg.sw.groups[3].static_macs, g4.static_macs);
	cfg_free(&tessd_group_schema, &g4);
	assert_int_equal(cfg.sw.groups[3].static_macs[1].mac.b[5], 2);
	json_t *back = cfg_encode(&tessd_group_schema, &cfg.sw.groups[3]);
	assert_true(json_equal(back, j));
	json_decref(back);
	json_decref(j);

	/* Replaced: the old element's arrays freed (ASan), the new one's copied. */
	assert_int_equal(cfg_array_set(&a, 1, &cfg.sw.groups[0]), 0);
	assert_string_equal(names(&a), "g1,g1,g3,g4");
	assert_int_equal(cfg.sw.groups[1].n_static_macs, 0);
	assert_int_equal(cfg_array_set(&a, 4, &cfg.sw.groups[0]), -ERANGE);

	/* Removed: the order of the others kept; an emptied array is as [] decodes. */
	assert_int_equal(cfg_array_del(&a, 1), 0);
	assert_string_equal(names(&a), "g1,g3,g4");
	assert_int_equal(cfg_array_del(&a, 3), -ERANGE);
	assert_int_equal(cfg_array_del(&a, 2), 0);
	assert_int_equal(cfg_array_del(&a, 0), 0);
	assert_int_equal(cfg_array_del(&a, 0), 0);
	assert_int_equal(cfg.sw.n_groups, 0);
	assert_null(cfg.sw.groups);
	assert_int_equal(cfg_array_del(&a, 0), -ERANGE);

	/* Items that are not objects (a trunk's group names) are copied inline. */
	assert_int_equal(cfg_array_find(&tessd_cfg_schema, &cfg, "/ports/0/groups", &a), 0);
	char name[TESS_NAME_LEN] = "g9";
	assert_int_equal(cfg_array_add(&a, name), 0);
	assert_int_equal(cfg.ports[0].n_groups, 2);
	assert_string_equal(cfg.ports[0].groups[1], "g9");
	tessd_cfg_free(&cfg);
}

static void test_max_items(void **state)
{
	struct tessd_cfg cfg;
	struct tessd_xc_cfg xc = { "a", "b" };
	struct cfg_array a;
	uint32_t max;

	(void)state;
	load(&cfg);
	assert_int_equal(cfg_array_find(&tessd_cfg_schema, &cfg, "/xconnects", &a), 0);
	max = a.node->arr.max;
	assert_int_equal(max, TESS_MAX_PORTS / 2);
	for (uint32_t i = 0; i < max; i++)
		assert_int_equal(cfg_array_add(&a, &xc), 0);
	/* One more would make a config that does not load again. */
	assert_int_equal(cfg_array_add(&a, &xc), -ERANGE);
	assert_int_equal(cfg.n_xconnects, max);
	tessd_cfg_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_add_set_del),
		cmocka_unit_test(test_max_items),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
