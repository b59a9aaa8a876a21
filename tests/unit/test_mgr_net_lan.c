/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tenant's rule set and group guard between desktops: what they are, and the host edits
 * that make them so.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "network_priv.h"
#include "tessd_config.h"

static char routers[1][MGR_NAME_LEN] = { "pe1" };

static struct mgr_tenant_spec tenant(struct mgr_net_fw_rule *rules, uint32_t n, uint8_t dflt)
{
	struct mgr_tenant_spec t = { .name = "acme", .vlan = 100, .vlan_name = "acme-net" };

	t.network.routers = routers;
	t.network.n_routers = 1;
	t.network.gateway = (struct cfg_prefix4){ .ip = 0xc0a83201, .len = 24 }; /* .50.1/24 */
	t.network.firewall.between_desktops =
		(struct mgr_net_lan_fw){ .default_action = dflt, .rules = rules, .n_rules = n };
	return t;
}

static void assert_json(json_t *got, const char *want)
{
	json_t *w = json_loads(want, 0, NULL);

	assert_non_null(w);
	if (!json_equal(got, w)) {
		char *s = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("got %s\nwant %s", s, want);
	}
	json_decref(w);
}

/* cfg from doc (taken) as a host's tessd would take it; any error fails the test. */
static void tessd_decode(json_t *doc, struct tessd_cfg *cfg)
{
	struct cfg_errs e;

	cfg_errs_init(&e);
	if (tessd_cfg_decode(doc, cfg, &e, NULL) < 0)
		fail_msg("%s: %s", e.e[0].path, e.e[0].msg);
	json_decref(doc);
}

static void no_set_without_rules_or_drop(void **state)
{
	(void)state;
	struct mgr_tenant_spec t = tenant(NULL, 0, MGR_FW_ACCEPT);

	assert_null(net_lan_set(&t));
	t.network.n_routers = 0; /* no network: none either */
	t.network.firewall.between_desktops.default_action = MGR_FW_DROP;
	assert_null(net_lan_set(&t));
}

static void set_filters_desktop_to_desktop_only(void **state)
{
	(void)state;
	struct mgr_net_fw_rule r[2] = {
		{ .action = MGR_FW_ACCEPT, .proto = "tcp", .dport = "22" },
		{ .action = MGR_FW_DROP,
		  .proto = "udp",
		  .src = { .ip = 0xc0a83280, .len = 25 },
		  .dst = { .ip = 0xc0a83207, .len = 32 } },
	};
	struct mgr_tenant_spec t = tenant(r, 2, MGR_FW_DROP);
	json_t *set = net_lan_set(&t);

	/* The rules: action, proto, src, dst, dport. */
	static const char *const want[][5] = {
		{ "accept", "any", "", "192.168.50.1/32", "" },
		{ "accept", "tcp", "192.168.50.0/24", "192.168.50.0/24", "22" },
		{ "drop", "udp", "192.168.50.128/25", "192.168.50.7/32", "" },
		{ "drop", "any", "192.168.50.0/24", "192.168.50.0/24", "" },
		{ "drop", "any", "192.168.50.0/24", "224.0.0.0/4", "" },
		{ "drop", "any", "192.168.50.0/24", "255.255.255.255/32", "" },
	};
	static const char *const keys[5] = { "action", "proto", "src", "dst", "dport" };
	json_t *rules = json_object_get(set, "rules");
	assert_string_equal(json_string_value(json_object_get(set, "name")), "acme-lan");
	assert_int_equal(json_array_size(rules), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < json_array_size(rules); i++)
		for (int k = 0; k < 5; k++)
			if (strcmp(json_string_value(
					   json_object_get(json_array_get(rules, i), keys[k]))
					   ?: "?",
				   want[i][k]) != 0)
				fail_msg("rule %zu %s: got %s, want %s", i, keys[k],
					 json_string_value(json_object_get(json_array_get(rules, i),
									   keys[k])),
					 want[i][k]);
	/* tessd's config takes it, and gives back the same keys and values: reconcile compares
	 * every key of what a host has. */
	struct tessd_cfg cfg;
	tessd_decode(json_pack("{s:{s:[O]}}", "firewall", "rulesets", set), &cfg);
	json_t *back = cfg_encode(&tessd_cfg_schema, &cfg);
	char *text = json_dumps(set, 0);
	assert_json(
		json_array_get(json_object_get(json_object_get(back, "firewall"), "rulesets"), 0),
		text);
	free(text);
	json_decref(back);
	tessd_cfg_free(&cfg);
	json_decref(set);
	/* Accepting by default: the tenant's rules only, no default rule. */
	t.network.firewall.between_desktops.default_action = MGR_FW_ACCEPT;
	set = net_lan_set(&t);
	assert_int_equal(json_array_size(json_object_get(set, "rules")), 3);
	json_decref(set);
}

/* The wanted set of acme (dropping between desktops) and its want of VLAN 100's group. */
static struct net_lan_want want(bool on)
{
	struct mgr_tenant_spec t = tenant(NULL, 0, MGR_FW_DROP);
	struct net_lan_want w;

	net_lan_want(&w, &t, on);
	return w;
}

#define GUARD_ON  "\"ipv4_only\": true, \"dhcp_guard\": true, \"protected_ips\": [\"192.168.50.1\"]"
#define GUARD_OFF "\"ipv4_only\": false, \"dhcp_guard\": false, \"protected_ips\": []"

/* A group of VLAN 100 as a host's tessd has it, with its guard keys (text; four at a time). */
static const char *group(const char *name, const char *guard)
{
	static char buf[4][256];
	static unsigned k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "{\"name\": \"%s\", \"vlan\": 100, %s}", name, guard);
	return b;
}

static json_t *config_of(const char *text)
{
	json_t *c = json_loads(text, 0, NULL);

	assert_non_null(c);
	return c;
}

/* diff's edits for config (n of them, unless -1); undo checked where given. */
static json_t *diff(json_t *config, struct net_lan_want *w, int n, const char *undo_want)
{
	json_t *doit = json_array(), *undo = json_array();
	int got = net_lan_diff(config, w, doit, undo);

	if (n != -1)
		assert_int_equal(got, n);
	assert_int_equal(json_array_size(undo), json_array_size(doit));
	if (undo_want)
		assert_json(undo, undo_want);
	json_decref(undo);
	json_decref(config);
	return doit;
}

static const char *ops(json_t *edits)
{
	static char buf[512];
	json_t *ed;
	size_t i;

	buf[0] = '\0';
	json_array_foreach (edits, i, ed)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s %s", i ? ", " : "",
			 json_string_value(json_object_get(ed, "op")),
			 json_string_value(json_object_get(ed, "array")));
	return buf;
}

static void makes_the_group_with_its_set(void **state)
{
	(void)state;
	struct net_lan_want w = want(true);
	json_t *e = diff(config_of("{\"switch\": {\"groups\": []}, \"firewall\": {}}"), &w, 3,
			 "[{\"op\": \"del\", \"array\": \"/firewall/groups\", \"match\": "
			 "{\"group\": \"acme-net\"}},"
			 "{\"op\": \"del\", \"array\": \"/firewall/rulesets\", \"match\": "
			 "{\"name\": \"acme-lan\"}},"
			 "{\"op\": \"del\", \"array\": \"/switch/groups\", \"match\": "
			 "{\"name\": \"acme-net\"}}]");

	assert_string_equal(ops(e), "add /switch/groups, add /firewall/rulesets, "
				    "add /firewall/groups");
	assert_json(json_object_get(json_array_get(e, 2), "item"),
		    "{\"group\": \"acme-net\", \"set\": \"acme-lan\"}");
	/* The group comes with its guard, in keys tessd takes. */
	json_t *made = json_object_get(json_array_get(e, 0), "item");
	assert_json(made,
		    "{\"name\": \"acme-net\", \"tenant\": \"acme\", \"vlan\": 100, " GUARD_ON "}");
	struct tessd_cfg cfg;
	tessd_decode(json_pack("{s:{s:[O]}}", "switch", "groups", made), &cfg);
	assert_true(cfg.sw.groups[0].ipv4_only && cfg.sw.groups[0].dhcp_guard &&
		    cfg.sw.groups[0].n_protected_ips == 1 &&
		    cfg.sw.groups[0].protected_ips[0] == 0xc0a83201);
	tessd_cfg_free(&cfg);
	json_decref(e);
	net_lan_free(&w);
}

static void attaches_to_the_vlans_group_whatever_its_name(void **state)
{
	(void)state;
	struct net_lan_want w = want(true);
	/* An operator's group of VLAN 100, attached to another set: ours replaces it, and the
	 * undo puts that back as it was. */
	char config[512], undo[1024];
	snprintf(config, sizeof(config),
		 "{\"switch\": {\"groups\": [%s]}, \"firewall\": {\"groups\": [{\"group\": "
		 "\"v100\", \"set\": \"ops\"}], \"rulesets\": [{\"name\": \"ops\"}]}}",
		 group("v100", GUARD_OFF));
	snprintf(undo, sizeof(undo),
		 "[{\"op\": \"set\", \"array\": \"/firewall/groups\", \"match\": "
		 "{\"group\": \"v100\"}, \"item\": {\"group\": \"v100\", \"set\": \"ops\"}},"
		 "{\"op\": \"del\", \"array\": \"/firewall/rulesets\", \"match\": "
		 "{\"name\": \"acme-lan\"}},"
		 "{\"op\": \"set\", \"array\": \"/switch/groups\", \"match\": "
		 "{\"name\": \"v100\"}, \"item\": %s}]",
		 group("v100", GUARD_OFF));
	json_t *e = diff(config_of(config), &w, 3, undo);

	assert_string_equal(ops(e),
			    "set /switch/groups, add /firewall/rulesets, set /firewall/groups");
	/* The group keeps its name and other keys, with the guard. */
	assert_json(json_object_get(json_array_get(e, 0), "item"), group("v100", GUARD_ON));
	json_decref(e);
	net_lan_free(&w);
}

static void replaces_a_set_that_differs_and_leaves_a_right_one(void **state)
{
	(void)state;
	struct net_lan_want w = want(true);
	char text[2048];
	char *set = json_dumps(w.set, 0);

	/* The set as tessd has it: the same, with its defaults filled in. */
	snprintf(text, sizeof(text),
		 "{\"switch\": {\"groups\": [%s]}, \"firewall\": {\"groups\": [{\"group\": "
		 "\"acme-net\", \"set\": \"acme-lan\"}], \"rulesets\": [%s]}}",
		 group("acme-net", GUARD_ON), set);
	free(set);
	json_t *c = config_of(text),
	       *rs = json_array_get(json_object_get(json_object_get(c, "firewall"), "rulesets"), 0);
	json_object_set_new(json_array_get(json_object_get(rs, "rules"), 0), "sport",
			    json_string(""));
	json_t *e = diff(json_incref(c), &w, 0, "[]");
	json_decref(e);
	/* Its rules changed: set back, the undo restores what was there. */
	json_array_remove(json_object_get(rs, "rules"), 0);
	e = diff(json_deep_copy(c), &w, 1, NULL);
	assert_string_equal(ops(e), "set /firewall/rulesets");
	json_decref(e);
	json_decref(c);
	net_lan_free(&w);
}

static void takes_away_only_its_own(void **state)
{
	(void)state;
	static const struct {
		const char *why, *firewall, *ops;
	} cases[] = {
		{ "ours attached: detached and deleted",
		  "{\"groups\": [{\"group\": \"acme-net\", \"set\": \"acme-lan\"}],"
		  " \"rulesets\": [{\"name\": \"acme-lan\"}]}",
		  "del /firewall/groups, del /firewall/rulesets" },
		{ "another set attached: left; ours, unattached, deleted",
		  "{\"groups\": [{\"group\": \"acme-net\", \"set\": \"ops\"}],"
		  " \"rulesets\": [{\"name\": \"acme-lan\"}, {\"name\": \"ops\"}]}",
		  "del /firewall/rulesets" },
		{ "ours attached by an operator to an interface too: detached here, kept",
		  "{\"groups\": [{\"group\": \"acme-net\", \"set\": \"acme-lan\"}],"
		  " \"attach\": [{\"interface\": \"x\", \"in\": \"acme-lan\"}],"
		  " \"rulesets\": [{\"name\": \"acme-lan\"}]}",
		  "del /firewall/groups" },
		{ "nothing of ours: nothing", "{\"rulesets\": [{\"name\": \"ops\"}]}", "" },
	};
	struct net_lan_want w = want(false);
	char text[1024];

	assert_null(w.set);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "{\"switch\": {\"groups\": [%s]}, \"firewall\": %s}",
			 group("acme-net", GUARD_OFF), cases[i].firewall);
		json_t *e = diff(config_of(text), &w, -1, NULL);
		if (strcmp(ops(e), cases[i].ops) != 0)
			fail_msg("%s: got %s", cases[i].why, ops(e));
		json_decref(e);
	}
	/* Our guard left on the group: taken off, the group's other keys kept. */
	snprintf(text, sizeof(text), "{\"switch\": {\"groups\": [%s]}}",
		 group("acme-net", GUARD_ON));
	json_t *e = diff(config_of(text), &w, 1, NULL);
	assert_string_equal(ops(e), "set /switch/groups");
	assert_json(json_object_get(json_array_get(e, 0), "item"), group("acme-net", GUARD_OFF));
	json_decref(e);
	/* A group without the guard's keys (a tessd before them): left alone. */
	snprintf(text, sizeof(text), "{\"switch\": {\"groups\": [%s]}}",
		 group("acme-net", "\"mac_limit\": 0"));
	json_decref(diff(config_of(text), &w, 0, "[]"));
	/* No group of the VLAN: nothing. */
	json_decref(diff(config_of("{}"), &w, 0, "[]"));
	net_lan_free(&w);
}

/* other_protocols: as the set's default, or on its own (a guard with no set). */
static void guard_follows_other_protocols(void **state)
{
	(void)state;
	static const struct {
		uint8_t dflt, other;
		uint32_t n_rules;
		bool on, set, ipv4_only;
	} cases[] = {
		{ MGR_FW_ACCEPT, MGR_LAN_OTHER_SAME, 0, false, false, false },
		{ MGR_FW_DROP, MGR_LAN_OTHER_SAME, 0, true, true, true },
		{ MGR_FW_DROP, MGR_LAN_OTHER_ACCEPT, 0, true, true, false },
		{ MGR_FW_ACCEPT, MGR_LAN_OTHER_SAME, 1, true, true, false },
		{ MGR_FW_ACCEPT, MGR_LAN_OTHER_DROP, 0, true, false, true },
		{ MGR_FW_ACCEPT, MGR_LAN_OTHER_ACCEPT, 0, false, false, false },
	};
	struct mgr_net_fw_rule r = { .action = MGR_FW_ACCEPT, .proto = "tcp", .dport = "22" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mgr_tenant_spec t = tenant(&r, cases[i].n_rules, cases[i].dflt);
		struct net_lan_want w;
		t.network.firewall.between_desktops.other_protocols = cases[i].other;
		assert_int_equal(net_lan_on(&t), cases[i].on);
		net_lan_want(&w, &t, net_lan_on(&t));
		if ((w.set != NULL) != cases[i].set || (w.group != NULL) != cases[i].on ||
		    json_is_true(json_object_get(w.guard, "ipv4_only")) != cases[i].ipv4_only ||
		    json_array_size(json_object_get(w.guard, "protected_ips")) != cases[i].on ||
		    json_is_true(json_object_get(w.guard, "dhcp_guard")) != cases[i].on)
			fail_msg("case %zu: set %d group %d guard %s", i, w.set != NULL,
				 w.group != NULL, json_dumps(w.guard, 0));
		if (cases[i].on && !cases[i].set) {
			/* A guard alone: the group made with it, no set. */
			json_t *e = diff(config_of("{\"switch\": {\"groups\": []}}"), &w, 1, NULL);
			assert_string_equal(ops(e), "add /switch/groups");
			json_decref(e);
		}
		net_lan_free(&w);
	}
	/* No network: off whatever it says. */
	struct mgr_tenant_spec t = tenant(NULL, 0, MGR_FW_DROP);
	t.network.n_routers = 0;
	assert_false(net_lan_on(&t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_set_without_rules_or_drop),
		cmocka_unit_test(set_filters_desktop_to_desktop_only),
		cmocka_unit_test(makes_the_group_with_its_set),
		cmocka_unit_test(attaches_to_the_vlans_group_whatever_its_name),
		cmocka_unit_test(replaces_a_set_that_differs_and_leaves_a_right_one),
		cmocka_unit_test(takes_away_only_its_own),
		cmocka_unit_test(guard_follows_other_protocols),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
