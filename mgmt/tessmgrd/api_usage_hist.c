/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /v1/usage/history: the usage history (usage_hist.h) of a tenant or a
 * desktop between two times, per desktop in buckets of a step. Tenant
 * admins see their own tenant only (404 for another); provider admins any,
 * or all. Buckets of step hour or day sum the finer rows not yet downsampled
 * with the coarser ones; step raw returns the samples (kept usage.raw_days).
 * kind=network and kind=allocation: per tenant instead (query_tenants).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "usage_hist.h"

int64_t usage_tenant_id_of(sqlite3 *db, const char *name)
{
	const struct mgr_tenant *t;
	sqlite3_stmt *st;
	int64_t id = 0;

	pthread_mutex_lock(&mgr.lock);
	t = mgr_tenant_by_name(&mgr, name);
	id = t ? t->id : 0;
	pthread_mutex_unlock(&mgr.lock);
	if (id ||
	    sqlite3_prepare_v2(db,
			       "SELECT MAX(tenant_id) FROM (SELECT tenant_id FROM usage_desktops "
			       "  WHERE tenant = ?1 UNION ALL "
			       "  SELECT tenant_id FROM usage_tenants WHERE tenant = ?1)",
			       -1, &st, NULL) != SQLITE_OK)
		return id;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static json_t *col_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? json_null()
		       : json_integer(sqlite3_column_int64(st, i));
}

/* The steps a query of step sums, as a list: IN on the key's first column keeps t a range on
 * its second. */
static const char *const step_lists[USAGE_STEPS] = { "0", "0, 1", "0, 1, 2" };

/*
 * Ends a query of kind: its rows, or an error when past max (which suggests asking for one
 * per: tenant, desktop) or when SQLite failed (rows freed).
 */
static void answer(struct api_ctx *c, sqlite3 *db, int rc, int64_t n, json_t *rows,
		   enum usage_step step, int64_t from, int64_t to, const char *kind,
		   const char *per)
{
	int64_t max = mgr_conf.usage.max_rows;

	if (n > max) {
		json_decref(rows);
		http_error(c->out, 400, "to",
			   "more than %lld rows (usage.max_rows): ask a shorter time, a coarser "
			   "step, or one %s",
			   (long long)max, per);
		return;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(rows);
		http_error(c->out, 500, "", "cannot read the usage history: %s",
			   sqlite3_errmsg(db));
		return;
	}
	api_ok(c, 200,
	       json_pack("{s:s, s:s, s:I, s:I, s:o}", "kind", kind, "step", usage_step_names[step],
			 "from", (json_int_t)from, "to", (json_int_t)to, "rows", rows));
}

/*
 * A query's statement with its common parameters bound: ?1 the step's length, ?2 the row
 * limit, ?3 from, ?4 to, ?5 the tenant (0: all); NULL after answering an error.
 */
static sqlite3_stmt *prepare_sql(struct api_ctx *c, sqlite3 *db, const char *sql,
				 enum usage_step step, int64_t from, int64_t to, int64_t tenant_id)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		http_error(c->out, 500, "", "cannot read the usage history: %s",
			   sqlite3_errmsg(db));
		return NULL;
	}
	sqlite3_bind_int64(st, 1, usage_step_len(step));
	sqlite3_bind_int64(st, 2, mgr_conf.usage.max_rows + 1);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	sqlite3_bind_int64(st, 5, tenant_id);
	return st;
}

/* The same of fmt with the step's list at its %s. */
static sqlite3_stmt *prepare(struct api_ctx *c, sqlite3 *db, const char *fmt, enum usage_step step,
			     int64_t from, int64_t to, int64_t tenant_id)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), fmt, step_lists[step]);
	return prepare_sql(c, db, sql, step, from, to, tenant_id);
}

/*
 * The kinds of rows kept per tenant, not per desktop: their table and summed columns (at
 * most 4). kind=network: the tenants' network bytes (usage_net.h); kind=allocation: what
 * their quotas and partitions allocated (usage_alloc.h).
 */
#define TENANT_KIND_COLS 4
static const struct tenant_kind {
	const char *kind, *table, *cols[TENANT_KIND_COLS]; /* NULL after the last, if fewer */
} tenant_kinds[] = {
	{ "network", "usage_net", { "bytes_in", "bytes_out" } },
	{ "allocation", "usage_alloc", { "secs", "vcpu_s", "mem_mib_s", "pcpu_s" } },
};

static const struct tenant_kind *tenant_kind_of(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(tenant_kinds) / sizeof(tenant_kinds[0]); i++)
		if (strcmp(tenant_kinds[i].kind, kind) == 0)
			return &tenant_kinds[i];
	return NULL;
}

/* A tenant kind's rows per tenant and bucket: t, tenant_id, tenant and its columns summed. */
static void query_tenants(struct api_ctx *c, sqlite3 *db, const struct tenant_kind *k,
			  enum usage_step step, int64_t from, int64_t to, int64_t tenant_id)
{
	int64_t max = mgr_conf.usage.max_rows, n = 0;
	char sums[160] = "", sql[1024];
	int nc = 0;

	for (; nc < TENANT_KIND_COLS && k->cols[nc]; nc++)
		snprintf(sums + strlen(sums), sizeof(sums) - strlen(sums), ", SUM(u.%s)",
			 k->cols[nc]);
	if (snprintf(sql, sizeof(sql),
		     "SELECT u.t - u.t %% ?1 AS b, u.tenant_id, n.tenant%s "
		     "FROM %s u LEFT JOIN usage_tenants n ON n.tenant_id = u.tenant_id "
		     "WHERE u.step IN (%s) AND u.t >= ?3 AND u.t < ?4 "
		     "  AND (?5 = 0 OR u.tenant_id = ?5) "
		     "GROUP BY b, u.tenant_id ORDER BY b, u.tenant_id LIMIT ?2",
		     sums, k->table, step_lists[step]) >= (int)sizeof(sql)) {
		http_error(c->out, 500, "", "cannot read the usage history: query too long");
		return;
	}
	sqlite3_stmt *st = prepare_sql(c, db, sql, step, from, to, tenant_id);
	json_t *rows;
	int rc;

	if (st == NULL)
		return;
	rows = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ++n <= max) {
		const char *tn = (const char *)sqlite3_column_text(st, 2);
		json_t *row =
			json_pack("{s:I, s:I, s:s}", "t", (json_int_t)sqlite3_column_int64(st, 0),
				  "tenant_id", (json_int_t)sqlite3_column_int64(st, 1), "tenant",
				  tn ? tn : "");
		for (int i = 0; i < nc; i++)
			json_object_set_new(row, k->cols[i],
					    json_integer(sqlite3_column_int64(st, 3 + i)));
		json_array_append_new(rows, row);
	}
	sqlite3_finalize(st);
	answer(c, db, rc, n, rows, step, from, to, k->kind, "tenant");
}

static void query(struct api_ctx *c, sqlite3 *db, enum usage_step step, int64_t from, int64_t to,
		  int64_t tenant_id, const char *desktop)
{
	int64_t max = mgr_conf.usage.max_rows, n = 0;
	/* Desktops by name within their tenant: one deleted and made again has two ids. */
	sqlite3_stmt *st = prepare(
		c, db,
		"SELECT u.t - u.t %% ?1 AS b, u.desktop_id, d.tenant, d.name, d.model, "
		"  SUM(u.secs), SUM(u.vcpu_s), SUM(u.mem_mib_s), SUM(u.run_s), SUM(u.cpu_ns), "
		"  SUM(u.cpu_unknown_s) "
		"FROM usage u LEFT JOIN usage_desktops d ON d.desktop_id = u.desktop_id "
		"WHERE u.step IN (%s) AND u.t >= ?3 AND u.t < ?4 "
		"  AND (?5 = 0 OR u.tenant_id = ?5) AND (?6 IS NULL OR u.desktop_id IN "
		"  (SELECT desktop_id FROM usage_desktops WHERE tenant_id = ?5 AND name = ?6)) "
		"GROUP BY b, u.desktop_id ORDER BY b, u.desktop_id LIMIT ?2",
		step, from, to, tenant_id);
	json_t *rows;
	int rc;

	if (st == NULL)
		return;
	if (desktop)
		sqlite3_bind_text(st, 6, desktop, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	rows = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ++n <= max) {
		const char *tn = (const char *)sqlite3_column_text(st, 2);
		const char *dn = (const char *)sqlite3_column_text(st, 3);
		const char *mn = (const char *)sqlite3_column_text(st, 4);
		json_array_append_new(
			rows,
			json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:I}", "t",
				  (json_int_t)sqlite3_column_int64(st, 0), "desktop_id",
				  (json_int_t)sqlite3_column_int64(st, 1), "tenant", tn ? tn : "",
				  "desktop", dn ? dn : "", "model", mn ? mn : "", "secs",
				  (json_int_t)sqlite3_column_int64(st, 5), "vcpu_s",
				  (json_int_t)sqlite3_column_int64(st, 6), "mem_mib_s",
				  (json_int_t)sqlite3_column_int64(st, 7), "run_s",
				  (json_int_t)sqlite3_column_int64(st, 8), "cpu_ns",
				  col_or_null(st, 9), "cpu_unknown_s",
				  (json_int_t)sqlite3_column_int64(st, 10)));
	}
	sqlite3_finalize(st);
	answer(c, db, rc, n, rows, step, from, to, "desktops", "desktop");
}

void api_usage_history(struct api_ctx *c)
{
	const char *tenant = http_query(c->r, "tenant"), *desktop = http_query(c->r, "desktop");
	const char *from_s = http_query(c->r, "from"), *to_s = http_query(c->r, "to");
	const char *step_s = http_query(c->r, "step"), *kind = http_query(c->r, "kind");
	int64_t to = (int64_t)time(NULL), from, tenant_id = 0;
	enum usage_step step = USAGE_HOUR;
	sqlite3 *db = NULL;

	if (strcmp(c->r->method, "GET") != 0) {
		http_error(c->out, 405, "", "%s %s is not served", c->r->method, c->r->path);
		return;
	}
	if (!c->provider && c->tenant_id == 0) {
		http_error(c->out, 403, "", "this token's tenant does not exist");
		return;
	}
	if (to_s && !http_query_int(to_s, 1, INT64_MAX / 2, &to)) {
		http_error(c->out, 400, "to", "to: a time in seconds since the epoch");
		return;
	}
	from = to - 86400;
	if (from_s && !http_query_int(from_s, 0, INT64_MAX / 2, &from)) {
		http_error(c->out, 400, "from", "from: a time in seconds since the epoch");
		return;
	}
	if (from >= to) {
		http_error(c->out, 400, "from", "from (%lld) is not before to (%lld)",
			   (long long)from, (long long)to);
		return;
	}
	if (step_s) {
		for (step = 0; step < USAGE_STEPS && strcmp(step_s, usage_step_names[step]); step++)
			;
		if (step == USAGE_STEPS) {
			http_error(c->out, 400, "step", "step: raw, hour or day, not '%s'", step_s);
			return;
		}
	}
	const struct tenant_kind *per_tenant = tenant_kind_of(kind);
	if (kind && strcmp(kind, "desktops") != 0 && per_tenant == NULL) {
		http_error(c->out, 400, "kind", "kind: desktops, network or allocation, not '%s'",
			   kind);
		return;
	}
	if (per_tenant && desktop) {
		http_error(c->out, 400, "desktop", "desktop: %s rows are per tenant", kind);
		return;
	}
	if (desktop && !*desktop) {
		http_error(c->out, 400, "desktop", "desktop: a desktop's name");
		return;
	}
	if (c->provider && desktop && !(tenant && *tenant)) {
		http_error(c->out, 400, "tenant", "tenant: a desktop is named within its tenant");
		return;
	}
	if (sqlite3_open_v2(mgr_conf.store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		http_error(c->out, 500, "", "cannot open the store");
		sqlite3_close(db);
		return;
	}
	sqlite3_busy_timeout(db, 5000);
	if (!c->provider) {
		/* A tenant admin's own tenant only: any other does not exist for it. */
		if (tenant && strcmp(tenant, c->who->tenant) != 0) {
			http_error(c->out, 404, "tenant", "no tenant %s", tenant);
			goto out;
		}
		tenant_id = c->tenant_id;
	} else if (tenant && (tenant_id = usage_tenant_id_of(db, tenant)) == 0) {
		http_error(c->out, 404, "tenant", "no tenant %s", tenant);
		goto out;
	}
	if (per_tenant)
		query_tenants(c, db, per_tenant, step, from, to, tenant_id);
	else
		query(c, db, step, from, to, tenant_id, desktop);
out:
	sqlite3_close(db);
}
