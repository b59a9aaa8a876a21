/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rates and chargeback (issue 16 C), in reservation mode: a desktop costs
 * what it held reserved, whether it ran or not, from the usage history
 * (usage_hist.h). GET /v1/rates (both roles: the price list) and PUT
 * /v1/rates (provider admins; the whole object, kept in the store's meta
 * table): a price per vCPU-hour and per GiB-hour, and per model prices that
 * replace both for its desktops; a price per GB (10^9 bytes) of a tenant's
 * network in and out (usage_net.h). GET /v1/chargeback?tenant=&from=&to=
 * [&format=csv]: each desktop's vCPU-hours, GiB-hours, hours run and cost
 * between from and to, per tenant (a tenant admin's own only, 404 for
 * another's) with its network GB and their cost, at today's rates.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "api.h"
#include "rates.h"
#include "store.h"
#include "tlog.h"
#include "usage_hist.h"
#include "usage_net.h"

/* The rates (under mgr.lock), read from the store at first use. */
static struct mgr_rates rates;
static bool rates_loaded;

static void rates_load_locked(void)
{
	char *text;
	json_t *j;
	struct cfg_errs errs;

	if (rates_loaded)
		return;
	text = mgr_store_meta_get("rates");
	j = text ? json_loads(text, 0, NULL) : json_object();
	cfg_errs_init(&errs);
	if (j == NULL || cfg_decode(&mgr_rates_schema, j, &rates, "", &errs) < 0) {
		tlog(LOG_ERR, NULL, "the stored rates are not valid: all prices 0 until a PUT");
		json_decref(j);
		j = json_object();
		cfg_decode(&mgr_rates_schema, j, &rates, "", &errs);
	}
	json_decref(j);
	free(text);
	rates_loaded = true;
}

static bool is(const struct api_ctx *c, const char *method)
{
	return strcmp(c->r->method, method) == 0;
}

void api_rates(struct api_ctx *c)
{
	struct mgr_rates r;
	json_t *j;
	char *text;

	if (c->n_seg != 1 || !(is(c, "GET") || is(c, "PUT"))) {
		http_error(c->out, c->n_seg != 1 ? 404 : 405, "", "%s %s is not served",
			   c->r->method, c->r->path);
		return;
	}
	if (is(c, "GET")) {
		pthread_mutex_lock(&mgr.lock);
		rates_load_locked();
		j = cfg_encode(&mgr_rates_schema, &rates);
		pthread_mutex_unlock(&mgr.lock);
		api_ok(c, 200, j);
		return;
	}
	if (!c->provider) {
		http_error(c->out, 403, "", "only provider admins set the rates");
		return;
	}
	if (!api_decode(c, &mgr_rates_schema, &r))
		return;
	j = cfg_encode(&mgr_rates_schema, &r);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	pthread_mutex_lock(&mgr.lock);
	rates_load_locked();
	if (text == NULL || mgr_store_meta_put("rates", text) < 0) {
		pthread_mutex_unlock(&mgr.lock);
		cfg_free(&mgr_rates_schema, &r);
		json_decref(j);
		free(text);
		http_error(c->out, 500, "", "cannot store the rates");
		return;
	}
	cfg_free(&mgr_rates_schema, &rates);
	rates = r;
	pthread_mutex_unlock(&mgr.lock);
	free(text);
	api_ok(c, 200, j);
}

/* Appends to a malloc()ed text; false when out of memory (the text freed). */
static bool append(char **text, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool append(char **text, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL, *grown;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	grown = n < 0 ? NULL : realloc(*text, *len + (size_t)n + 1);
	if (grown == NULL) {
		if (n >= 0)
			free(line);
		free(*text);
		*text = NULL;
		return false;
	}
	memcpy(grown + *len, line, (size_t)n + 1);
	*len += (size_t)n;
	*text = grown;
	free(line);
	return true;
}

/*
 * A CSV cell (RFC 4180): quoted, its quotes doubled, when it holds a comma,
 * quote or line break; a ' before a leading = + - @ so that a spreadsheet
 * does not take it for a formula. malloc()ed; NULL when out of memory.
 */
static char *csv_cell(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(2 * n + 4), *o = out;
	bool quote = strpbrk(in, ",\"\r\n") != NULL;

	if (out == NULL)
		return NULL;
	if (quote)
		*o++ = '"';
	if (*in && strchr("=+-@", *in))
		*o++ = '\'';
	for (; *in; in++) {
		if (*in == '"')
			*o++ = '"';
		*o++ = *in;
	}
	if (quote)
		*o++ = '"';
	*o = '\0';
	return out;
}

/* Appends a desktop's CSV line; false when out of memory (the text freed). */
static bool csv_line(char **csv, size_t *len, const char *tn, const char *dn, const char *mn,
		     const double v[5], const char *currency)
{
	char *t = csv_cell(tn), *d = csv_cell(dn), *m = csv_cell(mn);
	bool ok = t && d && m;

	if (ok) {
		ok = append(csv, len, "%s,%s,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%s,,\n", t, d, m, v[0],
			    v[1], v[2], v[3], v[4], currency);
	} else {
		free(*csv);
		*csv = NULL;
	}
	free(t);
	free(d);
	free(m);
	return ok;
}

/*
 * A tenant's network part, into its object t: gb_in, gb_out and their
 * network_cost (0 without network rows), and its CSV line (empty desktop,
 * model and hours cells) if it has some. Its cost in micro-units, or -1
 * when out of memory (the CSV freed).
 */
static long long net_charge(json_t *t, struct usage_net_sum *nets, uint32_t n_nets, int64_t id,
			    const struct mgr_rates *r, char **csv, size_t *csv_len)
{
	struct usage_net_sum *x = NULL;
	double gb_in, gb_out;
	long long cost_u;
	char *tn;
	bool ok;

	for (uint32_t i = 0; i < n_nets && x == NULL; i++)
		if (nets[i].tenant_id == id)
			x = &nets[i];
	gb_in = x ? (double)x->bytes_in / 1e9 : 0;
	gb_out = x ? (double)x->bytes_out / 1e9 : 0;
	cost_u = llround((gb_in * r->gb_in + gb_out * r->gb_out) * 1e6);
	json_object_set_new(t, "gb_in", json_real(gb_in));
	json_object_set_new(t, "gb_out", json_real(gb_out));
	json_object_set_new(t, "network_cost", json_real((double)cost_u / 1e6));
	if (x == NULL)
		return cost_u;
	x->billed = true;
	tn = csv_cell(x->tenant);
	ok = tn && append(csv, csv_len, "%s,,,,,,,%.6f,%s,%.9f,%.9f\n", tn, (double)cost_u / 1e6,
			  r->currency, gb_in, gb_out);
	if (tn == NULL) {
		free(*csv);
		*csv = NULL;
	}
	free(tn);
	return ok ? cost_u : -1;
}

void api_chargeback(struct api_ctx *c)
{
	const char *tenant = http_query(c->r, "tenant"), *format = http_query(c->r, "format");
	int64_t from, to;
	double vcpu_rate, gib_rate;
	long long total_u = 0, cur_u = 0, cost_u;
	json_t *tenants = NULL, *cur = NULL, *desks = NULL;
	char currency[8], *csv = NULL;
	int64_t tenant_id = 0, cur_id = 0;
	size_t csv_len = 0;
	struct usage_net_sum *nets = NULL;
	uint32_t n_nets = 0;
	struct mgr_rates r;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	json_t *rj;
	struct cfg_errs errs;
	int rc;

	if (!is(c, "GET") || c->n_seg != 1) {
		http_error(c->out, c->n_seg != 1 ? 404 : 405, "", "%s %s is not served",
			   c->r->method, c->r->path);
		return;
	}
	if (!c->provider && c->tenant_id == 0) {
		http_error(c->out, 403, "", "this token's tenant does not exist");
		return;
	}
	if (!http_query_int(http_query(c->r, "from"), 0, INT64_MAX / 2, &from)) {
		http_error(c->out, 400, "from",
			   "from: a time in seconds since the epoch (required)");
		return;
	}
	if (!http_query_int(http_query(c->r, "to"), 1, INT64_MAX / 2, &to)) {
		http_error(c->out, 400, "to", "to: a time in seconds since the epoch (required)");
		return;
	}
	if (from >= to) {
		http_error(c->out, 400, "from", "from (%lld) is not before to (%lld)",
			   (long long)from, (long long)to);
		return;
	}
	if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
		http_error(c->out, 400, "format", "format: json or csv, not '%s'", format);
		return;
	}
	if (!c->provider && tenant && strcmp(tenant, c->who->tenant) != 0) {
		http_error(c->out, 404, "tenant", "no tenant %s", tenant);
		return;
	}
	/* Today's rates, copied: the query runs without the lock. */
	pthread_mutex_lock(&mgr.lock);
	rates_load_locked();
	rj = cfg_encode(&mgr_rates_schema, &rates);
	pthread_mutex_unlock(&mgr.lock);
	cfg_errs_init(&errs);
	rc = cfg_decode(&mgr_rates_schema, rj, &r, "", &errs);
	json_decref(rj);
	if (rc < 0) {
		http_error(c->out, 500, "", "cannot read the rates");
		return;
	}
	snprintf(currency, sizeof(currency), "%s", r.currency);
	if (sqlite3_open_v2(mgr_conf.store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK) {
		http_error(c->out, 500, "", "cannot open the store");
		goto out;
	}
	/*
	 * By the tenant's id, not its name: a tenant deleted and made again under
	 * its name is another tenant (a tenant admin's own; a provider's: a live
	 * tenant, else the latest of the history's; another name: 404).
	 */
	if (!c->provider)
		tenant_id = c->tenant_id;
	else if (tenant && (tenant_id = usage_tenant_id_of(db, tenant)) == 0) {
		http_error(c->out, 404, "tenant", "no tenant %s", tenant);
		goto out;
	}
	if (usage_net_sums(db, from, to, tenant_id, &nets, &n_nets) < 0) {
		http_error(c->out, 500, "", "cannot read the network usage: %s",
			   sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_prepare_v2(
		    db,
		    /* LEFT: usage whose names are missing is billed all the same. */
		    "SELECT IFNULL(d.tenant, '?'), "
		    "  IFNULL(d.name, 'desktop ' || u.desktop_id), d.model, SUM(u.secs), "
		    "  SUM(u.vcpu_s), SUM(u.mem_mib_s), SUM(u.run_s), u.tenant_id "
		    "FROM usage u LEFT JOIN usage_desktops d ON d.desktop_id = u.desktop_id "
		    "WHERE u.step IN (0, 1, 2) AND u.t >= ?1 AND u.t < ?2 "
		    "  AND (?3 = 0 OR u.tenant_id = ?3) "
		    "GROUP BY u.tenant_id, u.desktop_id "
		    "ORDER BY 1, u.tenant_id, 2, u.desktop_id",
		    -1, &st, NULL) != SQLITE_OK) {
		http_error(c->out, 500, "", "cannot read the usage history");
		goto out;
	}
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	sqlite3_bind_int64(st, 3, tenant_id);
	tenants = json_array();
	if (!append(&csv, &csv_len,
		    "tenant,desktop,model,hours,vcpu_hours,gib_hours,run_hours,"
		    "cost,currency,gb_in,gb_out\n"))
		goto oom;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tn = (const char *)sqlite3_column_text(st, 0);
		const char *dn = (const char *)sqlite3_column_text(st, 1);
		const char *mn = (const char *)sqlite3_column_text(st, 2);
		double hours = (double)sqlite3_column_int64(st, 3) / 3600;
		double vcpu_h = (double)sqlite3_column_int64(st, 4) / 3600;
		double gib_h = (double)sqlite3_column_int64(st, 5) / (1024.0 * 3600);
		double run_h = (double)sqlite3_column_int64(st, 6) / 3600, cost;

		tn = tn ? tn : "";
		dn = dn ? dn : "";
		mn = mn ? mn : "";
		mgr_rates_price(&r, mn, &vcpu_rate, &gib_rate);
		/* In whole micro-units, each desktop's: the CSV's lines (6 decimals) add up
		 * to the tenants' costs and the total. */
		cost_u = llround((vcpu_h * vcpu_rate + gib_h * gib_rate) * 1e6);
		cost = (double)cost_u / 1e6;
		total_u += cost_u;
		if (cur == NULL || cur_id != sqlite3_column_int64(st, 7)) {
			cur_id = sqlite3_column_int64(st, 7);
			desks = json_array();
			cur = json_pack("{s:s, s:f, s:o}", "tenant", tn, "cost", 0.0, "desktops",
					desks);
			json_array_append_new(tenants, cur);
			if ((cur_u = net_charge(cur, nets, n_nets, cur_id, &r, &csv, &csv_len)) < 0)
				goto oom;
			total_u += cur_u;
		}
		cur_u += cost_u;
		json_object_set_new(cur, "cost", json_real((double)cur_u / 1e6));
		json_array_append_new(desks, json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f}",
						       "desktop", dn, "model", mn, "hours", hours,
						       "vcpu_hours", vcpu_h, "gib_hours", gib_h,
						       "run_hours", run_h, "cost", cost));
		/* Names are of CFG_NAME_CHARSET, which has '-' (a formula's start). */
		if (!csv_line(&csv, &csv_len, tn, dn, mn,
			      (const double[5]){ hours, vcpu_h, gib_h, run_h, cost }, currency))
			goto oom;
	}
	if (rc != SQLITE_DONE) {
		http_error(c->out, 500, "", "cannot read the usage history: %s",
			   sqlite3_errmsg(db));
		goto out;
	}
	/* Tenants with network bytes and no desktops. */
	for (uint32_t i = 0; i < n_nets; i++) {
		if (nets[i].billed)
			continue;
		cur = json_pack("{s:s, s:f, s:[]}", "tenant", nets[i].tenant, "cost", 0.0,
				"desktops");
		json_array_append_new(tenants, cur);
		if ((cost_u = net_charge(cur, nets, n_nets, nets[i].tenant_id, &r, &csv,
					 &csv_len)) < 0)
			goto oom;
		json_object_set_new(cur, "cost", json_real((double)cost_u / 1e6));
		total_u += cost_u;
	}
	if (format && strcmp(format, "csv") == 0) {
		c->out->status = 200;
		c->out->text = csv;
		c->out->content_type = "text/csv; charset=utf-8";
		csv = NULL;
		goto out;
	}
	api_ok(c, 200,
	       json_pack("{s:s, s:s, s:I, s:I, s:f, s:o}", "mode", "reservation", "currency",
			 currency, "from", (json_int_t)from, "to", (json_int_t)to, "total",
			 (double)total_u / 1e6, "tenants", tenants));
	tenants = NULL;
	goto out;
oom:
	http_error(c->out, 500, "", "out of memory");
out:
	json_decref(tenants);
	free(csv);
	free(nets);
	sqlite3_finalize(st);
	sqlite3_close(db);
	cfg_free(&mgr_rates_schema, &r);
}
