/* SPDX-License-Identifier: BSD-3-Clause */
/* The baseline check (firewall.check) of interfaces and of vswitch groups, on decoded configs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply.h"
#include "fw_int.h"
#include "tessd_config.h"

/*
 * A PE with interface "lan" (VRF acme) on port e, and a host's groups: acme (VLAN 100, with
 * the set named by its argument, "" none) and bravo (VLAN 200, never a set); the baseline's
 * `in` rules and the rule sets given.
 */
static json_t *check(const char *baseline_in, const char *rulesets, const char *acme_set)
{
	char text[4096], groups[128] = "";
	struct tessd_cfg cfg;
	struct cfg_errs e;

	if (acme_set[0])
		snprintf(groups, sizeof(groups), "{\"group\": \"acme\", \"set\": \"%s\"}",
			 acme_set);
	snprintf(text, sizeof(text),
		 "{\"ports\": [{\"name\": \"e\", \"devargs\": \"net_tap0\"},"
		 " {\"name\": \"up\", \"devargs\": \"net_tap1\", \"mode\": \"trunk\","
		 " \"all_groups\": true}],"
		 " \"switch\": {\"groups\": [{\"name\": \"acme\", \"tenant\": \"Acme\", \"vlan\": "
		 "100},"
		 " {\"name\": \"bravo\", \"vlan\": 200}]},"
		 " \"router\": {\"vrfs\": [{\"name\": \"acme\", \"id\": 1}], \"interfaces\":"
		 " [{\"name\": \"lan\", \"vrf\": \"acme\", \"port\": \"e\","
		 " \"addresses\": [\"10.0.0.1/24\"]}]},"
		 " \"firewall\": {\"baseline\": {\"in\": [%s]}, \"rulesets\": [%s],"
		 " \"attach\": [{\"interface\": \"lan\", \"in\": \"open\"}], \"groups\": [%s]}}",
		 baseline_in, rulesets, groups);
	json_t *doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	cfg_errs_init(&e);
	if (tessd_cfg_decode(doc, &cfg, &e, dp_cfg_validate) < 0)
		fail_msg("%s: %s", e.e[0].path, e.e[0].msg);
	json_decref(doc);
	json_t *r = fw_check(&cfg);
	tessd_cfg_free(&cfg);
	return r;
}

/* The deviations as "kind:where:rule:baseline_rule" lines, in order. */
static const char *devs(json_t *r)
{
	static char buf[1024];
	json_t *d;
	size_t i;

	buf[0] = '\0';
	json_array_foreach (json_object_get(r, "deviations"), i, d) {
		const char *where = json_string_value(json_object_get(d, "group"))
					    ?: json_string_value(json_object_get(d, "interface"))
						       ?: json_string_value(json_object_get(d, "ruleset"));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s:%s:%lld:%lld",
			 i ? " " : "", json_string_value(json_object_get(d, "kind")), where,
			 json_integer_value(json_object_get(d, "rule")),
			 json_integer_value(json_object_get(d, "baseline_rule")));
	}
	return buf;
}

static const char *open_set = "{\"name\": \"open\", \"rules\": []}";

static void groups_without_a_set_are_unattached(void **state)
{
	(void)state;
	/* No baseline: nothing deviates, sets or not. */
	json_t *r = check("", open_set, "");
	assert_true(json_is_true(json_object_get(r, "compliant")));
	json_decref(r);
	/* An `in` baseline: each group without a set, with its VLAN and tenant. */
	r = check("{\"action\": \"drop\", \"proto\": \"tcp\", \"dport\": \"25\"}", open_set, "");
	assert_string_equal(devs(r), "unattached:acme:0:0 unattached:bravo:0:0");
	json_t *d = json_array_get(json_object_get(r, "deviations"), 0);
	assert_int_equal(json_integer_value(json_object_get(d, "vlan")), 100);
	assert_string_equal(json_string_value(json_object_get(d, "tenant")), "Acme");
	assert_string_equal(json_string_value(json_object_get(d, "direction")), "in");
	/* tenants: the group's tenant, or its name where it names none. */
	json_t *t = json_object_get(r, "tenants");
	assert_int_equal(json_array_size(t), 2);
	assert_string_equal(json_string_value(json_array_get(t, 0)), "Acme");
	assert_string_equal(json_string_value(json_array_get(t, 1)), "bravo");
	assert_false(json_is_true(json_object_get(r, "compliant")));
	json_decref(r);
}

static void a_groups_set_is_checked_against_the_in_baseline(void **state)
{
	(void)state;
	const char *sets = "{\"name\": \"open\", \"rules\": []},"
			   " {\"name\": \"lan\", \"default_in\": \"drop\", \"rules\": ["
			   " {\"action\": \"accept\", \"proto\": \"tcp\", \"dport\": \"25\"},"
			   " {\"action\": \"accept\", \"proto\": \"udp\", \"dport\": \"53\"},"
			   " {\"action\": \"accept\", \"proto\": \"icmp\"}]}";
	/* Rule 0 overridden by the drop of TCP 25, rule 1 partly by the drop of UDP 50-60 from
	 * 10/8; rule 2 (ICMP) by a rule of interface lan only, which no group's frame meets. */
	json_t *r = check("{\"action\": \"drop\", \"proto\": \"tcp\", \"dport\": \"25\"},"
			  " {\"action\": \"drop\", \"proto\": \"udp\", \"src\": \"10.0.0.0/8\","
			  " \"dport\": \"50-60\"},"
			  " {\"action\": \"drop\", \"proto\": \"icmp\", \"interface\": \"lan\"}",
			  sets, "lan");

	assert_string_equal(devs(r), "unattached:bravo:0:0 overridden:lan:0:0 "
				     "partly_overridden:lan:1:1");
	json_t *t = json_object_get(r, "tenants");
	assert_int_equal(json_array_size(t), 2); /* Acme by its set, bravo unattached */
	json_decref(r);
	/* Attached to the interface too: the interface's baseline rule counts for the
	 * interface, not for the group (reported apart where it differs). */
	r = check(
		"{\"action\": \"drop\", \"proto\": \"icmp\", \"interface\": \"lan\"}",
		"{\"name\": \"open\", \"rules\": [{\"action\": \"accept\", \"proto\": \"icmp\"}]}",
		"open");
	assert_string_equal(devs(r), "unattached:bravo:0:0 partly_overridden:open:0:0");
	t = json_object_get(r, "tenants"); /* the interface's VRF only, and bravo unattached */
	assert_int_equal(json_array_size(t), 2);
	assert_string_equal(json_string_value(json_array_get(t, 0)), "bravo");
	assert_string_equal(json_string_value(json_array_get(t, 1)), "acme");
	json_decref(r);
	/* TCP 80: partly the interface's drop for the interface, wholly the next for the group;
	 * a rule of the set naming the interface is no group's. */
	r = check("{\"action\": \"drop\", \"proto\": \"tcp\", \"src\": \"10.0.0.0/8\","
		  " \"dport\": \"80\", \"interface\": \"lan\"},"
		  " {\"action\": \"drop\", \"proto\": \"tcp\", \"dport\": \"80\"}",
		  "{\"name\": \"open\", \"rules\": [{\"action\": \"accept\", \"proto\": \"tcp\","
		  " \"dport\": \"80\"}, {\"action\": \"accept\", \"proto\": \"tcp\", \"dport\": "
		  "\"80\","
		  " \"interface\": \"lan\"}]}",
		  "open");
	assert_string_equal(devs(r), "unattached:bravo:0:0 partly_overridden:open:0:0 "
				     "partly_overridden:open:1:0 overridden:open:0:1");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(groups_without_a_set_are_unattached),
		cmocka_unit_test(a_groups_set_is_checked_against_the_in_baseline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
