/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of DHCP: leases, clearing one, relays (linked into tessctl). */
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

static void relays_human(const json_t *r)
{
	static const char *const h[] = { "VRF",       "INTERFACE", "SERVERS", "CIRCUIT-ID",
					 "FORWARDED", "REPLIES",   "DROPPED", NULL };
	static const char *const drops[] = { "option82_mismatch",
					     "bad_giaddr",
					     "unknown_server",
					     "hops_exceeded",
					     "untrusted_option82",
					     "not_local",
					     "no_route",
					     "malformed",
					     "no_mbuf",
					     "rate_limited",
					     NULL };
	struct table *t = table_new(h);
	size_t i, k;
	json_t *v, *s;

	json_array_foreach (r, i, v) {
		char servers[160] = "";
		size_t n = 0;
		json_int_t dropped = 0;

		json_array_foreach (json_object_get(v, "servers"), k, s)
			n += (size_t)snprintf(servers + n,
					      n < sizeof(servers) ? sizeof(servers) - n : 0, "%s%s",
					      k ? "," : "", json_string_value(s));
		for (k = 0; drops[k]; k++)
			dropped += jint(v, drops[k]);
		table_cell(t, "%s", jstr(v, "vrf"));
		table_cell(t, "%s", jstr(v, "interface"));
		table_cell(t, "%s", servers);
		table_cell(t, "%s", jstr(v, "circuit_id"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "forwarded"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "replies"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, dropped);
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
	{ .words = "dhcp relays",
	  .method = "dhcp.relays",
	  .human = relays_human,
	  .help = "DHCP relays and their counters (--vrf V, --interface I)" },
	{ 0 },
};
TESSCTL_COMMANDS(dhcp_cmds)
