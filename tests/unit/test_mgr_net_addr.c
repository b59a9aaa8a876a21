/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Desktops' addresses: the pick from a tenant's pool, the PEs' reservations of them, and the
 * network changes that would lose one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "network_priv.h"
#include "tessd_config.h"

#define IP(d) (0xc0a83200u | (d)) /* 192.168.50.d */

static char routers[1][MGR_NAME_LEN] = { "pe1" };
static struct mgr_tenant tenants[2];
static struct mgr_desktop desks[8];
static struct mgr_desktop *desk_ptrs[8];

/* acme (id 1, pool .100-.103) and bravo (id 2, the same pool); no desktops. */
static int setup(void **state)
{
	(void)state;
	memset(tenants, 0, sizeof(tenants));
	for (int i = 0; i < 2; i++) {
		struct mgr_tenant_spec *t = &tenants[i].spec;
		tenants[i].id = (uint32_t)i + 1;
		snprintf(t->name, sizeof(t->name), "%s", i ? "bravo" : "acme");
		t->network.routers = routers;
		t->network.n_routers = 1;
		t->network.gateway = (struct cfg_prefix4){ .ip = IP(1), .len = 24 };
		t->network.dhcp.pool_start = IP(100);
		t->network.dhcp.pool_end = IP(103);
		t->network.dhcp.lease_sec = 600;
	}
	mgr.tenants = tenants;
	mgr.n_tenants = 2;
	mgr.desktops = desk_ptrs;
	mgr.n_desktops = 0;
	return 0;
}

/* A desktop of tenant with address d (0: none), its create job's look done or not. */
static struct mgr_desktop *add(uint32_t tenant, const char *name, uint32_t d, bool checked)
{
	struct mgr_desktop *x = &desks[mgr.n_desktops];

	memset(x, 0, sizeof(*x));
	x->id = mgr.n_desktops + 10;
	x->tenant_id = tenant;
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->mac, sizeof(x->mac), "02:7e:00:00:00:%02x", x->id);
	x->address = d ? IP(d) : 0;
	x->address_checked = checked;
	desk_ptrs[mgr.n_desktops++] = x;
	return x;
}

static uint32_t pick(uint32_t tenant, unsigned *status)
{
	struct mgr_err e = { 0 };
	uint32_t a = mgr_net_new_address_locked(&tenants[tenant - 1], &e);

	*status = e.status;
	return a;
}

static void lowest_free_of_the_tenants_own(void **state)
{
	unsigned st;

	(void)state;
	assert_int_equal(pick(1, &st), IP(100));
	add(1, "a", 101, true);
	add(2, "b", 100, true); /* bravo's: the same addresses are acme's to give */
	add(1, "old", 0, true); /* made before addresses were given */
	assert_int_equal(pick(1, &st), IP(100));
	add(1, "c", 100, false); /* its job has not looked yet: taken all the same */
	assert_int_equal(pick(1, &st), IP(102));
	add(1, "d", 103, true);
	assert_int_equal(pick(1, &st), IP(102));
	add(1, "e", 102, true);
	assert_int_equal(pick(1, &st), 0);
	assert_int_equal(st, 409);
	/* No DHCP, no network: no address, no error. */
	tenants[0].spec.network.dhcp.pool_start = 0;
	assert_int_equal(pick(1, &st), 0);
	assert_int_equal(st, 0);
	tenants[0].spec.network.n_routers = 0;
	assert_int_equal(pick(1, &st), 0);
	assert_int_equal(st, 0);
}

static void a_pool_at_the_top_of_the_space(void **state)
{
	unsigned st;

	(void)state;
	tenants[0].spec.network.gateway = (struct cfg_prefix4){ .ip = 0xfffffff0u, .len = 28 };
	tenants[0].spec.network.dhcp.pool_start = 0xfffffffdu;
	tenants[0].spec.network.dhcp.pool_end = 0xfffffffeu;
	add(1, "a", 0, true)->address = 0xfffffffdu;
	assert_int_equal(pick(1, &st), 0xfffffffeu);
	add(1, "b", 0, true)->address = 0xfffffffeu;
	assert_int_equal(pick(1, &st), 0); /* not 0xffffffff, nor a wrap to 0 */
	assert_int_equal(st, 409);
}

static void reservations_in_address_order_once_looked(void **state)
{
	(void)state;
	add(1, "z_last", 102, true);
	add(1, "first", 100, true);
	add(1, "new", 101, false); /* its job has not looked at the leases yet */
	add(1, "old", 0, true);
	add(2, "bravo1", 103, true);
	json_t *r = net_reservations_locked(&tenants[0].spec);
	json_t *want = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "mac", desks[1].mac,
				 "address", "192.168.50.100", "hostname", "first", "mac",
				 desks[0].mac, "address", "192.168.50.102", "hostname", "z-last");
	assert_true(json_equal(r, want));
	json_decref(want);
	json_decref(r);
	/* The PE's server carries them, with a lease for each besides the pool's four. */
	json_t *s = net_pe_dhcp_server(&tenants[0].spec);
	assert_int_equal(json_array_size(json_object_get(s, "reservations")), 2);
	assert_int_equal(json_integer_value(json_object_get(s, "max_leases")), 4 + 2);
	assert_string_equal(json_string_value(json_object_get(s, "interface")), "acme-dc");
	json_decref(s);
	/* A big pool: tessd's default share of dynamic leases, and the reservations. */
	tenants[0].spec.network.dhcp.pool_end = IP(100) + 5000;
	tenants[0].spec.network.gateway.len = 16;
	s = net_pe_dhcp_server(&tenants[0].spec);
	assert_int_equal(json_integer_value(json_object_get(s, "max_leases")), 1024 + 2);
	json_decref(s);
	tenants[0].spec.network.dhcp.pool_start = 0;
	assert_null(net_pe_dhcp_server(&tenants[0].spec));
}

static void a_change_that_loses_an_address_is_refused(void **state)
{
	struct mgr_tenant_spec t;
	struct mgr_err e = { 0 };

	(void)state;
	add(1, "a", 100, true);
	add(2, "b", 50, true); /* bravo's: not acme's concern */
	t = tenants[0].spec;
	/* The pool moved past it: kept, outside the pool. */
	t.network.dhcp.pool_start = IP(150);
	t.network.dhcp.pool_end = IP(199);
	assert_true(net_addresses_kept_locked(&t, &e));
	/* Another subnet, the gateway's address, no DHCP, no network. */
	t.network.gateway = (struct cfg_prefix4){ .ip = 0xc0a83c01, .len = 24 };
	assert_false(net_addresses_kept_locked(&t, &e));
	assert_int_equal(e.status, 409);
	assert_string_equal(e.path, "/network/gateway");
	assert_non_null(strstr(e.msg, "desktop a has address 192.168.50.100"));
	t = tenants[0].spec;
	t.network.gateway = (struct cfg_prefix4){ .ip = IP(100), .len = 24 };
	e = (struct mgr_err){ 0 };
	assert_false(net_addresses_kept_locked(&t, &e));
	assert_string_equal(e.path, "/network/gateway");
	t = tenants[0].spec;
	t.network.dhcp.pool_start = t.network.dhcp.pool_end = 0;
	e = (struct mgr_err){ 0 };
	assert_false(net_addresses_kept_locked(&t, &e));
	assert_string_equal(e.path, "/network/dhcp/pool_start");
	t = tenants[0].spec;
	t.network.n_routers = 0;
	e = (struct mgr_err){ 0 };
	assert_false(net_addresses_kept_locked(&t, &e));
	assert_string_equal(e.path, "/network/routers");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(lowest_free_of_the_tenants_own, setup),
		cmocka_unit_test_setup(a_pool_at_the_top_of_the_space, setup),
		cmocka_unit_test_setup(reservations_in_address_order_once_looked, setup),
		cmocka_unit_test_setup(a_change_that_loses_an_address_is_refused, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
