/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of the DNS responder: its names (linked into tessctl). */
#include <stdio.h>

#include "table.h"
#include "tessctl.h"

static void records_human(const json_t *r)
{
	static const char *const h[] = { "VRF",    "INTERFACE", "NAME", "ADDRESS",
					 "SOURCE", "TTL",       NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	json_array_foreach (r, i, v) {
		table_cell(t, "%s", jstr(v, "vrf"));
		table_cell(t, "%s", jstr(v, "interface"));
		table_cell(t, "%s", jstr(v, "name"));
		table_cell(t, "%s", jstr(v, "address"));
		table_cell(t, "%s", jstr(v, "source"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "ttl"));
	}
	table_print(t, stdout);
	table_free(t);
}

static const struct tessctl_cmd dns_cmds[] = {
	{ .words = "dns records",
	  .method = "dns.records",
	  .human = records_human,
	  .help = "DNS names: configured and DHCP clients' (--vrf V, --interface I)" },
	{ 0 },
};
TESSCTL_COMMANDS(dns_cmds)
