/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of the policers (linked into tessctl, not tessd). */
#include <stdio.h>

#include "table.h"
#include "tessctl.h"

static void list_human(const json_t *r)
{
	static const char *const h[] = { "POLICER", "TYPE",   "CIR-KBPS", "ATTACHED", "DIR",
					 "GREEN",   "YELLOW", "RED",      "DROPPED",  NULL };
	struct table *t = table_new(h);
	size_t i, j;
	json_t *p, *a;

	json_array_foreach (r, i, p) {
		json_t *att = json_object_get(p, "attachments");
		if (json_array_size(att) == 0) {
			table_cell(t, "%s", jstr(p, "name"));
			table_cell(t, "%s", jstr(p, "type"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "cir_kbps"));
			for (unsigned k = 0; k < 6; k++)
				table_cell(t, "-");
			continue;
		}
		json_array_foreach (att, j, a) {
			table_cell(t, "%s", jstr(p, "name"));
			table_cell(t, "%s", jstr(p, "type"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "cir_kbps"));
			table_cell(t, "%s %s", jstr(a, "kind"), jstr(a, "object"));
			table_cell(t, "%s", jstr(a, "direction"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(a, "green_packets"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(a, "yellow_packets"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(a, "red_packets"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(a, "dropped"));
		}
	}
	table_print(t, stdout);
	table_free(t);
}

static const struct tessctl_cmd pol_cmds[] = {
	{ .words = "policer set",
	  .method = "policer.set",
	  .pos = { "name" },
	  .human = tessctl_done,
	  .help = "add or replace a policer (--cir-kbps R, --ports P, --direction D...)" },
	{ .words = "policer del",
	  .method = "policer.del",
	  .pos = { "name" },
	  .human = tessctl_done,
	  .help = "remove a policer" },
	{ .words = "policer list",
	  .method = "policer.list",
	  .human = list_human,
	  .help = "policers, where they are attached, colour counters" },
	{ 0 },
};
TESSCTL_COMMANDS(pol_cmds)
