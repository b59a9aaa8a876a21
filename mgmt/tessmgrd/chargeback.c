/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Chargeback (issue 16 C) from the usage history (usage_hist.h): in
 * reservation mode a desktop costs what it held reserved, whether it ran or
 * not; in allocation mode a tenant pays for its allocation (usage_alloc.h)
 * and its desktops are shown at no cost.
 * GET /v1/chargeback?tenant=&from=&to=[&format=csv]: each desktop's
 * vCPU-hours, GiB-hours, hours run and cost between from and to, per tenant
 * (a tenant admin's own only, 404 for another's), with its network GB in and
 * out and their cost (usage_net.h), each bucket priced at the rates in force
 * when it starts (rate_hist.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "api.h"
#include "fault.h"
#include "rate_hist.h"
#include "store.h"
#include "tlog.h"
#include "usage_alloc.h"
#include "usage_hist.h"
#include "usage_net.h"

static bool is(const struct api_ctx *c, const char *method)
{
	return strcmp(c->r->method, method) == 0;
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
		ok = append(csv, len, "%s,%s,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%s,,,\n", t, d, m, v[0],
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

/* A desktop's usage summed over the rate periods of the window, and its cost. */
struct desk {
	int64_t tenant_id, desktop_id;
	char tn[MGR_NAME_LEN], dn[MGR_NAME_LEN + 24], mn[MGR_NAME_LEN];
	int64_t secs, vcpu_s, mem_s, run_s;
	double cost; /* unrounded: rounded once, whole */
};

/* The answer as it is built, tenant by tenant. */
struct bill {
	json_t *tenants, *cur, *desks;
	int64_t cur_id;
	long long cur_u, total_u;
	char *csv;
	size_t csv_len;
	const char *currency;
	const struct rate_period *periods;
	uint32_t n_periods;
	const struct mgr_rates *none; /* the rates before any period */
	struct usage_net_sum *nets;   /* by tenant and period */
	uint32_t n_nets;
	struct usage_alloc_sum *allocs; /* by tenant and period */
	uint32_t n_allocs;
	bool *alloc_billed; /* per allocs row: its tenant is in the answer */
	int64_t missing;    /* a period some row starts in that is not in periods; -1: none */
	bool too_large;     /* an amount past what micro-units hold: the answer is a 400 */
};

/*
 * An amount in whole micro-units. Prices go up to 1e9 an hour: past 9e15
 * micro-units (9e9, NaN too) it is noted in b->too_large and counts 0, so
 * that llround() never overflows and sums of up to 1000 such amounts do not
 * either (sums are checked all the same, add()).
 */
static long long micro(struct bill *b, double amount)
{
	double u = amount * 1e6;

	if (!(fabs(u) < 9e15)) {
		b->too_large = true;
		return 0;
	}
	return llround(u);
}

/* *sum += v, noting an overflow in b->too_large. */
static void add(struct bill *b, long long *sum, long long v)
{
	if (__builtin_add_overflow(*sum, v, sum))
		b->too_large = true;
}

/*
 * The rates of the period that starts at start (-1: before any period). One
 * not read with the periods (which one read transaction rules out) is
 * noted in b->missing: the answer is an error, never a price of 0.
 */
static const struct mgr_rates *period_rates(struct bill *b, int64_t start)
{
	for (uint32_t i = 0; i < b->n_periods; i++)
		if (b->periods[i].start == start)
			return &b->periods[i].r;
	if (start != -1)
		b->missing = start;
	return b->none;
}

/*
 * A tenant's network part, into its object t: gb_in, gb_out and their
 * network_cost (each period's bytes at its rates; 0 without network rows),
 * and its CSV line (empty desktop, model and hours cells) if it has some,
 * under the name its object has (tn: the network rows' own may be missing
 * until a usage pass writes it). Its cost in micro-units, or -1 when out of
 * memory (the CSV freed).
 */
static long long net_charge(struct bill *b, json_t *t, int64_t id, const char *name)
{
	uint64_t in = 0, out = 0;
	double cost = 0, gb_in, gb_out;
	long long cost_u;
	bool rows = false, ok;
	char *tn;

	for (uint32_t i = 0; i < b->n_nets; i++) {
		struct usage_net_sum *x = &b->nets[i];
		const struct mgr_rates *r = period_rates(b, x->period);
		if (x->tenant_id != id || x->billed)
			continue;
		x->billed = true;
		rows = true;
		in += x->bytes_in;
		out += x->bytes_out;
		cost += (double)x->bytes_in / 1e9 * r->gb_in +
			(double)x->bytes_out / 1e9 * r->gb_out;
	}
	gb_in = (double)in / 1e9;
	gb_out = (double)out / 1e9;
	cost_u = micro(b, cost);
	json_object_set_new(t, "gb_in", json_real(gb_in));
	json_object_set_new(t, "gb_out", json_real(gb_out));
	json_object_set_new(t, "network_cost", json_real((double)cost_u / 1e6));
	if (!rows)
		return cost_u;
	tn = csv_cell(name);
	ok = tn && append(&b->csv, &b->csv_len, "%s,,,,,,,%.6f,%s,%.9f,%.9f,\n", tn,
			  (double)cost_u / 1e6, b->currency, gb_in, gb_out);
	if (tn == NULL) {
		free(b->csv);
		b->csv = NULL;
	}
	free(tn);
	return ok ? cost_u : -1;
}

/*
 * A tenant's allocation in allocation mode: its rows of the window that start
 * in periods of that mode, priced at their period's rates, into its object t
 * ("allocation") and the CSV (a line with no desktop). Its cost in
 * micro-units (0 without such rows), or -1 when out of memory.
 */
static long long bill_alloc(struct bill *b, json_t *t, int64_t tenant_id, const char *tn)
{
	int64_t secs = 0, vcpu_s = 0, mem_s = 0, pcpu_s = 0;
	double cost = 0, v[5];
	long long cost_u;
	char *cell;
	bool ok;

	for (uint32_t i = 0; i < b->n_allocs; i++) {
		const struct usage_alloc_sum *a = &b->allocs[i];
		const struct mgr_rates *r = period_rates(b, a->period);
		if (a->tenant_id != tenant_id || b->alloc_billed[i])
			continue;
		b->alloc_billed[i] = true;
		if (r->mode != MGR_RATES_ALLOCATION)
			continue;
		secs += a->secs;
		vcpu_s += a->vcpu_s;
		mem_s += a->mem_mib_s;
		pcpu_s += a->pcpu_s;
		cost += (double)a->vcpu_s / 3600 * r->vcpu_hour +
			(double)a->mem_mib_s / (1024.0 * 3600) * r->gib_hour +
			(double)a->pcpu_s / 3600 * r->pcpu_hour;
	}
	if (secs == 0)
		return 0;
	cost_u = micro(b, cost);
	v[0] = (double)secs / 3600;
	v[1] = (double)vcpu_s / 3600;
	v[2] = (double)mem_s / (1024.0 * 3600);
	v[3] = (double)pcpu_s / 3600;
	v[4] = (double)cost_u / 1e6;
	json_object_set_new(t, "allocation",
			    json_pack("{s:f, s:f, s:f, s:f, s:f}", "hours", v[0], "vcpu_hours",
				      v[1], "gib_hours", v[2], "pcpu_hours", v[3], "cost", v[4]));
	cell = csv_cell(tn);
	ok = cell && append(&b->csv, &b->csv_len, "%s,,,%.6f,%.6f,%.6f,,%.6f,%s,,,%.6f\n", cell,
			    v[0], v[1], v[2], v[4], b->currency, v[3]);
	if (cell == NULL) {
		free(b->csv);
		b->csv = NULL;
	}
	free(cell);
	return ok ? cost_u : -1;
}

/*
 * Starts a tenant's object in the answer, with its network and its
 * allocation; false when out of memory.
 */
static bool bill_tenant(struct bill *b, int64_t tenant_id, const char *tn)
{
	long long net_u, alloc_u;

	b->cur_id = tenant_id;
	b->desks = json_array();
	b->cur = json_pack("{s:s, s:f, s:o}", "tenant", tn, "cost", 0.0, "desktops", b->desks);
	json_array_append_new(b->tenants, b->cur);
	if ((net_u = net_charge(b, b->cur, tenant_id, tn)) < 0 ||
	    (alloc_u = bill_alloc(b, b->cur, tenant_id, tn)) < 0)
		return false;
	b->cur_u = net_u;
	add(b, &b->cur_u, alloc_u);
	add(b, &b->total_u, b->cur_u);
	json_object_set_new(b->cur, "cost", json_real((double)b->cur_u / 1e6));
	return true;
}

/* Adds a desktop to the answer; false when out of memory. */
static bool bill_desk(struct bill *b, const struct desk *d)
{
	double hours = (double)d->secs / 3600, vcpu_h = (double)d->vcpu_s / 3600;
	double gib_h = (double)d->mem_s / (1024.0 * 3600), run_h = (double)d->run_s / 3600;
	/* In whole micro-units, each desktop's: the CSV's lines (6 decimals) add up
	 * to the tenants' costs and the total. */
	long long cost_u = micro(b, d->cost);
	double cost = (double)cost_u / 1e6;

	add(b, &b->total_u, cost_u);
	if ((b->cur == NULL || b->cur_id != d->tenant_id) && !bill_tenant(b, d->tenant_id, d->tn))
		return false;
	add(b, &b->cur_u, cost_u);
	json_object_set_new(b->cur, "cost", json_real((double)b->cur_u / 1e6));
	json_array_append_new(b->desks,
			      json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f}", "desktop", d->dn,
					"model", d->mn, "hours", hours, "vcpu_hours", vcpu_h,
					"gib_hours", gib_h, "run_hours", run_h, "cost", cost));
	/* Names are of CFG_NAME_CHARSET, which has '-' (a formula's start). */
	return csv_line(&b->csv, &b->csv_len, json_string_value(json_object_get(b->cur, "tenant")),
			d->dn, d->mn, (const double[5]){ hours, vcpu_h, gib_h, run_h, cost },
			b->currency);
}

/* The rates' mode over the window: "mixed" when it changed in it. */
static const char *mode_of(const struct bill *b)
{
	uint8_t mode = b->n_periods ? b->periods[0].r.mode : b->none->mode;

	for (uint32_t i = 1; i < b->n_periods; i++)
		if (b->periods[i].r.mode != mode)
			return "mixed";
	return mgr_rates_modes[mode];
}

void api_chargeback(struct api_ctx *c)
{
	const char *tenant = http_query(c->r, "tenant"), *format = http_query(c->r, "format");
	int64_t from, to, tenant_id = 0;
	struct bill b = { 0 };
	struct desk d = { 0 };
	struct rate_period *periods = NULL;
	uint32_t n_periods = 0;
	struct mgr_rates none;
	char currency[8] = "";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	bool any = false;
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
	rates_default(&none);
	if (sqlite3_open_v2(mgr_conf.store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK) {
		http_error(c->out, 500, "", "cannot open the store");
		goto out;
	}
	/*
	 * The rates of the window and the usage, read without the lock in one read
	 * transaction (a snapshot: the store is in WAL mode), so that a PUT or a
	 * usage pass between two reads cannot join rows to a period not read.
	 */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    rate_periods_read(db, from, to, &periods, &n_periods) < 0) {
		http_error(c->out, 500, "", "cannot read the rates' history");
		goto out;
	}
	MGR_FAULT("chargeback.after_rates", NULL, 0);
	/* One currency per answer: amounts in two are not added up. */
	snprintf(currency, sizeof(currency), "%s",
		 n_periods ? periods[0].r.currency : none.currency);
	for (uint32_t i = 1; i < n_periods; i++)
		if (strcmp(periods[i].r.currency, currency) != 0) {
			http_error(c->out, 409, "to",
				   "the rates changed from %s to %s at %lld: ask for the time "
				   "before and the time after apart",
				   currency, periods[i].r.currency, (long long)periods[i].start);
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
	if (sqlite3_prepare_v2(
		    db,
		    /* LEFT: usage whose names are missing is billed all the same, and
		     * usage from before any rates at the defaults (period -1). Each
		     * desktop's rows by the period their bucket starts in. */
		    "SELECT IFNULL(d.tenant, '?'), "
		    "  IFNULL(d.name, 'desktop ' || u.desktop_id), d.model, SUM(u.secs), "
		    "  SUM(u.vcpu_s), SUM(u.mem_mib_s), SUM(u.run_s), u.tenant_id, u.desktop_id, "
		    "  IFNULL(p.start_t, -1) "
		    "FROM usage u LEFT JOIN usage_desktops d ON d.desktop_id = u.desktop_id "
		    "  LEFT JOIN rate_periods p ON u.t >= p.start_t "
		    "    AND (p.end_t IS NULL OR u.t < p.end_t) "
		    "WHERE u.step IN (0, 1, 2) AND u.t >= ?1 AND u.t < ?2 "
		    "  AND (?3 = 0 OR u.tenant_id = ?3) "
		    "GROUP BY u.tenant_id, u.desktop_id, p.start_t "
		    /* A tenant's rows together (billed once), named ones first (its
		     * name is theirs). */
		    "ORDER BY u.tenant_id, d.tenant IS NULL, 1, 2, u.desktop_id, p.start_t",
		    -1, &st, NULL) != SQLITE_OK) {
		http_error(c->out, 500, "", "cannot read the usage history");
		goto out;
	}
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	sqlite3_bind_int64(st, 3, tenant_id);
	b.tenants = json_array();
	b.currency = currency;
	b.periods = periods;
	b.n_periods = n_periods;
	b.none = &none;
	b.missing = -1;
	if (usage_net_sums(db, from, to, tenant_id, &b.nets, &b.n_nets) < 0) {
		http_error(c->out, 500, "", "cannot read the network usage: %s",
			   sqlite3_errmsg(db));
		goto out;
	}
	if (usage_alloc_sums(db, from, to, tenant_id, &b.allocs, &b.n_allocs) < 0) {
		http_error(c->out, 500, "", "cannot read the tenants' allocations: %s",
			   sqlite3_errmsg(db));
		goto out;
	}
	if ((b.alloc_billed = calloc(b.n_allocs + 1, sizeof(bool))) == NULL)
		goto oom;
	if (!append(&b.csv, &b.csv_len,
		    "tenant,desktop,model,hours,vcpu_hours,gib_hours,run_hours,"
		    "cost,currency,gb_in,gb_out,pcpu_hours\n"))
		goto oom;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tn = (const char *)sqlite3_column_text(st, 0);
		const char *dn = (const char *)sqlite3_column_text(st, 1);
		const char *mn = (const char *)sqlite3_column_text(st, 2);
		int64_t tid = sqlite3_column_int64(st, 7), did = sqlite3_column_int64(st, 8);
		int64_t vcpu_s = sqlite3_column_int64(st, 4), mem_s = sqlite3_column_int64(st, 5);
		const struct mgr_rates *r = period_rates(&b, sqlite3_column_int64(st, 9));
		double vcpu_rate, gib_rate;

		if (any && (d.tenant_id != tid || d.desktop_id != did)) {
			if (!bill_desk(&b, &d))
				goto oom;
			any = false;
		}
		if (!any) {
			d = (struct desk){ .tenant_id = tid, .desktop_id = did };
			snprintf(d.tn, sizeof(d.tn), "%s", tn ? tn : "");
			snprintf(d.dn, sizeof(d.dn), "%s", dn ? dn : "");
			snprintf(d.mn, sizeof(d.mn), "%s", mn ? mn : "");
			any = true;
		}
		mgr_rates_price(r, d.mn, &vcpu_rate, &gib_rate);
		d.secs += sqlite3_column_int64(st, 3);
		d.vcpu_s += vcpu_s;
		d.mem_s += mem_s;
		d.run_s += sqlite3_column_int64(st, 6);
		/* In allocation mode a desktop is shown, its tenant's allocation billed. */
		if (r->mode == MGR_RATES_RESERVATION)
			d.cost += (double)vcpu_s / 3600 * vcpu_rate +
				  (double)mem_s / (1024.0 * 3600) * gib_rate;
	}
	if (rc != SQLITE_DONE) {
		http_error(c->out, 500, "", "cannot read the usage history: %s",
			   sqlite3_errmsg(db));
		goto out;
	}
	if (any && !bill_desk(&b, &d))
		goto oom;
	/* Tenants with network bytes and no desktops. */
	for (uint32_t i = 0; i < b.n_nets; i++)
		if (!b.nets[i].billed && !bill_tenant(&b, b.nets[i].tenant_id, b.nets[i].tenant))
			goto oom;
	/* Tenants with an allocation and neither desktops nor network. */
	for (uint32_t i = 0; i < b.n_allocs; i++) {
		if (b.alloc_billed[i])
			continue;
		if (!bill_tenant(&b, b.allocs[i].tenant_id, b.allocs[i].tenant))
			goto oom;
		/* Nothing in allocation mode: not billed, not shown. */
		if (json_object_get(b.cur, "allocation") == NULL)
			json_array_remove(b.tenants, json_array_size(b.tenants) - 1);
	}
	if (b.missing != -1) {
		tlog(LOG_ERR, NULL, "chargeback: usage of a rate period (%lld) not read with them",
		     (long long)b.missing);
		http_error(c->out, 500, "", "the rates' history changed while read: ask again");
		goto out;
	}
	if (b.too_large) {
		http_error(c->out, 400, "to",
			   "amount too large (over 9e9): ask for a shorter window or a tenant");
		goto out;
	}
	if (format && strcmp(format, "csv") == 0) {
		c->out->status = 200;
		c->out->text = b.csv;
		c->out->content_type = "text/csv; charset=utf-8";
		b.csv = NULL;
		goto out;
	}
	api_ok(c, 200,
	       json_pack("{s:s, s:s, s:I, s:I, s:f, s:o}", "mode", mode_of(&b), "currency",
			 currency, "from", (json_int_t)from, "to", (json_int_t)to, "total",
			 (double)b.total_u / 1e6, "tenants", b.tenants));
	b.tenants = NULL;
	goto out;
oom:
	http_error(c->out, 500, "", "out of memory");
out:
	json_decref(b.tenants);
	free(b.csv);
	sqlite3_finalize(st);
	if (db)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* ends the read, if begun */
	sqlite3_close(db);
	rate_periods_free(periods, n_periods);
	cfg_free(&mgr_rates_schema, &none);
	free(b.nets);
	free(b.allocs);
	free(b.alloc_billed);
}
