/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands for the host vswitch: groups, ports at runtime, the FDB. */
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "table.h"
#include "tessctl.h"

static const struct opt_map port_opts[] = {
	{ "--mode", "mode", OPT_STR },
	{ "--group", "group", OPT_STR },
	{ "--groups", "groups", OPT_LIST },
	{ "--all-groups", "all_groups", OPT_TRUE },
	{ "--native", "native_group", OPT_STR },
	{ "--anti-spoof", "anti_spoof", OPT_STR },
	{ "--allow-mac", "allowed_macs", OPT_LIST },
	{ "--allow-ip", "allowed_ips", OPT_LIST },
	{ "--mac-limit", "mac_limit", OPT_INT },
	{ "--storm-pps", "storm_pps", OPT_INT },
	{ "--mtu", "mtu", OPT_INT },
	{ "--rx-queues", "rx_queues", OPT_INT },
	{ "--rx-desc", "rx_desc", OPT_INT },
	{ "--tx-desc", "tx_desc", OPT_INT },
	{ "--no-promiscuous", "promiscuous", OPT_FALSE },
	{ 0 },
};

static const struct opt_map group_opts[] = {
	{ "--vlan", "vlan", OPT_INT },
	{ "--tenant", "tenant", OPT_STR },
	{ "--mac-limit", "mac_limit", OPT_INT },
	{ "--no-flood-unknown", "flood_unknown_unicast", OPT_FALSE },
	{ "--no-flood-multicast", "flood_multicast", OPT_FALSE },
	{ 0 },
};

static const struct opt_map fdb_opts[] = {
	{ "--group", "group", OPT_STR },
	{ "--port", "port", OPT_STR },
	{ 0 },
};

static void port_human(const json_t *r)
{
	printf("port %s (id %" JSON_INTEGER_FORMAT ", %s): mode %s\n", jstr(r, "name"),
	       jint(r, "port_id"), jstr(r, "driver"), jstr(r, "mode"));
}

static int cmd_port_add(struct tessctl *ctx, int argc, char **argv)
{
	return tessctl_run_opts(ctx, "port.add",
				json_pack("{s:s, s:s}", "name", argv[0], "devargs", argv[1]),
				argc - 2, argv + 2, port_opts, port_human);
}

static int cmd_port_set(struct tessctl *ctx, int argc, char **argv)
{
	return tessctl_run_opts(ctx, "port.set", json_pack("{s:s}", "name", argv[0]), argc - 1,
				argv + 1, port_opts, port_human);
}

static int cmd_port_del(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	return tessctl_run(ctx, "port.del", json_pack("{s:s}", "name", argv[0]), tessctl_done);
}

static void group_list_human(const json_t *r)
{
	static const char *const h[] = { "GROUP", "TENANT", "VLAN",  "MAC-LIMIT",
					 "FLOOD", "FDB",    "PORTS", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *g;

	json_array_foreach (r, i, g) {
		char ports[512];
		table_cell(t, "%s", jstr(g, "name"));
		table_cell(t, "%s", *jstr(g, "tenant") ? jstr(g, "tenant") : "-");
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(g, "vlan"));
		if (jint(g, "mac_limit"))
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(g, "mac_limit"));
		else
			table_cell(t, "-");
		table_cell(t, "%s%s",
			   json_is_true(json_object_get(g, "flood_unknown_unicast")) ? "unknown"
										     : "",
			   json_is_true(json_object_get(g, "flood_multicast")) ? " multicast" : "");
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(g, "fdb_learned"));
		table_cell(t, "%s",
			   tessctl_join(json_object_get(g, "ports"), " ", ports, sizeof(ports)));
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_group_list(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tessctl_run(ctx, "group.list", NULL, group_list_human);
}

static void group_human(const json_t *r)
{
	printf("group %s: VLAN %" JSON_INTEGER_FORMAT "\n", jstr(r, "name"), jint(r, "vlan"));
}

static int cmd_group_add(struct tessctl *ctx, int argc, char **argv)
{
	return tessctl_run_opts(ctx, "group.add", json_pack("{s:s}", "name", argv[0]), argc - 1,
				argv + 1, group_opts, group_human);
}

static int cmd_group_del(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	return tessctl_run(ctx, "group.del", json_pack("{s:s}", "name", argv[0]), tessctl_done);
}

static void fdb_human(const json_t *r)
{
	static const char *const h[] = { "MAC", "GROUP", "VLAN", "PORT", "TYPE", "AGE", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *e;

	json_array_foreach (r, i, e) {
		table_cell(t, "%s", jstr(e, "mac"));
		table_cell(t, "%s", jstr(e, "group"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(e, "vlan"));
		table_cell(t, "%s", jstr(e, "port"));
		table_cell(t, "%s", jstr(e, "type"));
		table_cell(t, "%" JSON_INTEGER_FORMAT "s", jint(e, "age_sec"));
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_fdb_show(struct tessctl *ctx, int argc, char **argv)
{
	return tessctl_run_opts(ctx, "fdb.show", json_object(), argc, argv, fdb_opts, fdb_human);
}

static int cmd_fdb_flush(struct tessctl *ctx, int argc, char **argv)
{
	return tessctl_run_opts(ctx, "fdb.flush", json_object(), argc, argv, fdb_opts,
				tessctl_flushed);
}

static int cmd_fdb_add(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	return tessctl_run(
		ctx, "fdb.add",
		json_pack("{s:s, s:s, s:s}", "group", argv[0], "mac", argv[1], "port", argv[2]),
		tessctl_done);
}

static int cmd_fdb_del(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	return tessctl_run(ctx, "fdb.del",
			   json_pack("{s:s, s:s}", "group", argv[0], "mac", argv[1]), tessctl_done);
}

const struct tessctl_cmd switch_cmds[] = {
	{ "group list", NULL, 0, 0, cmd_group_list, "port groups: tenant, VLAN, members, FDB" },
	{ "group add",
	  "group add NAME --vlan N [--tenant T] [--mac-limit N] [--no-flood-unknown] "
	  "[--no-flood-multicast]",
	  1, 9, cmd_group_add, "add a port group" },
	{ "group del", "group del NAME", 1, 1, cmd_group_del, "remove a group without members" },
	{ "port add", "port add NAME DEVARGS [port options]", 2, 32, cmd_port_add,
	  "add a port at runtime" },
	{ "port set", "port set NAME [port options]", 1, 32, cmd_port_set,
	  "change a port's switching" },
	{ "port del", "port del NAME", 1, 1, cmd_port_del, "remove a port at runtime" },
	{ "fdb show", "fdb show [--group G] [--port P]", 0, 4, cmd_fdb_show, "FDB entries" },
	{ "fdb flush", "fdb flush [--group G] [--port P]", 0, 4, cmd_fdb_flush,
	  "forget learned entries" },
	{ "fdb add", "fdb add GROUP MAC PORT", 3, 3, cmd_fdb_add, "add a static MAC" },
	{ "fdb del", "fdb del GROUP MAC", 2, 2, cmd_fdb_del, "remove a static or learned MAC" },
	{ 0 },
};

const char tessctl_port_options[] =
	"port options: --mode none|access|trunk --group G --groups A,B --all-groups --native G\n"
	"  --anti-spoof auto|on|off --allow-mac M,M --allow-ip IP,IP --mac-limit N --storm-pps N\n"
	"  --mtu N --rx-queues N --rx-desc N --tx-desc N --no-promiscuous (these five: add only)\n";
