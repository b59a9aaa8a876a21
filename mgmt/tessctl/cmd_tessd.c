/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands that talk to tessd. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "tessctl.h"

static void status_human(const json_t *r)
{
	json_int_t up = jint(r, "uptime_sec");

	printf("tessd %s (pid %" JSON_INTEGER_FORMAT "), up %" JSON_INTEGER_FORMAT
	       "d %02d:%02d:%02d\n",
	       jstr(r, "version"), jint(r, "pid"), up / 86400, (int)(up / 3600 % 24),
	       (int)(up / 60 % 60), (int)(up % 60));
	printf("config     %s\n", *jstr(r, "config") ? jstr(r, "config") : "(none)");
	printf("socket     %s\n", jstr(r, "socket"));
	if (json_is_true(json_object_get(r, "hugepages")))
		printf("memory     hugepages\n");
	else
		printf("memory     no hugepages (%s)\n           disabled: %s\n",
		       jstr(r, "no_huge_reason"), jstr(r, "disabled_features"));
	printf("workers    %" JSON_INTEGER_FORMAT " (main lcore on CPU %" JSON_INTEGER_FORMAT ")\n",
	       jint(r, "workers"), jint(r, "main_cpu"));
	printf("ports      %" JSON_INTEGER_FORMAT "\n", jint(r, "ports"));
	printf("xconnects  %" JSON_INTEGER_FORMAT "\n", jint(r, "xconnects"));
}

static int cmd_status(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tessctl_run(ctx, "status", NULL, status_human);
}

static void ports_human(const json_t *r)
{
	static const char *const h[] = { "NAME",    "ID",   "DRIVER", "MAC",    "MTU",      "LINK",
					 "RXQ/TXQ", "NUMA", "MODE",   "GROUPS", "XCONNECT", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *p;

	json_array_foreach (r, i, p) {
		const json_t *l = json_object_get(p, "link");
		const char *xc = jstr(p, "xconnect");

		table_cell(t, "%s", jstr(p, "name"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "port_id"));
		table_cell(t, "%s", jstr(p, "driver"));
		table_cell(t, "%s", jstr(p, "mac"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "mtu"));
		if (json_is_true(json_object_get(l, "up")) && jint(l, "speed_mbps"))
			table_cell(t, "up %" JSON_INTEGER_FORMAT "M", jint(l, "speed_mbps"));
		else if (json_is_true(json_object_get(l, "up")))
			table_cell(t, "up"); /* no speed: a vhost port with its guest */
		else
			table_cell(t, "down");
		table_cell(t, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "%s",
			   jint(p, "rx_queues"), jint(p, "tx_queues"),
			   json_is_true(json_object_get(p, "rss")) ? " rss" : "");
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "numa"));
		table_cell(t, "%s", jstr(p, "mode"));
		char groups[256];
		table_cell(t, "%s",
			   tessctl_join(json_object_get(p, "groups"), ",", groups, sizeof(groups)));
		table_cell(t, "%s", *xc ? xc : "-");
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_port_list(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tessctl_run(ctx, "port.list", NULL, ports_human);
}

/* VRF or interface counters, when there are any. */
static void router_stats_human(const json_t *a, const char *what)
{
	bool vrf = strcmp(what, "VRF") == 0;
	const char *h[] = { what,     "RX-PKTS",      vrf ? "FORWARDED" : "TX-PKTS",
			    "PUNTED", "ICMP-SENT",    "ARP-SENT",
			    "DROPS",  "DROP-REASONS", NULL };
	struct table *t;
	size_t i;
	json_t *p;

	if (json_array_size(a) == 0)
		return;
	putchar('\n');
	t = table_new(h);
	json_array_foreach (a, i, p) {
		char reasons[512];
		table_cell(t, "%s", jstr(p, "name"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "rx_packets"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, vrf ? "forwarded" : "tx_packets"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "punted"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "icmp_sent"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "arp_sent"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "drops_total"));
		table_cell(
			t, "%s",
			tessctl_join_counts(json_object_get(p, "drops"), reasons, sizeof(reasons)));
	}
	table_print(t, stdout);
	table_free(t);
}

/* Per stage, as VPP's `show runtime`: stages that ran since the reset. */
static void stages_human(const json_t *a)
{
	static const char *const h[] = { "STAGE",   "MODULE",     "ARC",       "CALLS",
					 "PACKETS", "CYCLES/PKT", "PKTS/CALL", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *p;

	json_array_foreach (a, i, p) {
		if (jint(p, "calls") == 0)
			continue;
		table_cell(t, "%s", jstr(p, "name"));
		table_cell(t, "%s", jstr(p, "module"));
		table_cell(t, "%s", jstr(p, "arc"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "calls"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "packets"));
		table_cell(t, "%.1f", json_real_value(json_object_get(p, "cycles_per_packet")));
		table_cell(t, "%.1f", json_real_value(json_object_get(p, "packets_per_call")));
	}
	putchar('\n');
	table_print(t, stdout);
	table_free(t);
}

/* Every drop by module and reason, as VPP's `show errors`: those that happened. */
static void drops_human(const json_t *o)
{
	static const char *const h[] = { "MODULE", "DROP-REASON", "PACKETS", NULL };
	struct table *t;
	const char *mod, *reason;
	json_t *reasons, *n;
	bool any = false;

	json_object_foreach ((json_t *)o, mod, reasons) {
		if (json_object_size(reasons))
			any = true;
	}
	if (!any)
		return;
	t = table_new(h);
	json_object_foreach ((json_t *)o, mod, reasons) {
		json_object_foreach (reasons, reason, n) {
			table_cell(t, "%s", mod);
			table_cell(t, "%s", reason);
			table_cell(t, "%" JSON_INTEGER_FORMAT, json_integer_value(n));
		}
	}
	putchar('\n');
	table_print(t, stdout);
	table_free(t);
}

/*
 * Sections of other modules (a list of objects each, e.g. a service per
 * interface): one line per object, its names then its non-zero counts.
 */
static void modules_human(const json_t *r)
{
	static const char *const known[] = { "ports", "groups", "vrfs",    "interfaces",
					     "drops", "stages", "workers", NULL };
	const char *key;
	json_t *a;

	json_object_foreach ((json_t *)r, key, a) {
		bool skip = !json_is_array(a) || json_array_size(a) == 0;
		size_t i;
		json_t *o;

		for (const char *const *k = known; !skip && *k; k++)
			skip = strcmp(*k, key) == 0;
		if (skip)
			continue;
		printf("\n%s:\n", key);
		json_array_foreach (a, i, o) {
			char counts[1024], names[256] = "";
			size_t used = 0;
			const char *f;
			json_t *v;

			json_object_foreach (o, f, v) {
				if (json_is_string(v) && used < sizeof(names))
					used += (size_t)snprintf(names + used, sizeof(names) - used,
								 "%s%s", used ? " " : "",
								 json_string_value(v));
			}
			printf("  %s: %s\n", names, tessctl_join_counts(o, counts, sizeof(counts)));
		}
	}
}

static void stats_human(const json_t *r)
{
	static const char *const ph[] = { "PORT",     "RX-PKTS", "RX-BYTES",     "TX-PKTS",
					  "TX-BYTES", "DROPS",   "DROP-REASONS", NULL };
	static const char *const wh[] = { "WORKER", "LCORE",      "CPU",       "PACKETS",
					  "BUSY%",  "CYCLES/PKT", "RX-QUEUES", NULL };
	struct table *t = table_new(ph);
	size_t i;
	json_t *p;

	printf("counters over the last %.1f s\n", json_real_value(json_object_get(r, "seconds")));
	json_array_foreach (json_object_get(r, "ports"), i, p) {
		char reasons[512];
		table_cell(t, "%s", jstr(p, "name"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "rx_packets"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "rx_bytes"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "tx_packets"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "tx_bytes"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "drops_total"));
		table_cell(
			t, "%s",
			tessctl_join_counts(json_object_get(p, "drops"), reasons, sizeof(reasons)));
	}
	table_print(t, stdout);
	table_free(t);

	if (json_array_size(json_object_get(r, "groups"))) {
		static const char *const gh[] = { "GROUP",        "TENANT",  "VLAN", "RX-PKTS",
						  "TX-PKTS",      "FLOODED", "FDB",  "DROPS",
						  "DROP-REASONS", NULL };
		putchar('\n');
		t = table_new(gh);
		json_array_foreach (json_object_get(r, "groups"), i, p) {
			char reasons[512];
			table_cell(t, "%s", jstr(p, "name"));
			table_cell(t, "%s", *jstr(p, "tenant") ? jstr(p, "tenant") : "-");
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "vlan"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "rx_packets"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "tx_packets"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "flooded"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "fdb_learned"));
			table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "drops_total"));
			table_cell(t, "%s",
				   tessctl_join_counts(json_object_get(p, "drops"), reasons,
						       sizeof(reasons)));
		}
		table_print(t, stdout);
		table_free(t);
	}

	router_stats_human(json_object_get(r, "vrfs"), "VRF");
	router_stats_human(json_object_get(r, "interfaces"), "INTERFACE");
	drops_human(json_object_get(r, "drops"));
	stages_human(json_object_get(r, "stages"));
	modules_human(r);

	putchar('\n');
	t = table_new(wh);
	json_array_foreach (json_object_get(r, "workers"), i, p) {
		char queues[512];
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "worker"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "lcore"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "cpu"));
		table_cell(t, "%" JSON_INTEGER_FORMAT, jint(p, "packets"));
		table_cell(t, "%.1f", json_real_value(json_object_get(p, "busy_pct")));
		table_cell(t, "%.1f", json_real_value(json_object_get(p, "cycles_per_packet")));
		table_cell(
			t, "%s",
			tessctl_join(json_object_get(p, "rx_queues"), " ", queues, sizeof(queues)));
	}
	table_print(t, stdout);
	table_free(t);
}

static void tenants_human(const json_t *r)
{
	static const char *const h[] = { "TENANT",   "KIND",       "NAME",     "RX-PACKETS",
					 "RX-BYTES", "TX-PACKETS", "TX-BYTES", NULL };
	static const char *const kinds[] = { "ports", "groups", "vrfs", NULL };
	struct table *t = table_new(h);
	const char *tenant, *name;
	json_t *tv, *o;

	json_object_foreach (json_object_get(r, "tenants"), tenant, tv) {
		for (const char *const *k = kinds; *k; k++) {
			json_object_foreach (json_object_get(tv, *k), name, o) {
				table_cell(t, "%s", tenant);
				table_cell(t, "%.*s", (int)strlen(*k) - 1, *k);
				table_cell(t, "%s", name);
				table_cell(t, "%" JSON_INTEGER_FORMAT, jint(o, "rx_packets"));
				table_cell(t, "%" JSON_INTEGER_FORMAT, jint(o, "rx_bytes"));
				table_cell(t, "%" JSON_INTEGER_FORMAT, jint(o, "tx_packets"));
				table_cell(t, "%" JSON_INTEGER_FORMAT, jint(o, "tx_bytes"));
			}
		}
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_stats(struct tessctl *ctx, int argc, char **argv)
{
	json_t *params = json_object();

	if (argc == 1 && strcmp(argv[0], "--reset") == 0) {
		json_t *r;
		int rc = tessctl_call(ctx, "stats.reset", NULL, &r);

		json_decref(params);
		if (rc == 0) {
			if (ctx->json)
				tessctl_print_json(r);
			else
				printf("counters reset\n");
			json_decref(r);
		}
		return rc;
	}
	if (argc >= 1 && strcmp(argv[0], "--tenants") == 0) {
		if (argc == 2)
			json_object_set_new(params, "tenant", json_string(argv[1]));
		return tessctl_run(ctx, "stats.tenants", params, tenants_human);
	}
	if (argc == 2 && strcmp(argv[0], "--vrf") == 0) {
		json_object_set_new(params, "vrf", json_string(argv[1]));
	} else if (argc) {
		json_decref(params);
		fprintf(stderr,
			"tessctl: stats takes --reset, --vrf V or --tenants [T], not '%s'\n",
			argv[0]);
		return TESSCTL_USAGE;
	}
	return tessctl_run(ctx, "stats.get", params, stats_human);
}

static int cmd_config_show(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tessctl_run(ctx, "config.get", NULL, NULL);
}

static void saved_human(const json_t *r)
{
	printf("saved to %s\n", jstr(r, "path"));
}

static int cmd_config_save(struct tessctl *ctx, int argc, char **argv)
{
	json_t *params = argc ? json_pack("{s:s}", "path", argv[0]) : NULL;

	return tessctl_run(ctx, "config.save", params, saved_human);
}

static int cmd_call(struct tessctl *ctx, int argc, char **argv)
{
	json_t *params = NULL;

	if (argc == 2) {
		json_error_t e;
		params = json_loads(argv[1], 0, &e);
		if (params == NULL) {
			fprintf(stderr, "tessctl: params are not JSON: %s\n", e.text);
			return TESSCTL_USAGE;
		}
	}
	return tessctl_run(ctx, argv[0], params, NULL);
}

static void help_human(const json_t *r)
{
	size_t i;
	json_t *m;

	json_array_foreach (r, i, m) {
		printf("%-16s %s\n", jstr(m, "method"), jstr(m, "summary"));
	}
}

static int cmd_methods(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tessctl_run(ctx, "help", NULL, help_human);
}

const struct tessctl_cmd tessd_cmds[] = {
	{ "status", NULL, 0, 0, cmd_status, "tessd version, uptime, workers, memory" },
	{ "port list", NULL, 0, 0, cmd_port_list, "ports, link state, queues" },
	{ "stats", "stats [--reset | --vrf V | --tenants [T]]", 0, 2, cmd_stats,
	  "counters of ports, groups, VRFs, interfaces, workers (or zero them)" },
	{ "config show", NULL, 0, 0, cmd_config_show, "print the running config" },
	{ "config save", "config save [PATH]", 0, 1, cmd_config_save,
	  "save the running config (atomically)" },
	{ "methods", NULL, 0, 0, cmd_methods, "list tessd's API methods" },
	{ "call", "call METHOD [PARAMS-JSON]", 1, 2, cmd_call, "send any API request" },
	{ 0 },
};
