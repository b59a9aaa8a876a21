/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of the router: VRFs, interfaces, routes, neighbours (linked into tessctl). */
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "tessctl.h"

static const char *const name_key[] = { "name", NULL };
static const char *const prefix_key[] = { "prefix", NULL };

/* ---- VRFs ---- */

static void vrf_list_human(const json_t *r)
{
	static const char *const h[] = { "VRF",        "ID",          "ROUTES",      "NEIGHBOURS",
					 "ICMP/S",     "NEIGH-LIMIT", "GROUP-LIMIT", "FIB-NODES",
					 "INTERFACES", "KERNEL",      NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	json_array_foreach (r, i, v) {
		char ifs[512];
		table_cell(t, "%s", jstr(v, "name"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "id"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "routes"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "neighbours"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "icmp_rate"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "neigh_limit_effective"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "max_nexthop_groups_effective"));
		/* Held of the limit: the hugepage memory its routes take (1 KiB a node). */
		table_cell(t, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
			   jint(v, "fib_nodes"), jint(v, "max_fib_nodes_effective"));
		table_cell(t, "%s",
			   tessctl_join(json_object_get(v, "interfaces"), " ", ifs, sizeof(ifs)));
		/* Bound to a kernel table: netns:table, its routes here, what could not map. */
		const json_t *k = json_object_get(v, "kernel"),
			     *ks = json_object_get(v, "kernel_sync");
		if (!jstr(k, "netns")[0])
			table_cell(t, "-");
		else if (ks == NULL)
			table_cell(t, "%s:%" JSON_INTEGER_FORMAT " (not bound: see the log)",
				   jstr(k, "netns"), jint(k, "table"));
		else
			table_cell(t,
				   "%s:%" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT
				   " routes, %zu unmapped, %" JSON_INTEGER_FORMAT " errors%s",
				   jstr(k, "netns"), jint(k, "table"), jint(ks, "kernel_routes"),
				   json_array_size(json_object_get(ks, "unmapped")),
				   jint(ks, "errors"),
				   json_is_true(json_object_get(ks, "incomplete"))
					   ? ", some routes ignored"
					   : "");
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_vrf_list(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tessctl_run(ctx, "vrf.list", NULL, vrf_list_human);
}

static void vrf_human(const json_t *r)
{
	printf("VRF %s: id %" JSON_INTEGER_FORMAT "\n", jstr(r, "name"), jint(r, "id"));
}

/* --kernel NETNS[:TABLE]: the VRF follows that kernel table (main, 254, by default). */
static int cmd_vrf_add(struct tessctl *ctx, int argc, char **argv)
{
	json_t *p = json_pack("{s:s}", "name", argv[0]);
	int n = 0;

	/* The other arguments, compacted in place, are the schema's options. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) {
			char netns[64];
			unsigned table = 254;
			const char *colon = strchr(argv[++i], ':');
			snprintf(netns, sizeof(netns), "%.*s",
				 colon ? (int)(colon - argv[i]) : (int)strlen(argv[i]), argv[i]);
			if (colon && sscanf(colon + 1, "%u", &table) != 1) {
				fprintf(stderr, "tessctl: --kernel takes NETNS[:TABLE]\n");
				json_decref(p);
				return TESSCTL_USAGE;
			}
			json_object_set_new(
				p, "kernel",
				json_pack("{s:s, s:i}", "netns", netns, "table", table));
		} else {
			argv[n++] = argv[i];
		}
	}
	return tessctl_run_schema(ctx, "vrf add", "vrf.add", name_key, p, n, argv, vrf_human);
}

/* ---- interfaces ---- */

static void iface_list_human(const json_t *r)
{
	static const char *const h[] = { "INTERFACE", "VRF", "ON",        "MAC", "MTU",
					 "STATE",     "ID",  "ADDRESSES", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	json_array_foreach (r, i, v) {
		char addrs[512];
		table_cell(t, "%s", jstr(v, "name"));
		table_cell(t, "%s", jstr(v, "vrf"));
		if (*jstr(v, "group"))
			table_cell(t, "group %s", jstr(v, "group"));
		else if (jint(v, "vlan"))
			table_cell(t, "%s.%" JSON_INTEGER_FORMAT, jstr(v, "port"), jint(v, "vlan"));
		else
			table_cell(t, "%s", jstr(v, "port"));
		table_cell(t, "%s", jstr(v, "mac"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "mtu"));
		table_cell(t, "%s", jstr(v, "state"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "id"));
		table_cell(
			t, "%s",
			tessctl_join(json_object_get(v, "addresses"), " ", addrs, sizeof(addrs)));
	}
	table_print(t, stdout);
	table_free(t);
}

static void iface_human(const json_t *r)
{
	printf("interface %s in VRF %s: MAC %s\n", jstr(r, "name"), jstr(r, "vrf"), jstr(r, "mac"));
}

/* ---- routes ---- */

static void nexthops_text(const json_t *r, char *buf, size_t len)
{
	size_t used = 0, i;
	json_t *nh;

	buf[0] = '\0';
	if (strcmp(jstr(r, "type"), "vrf") == 0) {
		snprintf(buf, len, "vrf %s", jstr(r, "target_vrf"));
		return;
	}
	json_array_foreach (json_object_get(r, "nexthops"), i, nh) {
		if (used >= len)
			break;
		if (*jstr(nh, "via"))
			used += (size_t)snprintf(buf + used, len - used, "%svia %s dev %s",
						 used ? ", " : "", jstr(nh, "via"),
						 jstr(nh, "interface"));
		else
			used += (size_t)snprintf(buf + used, len - used, "%sdev %s",
						 used ? ", " : "", jstr(nh, "interface"));
	}
	if (!used)
		snprintf(buf, len, "-");
}

static void routes_human(const json_t *r)
{
	static const char *const h[] = { "VRF", "PREFIX", "ORIGIN", "TYPE", "NEXT-HOPS", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	json_array_foreach (r, i, v) {
		char nhs[1024];
		nexthops_text(v, nhs, sizeof(nhs));
		table_cell(t, "%s", jstr(v, "vrf"));
		table_cell(t, "%s", jstr(v, "prefix"));
		table_cell(t, "%s", jstr(v, "origin"));
		table_cell(t, "%s", jstr(v, "type"));
		table_cell(t, "%s", nhs);
	}
	table_print(t, stdout);
	table_free(t);
}

static void route_added_human(const json_t *r)
{
	char nhs[1024];

	nexthops_text(r, nhs, sizeof(nhs));
	printf("VRF %s: %s %s %s\n", jstr(r, "vrf"), jstr(r, "prefix"), jstr(r, "type"), nhs);
}

static int cmd_route_show(struct tessctl *ctx, int argc, char **argv)
{
	json_t *p = json_object();

	/* An optional prefix or address, anywhere among the options. */
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] != '-') {
			json_object_set_new(p, "prefix", json_string(argv[i]));
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof(*argv));
			argc--;
			break;
		}
		i++; /* skip the option's value */
	}
	return tessctl_run_schema(ctx, "route show", "route.show", prefix_key, p, argc, argv,
				  routes_human);
}

/*
 * route add PREFIX --vrf V followed by next hops (--via IP[@IFACE], repeated
 * for ECMP; --dev IFACE for on-link) or one of --blackhole, --reject,
 * --to-vrf V. Next hops are a list of objects, which no option derived
 * from the schema can give; other options (--vrf) come from the schema.
 */
static int cmd_route_add(struct tessctl *ctx, int argc, char **argv)
{
	json_t *p = json_pack("{s:s}", "prefix", argv[0]), *nhs = json_array();
	int n = 0;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool value = strcmp(o, "--via") == 0 || strcmp(o, "--dev") == 0 ||
			     strcmp(o, "--to-vrf") == 0;

		if (value && i + 1 == argc) {
			json_decref(p);
			json_decref(nhs);
			fprintf(stderr, "tessctl: %s needs a value\n", o);
			return TESSCTL_USAGE;
		}
		if (strcmp(o, "--via") == 0) {
			char via[64], *at;
			snprintf(via, sizeof(via), "%s", argv[++i]);
			at = strchr(via, '@');
			if (at)
				*at++ = '\0';
			json_array_append_new(
				nhs, at ? json_pack("{s:s, s:s}", "via", via, "interface", at)
					: json_pack("{s:s}", "via", via));
		} else if (strcmp(o, "--dev") == 0) {
			json_array_append_new(nhs, json_pack("{s:s}", "interface", argv[++i]));
		} else if (strcmp(o, "--blackhole") == 0 || strcmp(o, "--reject") == 0) {
			json_object_set_new(p, "type", json_string(o + 2));
		} else if (strcmp(o, "--to-vrf") == 0) {
			json_object_set_new(p, "type", json_string("vrf"));
			json_object_set_new(p, "target_vrf", json_string(argv[++i]));
		} else {
			argv[n++] = argv[i]; /* compacted in place, for the schema's options */
		}
	}
	json_object_set_new(p, "nexthops", nhs);
	return tessctl_run_schema(ctx, "route add", "route.add", prefix_key, p, n, argv,
				  route_added_human);
}

/* ---- neighbours ---- */

static void neigh_human(const json_t *r)
{
	static const char *const h[] = { "VRF",   "IP",  "MAC",    "INTERFACE",
					 "STATE", "AGE", "QUEUED", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *v;

	json_array_foreach (r, i, v) {
		table_cell(t, "%s", jstr(v, "vrf"));
		table_cell(t, "%s", jstr(v, "ip"));
		table_cell(t, "%s", *jstr(v, "mac") ? jstr(v, "mac") : "-");
		table_cell(t, "%s", jstr(v, "interface"));
		table_cell(t, "%s", jstr(v, "state"));
		table_cell(t, "%" JSON_INTEGER_FORMAT "s", jint(v, "age_sec"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(v, "queued"));
	}
	table_print(t, stdout);
	table_free(t);
}

static const struct tessctl_cmd router_cmds[] = {
	{ "vrf list", NULL, 0, 0, cmd_vrf_list, "VRFs: id, routes, neighbours, interfaces" },
	{ "vrf add",
	  "vrf add NAME [options] [--kernel NETNS[:TABLE]]",
	  1,
	  TESSCTL_ANY_ARGS,
	  cmd_vrf_add,
	  "add a VRF (bound to a kernel table with --kernel)",
	  "vrf.add",
	  { "name" } },
	{ .words = "vrf set",
	  .method = "vrf.set",
	  .pos = { "name" },
	  .human = vrf_human,
	  .help = "change a VRF's settings (only the options given)" },
	{ .words = "vrf del",
	  .method = "vrf.del",
	  .pos = { "name" },
	  .human = tessctl_done,
	  .help = "remove a VRF without interfaces" },
	{ .words = "interface list",
	  .method = "interface.list",
	  .human = iface_list_human,
	  .help = "L3 interfaces" },
	{ .words = "interface add",
	  .method = "interface.add",
	  .pos = { "name" },
	  .human = iface_human,
	  .help = "add an L3 interface (--port P [--vlan N] or --group G)" },
	{ .words = "interface del",
	  .method = "interface.del",
	  .pos = { "name" },
	  .human = tessctl_done,
	  .help = "remove an L3 interface nothing uses" },
	{ "route show",
	  "route show [options] [PREFIX|ADDRESS]",
	  0,
	  TESSCTL_ANY_ARGS,
	  cmd_route_show,
	  "routes, or the one a prefix or address uses",
	  "route.show",
	  { "prefix" } },
	{ "route add",
	  "route add PREFIX --vrf V (--via IP[@IFACE]... | --dev IFACE | --blackhole | --reject | "
	  "--to-vrf V)",
	  1,
	  TESSCTL_ANY_ARGS,
	  cmd_route_add,
	  "add a static route (repeat --via for ECMP)",
	  "route.add",
	  { "prefix" } },
	{ .words = "route del",
	  .method = "route.del",
	  .pos = { "prefix" },
	  .human = tessctl_done,
	  .help = "remove a static route" },
	{ .words = "neigh show",
	  .method = "neigh.show",
	  .human = neigh_human,
	  .help = "ARP entries" },
	{ .words = "neigh add",
	  .method = "neigh.add",
	  .pos = { "ip", "mac" },
	  .human = tessctl_done,
	  .help = "add or replace a static neighbour" },
	{ .words = "neigh del",
	  .method = "neigh.del",
	  .pos = { "ip" },
	  .human = tessctl_done,
	  .help = "remove a static or learned neighbour" },
	{ .words = "neigh flush",
	  .method = "neigh.flush",
	  .human = tessctl_flushed,
	  .help = "forget learned neighbours" },
	{ 0 },
};
TESSCTL_COMMANDS(router_cmds)
