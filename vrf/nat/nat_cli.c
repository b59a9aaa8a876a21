/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of NAT44: sessions and counters (linked into tessctl). */
#include <stdio.h>

#include "table.h"
#include "tessctl.h"

static void sessions_human(const json_t *r)
{
	static const char *const h[] = { "INSTANCE", "PROTO", "INSIDE",     "OUTSIDE", "REMOTE",
					 "KIND",     "STATE", "EXPIRES-IN", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	json_array_foreach (r, i, v) {
		table_cell(t, "%s", jstr(v, "instance"));
		table_cell(t, "%s", jstr(v, "proto"));
		table_cell(t, "%s", jstr(v, "inside"));
		table_cell(t, "%s", jstr(v, "outside"));
		table_cell(t, "%s", jstr(v, "remote"));
		table_cell(t, "%s", jstr(v, "kind"));
		table_cell(t, "%s", jstr(v, "state"));
		table_cell(t, "%" JSON_INTEGER_FORMAT "s", jint(v, "expires_in"));
	}
	table_print(t, stdout);
	table_free(t);
}

static void stats_human(const json_t *r)
{
	static const char *const h[] = { "INSTANCE",       "VRF",   "SESSIONS",
					 "CREATED",        "OUT",   "IN",
					 "PORT-EXHAUSTED", "LIMIT", "UNKNOWN-IN",
					 "BLOCKS",         NULL };
	const json_t *tb = json_object_get(r, "table");
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	printf("table: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
	       " entries, created %" JSON_INTEGER_FORMAT ", expired %" JSON_INTEGER_FORMAT
	       ", table_full %" JSON_INTEGER_FORMAT ", tenant_limit %" JSON_INTEGER_FORMAT "\n",
	       jint(tb, "live"), jint(tb, "capacity"), jint(tb, "created"), jint(tb, "expired"),
	       jint(tb, "table_full"), jint(tb, "tenant_limit"));
	json_array_foreach (json_object_get(r, "instances"), i, v) {
		table_cell(t, "%s", jstr(v, "name"));
		table_cell(t, "%s", jstr(v, "inside_vrf"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "sessions"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "created"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "translated_out"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "translated_in"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "port_exhausted"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "limit"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "unknown_inbound"));
		table_cell(t, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT, jint(v, "blocks"),
			   jint(v, "max_blocks"));
	}
	table_print(t, stdout);
	table_free(t);
}

static void log_human(const json_t *r)
{
	printf("logging: %s%s (%s)\n", json_is_true(json_object_get(r, "enabled")) ? "to " : "off",
	       jstr(r, "path"), jstr(r, "mode"));
	printf("records %" JSON_INTEGER_FORMAT ", lost %" JSON_INTEGER_FORMAT
	       ", bytes %" JSON_INTEGER_FORMAT ", rotations %" JSON_INTEGER_FORMAT
	       ", write_errors %" JSON_INTEGER_FORMAT ", backlog %" JSON_INTEGER_FORMAT "\n",
	       jint(r, "records"), jint(r, "lost"), jint(r, "bytes"), jint(r, "rotations"),
	       jint(r, "write_errors"), jint(r, "backlog"));
}

static const struct tessctl_cmd nat_cmds[] = {
	{ .words = "nat sessions",
	  .method = "nat.sessions",
	  .human = sessions_human,
	  .help = "NAT sessions (--vrf V, --address A, --limit N)" },
	{ .words = "nat stats",
	  .method = "nat.stats",
	  .human = stats_human,
	  .help = "NAT session table and instance counters (--vrf V)" },
	{ .words = "nat log",
	  .method = "nat.log",
	  .human = log_human,
	  .help = "NAT logging: file, mode and counters" },
	{ .words = "nat log set",
	  .method = "nat.log.set",
	  .help = "NAT logging's config (--path P, --mode sessions|port-blocks, ...)" },
	{ 0 },
};
TESSCTL_COMMANDS(nat_cmds)
