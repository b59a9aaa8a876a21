/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of the host vswitch: groups, ports at runtime, the FDB (linked into tessctl). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "tessctl.h"

static void port_human(const json_t *r)
{
	printf("port %s (id %" JSON_INTEGER_FORMAT ", %s): mode %s\n", jstr(r, "name"),
	       jint(r, "port_id"), jstr(r, "driver"), jstr(r, "mode"));
}

/*
 * "port add-vhost NAME PATH [--client] [options]": a port of tessd's vhost backend (the nested
 * vhost key has no option of its own); the other options are port.add's.
 */
static int cmd_port_add_vhost(struct tessctl *ctx, int argc, char **argv)
{
	static const char *const skip[] = { "name", "devargs", "vhost", NULL };
	json_t *params;
	bool client = false;
	int n = 0;

	/* --client is this command's: the rest go to the schema's options. */
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--client") == 0)
			client = true;
		else
			argv[n++] = argv[i];
	}
	if (n < 2) {
		fprintf(stderr, "tessctl: usage: tessctl port add-vhost NAME PATH [--client] "
				"[options]\n");
		return 2;
	}
	params = json_pack("{s:s, s:{s:s, s:b}}", "name", argv[0], "vhost", "path", argv[1],
			   "client", client);
	return tessctl_run_schema(ctx, "port add-vhost", "port.add", skip, params, n - 2, argv + 2,
				  port_human);
}

/* What a group's access ports may send: "ipv4-only dhcp-guard protect=A,B", or "-". */
static const char *guard_text(const json_t *g, char *buf, size_t len)
{
	char prot[80];
	size_t n = 0;

	buf[0] = '\0';
	if (json_is_true(json_object_get(g, "ipv4_only")))
		n += (size_t)snprintf(buf + n, len - n, " ipv4-only");
	if (n < len && json_is_true(json_object_get(g, "dhcp_guard")))
		n += (size_t)snprintf(buf + n, len - n, " dhcp-guard");
	tessctl_join(json_object_get(g, "protected_ips"), ",", prot, sizeof(prot));
	if (n < len && prot[0])
		n += (size_t)snprintf(buf + n, len - n, " protect=%s", prot);
	return n ? buf + 1 : "-";
}

static void group_list_human(const json_t *r)
{
	static const char *const h[] = { "GROUP", "TENANT", "VLAN",  "MAC-LIMIT", "FLOOD",
					 "GUARD", "FDB",    "PORTS", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *g;

	json_array_foreach (r, i, g) {
		char ports[512], guard[128];
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
		table_cell(t, "%s", guard_text(g, guard, sizeof(guard)));
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

static const struct tessctl_cmd switch_cmds[] = {
	{ "group list", NULL, 0, 0, cmd_group_list, "port groups: tenant, VLAN, members, FDB" },
	{ .words = "group add",
	  .method = "group.add",
	  .pos = { "name" },
	  .human = group_human,
	  .help = "add a port group" },
	{ .words = "group del",
	  .method = "group.del",
	  .pos = { "name" },
	  .human = tessctl_done,
	  .help = "remove a group without members" },
	{ .words = "port add",
	  .method = "port.add",
	  .pos = { "name", "devargs" },
	  .human = port_human,
	  .help = "add a port at runtime" },
	{ .words = "port add-vhost",
	  .args = "port add-vhost NAME PATH [--client]",
	  .min_args = 2,
	  .max_args = TESSCTL_ANY_ARGS,
	  .fn = cmd_port_add_vhost,
	  .method = "port.add",
	  .pos = { "name", "devargs", "vhost" },
	  .human = port_human,
	  .help = "add a vhost port (a vhost-user socket of tessd's vhost backend)" },
	{ .words = "port set",
	  .method = "port.set",
	  .pos = { "name" },
	  .human = port_human,
	  .help = "change a port's switching (mtu, queues, descriptors: add only)" },
	{ .words = "port del",
	  .method = "port.del",
	  .pos = { "name" },
	  .human = tessctl_done,
	  .help = "remove a port at runtime" },
	{ .words = "fdb show", .method = "fdb.show", .human = fdb_human, .help = "FDB entries" },
	{ .words = "fdb flush",
	  .method = "fdb.flush",
	  .human = tessctl_flushed,
	  .help = "forget learned entries" },
	{ .words = "fdb add",
	  .method = "fdb.add",
	  .pos = { "group", "mac", "port" },
	  .human = tessctl_done,
	  .help = "add a static MAC" },
	{ .words = "fdb del",
	  .method = "fdb.del",
	  .pos = { "group", "mac" },
	  .human = tessctl_done,
	  .help = "remove a static or learned MAC" },
	{ 0 },
};
TESSCTL_COMMANDS(switch_cmds)
