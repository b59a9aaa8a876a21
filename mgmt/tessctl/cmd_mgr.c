/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl commands for tessmgrd (its HTTP API at --mgr URL with --token):
 * sites, hosts, tenants, models, quotas, desktops, usage, jobs, audit,
 * base images.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "rates.h"
#include "schema_opts.h"
#include "spec.h"
#include "table.h"
#include "tessctl.h"

int tessctl_mgr_call(struct tessctl *ctx, const char *method, const char *path, json_t *body,
		     json_t **result)
{
	char why[512], full[1024];
	json_t *r = NULL, *err;
	int status;

	snprintf(full, sizeof(full), "/v1/%s", path);
	status = http_call(ctx->mgr_url, ctx->token, method, full, body, ctx->timeout_ms, &r, why,
			   sizeof(why));
	if (status < 0) {
		fprintf(stderr, "tessctl: tessmgrd at %s: %s\n", ctx->mgr_url, why);
		return status;
	}
	err = json_object_get(r, "error");
	if (status >= 400) {
		if (ctx->json)
			tessctl_print_json(r);
		fprintf(stderr, "tessctl: error %d: %s%s%s%s\n", status,
			jstr(err, "message")[0] ? jstr(err, "message") : "(no message)",
			jstr(err, "path")[0] ? " (at " : "", jstr(err, "path"),
			jstr(err, "path")[0] ? ")" : "");
		if (json_object_get(err, "detail") && !ctx->json) {
			char *d = json_dumps(json_object_get(err, "detail"), JSON_COMPACT);
			fprintf(stderr, "  detail: %s\n", d ? d : "");
			free(d);
		}
		json_decref(r);
		return -1;
	}
	*result = r;
	return 0;
}

int tessctl_mgr_run(struct tessctl *ctx, const char *method, const char *path, json_t *body,
		    void (*human)(const json_t *r))
{
	json_t *r;
	int rc = tessctl_mgr_call(ctx, method, path, body, &r);

	return rc < 0 ? rc : tessctl_show(ctx, r, human);
}

/*
 * The options of add and set are the object's schema (spec.c, what
 * tessmgrd's API decodes): --some-key for some_key, as tessd's commands.
 * These flags, older than that, are kept because scripts use them.
 */
const struct sopts_alias tessctl_mgr_aliases[] = {
	{ "--lat", "latitude" },
	{ "--lon", "longitude" },
	{ "--prefixes", "client_prefixes" },
	{ "--dedicated", "shared", .value = false },
	{ "--overalloc", "memory_overalloc" },
	{ "--org", "org_id" },
	{ "--trunks", "trunk_ports" },
	{ "--image", "base_image" },
	{ "--shares", "cpu_shares" },
	/* One argument whole (--args splits at commas), repeated in order. */
	{ "--arg", "args", .item = true },
	{ "--timeout", "timeout_sec" },
	{ "--disabled", "enabled", .value = false },
	{ "--cpus", "max_cpus" },
	{ "--memory-mb", "max_memory_mb" },
	{ 0 },
};

/*
 * body with the options of argv sent as method path: those of the schema of
 * mgr_cmds' command words (not its positional keys) and the aliases above.
 * words is always a command of the table (each caller names its own).
 */
static int with(struct tessctl *ctx, const char *words, const char *method, const char *path,
		json_t *body, int argc, char **argv, void (*human)(const json_t *r))
{
	const struct tessctl_cmd *c = mgr_cmds;
	json_t *params;
	int rc;

	while (strcmp(c->words, words) != 0)
		c++;
	params = cfg_schema_json(c->schema);
	rc = params ? sopts_parse(params, c->pos, tessctl_mgr_aliases, argc, argv, body) : -1;
	json_decref(params);
	if (rc < 0) {
		json_decref(body);
		return TESSCTL_USAGE;
	}
	return tessctl_mgr_run(ctx, method, path, body, human);
}

/* a/b[/c], b and c (names the user typed) percent-encoded; < 0 after a usage error. A name
 * with '/' (tessmgrd's server decodes %2F before it splits), "." or ".." would name another
 * resource, so none is sent; nor is a cut path. */
static int path_of(char *buf, size_t len, const char *a, const char *b, const char *c)
{
	char eb[512] = "", ec[512] = "";
	const char *names[2] = { b, c };
	int n;

	for (int i = 0; i < 2; i++) {
		const char *x = names[i];
		if (x && (strchr(x, '/') || strcmp(x, ".") == 0 || strcmp(x, "..") == 0)) {
			fprintf(stderr,
				"tessctl: %s: a name cannot contain '/' nor be '.' or '..'\n", x);
			return -EINVAL;
		}
	}
	if (http_path_escape(eb, sizeof(eb), b) < 0 ||
	    (c && http_path_escape(ec, sizeof(ec), c) < 0))
		goto long_name;
	n = snprintf(buf, len, "%s/%s%s%s", a, eb, c ? "/" : "", ec);
	if (n >= 0 && (size_t)n < len)
		return 0;
long_name:
	fprintf(stderr, "tessctl: %s: name too long\n", c ? c : b);
	return -E2BIG;
}

/* ---- tables ---- */

static void cells(struct table *t, const json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		const json_t *v = json_object_get(o, *keys);
		if (json_is_string(v))
			table_cell(t, "%s", json_string_value(v)[0] ? json_string_value(v) : "-");
		else if (json_is_integer(v))
			table_cell(t, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_real(v))
			table_cell(t, "%g", json_real_value(v));
		else if (json_is_boolean(v))
			table_cell(t, "%s", json_is_true(v) ? "yes" : "no");
		else if (json_is_array(v)) {
			char buf[512] = "";
			size_t i, used = 0;
			json_t *x;
			json_array_foreach ((json_t *)v, i, x) {
				char *s = json_dumps(x, JSON_ENCODE_ANY);
				if (s && used < sizeof(buf))
					used += (size_t)snprintf(
						buf + used, sizeof(buf) - used, "%s%s",
						used ? "," : "",
						json_is_string(x) ? json_string_value(x) : s);
				free(s);
			}
			table_cell(t, "%s", used ? buf : "-");
		} else
			table_cell(t, "-");
	}
}

static void print_table(const json_t *rows, const char *const *heads, const char *const *keys)
{
	struct table *t = table_new(heads);
	size_t i;
	json_t *o;

	json_array_foreach ((json_t *)rows, i, o)
		cells(t, o, keys);
	table_print(t, stdout);
	table_free(t);
}

struct col {
	const char *head, *key;
};

/* A table of rows (an array, or one object) with these columns. */
static void print_cols(const json_t *r, const struct col *cols)
{
	const char *heads[32], *keys[32];
	json_t *one = json_is_array(r) ? NULL : json_pack("[O]", r);
	unsigned n = 0;

	for (; cols[n].head && n < 31; n++) {
		heads[n] = cols[n].head;
		keys[n] = cols[n].key;
	}
	heads[n] = keys[n] = NULL;
	print_table(one ? one : r, heads, keys);
	json_decref(one);
}

#define COLS(...) ((const struct col[]){ __VA_ARGS__, { NULL, NULL } })

/* Seconds since the epoch as UTC text. */
static void utc_text(json_int_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static void sites_human(const json_t *r)
{
	print_cols(r, COLS({ "SITE", "name" }, { "LAT", "latitude" }, { "LON", "longitude" },
			   { "STORAGE", "storage" }, { "CLIENT-PREFIXES", "client_prefixes" }));
}

static void sites_from_human(const json_t *r)
{
	print_cols(r, COLS({ "SITE", "name" }, { "KM", "distance_km" }, { "LAT", "latitude" },
			   { "LON", "longitude" }, { "CLIENT-PREFIXES", "client_prefixes" }));
}

static void images_human(const json_t *r)
{
	size_t i, k, s;
	json_t *img, *v, *site;

	if (json_is_object(r)) { /* one image */
		json_t *a = json_array();
		json_array_append(a, (json_t *)r);
		images_human(a);
		json_decref(a);
		return;
	}
	printf("%-20s %-14s %-20s %s\n", "IMAGE", "VERSION", "PUBLISHED (UTC)", "SITES");
	json_array_foreach (r, i, img)
		json_array_foreach (json_object_get(img, "versions"), k, v) {
			char when[32];
			utc_text(jint(v, "published_us") / 1000000, when, sizeof(when));
			printf("%-20s %-14.12s %-20s ", jstr(img, "name"), jstr(v, "version"),
			       when);
			json_array_foreach (json_object_get(v, "sites"), s, site)
				printf("%s%s", s ? "," : "", jstr(site, "site"));
			putchar('\n');
		}
}

static void push_human(const json_t *r)
{
	size_t i;
	json_t *s;

	printf("image %s version %.12s\n", jstr(r, "name"), jstr(r, "version"));
	json_array_foreach (json_object_get(r, "sites"), i, s)
		printf("  %-16s %-10s %s\n", jstr(s, "site"), jstr(s, "state"),
		       jstr(s, "error")[0] ? jstr(s, "error") : jstr(s, "path"));
}

static void connect_human(const json_t *r)
{
	if (json_is_true(json_object_get(r, "moved")))
		printf("desktop %s moved from %s to %s in %.2f s: connect to host %s at site %s\n",
		       jstr(r, "desktop"), jstr(r, "from_site"), jstr(r, "site"),
		       (double)jint(r, "move_ms") / 1000.0, jstr(r, "host"), jstr(r, "site"));
	else
		printf("desktop %s stays: connect to host %s at site %s (%s)\n", jstr(r, "desktop"),
		       jstr(r, "host"), jstr(r, "site"), jstr(r, "reason"));
	if (jstr(r, "task_error")[0])
		printf("  but: %s\n", jstr(r, "task_error"));
	if (json_object_get(r, "sites")) {
		const char *k;
		json_t *v;
		json_object_foreach ((json_t *)json_object_get(r, "sites"), k, v)
			printf("  site %s %s\n", k, json_string_value(v));
	}
}

static void hosts_human(const json_t *r)
{
	print_cols(r, COLS({ "HOST", "name" }, { "SITE", "site" }, { "UP", "up" },
			   { "SHARED", "shared" }, { "CPUS", "cpus" }, { "VCPUS", "vcpus_used" },
			   { "OF", "cpu_capacity" }, { "MEM-MB", "memory_used_mb" },
			   { "OF", "memory_capacity_mb" }, { "VLANS", "vlans" }));
}

static void tenants_human(const json_t *r)
{
	print_cols(r,
		   COLS({ "TENANT", "name" }, { "ORG", "org_id" }, { "DATACENTER", "datacenter" },
			{ "VLAN", "vlan" }, { "VLAN-NAME", "vlan_name" }));
}

static void routers_human(const json_t *r)
{
	print_cols(r, COLS({ "ROUTER", "name" }, { "SITE", "site" }, { "TRUNKS", "trunk_ports" },
			   { "INTERNET-VRF", "internet_vrf" }, { "TESSD", "tessd" }));
}

/* A tenant's set and group guard between desktops as a host should have them. */
static void lan_line(const json_t *fw)
{
	const json_t *guard = json_object_get(fw, "guard"), *ip;
	size_t i;

	printf("  set %s of tenant %s: wanted %s; group %s", jstr(fw, "set"), jstr(fw, "tenant"),
	       jstr(fw, "want"),
	       json_is_true(json_object_get(guard, "ipv4_only")) ? "IPv4 and ARP only"
								 : "any protocol");
	if (json_is_true(json_object_get(guard, "dhcp_guard")))
		printf(", no DHCP server");
	json_array_foreach (json_object_get(guard, "protected_ips"), i, ip)
		printf(", %s", json_string_value(ip) ?: "?");
	printf("%s\n",
	       json_array_size(json_object_get(guard, "protected_ips")) ? " protected" : "");
}

/* One line per tessd of a reconcile: what it lacks or has otherwise than the store. */
static void reconcile_human(const json_t *r)
{
	const json_t *tessds = json_object_get(r, "tessds"), *x;
	size_t i;

	json_array_foreach (json_object_get(tessds, "routers"), i, x) {
		printf("router %s: ", jstr(x, "router"));
		if (!json_is_true(json_object_get(x, "reachable")))
			printf("unreachable: %s\n", jstr(x, "error"));
		else
			printf("%zu missing, %zu differ%s\n",
			       json_array_size(json_object_get(x, "missing")),
			       json_array_size(json_object_get(x, "differs")),
			       json_is_true(json_object_get(x, "repaired")) ? ", repaired" : "");
		const json_t *tr;
		size_t k;
		json_array_foreach (json_object_get(x, "trunks"), k, tr)
			printf("  trunk %s: %s\n", jstr(tr, "port"), jstr(tr, "error"));
	}
	json_array_foreach (json_object_get(tessds, "hosts"), i, x) {
		printf("host %s tessd: ", jstr(x, "host"));
		if (!json_is_true(json_object_get(x, "reachable")))
			printf("unreachable: %s\n", jstr(x, "error"));
		else
			printf("%zu groups and %zu desktop ports missing, %zu sets or guards "
			       "between desktops not as stored%s\n",
			       json_array_size(json_object_get(x, "missing_groups")),
			       json_array_size(json_object_get(x, "missing_ports")),
			       json_array_size(json_object_get(x, "firewall")),
			       json_object_get(x, "repaired") ? ", repaired" : "");
		const json_t *fw;
		size_t k;
		json_array_foreach (json_object_get(x, "firewall"), k, fw)
			lan_line(fw);
		if (json_object_get(x, "firewall_error"))
			printf("  sets between desktops: %s\n", jstr(x, "firewall_error"));
		const json_t *pl;
		json_array_foreach (json_object_get(x, "port_locks"), k, pl) {
			const json_t *ips = json_object_get(pl, "allowed_ips");
			printf("  port %s of desktop %" JSON_INTEGER_FORMAT
			       ": not locked as stored, to MAC %s and %s\n",
			       jstr(pl, "port"), jint(pl, "desktop_id"),
			       json_string_value(
				       json_array_get(json_object_get(pl, "allowed_macs"), 0))
				       ?: "any",
			       json_array_size(ips)
				       ? json_string_value(json_array_get(ips, 0)) ?: "?"
				       : "any address");
		}
		if (json_object_get(x, "port_locks_error"))
			printf("  desktop ports' locks: %s\n", jstr(x, "port_locks_error"));
	}
	json_array_foreach (json_object_get(r, "hosts"), i, x)
		printf("host %s libvirt: %zu domains not in the store, %zu desktops missing\n",
		       jstr(x, "host"), json_array_size(json_object_get(x, "not_in_store")),
		       json_array_size(json_object_get(x, "missing_in_libvirt")));
}

static void models_human(const json_t *r)
{
	print_cols(r, COLS({ "MODEL", "name" }, { "VCPUS", "vcpus" }, { "MEM-MB", "memory_mb" },
			   { "IMAGE", "base_image" }, { "SHARES", "cpu_shares" }));
}

static void tasks_human(const json_t *r)
{
	print_cols(r, COLS({ "TASK", "name" }, { "WHEN", "when" }, { "MODEL", "model" },
			   { "TENANT", "tenant" }, { "PROGRAM", "program" },
			   { "TIMEOUT", "timeout_sec" }, { "ENABLED", "enabled" }));
}

static void quotas_human(const json_t *r)
{
	print_cols(r, COLS({ "TENANT", "tenant" }, { "MODEL", "model" }, { "CPUS", "cpus_used" },
			   { "OF", "max_cpus" }, { "MEM-MB", "memory_used_mb" },
			   { "OF", "max_memory_mb" }, { "HOSTS", "hosts" }));
}

static void desktops_human(const json_t *r)
{
	print_cols(r, COLS({ "ID", "id" }, { "DESKTOP", "name" }, { "MODEL", "model" },
			   { "HOST", "host" }, { "STATE", "state" }, { "CPUS", "cpus" },
			   { "THROTTLED", "throttled" }, { "PORT", "port" },
			   { "ADDRESS", "address" }));
}

static void jobs_human(const json_t *r)
{
	print_cols(r, COLS({ "JOB", "id" }, { "KIND", "kind" }, { "STATE", "state" },
			   { "PRIORITY", "priority" }, { "DESKTOP", "desktop_id" },
			   { "HOST", "host_id" }, { "ERROR", "error" }));
}

static void audit_human(const json_t *r)
{
	json_t *rows = json_deep_copy(r), *e;
	size_t i;

	json_array_foreach (rows, i, e) {
		char when[32];
		utc_text(jint(e, "time"), when, sizeof(when));
		json_object_set_new(e, "when", json_string(when));
	}
	print_cols(rows,
		   COLS({ "ID", "id" }, { "TIME (UTC)", "when" }, { "PRINCIPAL", "principal" },
			{ "ROLE", "role" }, { "TENANT", "tenant" }, { "ACTION", "action" },
			{ "TARGET", "target" }, { "RESULT", "result" }));
	json_decref(rows);
}

static void usage_human(const json_t *r)
{
	size_t i;
	json_t *t;

	if (json_object_get(r, "hosts")) {
		print_cols(json_object_get(r, "hosts"),
			   COLS({ "HOST", "host" }, { "UP", "up" }, { "VCPUS", "vcpus_used" },
				{ "OF", "cpu_capacity" }, { "MEM-MB", "memory_used_mb" },
				{ "OF", "memory_capacity_mb" }, { "TENANTS", "tenants" }));
		putchar('\n');
	}
	json_array_foreach (json_object_get(r, "tenants"), i, t) {
		printf("tenant %s (VLAN %" JSON_INTEGER_FORMAT "): %" JSON_INTEGER_FORMAT
		       " desktops, %" JSON_INTEGER_FORMAT " running\n",
		       jstr(t, "tenant"), jint(t, "vlan"), jint(t, "desktops"), jint(t, "running"));
		quotas_human(json_object_get(t, "quotas"));
	}
}

static void accepted_human(const json_t *r)
{
	const json_t *d = json_object_get(r, "desktop"), *j = json_object_get(r, "job");

	printf("desktop %s (id %" JSON_INTEGER_FORMAT ") on %s: job %" JSON_INTEGER_FORMAT
	       " (%s) %s\n",
	       jstr(d, "name"), jint(d, "id"), jstr(d, "host"), jint(j, "id"), jstr(j, "kind"),
	       jstr(j, "state"));
}

static void search_human(const json_t *r)
{
	print_cols(json_object_get(r, "hosts"),
		   COLS({ "HOST", "host" }, { "DESKTOPS", "desktops" }));
	printf("covers %" JSON_INTEGER_FORMAT " of the %" JSON_INTEGER_FORMAT
	       " desktops the quota allows\n",
	       jint(r, "covered"), jint(r, "wanted"));
}

/* ---- commands ---- */

/* "SxCxT" (sockets x cores x threads) and --memory-mb for a test-driver host. */
static int host_add(struct tessctl *ctx, int argc, char **argv)
{
	json_t *body = json_pack("{s:s}", "name", argv[0]);
	int rest = 0;
	char *args[64];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--test-host") == 0 && i + 1 < argc) {
			unsigned s, c, t;
			if (sscanf(argv[++i], "%ux%ux%u", &s, &c, &t) != 3) {
				fprintf(stderr,
					"tessctl: --test-host takes SOCKETSxCORESxTHREADS\n");
				json_decref(body);
				return TESSCTL_USAGE;
			}
			json_object_set_new(body, "test_host",
					    json_pack("{s:i, s:i, s:i}", "sockets", s, "cores", c,
						      "threads", t));
		} else if (strcmp(argv[i], "--memory-mb") == 0 && i + 1 < argc) {
			json_t *th = json_object_get(body, "test_host");
			if (th == NULL)
				json_object_set_new(body, "test_host", th = json_object());
			json_object_set_new(th, "memory_mb", json_integer(atoll(argv[++i])));
		} else if (rest < 64) {
			args[rest++] = argv[i];
		}
	}
	return with(ctx, "host", "POST", "hosts", body, rest, args, hosts_human);
}

/* Command words (mgr_cmds'), on the collection what. */
static int cmd_simple(struct tessctl *ctx, int argc, char **argv, const char *words,
		      const char *what, void (*human)(const json_t *r))
{
	char path[256];

	/* list | show NAME | add NAME [opts] | set NAME [opts] (whole object) | del NAME */
	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return tessctl_mgr_run(ctx, "GET", what, NULL, human);
	if (argc < 2) {
		fprintf(stderr, "tessctl: %s %s needs a name\n", what, argv[0]);
		return TESSCTL_USAGE;
	}
	if (path_of(path, sizeof(path), what, argv[1], NULL) < 0)
		return TESSCTL_USAGE;
	if (strcmp(argv[0], "show") == 0 && argc == 2)
		return tessctl_mgr_run(ctx, "GET", path, NULL, human);
	if (strcmp(argv[0], "del") == 0 && argc == 2)
		return tessctl_mgr_run(ctx, "DELETE", path, NULL, tessctl_done);
	if (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "set") == 0) {
		bool add = argv[0][0] == 'a';
		if (add && strcmp(what, "hosts") == 0)
			return host_add(ctx, argc - 1, argv + 1);
		return with(ctx, words, add ? "POST" : "PUT", add ? what : path,
			    json_pack("{s:s}", "name", argv[1]), argc - 2, argv + 2, human);
	}
	fprintf(stderr, "tessctl: %s: list, show NAME, add NAME, set NAME or del NAME\n", what);
	return TESSCTL_USAGE;
}

static int cmd_site(struct tessctl *ctx, int argc, char **argv)
{
	char path[256];

	if (argc == 3 && strcmp(argv[0], "list") == 0 && strcmp(argv[1], "--from") == 0) {
		snprintf(path, sizeof(path), "sites");
		if (http_query_add(path, sizeof(path), "from", argv[2]) < 0) {
			fprintf(stderr, "tessctl: --from: too long\n");
			return TESSCTL_USAGE;
		}
		return tessctl_mgr_run(ctx, "GET", path, NULL, sites_from_human);
	}
	return cmd_simple(ctx, argc, argv, "site", "sites", sites_human);
}

static int cmd_host(struct tessctl *ctx, int argc, char **argv)
{
	return cmd_simple(ctx, argc, argv, "host", "hosts", hosts_human);
}

/*
 * A tenant's network is a nested object (its schema in the README): add and set
 * take it from a JSON file, --network FILE; "network NAME" shows it.
 */
static int cmd_tenant(struct tessctl *ctx, int argc, char **argv)
{
	char path[256], *rest[64];
	json_t *net = NULL, *t;
	int n = 0, rc;

	if (argc == 2 && strcmp(argv[0], "network") == 0) {
		if (path_of(path, sizeof(path), "tenants", argv[1], NULL) < 0)
			return TESSCTL_USAGE;
		if ((rc = tessctl_mgr_call(ctx, "GET", path, NULL, &t)) < 0)
			return rc;
		tessctl_print_json(json_object_get(t, "network"));
		json_decref(t);
		return 0;
	}
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--network") == 0 && i + 1 < argc) {
			json_error_t je;
			json_decref(net);
			net = json_load_file(argv[++i], 0, &je);
			if (net == NULL) {
				fprintf(stderr, "tessctl: --network %s: %s (line %d)\n", argv[i],
					je.text, je.line);
				return TESSCTL_USAGE;
			}
		} else if (n < 64) {
			rest[n++] = argv[i];
		}
	}
	if (net == NULL)
		return cmd_simple(ctx, argc, argv, "tenant", "tenants", tenants_human);
	if (n < 2 || (strcmp(rest[0], "add") && strcmp(rest[0], "set"))) {
		fprintf(stderr, "tessctl: --network goes with tenant add|set NAME\n");
		json_decref(net);
		return TESSCTL_USAGE;
	}
	if (path_of(path, sizeof(path), "tenants", rest[1], NULL) < 0)
		return TESSCTL_USAGE;
	return with(ctx, "tenant", rest[0][0] == 'a' ? "POST" : "PUT",
		    rest[0][0] == 'a' ? "tenants" : path,
		    json_pack("{s:s, s:o}", "name", rest[1], "network", net), n - 2, rest + 2,
		    tenants_human);
}

static int cmd_router(struct tessctl *ctx, int argc, char **argv)
{
	return cmd_simple(ctx, argc, argv, "router", "routers", routers_human);
}

static int cmd_reconcile(struct tessctl *ctx, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "--repair") != 0) {
		fprintf(stderr, "tessctl: reconcile [--repair]\n");
		return TESSCTL_USAGE;
	}
	return tessctl_mgr_run(ctx, argc ? "POST" : "GET", "reconcile", NULL, reconcile_human);
}

static int cmd_model(struct tessctl *ctx, int argc, char **argv)
{
	return cmd_simple(ctx, argc, argv, "model", "models", models_human);
}

static int cmd_task(struct tessctl *ctx, int argc, char **argv)
{
	return cmd_simple(ctx, argc, argv, "task", "tasks", tasks_human);
}

static int cmd_quota(struct tessctl *ctx, int argc, char **argv)
{
	char path[256];

	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return tessctl_mgr_run(ctx, "GET", "quotas", NULL, quotas_human);
	if (argc < 3) {
		fprintf(stderr, "tessctl: quota %s TENANT MODEL\n", argv[0]);
		return TESSCTL_USAGE;
	}
	if (path_of(path, sizeof(path), "quotas", argv[1], argv[2]) < 0)
		return TESSCTL_USAGE;
	if (strcmp(argv[0], "show") == 0 && argc == 3)
		return tessctl_mgr_run(ctx, "GET", path, NULL, quotas_human);
	if (strcmp(argv[0], "del") == 0 && argc == 3)
		return tessctl_mgr_run(ctx, "DELETE", path, NULL, tessctl_done);
	if (strcmp(argv[0], "hosts") == 0 && argc == 3) {
		strncat(path, "/hosts", sizeof(path) - strlen(path) - 1);
		return tessctl_mgr_run(ctx, "POST", path, NULL, search_human);
	}
	if (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "set") == 0) {
		bool add = argv[0][0] == 'a';
		return with(ctx, "quota", add ? "POST" : "PUT", add ? "quotas" : path,
			    json_pack("{s:s, s:s}", "tenant", argv[1], "model", argv[2]), argc - 3,
			    argv + 3, quotas_human);
	}
	fprintf(stderr, "tessctl: quota: list, show, add, set, del or hosts TENANT MODEL\n");
	return TESSCTL_USAGE;
}

/* Waits for a job to end; 0 if it succeeded. */
static int wait_job(struct tessctl *ctx, json_int_t id)
{
	char path[64];

	snprintf(path, sizeof(path), "jobs/%lld", (long long)id);
	for (int i = 0; i < 6000; i++) {
		json_t *r;
		if (tessctl_mgr_call(ctx, "GET", path, NULL, &r) < 0)
			return -1;
		const char *st = jstr(r, "state");
		if (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0) {
			int rc = st[0] == 's' ? 0 : -1;
			if (rc < 0)
				fprintf(stderr, "tessctl: job %lld failed: %s\n", (long long)id,
					jstr(r, "error"));
			else if (!ctx->json)
				printf("job %lld succeeded\n", (long long)id);
			json_decref(r);
			return rc;
		}
		json_decref(r);
		usleep(100000);
	}
	fprintf(stderr, "tessctl: job %lld still running after 10 minutes\n", (long long)id);
	return -ETIMEDOUT;
}

static int cmd_desktop(struct tessctl *ctx, int argc, char **argv)
{
	bool wait = false;
	char path[256];
	json_t *r;
	int rc;

	if (argc && strcmp(argv[argc - 1], "--wait") == 0) {
		wait = true;
		argc--;
	}
	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return tessctl_mgr_run(ctx, "GET", "desktops", NULL, desktops_human);
	if (argc < 2) {
		fprintf(stderr, "tessctl: desktop %s needs a desktop\n", argv[0]);
		return TESSCTL_USAGE;
	}
	if (strcmp(argv[0], "create") == 0) {
		if (argc != 4 || strcmp(argv[2], "--model") != 0) {
			fprintf(stderr, "tessctl: desktop create NAME --model MODEL [--wait]\n");
			return TESSCTL_USAGE;
		}
		rc = tessctl_mgr_call(ctx, "POST", "desktops",
				      json_pack("{s:s, s:s}", "name", argv[1], "model", argv[3]),
				      &r);
	} else if (strcmp(argv[0], "show") == 0 && argc == 2) {
		if (path_of(path, sizeof(path), "desktops", argv[1], NULL) < 0)
			return TESSCTL_USAGE;
		return tessctl_mgr_run(ctx, "GET", path, NULL, NULL);
	} else if (strcmp(argv[0], "delete") == 0 && argc == 2) {
		if (path_of(path, sizeof(path), "desktops", argv[1], NULL) < 0)
			return TESSCTL_USAGE;
		rc = tessctl_mgr_call(ctx, "DELETE", path, NULL, &r);
	} else if ((strcmp(argv[0], "start") == 0 || strcmp(argv[0], "stop") == 0 ||
		    strcmp(argv[0], "reboot") == 0) &&
		   argc == 2) {
		if (path_of(path, sizeof(path), "desktops", argv[1], argv[0]) < 0)
			return TESSCTL_USAGE;
		rc = tessctl_mgr_call(ctx, "POST", path, NULL, &r);
	} else if (strcmp(argv[0], "connect") == 0 && argc == 4 && strcmp(argv[2], "--from") == 0) {
		/* It waits while the desktop moves: as long as tessmgrd may take. */
		if (path_of(path, sizeof(path), "desktops", argv[1], "connect") < 0)
			return TESSCTL_USAGE;
		if (ctx->timeout_ms < 3600 * 1000)
			ctx->timeout_ms = 3600 * 1000;
		return tessctl_mgr_run(ctx, "POST", path, json_pack("{s:s}", "from", argv[3]),
				       connect_human);
	} else if (strcmp(argv[0], "migrate") == 0 && (argc == 4 || argc == 5) &&
		   strcmp(argv[2], "--to") == 0 && (argc == 4 || strcmp(argv[4], "--live") == 0)) {
		if (path_of(path, sizeof(path), "desktops", argv[1], "migrate") < 0)
			return TESSCTL_USAGE;
		rc = tessctl_mgr_call(ctx, "POST", path,
				      json_pack("{s:s, s:b}", "host", argv[3], "live", argc == 5),
				      &r);
		if (rc < 0)
			return rc;
		json_int_t job = jint(json_object_get(r, "job"), "id");
		if (ctx->json)
			tessctl_print_json(r);
		else
			printf("desktop %s: job %lld (migrate) queued\n", argv[1], (long long)job);
		json_decref(r);
		return wait ? wait_job(ctx, job) : 0;
	} else {
		fprintf(stderr, "tessctl: desktop: list, show ID, create NAME --model M, start ID, "
				"stop ID, reboot ID, delete ID, connect ID --from LOC, "
				"migrate ID --to HOST [--live]\n");
		return TESSCTL_USAGE;
	}
	if (rc < 0)
		return rc;
	if (ctx->json)
		tessctl_print_json(r);
	else
		accepted_human(r);
	json_int_t job = jint(json_object_get(r, "job"), "id");
	json_decref(r);
	return wait ? wait_job(ctx, job) : 0;
}

static int cmd_usage(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tessctl_mgr_run(ctx, "GET", "usage", NULL, usage_human);
}

static int cmd_job(struct tessctl *ctx, int argc, char **argv)
{
	char path[64];

	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return tessctl_mgr_run(ctx, "GET", "jobs", NULL, jobs_human);
	if (argc == 2 && strcmp(argv[0], "show") == 0) {
		if (path_of(path, sizeof(path), "jobs", argv[1], NULL) < 0)
			return TESSCTL_USAGE;
		return tessctl_mgr_run(ctx, "GET", path, NULL, jobs_human);
	}
	if (argc == 2 && strcmp(argv[0], "wait") == 0)
		return wait_job(ctx, strtoll(argv[1], NULL, 10));
	fprintf(stderr, "tessctl: job: list, show ID or wait ID\n");
	return TESSCTL_USAGE;
}

static int cmd_image(struct tessctl *ctx, int argc, char **argv)
{
	char path[256];

	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return tessctl_mgr_run(ctx, "GET", "images", NULL, images_human);
	if (strcmp(argv[0], "versions") == 0 && argc == 2) {
		if (path_of(path, sizeof(path), "images", argv[1], NULL) < 0)
			return TESSCTL_USAGE;
		return tessctl_mgr_run(ctx, "GET", path, NULL, images_human);
	}
	if (strcmp(argv[0], "push") == 0 && argc == 6 && strcmp(argv[2], "--site") == 0 &&
	    strcmp(argv[4], "--file") == 0) {
		if (path_of(path, sizeof(path), "images", argv[1], "push") < 0)
			return TESSCTL_USAGE;
		if (ctx->timeout_ms < 3600 * 1000)
			ctx->timeout_ms = 3600 * 1000; /* copies of whole images */
		return tessctl_mgr_run(ctx, "POST", path,
				       json_pack("{s:s, s:s}", "site", argv[3], "file", argv[5]),
				       push_human);
	}
	fprintf(stderr, "tessctl: image: list, versions NAME, push NAME --site S --file PATH\n");
	return TESSCTL_USAGE;
}

static int cmd_audit(struct tessctl *ctx, int argc, char **argv)
{
	char path[2048] = "audit";

	for (int i = 0; i + 1 < argc; i += 2) {
		const char *key = strcmp(argv[i], "--tenant") == 0   ? "tenant"
				  : strcmp(argv[i], "--action") == 0 ? "action"
				  : strcmp(argv[i], "--limit") == 0  ? "limit"
				  : strcmp(argv[i], "--since") == 0  ? "since"
								     : NULL;
		if (key == NULL) {
			fprintf(stderr, "tessctl: audit [--tenant T] [--action A] [--since EPOCH] "
					"[--limit N]\n");
			return TESSCTL_USAGE;
		}
		if (http_query_add(path, sizeof(path), key, argv[i + 1]) < 0) {
			fprintf(stderr, "tessctl: audit: %s: too long\n", argv[i]);
			return TESSCTL_USAGE;
		}
	}
	if (argc % 2) {
		fprintf(stderr, "tessctl: audit: '%s' needs a value\n", argv[argc - 1]);
		return TESSCTL_USAGE;
	}
	return tessctl_mgr_run(ctx, "GET", path, NULL, audit_human);
}

const struct tessctl_cmd mgr_cmds[] = {
	/* add|set's usage comes from .schema (tessctl_synopsis). */
	{ "site", "site list [--from LAT,LON|IP|SITE] | show NAME | del NAME", 1, 16, cmd_site,
	  "tessmgrd: sites", .pos = { "name" }, .schema = &mgr_site_schema },
	{ "host", "host list | show NAME | del NAME", 1, 40, cmd_host, "tessmgrd: hosts",
	  .pos = { "name" }, .schema = &mgr_host_schema,
	  .schema_args = "(--uri URI | --test-host SxCxT --memory-mb N)" },
	{ "tenant", "tenant list | show NAME | network NAME | del NAME", 1, 20, cmd_tenant,
	  "tessmgrd: tenants and their networks (programmed on their routers)", .pos = { "name" },
	  .schema = &mgr_tenant_schema, .schema_args = "[--network FILE]" },
	{ "router", "router list | show NAME | del NAME", 1, 16, cmd_router,
	  "tessmgrd: provider-edge routers (tessds)", .pos = { "name" },
	  .schema = &mgr_router_schema },
	{ "reconcile", "reconcile [--repair]", 0, 1, cmd_reconcile,
	  "tessmgrd: compare hosts and tessds with the store; --repair: put back what differs" },
	{ "model", "model list | show NAME | del NAME", 1, 24, cmd_model,
	  "tessmgrd: desktop models", .pos = { "name" }, .schema = &mgr_model_schema },
	{ "task", "task list | show NAME | del NAME", 1, 90, cmd_task,
	  "tessmgrd: workflow tasks run by desktop jobs", .pos = { "name" },
	  .schema = &mgr_task_schema },
	{ "quota", "quota list | show|del|hosts TENANT MODEL", 1, 12, cmd_quota,
	  "tessmgrd: quotas; 'hosts' searches and associates hosts (FIG. 4)",
	  .pos = { "tenant", "model" }, .schema = &mgr_quota_schema },
	{ "desktop",
	  "desktop list | show ID | create NAME --model M | start|stop|reboot|delete ID "
	  "[--wait] | connect ID --from LAT,LON|IP|SITE | migrate ID --to HOST [--live] [--wait]",
	  1, 6, cmd_desktop, "tessmgrd: desktops (tenant admins; migrate: provider admins)" },
	{ "desktop assign", "desktop assign ID --user NAME [--user NAME]... | --none", 2,
	  TESSCTL_ANY_ARGS, tessctl_cmd_assign,
	  "tessmgrd: the users a desktop is assigned to (replaced)" },
	{ "desktop console", "desktop console ID [--type vnc|serial]", 1, 3, tessctl_cmd_console,
	  "tessmgrd: a single-use ticket for a running desktop's console, and its WebSocket URL" },
	{ "user",
	  "user list [--tenant T] | show ID | add NAME [--tenant T] [--display-name D] | "
	  "set ID [--display-name D] [--password] | del ID",
	  1, 6, tessctl_cmd_user,
	  "tessmgrd: end users (role user); a password from standard input or asked on the "
	  "terminal" },
	{ "usage", NULL, 0, 0, cmd_usage, "tessmgrd: usage per host and tenant against quota" },
	{ "usage history",
	  "usage history [--tenant T] [--desktop D] [--from EPOCH] [--to EPOCH] "
	  "[--step raw|hour|day] [--kind desktops|network|allocation]",
	  0, 12, tessctl_cmd_usage_history,
	  "tessmgrd: usage history per desktop and bucket (reserved, run, CPU time), or per "
	  "tenant (network bytes, allocation)" },
	{ "chargeback", "chargeback --from EPOCH --to EPOCH [--tenant T] [--csv]", 4, 7,
	  tessctl_cmd_chargeback, "tessmgrd: what each tenant's desktops cost over a period" },
	/* rates set's options are the rates' schema's (tessctl rates --help lists them). */
	{ "rates", "rates get [--at EPOCH] | history", 1, 64, tessctl_cmd_rates,
	  "tessmgrd: the provider's rates (set: provider admins)", .schema = &mgr_rates_schema,
	  .schema_verb = "set",
	  .schema_args = "[--model MODEL:VCPU_HOUR:GIB_HOUR] [--no-model MODEL] [--file FILE]" },
	{ "job", "job list | show ID | wait ID", 1, 2, cmd_job, "tessmgrd: jobs" },
	{ "image", "image list | versions NAME | push NAME --site S --file PATH", 1, 6, cmd_image,
	  "tessmgrd: base images, versioned by checksum" },
	{ "audit", "audit [--tenant T] [--action A] [--since EPOCH] [--limit N]", 0, 8, cmd_audit,
	  "tessmgrd: the audit log" },
	{ 0 },
};
