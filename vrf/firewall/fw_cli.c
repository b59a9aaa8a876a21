/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of the firewall: list, stats, check, set, attach, group (linked into tessctl).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "tessctl.h"

static void list_human(const json_t *r)
{
	static const char *const h[] = { "RULESET", "RULES", "DEFAULT-IN", "DEFAULT-OUT",
					 "IN",      "OUT",   NULL };
	struct table *t = table_new(h);
	size_t i, k;
	json_t *v, *a;

	json_array_foreach (r, i, v) {
		char ifs[2][256];
		const char *keys[2] = { "attached_in", "attached_out" };
		for (int d = 0; d < 2; d++) {
			size_t n = 0;
			ifs[d][0] = '\0';
			json_array_foreach (json_object_get(v, keys[d]), k, a)
				n += (size_t)snprintf(ifs[d] + n, n < 256 ? 256 - n : 0, "%s%s",
						      n ? "," : "", jstr(a, "interface"));
		}
		table_cell(t, "%s", jstr(v, "name"));
		table_cell(t, "%zu", json_array_size(json_object_get(v, "rules")));
		table_cell(t, "%s", jstr(v, "default_in"));
		table_cell(t, "%s", jstr(v, "default_out"));
		table_cell(t, "%s", ifs[0][0] ? ifs[0] : "-");
		table_cell(t, "%s", ifs[1][0] ? ifs[1] : "-");
	}
	table_print(t, stdout);
	table_free(t);
}

static void stats_human(const json_t *r)
{
	static const char *const h[] = { "RULESET", "DIR",   "RULE", "ACTION",
					 "PACKETS", "BYTES", NULL };
	struct table *t = table_new(h);
	size_t i, k;
	json_t *v, *c;

	json_array_foreach (r, i, v) {
		json_t *d = json_object_get(v, "default");
		json_array_foreach (json_object_get(v, "counters"), k, c) {
			table_cell(t, "%s", jstr(v, "ruleset"));
			table_cell(t, "%s", jstr(v, "direction"));
			table_cell(t, "%s%" JSON_INTEGER_FORMAT,
				   json_is_true(json_object_get(c, "baseline")) ? "baseline " : "",
				   jint(c, "rule"));
			table_cell(t, "%s", jstr(c, "action"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(c, "packets"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(c, "bytes"));
		}
		table_cell(t, "%s", jstr(v, "ruleset"));
		table_cell(t, "%s", jstr(v, "direction"));
		table_cell(t, "default");
		table_cell(t, "%s", jstr(d, "action"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(d, "packets"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(d, "bytes"));
	}
	table_print(t, stdout);
	table_free(t);
}

static void check_human(const json_t *r)
{
	static const char *const h[] = { "KIND", "WHERE", "DIR", "RULE", "BASELINE-RULE", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	json_array_foreach (json_object_get(r, "deviations"), i, v) {
		bool unattached = strcmp(jstr(v, "kind"), "unattached") == 0;
		table_cell(t, "%s", jstr(v, "kind"));
		if (unattached && json_object_get(v, "group"))
			table_cell(t, "group %s (vlan %" JSON_INTEGER_FORMAT ")", jstr(v, "group"),
				   jint(v, "vlan"));
		else if (unattached)
			table_cell(t, "%s (vrf %s)", jstr(v, "interface"), jstr(v, "vrf"));
		else
			table_cell(t, "ruleset %s", jstr(v, "ruleset"));
		table_cell(t, "%s", jstr(v, "direction"));
		if (unattached) {
			table_cell(t, "-");
			table_cell(t, "-");
		} else {
			table_cell(t, "%" JSON_INTEGER_FORMAT " (%s)", jint(v, "rule"),
				   jstr(v, "action"));
			table_cell(t, "%" JSON_INTEGER_FORMAT " (%s)", jint(v, "baseline_rule"),
				   jstr(v, "baseline_action"));
		}
	}
	table_print(t, stdout);
	table_free(t);
	printf("%s\n",
	       json_is_true(json_object_get(r, "compliant")) ? "compliant" : "deviations found");
}

/* firewall set FILE: a rule set as JSON ({name, default_in, default_out, rules}; "-": stdin). */
static int set_cmd(struct tessctl *ctx, int argc, char **argv)
{
	json_error_t e;
	json_t *p;

	if (argc != 1)
		return TESSCTL_USAGE;
	p = strcmp(argv[0], "-") == 0 ? json_loadf(stdin, 0, &e) : json_load_file(argv[0], 0, &e);
	if (p == NULL) {
		fprintf(stderr, "tessctl: %s: line %d: %s\n", argv[0], e.line, e.text);
		return -EINVAL;
	}
	return tessctl_run(ctx, "firewall.set", p, tessctl_done);
}

static const struct tessctl_cmd fw_cmds[] = {
	{ .words = "firewall list",
	  .method = "firewall.rulesets",
	  .human = list_human,
	  .help = "firewall rule sets and where they are attached (--name N, --vrf V)" },
	{ .words = "firewall stats",
	  .method = "firewall.stats",
	  .human = stats_human,
	  .help = "firewall counters per rule (--name RULESET, --vrf V)" },
	{ .words = "firewall check",
	  .method = "firewall.check",
	  .human = check_human,
	  .help = "interfaces and rule sets deviating from the firewall baseline" },
	{ .words = "firewall set",
	  .args = "firewall set FILE",
	  .min_args = 1,
	  .max_args = 1,
	  .fn = set_cmd,
	  .help = "add or replace a rule set from a JSON file ('-': stdin), atomically" },
	{ .words = "firewall attach",
	  .method = "firewall.attach",
	  .pos = { "interface" },
	  .human = tessctl_done,
	  .help = "attach rule sets to an interface (--in S, --out S; neither: detach)" },
	{ .words = "firewall group",
	  .method = "firewall.group",
	  .pos = { "group" },
	  .human = tessctl_done,
	  .help = "attach a rule set to a vswitch group's frames (--set S; none: detach)" },
	{ 0 },
};
TESSCTL_COMMANDS(fw_cmds)
