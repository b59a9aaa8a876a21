/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl commands for tessmgrd's usage history, rates and chargeback
 * (issue 16 C): usage history, chargeback (a table, or the server's CSV),
 * rates get and rates set, whose options come from the rates' schema
 * (rates.h, shared with tessmgrd): a key tessmgrd's rates gain is an option.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "rates.h"
#include "schema_opts.h"
#include "table.h"
#include "tessctl.h"

/* Seconds since the epoch as UTC text. */
static void utc(json_int_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/*
 * --flag VALUE pairs of argv into the query of path, by the map of flags
 * to query keys (a NULL key: a flag without a value, given back in *flags
 * by its index). 0, or TESSCTL_USAGE after saying what is wrong.
 */
static int query_of(char *path, size_t len, int argc, char **argv, const char *const (*map)[2],
		    const char *usage, unsigned *flags)
{
	for (int i = 0; i < argc; i++) {
		int k = 0;
		while (map[k][0] && strcmp(map[k][0], argv[i]) != 0)
			k++;
		if (map[k][0] == NULL) {
			fprintf(stderr, "tessctl: unknown option '%s'; %s\n", argv[i], usage);
			return TESSCTL_USAGE;
		}
		if (map[k][1] == NULL) {
			*flags |= 1u << k;
			continue;
		}
		if (i + 1 == argc) {
			fprintf(stderr, "tessctl: %s needs a value\n", argv[i]);
			return TESSCTL_USAGE;
		}
		if (http_query_add(path, len, map[k][1], argv[++i]) < 0) {
			fprintf(stderr, "tessctl: %s: too long\n", argv[i - 1]);
			return TESSCTL_USAGE;
		}
	}
	return 0;
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* A column of a per-tenant kind's rows: its key, and what one unit shown is (0: a count). */
struct tenant_col {
	const char *key;
	double unit;
};

/* Rows per tenant and bucket (kind=network, kind=allocation): time, tenant, then cols. */
static void tenant_rows_human(const json_t *r, const char *const *heads,
			      const struct tenant_col *cols)
{
	struct table *t = table_new(heads);
	size_t i;
	json_t *row;

	json_array_foreach (json_object_get(r, "rows"), i, row) {
		char when[32];
		utc(jint(row, "t"), when, sizeof(when));
		table_cell(t, "%s", when);
		table_cell(t, "%s", jstr(row, "tenant"));
		for (const struct tenant_col *c = cols; c->key; c++)
			if (c->unit > 0)
				table_cell(t, "%.3f", (double)jint(row, c->key) / c->unit);
			else
				table_cell(t, "%" JSON_INTEGER_FORMAT, jint(row, c->key));
	}
	table_print(t, stdout);
	table_free(t);
}

static void history_human(const json_t *r)
{
	static const char *const heads[] = { "TIME (UTC)", "TENANT", "DESKTOP", "MODEL", "HOURS",
					     "VCPU-H",     "GIB-H",  "RUN-H",   "CPU-S", NULL };
	struct table *t;
	size_t i;
	json_t *row;

	/* The per-tenant kinds: a tenant's bytes; what its quotas and partitions held. */
	static const char *const net_heads[] = { "TIME (UTC)", "TENANT", "BYTES-IN", "BYTES-OUT",
						 NULL };
	static const struct tenant_col net_cols[] = { { "bytes_in", 0 },
						      { "bytes_out", 0 },
						      { 0 } };
	static const char *const alloc_heads[] = { "TIME (UTC)", "TENANT", "HOURS", "VCPU-H",
						   "GIB-H",      "PCPU-H", NULL };
	static const struct tenant_col alloc_cols[] = { { "secs", 3600 },
							{ "vcpu_s", 3600 },
							{ "mem_mib_s", 1024.0 * 3600 },
							{ "pcpu_s", 3600 },
							{ 0 } };
	if (strcmp(jstr(r, "kind"), "network") == 0) {
		tenant_rows_human(r, net_heads, net_cols);
		return;
	}
	if (strcmp(jstr(r, "kind"), "allocation") == 0) {
		tenant_rows_human(r, alloc_heads, alloc_cols);
		return;
	}
	t = table_new(heads);
	json_array_foreach (json_object_get(r, "rows"), i, row) {
		char when[32];
		const json_t *cpu = json_object_get(row, "cpu_ns");
		utc(jint(row, "t"), when, sizeof(when));
		table_cell(t, "%s", when);
		table_cell(t, "%s", jstr(row, "tenant"));
		table_cell(t, "%s", jstr(row, "desktop"));
		table_cell(t, "%s", jstr(row, "model"));
		table_cell(t, "%.3f", (double)jint(row, "secs") / 3600);
		table_cell(t, "%.3f", (double)jint(row, "vcpu_s") / 3600);
		table_cell(t, "%.3f", (double)jint(row, "mem_mib_s") / (1024.0 * 3600));
		table_cell(t, "%.3f", (double)jint(row, "run_s") / 3600);
		/* "+": some of the row's CPU time is unknown, the sum is at least this. */
		if (json_is_integer(cpu))
			table_cell(t, "%.3f%s", (double)json_integer_value(cpu) / 1e9,
				   jint(row, "cpu_unknown_s") > 0 ? "+" : "");
		else
			table_cell(t, "-");
	}
	table_print(t, stdout);
	table_free(t);
}

/* usage history [--tenant T] [--desktop D] [--from EPOCH] [--to EPOCH] [--step S] [--kind K] */
int tessctl_cmd_usage_history(struct tessctl *ctx, int argc, char **argv)
{
	static const char *const map[][2] = { { "--tenant", "tenant" },
					      { "--desktop", "desktop" },
					      { "--from", "from" },
					      { "--to", "to" },
					      { "--step", "step" },
					      { "--kind", "kind" },
					      { NULL, NULL } };
	char path[2048] = "usage/history";
	unsigned flags = 0;
	int rc = query_of(path, sizeof(path), argc, argv, map,
			  "usage history [--tenant T] [--desktop D] [--from EPOCH] [--to EPOCH] "
			  "[--step raw|hour|day] [--kind desktops|network|allocation]",
			  &flags);

	return rc ? rc : tessctl_mgr_run(ctx, "GET", path, NULL, history_human);
}

static void chargeback_human(const json_t *r)
{
	static const char *const heads[] = { "TENANT", "DESKTOP", "MODEL",  "HOURS", "VCPU-H",
					     "GIB-H",  "RUN-H",   "PCPU-H", "COST",  NULL };
	struct table *t = table_new(heads);
	char from[32], to[32];
	size_t i, k;
	json_t *tn, *d;

	utc(jint(r, "from"), from, sizeof(from));
	utc(jint(r, "to"), to, sizeof(to));
	printf("chargeback from %s to %s UTC, %s mode, in %s\n", from, to, jstr(r, "mode"),
	       jstr(r, "currency"));
	json_array_foreach (json_object_get(r, "tenants"), i, tn) {
		json_array_foreach (json_object_get(tn, "desktops"), k, d) {
			table_cell(t, "%s", jstr(tn, "tenant"));
			table_cell(t, "%s", jstr(d, "desktop"));
			table_cell(t, "%s", jstr(d, "model")[0] ? jstr(d, "model") : "-");
			table_cell(t, "%.3f", num(d, "hours"));
			table_cell(t, "%.3f", num(d, "vcpu_hours"));
			table_cell(t, "%.3f", num(d, "gib_hours"));
			table_cell(t, "%.3f", num(d, "run_hours"));
			table_cell(t, "-");
			table_cell(t, "%.6f", num(d, "cost"));
		}
		/* Allocation mode: what the tenant was allocated (usage_alloc.h). */
		const json_t *a = json_object_get(tn, "allocation");
		if (a) {
			table_cell(t, "%s", jstr(tn, "tenant"));
			table_cell(t, "(allocation)");
			table_cell(t, "-");
			table_cell(t, "%.3f", num(a, "hours"));
			table_cell(t, "%.3f", num(a, "vcpu_hours"));
			table_cell(t, "%.3f", num(a, "gib_hours"));
			table_cell(t, "-");
			table_cell(t, "%.3f", num(a, "pcpu_hours"));
			table_cell(t, "%.6f", num(a, "cost"));
		}
		table_cell(t, "%s", jstr(tn, "tenant"));
		table_cell(t, "(tenant)");
		for (int c = 0; c < 6; c++)
			table_cell(t, " ");
		table_cell(t, "%.6f", num(tn, "cost"));
	}
	table_print(t, stdout);
	table_free(t);
	printf("total %.6f %s\n", num(r, "total"), jstr(r, "currency"));
}

static int csv_line(const char *line, size_t len, void *arg)
{
	(void)arg;
	printf("%.*s\n", (int)len, line);
	return 0;
}

/* chargeback --from EPOCH --to EPOCH [--tenant T] [--csv] */
int tessctl_cmd_chargeback(struct tessctl *ctx, int argc, char **argv)
{
	static const char *const map[][2] = { { "--csv", NULL },
					      { "--tenant", "tenant" },
					      { "--from", "from" },
					      { "--to", "to" },
					      { NULL, NULL } };
	char path[2048] = "chargeback", full[2100], why[512];
	unsigned flags = 0;
	json_t *err = NULL;
	int rc = query_of(path, sizeof(path), argc, argv, map,
			  "chargeback --from EPOCH --to EPOCH [--tenant T] [--csv]", &flags);

	if (rc)
		return rc;
	if (!(flags & 1))
		return tessctl_mgr_run(ctx, "GET", path, NULL, chargeback_human);
	/* The server's CSV as it is, line by line. */
	snprintf(full, sizeof(full), "/v1/%s%sformat=csv", path, strchr(path, '?') ? "&" : "?");
	rc = http_stream(ctx->mgr_url, ctx->token, full, ctx->timeout_ms, csv_line, NULL, &err, why,
			 sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "tessctl: tessmgrd at %s: %s\n", ctx->mgr_url, why);
		return rc;
	}
	if (rc >= 300) {
		const json_t *e = json_object_get(err, "error");
		fprintf(stderr, "tessctl: error %d: %s%s%s%s\n", rc,
			jstr(e, "message")[0] ? jstr(e, "message") : "(no message)",
			jstr(e, "path")[0] ? " (at " : "", jstr(e, "path"),
			jstr(e, "path")[0] ? ")" : "");
		json_decref(err);
		return -1;
	}
	return 0;
}

static void rates_human(const json_t *r)
{
	static const char *const heads[] = { "MODEL", "VCPU-HOUR", "GIB-HOUR", NULL };
	struct table *t = table_new(heads);
	const char *k;
	json_t *v, *m;
	size_t i;

	/* Every scalar the rates have, as the schema grows. */
	json_object_foreach ((json_t *)r, k, v) {
		if (json_is_string(v))
			printf("%s: %s\n", k, json_string_value(v));
		else if (json_is_number(v))
			printf("%s: %g\n", k, json_number_value(v));
	}
	json_array_foreach (json_object_get(r, "models"), i, m) {
		table_cell(t, "%s", jstr(m, "model"));
		table_cell(t, "%g", num(m, "vcpu_hour"));
		table_cell(t, "%g", num(m, "gib_hour"));
	}
	if (json_array_size(json_object_get(r, "models")))
		table_print(t, stdout);
	table_free(t);
}

/* "--model NAME:VCPU_HOUR:GIB_HOUR": that model's entry in rates, replaced or added. */
static int model_rate(json_t *rates, const char *text)
{
	char name[MGR_NAME_LEN], *end;
	const char *colon = strchr(text, ':');
	double vcpu, gib;
	json_t *models = json_object_get(rates, "models"), *m;
	size_t i, n = colon ? (size_t)(colon - text) : 0;

	if (colon == NULL || n == 0 || n >= sizeof(name))
		goto bad;
	snprintf(name, sizeof(name), "%.*s", (int)n, text);
	vcpu = strtod(colon + 1, &end);
	if (end == colon + 1 || *end != ':')
		goto bad;
	const char *g = end + 1;
	gib = strtod(g, &end);
	if (end == g || *end)
		goto bad;
	if (!json_is_array(models))
		json_object_set_new(rates, "models", models = json_array());
	json_array_foreach (models, i, m)
		if (strcmp(jstr(m, "model"), name) == 0)
			break;
	m = json_pack("{s:s, s:f, s:f}", "model", name, "vcpu_hour", vcpu, "gib_hour", gib);
	if (i < json_array_size(models))
		json_array_set_new(models, i, m);
	else
		json_array_append_new(models, m);
	return 0;
bad:
	fprintf(stderr, "tessctl: --model takes MODEL:VCPU_HOUR:GIB_HOUR, not '%s'\n", text);
	return -1;
}

static int no_model(json_t *rates, const char *name)
{
	json_t *models = json_object_get(rates, "models"), *m;
	size_t i;

	json_array_foreach (models, i, m)
		if (strcmp(jstr(m, "model"), name) == 0) {
			json_array_remove(models, i);
			return 0;
		}
	fprintf(stderr, "tessctl: --no-model %s: no such model in the rates\n", name);
	return -1;
}

/*
 * rates set: today's rates (GET) with the options' changes, PUT whole. The
 * scalar options are the schema's (--vcpu-hour 0.5 ...); a model's prices
 * are --model M:V:G (replaced or added), --no-model M removes them;
 * --file FILE is the whole object as PUT takes it.
 */
static int rates_set(struct tessctl *ctx, int argc, char **argv)
{
	static const char *const skip[] = { "models", NULL };
	json_t *schema = cfg_schema_json(&mgr_rates_schema), *rates = NULL;
	char *rest[64];
	int n = 0, rc = TESSCTL_USAGE;
	const char *file = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (n < 64)
			rest[n++] = argv[i];
	}
	if (file) {
		json_error_t je;
		if (n) {
			fprintf(stderr, "tessctl: rates set --file FILE takes no other option\n");
			goto out;
		}
		if ((rates = json_load_file(file, 0, &je)) == NULL) {
			fprintf(stderr, "tessctl: --file %s: %s (line %d)\n", file, je.text,
				je.line);
			goto out;
		}
		rc = tessctl_mgr_run(ctx, "PUT", "rates", rates, rates_human);
		rates = NULL;
		goto out;
	}
	if ((rc = tessctl_mgr_call(ctx, "GET", "rates", NULL, &rates)) < 0)
		goto out;
	rc = TESSCTL_USAGE;
	for (int i = 0; i < n; i++) {
		bool model = strcmp(rest[i], "--model") == 0,
		     no = strcmp(rest[i], "--no-model") == 0;
		if (!model && !no) {
			/* One schema option (with its value, if it takes one) at a time. */
			int used = i + 1 < n && strncmp(rest[i + 1], "--", 2) != 0 ? 2 : 1;
			if (sopts_parse(schema, skip, NULL, used, rest + i, rates) < 0)
				goto out;
			i += used - 1;
			continue;
		}
		if (i + 1 == n) {
			fprintf(stderr, "tessctl: %s needs a value\n", rest[i]);
			goto out;
		}
		if ((model ? model_rate(rates, rest[++i]) : no_model(rates, rest[++i])) < 0)
			goto out;
	}
	rc = tessctl_mgr_run(ctx, "PUT", "rates", rates, rates_human);
	rates = NULL;
out:
	json_decref(schema);
	json_decref(rates);
	return rc;
}

static void history_rates_human(const json_t *r)
{
	size_t i;
	json_t *p;

	json_array_foreach ((json_t *)r, i, p) {
		char from[32], to[32] = "now";
		utc(jint(p, "from"), from, sizeof(from));
		if (json_is_integer(json_object_get(p, "to")))
			utc(jint(p, "to"), to, sizeof(to));
		printf("%sfrom %s to %s UTC:\n", i ? "\n" : "", from, to);
		rates_human(json_object_get(p, "rates"));
	}
}

/* rates get [--at EPOCH] | rates history | rates set [options] */
int tessctl_cmd_rates(struct tessctl *ctx, int argc, char **argv)
{
	char path[256] = "rates";

	if (argc == 1 && strcmp(argv[0], "get") == 0)
		return tessctl_mgr_run(ctx, "GET", path, NULL, rates_human);
	if (argc == 3 && strcmp(argv[0], "get") == 0 && strcmp(argv[1], "--at") == 0) {
		if (http_query_add(path, sizeof(path), "at", argv[2]) < 0) {
			fprintf(stderr, "tessctl: --at: too long\n");
			return TESSCTL_USAGE;
		}
		return tessctl_mgr_run(ctx, "GET", path, NULL, rates_human);
	}
	if (argc == 1 && strcmp(argv[0], "history") == 0)
		return tessctl_mgr_run(ctx, "GET", "rates/history", NULL, history_rates_human);
	if (argc >= 1 && strcmp(argv[0], "set") == 0)
		return rates_set(ctx, argc - 1, argv + 1);
	/* set's options are the schema's: --help lists them. */
	fprintf(stderr, "tessctl: rates: get [--at EPOCH], history, or set [options] (options: "
			"tessctl rates --help)\n");
	return TESSCTL_USAGE;
}
