/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of the DHCP server: leases, clearing one (linked into tessctl). */
#include <stdio.h>
#include <time.h>

#include "table.h"
#include "tessctl.h"

static void leases_human(const json_t *r)
{
	static const char *const h[] = { "VRF",   "INTERFACE",  "ADDRESS",  "MAC",
					 "STATE", "EXPIRES-IN", "HOSTNAME", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	json_array_foreach (r, i, v) {
		const char *host = jstr(v, "hostname");
		table_cell(t, "%s", jstr(v, "vrf"));
		table_cell(t, "%s", jstr(v, "interface"));
		table_cell(t, "%s", jstr(v, "address"));
		table_cell(t, "%s", jstr(v, "mac"));
		table_cell(t, "%s", jstr(v, "state"));
		table_cell(t, "%" JSON_INTEGER_FORMAT "s", jint(v, "expires_in"));
		table_cell(t, "%s", host[0] ? host : "-");
	}
	table_print(t, stdout);
	table_free(t);
}

static const struct tessctl_cmd dhcp_cmds[] = {
	{ .words = "dhcp leases",
	  .method = "dhcp.leases",
	  .human = leases_human,
	  .help = "DHCP leases (--vrf V, --interface I)" },
	{ .words = "dhcp release",
	  .method = "dhcp.release",
	  .pos = { "interface", "address" },
	  .human = tessctl_done,
	  .help = "clear a DHCP lease: the address is free again" },
	{ 0 },
};
TESSCTL_COMMANDS(dhcp_cmds)
