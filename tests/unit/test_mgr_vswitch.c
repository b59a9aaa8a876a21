/* SPDX-License-Identifier: BSD-3-Clause */
/* tessmgrd's requests to tessd: built with tessd's schemas, meaning what they meant before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tessd_config.h"
#include "vswitch.h"

/* Both requests decode through tessd's schema to the same config. */
static void assert_same_request(const struct cfg_node *schema, json_t *got, json_t *want)
{
	_Alignas(
		max_align_t) char a[sizeof(struct tessd_port_cfg) + sizeof(struct tessd_group_cfg)],
		b[sizeof(a)];
	struct cfg_errs e;

	assert_true(schema->obj.size <= sizeof(a));
	cfg_errs_init(&e);
	if (cfg_decode(schema, got, a, "/params", &e) < 0)
		fail_msg("request does not decode: %s: %s", e.e[0].path, e.e[0].msg);
	assert_int_equal(cfg_decode(schema, want, b, "/params", NULL), 0);
	json_t *ea = cfg_encode(schema, a), *eb = cfg_encode(schema, b);
	if (!json_equal(ea, eb)) {
		char *sa = json_dumps(ea, JSON_SORT_KEYS), *sb = json_dumps(eb, JSON_SORT_KEYS);
		fail_msg("got %s, want %s", sa, sb);
	}
	json_decref(ea);
	json_decref(eb);
	cfg_free(schema, a);
	cfg_free(schema, b);
}

static const struct mgr_port_req req = {
	.socket = "/run/tessera/tessd.sock",
	.port = "vm-7",
	.vhost_socket = "/var/run/vm-7.sock",
	.mac = "52:54:00:00:00:07",
	.vlan = 100,
	.group = "vlan100",
	.tenant = "acme",
};

static void test_group_request(void **state)
{
	char err[256] = "";
	json_t *p = mgr_vswitch_group_params(&req, err, sizeof(err));

	(void)state;
	assert_non_null(p);
	/* What tessmgrd sent by hand before: the rest are tessd's defaults (flooding on). */
	json_t *old =
		json_pack("{s:s, s:s, s:i}", "name", "vlan100", "tenant", "acme", "vlan", 100);
	assert_same_request(&tessd_group_schema, p, old);
	assert_true(json_is_true(json_object_get(p, "flood_unknown_unicast")));
	json_decref(old);
	json_decref(p);
}

static void test_port_request(void **state)
{
	const char *path = "/var/run/vm-7.sock";
	char err[256] = "";
	json_t *p = mgr_vswitch_port_params(&req, path, err, sizeof(err));

	(void)state;
	assert_non_null(p);
	/* A port of tessd's vhost backend (no devargs, no ethdev), the client of QEMU's socket. */
	json_t *old = json_pack("{s:s, s:{s:s, s:b}, s:s, s:s, s:[s]}", "name", "vm-7", "vhost",
				"path", path, "client", 1, "mode", "access", "group", "vlan100",
				"allowed_macs", "52:54:00:00:00:07");
	assert_same_request(&tessd_port_schema, p, old);
	json_decref(old);
	json_decref(p);
}

/* A desktop with an address: its port takes no other IPv4 source (nor ARP sender). */
static void test_port_request_with_address(void **state)
{
	struct mgr_port_req r = req;
	char err[256] = "";

	(void)state;
	r.address = 0xc0a83264; /* 192.168.50.100 */
	json_t *p = mgr_vswitch_port_params(&r, "/var/run/vm-7.sock", err, sizeof(err));
	assert_non_null(p);
	json_t *want = json_pack("{s:s, s:{s:s, s:b}, s:s, s:s, s:[s], s:[s]}", "name", "vm-7",
				 "vhost", "path", "/var/run/vm-7.sock", "client", 1, "mode",
				 "access", "group", "vlan100", "allowed_macs", "52:54:00:00:00:07",
				 "allowed_ips", "192.168.50.100");
	assert_same_request(&tessd_port_schema, p, want);
	json_decref(want);
	json_decref(p);
}

static void test_too_long_is_an_error(void **state)
{
	struct mgr_port_req r = req;
	char err[256] = "";

	(void)state;
	r.port = "a-port-name-much-longer-than-thirty-one";
	assert_null(mgr_vswitch_port_params(&r, "/run/vm.sock", err, sizeof(err)));
	assert_non_null(strstr(err, "port name"));
	r = req;
	r.group = "a-group-name-much-longer-than-thirty-one";
	assert_null(mgr_vswitch_group_params(&r, err, sizeof(err)));
	assert_non_null(strstr(err, "group name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_request),
		cmocka_unit_test(test_port_request),
		cmocka_unit_test(test_port_request_with_address),
		cmocka_unit_test(test_too_long_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
